"""The Python face of the personalities for replay: one method per call, dispatched through a system-call
table, with the outcome as the traced program would see it.

`LinuxABI(process)` runs Linux calls through `linux_sysent` on one modelled process and returns a
`LinuxResult`: `ret`, or `errno` as a Linux errno name, plus the call's emulation record -- `notes`
(what the layer could not honour, ignored or emulated), `why` (when the layer itself, not the FreeBSD
kernel below it, produced the error) and `bsd` (the native FreeBSD call made, for the record).
`NativeABI(process)` is the same interface over the native calls of `Process`, for kdump traces.

Invariants: a call's emulation record lives on the thread only for that call; arguments are
converted by the table's C types exactly as for any other Python caller (a value no C integer of the
argument's type can hold is the errno of that type, not a traceback).
May call: kern.sysent (dispatch), the Linux table, the public Process API.
"""
from __future__ import annotations

import operator
import os
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from ...kern.sysent import Kind, Sysent, SysentTable, dispatch
from ...vm.mmap import ByteVector
from ...vm.param import PAGE_SIZE, atop
from .linux import bsd_to_linux_errno, errno_name
from .linux_emul import LinuxCallRecord
from .sysent import linux_sysent


@dataclass
class LinuxResult:
    """What a Linux program would see: `ret` on success, else `errno` (a Linux errno name)."""
    ret: int | None = None
    errno: str | None = None
    notes: list = field(default_factory=list)   # strings: "NAME: what happened"
    why: str | None = None                      # set when the layer (not the kernel) failed it
    bsd: dict | None = None                     # the FreeBSD call made, for the record

    @property
    def ok(self) -> bool:
        return self.errno is None


# (name, low, high, mask, sign bit or 0, errno) per argument of an all-integer call, per arch: the
# conversion of CType.from_python, unrolled for the calls replay makes by the hundred thousand
_Plan = tuple[tuple[str, int, int, int, int, int], ...]


def _plan(entry: Sysent, arch: Any) -> _Plan | None:
    plan = []
    for a in entry.args:
        ct = a.ctype
        if ct.kind is not Kind.INTEGER:
            return None                 # paths and buffers: the general conversion
        w = ct.width(arch)
        plan.append((a.name, -(1 << (w - 1)), 1 << w, (1 << w) - 1,
                     (1 << (w - 1)) if ct.signed else 0, ct.errno))
    return tuple(plan)


def _convert(plan: _Plan, args: tuple[Any, ...]) -> SimpleNamespace:
    """CType.from_python for every argument (missing trailing ones are 0)."""
    uap = SimpleNamespace()
    n = len(args)
    for i, (name, lo, hi, mask, sign, err) in enumerate(plan):
        x = operator.index(args[i]) if i < n else 0
        if not lo <= x < hi:
            raise OSError(err, os.strerror(err), f"{x} does not fit the C type of {name}")
        x &= mask
        if sign and x & sign:
            x -= sign << 1
        setattr(uap, name, x)
    return uap


