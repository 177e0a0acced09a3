"""The pmap's per-page loops written for speed (issue 10) keep amd64's rules: pmap_enter puts a new
page in the old PTE slot (the old page gets the old A/M bits, the page-table page's count is
unchanged, the wiring count follows), pmap_remove settles each page-table page's count once per run
(an emptied one is freed), and pmap_copy stops per page-table page when the destination holds as
many translations as the source."""
from __future__ import annotations

from bsdvm.vm import pmap as pm
from bsdvm.vm.param import PG_REFERENCED, VM_PROT_READ, VM_PROT_WRITE
from pmaputil import object_pages, release

RW = VM_PROT_READ | VM_PROT_WRITE
NPTE = 512                                  # translations per page-table page


def test_enter_of_another_page_reuses_the_slot_and_moves_the_old_bits(k):
    o, (m0, m1) = object_pages(k, 2)
    a = pm.Pmap()
    pm.pmap_enter(a, 0x3000, m0, RW, True)
    a.ptes[3].mod = a.ptes[3].ref = True
    m0.flags &= ~PG_REFERENCED
    pm.pmap_enter(a, 0x3000, m1, RW, False)
    assert m0.dirty and m0.flags & PG_REFERENCED and not m0.pv
    assert {(p.pmap, p.vpn) for p in m1.pv} == {(a, 3)} and a.ptp == {0: 1} and a.wired_count == 0
    pte = a.ptes[3]
    assert pte.page is m1 and pte.ref and not pte.mod and not pte.wired
    pm.pmap_enter(a, 0x3000, m0, RW, True)                  # and back, wired
    assert a.wired_count == 1 and a.ptp == {0: 1} and not m1.pv
    release(o, (m0, m1))


def test_remove_across_page_table_pages_frees_only_the_emptied_ones(k):
    o, ps = object_pages(k, 4)
    a = pm.Pmap()
    vpns = (NPTE - 1, NPTE, NPTE + 1, 2 * NPTE)             # three page-table pages
    for vpn, m in zip(vpns, ps, strict=True):
        pm.pmap_enter(a, vpn << 12, m, RW, vpn == NPTE)
    assert a.ptp == {0: 1, 1: 2, 2: 1} and a.wired_count == 1
    pm.pmap_remove(a, (NPTE - 1) << 12, (NPTE + 1) << 12)   # the first two
    assert a.ptp == {1: 1, 2: 1} and a.wired_count == 0 and set(a.ptes) == {NPTE + 1, 2 * NPTE}
    assert not ps[0].pv and not ps[1].pv
    pm.pmap_remove(a, 0, (3 * NPTE) << 12)
    assert a.ptp == {} and not a.ptes
    release(o, ps)


def test_copy_stops_per_page_table_page_once_the_destination_is_as_full(k):
    o, ps = object_pages(k, 4)
    src, dst = pm.Pmap(), pm.Pmap()
    for vpn, m in zip((1, 2, NPTE + 1, NPTE + 2), ps, strict=True):
        pm.pmap_enter(src, vpn << 12, m, RW, True)
    extra_o, (extra,) = object_pages(k, 1)
    pm.pmap_enter(dst, 7 << 12, extra, RW, True)            # a copy the source has no translation for
    pm.pmap_copy(dst, src, 0, (2 * NPTE) << 12, 0, 100, 0)
    # page-table page 0: the destination already held one, so only vpn 1 is copied before the
    # counts match; page-table page 1 is new and gets both
    assert set(dst.ptes) == {1, 7, NPTE + 1, NPTE + 2}
    assert dst.ptp == {0: 2, 1: 2} and dst.wired_count == 1
    for vpn in (1, NPTE + 1, NPTE + 2):
        pte = dst.ptes[vpn]
        assert not pte.wired and not pte.ref and not pte.mod and pte in pte.page.pv
        assert pte.pmap is dst and pte.vpn == vpn
    release(extra_o, (extra,))
    release(o, ps)
