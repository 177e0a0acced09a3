"""Unit tests of the VM subsystems through their internal interfaces (spec sections 4-9):
vm/map.py, vm/object.py, vm/pmap.py, vm/page.py, vm/pager.py and vm/pageout.py.

Each test builds the smallest state it needs on a real Kernel (for the object registry, physical
memory and swap) and checks the rule it names against the spec, not against what the code does.
"""
from __future__ import annotations

import os
import random

import pytest

from bsdvm import Kernel, mman
from bsdvm.vm import pmap as pm
from bsdvm.vm.invariants import check_quiescent
from bsdvm.vm.map import (VmMap, vm_map_clip_end, vm_map_clip_start, vm_map_delete,
                          vm_map_findspace, vm_map_insert, vm_map_simplify_entry)
from bsdvm.vm.object import (vm_object_allocate, vm_object_coalesce, vm_object_collapse,
                             vm_object_deallocate, vm_object_reference, vm_object_shadow)
from bsdvm.vm.page import COUNTER_NAMES, PhysMem
from bsdvm.vm.pager import SwapSpace
from bsdvm.vm.param import (KERN_INVALID_ADDRESS, KERN_NO_SPACE, KERN_SUCCESS,
                            MAP_COPY_ON_WRITE, MAP_DISABLE_SYNCER, MAP_ENTRY_COW,
                            MAP_ENTRY_NEEDS_COPY, MAP_ENTRY_NOSYNC, OBJ_ONEMAPPING, OBJT_DEFAULT,
                            OBJT_SWAP, OBJT_VNODE, PG_REFERENCED, PQ_ACTIVE, PQ_INACTIVE,
                            PQ_NONE, VM_INHERIT_SHARE, VM_PAGER_BAD, VM_PAGER_OK, VM_PROT_ALL,
                            VM_PROT_READ, VM_PROT_WRITE)

PG = 4096
RW = VM_PROT_READ | VM_PROT_WRITE
R = VM_PROT_READ


@pytest.fixture
def k():
    kern = Kernel()
    try:
        yield kern
    finally:
        kern.close()


def new_map(k, lo=0, hi=1 << 40) -> VmMap:
    return VmMap(lo, hi, k.vm)


def ins(m, a, b, prot=RW, cow=0, obj=None, off=0):
    return vm_map_insert(m, obj, off, a * PG, b * PG, prot, VM_PROT_ALL, cow)


