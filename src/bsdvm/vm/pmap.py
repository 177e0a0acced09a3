"""The (software) pmap: per-address-space translations with x86-like semantics (spec section 8).

A translation (Pte) names a page, the protection it was entered with, whether it is wired, and the
referenced (A) and modified (M) bits that the "MMU" (the user-memory access path) sets.  As on
i386/amd64, a present translation is always readable; only WRITE is enforced by the hardware.
Invariants: `wired_count` equals the number of wired translations; every translation appears in its
page's `pv` list and vice versa; removing a translation of a managed page moves M to the page's dirty
state and A to PG_REFERENCED.  Device (fictitious) pages are unmanaged, as in amd64's pmap: their A
and M bits are never consulted or transferred (pmap_is_modified, pmap_ts_referenced see nothing).
Translations live in page-table pages, as on amd64: `pt_pages` maps a page-directory index
(vpn >> NPTEPGSHIFT) to the PageTablePage of that 2 MB region, whose slots hold its translations
and whose count says how many; a page-table page exists exactly while it maps something
(pmap_is_prefaultable asks that).  Range operations walk the page-table pages present in the range
and their slots, as amd64's loops walk the PDEs and PTEs: O(min(2 MB regions in the range,
page-table pages) plus the range's slots in the page-table pages visited, never O(range), and no
per-page hashing (fork copies and exit removes a page-table page at a time).  `resident_count` counts translations.
Every change that removes or reduces a translation or clears its A/M bits (remove, protect, a
replaced page or re-entered translation, clear_modify, clear_reference, ts_referenced) calls the
pmap's `on_invalidate(vpn)` if a CPU has registered one (pmap_invalidate_*: a CPU's TLB may hold
the old translation).
May call: vm.page (queues only through the page flags; ZERO_PAGE).
"""
from __future__ import annotations

import mmap
from typing import TYPE_CHECKING, Callable, Final

from .page import ZERO_PAGE, VmPage
from .param import (OBJT_DEVICE, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PG_FICTITIOUS, PG_REFERENCED,
                    VM_PROT_EXECUTE, VM_PROT_READ, VM_PROT_WRITE)
from ..mman import (MINCORE_INCORE, MINCORE_MODIFIED, MINCORE_MODIFIED_OTHER, MINCORE_REFERENCED,
                    MINCORE_REFERENCED_OTHER)

if TYPE_CHECKING:
    from .object import VmObject


NPTEPGSHIFT: Final = 9                   # log2 of the PTEs in a page-table page (amd64)
NPTEPG: Final = 1 << NPTEPGSHIFT         # PTEs per page-table page: one maps 2 MB
_PTE_INDEX: Final = NPTEPG - 1


class Pte:
    """A translation; also its page's pv entry (struct pv_entry names pv_pmap and pv_va), so the
    Pte carries its pmap and virtual page number and links its page's pv list (`pv_next`: the
    next translation of the same page, as pv_list's TAILQ_ENTRY)."""
    __slots__ = ("pmap", "vpn", "page", "prot", "wired", "ref", "mod", "pv_next")

    def __init__(self, pmap: Pmap, vpn: int, page: VmPage, prot: int, wired: bool) -> None:
        self.pmap = pmap
        self.vpn = vpn
        self.page = page
        self.prot = prot
        self.wired = wired
        self.ref = False
        self.mod = False
        self.pv_next: Pte | None = None


class PageTablePage:
    """A page-table page: the NPTEPG translation slots of one 2 MB region (slot i maps the
    region's i-th page) and how many are in use (amd64's mpte->wire_count).  It exists exactly
    while it maps something: _pmap_allocpte makes it for the first translation and
    _pmap_unwire_pte_hold frees it with the last."""
    __slots__ = ("slots", "count")

    def __init__(self) -> None:
        self.slots: list[Pte | None] = [None] * NPTEPG
        self.count = 0


_NO_PT_PAGE: Final = PageTablePage()     # what an empty paging-structure cache holds


