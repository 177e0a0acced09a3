"""The lock hierarchy of kern/lock.py, checked by its WITNESS: the kernel's locks all have a place in
LOCK_ORDER, an acquisition against the order is caught, and a threaded workload touching every lock
(giant, sysctl, VFS, descriptor tables, pipes, file references, fail points, MAC hooks) runs without
a single lock order reversal."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading

import pytest

from bsdvm import Kernel, mman
from bsdvm.kern import lock
from bsdvm.kern.lock import LOCK_ORDER, LockOrderReversal, WitnessLock, mtx

PG = 4096
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def witness(monkeypatch):
    monkeypatch.setenv("BSDVM_WITNESS", "1")
    del lock.reversals[:]
    yield lock.reversals
    del lock.reversals[:]


def test_locks_are_plain_threading_locks_without_witness(monkeypatch):
    monkeypatch.delenv("BSDVM_WITNESS", raising=False)
    assert type(mtx("giant", recursive=True)) is type(threading.RLock())
    assert type(mtx("pipe")) is type(threading.Lock())
    with pytest.raises(KeyError):
        mtx("no such lock")


def test_witness_catches_a_lock_order_reversal_and_allows_recursion(witness):
    giant, vfs, fdesc, fail = (mtx("giant", True), mtx("vfs", True), mtx("filedesc"),
                               mtx("failpoints"))
    assert isinstance(giant, WitnessLock)
    with giant, vfs, fdesc, fail:           # in order: fine
        pass
    with giant, vfs, giant:                 # a recursive lock already held may be taken again
        pass
    with fdesc:
        with pytest.raises(LockOrderReversal):
            vfs.acquire()                   # vfs after filedesc: against the order
    assert witness == [("vfs", "filedesc")]
    with fail:
        with pytest.raises(LockOrderReversal):
            mtx("hooks").acquire()          # two leaves are never held together
    assert not vfs._lock._is_owned() and giant.acquire(False)
    giant.release()


def test_every_kernel_lock_has_its_place_in_the_order(witness):
    with Kernel(physmem="4M", swap="4M") as k:
        p = k.spawn()
        locks = [k.giant, k.sysctl_tree._lock, k.vfs.lock, p.proc.p_fd._lock, k.fail._lock,
                 k.hooks._lock]
        assert all(isinstance(x, WitnessLock) for x in locks)
        assert [x.name for x in locks] == ["giant", "sysctl", "vfs", "filedesc", "failpoints",
                                          "hooks"]
        assert [x.rank for x in locks] == sorted(x.rank for x in locks)
        assert set(LOCK_ORDER) >= {x.name for x in locks} | {"pipe", "file refs"}


class _Bystander:
    """A MAC policy that allows every mapping: it only makes the hooks lock take part."""

    def check_vnode_mmap(self, cred, vp, prot, flags):
        return 0


def _workload(k: Kernel, tag: int, errors: list) -> None:
    try:
        p = k.spawn()
        for i in range(15):
            fd = p.open(f"/f{tag}", os.O_RDWR | os.O_CREAT, 0o644)
            p.write(fd, bytes([tag]) * (PG + i))
            a = p.mmap(0, 2 * PG, mman.PROT_READ | mman.PROT_WRITE, mman.MAP_SHARED, fd, 0)
            p.mem_write(a, b"x")
            p.msync(a, PG, mman.MS_SYNC)
            assert p.pread(fd, 1, 0) == b"x"
            r, w = p.pipe()
            p.write(w, b"pipe")
            assert p.read(r, 4) == b"pipe"
            c = p.fork()
            c.close(r)
            c.exit()
            for d in (r, w, fd):
                p.close(d)
            p.munmap(a, 2 * PG)
            k.sysctl("vm.old_msync", 0)
            k.fail.set("vnode_pager_alloc", errno.EIO if i % 2 else 0, count=1)
            k.fail.set("vnode_pager_alloc", 0)
            policy = _Bystander()
            k.add_mac_policy(policy)
            k.remove_mac_policy(policy)
            p.unlink(f"/f{tag}")
        p.exit()
    except BaseException as e:              # noqa: BLE001 - reported to the main thread
        errors.append(e)


def test_threaded_workload_has_no_lock_order_reversal(witness):
    with Kernel(physmem="8M", swap="8M") as k:
        errors: list = []
        threads = [threading.Thread(target=_workload, args=(k, t, errors)) for t in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads)
        assert errors == [] and witness == []
        k.check_invariants()


def test_concurrency_suite_runs_clean_under_witness():
    env = dict(os.environ, BSDVM_WITNESS="1", BSDVM_CONCURRENCY_ITER="40",
               PYTHONPATH=os.path.join(ROOT, "src"))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                        os.path.join(ROOT, "tests", "test_concurrency.py")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
