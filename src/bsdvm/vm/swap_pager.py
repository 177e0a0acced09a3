"""swap_pager.c and default_pager.c: anonymous memory's pagers (spec section 6).

Swap space is one sparse host file with a block allocator; a block holds one page.  The default
pager is what an anonymous object starts with: it has nothing to page in, and its first page-out
hands the object to the swap pager (OBJT_DEFAULT becomes OBJT_SWAP), as swap_pager_putpages does.
Invariants: every allocated swap block belongs to exactly one (object, pindex), recorded both in
`SwapSpace.owner` and in the object's `swblocks`.  May call: vm.object (allocation), vm.param.
"""
from __future__ import annotations

import errno
import heapq
import os
import tempfile
from typing import TYPE_CHECKING

from .object import vm_object_allocate
from .param import (OBJT_DEFAULT, OBJT_SWAP, PAGE_MASK, PAGE_SIZE, VM_PAGER_ERROR, VM_PAGER_FAIL,
                    VM_PAGER_OK, atop, round_page)

if TYPE_CHECKING:
    from .vm_system import VmSystem
    from .object import VmObject
    from .page import VmPage


class SwapSpace:
    """swap_pager.c's backing store: a sparse host file and a block allocator (one page a block).

    The allocator is lazy like FreeBSD's blist: blocks above a high-water mark have never been used
    and cost nothing; freed blocks below it wait in a min-heap, so the lowest free block is handed
    out first.  Its memory grows with the most blocks ever in use at once, never with the size of
    swap (64 GiB or 1 TiB of swap costs no more than 16 MiB).

    The swap file is created exclusively (O_EXCL | O_NOFOLLOW): an existing path — a file or a
    symlink — is refused with FileExistsError, never truncated or followed, and the file is
    removed again at close().  Host I/O goes through the fail points "swap_pager_putpages" and
    "swap_pager_getpages" and reports errors as an errno (0 on success).
    """

    def __init__(self, nbytes: int, path: str | None = None, fail=None):
        self.nblocks = nbytes // PAGE_SIZE
        self.fail = fail
        self._own_dir: str | None = None
        self.fd: int | None = None
        if path is None:
            self._own_dir = tempfile.mkdtemp(prefix="bsdvm-swap-")
            path = os.path.join(self._own_dir, "swap")
        self.path = path
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                              | os.O_CLOEXEC, 0o600)
            os.ftruncate(self.fd, self.nblocks * PAGE_SIZE)
        except BaseException:
            self.close()
            raise
        self._hiwat = 0                                      # blocks >= _hiwat were never used
        self._freed: list[int] = []                          # heap of free blocks < _hiwat
        self.owner: dict[int, tuple[int, int]] = {}          # block -> (object id, pindex)
        self.used_high = 0                  # the most blocks in use at once (reset by assignment)

    @property
    def used(self) -> int:
        return len(self.owner)

    def alloc(self, obj, pindex) -> int | None:
        if self._freed:
            blk = heapq.heappop(self._freed)
        elif self._hiwat < self.nblocks:
            blk = self._hiwat
            self._hiwat += 1
        else:
            return None
        self.owner[blk] = (obj.id, pindex)
        if len(self.owner) > self.used_high:
            self.used_high = len(self.owner)
        return blk

    def release(self, blk: int) -> None:
        del self.owner[blk]
        heapq.heappush(self._freed, blk)

    def write(self, blk: int, data) -> int:
        """swap_pager_putpages' I/O: 0, or the errno of a failed host write."""
        err = self.fail.check("swap_pager_putpages") if self.fail is not None else 0
        if err:
            return err
        if self.fd is None:
            return errno.EBADF                  # closed
        try:
            os.pwrite(self.fd, data, blk * PAGE_SIZE)
        except OSError as e:
            return e.errno or errno.EIO
        return 0

    def read(self, blk: int) -> tuple[int, bytes]:
        """swap_pager_getpages' I/O: (0, the page) or (errno, b"")."""
        err = self.fail.check("swap_pager_getpages") if self.fail is not None else 0
        if err:
            return err, b""
        if self.fd is None:
            return errno.EBADF, b""
        try:
            data = os.pread(self.fd, PAGE_SIZE, blk * PAGE_SIZE)
        except OSError as e:
            return e.errno or errno.EIO, b""
        return 0, data.ljust(PAGE_SIZE, b"\0")

    # -- object-level metadata operations used by vm_object -----------------------------------
    def free_range(self, obj, start: int, count: int) -> None:
        for i in [i for i in obj.swblocks if start <= i < start + count]:
            self.release(obj.swblocks.pop(i))

    def free_object(self, obj) -> None:
        for blk in obj.swblocks.values():
            self.release(blk)
        obj.swblocks.clear()

    def collapse_transfer(self, backing, obj, off: int) -> None:
        for bi, blk in list(backing.swblocks.items()):
            i = bi - off
            if 0 <= i < obj.size and i not in obj.swblocks and i not in obj.pages:
                obj.swblocks[i] = blk
                self.owner[blk] = (obj.id, i)
                if obj.type == OBJT_DEFAULT:
                    obj.type = OBJT_SWAP
            else:
                self.release(blk)
        backing.swblocks.clear()

    def split_transfer(self, orig, new, start: int, size: int) -> None:
        for i in [i for i in orig.swblocks if start <= i < start + size]:
            blk = orig.swblocks.pop(i)
            new.swblocks[i - start] = blk
            self.owner[blk] = (new.id, i - start)
        if new.swblocks:
            new.type = OBJT_SWAP

    def close(self) -> None:
        """Close and remove the swap file (the kernel created it, so it is the kernel's)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
            try:
                os.unlink(self.path)
            except OSError:
                pass
        if self._own_dir is not None:
            try:
                os.rmdir(self._own_dir)
            except OSError:
                pass
            self._own_dir = None


class SwapPager:
    """swappagerops: pages of an anonymous object that were paged out live in swap blocks."""

    fictitious = False          # page-ins fill frames the fault allocated
    clustered = False           # one page per page-in: the fault sizes no read-ahead

    def __init__(self, vm: VmSystem) -> None:
        self.vm = vm

    def alloc(self, handle, size: int, prot: int, off: int) -> VmObject | None:
        """swap_pager_alloc: an anonymous object big enough for [off, off+size)."""
        return vm_object_allocate(self.vm, OBJT_SWAP, atop(off + size + PAGE_MASK))

    def dealloc(self, obj: VmObject) -> None:
        """swap_pager_dealloc: the object's swap blocks go back to the allocator."""
        if obj.swblocks:
            self.vm.swap.free_object(obj)

    def getpages(self, obj: VmObject, pindex: int, m: VmPage | None, behind: int = 0,
                 ahead: int = 0, lo_limit: int | None = None, hi_limit: int | None = None) -> int:
        """swap_pager_getpages: read page m back from its swap block.  VM_PAGER_FAIL when the
        page was never paged out, VM_PAGER_ERROR when the read failed (the page stays invalid;
        the fault frees it and the access gets a signal), else VM_PAGER_OK."""
        assert m is not None
        blk = obj.swblocks.get(m.pindex)
        if blk is None:
            return VM_PAGER_FAIL
        err, data = self.vm.swap.read(blk)
        if err:
            # swp_pager_async_iodone: a read error leaves the page invalid; the fault frees it
            # and the access gets a signal
            return VM_PAGER_ERROR
        m.data[:] = data
        m.valid = True
        m.dirty = False
        m.swapblk = blk
        c = self.vm.phys.cnt
        c.v_swapin += 1
        c.v_swappgsin += 1
        return VM_PAGER_OK

    def putpages(self, obj: VmObject, pages: list[VmPage], sync: bool) -> int:
        """swap_pager_putpages: write dirty pages to swap, each to its own block (allocated on
        first page-out; the object becomes OBJT_SWAP).  Returns 0, ENOSPC when swap is full, or
        the errno of a failed write -- then that page stays dirty and keeps its block (the next
        page-out rewrites it), as swp_pager_async_iodone redirties it."""
        swap = self.vm.swap
        written = 0
        err = 0
        for m in pages:
            blk = obj.swblocks.get(m.pindex)
            if blk is None:
                blk = swap.alloc(obj, m.pindex)
                if blk is None:
                    err = errno.ENOSPC
                    break
                obj.swblocks[m.pindex] = blk
            err = swap.write(blk, m.data)
            if err:
                m.dirty = True
                break
            if obj.type == OBJT_DEFAULT:
                obj.type = OBJT_SWAP
            m.dirty = False
            written += 1
        if written:
            c = self.vm.phys.cnt
            c.v_swapout += 1
            c.v_swappgsout += written
        return err

    def haspage(self, obj: VmObject, pindex: int) -> bool:
        """swap_pager_haspage: the page has a copy in swap."""
        return pindex in obj.swblocks


class DefaultPager(SwapPager):
    """defaultpagerops: an anonymous object that has never been paged out.  It has no copies to
    read (getpages fails, haspage is false); putpages is the swap pager's, which converts the
    object to OBJT_SWAP.  dealloc is the swap pager's too: the page daemon reserves a page's
    swap block before the write that converts the object, so a default object whose first
    page-out failed still holds a block."""

    def alloc(self, handle, size: int, prot: int, off: int) -> VmObject | None:
        """default_pager_alloc: anonymous memory has no handle."""
        if handle is not None:
            return None
        return vm_object_allocate(self.vm, OBJT_DEFAULT, atop(round_page(off + size)))

    def getpages(self, obj: VmObject, pindex: int, m: VmPage | None, behind: int = 0,
                 ahead: int = 0, lo_limit: int | None = None, hi_limit: int | None = None) -> int:
        """default_pager_getpages: there is no backing store to read from."""
        return VM_PAGER_FAIL

    def haspage(self, obj: VmObject, pindex: int) -> bool:
        """default_pager_haspage: never."""
        return False
