"""The fidelity audit of issue 9 ("Divergences from FreeBSD 7"): one test per item, named after it
(AUDITn), each pinning down what FreeBSD 7.0's C does where the model used to differ.

The C each test follows is named in its docstring (file and function); docs/errata.md records the
consequences that are surprising.  Every test ends with every process exited and the kernel
quiescent (the `k` fixture checks it).
"""
from __future__ import annotations

import errno
import os

import pytest

from bsdvm import BusError, Kernel, SegmentationFault, mman
from bsdvm.kern.vfs import Vnode

PG = 4096
R, W = mman.PROT_READ, mman.PROT_WRITE
RW = R | W
ANON = mman.MAP_ANON | mman.MAP_PRIVATE
SHANON = mman.MAP_ANON | mman.MAP_SHARED
INCORE, REF, MOD = mman.MINCORE_INCORE, mman.MINCORE_REFERENCED, mman.MINCORE_MODIFIED
REF_O, MOD_O = mman.MINCORE_REFERENCED_OTHER, mman.MINCORE_MODIFIED_OTHER
HIGH = 0x40000000                   # 2 MB aligned: one page-table page covers what tests map here


def host(k, path: str) -> bytes:
    with open(os.path.join(k.root, path.lstrip("/")), "rb") as f:
        return f.read()


def mkfile(p, path: str, data: bytes) -> int:
    fd = p.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    assert p.write(fd, data) == len(data)
    return fd


def entry_at(p, addr: int):
    return next(e for e in p.maps() if e.start <= addr < e.end)


def faults(k) -> int:
    return k.vmstat()["v_vm_faults"]


# -- 1: minherit's vm_inherit_t is a char ----------------------------------------------------------

def test_minherit_stores_inherit_in_a_char_AUDIT1(k):
    """vm_mmap.c minherit(): `vm_inherit_t inherit = uap->inherit;` truncates the int to a (signed)
    char before vm_map_inherit() checks it against SHARE (0), COPY (1) and NONE (2)."""
    p = k.spawn()
    a = p.mmap(HIGH, 3 * PG, RW, ANON | mman.MAP_FIXED)
    p.minherit(a, PG, 256)                                  # (char) 256 == 0: SHARE
    p.minherit(a + PG, PG, 258)                             # (char) 258 == 2: NONE
    p.minherit(a + 2 * PG, PG, -254)                        # (char) -254 == 2: NONE
    assert [entry_at(p, a + i * PG).inheritance for i in range(3)] == [
        mman.INHERIT_SHARE, mman.INHERIT_NONE, mman.INHERIT_NONE]
    for bad in (3, 128, -1, 255):                           # 128 and 255 are negative chars
        with pytest.raises(OSError) as ei:
            p.minherit(a, PG, bad)
        assert ei.value.errno == errno.EINVAL
    p.mem_write(a, b"shared")
    c = p.fork()
    c.mem_write(a, b"SHARED")
    assert p.mem_read(a, 6) == b"SHARED"                    # really shared
    with pytest.raises(SegmentationFault):
        c.mem_read(a + PG, 1)                               # really not inherited


# -- 2: wired entries get wired translations; unwire goes by pmap_extract ---------------------------

def test_fault_on_wired_entry_enters_wired_translation_AUDIT2(k):
    """vm_fault.c vm_fault(): `pmap_enter(fs.map->pmap, vaddr, fs.m, prot, wired)` with `wired`
    from vm_map_lookup() (the entry's wiring); vm_fault_unwire() unwires every page
    pmap_extract() finds in the range."""
    p = k.spawn(uid=0)
    wired0 = k.vmstat()["v_wire_count"]
    a = p.mmap(HIGH, 2 * PG, RW, ANON | mman.MAP_FIXED)
    p.mlock(a, 2 * PG)
    pmap = p.proc.p_vmspace.vm_map.pmap
    assert k.vmstat()["v_wire_count"] == wired0 + 2 and pmap.wired_count == 2
    p.mprotect(a, 2 * PG, mman.PROT_NONE)                   # translations go, pages stay wired
    assert pmap.wired_count == 0
    p.mprotect(a, 2 * PG, RW)
    p.mem_write(a, b"x")                                    # an ordinary fault on a wired entry
    assert pmap.wired_count == 1                            # ... enters a wired translation
    p.munlock(a, 2 * PG)
    # page 0 is found by pmap_extract and unwired; page 1 has no translation and stays wired
    # (FreeBSD never frees it; bsdvm frees it when its object goes: docs/errata.md, OBJ-7)
    assert k.vmstat()["v_wire_count"] == wired0 + 1
    assert pmap.wired_count == 0
    k.check_invariants()
    p.munmap(a, 2 * PG)


