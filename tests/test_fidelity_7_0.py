"""Issue 9's audit re-checked against FreeBSD 7.x stable source (RELENG_7 as released in 7.3:
vm_page.c 1.357.2.11, vm_map.c 1.388.2.10, vm_fault.c 1.237.2.3, amd64 pmap.c 1.590.2.35): the
points where the model still differed from the C, one test each, named after the rule.

docs/errata.md records what each rule means for a program.  Every test ends with every process
exited and the kernel quiescent (the `k` fixture checks it).
"""
from __future__ import annotations

import os


from bsdvm import mman

PG = 4096
R, W = mman.PROT_READ, mman.PROT_WRITE
RW = R | W
ANON = mman.MAP_ANON | mman.MAP_PRIVATE
HIGH = 0x40000000                   # 2 MB aligned: one page-table page covers what tests map here


def entry_at(p, addr: int):
    return next(e for e in p.maps() if e.start <= addr < e.end)


def vm_object_at(p, addr: int):
    """The VM object of the map entry holding addr."""
    found, e = p.proc.p_vmspace.vm_map.lookup_entry(addr)
    assert found
    return e.object


def faults(k) -> int:
    return k.vmstat()["v_vm_faults"]


# -- vm_page_dontneed: clean pages at the head of the inactive queue -------------------------------

def test_dontneed_puts_clean_pages_at_the_inactive_head_and_dirty_ones_at_the_tail(k):
    """vm_page.c vm_page_dontneed(): `if (m->dirty || (dnw & 0x0070) == 0) head = 0; else
    head = 1; _vm_page_deactivate(m, head);` -- a clean page goes to the head of the inactive
    queue (TAILQ_INSERT_HEAD: the page daemon reaches it first) except on the calls whose count
    has bits 4..6 clear; a dirty page always goes to the tail."""
    p = k.spawn()
    fd = p.open("/clean", os.O_RDWR | os.O_CREAT, 0o644)
    p.write(fd, b"c" * (24 * PG))
    f = p.mmap(0, 24 * PG, R, mman.MAP_SHARED, fd, 0)
    p.madvise(f, 24 * PG, mman.MADV_RANDOM)             # no read-behind caching of clean pages
    for i in range(24):
        p.mem_read(f + i * PG, 1)
    a = p.mmap(HIGH, PG, RW, ANON | mman.MAP_FIXED)
    p.mem_write(a, b"dirty")
    fobj, aobj = vm_object_at(p, f), None
    phys = k.phys

    def order() -> list:
        return [("f", m.pindex) if m.object is fobj else ("a", m.pindex) if m.object is aobj
                else None for m in phys.inactive]

    assert phys.dnweight == 0 and not phys.inactive
    p.madvise(f, 20 * PG, mman.MADV_DONTNEED)           # calls 1-15 leave pages 0-14 alone
    aobj = vm_object_at(p, a)
    p.madvise(a, PG, mman.MADV_DONTNEED)                # call 21: dirty
    assert phys.dnweight == 21
    assert order() == [("f", 19), ("f", 18), ("f", 17), ("f", 16), ("f", 15), ("a", 0)]
    while phys.dnweight < 127:                          # a page already inactive: left alone
        p.madvise(f + 15 * PG, PG, mman.MADV_DONTNEED)
    p.madvise(f + 20 * PG, PG, mman.MADV_DONTNEED)      # call 128 (0x80): bits 4..6 clear: tail
    while phys.dnweight < 143:
        p.madvise(f + 15 * PG, PG, mman.MADV_DONTNEED)
    p.madvise(f + 21 * PG, PG, mman.MADV_DONTNEED)      # call 144 (0x90): head
    assert order() == [("f", 21), ("f", 19), ("f", 18), ("f", 17), ("f", 16), ("f", 15),
                       ("a", 0), ("f", 20)]
    assert p.mem_read(f + 21 * PG, 1) == b"c"           # never freed, never zeroed
    k.check_invariants()
    p.close(fd)


# -- vmspace_fork: the child's segment sizes are recomputed ----------------------------------------