def spans(m):
    return [(e.start // PG, e.end // PG) for e in m.entries()]


def page_with(k, obj, pindex, data: bytes):
    m = k.phys.alloc(obj, pindex)
    m.data[:len(data)] = data
    m.valid = True
    return m


def drop_map(m):
    """Tear a hand-built map down so its objects go away."""
    m.lock()
    vm_map_delete(m, m.min_offset, m.max_offset)


# == vm_map ======================================================================================

class TestMapLookup:
    def test_lookup_entry_inside_gap_and_before_first(self, k):
        m = new_map(k)
        assert ins(m, 10, 12) == KERN_SUCCESS
        assert ins(m, 20, 25, prot=R) == KERN_SUCCESS
        first, second = list(m.entries())
        assert m.lookup_entry(10 * PG) == (True, first)                    # MAP-2
        assert m.lookup_entry(12 * PG - 1) == (True, first)
        assert m.lookup_entry(12 * PG) == (False, first)                   # gap: previous entry
        assert m.lookup_entry(19 * PG + 5) == (False, first)
        assert m.lookup_entry(24 * PG) == (True, second)
        assert m.lookup_entry(99 * PG) == (False, second)
        assert m.lookup_entry(3 * PG) == (False, m.header)                 # before the first
        assert m.lookup_entry(3 * PG)[1].next is first

    def test_insert_rejects_bad_ranges_and_overlaps(self, k):
        m = new_map(k, lo=4 * PG, hi=100 * PG)
        assert ins(m, 2, 6) == KERN_INVALID_ADDRESS                        # MAP-4
        assert ins(m, 90, 101) == KERN_INVALID_ADDRESS
        assert ins(m, 8, 8) == KERN_INVALID_ADDRESS
        assert ins(m, 10, 20) == KERN_SUCCESS
        assert ins(m, 15, 16) == KERN_NO_SPACE                             # MAP-5
        assert ins(m, 5, 11) == KERN_NO_SPACE
        assert ins(m, 19, 30) == KERN_NO_SPACE
        assert ins(m, 20, 30, prot=R) == KERN_SUCCESS
        assert spans(m) == [(10, 20), (20, 30)]
        m.check_tree()


class TestFindspace:
    @pytest.fixture
    def m(self, k):
        m = new_map(k, hi=64 * PG)
        # entries [10,12) [13,20) [22,23) [40,64): gaps 0-10, 12-13, 20-22, 23-40
        for a, b, prot in [(10, 12, RW), (13, 20, R), (22, 23, RW), (40, 64, R)]:
            assert ins(m, a, b, prot=prot) == KERN_SUCCESS
        return m

    @pytest.mark.parametrize("start, length, want", [
        (0, 2, 0),          # the hint itself is free
        (0, 10, 0),
        (0, 11, 23),        # nothing of 11 pages before 23
        (10, 1, 12),        # the 1-page gap after the first entry
        (10, 2, 20),        # too small: the next gap
        (11, 3, 23),
        (21, 1, 21),        # start inside a gap that fits
        (21, 2, 23),        # ... that does not
        (12, 1, 12),
        (30, 10, 30),
        (30, 11, None),     # nothing above 30 is big enough: no wrap to low addresses (MAP-11)
        (63, 1, None),
        (64, 1, None),      # start + length beyond max_offset
    ])
    def test_first_fit_at_or_above_the_hint(self, m, start, length, want):
        err, addr = vm_map_findspace(m, start * PG, length * PG)
        if want is None:
            assert err == 1
        else:
            assert (err, addr) == (0, want * PG)

    def test_findspace_below_min_offset_is_clamped(self, k):
        m = new_map(k, lo=8 * PG, hi=32 * PG)
        assert vm_map_findspace(m, 0, PG) == (0, 8 * PG)
        assert vm_map_findspace(m, 0, 25 * PG)[0] == 1


class TestInsertCoalescing:
    def test_adjacent_alike_entries_extend(self, k):
        m = new_map(k)
        ins(m, 10, 12)
        ins(m, 12, 15)                                                      # MAP-8 extension
        assert spans(m) == [(10, 15)] and m.nentries == 1 and m.size == 5 * PG
        ins(m, 15, 16, prot=R)                                              # different prot
        assert spans(m) == [(10, 15), (15, 16)]
        ins(m, 16, 17, prot=R, cow=MAP_DISABLE_SYNCER)                      # different eflags
        assert m.nentries == 3
        m.check_tree()

    def test_extension_grows_the_object_and_new_entry_shares_it(self, k):
        m = new_map(k)
        ins(m, 10, 12)
        e = m.header.next
        e.object = vm_object_allocate(k.vm, OBJT_DEFAULT, 2)
        ins(m, 12, 14)                                                      # coalesce (OBJ-12)
        assert spans(m) == [(10, 14)] and e.object.size == 4
        ins(m, 14, 15, prot=R)                                              # not alike: share
        e2 = e.next
        assert e2.object is e.object and e2.offset == 4 * PG               # MAP-8 second case
        assert e.object.ref_count == 2 and e.object.size == 5
        drop_map(m)
        assert not k.objects

    def test_no_coalescing_with_an_object_given_or_wired_or_cow(self, k):
        m = new_map(k)
        ins(m, 10, 12)
        obj = vm_object_allocate(k.vm, OBJT_DEFAULT, 2)
        ins(m, 12, 14, obj=obj)                                             # MAP-7
        assert m.nentries == 2
        ins(m, 20, 21)
        m.header.prev.wired_count = 1
        ins(m, 21, 22)                                                      # wired predecessor
        assert m.nentries == 4
        m.header.prev.prev.wired_count = 0
        ins(m, 30, 31, cow=MAP_COPY_ON_WRITE)
        ins(m, 31, 32, cow=MAP_COPY_ON_WRITE)                               # equal eflags: extends
        assert m.nentries == 5
        last = m.header.prev
        assert last.eflags & (MAP_ENTRY_COW | MAP_ENTRY_NEEDS_COPY) == \
            MAP_ENTRY_COW | MAP_ENTRY_NEEDS_COPY
        drop_map(m)
        assert not k.objects


class TestClipSimplify:
    def test_clip_gives_both_halves_one_object(self, k):
        m = new_map(k)
        ins(m, 10, 20)
        e = m.header.next
        vm_map_clip_start(m, e, 14 * PG)                                    # MAP-13
        assert spans(m) == [(10, 14), (14, 20)]
        a, b = list(m.entries())
        assert a.object is b.object is not None and a.object.size == 10
        assert (a.offset, b.offset) == (0, 4 * PG) and a.object.ref_count == 2
        vm_map_clip_end(m, b, 17 * PG)                                      # MAP-14
        c = b.next
        assert spans(m) == [(10, 14), (14, 17), (17, 20)] and c.offset == 7 * PG
        assert a.object.ref_count == 3
        vm_map_clip_start(m, c, 17 * PG)                                    # not strictly inside
        vm_map_clip_end(m, c, 25 * PG)
        assert m.nentries == 3
        vm_map_simplify_entry(m, b)                                         # MAP-15: all alike
        assert spans(m) == [(10, 20)] and m.header.next.object.ref_count == 1
        m.check_tree()
        drop_map(m)

    def test_simplify_needs_every_field_alike(self, k):
        m = new_map(k)
        ins(m, 10, 20)
        e = m.header.next
        vm_map_clip_end(m, e, 15 * PG)
        nxt = e.next
        for field, value in [("protection", R), ("max_protection", RW),
                             ("inheritance", VM_INHERIT_SHARE), ("wired_count", 1),
                             ("eflags", MAP_ENTRY_NOSYNC), ("offset", 6 * PG)]:
            saved = getattr(nxt, field)
            setattr(nxt, field, value)
            vm_map_simplify_entry(m, e)
            assert m.nentries == 2, field
            setattr(nxt, field, saved)
        vm_map_simplify_entry(m, e)
        assert m.nentries == 1
        drop_map(m)

    def test_clip_start_simplifies_first(self, k):
        """MAP-13: _vm_map_clip_start runs vm_map_simplify_entry before splitting."""
        m = new_map(k)
        ins(m, 10, 20)
        e = m.header.next
        vm_map_clip_end(m, e, 15 * PG)                  # [10,15) [15,20), alike
        second = e.next
        vm_map_clip_start(m, second, 18 * PG)           # merges to [10,20) first, then splits
        assert spans(m) == [(10, 18), (18, 20)]
        drop_map(m)


class TestTreeUnderRandomOps:
    def test_thousands_of_random_inserts_and_deletes(self, k):
        rnd = random.Random(1234)
        npg = 4096
        m = new_map(k, hi=npg * PG)
        model = [False] * npg                       # page mapped?

        def brute_find(start, length):
            a = start
            while a + length <= npg:
                if not any(model[a:a + length]):
                    return a
                # jump past the last mapped page in the window
                a = max(i for i in range(a, a + length) if model[i]) + 1
            return None

        for step in range(3000):
            a = rnd.randrange(npg)
            n = rnd.randint(1, 24)
            b = min(npg, a + n)
            if rnd.random() < 0.55:
                rv = ins(m, a, b, prot=rnd.choice([R, RW]))
                if any(model[a:b]):
                    assert rv == KERN_NO_SPACE
                else:
                    assert rv == KERN_SUCCESS
                    model[a:b] = [True] * (b - a)
            else:
                m.lock()
                vm_map_delete(m, a * PG, b * PG)
                model[a:b] = [False] * (b - a)
            if step % 100 == 0:
                m.check_tree()
                assert m.size == sum(model) * PG
            q = rnd.randrange(npg)
            found, e = m.lookup_entry(q * PG)
            assert found == model[q]
            if found:
                assert e.start <= q * PG < e.end
            s, ln = rnd.randrange(npg), rnd.randint(1, 40)
            err, addr = vm_map_findspace(m, s * PG, ln * PG)
            want = brute_find(s, ln)
            assert (addr // PG if err == 0 else None) == want, (s, ln)
        m.check_tree()
        mapped = sorted(i for i in range(npg) if model[i])
        assert [i for a, b in spans(m) for i in range(a, b)] == mapped
        drop_map(m)
        assert not k.objects


# == vm_object ===================================================================================

class TestObjects:
    def test_shadow(self, k):
        o = vm_object_allocate(k.vm, OBJT_DEFAULT, 4)
        assert o.flags & OBJ_ONEMAPPING and o.ref_count == 1                # OBJ-1
        assert vm_object_shadow(o, 2 * PG, 4) == (o, 2 * PG)               # OBJ-8: private
        vm_object_reference(o)
        s, off = vm_object_shadow(o, 2 * PG, 4)
        assert s is not o and off == 0
        assert s.backing_object is o and s.backing_object_offset == 2 * PG
        assert o.shadow_count == 1 and o.ref_count == 2 and s.ref_count == 1
        assert s.type == OBJT_DEFAULT and s.size == 4
        vm_object_deallocate(s)                 # s dies: drops its backing link
        assert o.ref_count == 1 and o.shadow_count == 0 and o.flags & OBJ_ONEMAPPING
        vm_object_deallocate(o)
        assert not k.objects

    def test_collapse_moves_backing_pages_up(self, k):
        free0 = k.phys.free_count
        b = vm_object_allocate(k.vm, OBJT_DEFAULT, 6)
        for i in range(6):
            page_with(k, b, i, bytes([0xB0 + i]))
        vm_object_reference(b)                  # shared (OBJ-8 shadows only then) ...
        s, _ = vm_object_shadow(b, PG, 4)      # window: b's pages 1..4
        b.ref_count -= 1                        # ... then its other user let go of it quietly
        assert b.ref_count == 1 and b.shadow_count == 1
        page_with(k, s, 0, b"\x5a")            # s's own version of b's page 1
        vm_object_collapse(s)                   # OBJ-9, B.ref_count == 1
        assert s.backing_object is None and b.id not in k.objects
        assert sorted(s.pages) == [0, 1, 2, 3]
        assert s.pages[0].data[0] == 0x5A                      # s's page wins
        assert [s.pages[i].data[0] for i in (1, 2, 3)] == [0xB2, 0xB3, 0xB4]
        assert all(s.pages[i].dirty for i in (1, 2, 3))        # renamed pages become dirty
        assert k.phys.free_count == free0 - 4                  # b's 0, 1 and 5 freed
        vm_object_deallocate(s)
        assert k.phys.free_count == free0 and not k.objects

    def test_bypass_when_the_shadow_hides_every_backing_page(self, k):
        bb = vm_object_allocate(k.vm, OBJT_DEFAULT, 2)
        b, _ = vm_object_shadow(bb, 0, 2)       # bb.ref 1: returned as is (OBJ-8)
        assert b is bb
        vm_object_reference(bb)
        b, _ = vm_object_shadow(bb, 0, 2)       # b -> bb; bb.ref 2 (b's link and ours)
        page_with(k, bb, 1, b"bb1")
        page_with(k, b, 0, b"b0")
        vm_object_reference(b)                  # b shared: no full collapse possible
        s, _ = vm_object_shadow(b, 0, 2)
        page_with(k, s, 0, b"s0")               # s hides b's only page, not bb's page 1
        vm_object_collapse(s)                   # OBJ-9 bypass of b, then stop at bb
        assert s.backing_object is bb and b.shadow_count == 0 and b.ref_count == 1
        assert bb.shadow_count == 2 and bb.ref_count == 3
        assert k.stats["object_bypasses"] == 1
        page_with(k, s, 1, b"s1")               # fully resident now: bypasses bb as well
        vm_object_collapse(s)
        assert s.backing_object is None and bb.ref_count == 2
        for o in (s, b, bb):
            vm_object_deallocate(o)
        assert not k.objects

    def test_no_bypass_while_the_shadow_misses_a_backing_page(self, k):
        b = vm_object_allocate(k.vm, OBJT_DEFAULT, 3)
        page_with(k, b, 2, b"b2")
        vm_object_reference(b)
        s, _ = vm_object_shadow(b, 0, 3)
        page_with(k, s, 0, b"s0")
        vm_object_collapse(s)
        assert s.backing_object is b and b.shadow_count == 1
        vm_object_deallocate(s)
        vm_object_deallocate(b)
        assert not k.objects

    def test_deallocate_to_one_collapses_into_the_single_shadow(self, k):
        b = vm_object_allocate(k.vm, OBJT_DEFAULT, 2)
        page_with(k, b, 1, b"keep")
        vm_object_reference(b)                  # e.g. two map entries
        s, _ = vm_object_shadow(b, 0, 2)        # one of them shadowed (takes that reference)
        vm_object_reference(b)
        vm_object_deallocate(b)                 # back to: s's link + one entry
        assert b.ref_count == 2
        vm_object_deallocate(b)                 # the other entry goes: OBJ-6 step 2
        assert b.id not in k.objects and s.backing_object is None
        assert bytes(s.pages[1].data[:4]) == b"keep"
        vm_object_deallocate(s)
        assert not k.objects

    def test_deallocate_to_zero_walks_down_the_chain(self, k):
        free0 = k.phys.free_count
        b = vm_object_allocate(k.vm, OBJT_DEFAULT, 2)
        page_with(k, b, 0, b"x")
        vm_object_reference(b)
        s1, _ = vm_object_shadow(b, 0, 2)       # each shadow link holds one reference
        s2, _ = vm_object_shadow(b, 0, 2)
        assert b.ref_count == 2 and b.shadow_count == 2
        page_with(k, s1, 1, b"y")
        page_with(k, s2, 1, b"z")
        vm_object_deallocate(s1)                # b down to one reference: collapse into s2
        assert b.id not in k.objects and s2.backing_object is None
        assert bytes(s2.pages[0].data[:1]) == b"x" and bytes(s2.pages[1].data[:1]) == b"z"
        vm_object_deallocate(s2)
        assert not k.objects and k.phys.free_count == free0
        # a chain whose lower object cannot be collapsed (busy paging) dies from the top down
        b = vm_object_allocate(k.vm, OBJT_DEFAULT, 1)
        page_with(k, b, 0, b"x")
        vm_object_reference(b)
        s, _ = vm_object_shadow(b, 0, 1)
        b.paging_in_progress = 1
        vm_object_deallocate(b)                 # the entry's reference: b lives on for s
        assert b.ref_count == 1 and s.backing_object is b
        b.paging_in_progress = 0
        vm_object_deallocate(s)                 # OBJ-6 step 3: s dies, then b
        assert not k.objects and k.phys.free_count == free0

    def test_coalesce(self, k):
        assert vm_object_coalesce(None, 0, PG, PG)                          # OBJ-12
        v = vm_object_allocate(k.vm, OBJT_VNODE, 2)
        assert not vm_object_coalesce(v, 0, PG, PG)
        o = vm_object_allocate(k.vm, OBJT_DEFAULT, 4)
        stale = page_with(k, o, 3, b"old")      # index 3: inside the extension, stale
        assert vm_object_coalesce(o, 0, 3 * PG, 2 * PG)
        assert o.size == 5 and 3 not in o.pages and stale.object is None
        vm_object_reference(o)
        assert not vm_object_coalesce(o, 0, 2 * PG, PG)     # shared, not at its tail
        assert vm_object_coalesce(o, 0, 5 * PG, PG) and o.size == 6
        vm_object_deallocate(o)
        vm_object_deallocate(o)
        k.objects.pop(v.id)                     # a bare vnode-type object: no vnode to release
        assert not k.objects


# == pmap ========================================================================================

class TestPmap:
    @pytest.fixture
    def pages(self, k):
        o = vm_object_allocate(k.vm, OBJT_DEFAULT, 4)
        ps = [page_with(k, o, i, b"") for i in range(4)]
        yield ps
        for p in ps:
            pm.pmap_remove_all(p)
        vm_object_deallocate(o)

    def test_enter_replace_and_remove(self, pages):
        a, b = pm.Pmap(), pm.Pmap()
        m0, m1 = pages[:2]
        pm.pmap_enter(a, 0x1000, m0, RW, True)                              # PMAP-1
        pm.pmap_enter(b, 0x5000, m0, R, False)
        assert a.wired_count == 1 and {(p.pmap, p.vpn) for p in m0.pv} == {(a, 1), (b, 5)}
        pm.pmap_enter(a, 0x1000, m0, R, False)                              # rewire off
        assert a.wired_count == 0 and a.ptes[1].prot == R
        pm.pmap_enter(a, 0x1000, m1, RW, True)                              # replace the page
        assert {(p.pmap, p.vpn) for p in m0.pv} == {(b, 5)} and a.ptes[1] in m1.pv
        assert a.wired_count == 1
        a.ptes[1].mod = a.ptes[1].ref = True
        pm.pmap_remove(a, 0, 0x10000)                                       # PMAP-2
        assert not a.ptes and a.wired_count == 0
        assert m1.dirty and m1.flags & PG_REFERENCED
        pm.pmap_remove_all(m0)
        assert not b.ptes and not m0.pv

    def test_enter_quick_never_writable_never_replaces(self, pages):
        a = pm.Pmap()
        m0, m1 = pages[:2]
        pm.pmap_enter_quick(a, 0x2000, m0, RW)                              # PMAP-4
        assert a.ptes[2].prot == R and not a.ptes[2].wired
        pm.pmap_enter_quick(a, 0x2000, m1, R)
        assert a.ptes[2].page is m0

    def test_protect_only_removes_rights(self, pages):
        a = pm.Pmap()
        for i, m in enumerate(pages):
            pm.pmap_enter(a, i * PG, m, RW, False)
            a.ptes[i].mod = True
        pm.pmap_protect(a, 0, PG, RW)                                       # PMAP-3: no-op
        assert a.ptes[0].prot == RW and a.ptes[0].mod
        pm.pmap_protect(a, PG, 2 * PG, R)                                   # write-protect
        assert a.ptes[1].prot == R and not a.ptes[1].mod and pages[1].dirty
        pm.pmap_protect(a, 2 * PG, 3 * PG, 0)                               # no READ: remove
        assert 2 not in a.ptes and pages[2].dirty
        pm.pmap_page_protect(pages[3], R)
        assert a.ptes[3].prot == R and pages[3].dirty

    def test_ts_referenced_counts_clears_and_stops_at_five(self, pages):
        m = pages[0]
        maps = [pm.Pmap() for _ in range(7)]
        for a in maps:
            pm.pmap_enter(a, PG, m, R, False)
            a.ptes[1].ref = True
        assert pm.pmap_ts_referenced(m) == 5                                # PMAP-6
        assert sum(a.ptes[1].ref for a in maps) == 2
        assert pm.pmap_ts_referenced(m) == 2 and pm.pmap_ts_referenced(m) == 0

    def test_mincore_bits(self, pages):
        a, b = pm.Pmap(), pm.Pmap()
        m = pages[0]
        assert pm.pmap_mincore(a, 0) == 0                                   # PMAP-7
        pm.pmap_enter(a, 0, m, RW, False)
        pm.pmap_enter(b, 0, m, R, False)
        # amd64's pmap_enter stores a new translation with PG_A set
        assert pm.pmap_mincore(a, 0) == (mman.MINCORE_INCORE | mman.MINCORE_REFERENCED |
                                         mman.MINCORE_REFERENCED_OTHER)
        a.ptes[0].ref = b.ptes[0].ref = False
        assert pm.pmap_mincore(a, 0) == mman.MINCORE_INCORE
        a.ptes[0].ref = a.ptes[0].mod = True
        assert pm.pmap_mincore(a, 0) == (mman.MINCORE_INCORE | mman.MINCORE_REFERENCED |
                                         mman.MINCORE_MODIFIED | mman.MINCORE_REFERENCED_OTHER |
                                         mman.MINCORE_MODIFIED_OTHER)
        # b sees the others' bits; asking clears a's A bit and sets PG_REFERENCED
        assert pm.pmap_mincore(b, 0) == (mman.MINCORE_INCORE | mman.MINCORE_REFERENCED_OTHER |
                                         mman.MINCORE_MODIFIED_OTHER)
        assert not a.ptes[0].ref and m.flags & PG_REFERENCED
        assert pm.pmap_is_modified(m)
        pm.pmap_clear_modify(m)
        assert not pm.pmap_is_modified(m)


# == vm_page =====================================================================================

class TestPhysMem:
    def test_alloc_free_and_counters(self, k):
        ph = PhysMem(16, 2)
        o = vm_object_allocate(k.vm, OBJT_DEFAULT, 20)
        assert ph.free_count == 14 and ph.v_wire_count == 2                # PAGE-4
        pages = [ph.alloc(o, i) for i in range(14)]
        assert all(p is not None for p in pages) and ph.free_count == 0
        assert all(bytes(p.data) == bytes(PG) for p in pages)              # zero-filled
        assert ph.alloc(o, 14) is None                                      # no daemon: none
        assert o.resident_page_count == 14
        ph.free(pages[3])
        assert ph.free_count == 1 and 3 not in o.pages and pages[3].object is None
        p = ph.alloc(o, 3)
        assert bytes(p.data) == bytes(PG)                                   # never stale bytes
        for q in list(o.pages.values()):
            ph.free(q)
        assert ph.free_count == 14
        assert ph.cnt.v_tfree == ph.counters["v_tfree"] == 15              # every vm_page_free
        k.objects.pop(o.id)

    def test_vmmeter_counters_are_attributes_and_counters_is_their_snapshot(self):
        ph = PhysMem(8, 1)
        assert list(ph.counters) == list(COUNTER_NAMES)
        assert set(ph.counters.values()) == {0}
        assert ph.stats().keys() >= set(COUNTER_NAMES)
        ph.cnt.v_zfod += 3
        ph.cnt.v_forkpages += 7
        snap = ph.counters
        assert snap["v_zfod"] == 3 and snap["v_forkpages"] == 7 and ph.stats()["v_zfod"] == 3
        snap["v_zfod"] = 100                     # a snapshot: writing to it changes no counter
        assert ph.cnt.v_zfod == 3 and ph.counters["v_zfod"] == 3
        with pytest.raises(AttributeError):
            ph.cnt.v_no_such_counter                                         # noqa: B018

    def test_wire_counts_once_and_leaves_the_queues(self, k):
        ph = PhysMem(8, 1)
        o = vm_object_allocate(k.vm, OBJT_DEFAULT, 4)
        m = ph.alloc(o, 0)
        ph.activate(m)
        assert m.queue == PQ_ACTIVE
        ph.wire(m)
        ph.wire(m)                                                          # PAGE-3
        assert ph.v_wire_count == 2 and m.queue == PQ_NONE and m.wire_count == 2
        ph.unwire(m, activate=False)
        assert ph.v_wire_count == 2
        ph.unwire(m, activate=False)
        assert ph.v_wire_count == 1 and m.queue == PQ_INACTIVE
        ph.activate(m)
        ph.dnweight = 15        # vm_page_dontneed leaves the page alone on its first 15 calls
        ph.dontneed(m)                                                      # PAGE-6
        assert m.queue == PQ_INACTIVE and m.object is o
        n = ph.alloc(o, 1)
        ph.rename(n, o, 3)
        assert o.pages.get(3) is n and 1 not in o.pages and n.dirty        # PAGE-2
        ph.free(m)
        ph.free(n)
        assert ph.free_count == 7
        k.objects.pop(o.id)


# == pagers ======================================================================================

def file_vnode(p, path, data):
    fd = p.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    p.write(fd, data)
    err, fp = p.proc.p_fd.fget(fd)
    assert err == 0
    vp = fp.f_vnode
    p.proc.p_fd.fdrop(fp)
    return fd, vp


class TestVnodePager:
    def test_vn_read_and_vn_write_are_coherent_with_resident_pages(self, k):
        p = k.spawn()
        data = bytes(range(256)) * 32                       # 2 pages
        fd, vp = file_vnode(p, "/v", data)
        obj = vp.v_object
        assert obj.type == OBJT_VNODE and obj.size == 2 and obj.vnp_size == 2 * PG   # PGR-3
        a = p.mmap(0, 2 * PG, RW, mman.MAP_SHARED, fd, 0)
        p.mem_read(a, 1)                                    # page(s) resident now
        m0 = obj.pages[0]
        m0.data[10:14] = b"PAGE"                            # a store the host has not seen
        assert k.pager.vn_read(vp, 8, 8) == data[8:10] + b"PAGE" + data[14:16]
        assert vp.host_pread(10, 4) == data[10:14]
        k.pager.vn_write(vp, PG - 2, b"span")               # crosses into page 1
        assert bytes(m0.data[PG - 2:]) == b"sp"
        assert vp.host_pread(PG - 2, 4) == b"span"
        if 1 in obj.pages:
            assert bytes(obj.pages[1].data[:2]) == b"an"
        assert p.mem_read(a + PG - 2, 4) == b"span"
        p.exit()
        assert k.vmstat()["object_count"] == 0

    def test_getpages_past_eof_and_zero_tail(self, k):
        p = k.spawn()
        fd, vp = file_vnode(p, "/g", b"\xee" * (PG + 10))
        obj = vp.v_object
        m = k.phys.alloc(obj, 1)
        assert k.pager.vnode.getpages(obj, 1, m) == VM_PAGER_OK          # PGR-4
        assert bytes(m.data[:10]) == b"\xee" * 10 and bytes(m.data[10:]) == bytes(PG - 10)
        assert m.valid and not m.dirty
        m2 = k.phys.alloc(obj, 2)
        assert k.pager.vnode.getpages(obj, 2, m2) == VM_PAGER_BAD
        k.phys.free(m2)
        assert not k.pager.vm_pager_has_page(obj, 2) and k.pager.vm_pager_has_page(obj, 1)
        p.exit()
        check_quiescent(k)

    def test_setsize_shrink_frees_pages_and_zeroes_the_tail(self, k):
        p = k.spawn()
        fd, vp = file_vnode(p, "/s", b"\x11" * (3 * PG))
        obj = vp.v_object
        a = p.mmap(0, 3 * PG, R, mman.MAP_SHARED, fd, 0)
        assert p.mem_read(a, 3 * PG) == b"\x11" * (3 * PG)
        assert sorted(obj.pages) == [0, 1, 2]
        k.pager.vnode_pager_setsize(vp, PG + 100)                           # PGR-3 shrink
        assert obj.vnp_size == PG + 100 and obj.size == 2
        assert sorted(obj.pages) == [0, 1]
        assert bytes(obj.pages[1].data[:100]) == b"\x11" * 100
        assert bytes(obj.pages[1].data[100:]) == bytes(PG - 100)
        assert (a + 2 * PG) >> 12 not in p.proc.p_vmspace.vm_map.pmap.ptes  # translation gone
        k.pager.vnode_pager_setsize(vp, 3 * PG)
        assert obj.size == 3 and obj.vnp_size == 3 * PG
        p.exit()
        check_quiescent(k)


class TestSwapSpace:
    def test_alloc_release_read_write(self, k):
        sw = SwapSpace(4 * PG)
        try:
            o = vm_object_allocate(k.vm, OBJT_SWAP, 8)
            blocks = [sw.alloc(o, i) for i in range(4)]
            assert blocks == [0, 1, 2, 3] and sw.used == 4                  # lowest first
            assert sw.alloc(o, 4) is None                                   # full
            assert sw.owner[2] == (o.id, 2)
            assert sw.write(1, b"\xab" * PG) == 0                           # an errno
            assert sw.read(1) == (0, b"\xab" * PG)
            sw.release(1)
            assert sw.used == 3 and 1 not in sw.owner
            assert sw.alloc(o, 5) == 1
            o.swblocks = {0: 0, 2: 2, 3: 3, 5: 1}
            sw.free_range(o, 2, 2)                                          # indices 2 and 3
            assert sorted(o.swblocks) == [0, 5] and sw.used == 2
            sw.free_object(o)
            assert sw.used == 0 and not o.swblocks
            k.objects.pop(o.id)
        finally:
            sw.close()


# == the page daemon =============================================================================

class TestPageout:
    def test_pressure_frees_pages_and_data_survives_via_swap(self):
        k = Kernel(physmem="2M", swap="16M")
        try:
            p = k.spawn()
            n = 3 * k.phys.npages
            a = p.mmap(0, n * PG, RW, mman.MAP_ANON | mman.MAP_PRIVATE)
            for i in range(n):
                p.mem_write(a + i * PG, i.to_bytes(4, "little") * 8)
                assert k.phys.free_count >= 0
            st = k.vmstat()
            assert st["v_swapout"] > 0 and st["v_pdwakeups"] > 0
            assert st["v_swap_used"] >= n - k.phys.npages
            e = [e for e in p.maps() if e.start == a][0]
            assert e.object_type == "swap"                  # DEFAULT became SWAP (PGR-1)
            k.check_invariants()
            for i in range(n):
                assert p.mem_read(a + i * PG, 32) == i.to_bytes(4, "little") * 8
            assert k.vmstat()["v_swapin"] > 0
            k.check_invariants()
            p.munmap(a, n * PG)
            assert k.vmstat()["v_swap_used"] == 0
            p.exit()
            check_quiescent(k)
        finally:
            k.close()

    def test_dirty_file_pages_are_written_to_the_file_under_pressure(self):
        k = Kernel(physmem="2M", swap="16M")
        try:
            p = k.spawn()
            n = 2 * k.phys.npages
            fd = p.open("/big", os.O_RDWR | os.O_CREAT, 0o644)
            p.ftruncate(fd, n * PG)
            a = p.mmap(0, n * PG, RW, mman.MAP_SHARED, fd, 0)
            for i in range(n):
                p.mem_write(a + i * PG, i.to_bytes(4, "little"))
            assert k.vmstat()["v_vnodeout"] > 0 and k.vmstat()["v_swap_used"] == 0
            with open(os.path.join(k.root, "big"), "rb") as f:
                host = f.read()
            laundered = sum(host[i * PG:i * PG + 4] == i.to_bytes(4, "little")
                            for i in range(1, n))
            assert laundered > 0                         # written without msync or munmap
            for i in range(n):
                assert p.mem_read(a + i * PG, 4) == i.to_bytes(4, "little")
            p.exit()
            with open(os.path.join(k.root, "big"), "rb") as f:
                host = f.read()
            assert all(host[i * PG:i * PG + 4] == i.to_bytes(4, "little") for i in range(n))
            check_quiescent(k)
        finally:
            k.close()

    def test_daemon_never_takes_wired_pages(self):
        k = Kernel(physmem="2M", swap="16M", max_wired=200)
        try:
            p = k.spawn(uid=0)
            w = p.mmap(0, 4 * PG, RW, mman.MAP_ANON | mman.MAP_PRIVATE)
            p.mem_write(w, b"w" * (4 * PG))
            p.mlock(w, 4 * PG)
            wired = [p.proc.p_vmspace.vm_map.pmap.ptes[(w >> 12) + i].page for i in range(4)]
            b = p.mmap(0, 800 * PG, RW, mman.MAP_ANON | mman.MAP_PRIVATE)
            for i in range(800):
                p.mem_write(b + i * PG, b"b")
            assert all(m.object is not None and m.wire_count == 1 for m in wired)
            assert all(m.queue == PQ_NONE for m in wired)
            assert p.mem_read(w, 4 * PG) == b"w" * (4 * PG)
            k.check_invariants()
            p.exit()
            check_quiescent(k)
        finally:
            k.close()