# -- 3: no write-back on a reference drop that is not the last ------------------------------------

@pytest.mark.parametrize("how", ["madvise-pair", "partial-munmap"])
def test_vnode_pages_written_back_only_at_last_reference_AUDIT3(k, how):
    """vm_object.c vm_object_deallocate(): a vnode object's reference drop only vrele()s; dirty
    pages wait for msync or the syncer (the model: the last mapping reference, docs/errata.md)."""
    p = k.spawn()
    init = bytes(range(256)) * 32                           # two pages
    fd = mkfile(p, "/f", init)
    a = p.mmap(0, 2 * PG, RW, mman.MAP_SHARED, fd, 0)
    p.mem_write(a, b"dirty")
    out = k.vmstat()["v_vnodeout"]
    if how == "madvise-pair":
        p.madvise(a + PG, PG, mman.MADV_RANDOM)             # clips: the object gains references
        p.madvise(a + PG, PG, mman.MADV_NORMAL)             # simplify merges them back
        assert len([e for e in p.maps() if e.start >= a and e.end <= a + 2 * PG]) == 1
    else:
        p.munmap(a + PG, PG)                                # page 0 is still mapped
    assert k.vmstat()["v_vnodeout"] == out                  # nothing was written
    assert host(k, "/f") == init
    f0 = faults(k)
    p.mem_write(a + 8, b"again")                            # still writable: no fault
    assert faults(k) == f0
    p.munmap(a, 2 * PG if how == "madvise-pair" else PG)   # the last mapping reference
    assert host(k, "/f")[:13] == b"dirty\x05\x06\x07again"
    p.close(fd)


# -- 4: vm_fault_copy_entry leaves the child's eflags alone ---------------------------------------

def test_fork_of_wired_entry_keeps_cow_and_needs_copy_AUDIT4(k):
    """vm_fault.c vm_fault_copy_entry() never touches dst_entry->eflags (copied from the parent's
    entry by vmspace_fork()), and enters the copies with max_protection; vm_map.c
    vm_map_copy_entry() skips pmap_protect() for a NEEDS_COPY source entry."""
    p = k.spawn(uid=0)
    data = b"file" * 1024
    fd = mkfile(p, "/w", data)
    a = p.mmap(0, PG, R, mman.MAP_PRIVATE, fd, 0)           # COW | NEEDS_COPY
    p.mlock(a, PG)                                          # a read fault: NEEDS_COPY stays
    assert {"COW", "NEEDS_COPY", "USER_WIRED"} <= entry_at(p, a).flags
    c = p.fork()
    ce = entry_at(c, a)
    assert {"COW", "NEEDS_COPY"} <= ce.flags and ce.wired_count == 0
    assert ce.object_type == "default"                      # its own copy
    c.mem_write(a, b"child")                                # mapped with max_protection: no fault
    # the second fork: the child's entry is NEEDS_COPY, so its writable translation is left
    # writable, and pmap_copy() hands the grandchild a writable translation of the same page
    g = c.fork()
    c.mem_write(a, b"CHILD")
    assert g.mem_read(a, 5) == b"CHILD"                     # the grandchild sees the child's store
    g.mem_write(a, b"grand")
    assert c.mem_read(a, 5) == b"grand"                     # and the child the grandchild's
    assert p.mem_read(a, 5) == b"filef"                     # the parent is untouched
    assert host(k, "/w") == data
    k.check_invariants()
    p.close(fd)


# -- 5: msync with MSYNC_FLUSH_HARDSEQ -------------------------------------------------------------