class Pmap:
    """The pmap of one address space (struct pmap): its page-table pages, the resident and wired
    counts (pm_stats), and the invalidation callback of the CPU that runs it, if any."""

    def __init__(self, pv_zone: list[Pte] | None = None) -> None:
        """A pmap with no translations; its pv entries come from and go back to `pv_zone` (the
        system's, VmSystem.pv_zone; a private one when None)."""
        self.pv_zone: list[Pte] = [] if pv_zone is None else pv_zone
        # page-directory index (vpn >> NPTEPGSHIFT) -> its page-table page
        self.pt_pages: dict[int, PageTablePage] = {}
        self.resident_count = 0             # pm_stats.resident_count: translations
        self.wired_count = 0                # pm_stats.wired_count: wired translations
        self.on_invalidate: Callable[[int], object] | None = None  # the TLB shootdown of its CPU
        # the paging-structure cache: the page-table page pmap_pte walked to last, and its index
        # (-1: none); dropped when that page-table page is freed
        self.walk_index = -1
        self.walk_pt = _NO_PT_PAGE

    @property
    def ptes(self) -> dict[int, Pte]:
        """Every translation by virtual page number, ascending: a snapshot for inspection (the
        kernel's own lookups go through pmap_pte)."""
        return {(i << NPTEPGSHIFT) + j: pte for i in sorted(self.pt_pages)
                for j, pte in enumerate(self.pt_pages[i].slots) if pte is not None}

    @property
    def ptp(self) -> dict[int, int]:
        """Page-directory index -> translations in that page-table page: a snapshot."""
        return {i: pt.count for i, pt in self.pt_pages.items()}

    def vpns(self, sva: int, eva: int) -> list[int]:
        """The mapped virtual page numbers in [sva, eva), ascending."""
        found: list[int] = []
        for index, lo, hi in _pt_range(self, sva, eva):
            slots = self.pt_pages[index].slots
            base = index << NPTEPGSHIFT
            for i in range(lo, hi):
                if slots[i] is not None:
                    found.append(base + i)
        return found

    def _insert(self, vpn: int, pte: Pte) -> None:
        """A translation in an empty slot, with its pv entry (_pmap_allocpte makes the
        page-table page when it is the first)."""
        pt = _pt_page(self, vpn << PAGE_SHIFT)
        if pt is None:
            pt = self.pt_pages[vpn >> NPTEPGSHIFT] = PageTablePage()
        pt.slots[vpn & _PTE_INDEX] = pte
        pt.count += 1
        self.resident_count += 1
        _pv_insert(pte.page, pte)

    def _drop(self, vpn: int, pte: Pte) -> None:
        pmap_invalidate_page(self, vpn)
        m = pte.page
        pt = self.pt_pages[vpn >> NPTEPGSHIFT]
        pt.slots[vpn & _PTE_INDEX] = None
        pt.count -= 1
        if not pt.count:
            _free_pt_page(self, vpn >> NPTEPGSHIFT)
        self.resident_count -= 1
        _pv_remove(m, pte)
        _save_pte_bits(pte, m)
        if pte.wired:
            self.wired_count -= 1
        free_pv_entry(self, pte)


def pmap_pte(pmap: Pmap, va: int) -> Pte | None:
    """The translation of va, or None."""
    pt = _pt_page(pmap, va)
    if pt is None:
        return None
    return pt.slots[(va >> PAGE_SHIFT) & _PTE_INDEX]


def pmap_mmu_run(pmap: Pmap, va: int, end: int, write: bool) -> tuple[int, int]:
    """The MMU's walk for a user copy (copyin / copyout): from va up to end, the longest stretch
    that one piece of physical memory serves -- each page translated (writable, when `write`),
    managed (device memory is not in the physical buffer) and in the frame after the previous
    page's -- walked through the page-table pages' slots as the hardware walks the PTEs, setting
    each page's A bit, and its M bit when writing.  Returns (the physical address of va, the
    stretch's length in bytes); (-1, 0) when va's page is device memory the access may reach
    (the caller copies through the page), (0, 0) when it has no translation that allows it."""
    pt = _pt_page(pmap, va)
    if pt is None:
        return 0, 0
    slots = pt.slots
    i = (va >> PAGE_SHIFT) & _PTE_INDEX
    page_va = va & ~PAGE_MASK
    start = -1                  # the physical address of va, once its page qualified
    frame = 0                   # the physical address of the last page taken
    while True:
        pte = slots[i]
        if pte is None or (write and not pte.prot & VM_PROT_WRITE):
            break
        page = pte.page
        if page.flags & PG_FICTITIOUS:
            if start < 0:
                return -1, 0
            break
        if start < 0:
            start = page.phys_addr + (va & PAGE_MASK)
        elif page.phys_addr != frame + PAGE_SIZE:
            break
        frame = page.phys_addr
        pte.ref = True
        if write:
            pte.mod = True
        page_va += PAGE_SIZE
        if page_va >= end:
            return start, end - va
        i += 1
        if i == NPTEPG:                         # on into the next page-table page
            pt = _pt_page(pmap, page_va)
            if pt is None:
                break
            slots = pt.slots
            i = 0
    if start < 0:
        return 0, 0
    return start, page_va - va


