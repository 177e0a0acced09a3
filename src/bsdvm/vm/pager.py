"""vm_pager.c and the pagers: default/swap (swap_pager.c), vnode (vnode_pager.c), device
(device_pager.c) — spec section 6.

The vnode pager is also the page cache for file I/O: read(2)/write(2) on a regular file go through
`vn_read`/`vn_write` here, so a file's resident pages and its host file never disagree about what a
reader sees (FreeBSD's merged VM/buffer cache).  Swap space is one sparse host file with a block
allocator; a block holds one page.
Invariants: a resident vnode page at index i holds the file's bytes [i*PAGE_SIZE, (i+1)*PAGE_SIZE)
as a reader should see them (zero past EOF); every allocated swap block belongs to exactly one
(object, pindex).  May call: vm.page, vm.pmap, vm.object, the VFS through vnode methods.
"""
from __future__ import annotations

import errno
import heapq
import os
import tempfile

from .object import pages_in, vm_object_allocate, vm_object_page_remove
from .page import ZERO_PAGE
from .param import (OBJPC_SYNC, OBJT_DEFAULT, OBJT_DEVICE, OBJT_SWAP,
                    OBJT_VNODE, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PG_FICTITIOUS, VM_PAGER_BAD,
                    VM_PAGER_ERROR, VM_PAGER_FAIL, VM_PAGER_OK, atop, round_page)
from .page import VmPage

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .vm_system import VmSystem

PROT_READ = 1


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


def _resident_overlap(obj, offset: int, n: int):
    """(page, lo, hi, page start) for each valid resident page overlapping [offset, offset+n)."""
    if obj is None or not obj.pages or n <= 0:
        return
    first, last = offset >> PAGE_SHIFT, (offset + n - 1) >> PAGE_SHIFT
    for i, m in pages_in(obj, first, last + 1):
        if m.valid:
            pstart = i << PAGE_SHIFT
            yield m, max(offset, pstart), min(offset + n, pstart + PAGE_SIZE), pstart