def test_msync_hardseq_flushes_adjacent_run_and_returns_early_AUDIT5(k):
    """vm_object.c vm_object_page_clean() (msync_flush_flags = HARDSEQ | SOFTSEQ) and
    vm_object_page_collect_flush(): the dirty run around a dirty page goes out in one put; a
    partial range returns before the pass that write-protects every page."""
    p = k.spawn()
    init = bytes(4 * PG)
    fd = mkfile(p, "/h", init)
    a = p.mmap(0, 4 * PG, RW, mman.MAP_SHARED, fd, 0)
    for i in (0, 1, 3):
        p.mem_write(a + i * PG, b"page%d" % i)
    st = k.vmstat()
    p.msync(a, PG, mman.MS_SYNC)                            # page 0 only ...
    st2 = k.vmstat()
    assert st2["v_vnodeout"] - st["v_vnodeout"] == 1        # ... one put
    assert st2["v_vnodepgsout"] - st["v_vnodepgsout"] == 2  # ... of pages 0 and 1
    h = host(k, "/h")
    assert h[:5] == b"page0" and h[PG:PG + 5] == b"page1"
    assert h[3 * PG:3 * PG + 5] == bytes(5)                 # page 3 is not adjacent
    vec = p.mincore(a, 4 * PG)
    assert vec[3] & MOD                                     # still writable, M bit set
    assert not vec[0] & (MOD | MOD_O) and not vec[1] & (MOD | MOD_O)
    f0 = faults(k)
    p.mem_write(a + 3 * PG + 8, b"!")
    assert faults(k) == f0
    p.munmap(a, 4 * PG)
    assert host(k, "/h")[3 * PG:3 * PG + 9] == b"page3\0\0\0!"
    p.close(fd)


# -- 6: amd64 non-canonical addresses --------------------------------------------------------------

@pytest.mark.parametrize("addr", [0x0000800000000000, 0x00012345_00000000, 0xFFFF7FFFFFFFF000])
def test_noncanonical_access_is_sigbus_objerr_AUDIT6(k, addr):
    """amd64 trap.c trap(): a non-canonical address raises #GP (T_PROTFLT), which user mode turns
    into SIGBUS with BUS_OBJERR."""
    p = k.spawn()
    with pytest.raises(BusError) as ei:
        p.mem_read(addr, 1)
    assert ei.value.code == "BUS_OBJERR"
    with pytest.raises(BusError) as ei:
        p.mem_write(addr + 8, b"x")
    assert ei.value.code == "BUS_OBJERR" and ei.value.write


def test_canonical_unmapped_access_is_still_segv_AUDIT6(k):
    """A canonical address takes a page fault (trap_pfault): SIGSEGV/SEGV_MAPERR, kernel half
    included; i386 has no non-canonical addresses."""
    p = k.spawn()
    for addr in (0x0000700000000000, 0xFFFF800000000000):
        with pytest.raises(SegmentationFault) as ei:
            p.mem_read(addr, 1)
        assert ei.value.code == "SEGV_MAPERR"
    with Kernel(arch="i386") as k32:
        q = k32.spawn()
        with pytest.raises(SegmentationFault):
            q.mem_read(0xC0000000, 1)
        q.exit()


# -- 7: pmap_protect clears A ---------------------------------------------------------------------

def test_pmap_protect_moves_a_bit_to_pg_referenced_AUDIT7(k):
    """amd64 pmap.c pmap_protect(): for a managed translation losing write access, PG_A goes to
    PG_REFERENCED and PG_M to the page's dirty field."""
    p = k.spawn()
    a = p.mmap(HIGH, 2 * PG, RW, ANON | mman.MAP_FIXED)
    p.mem_write(a, b"x")
    p.mem_write(a + PG, b"y")
    assert p.mincore(a, PG)[0] == INCORE | REF | MOD | REF_O | MOD_O
    p.mprotect(a, PG, R)
    assert p.mincore(a, PG)[0] == INCORE | MOD_O | REF_O          # 25, not 27
    c = p.fork()                                                  # vm_map_copy_entry's protect
    assert p.mincore(a + PG, PG)[0] == INCORE | MOD_O | REF_O
    c.exit()