def _pt_page(pmap: Pmap, va: int) -> PageTablePage | None:
    """The page-table page that maps va, or None: the walk through the one-entry
    paging-structure cache, which brings a copy over a run of pages, or a fault's look at its
    neighbours, to one hash lookup per 2 MB."""
    index = va >> (PAGE_SHIFT + NPTEPGSHIFT)
    if index == pmap.walk_index:
        return pmap.walk_pt
    pt = pmap.pt_pages.get(index)
    if pt is not None:
        pmap.walk_pt = pt
        pmap.walk_index = index
    return pt


def _free_pt_page(pmap: Pmap, index: int) -> None:
    """_pmap_unwire_pte_hold: the page-table page at index holds no translation any more; it goes,
    and out of the paging-structure cache."""
    del pmap.pt_pages[index]
    if pmap.walk_index == index:
        pmap.walk_index = -1
        pmap.walk_pt = _NO_PT_PAGE


def _pt_range(pmap: Pmap, sva: int, eva: int) -> list[tuple[int, int, int]]:
    """The page-table pages that map something in [sva, eva), ascending, each as (page-directory
    index, first slot, end slot) of the range within it.  Empty 2 MB regions are skipped without
    a look, as amd64's loops skip a zero PDE: the cost is O(min(2 MB regions in the range,
    page-table pages)), never O(range)."""
    lo, hi = sva >> PAGE_SHIFT, (eva + PAGE_MASK) >> PAGE_SHIFT
    if lo >= hi:
        return []
    first, last = lo >> NPTEPGSHIFT, (hi - 1) >> NPTEPGSHIFT
    pt_pages = pmap.pt_pages
    if last - first < len(pt_pages):
        indices = [i for i in range(first, last + 1) if i in pt_pages]
    else:
        indices = sorted(i for i in pt_pages if first <= i <= last)
    out: list[tuple[int, int, int]] = []
    for i in indices:
        base = i << NPTEPGSHIFT
        out.append((i, lo - base if i == first else 0, hi - base if i == last else NPTEPG))
    return out


# The pv-entry zone (uma_zone "PV ENTRY"): translations that went are kept in their system's cache
# (VmSystem.pv_zone, under that kernel's giant lock), up to PV_CACHE_MAX, and handed out again, so
# that the translations a fork makes and its child's exit removes are the same objects over and
# over.  Besides the allocation, this spares CPython's cyclic collector: new long-lived objects by
# the thousand (a fork of a large address space) would trigger its full collections, whose cost is
# the whole heap.  A cached entry names no pmap and no page.
PV_CACHE_MAX: Final = 1 << 16
_NO_PMAP: Final = Pmap()
_NO_PAGE: Final = VmPage(None, 0, None, 0)


def get_pv_entry(pmap: Pmap, vpn: int, m: VmPage, prot: int, wired: bool) -> Pte:
    """A translation of vpn to m in pmap, with A and M clear: a cached entry, or a new one."""
    zone = pmap.pv_zone
    if not zone:
        return Pte(pmap, vpn, m, prot, wired)
    pte = zone.pop()
    pte.pmap = pmap
    pte.vpn = vpn
    pte.page = m
    pte.prot = prot
    pte.wired = wired
    pte.ref = False
    pte.mod = False
    return pte


def free_pv_entry(pmap: Pmap, pte: Pte) -> None:
    """A translation of pmap that went (out of its page-table page and its page's pv list): back
    to the zone's cache, naming nothing, unless the cache is full."""
    zone = pmap.pv_zone
    if len(zone) < PV_CACHE_MAX:
        pte.pmap = _NO_PMAP
        pte.page = _NO_PAGE
        zone.append(pte)


def _pv_insert(m: VmPage, pte: Pte) -> None:
    """TAILQ_INSERT_TAIL(&m->md.pv_list, pv, pv_list): a translation's pv entry goes last on its
    page's list (a page has few translations; the common case, one or two)."""
    pte.pv_next = None
    last = m.pv_first
    if last is None:
        m.pv_first = pte
        return
    while last.pv_next is not None:
        last = last.pv_next
    last.pv_next = pte


