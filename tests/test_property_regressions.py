"""The examples tests/test_properties.py's saved database failed on (issue 9 follow-up), replayed as
fixed programs.  Neither was a defect of the model: both are FreeBSD 7 behaviour the state
machine's reference model did not follow, and the reference model now does.  These tests pin the
behaviour itself, so that a change of the model that loses it fails here deterministically.

* A load that faults on a *wired* copy-on-write entry whose protection includes WRITE copies the
  page (vm_map_lookup: `if (*wired) prot = fault_type = entry->protection`, then NEEDS_COPY is
  resolved for a write and vm_fault copies up the chain); later writes to the file no longer show
  through the private mapping.  Reached by mlock of a read-only private file mapping,
  mprotect(PROT_NONE) (pmap_remove of the wired translation), mprotect(RW) and a load
  (docs/errata.md, FLT-10 / FLT-13 wired entries).
* mlock of a range starting strictly inside an entry: vm_map_clip_start first calls
  vm_map_simplify_entry, which merges that entry with matching neighbours -- two adjacent
  object-less PROT_NONE anonymous mappings become one entry -- so FLT-3's strip of WRITE from
  max_protection at the first page makes the retry for the second page fail: ENOMEM
  (docs/errata.md, FLT-3 multi-page).
"""
from __future__ import annotations

import errno
import os

import pytest

from bsdvm import SegmentationFault, mman

PG = 4096
R, W = mman.PROT_READ, mman.PROT_WRITE
RW = R | W
ANON = mman.MAP_ANON | mman.MAP_PRIVATE
HIGH = 0x40000000


def test_load_on_wired_cow_entry_after_protection_round_trip_copies_the_page(k):
    """vm_map.c vm_map_lookup(): a fault on a wired entry is taken for the entry's protection;
    with WRITE in it the copy-on-write page is copied by a load."""
    p = k.spawn(uid=0)
    fd = p.open("/f", os.O_RDWR | os.O_CREAT, 0o644)
    old = bytes([1]) * (3 * PG)
    assert p.write(fd, old) == len(old)
    a = p.mmap(HIGH, 3 * PG, RW, mman.MAP_PRIVATE | mman.MAP_FIXED, fd, 0)
    assert p.mem_read(a, 4) == b"\1" * 4
    p.mprotect(a, PG, R)
    p.mlock(a, PG)                          # a read wiring fault: the file's page, no copy
    p.pwrite(fd, b"\2" * 4, 0)
    assert p.mem_read(a, 4) == b"\2" * 4    # still the file's page
    p.mprotect(a, PG, mman.PROT_NONE)       # pmap_remove: the wired translation goes
    p.mprotect(a, PG, RW)
    with pytest.raises(SegmentationFault):
        p.mem_write(a, b"x")                # MAP-45: a store fault on a user-wired COW entry
    assert p.mem_read(a, 4) == b"\2" * 4    # this load faulted for READ|WRITE: a private copy
    p.pwrite(fd, b"\3" * 4, 0)
    assert p.mem_read(a, 4) == b"\2" * 4    # the file's later bytes no longer show through
    p.mem_write(a, b"y")                    # the copy is mapped writable (and wired)
    assert p.pread(fd, 4, 0) == b"\3" * 4
    assert p.mem_read(a + PG, 4) == b"\1" * 4   # the unwired pages still show the file
    k.check_invariants()
    p.munmap(a, 3 * PG)
    p.close(fd)


def test_mlock_from_inside_an_entry_merges_its_prot_none_neighbour_first(k):
    """vm_map.c _vm_map_clip_start() begins with vm_map_simplify_entry(): the object-less
    PROT_NONE mapping above joins the one being clipped, and FLT-3 stops at the second page."""
    p = k.spawn(uid=0)
    assert p.mmap(HIGH + 4 * PG, 4 * PG, mman.PROT_NONE, ANON | mman.MAP_FIXED) == HIGH + 4 * PG
    assert p.mmap(HIGH, 4 * PG, mman.PROT_NONE, ANON | mman.MAP_FIXED) == HIGH
    before = [(e.start, e.end) for e in p.maps() if HIGH <= e.start < HIGH + 8 * PG]
    assert before == [(HIGH, HIGH + 4 * PG), (HIGH + 4 * PG, HIGH + 8 * PG)]
    with pytest.raises(OSError) as ei:
        p.mlock(HIGH + 3 * PG, 2 * PG)
    assert ei.value.errno == errno.ENOMEM
    ents = {e.start: e for e in p.maps() if HIGH <= e.start < HIGH + 8 * PG}
    # one entry for both pages, WRITE stripped from it by the first page's wiring
    assert ents[HIGH + 3 * PG].end == HIGH + 5 * PG
    assert ents[HIGH + 3 * PG].max_prot == R | mman.PROT_EXEC
    assert ents[HIGH + 3 * PG].wired_count == 0
    assert ents[HIGH].max_prot == ents[HIGH + 5 * PG].max_prot == R | W | mman.PROT_EXEC
    # without the merge (the neighbour's first page starts the range) the wiring succeeds
    p.munmap(HIGH, 8 * PG)
    p.mmap(HIGH + 4 * PG, 4 * PG, mman.PROT_NONE, ANON | mman.MAP_FIXED)
    p.mmap(HIGH, 4 * PG, mman.PROT_NONE, ANON | mman.MAP_FIXED)
    p.mlock(HIGH + 4 * PG, PG)
    p.munlock(HIGH + 4 * PG, PG)
    k.check_invariants()
    p.munmap(HIGH, 8 * PG)
