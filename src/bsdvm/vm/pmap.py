"""The (software) pmap: per-address-space translations with x86-like semantics (spec section 8).

A translation (Pte) names a page, the protection it was entered with, whether it is wired, and the
referenced (A) and modified (M) bits that the "MMU" (the user-memory access path) sets.  As on
i386/amd64, a present translation is always readable; only WRITE is enforced by the hardware.
Invariants: `wired_count` equals the number of wired translations; every translation appears in its
page's `pv` set and vice versa; removing a translation of a managed page moves M to the page's dirty
state and A to PG_REFERENCED.  Device (fictitious) pages are unmanaged, as in amd64's pmap: their A
and M bits are never consulted or transferred (pmap_is_modified, pmap_ts_referenced see nothing).
`ptp` counts the translations of each 2 MB page-table page, so that a page-table page exists
exactly while it maps something (pmap_is_prefaultable).
Range operations cost O(min(pages in range, translations)), never O(range).
Every change that removes or reduces a translation or clears its A/M bits (remove, protect, a
replaced page or re-entered translation, clear_modify, clear_reference, ts_referenced) calls the
pmap's `on_invalidate(vpn)` if a CPU has registered one (pmap_invalidate_*: a CPU's TLB may hold
the old translation).
May call: vm.page (queues only through the page flags).
"""
from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING, Callable, Final

from .param import (OBJT_DEVICE, PAGE_MASK, PAGE_SHIFT, PG_FICTITIOUS, PG_REFERENCED,
                    VM_PROT_EXECUTE, VM_PROT_READ, VM_PROT_WRITE)
from ..mman import (MINCORE_INCORE, MINCORE_MODIFIED, MINCORE_MODIFIED_OTHER, MINCORE_REFERENCED,
                    MINCORE_REFERENCED_OTHER)

if TYPE_CHECKING:
    from .object import VmObject
    from .page import VmPage


class Pte:
    """A translation; also its page's pv entry (struct pv_entry names pv_pmap and pv_va), so the
    Pte carries its pmap and virtual page number and is the key of its page's `pv` dict."""
    __slots__ = ("pmap", "vpn", "page", "prot", "wired", "ref", "mod")

    def __init__(self, pmap: Pmap, vpn: int, page: VmPage, prot: int, wired: bool) -> None:
        self.pmap = pmap
        self.vpn = vpn
        self.page = page
        self.prot = prot
        self.wired = wired
        self.ref = False
        self.mod = False


class Pmap:
    def __init__(self) -> None:
        self.ptes: dict[int, Pte] = {}      # virtual page number -> translation
        self.wired_count = 0
        self.on_invalidate: Callable[[int], object] | None = None  # the TLB shootdown of its CPU
        self.ptp: dict[int, int] = {}       # page-table page (vpn >> 9) -> translations in it

    @property
    def resident_count(self) -> int:
        return len(self.ptes)

    def vpns(self, sva: int, eva: int) -> list[int]:
        """The mapped virtual page numbers in [sva, eva), cheapest way round."""
        lo, hi = sva >> PAGE_SHIFT, (eva + PAGE_MASK) >> PAGE_SHIFT
        if hi - lo <= len(self.ptes):
            ptes = self.ptes
            return [v for v in range(lo, hi) if v in ptes]
        return sorted(v for v in self.ptes if lo <= v < hi)

    def _insert(self, vpn: int, pte: Pte) -> None:
        self.ptes[vpn] = pte
        pte.page.pv[pte] = None
        self.ptp[vpn >> 9] = self.ptp.get(vpn >> 9, 0) + 1

    def _drop(self, vpn: int, pte: Pte) -> None:
        pmap_invalidate_page(self, vpn)
        m = pte.page
        del self.ptes[vpn]
        m.pv.pop(pte, None)
        n = self.ptp[vpn >> 9] - 1
        if n:
            self.ptp[vpn >> 9] = n
        else:
            del self.ptp[vpn >> 9]          # _pmap_unwire_pte_hold frees the empty page-table page
        _save_pte_bits(pte, m)
        if pte.wired:
            self.wired_count -= 1


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
    old = pmap.ptes.get(vpn)
    if old is not None:
        if old.page is not m:
            # A new page in the same PTE slot: the old page's pv entry goes (with the old A and M
            # bits, when managed) and the page-table page's count stays as it was -- amd64 drops
            # the reference it took for the slot (mpte->wire_count--).
            pmap_invalidate_page(pmap, vpn)
            om = old.page
            del om.pv[old]
            _save_pte_bits(old, om)
            if old.wired != wired:
                pmap.wired_count += 1 if wired else -1
            pte = Pte(pmap, vpn, m, prot, wired)
            pte.ref = True
            pmap.ptes[vpn] = pte
            m.pv[pte] = None
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
    pte = Pte(pmap, vpn, m, prot, wired)
    pte.ref = True
    pmap._insert(vpn, pte)
    if wired:
        pmap.wired_count += 1


def pmap_enter_quick(pmap: Pmap, va: int, m: VmPage, prot: int) -> None:
    """PMAP-4: a read-only, unwired translation, only if none exists."""
    vpn = va >> PAGE_SHIFT
    if vpn in pmap.ptes:
        return
    pmap._insert(vpn, Pte(pmap, vpn, m, prot & ~VM_PROT_WRITE, False))     # no PG_A