def _pv_remove(m: VmPage, pte: Pte) -> None:
    """pmap_pvh_remove: unlink a translation's pv entry from its page's list, found by walking
    the list."""
    prev: Pte | None = None
    cur = m.pv_first
    while cur is not None:
        if cur is pte:
            if prev is None:
                m.pv_first = cur.pv_next
            else:
                prev.pv_next = cur.pv_next
            pte.pv_next = None
            return
        prev = cur
        cur = cur.pv_next
    raise AssertionError("pmap_pvh_remove: no such pv entry")


def pmap_invalidate_page(pmap: Pmap, vpn: int) -> None:
    """pmap_invalidate_page: a translation of vpn went or lost rights or A/M bits; the CPU running
    this pmap, if one registered `on_invalidate`, drops what its TLB holds of it.  (pmap_remove and
    pmap_protect bind the callback once for their whole range.)"""
    if pmap.on_invalidate is not None:
        pmap.on_invalidate(vpn)


def _save_pte_bits(pte: Pte, m: VmPage) -> None:
    """pmap_remove_pte / pmap_protect / pmap_enter: the A and M bits of a translation that goes
    or is cleared pass to its page when managed (A as PG_REFERENCED, M as the dirty field); an
    unmanaged (device) page keeps no such state."""
    if not m.flags & PG_FICTITIOUS:
        if pte.mod:
            m.dirty = True
        if pte.ref:
            m.flags |= PG_REFERENCED


_PTE_BITS: Final = VM_PROT_WRITE | VM_PROT_EXECUTE     # what a PTE encodes of prot: PG_RW and (not) PG_NX


def pmap_enter(pmap: Pmap, va: int, m: VmPage, prot: int, wired: bool) -> None:
    """PMAP-1: create or replace the translation of va.  As amd64's pmap_enter, a translation
    that is new or whose page, PG_RW, PG_NX or PG_W changes is stored with PG_A set and PG_M
    clear (the old A and M of a managed page go to PG_REFERENCED and its dirty field); one that
    would not change keeps its A and M bits."""
    vpn = va >> PAGE_SHIFT
    old = pmap_pte(pmap, va)
    if old is not None:
        if old.page is not m:
            # A new page in the same PTE slot: the old page's pv entry goes (with the old A and M
            # bits, when managed) and the page-table page's count stays as it was -- amd64 drops
            # the reference it took for the slot (mpte->wire_count--).  The slot is rewritten in
            # place and its pv entry moves to the new page.
            pmap_invalidate_page(pmap, vpn)
            om = old.page
            _pv_remove(om, old)
            _save_pte_bits(old, om)
            if old.wired != wired:
                pmap.wired_count += 1 if wired else -1
            old.page = m
            old.prot = prot
            old.wired = wired
            old.ref = True
            old.mod = False
            _pv_insert(m, old)
            return
        else:
            if old.wired == wired and (old.prot & _PTE_BITS) == (prot & _PTE_BITS):
                old.prot = prot
                return
            if old.wired != wired:
                pmap.wired_count += 1 if wired else -1
            pmap_invalidate_page(pmap, vpn)
            _save_pte_bits(old, m)
            old.prot = prot
            old.wired = wired
            old.ref = True
            old.mod = False
            return
    pte = get_pv_entry(pmap, vpn, m, prot, wired)
    pte.ref = True
    pmap._insert(vpn, pte)
    if wired:
        pmap.wired_count += 1


def pmap_enter_quick(pmap: Pmap, va: int, m: VmPage, prot: int) -> None:
    """PMAP-4: a read-only, unwired translation, only if none exists."""
    if pmap_pte(pmap, va) is not None:
        return
    vpn = va >> PAGE_SHIFT
    pmap._insert(vpn, get_pv_entry(pmap, vpn, m, prot & ~VM_PROT_WRITE, False))    # no PG_A


