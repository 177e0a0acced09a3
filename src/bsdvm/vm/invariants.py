"""Whole-system consistency checks, used by tests (property and scenario) and Kernel.check_invariants.

Checks: every map's entries sorted, disjoint, page aligned and inside the map, the treap in step
with the list; every entry lies within its object; object reference and shadow counts equal what
points at them; shadow chains are acyclic; each pmap's translations agree with page pv lists;
wired counts agree (pmap vs translations, v_wire_count vs pages); page frames are conserved; every
valid unwired page is on one queue and the queues hold only such pages; swap blocks belong to live
objects.  May call: nothing that changes state.
"""
from __future__ import annotations

from .param import OBJT_DEVICE, OBJT_VNODE, PG_FICTITIOUS, PAGE_SHIFT
from .pmap import pmap_pte


def check_kernel(k) -> None:
    objs = k.objects
    refs = {oid: 0 for oid in objs}
    shadow_refs = {oid: 0 for oid in objs}
    for p in k.procs.values():
        vms = p.p_vmspace
        m = vms.vm_map
        m.check_tree()
        pmap = m.pmap
        for e in m.entries():
            if e.object is not None:
                o = e.object
                assert o.id in objs, ("entry names a dead object", e, o)
                refs[o.id] += 1
                # a file or device mapping may start at a negative off_t (mmap's pos is signed)
                assert e.offset >= 0 or o.type in (OBJT_VNODE, OBJT_DEVICE) \
                    or (o.backing_object is not None and o.backing_object.type == OBJT_VNODE), e
                if o.type not in (OBJT_VNODE, OBJT_DEVICE):
                    assert (e.offset >> PAGE_SHIFT) + ((e.end - e.start) >> PAGE_SHIFT) <= o.size, \
                        ("entry beyond its object", e, o)
        wired = 0
        for index, pt in pmap.pt_pages.items():
            used = sum(slot is not None for slot in pt.slots)
            assert used == pt.count and used, ("page-table page count", index, used, pt.count)
        ptes = pmap.ptes
        assert len(ptes) == pmap.resident_count, (len(ptes), pmap.resident_count)
        for vpn, pte in ptes.items():
            assert pte in pte.page.pv, "translation missing from pv"
            assert pte.pmap is pmap and pte.vpn == vpn, ("pv entry names another slot", vpn)
            assert pte.page.object is not None, ("translation to a freed page", vpn)
            found, e = m.lookup_entry(vpn << PAGE_SHIFT)
            assert found, ("translation outside any entry", hex(vpn << PAGE_SHIFT))
            wired += pte.wired
        assert wired == pmap.wired_count, (wired, pmap.wired_count)
    for o in objs.values():
        seen = set()
        b = o
        while b is not None:
            assert b.id not in seen, "shadow chain cycle"
            seen.add(b.id)
            b = b.backing_object
        assert len(o.shadows) == o.shadow_count, ("shadow_count", o)
        for s in o.shadows:
            assert s.backing_object is o
            shadow_refs[o.id] += 1
        if o.backing_object is not None:
            assert o in o.backing_object.shadows
        assert o.resident_page_count == len(o.pages)
        for i, pg in o.pages.items():
            assert pg.object is o and pg.pindex == i
            for pte in pg.pv:
                assert pte.page is pg and pmap_pte(pte.pmap, pte.vpn << PAGE_SHIFT) is pte
        for i, blk in o.swblocks.items():
            assert k.swap.owner.get(blk) == (o.id, i), ("swap owner", o, i, blk)
    for oid, o in objs.items():
        if o.type == OBJT_VNODE:
            continue
        expect = refs[oid] + shadow_refs[oid]
        assert o.ref_count == expect, ("ref_count", o, expect)
    # page frames: free + resident managed pages + kernel == total
    held = sum(1 for o in objs.values() for pg in o.pages.values() if not pg.flags & PG_FICTITIOUS)
    phys = k.phys
    assert phys.free_count + held + phys.kernel_wired == phys.npages, \
        ("page frames leaked", phys.free_count, held, phys.kernel_wired, phys.npages)
    wired_pages = sum(1 for o in objs.values() for pg in o.pages.values()
                      if pg.wire_count and not pg.flags & PG_FICTITIOUS)
    assert wired_pages == phys.user_wire_count, (wired_pages, phys.user_wire_count)
    # the queue gauges add up: every valid managed page an object holds is wired or on exactly
    # one of the active/inactive queues, and the queues hold nothing else
    queued = 0
    for o in objs.values():
        for pg in o.pages.values():
            if pg.flags & PG_FICTITIOUS or pg.wire_count:
                continue
            on_active, on_inactive = pg in phys.active, pg in phys.inactive
            assert not (on_active and on_inactive), ("page on two queues", pg)
            assert on_active or on_inactive or not pg.valid, ("valid page on no queue", pg)
            queued += on_active or on_inactive
    assert queued == len(phys.active) + len(phys.inactive), \
        ("a queue holds a page no object has", queued, len(phys.active), len(phys.inactive))
    assert len(k.swap.owner) == k.swap.used


def check_quiescent(k) -> None:
    """After every process exited: nothing left."""
    check_kernel(k)
    assert not k.procs
    left = [o for o in k.objects.values()]
    assert not left, ("objects left", left)
    assert k.phys.free_count + k.phys.kernel_wired == k.phys.npages
    assert k.swap.used == 0