def pmap_remove(pmap: Pmap, sva: int, eva: int) -> None:
    """PMAP-2.  Pmap._drop for each translation of the range, with the pmap's tables held in
    locals and each page-table page's count settled once per run of translations in it (the
    whole address space goes this way at exit)."""
    ptes = pmap.ptes
    ptp = pmap.ptp
    inval = pmap.on_invalidate
    cur = -1                                # the page-table page being emptied, and its count
    left = 0
    wired = 0
    for vpn in pmap.vpns(sva, eva):
        if inval is not None:
            inval(vpn)
        pte = ptes.pop(vpn)
        m = pte.page
        del m.pv[pte]
        if vpn >> 9 != cur:
            if cur >= 0:
                _settle_ptp(ptp, cur, left)
            cur = vpn >> 9
            left = ptp[cur]
        left -= 1
        _save_pte_bits(pte, m)
        if pte.wired:
            wired += 1
    if cur >= 0:
        _settle_ptp(ptp, cur, left)
    pmap.wired_count -= wired


def _settle_ptp(ptp: dict[int, int], index: int, count: int) -> None:
    """Store a page-table page's new translation count; an empty one is freed
    (_pmap_unwire_pte_hold)."""
    if count:
        ptp[index] = count
    else:
        del ptp[index]


def pmap_remove_all(m: VmPage) -> None:
    for pte in list(m.pv):
        pte.pmap._drop(pte.vpn, pte)


def pmap_protect(pmap: Pmap, sva: int, eva: int, prot: int) -> None:
    """PMAP-3: only ever removes rights.  Removing write access also clears the A bit of every
    managed translation in the range, moving it to the page's PG_REFERENCED (amd64's
    pmap_protect), and moves M to the page's dirty field."""
    if not prot & VM_PROT_READ:
        pmap_remove(pmap, sva, eva)
        return
    if prot & VM_PROT_WRITE:
        return
    ptes = pmap.ptes
    inval = pmap.on_invalidate
    for vpn in pmap.vpns(sva, eva):
        if inval is not None:
            inval(vpn)
        pte = ptes[vpn]
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
    for pte in m.pv:
        if pte.mod:
            m.dirty = True
            pte.mod = False
        pte.prot &= ~VM_PROT_WRITE
        pmap_invalidate_page(pte.pmap, pte.vpn)


def pmap_is_modified(m: VmPage) -> bool:
    """Is M set in any translation of m?  Always False for an unmanaged (device) page."""
    if m.flags & PG_FICTITIOUS:
        return False
    for pte in m.pv:
        if pte.mod:
            return True
    return False


def pmap_clear_modify(m: VmPage) -> None:
    if m.flags & PG_FICTITIOUS:
        return
    for pte in m.pv:
        pte.mod = False
        pmap_invalidate_page(pte.pmap, pte.vpn)


def pmap_clear_reference(m: VmPage) -> None:
    """Clear the A bit of every translation of m (a managed page)."""
    if m.flags & PG_FICTITIOUS:
        return
    for pte in m.pv:
        pte.ref = False
        pmap_invalidate_page(pte.pmap, pte.vpn)


def pmap_is_prefaultable(pmap: Pmap, va: int) -> bool:
    """amd64: va has no translation, but its page-table page exists (something else in the same
    2 MB is mapped)."""
    vpn = va >> PAGE_SHIFT
    return vpn not in pmap.ptes and (vpn >> 9) in pmap.ptp


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
    # One page-table page at a time, as amd64's loop: its run of source translations is found by
    # bisection, and the destination's count (dstmpte->wire_count) is kept in a local and stored
    # once.  Pmap._insert is spelt out: this loop runs once per resident page at every fork.
    src_ptes = src.ptes
    dst_ptes = dst.ptes
    src_ptp = src.ptp
    dst_ptp = dst.ptp
    vpns = src.vpns(src_addr, src_addr + length)
    i = 0
    n = len(vpns)
    while i < n:
        ptp = vpns[i] >> 9
        j = bisect_left(vpns, (ptp + 1) << 9, i, n)
        have = dst_ptp.get(ptp, 0)
        limit = src_ptp[ptp]
        for vpn in vpns[i:j]:
            pte = src_ptes[vpn]
            m = pte.page
            if m.flags & PG_FICTITIOUS:
                continue                    # only managed pages are copied
            if vpn not in dst_ptes:
                copy = Pte(dst, vpn, m, pte.prot, False)
                dst_ptes[vpn] = copy
                m.pv[copy] = None
                have += 1
            if have >= limit:
                break
        if have:
            dst_ptp[ptp] = have
        i = j


def pmap_ts_referenced(m: VmPage) -> int:
    """PMAP-6: count and clear A bits (stops after 5).  Unmanaged pages have none."""
    if m.flags & PG_FICTITIOUS:
        return 0
    n = 0
    for pte in m.pv:
        if pte.ref:
            pte.ref = False
            pmap_invalidate_page(pte.pmap, pte.vpn)
            n += 1
            if n >= 5:
                break
    return n


def pmap_change_wiring(pmap: Pmap, va: int, wired: bool) -> None:
    pte = pmap.ptes.get(va >> PAGE_SHIFT)
    if pte is None or pte.wired == wired:
        return
    pte.wired = wired
    pmap.wired_count += 1 if wired else -1


def pmap_mincore(pmap: Pmap, va: int) -> int:
    """PMAP-7."""
    pte = pmap.ptes.get(va >> PAGE_SHIFT)
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
