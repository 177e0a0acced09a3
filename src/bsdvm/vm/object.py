"""vm_object.c: memory objects, shadow chains, copy-on-write plumbing (spec section 5, OBJ-1..15).

An object owns resident pages keyed by page index, and (once paged out) swap blocks.  Anonymous
objects (DEFAULT/SWAP, handle None) form shadow chains through `backing_object`.
Invariants: ref_count counts map entries naming the object plus shadows backing onto it plus
transient holds; shadow_count == len(shadows); a vnode object's own v_object pointer holds no
reference; every live object is in `vm.objects`; an object with ref_count 0 is terminated at once.
May call: vm.page, vm.pmap, vm.pager (page-in/out, swap), never vm.map.
"""
from __future__ import annotations

import errno
import itertools
from typing import TYPE_CHECKING, Any, Final

from . import pmap as pmap_mod
from .param import (OBJ_DEAD, OBJ_MIGHTBEDIRTY, OBJ_ONEMAPPING, OBJ_WRITEABLE,
                    OBJPC_INVAL, OBJPC_NOSYNC, OBJPC_SYNC, OBJT_DEFAULT, OBJT_DEVICE, OBJT_SWAP,
                    OBJT_VNODE, PAGE_MASK, PG_MADV_FREED, PG_NOSYNC, VM_PROT_READ,
                    atop, ptoa)
from ..mman import MADV_DONTNEED, MADV_FREE, MADV_WILLNEED

if TYPE_CHECKING:
    from .map import VmMapEntry
    from .page import VmPage
    from .vm_system import VmSystem

_ids = itertools.count(1)


class VmObject:
    __slots__ = ("vm", "id", "type", "size", "ref_count", "shadow_count", "shadows",
                 "backing_object", "backing_object_offset", "handle", "flags", "pages",
                 "resident_page_count", "generation", "swblocks", "vnp_size", "paging_in_progress",
                 "__weakref__")

    def __init__(self, vm: VmSystem, objtype: int, size: int) -> None:
        self.vm = vm
        self.id = next(_ids)
        self.type = objtype
        self.size = size                    # pages
        self.ref_count = 1
        self.shadow_count = 0
        self.shadows: set[VmObject] = set()
        self.backing_object: VmObject | None = None
        self.backing_object_offset = 0      # bytes
        self.handle: Any = None
        self.flags = OBJ_ONEMAPPING if objtype in (OBJT_DEFAULT, OBJT_SWAP) else 0
        self.pages: dict[int, VmPage] = {}  # pindex -> VmPage
        self.resident_page_count = 0
        self.generation = 1
        self.swblocks: dict[int, int] = {}  # pindex -> swap block (swap pager metadata)
        self.vnp_size = 0                   # vnode objects: file size in bytes
        self.paging_in_progress = 0

    @property
    def anonymous(self) -> bool:
        return self.handle is None and self.type in (OBJT_DEFAULT, OBJT_SWAP)

    def __repr__(self) -> str:
        return (f"<vm_object {self.id} type={self.type} size={self.size} ref={self.ref_count} "
                f"shadow={self.shadow_count} res={self.resident_page_count}>")


def pages_in(obj: VmObject, start: int, end: int | None) -> list[tuple[int, VmPage]]:
    """Resident (pindex, page) pairs with start <= pindex < end, in index order."""
    pages = obj.pages
    if end is None:
        return sorted((i, m) for i, m in pages.items() if i >= start)
    if end - start <= len(pages):
        return [(i, pages[i]) for i in range(start, end) if i in pages]
    return sorted((i, m) for i, m in pages.items() if start <= i < end)


def vm_object_allocate(vm: VmSystem, objtype: int, size: int) -> VmObject:
    """OBJ-1."""
    obj = VmObject(vm, objtype, size)
    vm.objects[obj.id] = obj
    return obj


def vm_object_reference(obj: VmObject | None) -> None:
    """OBJ-3."""
    if obj is None:
        return
    obj.ref_count += 1
    if obj.type == OBJT_VNODE:
        obj.vm.vnode_ops.vref(obj.handle)