# -- 8: pmap_enter sets A --------------------------------------------------------------------------

def test_pmap_enter_sets_the_a_bit_AUDIT8(k):
    """amd64 pmap.c pmap_enter(): a new (or changed) translation is stored `newpte | PG_A`."""
    p = k.spawn(uid=0)
    a = p.mmap(HIGH, PG, RW, ANON | mman.MAP_FIXED)
    p.mlock(a, PG)                                          # a wiring fault, no user access
    assert p.mincore(a, PG)[0] == INCORE | REF | REF_O      # 11, not 9
    p.mem_write(a, b"w")
    c = p.fork()                                            # vm_fault_copy_entry's pmap_enter
    # the copy is dirty (docs/errata.md, FORK-3) and its translation has A set
    assert c.mincore(a, PG)[0] == INCORE | REF | REF_O | MOD_O     # 27, not 17
    c.exit()
    p.munlock(a, PG)


# -- 9: vm_page_dontneed clears the reference bits -------------------------------------------------

def test_madvise_dontneed_clears_reference_bits_AUDIT9(k):
    """vm_page.c vm_page_dontneed(): `dnw = ++dnweight`; calls with (dnw & 0x1F0) == 0 (the first
    15, then one in 32) and pages already inactive are left alone; the others lose
    PG_REFERENCED and every A bit (pmap_clear_reference) and are deactivated."""
    p = k.spawn()
    n = 20
    a = p.mmap(HIGH, n * PG, RW, ANON | mman.MAP_FIXED)
    for i in range(n):
        p.mem_write(a + i * PG, b"z")
    p.madvise(a, n * PG, mman.MADV_DONTNEED)
    vec = p.mincore(a, n * PG)
    full = INCORE | REF | MOD | REF_O | MOD_O
    assert vec[:15] == bytes([full]) * 15                   # left alone: 31
    assert vec[15:] == bytes([INCORE | MOD | MOD_O]) * 5    # 21
    p.madvise(a, n * PG, mman.MADV_FREE)                    # calls 21..40 act; MADV_FREE cleans
    vec = p.mincore(a, n * PG)
    assert vec[:15] == bytes([INCORE]) * 15
    assert vec[15:] == bytes([INCORE]) * 5                  # already inactive: left alone
    assert p.mem_read(a + 3 * PG, 1) == b"z"                # never zeroed while resident


# -- 10: pmap_copy at fork -------------------------------------------------------------------------

def test_fork_copies_translations_without_w_m_a_AUDIT10(k):
    """vm_map.c vmspace_fork() and vm_map_copy_entry() call pmap_copy(); amd64's copies every
    managed translation without PG_W, PG_M and PG_A."""
    p = k.spawn()
    a = p.mmap(HIGH, 2 * PG, RW, ANON | mman.MAP_FIXED)                 # COPY
    s = p.mmap(HIGH + 2 * PG, PG, RW, SHANON | mman.MAP_FIXED)          # SHARE
    p.mem_write(a, b"private")
    p.mem_write(s, b"shared")
    c = p.fork()
    assert c.mincore(a, 2 * PG) == bytes([INCORE | MOD_O | REF_O, 0])   # page 1 never existed
    assert c.mincore(s, PG)[0] == INCORE | MOD_O | REF_O
    f0 = faults(k)
    assert c.mem_read(a, 7) == b"private"                   # read through the copied translation
    c.mem_write(s, b"SHARED")                               # the shared one stayed writable
    assert faults(k) == f0
    assert p.mem_read(s, 6) == b"SHARED"
    c.mem_write(a, b"PRIVATE")                              # copy-on-write still faults
    assert faults(k) == f0 + 1
    assert p.mem_read(a, 7) == b"private"
    k.check_invariants()


# -- 11: vm_fault_prefault's order and its stop at a missing page ---------------------------------

def _resident_unmapped(k, p, present):
    """Pages `present` of a 16-page region at HIGH resident, none of them mapped."""
    a = p.mmap(HIGH, 16 * PG, RW, ANON | mman.MAP_FIXED)
    for i in present:
        p.mem_write(a + i * PG, b"%d" % i)
    p.mprotect(a, 16 * PG, mman.PROT_NONE)                  # pmap_remove: translations go
    p.mprotect(a, 16 * PG, RW)
    return a


