"""Character devices: struct cdevsw (the driver's entry points) and struct cdev (one device instance).

What the seed needs (spec DEV-1): d_flags & D_MMAP_ANON marks /dev/zero, whose mappings are anonymous;
any other device is mappable only through d_mmap(dev, offset, prot) -> (errno, paddr), which the device
pager calls once per page.  A device without d_mmap refuses with ENODEV.  Here a "physical address" of a
memory-backed device is a byte index into its si_memory, a DevMemory: device memory is allocated one page
at a time when first touched, so a 4 GiB (or 2**62-byte) device costs nothing until used.
Invariants: len(si_memory) is a multiple of the page size and fits an off_t; si_object is the one VM
object the device pager keeps per cdev (set and cleared by the VM).  May call: vm.param.
"""
from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Callable

from bsdvm.vm.param import PAGE_SHIFT, PAGE_SIZE, round_page

D_MEM = 0x0008
D_MEMDISK = 0x00010000
D_MMAP_ANON = 0x00100000


# A device's size is an off_t's worth of bytes at most: d_mmap offsets are off_t.
DEV_SIZE_MAX = (1 << 63) - PAGE_SIZE


class DevMemory:
    """The bytes of a memory-backed device, sparse: a page exists once it is touched (read through
    a mapping, or written); untouched pages read as zero.  Indexing and slicing work as on the
    bytearray it replaces (slices return bytes)."""

    __slots__ = ("size", "_pages")

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: dict[int, bytearray] = {}

    def __len__(self) -> int:
        return self.size

    def page(self, pindex: int) -> bytearray:
        """The frame of page `pindex`, created (zeroed) on first use; the device pager maps it."""
        pg = self._pages.get(pindex)
        if pg is None:
            pg = self._pages[pindex] = bytearray(PAGE_SIZE)
        return pg

    def resident_pages(self) -> int:
        return len(self._pages)

    def _range(self, key: slice) -> tuple[int, int]:
        start, stop, step = key.indices(self.size)
        if step != 1:
            raise ValueError("device memory slices must be contiguous")
        return start, max(start, stop)

    def read(self, offset: int, n: int) -> bytes:
        end = min(self.size, offset + n)
        out = bytearray()
        while offset < end:
            pi, off = offset >> PAGE_SHIFT, offset & (PAGE_SIZE - 1)
            k = min(PAGE_SIZE - off, end - offset)
            pg = self._pages.get(pi)
            out += pg[off:off + k] if pg is not None else bytes(k)
            offset += k
        return bytes(out)

    def write(self, offset: int, data) -> None:
        mv = memoryview(bytes(data))
        while mv:
            pi, off = offset >> PAGE_SHIFT, offset & (PAGE_SIZE - 1)
            k = min(PAGE_SIZE - off, len(mv))
            self.page(pi)[off:off + k] = mv[:k]
            mv, offset = mv[k:], offset + k

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop = self._range(key)
            return self.read(start, stop - start)
        i = key + self.size if key < 0 else key
        if not 0 <= i < self.size:
            raise IndexError("device memory index out of range")
        pg = self._pages.get(i >> PAGE_SHIFT)
        return pg[i & (PAGE_SIZE - 1)] if pg is not None else 0

    def __setitem__(self, key, value) -> None:
        if isinstance(key, slice):
            start, stop = self._range(key)
            data = bytes(value)
            if len(data) != stop - start:
                raise ValueError("device memory cannot change size")
            self.write(start, data)
            return
        i = key + self.size if key < 0 else key
        if not 0 <= i < self.size:
            raise IndexError("device memory index out of range")
        self.page(i >> PAGE_SHIFT)[i & (PAGE_SIZE - 1)] = value

    def __bytes__(self) -> bytes:
        return self.read(0, self.size)


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
    si_memory: DevMemory | None = None
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
    mem = dev.si_memory
    return 0, mem.read(offset, min(n, max(0, len(mem) - offset)))


def _mem_write(dev, offset, data):
    mem = dev.si_memory
    if data and offset >= len(mem):
        return errno.ENOSPC, 0
    n = min(len(data), len(mem) - offset)
    mem.write(offset, data[:n])
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
    Its memory is allocated page by page on first use.  Raises TypeError for a non-integer size and
    ValueError for a bad name or a size that is negative or does not fit an off_t."""
    if not isinstance(name, str) or not name or "/" in name or name in (".", "..") or "\0" in name:
        raise ValueError(f"bad device name {name!r}")
    if not isinstance(size, int) or isinstance(size, bool):
        raise TypeError("device size must be an integer")
    if size < 0:
        raise ValueError("device size must not be negative")
    if size > DEV_SIZE_MAX:
        raise ValueError("device size must fit an off_t")
    return Cdev(name, MEM_DEVSW, si_memory=DevMemory(round_page(size)), si_mode=mode)