def vm_object_deallocate(obj: VmObject | None) -> None:
    """OBJ-5/OBJ-6: drop one reference; collapse or terminate as the count dictates."""
    while obj is not None:
        if obj.type == OBJT_VNODE:
            obj.ref_count -= 1
            vp = obj.handle
            if obj.ref_count == 0 and obj.flags & OBJ_MIGHTBEDIRTY:
                # The last mapping reference is gone: do what the syncer would do soon after,
                # so that munmap/exit never lose data (docs/errata.md, vnode writeback).  A drop
                # that leaves references (a clip merged back, a partial munmap) writes nothing,
                # as in FreeBSD.
                vm_object_page_clean(obj, 0, 0, OBJPC_SYNC)
            obj.vm.vnode_ops.vrele(vp)
            return
        obj.ref_count -= 1
        if obj.ref_count > 1:
            return
        if obj.ref_count == 1:
            if obj.shadow_count == 0:
                if obj.type in (OBJT_DEFAULT, OBJT_SWAP):
                    obj.flags |= OBJ_ONEMAPPING
            elif obj.shadow_count == 1 and obj.anonymous:
                (shadow,) = obj.shadows
                if shadow.anonymous and not shadow.flags & OBJ_DEAD:
                    vm_object_collapse(shadow)
            return
        backing = obj.backing_object
        if backing is not None:
            backing.shadows.discard(obj)
            backing.shadow_count -= 1
            backing.generation += 1
            obj.backing_object = None
        vm_object_terminate(obj)
        obj = backing


def vm_object_terminate(obj: VmObject) -> None:
    """OBJ-7."""
    vm = obj.vm
    obj.flags |= OBJ_DEAD
    if obj.type == OBJT_VNODE and obj.flags & OBJ_MIGHTBEDIRTY:
        vm_object_page_clean(obj, 0, 0, OBJPC_SYNC)
    phys = vm.phys
    for m in list(obj.pages.values()):
        pmap_mod.pmap_remove_all(m)
        if m.fictitious:
            del obj.pages[m.pindex]
            obj.resident_page_count -= 1
            continue
        if m.wire_count:
            # wired pages just leave the object (their wiring entry is gone too in practice)
            phys.user_wire_count -= 1
            m.wire_count = 0
        phys.free(m)
    vm.pager.vm_pager_deallocate(obj)      # swap blocks freed, the handle's pointer cleared
    vm.objects.pop(obj.id, None)


def vm_object_shadow(source: VmObject | None, offset: int, length: int,
                     vm: VmSystem | None = None) -> tuple[VmObject, int]:
    """OBJ-8: returns (object, offset) for the entry.  `vm` is needed when source is None."""
    if (source is not None and source.ref_count == 1 and source.handle is None
            and source.type in (OBJT_DEFAULT, OBJT_SWAP)):
        return source, offset
    if source is not None:
        vm = source.vm
    assert vm is not None, "vm_object_shadow: no object and no VM system"
    result = vm_object_allocate(vm, OBJT_DEFAULT, length)
    result.backing_object = source
    if source is not None:
        source.shadows.add(result)
        source.shadow_count += 1
        source.generation += 1
    result.backing_object_offset = offset
    return result, 0


def _has_page_or_swap(obj: VmObject, pindex: int) -> bool:
    m = obj.pages.get(pindex)
    return (m is not None and m.valid) or pindex in obj.swblocks


def _shadows_all(obj: VmObject, backing: VmObject) -> bool:
    """Does obj hide every page of backing that lies in obj's window?"""
    if obj.resident_page_count == obj.size:
        return True
    if backing.type != OBJT_DEFAULT and backing.type != OBJT_SWAP:
        return False
    off = atop(obj.backing_object_offset)
    idx = list(backing.pages) + list(backing.swblocks)
    for bi in idx:
        i = bi - off
        if 0 <= i < obj.size and not _has_page_or_swap(obj, i):
            return False
    return True


def vm_object_collapse(obj: VmObject) -> None:
    """OBJ-9."""
    vm = obj.vm
    while True:
        backing = obj.backing_object
        if backing is None:
            return
        if (not obj.anonymous or not backing.anonymous or obj.flags & OBJ_DEAD
                or backing.flags & OBJ_DEAD or obj.paging_in_progress or backing.paging_in_progress):
            return
        off = atop(obj.backing_object_offset)
        if backing.ref_count == 1:
            phys = vm.phys
            for bi, m in list(backing.pages.items()):
                i = bi - off
                if i < 0 or i >= obj.size or _has_page_or_swap(obj, i):
                    pmap_mod.pmap_remove_all(m)
                    if m.wire_count:
                        phys.user_wire_count -= 1
                        m.wire_count = 0
                    phys.free(m)
                else:
                    stale = obj.pages.get(i)
                    if stale is not None:          # an invalid placeholder page
                        pmap_mod.pmap_remove_all(stale)
                        phys.free(stale)
                    phys.rename(m, obj, i)
            if backing.swblocks:
                vm.swap.collapse_transfer(backing, obj, off)
            bb = backing.backing_object
            obj.backing_object = bb
            if bb is not None:
                bb.shadows.discard(backing)
                bb.shadows.add(obj)
                bb.generation += 1
            obj.backing_object_offset += backing.backing_object_offset
            backing.backing_object = None
            backing.shadows.clear()
            backing.shadow_count = 0
            backing.ref_count = 0
            backing.flags |= OBJ_DEAD
            vm.objects.pop(backing.id, None)
            vm.stats["object_collapses"] += 1
        else:
            if not _shadows_all(obj, backing):
                return
            bb = backing.backing_object
            backing.shadows.discard(obj)
            backing.shadow_count -= 1
            backing.generation += 1
            obj.backing_object = bb
            if bb is not None:
                bb.shadows.add(obj)
                bb.shadow_count += 1
                vm_object_reference(bb)      # vref()s a vnode, as FreeBSD's bypass does
                bb.generation += 1
            obj.backing_object_offset += backing.backing_object_offset
            backing.ref_count -= 1
            vm.stats["object_bypasses"] += 1