def test_prefault_stops_at_first_missing_page_AUDIT11(k):
    """vm_fault.c vm_fault_prefault(): prefault_pageorder is -1, +1, -2, +2 ... pages, and a
    neighbour with no resident page ends the walk ("give-up when a page is not in memory")."""
    p = k.spawn()
    a = _resident_unmapped(k, p, [4, 5, 6, 8, 9, 10, 11, 12])      # page 7 is missing
    p.mem_read(a + 8 * PG, 1)                               # visits page 7 first: stop
    f0 = faults(k)
    p.mem_read(a + 9 * PG, 1)
    assert faults(k) == f0 + 1                              # +1 was not prefaulted
    p.munmap(a, 16 * PG)
    b = _resident_unmapped(k, p, [4, 5, 6, 7, 8, 10, 11, 12])      # page 9 is missing
    p.mem_read(b + 8 * PG, 1)                               # -1 mapped, then +1 missing: stop
    f0 = faults(k)
    p.mem_read(b + 7 * PG, 1)
    assert faults(k) == f0
    p.mem_read(b + 6 * PG, 1)
    assert faults(k) == f0 + 1


def test_prefault_needs_a_page_table_page_AUDIT11(k):
    """amd64 pmap.c pmap_is_prefaultable(): no page-table page for the address, no prefault."""
    p = k.spawn()
    base = HIGH + 2 * 1024 * 1024                           # a 2 MB boundary
    a = p.mmap(base - 4 * PG, 8 * PG, RW, ANON | mman.MAP_FIXED)
    for i in range(8):
        p.mem_write(a + i * PG, b"p")
    p.mprotect(a, 8 * PG, mman.PROT_NONE)
    p.mprotect(a, 8 * PG, RW)
    p.mem_read(base, 1)                                     # the first page above the boundary
    f0 = faults(k)
    p.mem_read(base + PG, 1)                                # same page-table page: prefaulted
    assert faults(k) == f0
    p.mem_read(base - PG, 1)                                # the other one did not exist yet
    assert faults(k) == f0 + 1


# -- 12: mincore past the last entry returns a full vector ----------------------------------------

def test_mincore_past_last_entry_returns_full_vector_AUDIT12(k):
    """vm_mmap.c mincore(): the MIN-4 range running past the last entry succeeds, and the final
    zero-fill loop writes the vector up to its last byte but one (MIN-8): the caller's vector
    has one byte per page, and so has the one Process.mincore returns."""
    p = k.spawn()
    for e in p.maps():
        p.munmap(e.start, e.end - e.start)
    a = p.mmap(HIGH, PG, RW, ANON | mman.MAP_FIXED)
    p.mmap(HIGH + PG, PG, R, ANON | mman.MAP_FIXED)         # the last entry: 2 pages mapped
    p.mem_write(a, b"x")
    vec = p.mincore(a, 64 * PG, fill=0xAA)
    # the zero fill starts at lastvecindex (MIN-7), so it also clears page 0's byte
    assert vec == bytes(63) + b"\xaa"


# -- 13: device pages are unmanaged ----------------------------------------------------------------

def test_device_page_modify_bit_is_invisible_AUDIT13(k):
    """amd64 pmap.c pmap_is_modified() returns FALSE for a PG_FICTITIOUS page (no pv entries):
    mincore through another mapping of a device page written without a write fault shows no
    MINCORE_MODIFIED_OTHER."""
    k.make_dev("fb0", 4 * PG)
    p = k.spawn()
    fd = p.open("/dev/fb0", os.O_RDWR)
    a = p.mmap(0, PG, RW, mman.MAP_SHARED, fd, 0)
    b = p.mmap(0, PG, RW, mman.MAP_SHARED, fd, 0)
    assert p.mem_read(a, 1) == b"\0"                        # a read fault maps it writable
    p.mem_write(a, b"pixel")                                # no fault: only the PTE's M bit
    assert p.mincore(a, PG)[0] == INCORE                    # unmanaged: INCORE only
    assert p.mincore(b, PG)[0] == INCORE | REF_O            # 9, not 25
    p.close(fd)


