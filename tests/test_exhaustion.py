"""Resource exhaustion on purpose: physical memory, swap, vm.max_proc_mmap, RLIMIT_VMEM,
RLIMIT_MEMLOCK, vm.max_wired (and descriptors, and address space).  Each must end in a clean errno or
in FreeBSD's out-of-memory behaviour — vm_pageout_oom kills the largest unprotected process, which
then raises bsdvm.ProcessKilled — never in a Python MemoryError, another exception or a hang; and the
system is consistent afterwards (check_kernel; check_quiescent once every process has gone).
"""
from __future__ import annotations

import errno
import os
import time

import pytest

from bsdvm import Kernel, ProcessKilled, SegmentationFault, mman, resource
from bsdvm.mman import MAP_ANON, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE
from bsdvm.vm.invariants import check_quiescent

PG = 4096
RW = PROT_READ | PROT_WRITE
ANON = MAP_ANON | MAP_PRIVATE
TIME_LIMIT = 30.0               # any single scenario; a hang fails instead of blocking the suite


def err(fn, *args):
    with pytest.raises(OSError) as ei:
        fn(*args)
    return ei.value.errno


def touch_all(p, a, npages, tag=1, deadline=None):
    deadline = deadline or time.monotonic() + TIME_LIMIT
    for i in range(npages):
        p.mem_write(a + i * PG, (tag * 100000 + i).to_bytes(8, "little"))
        if i % 256 == 0:
            assert time.monotonic() < deadline, "too slow: a hang?"


def finish(k):
    for p in k.processes():
        p.exit()
    k.check_invariants()
    check_quiescent(k)


# -- physical memory and swap ---------------------------------------------------------------------

def test_touching_more_than_ram_plus_swap_kills_the_toucher():
    with Kernel(physmem="4M", swap="2M") as k:          # 1024 frames, 512 swap blocks
        p = k.spawn(uid=1000, gid=1000)
        n = 4096
        a = p.mmap(0, n * PG, RW, ANON)                  # lazy: mapping it costs nothing
        with pytest.raises(ProcessKilled):
            touch_all(p, a, n)
        assert not p.alive
        assert p.pid in k.pagedaemon.oom_kills
        with pytest.raises(ProcessKilled):               # and it stays dead
            p.mem_read(a, 1)
        with pytest.raises(ProcessKilled):
            p.mmap(0, PG, RW, ANON)
        k.check_invariants()
        check_quiescent(k)                               # its frames and swap came back
        q = k.spawn(uid=1001, gid=1001)                  # and the system is usable again
        b = q.mmap(0, 512 * PG, RW, ANON)
        touch_all(q, b, 512, tag=2)
        assert q.mem_read(b + 511 * PG, 8) == (200000 + 511).to_bytes(8, "little")
        finish(k)


def test_oom_kills_the_largest_process_not_the_one_asking():
    with Kernel(physmem="4M", swap="2M") as k:
        hog = k.spawn(uid=1000, gid=1000)
        small = k.spawn(uid=1001, gid=1001)
        h = hog.mmap(0, 1300 * PG, RW, ANON)
        touch_all(hog, h, 1300)                          # most of RAM + swap
        s = small.mmap(0, 600 * PG, RW, ANON)
        touch_all(small, s, 600, tag=3)                  # needs memory: the hog is chosen
        assert not hog.alive and small.alive
        with pytest.raises(ProcessKilled):
            hog.mem_read(h, 8)
        for i in range(0, 600, 37):
            assert small.mem_read(s + i * PG, 8) == (300000 + i).to_bytes(8, "little")
        k.check_invariants()
        finish(k)


