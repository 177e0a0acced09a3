"""Durability: what a process wrote through a MAP_SHARED mapping reaches the host file.

* After msync(MS_SYNC) returns the bytes are in the host file even if the Python process running
  bsdvm is killed at once: a subprocess writes through a shared mapping, msyncs, prints "synced" and
  is SIGKILLed by the test, which then reads the host file under the root directory it passed.
* munmap, exit and Kernel.close() write back every dirty shared page (docs/errata.md, "vnode
  writeback"), also pages that the page daemon had already written out or that live in several
  processes after fork; private (copy-on-write) changes never reach the file.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from bsdvm import Kernel, mman
from bsdvm.mman import MAP_SHARED, PROT_READ, PROT_WRITE

PG = 4096
RW = PROT_READ | PROT_WRITE


def pattern(tag: int, n: int) -> bytes:
    return bytes((tag * 37 + i * 11 + (i >> 12)) & 0xFF for i in range(n))


# -- msync(MS_SYNC) survives SIGKILL ---------------------------------------------------------------

CHILD = textwrap.dedent("""
    import os, sys, time
    from bsdvm import Kernel, mman
    root, npages, size, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    PG = 4096
    def pattern(tag, n):
        return bytes((tag * 37 + i * 11 + (i >> 12)) & 0xFF for i in range(n))
    k = Kernel(root=root, physmem="16M", swap="16M")
    p = k.spawn(uid=1000, gid=1000)
    fd = p.open("/d.bin", os.O_RDWR | os.O_CREAT, 0o644)
    p.write(fd, b"\\0" * size)
    rw = mman.PROT_READ | mman.PROT_WRITE
    a = p.mmap(0, npages * PG, rw, mman.MAP_SHARED, fd, 0)
    p.mem_write(a, pattern(1, size))
    if mode == "fork":
        c = p.fork()                    # the child shares the mapping (MAP_SHARED: INHERIT_SHARE)
        c.mem_write(a + 5, b"child!")
        c.msync(a, npages * PG, mman.MS_SYNC)
    elif mode == "fork_parent_sync":
        p.msync(a, npages * PG, mman.MS_SYNC)   # clean; then only the child's pmap is modified
        c = p.fork()
        c.mem_write(a + PG + 7, b"child!")
        p.msync(a, npages * PG, mman.MS_SYNC)   # the parent's msync must see the child's write
    elif mode == "private":
        b = p.mmap(0, npages * PG, rw, mman.MAP_PRIVATE, fd, 0)
        p.mem_write(b, b"PRIVATE" * 10)
        p.msync(b, npages * PG, mman.MS_SYNC)
        p.msync(a, npages * PG, mman.MS_SYNC)
    elif mode == "invalidate":
        p.msync(a, npages * PG, mman.MS_SYNC | mman.MS_INVALIDATE)
    else:
        p.msync(a, npages * PG, mman.MS_SYNC)
    print("synced", flush=True)
    # after the sync: a write that must NOT be required in the file, then wait to be killed
    p.mem_write(a, b"late")
    time.sleep(60)
