"""Host I/O errors injected with fail points (kern/fail.py, after FreeBSD's fail(9)).

The fail points sit where the model touches the host: "vnode_pager_putpages" (every write of file
pages: page daemon, msync, munmap/exit write-back, Kernel.sync/close), "vnode_pager_getpages"
(file page-in), "swap_pager_putpages" / "swap_pager_getpages" (swap page-out and page-in) and
"vm_object_page_clean" (the write-back msync, munmap, exit and sync run).  The rules pinned here
(issue 9, attack defects 1 and 2, and its fail-point section):

* a write error keeps the page dirty (FreeBSD redirties the buffer, vm_pageout_flush reactivates
  the page): once the error clears, the data reaches the file — nothing is lost, nothing leaks;
* a mapping or a process goes away cleanly even if its write-back failed: no half-exited process,
  no extra vnode reference, the gauges add up (check_invariants) at every step;
* an error reaches the caller only as an OSError with an errno (msync: EIO; Kernel.sync/close: the
  write's errno) or as a signal (SegmentationFault for a failed page-in) or ProcessKilled (the OOM
  rule when nothing can be freed) — never as a stray Python exception;
* what msync(MS_SYNC) reported as synced is in the host file, whatever fails afterwards.
"""
from __future__ import annotations

import errno
import os
import random

import pytest

from bsdvm import Kernel, ProcessKilled, SegmentationFault, mman
from bsdvm.mman import MAP_ANON, MAP_PRIVATE, MAP_SHARED, MS_SYNC, PROT_READ, PROT_WRITE
from bsdvm.vm.invariants import check_quiescent

PG = 4096
RW = PROT_READ | PROT_WRITE
IO_FAIL_POINTS = ("vnode_pager_putpages", "vnode_pager_getpages", "swap_pager_putpages",
                  "swap_pager_getpages", "vm_object_page_clean")


def host_bytes(k: Kernel, name: str) -> bytes:
    with open(os.path.join(k.root, name), "rb") as f:
        return f.read()


def shared_file(p, name: str, npages: int):
    fd = p.open(name, os.O_RDWR | os.O_CREAT, 0o644)
    p.ftruncate(fd, npages * PG)
    a = p.mmap(0, npages * PG, RW, MAP_SHARED, fd, 0)
    return fd, a


@pytest.fixture
def k():
    kernel = Kernel(physmem="16M", swap="16M")
    yield kernel
    kernel.fail.clear()
    kernel.close()


# -- defect 1: write-back errors at munmap and exit ----------------------------------------------

@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EFBIG, errno.EIO])
def test_munmap_writeback_error_keeps_pages_dirty_until_sync(k, error):
    p = k.spawn(uid=1000, gid=1000)
    fd, a = shared_file(p, "/f", 8)
    p.mem_write(a, b"A" * 8 * PG)
    k.fail.set("vnode_pager_putpages", error)
    p.munmap(a, 8 * PG)                 # the mapping goes; its data must not
    p.close(fd)
    k.check_invariants()
    assert host_bytes(k, "f") == bytes(8 * PG)
    with pytest.raises(OSError) as ei:
        k.sync()
    assert ei.value.errno == error
    k.fail.clear()
    k.sync()
    assert host_bytes(k, "f") == b"A" * 8 * PG
    p.exit()
    check_quiescent(k)                  # nothing leaked: no object, no vnode, every frame free
    assert k.vfs.active_vnodes() == []


def test_exit_writeback_error_leaves_no_half_exited_process(tmp_path, monkeypatch):
    """A real host write error (the disk is full), not a fail point."""
    from bsdvm.kern.vfs import Vnode
    k = Kernel(physmem="16M", swap="16M", root=str(tmp_path))
    p = k.spawn(uid=1000, gid=1000)
    _, a = shared_file(p, "/f", 4)
    p.mem_write(a + 5, b"exit data")
    c = p.fork()
    c.mem_write(a + PG, b"child data")
    real_pwrite = Vnode.host_pwrite

    def disk_full(self, offset, data):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(Vnode, "host_pwrite", disk_full)
    c.exit()
    p.exit()
    assert not p.alive and not c.alive
    assert k.processes() == []          # not listed any more
    k.check_invariants()                # (used to raise AttributeError)
    monkeypatch.setattr(Vnode, "host_pwrite", real_pwrite)
    k.close()                           # the kernel's close writes the pages back
    # k is closed; read the file through the host
    data = host_bytes(k, "f")
    assert data[5:14] == b"exit data" and data[PG:PG + 10] == b"child data"


def test_reopen_after_failed_writeback_sees_the_dirty_pages(k):
    """The unflushed vnode stays cached: read(2) after a reopen sees the bytes the mapping wrote."""
    p = k.spawn(uid=1000, gid=1000)
    fd, a = shared_file(p, "/f", 2)
    p.mem_write(a, b"unsaved")
    k.fail.set("vm_object_page_clean", errno.EIO)
    p.munmap(a, 2 * PG)
    p.close(fd)
    fd = p.open("/f", os.O_RDONLY)
    assert p.read(fd, 7) == b"unsaved"
    p.close(fd)
    k.fail.clear()
    p.exit()
    k.sync()
    assert host_bytes(k, "f")[:7] == b"unsaved"
    check_quiescent(k)