# -- 14: v_ozfod -----------------------------------------------------------------------------------

def test_ozfod_counts_only_prezeroed_fills_AUDIT14(k):
    """vm_fault.c vm_fault(): v_ozfod is counted only when the page came PG_ZERO (pre-zeroed);
    the model has no idle zeroing, so every fill zeroes its page and v_ozfod stays 0."""
    p = k.spawn()
    st = k.vmstat()
    a = p.mmap(0, 4 * PG, RW, ANON)
    for i in range(4):
        p.mem_write(a + i * PG, b"z")
    st2 = k.vmstat()
    assert st2["v_zfod"] - st["v_zfod"] == 4
    assert st2["v_ozfod"] == st["v_ozfod"] == 0


# -- 15: v_forkpages -------------------------------------------------------------------------------

def test_forkpages_counts_data_and_stack_only_AUDIT15(k):
    """kern_fork.c fork1(): v_forkpages += the child's vm_dsize + vm_ssize."""
    p = k.spawn()
    p.mmap(0, 64 * PG, RW, ANON)                            # neither data nor stack
    before = k.vmstat()["v_forkpages"]
    c = p.fork()
    vms = c.proc.p_vmspace
    added = k.vmstat()["v_forkpages"] - before
    assert added == vms.vm_dsize + vms.vm_ssize
    assert added < vms.vm_map.size // PG


# -- errata: an exception raised mid-fault ----------------------------------------------------------

@pytest.mark.parametrize("where", ["first-object", "backing-object"])
def test_exception_mid_fault_leaves_gauges_consistent(k, monkeypatch, where):
    """A Python exception (KeyboardInterrupt) raised during a fault's host I/O propagates, and
    leaves no page frame allocated but on no queue: free + active + inactive + wired still add
    up to the page count, and the next access faults the page in normally."""
    p = k.spawn()
    fd = mkfile(p, "/ki", b"k" * 4 * PG)
    flags = mman.MAP_SHARED if where == "first-object" else mman.MAP_PRIVATE
    a = p.mmap(0, 4 * PG, RW, flags, fd, 0)

    def gauges() -> int:
        s = k.vmstat()
        return (s["v_free_count"] + s["v_active_count"] + s["v_inactive_count"]
                + s["v_wire_count"])

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    assert gauges() == k.vmstat()["v_page_count"]
    monkeypatch.setattr(Vnode, "host_pread", interrupted)
    with pytest.raises(KeyboardInterrupt):
        p.mem_read(a + PG, 1)
    monkeypatch.undo()
    assert gauges() == k.vmstat()["v_page_count"]
    k.check_invariants()
    assert p.mem_read(a + PG, 2) == b"kk"
    assert gauges() == k.vmstat()["v_page_count"]
    p.close(fd)


# -- errata: a copy-on-write view of shared anonymous memory ---------------------------------------

def test_minherit_copy_view_of_shared_anon_can_become_a_snapshot(k):
    """vm_fault.c vm_fault(): a page found in no object of the chain is zero-filled in the *first*
    object.  Once a COPY-inherited view of shared anonymous memory has its own shadow (after its
    first write), a read of a page the shared object does not have yet fills a zero page in the
    view's shadow, which hides the sharers' later stores to that page."""
    p = k.spawn()
    s = p.mmap(HIGH, 2 * PG, RW, SHANON | mman.MAP_FIXED)
    sharer = p.fork()                                       # INHERIT_SHARE: a true sharer
    p.minherit(s, 2 * PG, mman.INHERIT_COPY)
    view = p.fork()                                         # a copy-on-write view of it
    view.mem_write(s, b"v")                                 # the view gets its own shadow
    assert view.mem_read(s + PG, 1) == b"\0"                # zero-filled in the view's shadow
    sharer.mem_write(s + PG, b"later")
    assert view.mem_read(s + PG, 5) == bytes(5)             # the view does not see it
    k.check_invariants()