""")


def run_and_kill(tmp_path, npages, size, mode):
    root = tmp_path / "root"
    root.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(root), str(npages), str(size), mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        line = b""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line or proc.poll() is not None:
                break
        assert line.strip() == b"synced", (line, proc.stderr.read().decode()[-2000:])
        proc.send_signal(signal.SIGKILL)        # at once: no close(), no finalizer, no atexit
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with open(root / "d.bin", "rb") as f:
        return f.read()


@pytest.mark.parametrize("npages,size", [(1, PG), (3, 3 * PG), (3, 2 * PG + 100), (64, 64 * PG)])
def test_msync_sync_survives_sigkill(tmp_path, npages, size):
    data = run_and_kill(tmp_path, npages, size, "plain")
    assert len(data) == size                    # the mapping's tail past EOF is not written
    assert data[4:] == pattern(1, size)[4:]
    assert data[:4] in (pattern(1, 4), b"late")     # the later write may or may not be there


def test_msync_in_a_forked_child_survives_sigkill(tmp_path):
    data = run_and_kill(tmp_path, 2, 2 * PG, "fork")
    want = bytearray(pattern(1, 2 * PG))
    want[5:11] = b"child!"
    assert data[4:] == bytes(want[4:])


def test_msync_sees_a_write_made_through_another_process(tmp_path):
    data = run_and_kill(tmp_path, 2, 2 * PG, "fork_parent_sync")
    want = bytearray(pattern(1, 2 * PG))
    want[PG + 7:PG + 13] = b"child!"
    assert data[4:] == bytes(want[4:])


def test_private_writes_never_reach_the_file(tmp_path):
    data = run_and_kill(tmp_path, 2, 2 * PG, "private")
    assert b"PRIVATE" not in data
    assert data[4:] == pattern(1, 2 * PG)[4:]


def test_msync_invalidate_keeps_the_data(tmp_path):
    data = run_and_kill(tmp_path, 4, 4 * PG, "invalidate")
    assert data[4:] == pattern(1, 4 * PG)[4:]


# -- munmap, exit and Kernel.close() write back ---------------------------------------------------

def host_file(k, name="d.bin") -> bytes:
    with open(os.path.join(k.root, name), "rb") as f:
        return f.read()


def setup_file(p, size, name="/d.bin"):
    fd = p.open(name, os.O_RDWR | os.O_CREAT, 0o644)
    p.write(fd, b"\0" * size)
    return fd


@pytest.mark.parametrize("keep_fd", [False, True])
def test_munmap_writes_back(tmp_path, keep_fd):
    with Kernel(root=str(tmp_path), physmem="16M", swap="16M") as k:
        p = k.spawn()
        fd = setup_file(p, 8 * PG)
        a = p.mmap(0, 8 * PG, RW, MAP_SHARED, fd, 0)
        if not keep_fd:
            p.close(fd)
        p.mem_write(a + PG, pattern(2, 3 * PG))
        p.mem_write(a + 7 * PG + 10, b"tail")
        p.munmap(a, 8 * PG)
        data = host_file(k)
        assert data[PG:4 * PG] == pattern(2, 3 * PG)
        assert data[7 * PG + 10:7 * PG + 14] == b"tail"
        assert data[:PG] == b"\0" * PG


def test_partial_munmap_writes_back_its_part(tmp_path):
    with Kernel(root=str(tmp_path), physmem="16M", swap="16M") as k:
        p = k.spawn()
        fd = setup_file(p, 4 * PG)
        a = p.mmap(0, 4 * PG, RW, MAP_SHARED, fd, 0)
        p.mem_write(a, pattern(3, 4 * PG))
        p.munmap(a + 2 * PG, 2 * PG)            # the object still has a mapping: [a, a+2PG)
        p.close(fd)
        p.exit()
        assert host_file(k) == pattern(3, 4 * PG)


def test_exit_writes_back(tmp_path):
    with Kernel(root=str(tmp_path), physmem="16M", swap="16M") as k:
        p = k.spawn(uid=1000, gid=1000)
        fd = setup_file(p, 4 * PG)
        a = p.mmap(0, 4 * PG, RW, MAP_SHARED | mman.MAP_NOSYNC, fd, 0)
        p.mem_write(a, pattern(4, 4 * PG))
        p.exit()
        assert host_file(k) == pattern(4, 4 * PG)


def test_exit_of_forked_processes_writes_back_every_page(tmp_path):
    with Kernel(root=str(tmp_path), physmem="16M", swap="16M") as k:
        p = k.spawn()
        fd = setup_file(p, 4 * PG)
        a = p.mmap(0, 4 * PG, RW, MAP_SHARED, fd, 0)
        p.mem_write(a, pattern(5, PG))
        c = p.fork()
        c.mem_write(a + PG, pattern(6, PG))
        g = c.fork()
        g.mem_write(a + 2 * PG, pattern(7, PG))
        p.mem_write(a + 3 * PG, pattern(8, PG))
        c.exit()
        p.exit()
        g.exit()
        assert host_file(k) == pattern(5, PG) + pattern(6, PG) + pattern(7, PG) + pattern(8, PG)


def test_kernel_close_writes_back(tmp_path):
    k = Kernel(root=str(tmp_path), physmem="16M", swap="16M")
    procs = [k.spawn(uid=1000 + i, gid=1000) for i in range(3)]
    for i, p in enumerate(procs):
        fd = setup_file(p, 2 * PG, f"/f{i}.bin")
        a = p.mmap(0, 2 * PG, RW, MAP_SHARED, fd, 0)
        p.mem_write(a + 3, pattern(10 + i, 2 * PG - 3))
        shm = p.shm_open(f"/shm{i}", os.O_RDWR | os.O_CREAT, 0o600)
        p.ftruncate(shm, PG)
        b = p.mmap(0, PG, RW, MAP_SHARED, shm, 0)
        p.mem_write(b, b"shm" * 10)
    k.close()
    for i in range(3):
        with open(tmp_path / f"f{i}.bin", "rb") as f:
            assert f.read() == b"\0" * 3 + pattern(10 + i, 2 * PG - 3)
        with open(tmp_path / f"shm{i}", "rb") as f:
            assert f.read(30) == b"shm" * 10
    k.close()                                   # idempotent


def test_writeback_under_memory_pressure(tmp_path):
    """A shared file mapping larger than physical memory: the page daemon writes dirty pages out
    (v_vnodeout) and faults bring them back; at munmap the whole file holds what was written."""
    npages = 3000                               # physmem 8 MiB = 2048 frames
    with Kernel(root=str(tmp_path), physmem="8M", swap="4M") as k:
        p = k.spawn()
        fd = setup_file(p, npages * PG)
        a = p.mmap(0, npages * PG, RW, MAP_SHARED, fd, 0)
        for i in range(npages):
            p.mem_write(a + i * PG + (i % 4000), i.to_bytes(4, "little"))
        assert k.vmstat()["v_vnodeout"] > 0
        for i in range(0, npages, 97):          # paged out and back in
            assert p.mem_read(a + i * PG + (i % 4000), 4) == i.to_bytes(4, "little")
        p.munmap(a, npages * PG)
        data = host_file(k)
        for i in range(npages):
            o = i * PG + (i % 4000)
            assert data[o:o + 4] == i.to_bytes(4, "little"), i
        k.check_invariants()


def test_file_write_after_msync_then_mapping_write(tmp_path):
    """write(2) and the mapping agree; a later mapping write goes back at munmap over the file
    write (the last writer wins, as with one page cache)."""
    with Kernel(root=str(tmp_path), physmem="16M", swap="16M") as k:
        p = k.spawn()
        fd = setup_file(p, 2 * PG)
        a = p.mmap(0, 2 * PG, RW, MAP_SHARED, fd, 0)
        p.mem_write(a, b"AAAA")
        p.msync(a, 2 * PG, mman.MS_SYNC)
        p.pwrite(fd, b"BB", 1)
        assert p.mem_read(a, 4) == b"ABBA"
        p.mem_write(a + 3, b"C")
        p.munmap(a, 2 * PG)
        assert host_file(k)[:4] == b"ABBC"