class TableABI:
    """Calls of one system-call table on one modelled process, by name, with positional arguments in
    the table's declaration order (missing trailing arguments are 0), each returning a LinuxResult.

    `call(name, *args)` is the whole dispatch, and `abi.<name>(*args)` is the same for every call
    the table declares, so replay's handlers (`st.abi.munmap(addr, len)`) run unchanged over any
    table: `TableABI(proc, freebsd_sysent)` serves kdump traces as `LinuxABI(proc)` serves strace
    ones.  Errno names in results are FreeBSD's here and Linux's (linux_errtbl) in LinuxABI.
    """

    linux_errnos = False

    def __init__(self, process: Any, table: SysentTable, read_implies_exec: bool | None = None):
        self.p = process
        self.table = table
        if read_implies_exec is None:
            read_implies_exec = process.kernel.arch.name == "i386"
        self.read_implies_exec = read_implies_exec
        self._errnames: dict[int, str] = {}
        self._plans: dict[str, _Plan | None] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        table = self.__dict__.get("table")
        if table is None or name not in table.by_name:
            raise AttributeError(name)
        return lambda *args: self.call(name, *args)

    def errno_of(self, err: int) -> str:
        """The name the traced program would see for the FreeBSD errno `err`."""
        name = self._errnames.get(err)
        if name is None:
            name = errno_name(err)
            if self.linux_errnos:
                name = bsd_to_linux_errno(name)
            self._errnames[err] = name
        return name

    def call(self, name: str, *args: Any, vec: Any = None) -> LinuxResult:
        """Run the table's call `name` with `args`; `vec` (a host-side vm.mmap.ByteVector) stands for
        a mincore vector's user address."""
        entry = self.table.by_name[name]
        res = LinuxResult()
        k = self.p.kernel
        try:
            plan = self._plans[name]
        except KeyError:
            plan = self._plans[name] = _plan(entry, k.arch)
        try:
            if plan is None:
                values = {a.name: (args[i] if i < len(args) else 0)
                          for i, a in enumerate(entry.args)}
                uap = entry.uap_from_python(k.arch, values)
            else:
                uap = _convert(plan, args)
        except OSError as e:
            res.errno = self.errno_of(e.errno or 0)
            return res
        if vec is not None:
            uap.vec = vec
        rec = LinuxCallRecord(read_implies_exec=self.read_implies_exec)
        with k.giant:
            proc = self.p.proc
            if proc.p_vmspace is None:
                try:
                    self.p.maps()               # raises what every call on a dead process raises
                except ProcessLookupError as e:
                    res.errno = self.errno_of(e.errno or 0)
                    return res
            td = proc.td
            td.td_lxrecord = rec
            try:
                err = dispatch(td, entry, uap)
            finally:
                td.td_lxrecord = None
            ret = td.td_retval[0]
        res.notes = rec.notes
        res.why = rec.why
        if rec.bsd_call is not None:
            res.bsd = {"call": rec.bsd_call, "args": rec.bsd_args}
        elif not self.linux_errnos:
            res.bsd = {"call": name, "args": args}      # a native table: the call is the record
        if err:
            res.errno = self.errno_of(err)
        else:
            res.ret = ret
        return res

    def mincore(self, addr: int, length: int) -> LinuxResult:
        """The vector comes back in `bsd["vec"]`, one byte per page (Linux: residency in bit 0)."""
        try:
            n = (int(length) + PAGE_SIZE - 1) // PAGE_SIZE
            mapped = self.p.vmspace_info()["size"]
        except (OSError, TypeError, ValueError):
            n = mapped = 0
        # Only a vector over mapped memory can be filled; anything larger fails with ENOMEM before
        # a byte is written, so do not allocate it.
        hv = ByteVector(max(0, min(n, atop(mapped) + 1)))
        res = self.call("mincore", addr, length, vec=hv)
        if res.ok:
            res.bsd = dict(res.bsd or {"call": "mincore", "args": (addr, length)},
                           vec=bytes(hv.buf[:n]))
        return res


