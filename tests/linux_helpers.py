"""Calling Linux system-call bodies through linux_sysent the two ways the kernel is entered: from
Python (system-space uios) and from a CPU's registers (user-space uios over the process's memory)."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from bsdvm.compat.linux import linux_sysent
from bsdvm.kern.sysent import dispatch

MASK64 = 2**64 - 1
STAT_FMT = "<QQQIIIIQqqqQQQQQQ3q"


@dataclass
class Guest:
    """A process with a 64 KiB scratch buffer at `buf`, calling Linux bodies."""

    k: Any
    p: Any
    buf: int

    @property
    def td(self) -> Any:
        return self.p.proc.td

    def regs(self, name: str, *regs: int) -> tuple[int, int]:
        """The CPU's way: raw 64-bit registers; returns (errno, td_retval[0])."""
        e = linux_sysent[name]
        with self.k.giant:
            err, uap = e.uap_from_registers(self.k.arch, self.p.proc.p_vmspace.vm_map,
                                            [r & MASK64 for r in regs])
            if err:
                return err, 0
            err = dispatch(self.td, e, uap)
            return err, self.td.td_retval[0]

    def py(self, name: str, **values: Any) -> tuple[int, int, SimpleNamespace]:
        """The Python way: converted by C type, buffers in system space; returns (errno,
        td_retval[0], uap) so the caller can read a UIO_OUT buffer's sysbuf."""
        e = linux_sysent[name]
        uap = e.uap_from_python(self.k.arch, values)
        with self.k.giant:
            err = dispatch(self.td, e, uap)
            return err, self.td.td_retval[0], uap

    def cstr(self, s: str | bytes, at: int = 0) -> int:
        """Put a NUL-terminated string in the scratch buffer at offset `at`; its address."""
        raw = s.encode() if isinstance(s, str) else s
        self.p.mem_write(self.buf + at, raw + b"\0")
        return self.buf + at

    def read(self, at: int, n: int) -> bytes:
        return self.p.mem_read(self.buf + at, n)


def guest(k: Any, uid: int = 0, gid: int = 0) -> Guest:
    p = k.spawn(uid=uid, gid=gid)
    buf = p.mmap(0, 1 << 16, 3, 0x1000 | 0x2)       # PROT_READ|WRITE, MAP_ANON|MAP_PRIVATE
    return Guest(k, p, buf)


def unpack_stat(raw: bytes) -> dict[str, int]:
    f = struct.unpack(STAT_FMT, raw)
    names = ("dev", "ino", "nlink", "mode", "uid", "gid", "pad", "rdev", "size", "blksize",
             "blocks", "atime", "atime_nsec", "mtime", "mtime_nsec", "ctime", "ctime_nsec")
    return dict(zip(names, f[:len(names)], strict=True))