def pmap_remove(pmap: Pmap, sva: int, eva: int) -> None:
    """PMAP-2: Pmap._drop for each translation of the range, one page-table page at a time (its
    count settled once, an emptied one freed), as amd64's loop over the PDEs; the whole address
    space goes this way at exit."""
    inval = pmap.on_invalidate
    pt_pages = pmap.pt_pages
    removed = 0
    wired = 0
    for index, lo, hi in _pt_range(pmap, sva, eva):
        pt = pt_pages[index]
        slots = pt.slots
        base = index << NPTEPGSHIFT
        left = pt.count
        for i in range(lo, hi):
            pte = slots[i]
            if pte is None:
                continue
            if inval is not None:
                inval(base + i)
            slots[i] = None
            m = pte.page
            _pv_remove(m, pte)
            _save_pte_bits(pte, m)
            if pte.wired:
                wired += 1
            free_pv_entry(pmap, pte)
            left -= 1
            if not left:
                break
        removed += pt.count - left
        if left:
            pt.count = left
        else:
            _free_pt_page(pmap, index)
    pmap.resident_count -= removed
    pmap.wired_count -= wired


def pmap_remove_all(m: VmPage) -> None:
    """Remove every translation of m (its pv list empties)."""
    pte = m.pv_first
    while pte is not None:
        pte.pmap._drop(pte.vpn, pte)        # unlinks pte: the list's head moves on
        pte = m.pv_first


def pmap_protect(pmap: Pmap, sva: int, eva: int, prot: int) -> None:
    """PMAP-3: only ever removes rights.  Removing write access also clears the A bit of every
    managed translation in the range, moving it to the page's PG_REFERENCED (amd64's
    pmap_protect), and moves M to the page's dirty field."""
    if not prot & VM_PROT_READ:
        pmap_remove(pmap, sva, eva)
        return
    if prot & VM_PROT_WRITE:
        return
    inval = pmap.on_invalidate
    pt_pages = pmap.pt_pages
    for index, lo, hi in _pt_range(pmap, sva, eva):
        slots = pt_pages[index].slots
        base = index << NPTEPGSHIFT
        for i in range(lo, hi):
            pte = slots[i]
            if pte is None:
                continue
            if inval is not None:
                inval(base + i)
            _save_pte_bits(pte, pte.page)
            pte.ref = False
            pte.mod = False
            pte.prot &= prot


def pmap_page_protect(m: VmPage, prot: int) -> None:
    """Write-protect (prot has READ) or remove (prot lacks READ) every translation of m."""
    if not prot & VM_PROT_READ:
        pmap_remove_all(m)
        return
    if prot & VM_PROT_WRITE:
        return
    pte = m.pv_first
    while pte is not None:
        if pte.mod:
            m.dirty = True
            pte.mod = False
        pte.prot &= ~VM_PROT_WRITE
        pmap_invalidate_page(pte.pmap, pte.vpn)
        pte = pte.pv_next


def pmap_zero_page(m: VmPage) -> None:
    """Fill a page's bytes with zeros (through the direct map, as amd64 does)."""
    frames = m.frames
    assert frames is not None                   # a live page
    frames[m.offset:m.offset + PAGE_SIZE] = ZERO_PAGE


_HOST_MAPPING: Final = mmap.mmap     # physical memory's host type (a static: no module lookup)


def pmap_copy_page(src: VmPage, dst: VmPage) -> None:
    """Copy a page's bytes into another page (a copy-on-write fault's copy).  Two frames of
    physical memory are copied inside its host mapping (mmap.move), without a view of either."""
    sf, df = src.frames, dst.frames
    assert sf is not None and df is not None     # live pages
    host = sf.obj
    if sf is df and type(host) is _HOST_MAPPING:
        host.move(dst.offset, src.offset, PAGE_SIZE)
    else:
        df[dst.offset:dst.offset + PAGE_SIZE] = sf[src.offset:src.offset + PAGE_SIZE]


def pmap_is_modified(m: VmPage) -> bool:
    """Is M set in any translation of m?  Always False for an unmanaged (device) page."""
    if m.flags & PG_FICTITIOUS:
        return False
    pte = m.pv_first
    while pte is not None:
        if pte.mod:
            return True
        pte = pte.pv_next
    return False


def pmap_clear_modify(m: VmPage) -> None:
    if m.flags & PG_FICTITIOUS:
        return
    pte = m.pv_first
    while pte is not None:
        pte.mod = False
        pmap_invalidate_page(pte.pmap, pte.vpn)
        pte = pte.pv_next


def pmap_clear_reference(m: VmPage) -> None:
    """Clear the A bit of every translation of m (a managed page)."""
    if m.flags & PG_FICTITIOUS:
        return
    pte = m.pv_first
    while pte is not None:
        pte.ref = False
        pmap_invalidate_page(pte.pmap, pte.vpn)
        pte = pte.pv_next


