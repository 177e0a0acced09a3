"""Concurrency: several Python threads driving different processes, and the same process, on one
Kernel.  Every thread runs a bounded loop of mmap/munmap/mprotect/mem_write/mem_read/fork/exit (and
file, mincore, madvise, msync, sysctl and inspection calls) and checks what it reads against what it
wrote; a watcher thread runs k.check_invariants() meanwhile.  All threads must finish (join with a
timeout: no deadlock), none may raise, and afterwards the invariants hold, the data and the shared file
are right, and once every process has exited nothing is left (check_quiescent).
"""
from __future__ import annotations

import os
import random
import threading
import time


from bsdvm import Kernel, mman
from bsdvm.mman import MAP_ANON, MAP_PRIVATE, MAP_SHARED, PROT_NONE, PROT_READ, PROT_WRITE
from bsdvm.vm.invariants import check_quiescent

PG = 4096
RW = PROT_READ | PROT_WRITE
ITER = int(os.environ.get("BSDVM_CONCURRENCY_ITER", "80"))
JOIN_TIMEOUT = 120


def pat(tag: int, n: int) -> bytes:
    return bytes((tag * 29 + i * 3) & 0xFF for i in range(n))


class Runner:
    def __init__(self):
        self.errors = []
        self.threads = []
        self.stop = threading.Event()
        self.counts = {}

    def spawn(self, name, fn, *args):
        def body():
            try:
                fn(*args)
            except BaseException:          # noqa: BLE001 -- reported by the test
                import traceback
                self.errors.append((name, traceback.format_exc()))
                self.stop.set()
        t = threading.Thread(target=body, name=name, daemon=True)
        self.threads.append(t)

    def run(self):
        for t in self.threads:
            t.start()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        alive = [t.name for t in self.threads if t.is_alive()]
        self.stop.set()
        assert not alive, f"threads still running (deadlock?): {alive}"
        assert not self.errors, "\n".join(f"{n}:\n{tb}" for n, tb in self.errors)


def own_process_worker(k, tag, fd_path, page_index, counts):
    """A thread with its own process: anonymous memory, fork COW, a shared file page of its own."""
    r = random.Random(tag)
    p = k.spawn(uid=1000 + tag, gid=1000)
    fd = p.open(fd_path, os.O_RDWR)
    f = p.mmap(0, 16 * PG, RW, MAP_SHARED, fd, 0)
    regions = {}
    n = 0
    for it in range(ITER):
        a = p.mmap(0, 4 * PG, RW, MAP_ANON | MAP_PRIVATE)
        data = pat(tag * 1000 + it, 4 * PG)
        p.mem_write(a, data)
        regions[a] = data
        if r.random() < 0.3:
            c = p.fork()
            assert c.mem_read(a, 4 * PG) == data          # the child sees the parent's bytes
            c.mem_write(a, b"child" * 10)                 # ... and its writes stay its own
            assert p.mem_read(a, 4 * PG) == data
            c.exit()
        if r.random() < 0.5 and regions:
            victim = r.choice(list(regions))
            assert p.mem_read(victim, 4 * PG) == regions.pop(victim)
            p.munmap(victim, 4 * PG)
        if r.random() < 0.3 and regions:
            b = r.choice(list(regions))
            p.mprotect(b, 4 * PG, PROT_READ)
            assert p.mem_read(b, 4 * PG) == regions[b]
            p.mprotect(b, 4 * PG, RW)
        line = pat(tag + it, 64)
        p.mem_write(f + page_index * PG + (it % 60) * 64, line)
        assert p.mem_read(f + page_index * PG + (it % 60) * 64, 64) == line
        if it % 10 == 0:
            p.msync(f, 16 * PG, mman.MS_SYNC)
            assert len(p.mincore(f, 16 * PG)) == 16
            p.maps()
            k.vmstat()
        n += 1
    for a, data in regions.items():
        assert p.mem_read(a, 4 * PG) == data
    counts[tag] = n
    return p


def shared_process_worker(k, p, tag, counts):
    """Threads sharing one process: each maps, writes and checks its own regions in it."""
    r = random.Random(tag)
    regions = {}
    n = 0
    for it in range(ITER):
        size = r.randint(1, 6) * PG
        a = p.mmap(0, size, RW, MAP_ANON | (MAP_SHARED if r.random() < 0.3 else MAP_PRIVATE))
        data = pat(tag * 7 + it, size)
        p.mem_write(a, data)
        regions[a] = data
        for b, d in list(regions.items()):
            assert p.mem_read(b, len(d)) == d, (tag, hex(b))
        if r.random() < 0.5:
            b = r.choice(list(regions))
            d = regions.pop(b)
            if len(d) > PG and r.random() < 0.5:            # unmap the head, keep the tail
                p.munmap(b, PG)
                regions[b + PG] = d[PG:]
            else:
                p.munmap(b, len(d))
        if r.random() < 0.2 and regions:
            b = r.choice(list(regions))
            p.madvise(b, len(regions[b]), r.choice([mman.MADV_DONTNEED, mman.MADV_WILLNEED,
                                                      mman.MADV_SEQUENTIAL, mman.MADV_NORMAL]))
        if r.random() < 0.15:
            c = p.fork()                    # forks the whole process while others change it
            for b, d in regions.items():
                assert c.mem_read(b, len(d)) == d
            c.exit()
        n += 1
    counts[("shared", tag)] = n
    return regions


