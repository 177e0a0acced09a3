"""Character devices: struct cdevsw (the driver's entry points) and struct cdev (one device instance).

What the seed needs (spec DEV-1): d_flags & D_MMAP_ANON marks /dev/zero, whose mappings are anonymous;
any other device is mappable only through d_mmap(dev, offset, prot) -> (errno, paddr), which the device
pager calls once per page.  A device without d_mmap refuses with ENODEV.  Here a "physical address" of a
memory-backed device is a byte index into its si_memory, one lazily backed host buffer per device
(vm.page.host_buffer); the pager reads and writes that buffer.
Invariants: len(si_memory) is a multiple of the page size; si_object is the one VM object the device
pager keeps per cdev (set and cleared by the VM).  May call: vm.param, vm.page.
"""
from __future__ import annotations

import errno
import mmap
from dataclasses import dataclass
from typing import Callable

from bsdvm.vm.page import host_buffer
from bsdvm.vm.param import PAGE_SIZE, round_page

# A device's size is an off_t's worth of bytes at most: d_mmap offsets are off_t.
DEV_SIZE_MAX = (1 << 63) - PAGE_SIZE

D_MEM = 0x0008
D_MEMDISK = 0x00010000
D_MMAP_ANON = 0x00100000


@dataclass(eq=False)
class Cdevsw:
    d_name: str
    d_flags: int = 0
    d_mmap: Callable | None = None     # (dev, offset, prot) -> (errno, paddr)
    d_read: Callable | None = None     # (dev, offset, n) -> (errno, bytes)
    d_write: Callable | None = None    # (dev, offset, data) -> (errno, nwritten)


@dataclass(eq=False)
class Cdev:
    si_name: str
    si_devsw: Cdevsw
    si_drv1: object = None
    si_refcount: int = 0
    si_memory: mmap.mmap | bytearray | None = None
    si_object: object = None
    si_uid: int = 0                    # devfs node ownership, as make_dev(9) sets it
    si_gid: int = 0
    si_mode: int = 0o666

    def __repr__(self) -> str:
        return f"<Cdev {self.si_name} flags={self.si_devsw.d_flags:#x}>"


def dev_read(cdev: Cdev, offset: int, n: int) -> tuple[int, bytes]:
    if offset < 0 or n < 0:
        return errno.EINVAL, b""
    fn = cdev.si_devsw.d_read
    if fn is None:
        return errno.ENODEV, b""
    return fn(cdev, offset, n)


def dev_write(cdev: Cdev, offset: int, data: bytes) -> tuple[int, int]:
    if offset < 0:
        return errno.EINVAL, 0
    fn = cdev.si_devsw.d_write
    if fn is None:
        return errno.ENODEV, 0
    return fn(cdev, offset, data)


def dev_mmap(cdev: Cdev, offset: int, prot: int) -> tuple[int, int]:
    fn = cdev.si_devsw.d_mmap
    if fn is None:
        return errno.ENODEV, 0
    return fn(cdev, offset, prot)


def _zero_read(dev, offset, n):
    return 0, bytes(n)


def _null_read(dev, offset, n):
    return 0, b""


def _discard(dev, offset, data):
    return 0, len(data)


def _mem_mmap(dev, offset, prot):
    if 0 <= offset < len(dev.si_memory):
        return 0, offset
    return errno.EINVAL, 0


def _mem_read(dev, offset, n):
    return 0, bytes(dev.si_memory[offset:offset + n])


def _mem_write(dev, offset, data):
    mem = dev.si_memory
    if data and offset >= len(mem):
        return errno.ENOSPC, 0
    n = min(len(data), len(mem) - offset)
    mem[offset:offset + n] = data[:n]
    return 0, n


ZERO_DEVSW = Cdevsw("zero", D_MMAP_ANON, None, _zero_read, _discard)
NULL_DEVSW = Cdevsw("null", 0, None, _null_read, _discard)
MEM_DEVSW = Cdevsw("memdev", 0, _mem_mmap, _mem_read, _mem_write)


def make_zero() -> Cdev:
    return Cdev("zero", ZERO_DEVSW)


def make_null() -> Cdev:
    return Cdev("null", NULL_DEVSW)


def make_mem_dev(name: str, size: int, mode: int = 0o666) -> Cdev:
    """A memory-backed device of `size` bytes (rounded up to whole pages) that supports d_mmap.
    Its memory is a lazily backed host buffer: only the pages touched cost host memory.  Raises
    TypeError for a non-integer size, ValueError for a bad name or a size that is negative or does
    not fit an off_t, and OSError (ENOMEM) when the host cannot reserve that much address space."""
    if not isinstance(name, str) or not name or "/" in name or name in (".", "..") or "\0" in name:
        raise ValueError(f"bad device name {name!r}")
    if not isinstance(size, int) or isinstance(size, bool):
        raise TypeError("device size must be an integer")
    if size < 0:
        raise ValueError("device size must not be negative")
    if size > DEV_SIZE_MAX:
        raise ValueError("device size must fit an off_t")
    return Cdev(name, MEM_DEVSW, si_memory=host_buffer(round_page(size)), si_mode=mode)