def vm_object_page_remove(obj: VmObject, start: int, end: int, clean_only: bool) -> None:
    """OBJ-10 (end 0 = to the end of the object)."""
    phys = obj.vm.phys
    for _, m in pages_in(obj, start, end if end else None):
        if m.fictitious:
            # Device pages are fictitious: unmanaged (no pv entries, so no other translation can
            # be found or removed) and inherently wired; they stay in the object (7.x's
            # vm_object_page_remove skips them).  msync(MS_INVALIDATE) of a device mapping must
            # not free them, nor another process's (wired) translations of them.
            continue
        if m.wire_count:
            pmap_mod.pmap_remove_all(m)
            if not clean_only:
                m.valid = False
            continue
        if clean_only and m.valid:
            pmap_mod.pmap_page_protect(m, VM_PROT_READ)
            if m.dirty:
                continue
        pmap_mod.pmap_remove_all(m)
        phys.free(m)


EASY_SCAN_FACTOR: Final = 8


def _test_dirty(m: "VmPage") -> bool:
    """vm_page_test_dirty, then: does the page hold dirty data?"""
    if not m.dirty and pmap_mod.pmap_is_modified(m):
        m.dirty = True
    return m.valid and m.dirty


def vm_object_page_clean(obj: VmObject, start: int, end: int, flags: int) -> int:
    """OBJ-11: write dirty pages of a vnode object back to its file (end 0 = whole object).

    As 7.0 (msync_flush_flags = HARDSEQ | SOFTSEQ): a first sequential scan of the range flushes
    each dirty page together with the run of dirty pages adjacent to it (before and after, inside
    the range or not, up to vm_pageout_page_count pages: one put per run).  When that scan covers
    a partial range it returns there, leaving the other pages' translations writable.  Otherwise
    every page is write-protected (but NOSYNC pages under OBJPC_NOSYNC), the object flags are
    cleared for a whole-object clean, and the range is scanned again for what is still dirty.

    Returns 0, or the errno of the first host write that failed (fail points
    "vm_object_page_clean" and "vnode_pager_putpages").  A failed run stays dirty, the other runs
    are still written, and the object keeps OBJ_MIGHTBEDIRTY, so the next msync, munmap, exit or
    Kernel.sync() tries again."""
    if obj.type != OBJT_VNODE or not obj.flags & OBJ_MIGHTBEDIRTY:
        return 0
    error = obj.vm.fail.check("vm_object_page_clean")
    if error:
        return error
    sync = bool(flags & (OBJPC_SYNC | OBJPC_INVAL))
    nosync = bool(flags & OBJPC_NOSYNC)
    tstart = start
    tend = end if end else obj.size
    pages = obj.pages

    # MSYNC_FLUSH_HARDSEQ
    scanreset = max(16, obj.resident_page_count // EASY_SCAN_FACTOR)
    scanlimit = scanreset
    tscan = tstart
    while tscan < tend:
        p = pages.get(tscan)
        if p is None or not p.valid or not _test_dirty(p) or (nosync and p.flags & PG_NOSYNC):
            scanlimit -= 1
            if scanlimit == 0:
                break
            tscan += 1
            continue
        scanlimit = scanreset
        written, err = _collect_flush(obj, p, None, sync)
        error = error or err
        tscan += written
    if tscan >= tend and (tstart or tend < obj.size):
        return error

    # the CLEANCHK pass
    clearobjflags = True
    cleanchk: set[VmPage] = set()
    for p in list(pages.values()):
        cleanchk.add(p)
        if nosync and p.flags & PG_NOSYNC:
            clearobjflags = False
        else:
            pmap_mod.pmap_page_protect(p, VM_PROT_READ)
    if clearobjflags and tstart == 0 and tend == obj.size:
        obj.flags &= ~(OBJ_WRITEABLE | OBJ_MIGHTBEDIRTY)
    for pi, p in sorted(pages.items()):
        if p not in cleanchk:
            continue
        cleanchk.discard(p)
        if pi < tstart or pi >= tend or not p.valid or not _test_dirty(p) \
                or (nosync and p.flags & PG_NOSYNC):
            continue
        error = error or _collect_flush(obj, p, cleanchk, sync)[1]
    if error:
        # the flags were cleared before the flush: what failed is still dirty
        obj.flags |= OBJ_WRITEABLE | OBJ_MIGHTBEDIRTY
    return error


def _collect_flush(obj: VmObject, p: "VmPage", cleanchk: "set[VmPage] | None",
                   sync: bool) -> tuple[int, int]:
    """vm_object_page_collect_flush: write p with the dirty pages adjacent to it (after it first,
    then before it, vm_pageout_page_count in all) in one put.  `cleanchk` None is
    VM_PAGER_IGNORE_CLEANCHK; otherwise a neighbour must still be in it.  Returns how many pages
    from p on were put (1 + the run after it) and the errno of the put (0: written)."""
    pages = obj.pages
    count = 16 if obj.vm.phys.npages >= 2000 else 8        # vm_pageout_page_count
    pi = p.pindex

    def dirty_neighbour(i: int) -> "VmPage | None":
        tp = pages.get(i)
        if tp is None or (cleanchk is not None and tp not in cleanchk):
            return None
        if not _test_dirty(tp):
            if cleanchk is not None:
                cleanchk.discard(tp)
            return None
        return tp

    after: list[VmPage] = []
    for i in range(1, count):
        tp = dirty_neighbour(pi + i)
        if tp is None:
            break
        after.append(tp)
    before: list[VmPage] = []
    for i in range(1, count - len(after)):
        tp = dirty_neighbour(pi - i)
        if tp is None:
            break
        before.append(tp)
    run = before[::-1] + [p] + after
    if cleanchk is not None:
        cleanchk.difference_update(run)
    # vm_pageout_flush: write-protect, then one put for the run
    for m in run:
        pmap_mod.pmap_page_protect(m, VM_PROT_READ)
    err = obj.vm.pager.vm_pager_put_pages(obj, run, sync)
    return len(after) + 1, err


def vm_object_coalesce(obj: VmObject | None, prev_offset: int, prev_size: int,
                       next_size: int) -> bool:
    """OBJ-12."""
    if obj is None:
        return True
    if obj.type not in (OBJT_DEFAULT, OBJT_SWAP):
        return False
    vm_object_collapse(obj)
    if obj.backing_object is not None:
        return False
    prev_pages = atop(prev_size)
    next_pages = atop(next_size)
    next_pindex = atop(prev_offset) + prev_pages
    if obj.ref_count > 1 and obj.size != next_pindex:
        return False
    if next_pindex < obj.size:
        vm_object_page_remove(obj, next_pindex, next_pindex + next_pages, False)
        if obj.swblocks:
            obj.vm.swap.free_range(obj, next_pindex, next_pages)
    if next_pindex + next_pages > obj.size:
        obj.size = next_pindex + next_pages
    return True


def vm_object_split(entry: VmMapEntry) -> None:
    """OBJ-13: give a map entry a private copy of its window of a shared anonymous object."""
    orig = entry.object
    if orig is None or orig.type not in (OBJT_DEFAULT, OBJT_SWAP) or orig.ref_count <= 1:
        return
    vm = orig.vm
    offidxstart = atop(entry.offset)
    size = atop(entry.end - entry.start)
    new = vm_object_allocate(vm, OBJT_DEFAULT, size)
    source = orig.backing_object
    if source is not None:
        vm_object_reference(source)          # vref()s a vnode, as FreeBSD's split does
        source.shadows.add(new)
        source.shadow_count += 1
        source.generation += 1
        source.flags &= ~OBJ_ONEMAPPING
        new.backing_object = source
        new.backing_object_offset = orig.backing_object_offset + entry.offset
    phys = vm.phys
    for i, m in pages_in(orig, offidxstart, offidxstart + size):
        phys.rename(m, new, i - offidxstart)
    if orig.swblocks:
        vm.swap.split_transfer(orig, new, offidxstart, size)
    entry.object = new
    entry.offset = 0
    vm_object_deallocate(orig)


def vm_object_sync(obj: VmObject | None, offset: int, size: int, syncio: bool,
                   invalidate: bool) -> int:
    """OBJ-14.  Returns 0, or the errno of a failed write-back (the pages stay dirty and, with
    MS_INVALIDATE, resident: only clean pages are invalidated)."""
    if obj is None:
        return 0
    while obj.backing_object is not None:
        offset += obj.backing_object_offset
        obj = obj.backing_object
        limit = ptoa(obj.size)
        if size > limit - offset:
            size = max(0, limit - offset)
    start = atop(offset)
    end = atop(offset + size + PAGE_MASK)
    if obj.type == OBJT_VNODE and obj.flags & OBJ_MIGHTBEDIRTY:
        flags = OBJPC_SYNC if (syncio or invalidate) else 0
        if invalidate:
            flags |= OBJPC_INVAL
        err = vm_object_page_clean(obj, start, end, flags)
        if not err and syncio:
            try:
                obj.vm.vnode_ops.fsync(obj.handle)
            except OSError as e:
                err = e.errno or errno.EIO
        if err:
            return err
    if invalidate and obj.type in (OBJT_VNODE, OBJT_DEVICE):
        clean_only = obj.type == OBJT_VNODE and not obj.vm.tunables.old_msync
        vm_object_page_remove(obj, start, end, clean_only)
    return 0


def vm_object_madvise(obj: VmObject | None, pindex: int, count: int, advice: int) -> None:
    """OBJ-15."""
    if obj is None:
        return
    phys = obj.vm.phys
    # Only an index that has a page (or, for MADV_FREE, a swap block) somewhere down the chain can
    # be affected, so walk those -- the objects' page indexes -- instead of every index of the
    # range: MADV_FREE of a mostly untouched 64 GiB range costs what is resident, not 16 M steps
    # under the kernel lock.  Each candidate is then handled exactly as the per-index loop of
    # vm_object_madvise does.
    for idx in _madvise_candidates(obj, pindex, count, advice == MADV_FREE):
        tobj, tidx = obj, idx
        m = None
        while True:
            if advice == MADV_FREE and (tobj.type not in (OBJT_DEFAULT, OBJT_SWAP)
                                        or not tobj.flags & OBJ_ONEMAPPING):
                break
            m = tobj.pages.get(tidx)
            if m is None and advice == MADV_FREE and tidx in tobj.swblocks:
                tobj.vm.swap.free_range(tobj, tidx, 1)
            if m is not None or tobj.backing_object is None:
                break
            tidx += atop(tobj.backing_object_offset)
            tobj = tobj.backing_object
        if m is None or m.hold_count or m.wire_count or m.fictitious or not m.valid:
            continue
        if advice == MADV_WILLNEED:
            phys.activate(m)
        elif advice == MADV_DONTNEED:
            phys.dontneed(m)
        elif advice == MADV_FREE:
            pmap_mod.pmap_clear_modify(m)
            m.dirty = False
            m.act_count = 0
            phys.dontneed(m)
            if tidx in tobj.swblocks:
                tobj.vm.swap.free_range(tobj, tidx, 1)
            m.flags |= PG_MADV_FREED


def _madvise_candidates(obj: VmObject, pindex: int, count: int, with_swap: bool) -> list[int]:
    """The indices in [pindex, pindex+count) of `obj` at which some object of its shadow chain
    holds a page (or a swap block, when `with_swap`), in ascending order.  The cost is the number
    of resident pages and swap blocks of the chain, or `count` when that is smaller."""
    found: set[int] = set()
    tobj: VmObject | None = obj
    shift = 0                               # tobj index = obj index + shift
    budget = 0
    while tobj is not None:
        budget += len(tobj.pages) + (len(tobj.swblocks) if with_swap else 0)
        shift_here = shift
        for i, _ in pages_in(tobj, pindex + shift_here, pindex + shift_here + count):
            found.add(i - shift_here)
        if with_swap and tobj.swblocks:
            lo, hi = pindex + shift_here, pindex + shift_here + count
            if count <= len(tobj.swblocks):
                found.update(i - shift_here for i in range(lo, hi) if i in tobj.swblocks)
            else:
                found.update(i - shift_here for i in tobj.swblocks if lo <= i < hi)
        shift += atop(tobj.backing_object_offset)
        tobj = tobj.backing_object
    if budget >= count:
        return list(range(pindex, pindex + count))
    return sorted(found)


