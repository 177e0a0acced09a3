"""FORK-3 for wired entries: what protection the child's eager copies get, and what the next fork
does with them.

FreeBSD 7 (vm_fault.c vm_fault_copy_entry(), 7.0 through 7.3) enters each copy in the child's pmap
with `prot = dst_entry->max_protection` and never touches the child's eflags, which vmspace_fork()
copied from the parent's entry (COW, and NEEDS_COPY when the parent's wiring fault was a read).
When that child forks, vm_map.c vm_map_copy_entry() skips pmap_protect() for a NEEDS_COPY entry
("it is already write-protected") and amd64 pmap_copy() copies the translation without PG_W, PG_M,
PG_A but with PG_RW.  So a wired read-only anonymous page forked twice is writable in the child
and shared with the grandchild: this is the 7.x behaviour bsdvm reproduces (docs/errata.md,
FORK-3 rows; tests/test_fidelity_audit.py AUDIT4 shows it for a file mapping).  Later FreeBSD
(9.x) maps the copies with `dst_entry->protection`.

A *writable* wired private mapping is wired by a write fault, which resolves NEEDS_COPY first; the
copies then stay isolated through any number of forks.  tests/test_properties.py models both.
"""
from __future__ import annotations

import pytest

from bsdvm import SegmentationFault, mman

PG = 4096
R, W = mman.PROT_READ, mman.PROT_WRITE
RW = R | W
ANON = mman.MAP_ANON | mman.MAP_PRIVATE


def entry_at(p, addr: int):
    return next(e for e in p.maps() if e.start <= addr < e.end)


def test_fork3_eager_copy_of_read_only_wired_page_is_writable_and_shared_by_the_next_fork(k):
    """The property-test program: a read-only private anonymous page, COW after a first fork,
    wired by a read fault (NEEDS_COPY stays), forked (eager copy), forked again."""
    p0 = k.spawn(uid=0)
    a = p0.mmap(0, PG, R, ANON)
    assert p0.mem_read(a, 8) == bytes(8)
    p1 = p0.fork()                                  # both entries COW | NEEDS_COPY
    p0.exit()
    p1.mlock(a, PG)                                 # a read wiring fault: NEEDS_COPY stays
    assert {"COW", "NEEDS_COPY", "USER_WIRED"} <= entry_at(p1, a).flags
    p2 = p1.fork()                                  # vm_fault_copy_entry
    e2 = entry_at(p2, a)
    assert {"COW", "NEEDS_COPY"} <= e2.flags and e2.wired_count == 0
    assert e2.prot == R                             # the entry stays read-only ...
    p2.mem_write(a, b"copy")                        # ... its copy is mapped with max_protection
    with pytest.raises(SegmentationFault) as ei:
        p1.mem_write(a, b"wired")                   # the wired original is not writable
    assert ei.value.code == "SEGV_ACCERR"
    p1.exit()
    p3 = p2.fork()                                  # NEEDS_COPY: no pmap_protect; pmap_copy
    p2.mem_write(a, b"\xcd" * PG)                   # keeps PG_RW: no fault ...
    assert p3.mem_read(a, 8) == b"\xcd" * 8         # ... and the grandchild sees the store
    p3.mem_write(a, b"grand")
    assert p2.mem_read(a, 5) == b"grand"            # and the child the grandchild's
    # once the translation goes (mprotect to PROT_NONE and back: vm_map_protect calls
    # pmap_protect only when the protection changes), the entry's protection rules again
    p2.mprotect(a, PG, mman.PROT_NONE)
    p2.mprotect(a, PG, R)
    with pytest.raises(SegmentationFault) as ei:
        p2.mem_write(a, b"late")
    assert ei.value.code == "SEGV_ACCERR"
    assert p2.mem_read(a, 5) == b"grand"
    k.check_invariants()


def test_fork3_writable_wired_private_page_forked_twice_stays_isolated(k):
    """The wiring fault of a writable private entry is a write fault (FLT-12): NEEDS_COPY is
    resolved before the eager copy, so the child's entry is write-protected at its own fork and
    parent, child and grandchild each keep their own bytes."""
    p0 = k.spawn(uid=0)
    a = p0.mmap(0, 2 * PG, RW, ANON)
    p0.mem_write(a, b"parent" + bytes(PG - 6) + b"second")
    p1 = p0.fork()                                  # COW | NEEDS_COPY in both
    p1.mlock(a, 2 * PG)                             # a write wiring fault: private copies
    assert "NEEDS_COPY" not in entry_at(p1, a).flags
    p2 = p1.fork()                                  # eager copies
    assert "NEEDS_COPY" not in entry_at(p2, a).flags
    p2.mem_write(a, b"child")
    p3 = p2.fork()                                  # pmap_protect write-protects p2's copies
    p2.mem_write(a, b"CHILD")
    p3.mem_write(a + PG, b"GRAND")
    p1.mem_write(a, b"WIRED")
    p0.mem_write(a + PG, b"PAREN")
    assert p0.mem_read(a, 6) == b"parent" and p0.mem_read(a + PG, 6) == b"PARENd"
    assert p1.mem_read(a, 6) == b"WIREDt" and p1.mem_read(a + PG, 6) == b"second"
    assert p2.mem_read(a, 6) == b"CHILDt" and p2.mem_read(a + PG, 6) == b"second"
    assert p3.mem_read(a, 6) == b"childt" and p3.mem_read(a + PG, 6) == b"GRANDd"
    k.check_invariants()