def test_fork_recomputes_segment_sizes_from_the_entries_the_child_receives(k):
    """vm_map.c vmspace_fork(): vmspace_alloc() zeroes vm_tsize/vm_dsize/vm_ssize/vm_swrss and
    only vm_taddr, vm_daddr and vm_maxsaddr are copied; vmspace_map_entry_forked() adds each
    inherited entry: GROWS_DOWN/GROWS_UP entries to vm_ssize, entries starting in the parent's
    data (text) segment to vm_dsize (vm_tsize).  kern_fork.c fork1(): v_forkpages += the child's
    vm_dsize + vm_ssize."""
    p = k.spawn()
    pv = p.proc.p_vmspace
    stack = next(e for e in p.maps() if "GROWS_DOWN" in e.flags)
    grown = stack.end - stack.start
    p.mem_write(stack.start - PG, b"g")                 # vm_map_growstack: a new GROWS_DOWN piece
    pieces = [e for e in p.maps() if e.start >= stack.start - 2 * grown and e.end <= stack.end]
    assert [("GROWS_DOWN" in e.flags) for e in pieces] == [True, False]
    assert pv.vm_ssize == (grown + pieces[0].end - pieces[0].start) // PG
    data = entry_at(p, pv.vm_daddr)
    p.minherit(data.start, data.end - data.start, mman.INHERIT_NONE)
    before = k.vmstat()["v_forkpages"]
    c = p.fork()
    cv = c.proc.p_vmspace
    assert cv.vm_tsize == pv.vm_tsize                   # the text entry came along
    assert cv.vm_dsize == 0                             # the data entry did not
    assert cv.vm_ssize == (pieces[0].end - pieces[0].start) // PG   # only the flagged piece
    assert cv.vm_ssize < pv.vm_ssize
    assert (cv.vm_taddr, cv.vm_daddr, cv.vm_maxsaddr) == (pv.vm_taddr, pv.vm_daddr,
                                                          pv.vm_maxsaddr)
    assert cv.vm_map.size == sum(e.end - e.start for e in c.maps())
    assert k.vmstat()["v_forkpages"] - before == cv.vm_ssize
    assert c.brk_current() == cv.vm_daddr               # no data segment: the break at its base


# -- pmap_copy: the page-table page wire count stops the copy --------------------------------------

def test_pmap_copy_stops_when_the_childs_page_table_page_is_as_full_as_the_parents(k):
    """amd64 pmap.c pmap_copy(): after each managed translation, `if (dstmpte->wire_count >=
    srcmpte->wire_count) break;`.  vm_fault_copy_entry() entered the child's copies of two
    wired pages the parent has no translation for (mprotect took them away), so the child's
    page-table page reaches the parent's count two translations early and the last two pages
    of the next entry are not copied: the child faults on them."""
    p = k.spawn(uid=0)
    w = p.mmap(HIGH, 2 * PG, RW, ANON | mman.MAP_FIXED)
    p.mlock(w, 2 * PG)
    p.mprotect(w, 2 * PG, mman.PROT_NONE)               # translations go, the pages stay wired
    p.mprotect(w, 2 * PG, RW)
    b = p.mmap(HIGH + 8 * PG, 4 * PG, RW, ANON | mman.MAP_FIXED)
    for i in range(4):
        p.mem_write(b + i * PG, b"%d" % i)
    ppmap = p.proc.p_vmspace.vm_map.pmap
    assert ppmap.ptp[HIGH >> 21] == 4                   # the parent: b's four translations
    c = p.fork()
    cpmap = c.proc.p_vmspace.vm_map.pmap
    assert [(w + i * PG) >> 12 in cpmap.ptes for i in range(2)] == [True, True]
    assert [(b + i * PG) >> 12 in cpmap.ptes for i in range(4)] == [True, True, False, False]
    f0 = faults(k)
    assert c.mem_read(b + PG, 1) == b"1"                # copied: no fault
    assert faults(k) == f0
    assert c.mem_read(b + 2 * PG, 1) == b"2"            # not copied: a fault (which prefaults +1)
    assert faults(k) == f0 + 1
    assert c.mem_read(w, 1) == b"\0"
    k.check_invariants()
    c.exit()
    p.munlock(w, 2 * PG)