def test_madv_protect_spares_a_process():
    with Kernel(physmem="4M", swap="2M") as k:
        hog = k.spawn(uid=0)
        hog.madvise(0, 0, mman.MADV_PROTECT)
        other = k.spawn(uid=1001, gid=1001)
        h = hog.mmap(0, 1300 * PG, RW, ANON)
        touch_all(hog, h, 1300)
        o = other.mmap(0, 600 * PG, RW, ANON)
        with pytest.raises(ProcessKilled):               # the protected hog survives
            touch_all(other, o, 600, tag=3)
        assert hog.alive and not other.alive
        assert hog.mem_read(h + 1299 * PG, 8) == (100000 + 1299).to_bytes(8, "little")
        k.check_invariants()
        finish(k)


def test_everyone_protected_gives_a_fault_not_a_memory_error():
    """No victim left: the access fails as a signal (FreeBSD would sleep in VM_WAIT forever; the
    model may not hang) — never a Python MemoryError."""
    with Kernel(physmem="4M", swap="1M") as k:
        p = k.spawn(uid=0)
        p.madvise(0, 0, mman.MADV_PROTECT)
        a = p.mmap(0, 4096 * PG, RW, ANON)
        try:
            touch_all(p, a, 4096)
        except (SegmentationFault, ProcessKilled):
            pass
        except MemoryError:
            pytest.fail("MemoryError")
        k.check_invariants()
        finish(k)


def test_fork_under_memory_pressure():
    """Forking a process whose wired pages must be copied eagerly (FORK-3), with memory short."""
    with Kernel(physmem="4M", swap="2M") as k:
        p = k.spawn(uid=0)
        a = p.mmap(0, 300 * PG, RW, ANON)
        touch_all(p, a, 300)
        p.mlock(a, 150 * PG)
        hog = k.spawn(uid=1000, gid=1000)
        h = hog.mmap(0, 1000 * PG, RW, ANON)
        touch_all(hog, h, 1000, tag=2)
        kids = []
        for _ in range(4):
            try:
                kids.append(p.fork())
            except (OSError, ProcessKilled):
                break
        assert p.alive
        for c in kids:
            if c.alive:
                for i in range(0, 300, 17):
                    assert c.mem_read(a + i * PG, 8) == (100000 + i).to_bytes(8, "little")
        k.check_invariants()
        finish(k)


def test_shared_memory_larger_than_ram_pages_to_swap():
    with Kernel(physmem="4M", swap="8M") as k:
        p = k.spawn(uid=1000, gid=1000)
        n = 1500
        a = p.mmap(0, n * PG, RW, MAP_ANON | MAP_SHARED)
        touch_all(p, a, n)
        c = p.fork()
        for i in range(0, n, 11):
            assert c.mem_read(a + i * PG, 8) == (100000 + i).to_bytes(8, "little")
        assert k.vmstat()["v_swapout"] > 0
        k.check_invariants()
        finish(k)


# -- map entries, address space, limits -------------------------------------------------------------

