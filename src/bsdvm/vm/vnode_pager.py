"""vnode_pager.c: the pager of regular files' VM objects, and the page cache for file I/O
(spec section 6, PGR-3/PGR-4).

read(2)/write(2) on a regular file go through `vn_read`/`vn_write` here, so a file's resident pages
and its host file never disagree about what a reader sees (FreeBSD's merged VM/buffer cache).
Invariants: a vnode has at most one VM object (vp.v_object), which holds no reference of its own;
a resident page at index i holds the file's bytes [i*PAGE_SIZE, (i+1)*PAGE_SIZE) as a reader
should see them (zero past EOF).  May call: vm.object, vm.page, the VFS through vnode methods and
the VM system's injected vnode_ops (vref, fsync), never the kernel.
"""
from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING, cast

from .object import pages_in, vm_object_allocate, vm_object_page_remove
from .page import ZERO_PAGE
from .param import (OBJPC_SYNC, OBJT_VNODE, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, VM_PAGER_BAD,
                    VM_PAGER_ERROR, VM_PAGER_OK, atop, round_page)

if TYPE_CHECKING:
    from .vm_system import VmSystem
    from ..kern.vfs import Vnode
    from .object import VmObject
    from .page import VmPage


def _resident_overlap(obj, offset: int, n: int):
    """(page, lo, hi, page start) for each valid resident page overlapping [offset, offset+n)."""
    if obj is None or not obj.pages or n <= 0:
        return
    first, last = offset >> PAGE_SHIFT, (offset + n - 1) >> PAGE_SHIFT
    for i, m in pages_in(obj, first, last + 1):
        if m.valid:
            pstart = i << PAGE_SHIFT
            yield m, max(offset, pstart), min(offset + n, pstart + PAGE_SIZE), pstart


class VnodePager:
    """vnodepagerops, plus the vnode services the VFS calls (object creation and destruction,
    write-back before reclaim, size changes, coherent read/write)."""

    fictitious = False          # page-ins fill frames the fault allocated
    clustered = True            # the fault sizes a read-ahead cluster around the page (FLT-6)

    def __init__(self, vm: VmSystem) -> None:
        self.vm = vm

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

    def alloc(self, vp, size: int, prot: int, off: int) -> VmObject | None:
        """vnode_pager_alloc: the vnode's one object, with one more reference (and the vnode
        one more use).  None when there is no vnode or the fail point "vnode_pager_alloc" fires."""
        if vp is None or self.vm.fail.check("vnode_pager_alloc"):
            return None
        obj = vp.v_object
        if obj is None:
            # (a dying object is never still vp.v_object: vm_object_terminate's dealloc clears
            # it under the same lock, so FreeBSD's wait for OBJ_DEAD to clear has nothing to do)
            self.vnode_create_vobject(vp)
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

    def getpages(self, obj: VmObject, pindex: int, m: VmPage | None, behind: int = 0,
                 ahead: int = 0, lo_limit: int | None = None, hi_limit: int | None = None) -> int:
        """PGR-4: read page m (and a read-ahead cluster) from the file; zero past EOF."""
        assert m is not None
        vp = cast("Vnode", obj.handle)
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
        c = phys.cnt
        c.v_vnodein += 1
        c.v_vnodepgsin += last - first + 1
        return VM_PAGER_OK

    def putpages(self, obj: VmObject, pages: list[VmPage], sync: bool) -> int:
        """Write dirty pages back: only the bytes inside the file size (PGR, issue 3).

        Returns 0, or the errno of a failed host write or fsync (fail point
        "vnode_pager_putpages").  A page is marked clean only once its bytes are in the host file
        (and, with `sync`, fsynced): after an error the unwritten pages stay dirty, as FreeBSD's
        brelse() redirties a buffer whose write failed, so a later write-back can still save
        them.  Nothing is freed here either way."""
        vp = cast("Vnode", obj.handle)
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
            c = self.vm.phys.cnt
            c.v_vnodeout += 1
            c.v_vnodepgsout += len(written)
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

    def dealloc(self, obj: VmObject) -> None:
        """vnode_pager_dealloc: the vnode forgets its terminated object."""
        vp = obj.handle
        if vp is not None and vp.v_object is obj:
            vp.v_object = None

    def haspage(self, obj: VmObject, pindex: int) -> bool:
        """vnode_pager_haspage: the page lies inside the file."""
        return (pindex << PAGE_SHIFT) < obj.vnp_size