def test_close_with_a_persistent_write_error_reports_it_and_leaks_nothing():
    k = Kernel(physmem="16M", swap="16M")
    p = k.spawn(uid=1000, gid=1000)
    _, a = shared_file(p, "/f", 2)
    p.mem_write(a, b"doomed")
    k.fail.set("vnode_pager_putpages", errno.EIO)
    fds = set(os.listdir("/proc/self/fd"))
    with pytest.raises(OSError) as ei:
        k.close()
    assert ei.value.errno == errno.EIO
    assert k._host_fds == set() and k.swap.fd is None
    assert set(os.listdir("/proc/self/fd")) <= fds
    k.close()                           # closed: a second close is a no-op


# -- msync ------------------------------------------------------------------------------------------

def test_msync_write_error_is_eio_and_the_retry_saves_the_pages(k):
    p = k.spawn(uid=1000, gid=1000)
    _, a = shared_file(p, "/f", 4)
    p.mem_write(a, b"first")
    p.msync(a, 4 * PG, MS_SYNC)
    p.mem_write(a + PG, b"second")
    k.fail.set("vnode_pager_putpages", errno.ENOSPC, count=1)
    with pytest.raises(OSError) as ei:
        p.msync(a, 4 * PG, MS_SYNC)
    assert ei.value.errno == errno.EIO
    data = host_bytes(k, "f")
    assert data[:5] == b"first" and data[PG:PG + 6] == bytes(6)
    p.msync(a, 4 * PG, MS_SYNC)        # the point fired once: the pages were still dirty
    assert host_bytes(k, "f")[PG:PG + 6] == b"second"
    k.check_invariants()


def test_msync_invalidate_after_write_error_keeps_the_dirty_pages(k):
    p = k.spawn(uid=1000, gid=1000)
    _, a = shared_file(p, "/f", 2)
    p.mem_write(a, b"keep me")
    k.fail.set("vm_object_page_clean", errno.EIO, count=1)
    with pytest.raises(OSError):
        p.msync(a, 2 * PG, mman.MS_INVALIDATE)
    assert p.mem_read(a, 7) == b"keep me"
    p.msync(a, 2 * PG, MS_SYNC)
    assert host_bytes(k, "f")[:7] == b"keep me"


# -- defect 2: page-out errors under memory pressure ------------------------------------------------