def pmap_is_prefaultable(pmap: Pmap, va: int) -> bool:
    """amd64: va has no translation, but its page-table page exists (something else in the same
    2 MB is mapped)."""
    pt = _pt_page(pmap, va)
    return pt is not None and pt.slots[(va >> PAGE_SHIFT) & _PTE_INDEX] is None


def pmap_copy(dst: Pmap, src: Pmap, dst_addr: int, length: int, src_addr: int,
              free_count: int, free_reserved: int) -> None:
    """PMAP-10 (amd64): at fork, copy the source's translations of managed pages into the
    (empty) destination range, without the W, M and A bits.  Advisory: nothing is copied when the
    addresses differ, or once free memory is below v_free_reserved.  Within one page-table page
    (2 MB) the copy stops as soon as the destination's page-table page holds as many translations
    as the source's (`dstmpte->wire_count >= srcmpte->wire_count`): translations the destination
    got otherwise -- vm_fault_copy_entry's copies of wired pages the source has no translation
    for -- cut the copy short, and the child faults on the pages left over."""
    if dst_addr != src_addr or free_count < free_reserved:
        return
    # One page-table page at a time, as amd64's loop; Pmap._insert is spelt out, with the
    # destination's page-table page and count held in locals: this loop runs once per resident
    # page at every fork.
    src_pages = src.pt_pages
    dst_pages = dst.pt_pages
    copied = 0
    for index, lo, hi in _pt_range(src, src_addr, src_addr + length):
        src_pt = src_pages[index]
        src_slots = src_pt.slots
        limit = src_pt.count
        dst_pt = dst_pages.get(index)
        if dst_pt is None:
            dst_pt = PageTablePage()
        dst_slots = dst_pt.slots
        have = dst_pt.count
        base = index << NPTEPGSHIFT
        for i in range(lo, hi):
            pte = src_slots[i]
            if pte is None:
                continue
            m = pte.page
            if m.flags & PG_FICTITIOUS:
                continue                    # only managed pages are copied
            if dst_slots[i] is None:
                copy = get_pv_entry(dst, base + i, m, pte.prot, False)
                dst_slots[i] = copy
                _pv_insert(m, copy)
                have += 1
                copied += 1
            if have >= limit:
                break
        if have and dst_pt.count == 0:
            dst_pages[index] = dst_pt
        dst_pt.count = have
    dst.resident_count += copied


def pmap_ts_referenced(m: VmPage) -> int:
    """PMAP-6: count and clear A bits (stops after 5).  Unmanaged pages have none."""
    if m.flags & PG_FICTITIOUS:
        return 0
    n = 0
    pte = m.pv_first
    while pte is not None:
        if pte.ref:
            pte.ref = False
            pmap_invalidate_page(pte.pmap, pte.vpn)
            n += 1
            if n >= 5:
                break
        pte = pte.pv_next
    return n


def pmap_change_wiring(pmap: Pmap, va: int, wired: bool) -> None:
    pte = pmap_pte(pmap, va)
    if pte is None or pte.wired == wired:
        return
    pte.wired = wired
    pmap.wired_count += 1 if wired else -1


def pmap_mincore(pmap: Pmap, va: int) -> int:
    """PMAP-7."""
    pte = pmap_pte(pmap, va)
    if pte is None:
        return 0
    val = MINCORE_INCORE
    m = pte.page
    if m.flags & PG_FICTITIOUS:
        return val
    if pte.mod:
        val |= MINCORE_MODIFIED | MINCORE_MODIFIED_OTHER
    elif m.dirty or pmap_is_modified(m):
        val |= MINCORE_MODIFIED_OTHER
    if pte.ref:
        val |= MINCORE_REFERENCED | MINCORE_REFERENCED_OTHER
    elif (m.flags & PG_REFERENCED) or pmap_ts_referenced(m):
        m.flags |= PG_REFERENCED
        val |= MINCORE_REFERENCED_OTHER
    return val


def pmap_wired_count(pmap: Pmap) -> int:
    return pmap.wired_count


def pmap_addr_hint(obj: VmObject | None, addr: int, size: int, nbpdr: int) -> int:
    """PMAP-9: device objects of at least a superpage are aligned to one."""
    if obj is None or obj.type != OBJT_DEVICE or size < nbpdr:
        return addr
    return (addr + nbpdr - 1) & ~(nbpdr - 1)
