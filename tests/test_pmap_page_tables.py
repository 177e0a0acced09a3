"""The pmap keeps its translations in page-table pages, as amd64 does: one per 2 MB region that maps
something, made with its first translation and freed with its last; range operations visit only
the page-table pages present in the range; pmap_pte's one-entry paging-structure cache never
answers from a freed page-table page; resident_count counts translations; a translation that went
waits in the pv-entry zone's cache, naming no pmap and no page, for the next one."""
from __future__ import annotations

from bsdvm.vm import pmap as pm
from bsdvm.vm.param import PAGE_SHIFT, VM_PROT_READ, VM_PROT_WRITE
from pmaputil import object_pages, release

RW = VM_PROT_READ | VM_PROT_WRITE
NPTE = pm.NPTEPG
REGION = NPTE << PAGE_SHIFT                 # what one page-table page maps: 2 MB


def test_the_walk_cache_never_answers_from_a_freed_page_table_page(k):
    o, (m0, m1) = object_pages(k, 2)
    a = pm.Pmap()
    va = 5 * REGION + 3 * 4096
    pm.pmap_enter(a, va, m0, RW, False)
    first = pm.pmap_pte(a, va)
    assert first is not None and first.page is m0          # the walk is cached now
    pm.pmap_remove(a, va, va + 4096)                        # frees the page-table page
    assert a.pt_pages == {} and pm.pmap_pte(a, va) is None
    pm.pmap_enter(a, va + 4096, m1, RW, False)              # a new page-table page, same region
    assert pm.pmap_pte(a, va) is None
    second = pm.pmap_pte(a, va + 4096)
    assert second is not None and second.page is m1
    a._drop(second.vpn, second)                             # the other way a page-table page goes
    assert pm.pmap_pte(a, va + 4096) is None and a.resident_count == 0
    release(o, (m0, m1))


def test_a_range_over_sparse_regions_touches_only_what_is_mapped(k):
    o, ps = object_pages(k, 4)
    a = pm.Pmap()
    # entered out of address order, in regions far apart: the walk still goes in address order
    vas = [900 * REGION + 7 * 4096, 2 * REGION, 2 * REGION + (NPTE - 1) * 4096, 40_000 * REGION]
    for va, m in zip(vas, ps, strict=True):
        pm.pmap_enter(a, va, m, RW, False)
    everything = (0, 1 << 47)
    assert a.vpns(*everything) == sorted(va >> PAGE_SHIFT for va in vas)
    assert a.vpns(2 * REGION + 4096, 3 * REGION) == [(2 * REGION >> PAGE_SHIFT) + NPTE - 1]
    assert list(a.ptes) == sorted(va >> PAGE_SHIFT for va in vas) and a.resident_count == 4
    assert a.ptp == {2: 2, 900: 1, 40_000: 1}
    pm.pmap_protect(a, *everything, VM_PROT_READ)
    assert all(not pte.prot & VM_PROT_WRITE for pte in a.ptes.values())
    pm.pmap_remove(a, 2 * REGION + 4096, 1 << 47)           # all but the first slot of region 2
    assert list(a.ptes) == [2 * REGION >> PAGE_SHIFT] and a.ptp == {2: 1}
    assert a.resident_count == 1 and not ps[0].pv and not ps[3].pv and ps[1].pv
    release(o, ps)


def test_copy_of_part_of_a_region_copies_only_the_slots_in_range(k):
    o, ps = object_pages(k, 4)
    src, dst = pm.Pmap(), pm.Pmap()
    for i, m in enumerate(ps):
        pm.pmap_enter(src, REGION + i * 4096, m, RW, False)
    pm.pmap_copy(dst, src, REGION + 4096, 2 * 4096, REGION + 4096, 100, 0)
    assert list(dst.ptes) == [(REGION >> PAGE_SHIFT) + 1, (REGION >> PAGE_SHIFT) + 2]
    assert dst.ptp == {1: 2} and dst.resident_count == 2
    pm.pmap_copy(dst, src, 7 * REGION, 4096, 7 * REGION, 100, 0)      # nothing there: no page
    assert dst.ptp == {1: 2}
    release(o, ps)


def test_resident_count_follows_enter_replace_and_remove_all(k):
    o, (m0, m1) = object_pages(k, 2)
    a, b = pm.Pmap(), pm.Pmap()
    pm.pmap_enter(a, 0, m0, RW, False)
    pm.pmap_enter(a, 0, m1, RW, False)                     # a new page in the same slot
    pm.pmap_enter_quick(a, 4096, m0, RW)
    pm.pmap_enter_quick(a, 4096, m1, RW)                   # only if none exists
    pm.pmap_enter(b, 0, m0, RW, True)
    assert (a.resident_count, b.resident_count) == (2, 1) and b.wired_count == 1
    pm.pmap_remove_all(m0)
    assert (a.resident_count, b.resident_count) == (1, 0) and a.ptp == {0: 1} and b.ptp == {}
    assert b.wired_count == 0
    release(o, (m0, m1))


def test_a_translation_that_went_is_cached_naming_nothing_and_handed_out_again(k):
    o, (m0, m1) = object_pages(k, 2)
    a = pm.Pmap()
    pm.pmap_enter(a, 0, m0, RW, False)
    gone = pm.pmap_pte(a, 0)
    pm.pmap_remove(a, 0, 4096)
    assert gone is not None and gone.pmap is not a and gone.page is not m0   # names nothing now
    assert not m0.pv and a.resident_count == 0
    pm.pmap_enter(a, 4096, m1, RW, True)
    again = pm.pmap_pte(a, 4096)
    assert again is gone                                  # the zone's cached entry, reused
    assert (again.pmap, again.vpn, again.page, again.wired) == (a, 1, m1, True)
    assert again.ref and not again.mod and m1.pv == [again]
    release(o, (m0, m1))



def test_the_pv_zone_is_the_systems_and_bounded(k):
    p, q = k.spawn(), k.spawn()
    assert p.proc.p_vmspace.vm_map.pmap.pv_zone is k.vm.pv_zone
    assert q.proc.p_vmspace.vm_map.pmap.pv_zone is k.vm.pv_zone
    o, (m0,) = object_pages(k, 1)
    a = pm.Pmap()
    pm.pmap_enter(a, 0, m0, RW, False)
    pte = pm.pmap_pte(a, 0)
    unused = pm.Pte(pm.Pmap(), 0, m0, RW, False)            # in no page-table page, no pv list
    a.pv_zone.extend([unused] * pm.PV_CACHE_MAX)            # the zone's cache is full
    pm.pmap_remove(a, 0, 4096)
    assert len(a.pv_zone) == pm.PV_CACHE_MAX and pte not in a.pv_zone and not m0.pv
    release(o, (m0,))