class LinuxABI(TableABI):
    """Linux memory calls on one modelled process (a bsdvm Process), dispatched through the Linux
    x86-64 table as FreeBSD's Linux layer makes them.  `read_implies_exec` is the Linux/i386 rule of
    the 7.x linux.ko (default: on for the i386 profile)."""

    linux_errnos = True

    def __init__(self, process: Any, read_implies_exec: bool | None = None):
        super().__init__(process, linux_sysent, read_implies_exec)

    def mmap(self, addr: int, length: int, prot: int, flags: int, fd: int = -1,
             offset: int = 0) -> LinuxResult:
        return self.call("mmap", addr, length, prot, flags, fd, offset)

    mmap2 = mmap    # the offset is in bytes here (strace prints mmap2's page offset multiplied)

    def munmap(self, addr: int, length: int) -> LinuxResult:
        return self.call("munmap", addr, length)

    def mprotect(self, addr: int, length: int, prot: int) -> LinuxResult:
        return self.call("mprotect", addr, length, prot)

    def madvise(self, addr: int, length: int, advice: int) -> LinuxResult:
        return self.call("madvise", addr, length, advice)

    def mlock(self, addr: int, length: int) -> LinuxResult:
        return self.call("mlock", addr, length)

    def mlock2(self, addr: int, length: int, flags: int) -> LinuxResult:
        return self.call("mlock2", addr, length, flags)

    def munlock(self, addr: int, length: int) -> LinuxResult:
        return self.call("munlock", addr, length)

    def mlockall(self, flags: int) -> LinuxResult:
        return self.call("mlockall", flags)

    def munlockall(self) -> LinuxResult:
        return self.call("munlockall")

    def msync(self, addr: int, length: int, flags: int) -> LinuxResult:
        return self.call("msync", addr, length, flags)

    def brk(self, new: int) -> LinuxResult:
        """linux_brk: returns the new break on success, the old one otherwise (never an errno)."""
        return self.call("brk", new)

    def mremap(self, addr: int, old_len: int, new_len: int, flags: int = 0,
               new_addr: int = 0) -> LinuxResult:
        return self.call("mremap", addr, old_len, new_len, flags, new_addr)


# -- native FreeBSD calls with the same interface (for kdump traces) ----------------------------
class NativeABI:
    """FreeBSD 7 calls with LinuxABI's interface and result type (errno names are FreeBSD's)."""

    def __init__(self, process):
        self.p = process

    def _do(self, fn, *args, name: str, ret=0) -> LinuxResult:
        res = LinuxResult(bsd={"call": name, "args": args})
        try:
            r = fn(*args)
        except OSError as e:
            res.errno = errno_name(e.errno)
            return res
        res.ret = r if ret is None else ret
        return res

    def mmap(self, addr, length, prot, flags, fd=-1, offset=0):
        return self._do(self.p.mmap, addr, length, prot, flags, fd, offset, name="mmap", ret=None)

    def munmap(self, addr, length):
        return self._do(self.p.munmap, addr, length, name="munmap")

    def mprotect(self, addr, length, prot):
        return self._do(self.p.mprotect, addr, length, prot, name="mprotect")

    def madvise(self, addr, length, behav):
        return self._do(self.p.madvise, addr, length, behav, name="madvise")

    def minherit(self, addr, length, inherit):
        return self._do(self.p.minherit, addr, length, inherit, name="minherit")

    def mincore(self, addr, length):
        res = self._do(self.p.mincore, addr, length, name="mincore", ret=None)
        if res.ok:
            res.bsd["vec"] = res.ret
            res.ret = 0
        return res

    def mlock(self, addr, length):
        return self._do(self.p.mlock, addr, length, name="mlock")

    def munlock(self, addr, length):
        return self._do(self.p.munlock, addr, length, name="munlock")

    def mlockall(self, how):
        return self._do(self.p.mlockall, how, name="mlockall")

    def munlockall(self):
        return self._do(self.p.munlockall, name="munlockall")

    def msync(self, addr, length, flags):
        return self._do(self.p.msync, addr, length, flags, name="msync")

    def obreak(self, nsize):
        return self._do(self.p.obreak, nsize, name="obreak")


def open_flags_to_host(access: int, creat: bool = False, trunc: bool = False) -> int:
    """Python os.O_* flags for the model's open() from an access mode (0/1/2 in both ABIs)."""
    f = {0: os.O_RDONLY, 1: os.O_WRONLY, 2: os.O_RDWR}.get(access & 3, os.O_RDONLY)
    if creat:
        f |= os.O_CREAT
    if trunc:
        f |= os.O_TRUNC
    return f
