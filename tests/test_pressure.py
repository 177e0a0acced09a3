"""Issue 3: memory pressure — the page daemon, the swap pager, vnode page-out and the OOM kill.

Small machines (Kernel(physmem="4M")) are overcommitted several times over; every byte written must
come back, every frame and swap block must be accounted for, and the queues must behave as
FreeBSD 7's vm_pageout.c / vm_object_madvise make them behave.
"""
from __future__ import annotations

import errno
import os
import struct

import pytest

import bsdvm
from bsdvm import Kernel, mman
from bsdvm.vm.invariants import check_quiescent
from bsdvm.vm.param import PQ_ACTIVE, PQ_INACTIVE, PQ_NONE

PG = 4096
RW = mman.PROT_READ | mman.PROT_WRITE
ANON = mman.MAP_ANON | mman.MAP_PRIVATE


def pat(i: int, tag: int = 0) -> bytes:
    """A page whose every 8 bytes name its index and a tag: misplaced pages cannot pass."""
    return struct.pack("<II", tag, i) * (PG // 8)


def user_pages(k) -> int:
    return k.phys.npages - k.phys.kernel_wired


def anon(p, npages: int) -> int:
    return p.mmap(0, npages * PG, RW, ANON)


def fill(p, a: int, npages: int, tag: int = 0, step: int = 1) -> None:
    for i in range(0, npages, step):
        p.mem_write(a + i * PG, pat(i, tag))


def page_of(p, va: int):
    """The vm_page behind va's translation (None when not mapped)."""
    pte = p.proc.p_vmspace.vm_map.pmap.ptes.get(va >> 12)
    return None if pte is None else pte.page


def squeeze(k, factor: float = 2.0) -> None:
    """Apply memory pressure from a throwaway process: touch `factor` x physmem, then exit."""
    q = k.spawn(uid=1001, gid=1001)
    n = int(user_pages(k) * factor)
    a = anon(q, n)
    for i in range(n):
        q.mem_write(a + i * PG, b"\xa5" * 16)
    q.exit()


def delta(before: dict, after: dict, *names) -> dict:
    return {n: after[n] - before[n] for n in names}


@pytest.fixture
def k():
    kern = Kernel(physmem="4M", swap="64M")
    yield kern
    kern.close()


# -- anonymous memory, 4x overcommit --------------------------------------------------------------

def test_anon_4x_physmem_round_trip(k):
    p = k.spawn(uid=1000, gid=1000)
    n = 4 * k.phys.npages
    a = anon(p, n)
    v0 = k.vmstat()
    fill(p, a, n, tag=7)
    v1 = k.vmstat()
    assert v1["v_swapout"] > v0["v_swapout"]
    assert v1["v_swappgsout"] >= v1["v_swapout"]
    assert v1["v_swap_used"] > 0
    assert k.sysctl("vm.swap_reserved") == v1["v_swap_used"] * PG
    assert k.sysctl("vm.swap_total") == 64 << 20
    for i in range(n):
        assert p.mem_read(a + i * PG, PG) == pat(i, 7), f"page {i} corrupted"
    v2 = k.vmstat()
    d = delta(v0, v2, "v_swapout", "v_swapin", "v_swappgsin", "v_pdwakeups", "v_pdpages",
              "v_dfree")
    assert d["v_swapin"] > 0 and d["v_swappgsin"] >= d["v_swapin"]
    assert d["v_swapout"] >= n - user_pages(k)
    assert d["v_pdwakeups"] > 0 and d["v_pdpages"] > 0 and d["v_dfree"] > 0
    # the gauges are read from the queues
    assert v2["v_active_count"] + v2["v_inactive_count"] + v2["v_free_count"] \
        + v2["v_wire_count"] <= k.phys.npages
    assert v2["v_free_count"] == k.phys.free_count
    # procstat's resident figure cannot exceed the frames we have
    (e,) = [e for e in p.maps() if e.start == a]
    assert 0 < e.resident <= user_pages(k)
    assert e.object_type == "swap"
    k.check_invariants()
    p.exit()
    check_quiescent(k)


def test_partial_page_writes_survive_swap(k):
    """Sub-page writes into swapped-out pages page them in first (no lost neighbours)."""
    p = k.spawn(uid=1000, gid=1000)
    n = 3 * k.phys.npages
    a = anon(p, n)
    fill(p, a, n, tag=1)
    for i in range(0, n, 5):
        p.mem_write(a + i * PG + 100, b"XYZ")
    for i in range(n):
        want = bytearray(pat(i, 1))
        if i % 5 == 0:
            want[100:103] = b"XYZ"
        assert p.mem_read(a + i * PG, PG) == want, i
    k.check_invariants()
    p.exit()
    check_quiescent(k)


# -- copy-on-write across fork, under pressure ----------------------------------------------------

def test_fork_cow_pages_swapped_out_and_in(k):
    parent = k.spawn(uid=1000, gid=1000)
    n = 3 * k.phys.npages
    a = anon(parent, n)
    fill(parent, a, n, tag=1)               # much of it is in swap before the fork
    child = parent.fork()
    v0 = k.vmstat()
    fill(parent, a, n, tag=2, step=2)       # parent: even pages
    fill(child, a, n, tag=3, step=3)        # child: every third page
    v1 = k.vmstat()
    assert v1["v_cow_faults"] > v0["v_cow_faults"]

    def want_parent(i):
        return pat(i, 2) if i % 2 == 0 else pat(i, 1)

    def want_child(i):
        return pat(i, 3) if i % 3 == 0 else pat(i, 1)

    # interleave the readers so that each one's pages push the other's out
    for i in range(n):
        assert parent.mem_read(a + i * PG, PG) == want_parent(i), ("parent", i)
        assert child.mem_read(a + i * PG, PG) == want_child(i), ("child", i)
    v2 = k.vmstat()
    assert v2["v_swapin"] > v0["v_swapin"] and v2["v_swapout"] > v0["v_swapout"]
    k.check_invariants()
    # the child leaves: its shadow goes, the parent's chain collapses with swapped pages in it
    child.exit()
    k.check_invariants()
    fill(parent, a, n, tag=4, step=7)
    for i in range(n):
        w = pat(i, 4) if i % 7 == 0 else want_parent(i)
        assert parent.mem_read(a + i * PG, PG) == w, ("parent after child exit", i)
    k.check_invariants()
    parent.exit()
    check_quiescent(k)


def test_fork_of_fork_under_pressure(k):
    """Three generations share swapped pages; each sees only its own writes."""
    p0 = k.spawn(uid=1000, gid=1000)
    n = 2 * k.phys.npages
    a = anon(p0, n)
    fill(p0, a, n, tag=10)
    p1 = p0.fork()
    fill(p1, a, n, tag=11, step=4)
    p2 = p1.fork()
    fill(p2, a, n, tag=12, step=5)
    fill(p0, a, n, tag=13, step=6)
    views = {
        p0: lambda i: pat(i, 13) if i % 6 == 0 else pat(i, 10),
        p1: lambda i: pat(i, 11) if i % 4 == 0 else pat(i, 10),
        p2: lambda i: (pat(i, 12) if i % 5 == 0 else pat(i, 11) if i % 4 == 0
                       else pat(i, 10)),
    }
    for proc in (p2, p0, p1):
        for i in range(n):
            assert proc.mem_read(a + i * PG, PG) == views[proc](i), (proc, i)
    p1.exit()
    k.check_invariants()
    for proc in (p0, p2):
        for i in range(0, n, 3):
            assert proc.mem_read(a + i * PG, PG) == views[proc](i), (proc, i)
    p0.exit()
    p2.exit()
    check_quiescent(k)


# -- vnode page-out and page-in -------------------------------------------------------------------

def test_shared_file_mapping_larger_than_physmem(k):
    p = k.spawn(uid=1000, gid=1000)
    n = 3 * k.phys.npages
    fd = p.open("/big.bin", os.O_RDWR | os.O_CREAT, 0o644)
    p.ftruncate(fd, n * PG)
    host = os.path.join(k.root, "big.bin")
    os.utime(host, (1_000_000, 1_000_000))
    a = p.mmap(0, n * PG, RW, mman.MAP_SHARED, fd, 0)
    v0 = k.vmstat()
    fill(p, a, n, tag=5)
    v1 = k.vmstat()
    d = delta(v0, v1, "v_vnodeout", "v_vnodepgsout", "v_swapout")
    assert d["v_vnodeout"] > 0 and d["v_vnodepgsout"] >= n - user_pages(k)
    assert d["v_swapout"] == 0, "file pages must go to their file, not to swap"
    assert k.swap.used == 0
    # pages the daemon cleaned are in the host file already, before any msync
    with open(host, "rb") as f:
        early = f.read(PG)
    assert early == pat(0, 5)
    assert p.fstat(fd).st_mtime > 1_000_000          # vnode page-out updated mtime
    # read(2) is coherent with the mapping, resident or not
    for i in range(0, n, 1):
        assert p.pread(fd, PG, i * PG) == pat(i, 5), i
    # and the mapping reads back (vnode page-in) intact
    v2 = k.vmstat()
    for i in range(n):
        assert p.mem_read(a + i * PG, PG) == pat(i, 5), i
    v3 = k.vmstat()
    assert v3["v_vnodein"] > v2["v_vnodein"]
    assert v3["v_vnodepgsin"] >= v3["v_vnodein"]
    p.msync(a, n * PG, mman.MS_SYNC)
    with open(host, "rb") as f:
        data = f.read()
    assert len(data) == n * PG
    for i in range(n):
        assert data[i * PG:(i + 1) * PG] == pat(i, 5), i
    k.check_invariants()
    p.munmap(a, n * PG)
    p.close(fd)
    p.exit()
    check_quiescent(k)


def test_vnode_pageout_within_eof_and_pagein_zero_fill(k):
    p = k.spawn(uid=1000, gid=1000)
    size = 3 * PG + 1000                      # the last page is mostly beyond EOF
    fd = p.open("/tail.bin", os.O_RDWR | os.O_CREAT, 0o644)
    p.write(fd, b"\x11" * size)
    host = os.path.join(k.root, "tail.bin")
    a = p.mmap(0, 4 * PG, RW, mman.MAP_SHARED, fd, 0)
    p.mem_write(a + 3 * PG, b"\x22" * PG)     # 1000 bytes in the file, 3096 beyond EOF
    p.mem_write(a, b"\x33" * 10)
    v0 = k.vmstat()
    squeeze(k, 2.0)
    assert k.vmstat()["v_vnodeout"] > v0["v_vnodeout"]
    assert p.mincore(a + 3 * PG, PG)[0] & mman.MINCORE_INCORE == 0, "tail page not paged out"
    # page-out wrote only the bytes inside the file
    assert os.path.getsize(host) == size
    with open(host, "rb") as f:
        data = f.read()
    assert data[:10] == b"\x33" * 10
    assert data[10:3 * PG] == b"\x11" * (3 * PG - 10)
    assert data[3 * PG:] == b"\x22" * 1000
    assert p.fstat(fd).st_size == size
    # page-in: the file's bytes, then zeros past EOF (what was written there is gone)
    tail = p.mem_read(a + 3 * PG, PG)
    assert tail == b"\x22" * 1000 + bytes(PG - 1000)
    assert p.pread(fd, 2 * PG, 2 * PG) == b"\x11" * PG + b"\x22" * 1000
    k.check_invariants()
    p.exit()
    check_quiescent(k)


def test_private_file_mapping_cow_pages_go_to_swap(k):
    """MAP_PRIVATE writes never reach the file, even when the daemon evicts them."""
    p = k.spawn(uid=1000, gid=1000)
    n = 2 * k.phys.npages
    fd = p.open("/priv.bin", os.O_RDWR | os.O_CREAT, 0o644)
    p.write(fd, b"".join(pat(i, 1) for i in range(n)))
    a = p.mmap(0, n * PG, RW, mman.MAP_PRIVATE, fd, 0)
    fill(p, a, n, tag=2, step=2)
    squeeze(k, 1.5)
    for i in range(n):
        assert p.mem_read(a + i * PG, PG) == (pat(i, 2) if i % 2 == 0 else pat(i, 1)), i
    with open(os.path.join(k.root, "priv.bin"), "rb") as f:
        data = f.read()
    assert all(data[i * PG:(i + 1) * PG] == pat(i, 1) for i in range(n))
    assert k.vmstat()["v_swapout"] > 0
    p.exit()
    check_quiescent(k)


# -- wired pages ----------------------------------------------------------------------------------

def test_mlocked_pages_stay_resident_under_pressure(k):
    p = k.spawn(uid=0, gid=0)
    nlock = 64
    a = anon(p, nlock)
    fill(p, a, nlock, tag=9)
    wired0 = k.vmstat()["v_wire_count"]
    p.mlock(a, nlock * PG)
    assert k.vmstat()["v_wire_count"] == wired0 + nlock
    pages = [page_of(p, a + i * PG) for i in range(nlock)]
    v0 = k.vmstat()
    squeeze(k, 3.0)
    v1 = k.vmstat()
    assert v1["v_swapout"] > v0["v_swapout"], "no pressure happened"
    vec = p.mincore(a, nlock * PG)
    assert all(b & mman.MINCORE_INCORE for b in vec)
    for i, m in enumerate(pages):
        assert page_of(p, a + i * PG) is m, "a wired page moved"
        assert m.wire_count > 0 and m.queue == PQ_NONE and m.object is not None
    assert v1["v_wire_count"] == wired0 + nlock
    (e,) = [e for e in p.maps() if e.start == a]
    assert e.wired_count == 1 and "USER_WIRED" in e.flags
    for i in range(nlock):
        assert p.mem_read(a + i * PG, PG) == pat(i, 9)
    p.munlock(a, nlock * PG)
    assert k.vmstat()["v_wire_count"] == wired0
    assert all(m.queue in (PQ_ACTIVE, PQ_INACTIVE) and not m.wire_count for m in pages)
    squeeze(k, 2.0)
    for i in range(nlock):
        assert p.mem_read(a + i * PG, PG) == pat(i, 9)
    k.check_invariants()
    p.exit()
    check_quiescent(k)


def test_mlockall_future_under_pressure(k):
    p = k.spawn(uid=0, gid=0)
    p.mlockall(mman.MCL_CURRENT | mman.MCL_FUTURE)
    n = 32
    a = anon(p, n)                            # wired at mmap time
    fill(p, a, n, tag=4)
    squeeze(k, 2.0)
    assert all(b & mman.MINCORE_INCORE for b in p.mincore(a, n * PG))
    assert all(page_of(p, a + i * PG).wire_count for i in range(n))
    assert all(p.mem_read(a + i * PG, PG) == pat(i, 4) for i in range(n))
    p.munlockall()
    p.exit()
    check_quiescent(k)


# -- the out-of-memory kill -----------------------------------------------------------------------

def _hog(k, uid, npages, tag):
    q = k.spawn(uid=uid, gid=uid)
    a = anon(q, npages)
    fill(q, a, npages, tag=tag)
    return q, a


def test_oom_kills_largest_unprotected_process():
    with Kernel(physmem="2M", swap="1M") as k:
        total = user_pages(k) + k.swap.nblocks
        guard, ga = _hog(k, 0, total * 2 // 5, 1)        # the largest of all, but protected
        guard.madvise(0, 0, mman.MADV_PROTECT)
        assert guard.protected
        big, ba = _hog(k, 1000, total * 7 // 20, 2)      # the largest unprotected one
        small = k.spawn(uid=1001, gid=1001)
        nsmall = total * 3 // 10
        sa = anon(small, nsmall)
        fill(small, sa, nsmall, tag=3)                   # pushes the machine past its end
        k.check_invariants()
        assert k.pagedaemon.oom_kills == [big.pid]
        assert not big.alive and guard.alive and small.alive
        with pytest.raises(bsdvm.ProcessKilled):
            big.mem_read(ba, 1)
        with pytest.raises(bsdvm.ProcessKilled):
            big.mmap(0, PG, RW, ANON)
        with pytest.raises(bsdvm.ProcessKilled):
            big.maps()
        for i in range(total * 2 // 5):
            assert guard.mem_read(ga + i * PG, PG) == pat(i, 1), ("guard", i)
        for i in range(nsmall):
            assert small.mem_read(sa + i * PG, PG) == pat(i, 3), ("small", i)
        # the protected process keeps working: new memory, a fork, a write
        b = anon(guard, 8)
        fill(guard, b, 8, tag=5)
        assert guard.mem_read(b + 7 * PG, PG) == pat(7, 5)
        k.check_invariants()
        guard.exit()
        small.exit()
        big.exit()                                       # already gone: a no-op
        check_quiescent(k)


def test_oom_kills_the_faulting_process_itself():
    with Kernel(physmem="2M", swap="1M") as k:
        total = user_pages(k) + k.swap.nblocks
        keep, ka = _hog(k, 1000, total // 4, 1)
        greedy = k.spawn(uid=1001, gid=1001)
        n = total                                        # can never fit
        a = anon(greedy, n)
        with pytest.raises(bsdvm.ProcessKilled):
            fill(greedy, a, n, tag=2)
        assert not greedy.alive and keep.alive
        assert k.pagedaemon.oom_kills == [greedy.pid]
        with pytest.raises(bsdvm.ProcessKilled):
            greedy.mem_write(a, b"x")
        for i in range(total // 4):
            assert keep.mem_read(ka + i * PG, PG) == pat(i, 1)
        k.check_invariants()
        keep.exit()
        check_quiescent(k)


def test_madv_protect_needs_privilege(k):
    p = k.spawn(uid=1000, gid=1000)
    with pytest.raises(OSError):
        p.madvise(0, 0, mman.MADV_PROTECT)
    assert not p.protected
    r = k.spawn(uid=0, gid=0)
    r.madvise(0, 0, mman.MADV_PROTECT)
    assert r.protected
    assert not r.fork().protected                        # not inherited


# -- madvise and the page queues (OBJ-15) ---------------------------------------------------------

def test_madv_willneed_and_dontneed_move_pages_between_queues(k):
    p = k.spawn(uid=1000, gid=1000)
    n = 16
    a = anon(p, n)
    fill(p, a, n, tag=1)
    pages = [page_of(p, a + i * PG) for i in range(n)]
    assert all(m.queue == PQ_ACTIVE for m in pages)
    k.phys.dnweight = 15    # past vm_page_dontneed's first 15 calls, which leave pages alone
    p.madvise(a, n * PG, mman.MADV_DONTNEED)
    for m in pages:
        assert m.queue == PQ_INACTIVE       # (_vm_page_deactivate leaves act_count alone)
        assert m.object is not None and m.valid, "DONTNEED must not free the page"
    # DONTNEED keeps the data (and the dirty state: the daemon must save it)
    assert all(p.mem_read(a + i * PG, PG) == pat(i, 1) for i in range(n))
    p.madvise(a, n * PG, mman.MADV_DONTNEED)
    squeeze(k, 2.0)
    assert all(p.mem_read(a + i * PG, PG) == pat(i, 1) for i in range(n))
    # WILLNEED activates resident pages and maps them again
    pages = [page_of(p, a + i * PG) for i in range(n)]
    p.madvise(a, n * PG, mman.MADV_DONTNEED)
    for m in pages:
        assert m.queue == PQ_INACTIVE
    p.madvise(a, n * PG, mman.MADV_WILLNEED)
    assert all(m.queue == PQ_ACTIVE for m in pages)
    assert all(b & mman.MINCORE_INCORE for b in p.mincore(a, n * PG))
    p.exit()
    check_quiescent(k)


def test_madv_dontneed_pages_are_preferred_victims(k):
    p = k.spawn(uid=1000, gid=1000)
    n = user_pages(k) // 4
    a = anon(p, n)
    fill(p, a, n, tag=1)
    cold, hot = a, a + (n // 2) * PG
    p.madvise(cold, (n // 2) * PG, mman.MADV_DONTNEED)
    q = k.spawn(uid=1001, gid=1001)
    m = user_pages(k) - n + n // 4                      # short by about n/4 pages
    b = anon(q, m)
    for i in range(m):
        q.mem_write(b + i * PG, b"q")
        p.mem_read(hot + (i % (n // 2)) * PG, 1)       # keep the hot half referenced
    vec = p.mincore(a, n * PG)
    cold_out = sum(1 for x in vec[:n // 2] if not x & mman.MINCORE_INCORE)
    hot_out = sum(1 for x in vec[n // 2:] if not x & mman.MINCORE_INCORE)
    assert cold_out > hot_out
    assert all(p.mem_read(a + i * PG, PG) == pat(i, 1) for i in range(n))
    q.exit()
    p.exit()
    check_quiescent(k)


def test_madv_free_lets_the_daemon_discard(k):
    p = k.spawn(uid=1000, gid=1000)
    n = 64
    a = anon(p, n)
    fill(p, a, n, tag=1)
    pages = [page_of(p, a + i * PG) for i in range(n)]
    k.phys.dnweight = 15    # past vm_page_dontneed's first 15 calls, which leave pages alone
    p.madvise(a, n * PG, mman.MADV_FREE)
    for m in pages:
        assert m.queue == PQ_INACTIVE and not m.dirty
    # without pressure the old contents are still there
    assert p.mem_read(a, PG) == pat(0, 1)
    p.madvise(a, n * PG, mman.MADV_FREE)
    v0 = k.vmstat()
    squeeze(k, 2.0)
    v1 = k.vmstat()
    # FREE'd pages were discarded, not written to swap: all the swap-outs are the squeezer's
    assert v1["v_dfree"] > v0["v_dfree"]
    discarded = sum(1 for i in range(n) if not p.mincore(a + i * PG, PG)[0] & 1)
    assert discarded > 0
    assert k.swap.used == 0
    for i in range(n):
        d = p.mem_read(a + i * PG, PG)
        assert d in (pat(i, 1), bytes(PG)), ("garbage after MADV_FREE", i)
    k.check_invariants()
    p.exit()
    check_quiescent(k)


def test_madv_free_then_rewrite_is_kept(k):
    """A page written again after MADV_FREE is dirty again: the daemon must save the new data."""
    p = k.spawn(uid=1000, gid=1000)
    n = 64
    a = anon(p, n)
    fill(p, a, n, tag=1)
    p.madvise(a, n * PG, mman.MADV_FREE)
    fill(p, a, n, tag=2)                 # reuse, as malloc does after free
    squeeze(k, 2.0)
    for i in range(n):
        assert p.mem_read(a + i * PG, PG) == pat(i, 2), ("rewritten page lost", i)
    k.check_invariants()
    p.exit()
    check_quiescent(k)


def test_madv_free_releases_swap(k):
    p = k.spawn(uid=1000, gid=1000)
    n = 2 * k.phys.npages
    a = anon(p, n)
    fill(p, a, n, tag=1)
    used = k.swap.used
    assert used > 0
    p.madvise(a, n * PG, mman.MADV_FREE)
    assert k.swap.used == 0
    assert k.sysctl("vm.swap_reserved") == 0
    for i in range(0, n, 3):
        d = p.mem_read(a + i * PG, PG)
        assert d in (pat(i, 1), bytes(PG)), i
    k.check_invariants()
    p.exit()
    check_quiescent(k)


def test_madv_free_ignores_shared_objects(k):
    """OBJ-15: FREE applies only to anonymous objects with one mapping; after fork the page
    is shared and must keep its contents for the other process."""
    p = k.spawn(uid=1000, gid=1000)
    n = 32
    a = anon(p, n)
    fill(p, a, n, tag=1)
    c = p.fork()
    p.madvise(a, n * PG, mman.MADV_FREE)
    squeeze(k, 2.0)
    for i in range(n):
        assert c.mem_read(a + i * PG, PG) == pat(i, 1)
        assert p.mem_read(a + i * PG, PG) == pat(i, 1)
    c.exit()
    p.exit()
    check_quiescent(k)


# -- accounting ----------------------------------------------------------------------------------

def test_vmstat_and_sysctl_names_from_issue_3(k):
    v = k.vmstat()
    for name in ("v_swapin", "v_swapout", "v_swappgsin", "v_swappgsout", "v_vnodein", "v_vnodeout",
                 "v_vnodepgsin", "v_vnodepgsout", "v_pdwakeups", "v_pdpages", "v_dfree",
                 "v_reactivated", "v_free_count", "v_active_count", "v_inactive_count",
                 "v_wire_count"):
        assert name in v, name
        assert k.sysctl("vm.stats.vm." + name) == v[name]
    assert k.sysctl("vm.swap_total") == 64 << 20
    assert k.sysctl("vm.swap_reserved") == 0


def test_reactivation_counted(k):
    p = k.spawn(uid=1000, gid=1000)
    n = 16
    a = anon(p, n)
    fill(p, a, n)
    k.phys.dnweight = 15    # past vm_page_dontneed's first 15 calls, which leave pages alone
    p.madvise(a, n * PG, mman.MADV_DONTNEED)
    r0 = k.vmstat()["v_reactivated"]
    p.madvise(a, n * PG, mman.MADV_WILLNEED)
    assert k.vmstat()["v_reactivated"] >= r0 + n
    p.exit()


def test_quiescent_after_mixed_workload_and_close_removes_swap():
    k = Kernel(physmem="4M", swap="64M")
    swap_path = k.swap.path
    assert os.path.exists(swap_path)
    p = k.spawn(uid=0, gid=0)                 # mlock needs PRIV_VM_MLOCK in 7.x
    n = 2 * k.phys.npages
    a = anon(p, n)
    fill(p, a, n, tag=1)
    fd = p.open("/f.bin", os.O_RDWR | os.O_CREAT, 0o644)
    p.ftruncate(fd, n * PG)
    f = p.mmap(0, n * PG, RW, mman.MAP_SHARED, fd, 0)
    fill(p, f, n, tag=2, step=2)
    c = p.fork()
    fill(c, a, n, tag=3, step=5)
    c.madvise(a, n * PG, mman.MADV_DONTNEED)
    p.mlock(a, 8 * PG)
    c.exit()
    p.exit()
    check_quiescent(k)
    assert k.swap.used == 0 and not k.swap.owner and k.sysctl("vm.swap_reserved") == 0
    k.close()
    assert not os.path.exists(swap_path)
    assert not os.path.exists(os.path.dirname(swap_path))


def test_close_removes_the_swap_file_it_created_at_swap_path(tmp_path):
    """issue 9, attack defect 6: the kernel creates swap_path exclusively, so the file is its own
    and must not be left behind (it holds swapped-out process memory)."""
    path = str(tmp_path / "myswap")
    k = Kernel(physmem="4M", swap="8M", swap_path=path)
    assert os.path.exists(path)
    p = k.spawn(uid=1000, gid=1000)
    a = anon(p, 2 * k.phys.npages)
    fill(p, a, 2 * k.phys.npages)
    k.close()
    assert not os.path.exists(path)


# -- more sharing shapes under pressure ----------------------------------------------------------

def test_fork_splits_clipped_object_with_swap(k):
    """vmspace_fork splits a one-mapping object that clipping made shared (OBJ-13): its swap
    blocks must follow the pages to the right object."""
    p = k.spawn(uid=1000, gid=1000)
    n = 3 * k.phys.npages
    a = anon(p, n)
    fill(p, a, n, tag=1)
    third = n // 3
    p.mprotect(a + third * PG, third * PG, mman.PROT_READ)     # three entries, one object
    c = p.fork()
    k.check_invariants()
    p.mprotect(a, n * PG, RW)
    c.mprotect(a, n * PG, RW)
    fill(c, a, n, tag=2, step=4)
    fill(p, a, n, tag=3, step=6)
    for i in range(n):
        assert p.mem_read(a + i * PG, PG) == (pat(i, 3) if i % 6 == 0 else pat(i, 1)), i
        assert c.mem_read(a + i * PG, PG) == (pat(i, 2) if i % 4 == 0 else pat(i, 1)), i
    k.check_invariants()
    p.exit()
    k.check_invariants()
    for i in range(0, n, 2):
        assert c.mem_read(a + i * PG, PG) == (pat(i, 2) if i % 4 == 0 else pat(i, 1)), i
    c.exit()
    check_quiescent(k)


def test_shared_anonymous_memory_across_fork_under_pressure(k):
    p = k.spawn(uid=1000, gid=1000)
    n = 2 * k.phys.npages
    a = p.mmap(0, n * PG, RW, mman.MAP_ANON | mman.MAP_SHARED)
    fill(p, a, n, tag=1)
    c = p.fork()
    fill(c, a, n, tag=2, step=3)            # the parent must see these
    squeeze(k, 1.5)
    for i in range(n):
        want = pat(i, 2) if i % 3 == 0 else pat(i, 1)
        assert p.mem_read(a + i * PG, PG) == want, i
        assert c.mem_read(a + i * PG, PG) == want, i
    c.exit()
    k.check_invariants()
    p.exit()
    check_quiescent(k)


def test_fork_copies_wired_entry_whose_pages_were_swapped(k):
    """A wired entry is copied eagerly at fork (vm_fault_copy_entry); pages that were in swap
    when it was wired come back first, and the child's copy is its own."""
    p = k.spawn(uid=0, gid=0)
    n = 64
    a = anon(p, n)
    fill(p, a, n, tag=1)
    squeeze(k, 2.0)
    assert any(not b & mman.MINCORE_INCORE for b in p.mincore(a, n * PG))
    p.mlock(a, n * PG)
    assert all(b & mman.MINCORE_INCORE for b in p.mincore(a, n * PG))
    c = p.fork()
    squeeze(k, 2.0)
    fill(c, a, n, tag=2, step=2)
    squeeze(k, 2.0)
    for i in range(n):
        assert p.mem_read(a + i * PG, PG) == pat(i, 1), i
        assert c.mem_read(a + i * PG, PG) == (pat(i, 2) if i % 2 == 0 else pat(i, 1)), i
    k.check_invariants()
    c.exit()
    p.exit()
    check_quiescent(k)


def test_truncate_drops_paged_out_file_pages(k):
    p = k.spawn(uid=1000, gid=1000)
    n = 2 * k.phys.npages
    fd = p.open("/t.bin", os.O_RDWR | os.O_CREAT, 0o644)
    p.ftruncate(fd, n * PG)
    a = p.mmap(0, n * PG, RW, mman.MAP_SHARED, fd, 0)
    fill(p, a, n, tag=1)
    p.ftruncate(fd, 10 * PG + 5)
    squeeze(k, 1.5)
    assert os.path.getsize(os.path.join(k.root, "t.bin")) == 10 * PG + 5
    assert p.mem_read(a + 9 * PG, PG) == pat(9, 1)
    assert p.mem_read(a + 10 * PG, PG) == pat(10, 1)[:5] + bytes(PG - 5)
    with pytest.raises(bsdvm.MemoryFault):     # past the object: SEGV_ACCERR for a 7.x binary
        p.mem_read(a + 11 * PG, 1)
    p.exit()
    check_quiescent(k)


def test_two_threads_overcommit_concurrently(k):
    import threading
    errors = []

    def worker(tag):
        try:
            q = k.spawn(uid=1000 + tag, gid=1000)
            n = 2 * k.phys.npages
            a = anon(q, n)
            fill(q, a, n, tag=tag)
            for i in range(n):
                if q.mem_read(a + i * PG, PG) != pat(i, tag):
                    errors.append((tag, i))
                    break
            q.exit()
        except Exception as e:          # pragma: no cover - reported below
            errors.append((tag, repr(e)))

    ts = [threading.Thread(target=worker, args=(t,)) for t in (1, 2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    check_quiescent(k)


def test_fork_of_wired_entry_when_memory_is_exhausted():
    """vm_fault_copy_entry needs a frame per wired page; with memory and swap full it waits for
    the OOM kill (of someone other than the forking parent) instead of leaving zeros behind."""
    with Kernel(physmem="2M", swap="1M") as k:
        total = user_pages(k) + k.swap.nblocks
        p = k.spawn(uid=0, gid=0)
        n = 100
        a = anon(p, n)
        fill(p, a, n, tag=1)
        p.mlock(a, n * PG)
        hog, _ = _hog(k, 1000, total - n - 30, 2)
        assert k.swap.used == k.swap.nblocks
        c = p.fork()
        assert k.pagedaemon.oom_kills == [hog.pid] and p.alive and c.alive
        for i in range(n):
            assert c.mem_read(a + i * PG, PG) == pat(i, 1), ("child", i)
            assert p.mem_read(a + i * PG, PG) == pat(i, 1), ("parent", i)
        k.check_invariants()
        c.exit()
        p.exit()
        check_quiescent(k)


def test_fork_of_wired_entry_fails_with_enomem_when_nobody_can_be_killed():
    """The same with every other process protected: no OOM victim exists, so vmspace_fork fails
    and fork() returns ENOMEM (fork1), leaving the parent and the accounting as they were."""
    with Kernel(physmem="2M", swap="1M") as k:
        total = user_pages(k) + k.swap.nblocks
        p = k.spawn(uid=0, gid=0)
        n = 100
        a = anon(p, n)
        fill(p, a, n, tag=1)
        p.mlock(a, n * PG)
        hog, _ = _hog(k, 0, total - n - 30, 2)
        hog.madvise(0, 0, mman.MADV_PROTECT)
        p.madvise(0, 0, mman.MADV_PROTECT)
        assert k.swap.used == k.swap.nblocks
        nprocs = len(k.procs)
        with pytest.raises(OSError) as ei:
            p.fork()
        assert ei.value.errno == errno.ENOMEM
        assert len(k.procs) == nprocs and k.pagedaemon.oom_kills == []
        for i in range(n):
            assert p.mem_read(a + i * PG, PG) == pat(i, 1)
        k.check_invariants()
        hog.exit()
        p.exit()
        check_quiescent(k)


def test_madv_random_and_sequential_set_the_vnode_cluster(k):
    """FLT-6 as FreeBSD 7 does it: RANDOM pages in one page a fault, SEQUENTIAL reads ahead a
    whole cluster (VM_FAULT_READ) and nothing behind."""
    p = k.spawn(uid=1000, gid=1000)
    n = 64
    fd = p.open("/seq.bin", os.O_RDWR | os.O_CREAT, 0o644)
    p.write(fd, b"".join(pat(i, 3) for i in range(n)))
    a = p.mmap(0, n * PG, mman.PROT_READ, mman.MAP_SHARED, fd, 0)
    p.madvise(a, n * PG, mman.MADV_RANDOM)
    v0 = k.vmstat()
    for i in (40, 10, 30, 20):
        assert p.mem_read(a + i * PG, PG) == pat(i, 3)
    v1 = k.vmstat()
    assert v1["v_vnodein"] - v0["v_vnodein"] == 4
    assert v1["v_vnodepgsin"] - v0["v_vnodepgsin"] == 4
    b = p.mmap(0, n * PG, mman.PROT_READ, mman.MAP_SHARED, fd, 0)
    p.munmap(a, n * PG)
    squeeze(k, 1.5)                                   # forget the resident pages
    p.madvise(b, n * PG, mman.MADV_SEQUENTIAL)
    v2 = k.vmstat()
    assert p.mem_read(b + 8 * PG, PG) == pat(8, 3)
    v3 = k.vmstat()
    assert v3["v_vnodein"] - v2["v_vnodein"] == 1
    assert v3["v_vnodepgsin"] - v2["v_vnodepgsin"] == 16
    assert all(x & mman.MINCORE_INCORE == 0 for x in p.mincore(b, 8 * PG))
    p.exit()
    check_quiescent(k)


def test_copies_made_by_wiring_survive_bypass_and_pressure(k):
    """mlock of a private writable range copies the shared pages up (a wiring fault sees the
    entry's full protection); those copies are the process's only version once a later fork's
    collapse bypasses the original, so the daemon must save them, not drop them as clean."""
    p = k.spawn(uid=0, gid=0)
    n = 8
    a = anon(p, n)
    fill(p, a, n, tag=1)
    c = p.fork()
    c.mlock(a, 6 * PG)
    c.munlock(a, 6 * PG)
    g = c.fork()                                      # bypasses the original pages
    p.exit()
    squeeze(k, 2.0)
    for proc in (c, g):
        for i in range(n):
            assert proc.mem_read(a + i * PG, PG) == pat(i, 1), (proc, i)
    k.check_invariants()
    c.exit()
    g.exit()
    check_quiescent(k)


def test_madv_sequential_caches_the_pages_behind_the_fault(k):
    """FLT-6: a sequential page-in sends the pages right behind it towards reclamation: they lose
    their translations, clean ones are dropped (cached), dirty ones deactivated — data intact."""
    p = k.spawn(uid=1000, gid=1000)
    n = 64
    fd = p.open("/seqbehind.bin", os.O_RDWR | os.O_CREAT, 0o644)
    p.write(fd, b"".join(pat(i, 4) for i in range(n)))
    a = p.mmap(0, n * PG, RW, mman.MAP_SHARED, fd, 0)
    p.madvise(a, n * PG, mman.MADV_SEQUENTIAL)
    assert p.mem_read(a, PG) == pat(0, 4)               # pages 0..15 in
    p.mem_write(a + 3 * PG, b"dirty")                   # page 3 dirty
    v0 = k.vmstat()
    assert p.mem_read(a + 16 * PG, PG) == pat(16, 4)    # next cluster: pages 0..15 are behind it
    v1 = k.vmstat()
    assert v1["v_tcached"] - v0["v_tcached"] == 15      # the 15 clean pages behind
    vec = p.mincore(a, 16 * PG)
    assert all(b & mman.MINCORE_INCORE == 0 for i, b in enumerate(vec) if i != 3)
    assert vec[3] & mman.MINCORE_INCORE                 # dirty: deactivated, still resident
    for i in range(n):
        want = pat(i, 4) if i != 3 else b"dirty" + pat(3, 4)[5:]
        assert p.mem_read(a + i * PG, PG) == want, i
    k.check_invariants()
    p.exit()
    check_quiescent(k)


def test_private_file_mapping_reads_ahead_in_the_file_object(k):
    """FLT-6 clusters page-ins of whichever object the pager is asked for: a MAP_PRIVATE file
    mapping written once (so it has a shadow) still reads the file 7 behind / 8 ahead."""
    p = k.spawn(uid=1000, gid=1000)
    n = 64
    fd = p.open("/priv.bin", os.O_RDWR | os.O_CREAT, 0o644)
    p.write(fd, b"".join(pat(i, 5) for i in range(n)))
    a = p.mmap(0, n * PG, RW, mman.MAP_PRIVATE, fd, 0)
    p.mem_write(a + 40 * PG, b"own")                    # shadow made; page 40 copied
    v0 = k.vmstat()
    assert p.mem_read(a + 20 * PG, PG) == pat(20, 5)
    v1 = k.vmstat()
    assert v1["v_vnodein"] - v0["v_vnodein"] == 1
    assert v1["v_vnodepgsin"] - v0["v_vnodepgsin"] == 16   # 13..28: 7 behind, 8 ahead
    assert p.mem_read(a + 40 * PG, 3) == b"own"
    p.exit()
    check_quiescent(k)