def test_max_proc_mmap():
    with Kernel(physmem="16M", swap="16M") as k:
        p = k.spawn(uid=1000, gid=1000)
        base = p.vmspace_info()["nentries"]
        k.sysctl("vm.max_proc_mmap", base + 4)
        made = []
        prot = [PROT_READ, RW]
        for i in range(4):                               # alternate prot: no coalescing
            made.append(p.mmap(0, PG, prot[i % 2], ANON))
        assert p.vmspace_info()["nentries"] == base + 4
        before = p.maps()
        assert err(p.mmap, 0, PG, PROT_READ, ANON) == errno.ENOMEM       # MMAP-9
        fd = p.open("/f", os.O_RDWR | os.O_CREAT, 0o600)
        p.write(fd, b"x" * PG)
        assert err(p.mmap, 0, PG, PROT_READ, MAP_SHARED, fd, 0) == errno.ENOMEM
        assert p.maps() == before
        # a fork doubles vm_refcnt? no: each vmspace has its own; the child may map as many
        c = p.fork()
        assert err(c.mmap, 0, PG, PROT_READ, ANON) == errno.ENOMEM
        p.munmap(made[0], PG)
        p.mmap(0, PG, PROT_READ, ANON)
        # clipping can still add entries (the limit is checked by mmap only): mprotect splits
        p.mprotect(made[1], PG // 2 or PG, PROT_READ)
        k.sysctl("vm.max_proc_mmap", 0)                  # 0: no limit
        for _ in range(50):
            p.mmap(0, PG, PROT_READ if _ % 2 else RW, ANON)
        k.check_invariants()
        finish(k)


def test_rlimit_vmem():
    with Kernel(physmem="16M", swap="16M") as k:
        p = k.spawn(uid=1000, gid=1000)
        size = p.vmspace_info()["size"]
        p.setrlimit(resource.RLIMIT_VMEM, (size + 8 * PG, size + 8 * PG))
        a = p.mmap(0, 8 * PG, RW, ANON)
        assert err(p.mmap, 0, PG, RW, ANON) == errno.ENOMEM                  # VMM-2
        # MAP_FIXED replacing its own pages still counts the current size (VMM-2)
        assert err(p.mmap, a, PG, RW, ANON | MAP_FIXED) == errno.ENOMEM
        assert p.mem_read(a, 1) == b"\0"                  # ... and was refused before removing
        assert err(p.obreak, p.brk_current() + PG) == errno.ENOMEM           # BRK-3
        assert err(p.mmap, 0x7f0000000000, 16 * PG, RW, mman.MAP_STACK) == errno.ENOMEM
        p.munmap(a, 8 * PG)
        b = p.mmap(0, 8 * PG, RW, ANON)
        touch_all(p, b, 8)
        # absurd requests fail cleanly, without allocating anything
        assert err(p.setrlimit, resource.RLIMIT_VMEM, (1 << 40, 1 << 40)) == errno.EPERM
        p = k.spawn(uid=1001, gid=1001)
        assert err(p.mmap, 0, 1 << 62, RW, ANON) == errno.ENOMEM             # no space
        assert err(p.mmap, 0, (1 << 64) - PG, RW, ANON) == errno.EINVAL      # (ssize_t) < 0
        big = p.mmap(0, 1 << 40, RW, ANON)                                   # 1 TiB: lazy
        p.mem_write(big + (1 << 39), b"middle")
        assert p.mem_read(big + (1 << 39), 6) == b"middle"
        p.munmap(big, 1 << 40)
        k.check_invariants()
        finish(k)


def test_rlimit_memlock():
    with Kernel(physmem="16M", swap="16M") as k:
        p = k.spawn(uid=0)
        a = p.mmap(0, 16 * PG, RW, ANON)
        p.setrlimit(resource.RLIMIT_MEMLOCK, (8 * PG, 8 * PG))
        assert err(p.mlock, a, 9 * PG) == errno.ENOMEM                      # MLK-3
        p.mlock(a, 4 * PG)
        # pages already wired are counted again (MLK-3): 4 wired + 5 asked > 8
        assert err(p.mlock, a, 5 * PG) == errno.ENOMEM
        p.mlock(a + 4 * PG, 4 * PG)
        assert err(p.mlock, a + 8 * PG, PG) == errno.ENOMEM
        assert [e.wired_count for e in p.maps() if e.start == a][0] == 1
        # mlockall is not limited by RLIMIT_MEMLOCK in 7.x (MLA-1)
        p.mlockall(mman.MCL_CURRENT)
        assert p.vmspace_info()["wired"] > 8
        p.munlockall()
        assert p.vmspace_info()["wired"] == 0
        k.check_invariants()
        finish(k)


def test_max_wired():
    with Kernel(physmem="16M", swap="16M") as k:
        p = k.spawn(uid=0)
        wired = k.vmstat()["v_wire_count"]
        k.sysctl("vm.max_wired", wired + 10)      # v_wire_count counts the kernel's pages too
        a = p.mmap(0, (wired + 64) * PG, RW, ANON)
        assert err(p.mlock, a, (wired + 11) * PG) == errno.ENOMEM           # MLK-2: > max_wired
        assert err(p.mlock, a, 11 * PG) == errno.EAGAIN                     # MLK-4
        p.mlock(a, 6 * PG)
        assert err(p.mlock, a + 6 * PG, 5 * PG) == errno.EAGAIN             # MLK-4
        p.mlock(a + 6 * PG, 4 * PG)
        assert k.vmstat()["v_wire_count"] == wired + 10
        assert err(p.mlock, a + 10 * PG, PG) == errno.EAGAIN
        p.munlock(a, 6 * PG)
        p.mlock(a + 10 * PG, 6 * PG)
        k.check_invariants()
        finish(k)


def test_wiring_more_than_physical_memory():
    """mlockall has no page-count check (MLA-1): wiring more than RAM must fail cleanly (EAGAIN,
    all unwired again) or kill, never MemoryError or hang."""
    with Kernel(physmem="4M", swap="16M") as k:
        p = k.spawn(uid=0)
        a = p.mmap(0, 2000 * PG, RW, ANON)
        t0 = time.monotonic()
        try:
            p.mlockall(mman.MCL_CURRENT)
        except OSError as e:
            assert e.errno == errno.EAGAIN
            assert p.vmspace_info()["wired"] == 0
        except ProcessKilled:
            pass
        assert time.monotonic() - t0 < TIME_LIMIT
        k.sysctl("vm.max_wired", 10 ** 9)
        if p.alive:
            try:
                p.mlock(a, 2000 * PG)
            except OSError as e:
                assert e.errno in (errno.ENOMEM, errno.EAGAIN)
            except ProcessKilled:
                pass
        k.check_invariants()
        finish(k)


def test_descriptor_table_exhaustion():
    with Kernel(physmem="16M", swap="16M") as k:
        p = k.spawn(uid=1000, gid=1000)
        fds = []
        with pytest.raises(OSError) as ei:
            for _ in range(5000):
                fds.append(p.open("/dev/null", os.O_RDONLY))
        assert ei.value.errno == errno.EMFILE
        assert len(fds) == 1024
        with pytest.raises(OSError) as ei:
            p.pipe()
        assert ei.value.errno == errno.EMFILE
        p.close(fds[10])
        fd = p.open("/dev/zero", os.O_RDWR)
        assert fd == fds[10]
        a = p.mmap(0, PG, RW, MAP_SHARED, fd, 0)
        p.mem_write(a, b"ok")
        finish(k)


def test_many_processes_and_mappings_come_back():
    with Kernel(physmem="16M", swap="16M") as k:
        base = k.vmstat()
        procs = [k.spawn(uid=1000 + i, gid=1000) for i in range(40)]
        for i, p in enumerate(procs):
            a = p.mmap(0, 32 * PG, RW, ANON)
            touch_all(p, a, 32, tag=i)
            p.fork()
        finish(k)
        after = k.vmstat()
        assert after["v_free_count"] == base["v_free_count"]
        assert after["v_swap_used"] == 0


def test_oom_keeps_killing_until_a_large_access_fits():
    """Regression: one mem_write needing more than three small victims' memory used to end in a
    Python MemoryError (the user-access path once gave up after three OOM kills)."""
    with Kernel(physmem="1M", swap="256K") as k:
        p = k.spawn(uid=0)
        p.madvise(0, 0, mman.MADV_PROTECT)
        smalls = []
        for i in range(16):
            q = k.spawn(uid=1000 + i, gid=1000)
            a = q.mmap(0, 3 * PG, RW, ANON)
            q.mem_write(a, b"x" * 3 * PG)
            smalls.append(q)
        a = p.mmap(0, 4096 * PG, RW, ANON)
        p.mem_write(a, b"y" * (275 * PG))             # needs several victims in one call
        assert sum(not q.alive for q in smalls) > 3
        assert p.mem_read(a + 274 * PG, 4) == b"yyyy"
        with pytest.raises((SegmentationFault, ProcessKilled)):
            p.mem_write(a + 275 * PG, b"z" * (400 * PG))    # more than exists: a signal at last
        assert p.alive                               # protected: never the victim
        k.check_invariants()
        finish(k)
