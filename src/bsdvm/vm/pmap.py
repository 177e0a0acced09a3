"""The (software) pmap: per-address-space translations with x86-like semantics (spec section 8).

A translation (Pte) names a page, the protection it was entered with, whether it is wired, and the
referenced (A) and modified (M) bits that the "MMU" (the user-memory access path) sets.  As on
i386/amd64, a present translation is always readable; only WRITE is enforced by the hardware.
Invariants: `wired_count` equals the number of wired translations; every translation appears in its
page's `pv` set and vice versa; removing a translation moves M to the page's dirty state and A to
PG_REFERENCED.  Range operations cost O(min(pages in range, translations)), never O(range).
Every change that removes or reduces a translation (remove, protect, a replaced page, clear_modify,
ts_referenced) calls the pmap's `on_invalidate(vpn)` if a CPU has registered one (pmap_invalidate_*: a
CPU's TLB may hold the old translation).
May call: vm.page (queues only through the page flags).
"""
from __future__ import annotations

from .param import (OBJT_DEVICE, PAGE_SHIFT, PG_FICTITIOUS, PG_REFERENCED, VM_PROT_READ, VM_PROT_WRITE)
from ..mman import (MINCORE_INCORE, MINCORE_MODIFIED, MINCORE_MODIFIED_OTHER, MINCORE_REFERENCED,
                    MINCORE_REFERENCED_OTHER)


class Pte:
    __slots__ = ("page", "prot", "wired", "ref", "mod")

    def __init__(self, page, prot, wired):
        self.page = page
        self.prot = prot
        self.wired = wired
        self.ref = False
        self.mod = False


class Pmap:
    def __init__(self):
        self.ptes: dict[int, Pte] = {}      # virtual page number -> translation
        self.wired_count = 0
        self.on_invalidate = None           # the TLB shootdown of the CPU running this pmap

    @property
    def resident_count(self) -> int:
        return len(self.ptes)

    def _vpns(self, sva: int, eva: int):
        """The mapped virtual page numbers in [sva, eva), cheapest way round."""
        lo, hi = sva >> PAGE_SHIFT, (eva + 4095) >> PAGE_SHIFT
        if hi - lo <= len(self.ptes):
            ptes = self.ptes
            return [v for v in range(lo, hi) if v in ptes]
        return sorted(v for v in self.ptes if lo <= v < hi)

    def _drop(self, vpn: int, pte: Pte) -> None:
        if self.on_invalidate is not None:
            self.on_invalidate(vpn)
        m = pte.page
        del self.ptes[vpn]
        m.pv.pop((self, vpn), None)
        if pte.mod:
            m.dirty = True
        if pte.ref:
            m.flags |= PG_REFERENCED
        if pte.wired:
            self.wired_count -= 1


def pmap_enter(pmap: Pmap, va: int, m, prot: int, wired: bool) -> None:
    """PMAP-1: create or replace the translation of va."""
    vpn = va >> PAGE_SHIFT
    old = pmap.ptes.get(vpn)
    if old is not None:
        if old.page is not m:
            pmap._drop(vpn, old)
        else:
            if old.wired != wired:
                pmap.wired_count += 1 if wired else -1
            if old.prot & ~prot and pmap.on_invalidate is not None:
                pmap.on_invalidate(vpn)
            old.prot = prot
            old.wired = wired
            return
    pte = Pte(m, prot, wired)
    pmap.ptes[vpn] = pte
    m.pv[(pmap, vpn)] = None
    if wired:
        pmap.wired_count += 1


def pmap_enter_quick(pmap: Pmap, va: int, m, prot: int) -> None:
    """PMAP-4: a read-only, unwired translation, only if none exists."""
    vpn = va >> PAGE_SHIFT
    if vpn in pmap.ptes:
        return
    pte = Pte(m, prot & ~VM_PROT_WRITE, False)
    pmap.ptes[vpn] = pte
    m.pv[(pmap, vpn)] = None


def pmap_remove(pmap: Pmap, sva: int, eva: int) -> None:
    """PMAP-2."""
    ptes = pmap.ptes
    for vpn in pmap._vpns(sva, eva):
        pmap._drop(vpn, ptes[vpn])


def pmap_remove_all(m) -> None:
    for (pmap, vpn) in list(m.pv):
        pmap._drop(vpn, pmap.ptes[vpn])


def pmap_protect(pmap: Pmap, sva: int, eva: int, prot: int) -> None:
    """PMAP-3: only ever removes rights."""
    if not prot & VM_PROT_READ:
        pmap_remove(pmap, sva, eva)
        return
    if prot & VM_PROT_WRITE:
        return
    ptes = pmap.ptes
    inval = pmap.on_invalidate
    for vpn in pmap._vpns(sva, eva):
        if inval is not None:
            inval(vpn)
        pte = ptes[vpn]
        if pte.mod:
            pte.page.dirty = True
            pte.mod = False
        pte.prot &= prot


def pmap_page_protect(m, prot: int) -> None:
    """Write-protect (prot has READ) or remove (prot lacks READ) every translation of m."""
    if not prot & VM_PROT_READ:
        pmap_remove_all(m)
        return
    if prot & VM_PROT_WRITE:
        return
    for (pmap, vpn) in m.pv:
        pte = pmap.ptes[vpn]
        if pte.mod:
            m.dirty = True
            pte.mod = False
        pte.prot &= ~VM_PROT_WRITE
        if pmap.on_invalidate is not None:
            pmap.on_invalidate(vpn)


def pmap_is_modified(m) -> bool:
    for (pmap, vpn) in m.pv:
        if pmap.ptes[vpn].mod:
            return True
    return False


def pmap_clear_modify(m) -> None:
    for (pmap, vpn) in m.pv:
        pmap.ptes[vpn].mod = False
        if pmap.on_invalidate is not None:
            pmap.on_invalidate(vpn)


def pmap_ts_referenced(m) -> int:
    """PMAP-6: count and clear A bits (stops after 5)."""
    n = 0
    for (pmap, vpn) in m.pv:
        pte = pmap.ptes[vpn]
        if pte.ref:
            pte.ref = False
            if pmap.on_invalidate is not None:
                pmap.on_invalidate(vpn)
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


def pmap_extract(pmap: Pmap, va: int):
    pte = pmap.ptes.get(va >> PAGE_SHIFT)
    return pte.page if pte is not None else None


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


def pmap_addr_hint(obj, addr: int, size: int, nbpdr: int) -> int:
    """PMAP-9: device objects of at least a superpage are aligned to one."""
    if obj is None or obj.type != OBJT_DEVICE or size < nbpdr:
        return addr
    return (addr + nbpdr - 1) & ~(nbpdr - 1)