class Pagers:
    """vm_pager_allocate and the per-type getpages/putpages/haspage."""

    def __init__(self, vm: VmSystem) -> None:
        self.vm = vm

    # -- allocation (vm_pager_allocate) ---------------------------------------------------------
    def vm_pager_allocate(self, objtype, handle, size, prot, off):
        if objtype == OBJT_DEFAULT:
            if handle is not None:
                return None
            return vm_object_allocate(self.vm, OBJT_DEFAULT, atop(round_page(off + size)))
        if objtype == OBJT_SWAP:
            return vm_object_allocate(self.vm, OBJT_SWAP, atop(off + size + PAGE_MASK))
        if objtype == OBJT_VNODE:
            return self.vnode_pager_alloc(handle, size, prot, off)
        if objtype == OBJT_DEVICE:
            return self.dev_pager_alloc(handle, size, prot, off)
        return None

    # -- vnode pager ----------------------------------------------------------------------------
    def vnode_create_vobject(self, vp) -> None:
        """Made when a regular file is first opened; holds no reference of its own (PGR-3)."""
        if vp.v_object is not None:
            return
        obj = vm_object_allocate(self.vm, OBJT_VNODE, 0)
        obj.ref_count = 0
        obj.handle = vp
        size = vp.host_size()
        obj.vnp_size = size
        obj.size = atop(round_page(size))
        vp.v_object = obj

    def vnode_destroy_vobject(self, vp) -> None:
        obj = vp.v_object
        if obj is None:
            return
        from .object import vm_object_terminate
        vm_object_terminate(obj)
        vp.v_object = None

    def vnode_pager_flush(self, vp) -> int:
        """Write a vnode's dirty pages back before it is reclaimed (what the syncer would have
        done by then).  Returns 0 or the errno of the failed write; the pages stay dirty."""
        from .object import vm_object_page_clean
        obj = vp.v_object
        if obj is None:
            return 0
        return vm_object_page_clean(obj, 0, 0, OBJPC_SYNC)

    def vnode_pager_alloc(self, vp, size, prot, off):
        if vp is None or self.vm.fail.check("vnode_pager_alloc"):
            return None
        obj = vp.v_object
        if obj is None or obj.flags & 0x0008:       # no object yet, or a dying one
            self.vnode_create_vobject(vp) if obj is None else None
            obj = vp.v_object
        obj.ref_count += 1
        self.vm.vnode_ops.vref(vp)
        return obj

    def vnode_pager_setsize(self, vp, nsize: int) -> None:
        obj = vp.v_object
        if obj is None:
            return
        osize = obj.vnp_size
        if nsize == osize:
            return
        nobjsize = atop(round_page(nsize))
        if nsize < osize:
            if nobjsize < obj.size:
                vm_object_page_remove(obj, nobjsize, 0, False)
            if nsize & PAGE_MASK:
                m = obj.pages.get(atop(nsize))
                if m is not None and m.valid:
                    base = nsize & PAGE_MASK
                    m.data[base:] = bytes(PAGE_SIZE - base)
        obj.vnp_size = nsize
        obj.size = nobjsize

    def vn_read(self, vp, offset: int, n: int) -> bytes:
        """Coherent read(2): resident pages win over the host file."""
        obj = vp.v_object
        size = vp.host_size() if obj is None else obj.vnp_size
        if offset >= size or n <= 0:
            return b""
        n = min(n, size - offset)
        buf = bytearray(vp.host_pread(offset, n).ljust(n, b"\0"))
        for m, lo, hi, pstart in _resident_overlap(obj, offset, n):
            buf[lo - offset:hi - offset] = m.data[lo - pstart:hi - pstart]
        return bytes(buf)

    def vn_write(self, vp, offset: int, data) -> None:
        """Coherent write(2): the host file and any resident page both take the bytes."""
        data = bytes(data)
        if not data:
            return
        vp.host_pwrite(offset, data)
        for m, lo, hi, pstart in _resident_overlap(vp.v_object, offset, len(data)):
            m.data[lo - pstart:hi - pstart] = data[lo - offset:hi - offset]

    def vnode_pager_getpages(self, obj, m, behind: int = 0, ahead: int = 0, lo_limit=None,
                             hi_limit=None) -> int:
        """PGR-4: read page m (and a read-ahead cluster) from the file; zero past EOF."""
        vp = obj.handle
        pindex = m.pindex
        if (pindex << PAGE_SHIFT) >= obj.vnp_size:
            return VM_PAGER_BAD
        first = pindex
        last = pindex
        phys = self.vm.phys
        extra = []
        maxidx = atop(round_page(obj.vnp_size)) - 1
        if hi_limit is not None:
            maxidx = min(maxidx, hi_limit)
        while ahead and last < maxidx and (last + 1) not in obj.pages and phys.free_count > phys.free_min:
            pg = phys.alloc(obj, last + 1)
            if pg is None:
                break
            extra.append(pg)
            last += 1
            ahead -= 1
        lo = 0 if lo_limit is None else max(0, lo_limit)     # no read-behind before the file
        while behind and first > lo and (first - 1) not in obj.pages and phys.free_count > phys.free_min:
            pg = phys.alloc(obj, first - 1)
            if pg is None:
                break
            extra.append(pg)
            first -= 1
            behind -= 1
        try:
            err = self.vm.fail.check("vnode_pager_getpages")
            if err:
                raise OSError(err, os.strerror(err))
            data = vp.host_pread(first << PAGE_SHIFT, (last - first + 1) << PAGE_SHIFT)
        except BaseException as exc:
            # an I/O error, or a Python exception (KeyboardInterrupt) during the host read:
            # the read-ahead pages were never filled, so they go back
            for pg in extra:
                phys.free(pg)
            if not isinstance(exc, OSError):
                raise
            return VM_PAGER_ERROR
        eof = obj.vnp_size
        for pg in [m] + extra:
            base = (pg.pindex - first) << PAGE_SHIFT
            chunk = data[base:base + PAGE_SIZE]
            pstart = pg.pindex << PAGE_SHIFT
            if pstart + PAGE_SIZE > eof:
                chunk = chunk[:max(0, eof - pstart)]
            pg.data[:len(chunk)] = chunk
            if len(chunk) < PAGE_SIZE:
                pg.data[len(chunk):] = ZERO_PAGE[:PAGE_SIZE - len(chunk)]
            pg.valid = True
            pg.dirty = False
            if pg is not m:
                phys.deactivate(pg)
        c = phys.counters
        c["v_vnodein"] += 1
        c["v_vnodepgsin"] += last - first + 1
        return VM_PAGER_OK

    def vnode_pager_putpages(self, obj, pages, sync: bool) -> int:
        """Write dirty pages back: only the bytes inside the file size (PGR, issue 3).

        Returns 0, or the errno of a failed host write or fsync (fail point
        "vnode_pager_putpages").  A page is marked clean only once its bytes are in the host file
        (and, with `sync`, fsynced): after an error the unwritten pages stay dirty, as FreeBSD's
        brelse() redirties a buffer whose write failed, so a later write-back can still save
        them.  Nothing is freed here either way."""
        vp = obj.handle
        eof = obj.vnp_size
        err = self.vm.fail.check("vnode_pager_putpages")
        if err:
            return err
        written = []
        for m in pages:
            pstart = m.pindex << PAGE_SHIFT
            if pstart < eof:
                n = min(PAGE_SIZE, eof - pstart)
                try:
                    vp.host_pwrite(pstart, bytes(m.data[:n]))
                except OSError as e:
                    err = e.errno or errno.EIO
                    break
            written.append(m)
        if written:
            c = self.vm.phys.counters
            c["v_vnodeout"] += 1
            c["v_vnodepgsout"] += len(written)
            vp.touch_mtime()
        if sync and not err:
            try:
                self.vm.vnode_ops.fsync(vp)
            except OSError as e:
                err = e.errno or errno.EIO
                written = []            # not known to be on disk: keep every page dirty
        for m in written:
            m.dirty = False
        return err

    # -- device pager ---------------------------------------------------------------------------
    def dev_pager_alloc(self, cdev, size, prot, foff):
        """PGR-5: every page of the range is probed with the requested protection."""
        if foff & PAGE_MASK:
            return None
        d_mmap = cdev.si_devsw.d_mmap
        off = foff
        end = foff + round_page(size)
        while off < end:
            err, _ = d_mmap(cdev, off, prot) if d_mmap is not None else (19, 0)
            if err:
                return None
            off += PAGE_SIZE
        npages = atop(foff + size)
        obj = cdev.si_object
        if obj is None:
            obj = vm_object_allocate(self.vm, OBJT_DEVICE, npages)
            obj.handle = cdev
            cdev.si_object = obj
        else:
            obj.ref_count += 1
            if npages > obj.size:
                obj.size = npages
        return obj

    def dev_pager_getpage(self, obj, pindex: int):
        cdev = obj.handle
        err, paddr = cdev.si_devsw.d_mmap(cdev, pindex << PAGE_SHIFT, PROT_READ)
        if err:
            return None
        m = VmPage(obj, pindex, memoryview(cdev.si_memory)[paddr:paddr + PAGE_SIZE],
                   PG_FICTITIOUS, paddr)
        m.valid = True
        obj.pages[pindex] = m
        obj.resident_page_count += 1
        return m

    # -- swap pager -----------------------------------------------------------------------------
    def swap_pager_getpage(self, obj, m) -> int:
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
        c = self.vm.phys.counters
        c["v_swapin"] += 1
        c["v_swappgsin"] += 1
        return VM_PAGER_OK

    def haspage(self, obj, pindex: int) -> bool:
        if obj.type == OBJT_VNODE:
            return (pindex << PAGE_SHIFT) < obj.vnp_size
        if obj.type == OBJT_DEVICE:
            return True
        return pindex in obj.swblocks