def pressure_worker(k, counts):
    """Pushes the page daemon: touches more anonymous memory than is free, then checks it."""
    p = k.spawn(uid=3000, gid=3000)
    npages = 2500
    a = p.mmap(0, npages * PG, RW, MAP_ANON | MAP_PRIVATE)
    for rnd in range(max(2, ITER // 20)):
        for i in range(0, npages, 3):
            p.mem_write(a + i * PG, (i + rnd).to_bytes(4, "little"))
        for i in range(0, npages, 3):
            assert p.mem_read(a + i * PG, 4) == (i + rnd).to_bytes(4, "little")
    counts["pressure"] = npages
    p.exit()


def spawner_worker(k, counts):
    """Processes come and go: spawn, map, fork, exit, with sysctl reads in between."""
    n = 0
    for it in range(ITER):
        p = k.spawn(uid=4000 + it, gid=4000)
        a = p.mmap(0, 2 * PG, RW, MAP_ANON | MAP_SHARED)
        p.mem_write(a, b"x" * 100)
        c = p.fork()
        c.mem_write(a, b"y")                # shared: the parent sees it
        assert p.mem_read(a, 2) == b"yx"
        k.sysctl("vm.max_proc_mmap")
        k.sysctl("vm.stats.vm.v_free_count")
        (c if it % 2 else p).exit()
        (p if it % 2 else c).exit()
        n += 1
    counts["spawner"] = n


def watcher(k, stop):
    while not stop.is_set():
        k.check_invariants()
        for proc in k.processes():
            try:
                proc.maps()
                proc.procstat()
            except ProcessLookupError:
                pass                        # it exited between the listing and the call
        time.sleep(0.005)


def test_threads_on_one_kernel(tmp_path):
    k = Kernel(root=str(tmp_path), physmem="16M", swap="64M")
    try:
        setup = k.spawn()
        fd = setup.open("/shared.bin", os.O_RDWR | os.O_CREAT, 0o666)
        setup.write(fd, b"\0" * 16 * PG)
        setup.close(fd)
        setup.chmod("/shared.bin", 0o666)          # every uid may write its page
        shared = k.spawn(uid=2000, gid=2000)
        run = Runner()
        counts = {}
        results = {}

        def own(tag):
            results[tag] = own_process_worker(k, tag, "/shared.bin", tag, counts)

        def in_shared(tag):
            results[("shared", tag)] = shared_process_worker(k, shared, tag, counts)

        for tag in range(4):
            run.spawn(f"own{tag}", own, tag)
        for tag in range(3):
            run.spawn(f"shared{tag}", in_shared, tag)
        run.spawn("pressure", pressure_worker, k, counts)
        run.spawn("spawner", spawner_worker, k, counts)
        w = threading.Thread(target=lambda: watcher(k, run.stop), daemon=True)
        w.start()
        run.run()
        w.join(30)
        assert not w.is_alive()

        k.check_invariants()
        assert all(counts[t] == ITER for t in range(4))
        # every thread's regions in the shared process are intact
        for tag in range(3):
            for b, d in results[("shared", tag)].items():
                assert shared.mem_read(b, len(d)) == d
        # and no two threads' live regions overlap
        spans = sorted((b, b + len(d)) for tag in range(3) for b, d in results[("shared", tag)].items())
        assert all(x[1] <= y[0] for x, y in zip(spans, spans[1:], strict=False))
        # the shared file: each thread's page holds its last lines
        procs = [results[t] for t in range(4)]
        for p in procs:
            p.exit()
        shared.exit()
        setup.exit()
        with open(tmp_path / "shared.bin", "rb") as f:
            data = f.read()
        for tag in range(4):
            for it in range(max(0, ITER - 60), ITER):
                o = tag * PG + (it % 60) * 64
                assert data[o:o + 64] == pat(tag + it, 64), (tag, it)
        check_quiescent(k)
    finally:
        k.close()


def test_threads_hammer_one_process(tmp_path):
    """Many threads, one process, one region: concurrent mprotect/munmap/mmap(MAP_FIXED)/mlock and
    accesses over the same pages.  Faults (SIGSEGV) are expected; corruption, other exceptions and
    deadlocks are not."""
    from bsdvm import MemoryFault
    k = Kernel(root=str(tmp_path), physmem="32M", swap="32M")
    try:
        p = k.spawn()
        base = p.mmap(0, 64 * PG, RW, MAP_ANON | MAP_PRIVATE)
        run = Runner()

        def hammer(tag):
            r = random.Random(tag)
            for _ in range(ITER * 4):
                off = r.randrange(60) * PG
                n = r.randint(1, 4) * PG
                op = r.randrange(7)
                try:
                    if op == 0:
                        p.mprotect(base + off, n, r.choice([PROT_NONE, PROT_READ, RW]))
                    elif op == 1:
                        p.munmap(base + off, n)
                    elif op == 2:
                        p.mmap(base + off, n, RW, MAP_ANON | MAP_PRIVATE | mman.MAP_FIXED)
                    elif op == 3:
                        p.mem_write(base + off, bytes([tag]) * 16)
                    elif op == 4:
                        p.mem_read(base + off, n)
                    elif op == 5:
                        p.mlock(base + off, n)
                    else:
                        p.mincore(base + off, n)
                except (OSError, MemoryFault):
                    pass

        for tag in range(6):
            run.spawn(f"hammer{tag}", hammer, tag)
        run.run()
        k.check_invariants()
        p.munlockall()
        k.check_invariants()
        p.exit()
        check_quiescent(k)
    finally:
        k.close()