def test_vnode_pageout_error_keeps_pages_dirty_and_the_oom_rule_applies():
    k = Kernel(physmem="2M", swap="16M")
    try:
        n = k.phys.npages
        p = k.spawn(uid=1000, gid=1000)
        _, f = shared_file(p, "/big", 3 * n)
        for i in range(n // 4):
            p.mem_write(f + i * PG, b"S%d" % i)
        p.msync(f, 3 * n * PG, MS_SYNC)
        k.fail.set("vnode_pager_putpages", errno.ENOSPC)
        done = 0
        with pytest.raises(ProcessKilled):  # nothing can be freed: vm_pageout_oom
            for i in range(3 * n):
                p.mem_write(f + i * PG, b"X%d" % i)
                done += 1
                k.check_invariants()        # no frame on no queue, gauges add up
        assert not p.alive and k.processes() == []
        k.check_invariants()
        data = host_bytes(k, "big")
        assert all(data[i * PG:i * PG + len(b"S%d" % i)] == b"S%d" % i for i in range(n // 4))
        k.fail.clear()
        k.sync()                            # what was written before the kill reaches the file
        data = host_bytes(k, "big")
        written = sum(data[i * PG:i * PG + len(b"X%d" % i)] == b"X%d" % i for i in range(3 * n))
        assert written == done > n // 2    # every store that returned reached the file
        check_quiescent(k)
    finally:
        k.fail.clear()
        k.close()


def test_swap_pageout_error_reaches_processes_only_as_oom_kills():
    k = Kernel(physmem="2M", swap="16M")
    try:
        n = k.phys.npages
        p = k.spawn(uid=1000, gid=1000)
        q = k.spawn(uid=1000, gid=1000)
        a = p.mmap(0, n * PG, RW, MAP_ANON | MAP_PRIVATE)
        for i in range(n // 2):
            p.mem_write(a + i * PG, bytes([i & 0xFF]) * 8)
        k.fail.set("swap_pager_putpages", errno.EIO)
        b = q.mmap(0, 2 * n * PG, RW, MAP_ANON | MAP_PRIVATE)
        with pytest.raises(ProcessKilled):
            for i in range(2 * n):
                q.mem_write(b + i * PG, b"q")
        assert k.pagedaemon.oom_kills
        k.check_invariants()
        k.fail.clear()
        r = k.spawn(uid=1000, gid=1000)     # memory is usable again
        c = r.mmap(0, 2 * n * PG, RW, MAP_ANON | MAP_PRIVATE)
        for i in range(2 * n):
            r.mem_write(c + i * PG, i.to_bytes(4, "little"))
        assert all(r.mem_read(c + i * PG, 4) == i.to_bytes(4, "little") for i in range(2 * n))
        for proc in k.processes():
            proc.exit()
        check_quiescent(k)
    finally:
        k.fail.clear()
        k.close()


def test_swap_pagein_error_is_a_signal_and_the_data_survives():
    k = Kernel(physmem="2M", swap="16M")
    try:
        n = k.phys.npages
        p = k.spawn(uid=1000, gid=1000)
        a = p.mmap(0, 2 * n * PG, RW, MAP_ANON | MAP_PRIVATE)
        for i in range(2 * n):
            p.mem_write(a + i * PG, i.to_bytes(4, "little"))
        assert k.swap.used
        k.fail.set("swap_pager_getpages", errno.EIO)
        faults = 0
        for i in range(2 * n):
            try:
                p.mem_read(a + i * PG, 4)
            except SegmentationFault:
                faults += 1
        assert faults
        k.check_invariants()
        k.fail.clear()
        assert all(p.mem_read(a + i * PG, 4) == i.to_bytes(4, "little") for i in range(2 * n))
        p.exit()
        check_quiescent(k)
    finally:
        k.close()


def test_vnode_pagein_error_is_a_signal(k):
    p = k.spawn(uid=1000, gid=1000)
    fd = p.open("/r", os.O_RDWR | os.O_CREAT, 0o644)
    p.write(fd, b"R" * 2 * PG)
    a = p.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0)
    k.fail.set("vnode_pager_getpages", errno.EIO, count=1)
    with pytest.raises(SegmentationFault):
        p.mem_read(a, 1)
    assert p.mem_read(a, 1) == b"R"
    k.check_invariants()


# -- random operations with random host errors ------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_random_io_errors_lose_nothing_synced_and_raise_only_errnos_or_signals(seed):
    rng = random.Random(seed)
    k = Kernel(physmem="2M", swap="4M")
    try:
        n = k.phys.npages
        procs = [k.spawn(uid=1000, gid=1000)]
        fd, f = shared_file(procs[0], "/data", n)
        expect = bytearray(n * PG)          # what the mapping holds
        synced = bytearray(n * PG)          # what a successful msync put in the file
        anon = procs[0].mmap(0, n * PG, RW, MAP_ANON | MAP_PRIVATE)
        for step in range(250):
            if rng.random() < 0.3:
                point = rng.choice(IO_FAIL_POINTS)
                k.fail.set(point, rng.choice((errno.EIO, errno.ENOSPC)), count=rng.randint(1, 20))
            p = procs[0]
            op = rng.randrange(5)
            try:
                if op == 0:
                    i = rng.randrange(n)
                    data = bytes([step & 0xFF]) * rng.randint(1, 64)
                    p.mem_write(f + i * PG, data)
                    expect[i * PG:i * PG + len(data)] = data
                elif op == 1:
                    p.msync(f, n * PG, MS_SYNC)
                    synced[:] = expect
                elif op == 2:
                    i = rng.randrange(n)
                    p.mem_write(anon + i * PG, b"anon")
                elif op == 3:
                    i = rng.randrange(n)
                    assert p.mem_read(f + i * PG, 16) == bytes(expect[i * PG:i * PG + 16])
                else:
                    p.madvise(anon, n * PG, rng.choice((mman.MADV_DONTNEED, mman.MADV_FREE)))
            except OSError as e:
                assert e.errno in (errno.EIO, errno.ENOSPC), e
            except SegmentationFault:
                pass                        # a failed page-in
            except ProcessKilled:
                break                       # the OOM rule; the file pages are still dirty
            k.check_invariants()
            got = host_bytes(k, "data")
            # every synced byte that was not changed since is in the file
            for i in range(0, n * PG, PG):
                if synced[i:i + PG] == expect[i:i + PG]:
                    assert got[i:i + PG] == synced[i:i + PG], ("synced page lost", i // PG)
        k.fail.clear()
        for p in k.processes():
            p.exit()
        k.sync()
        assert host_bytes(k, "data") == bytes(expect)
        check_quiescent(k)
    finally:
        k.fail.clear()
        k.close()


def test_revoked_vnode_with_failed_writeback_is_closed_at_kernel_close():
    k = Kernel(physmem="16M", swap="16M")
    fds = set(os.listdir("/proc/self/fd"))
    p = k.spawn(uid=1000, gid=1000)
    fd, a = shared_file(p, "/f", 2)
    p.mem_write(a, b"revoked")
    p.revoke("/f")
    k.fail.set("vnode_pager_putpages", errno.EIO)
    p.exit()                                        # last reference: the write-back fails
    k.check_invariants()
    k.fail.clear()
    k.sync()                                        # the retry reaches the revoked vnode too
    assert host_bytes(k, "f")[:7] == b"revoked"
    k.close()
    assert set(os.listdir("/proc/self/fd")) <= fds
