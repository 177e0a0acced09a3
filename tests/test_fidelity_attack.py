"""Issue 9, "Defects (attack)": one test (or a few) per defect, named after it.

Defects 1 and 2 (host write errors during write-back and page-out) are pinned in
tests/test_failpoints_io.py with the fail points; the others are here.
"""
from __future__ import annotations

import errno
import gc
import glob
import os
import tempfile
import tracemalloc

import pytest

from bsdvm import Kernel, mman
from bsdvm.mman import (MADV_DONTNEED, MADV_FREE, MAP_ANON, MAP_PRIVATE, MAP_SHARED, MS_INVALIDATE,
                        PROT_READ, PROT_WRITE)
from bsdvm.vm import pmap as pmap_mod
from bsdvm.vm.invariants import check_quiescent

PG = 4096
RW = PROT_READ | PROT_WRITE


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """A temporary directory of this test's own for the kernel's swap and root directories (other
    processes on the host create bsdvm-* directories in /tmp concurrently)."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def swap_dirs() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "bsdvm-*")))


@pytest.fixture
def k():
    kernel = Kernel(physmem="16M", swap="16M")
    yield kernel
    kernel.close()


# -- 3: msync(MS_INVALIDATE) of a device mapping -----------------------------------------------------

def test_defect3_msync_invalidate_of_a_device_keeps_its_fictitious_pages(k):
    fb = k.make_dev("fb0", "64K")
    owner = k.spawn(uid=0, gid=0)                   # mlock needs PRIV_VM_MLOCK
    fd = owner.open("/dev/fb0", os.O_RDWR)
    a = owner.mmap(0, 4 * PG, RW, MAP_SHARED, fd, 0)
    owner.mem_write(a, b"framebuffer")
    owner.mlock(a, 4 * PG)
    obj = fb.si_object
    resident = dict(obj.pages)
    other = k.spawn(uid=0, gid=0)
    ofd = other.open("/dev/fb0", os.O_RDWR)
    b = other.mmap(0, 4 * PG, RW, MAP_SHARED, ofd, 0)
    assert other.mem_read(b, 11) == b"framebuffer"
    other.msync(b, 4 * PG, MS_INVALIDATE)
    assert obj.pages == resident                    # the device pages stay in the object
    vms = owner.proc.p_vmspace
    assert (a >> 12) in vms.vm_map.pmap.ptes        # the owner's wired translation too
    assert vms.vm_map.pmap.wired_count == 4
    assert owner.mem_read(a, 11) == b"framebuffer"
    assert other.mem_read(b, 11) == b"framebuffer"  # refaulted to the same device memory
    owner.minherit(a, 4 * PG, mman.INHERIT_COPY)
    child = owner.fork()                            # copy of a wired entry: eager copy
    assert child.mem_read(a, 11) == b"framebuffer"  # not zeros
    k.check_invariants()
    for p in (child, other, owner):
        p.exit()


# -- 4: a failed boot leaks nothing -------------------------------------------------------------------

def test_defect4_kernel_with_a_file_as_root_leaks_no_fd_nor_swap_directory(tmp_path, private_tmp):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_bytes(b"x")
    fds, dirs = open_fds(), swap_dirs()
    for _ in range(3):
        with pytest.raises(NotADirectoryError):
            Kernel(physmem="4M", swap="4M", root=str(not_a_dir))
    assert open_fds() <= fds and swap_dirs() <= dirs == set()


def test_defect4_a_failure_after_the_swap_file_exists_gives_it_back(monkeypatch, private_tmp):
    import bsdvm.kernel as kernel_mod

    def boom(*args):
        raise MemoryError("simulated")
    monkeypatch.setattr(kernel_mod, "compute_vm_kmem_size", boom)
    fds = open_fds()
    with pytest.raises(MemoryError):
        Kernel(physmem="4M", swap="4M")
    assert open_fds() <= fds
    assert os.listdir(private_tmp) == []            # no swap nor root directory left


# -- 5: a kernel dropped without close() --------------------------------------------------------------

def test_defect5_dropped_kernel_closes_the_host_fds_of_open_model_files(tmp_path):
    fds = open_fds()
    k = Kernel(physmem="4M", swap="4M", root=str(tmp_path))
    p = k.spawn(uid=1000, gid=1000)
    for i in range(5):
        p.open(f"/f{i}", os.O_RDWR | os.O_CREAT, 0o644)
    p.unlink("/f0")                                 # pinned by the open vnode until dropped
    assert len(open_fds() - fds) >= 6               # five files and the swap file
    del k, p
    gc.collect()
    assert open_fds() <= fds


# -- 6: swap_path ---------------------------------------------------------------------------------------

def test_defect6_swap_path_that_exists_is_refused_and_left_intact(tmp_path):
    precious = tmp_path / "precious"
    precious.write_bytes(b"do not overwrite")
    with pytest.raises(FileExistsError):
        Kernel(physmem="4M", swap="4M", swap_path=str(precious))
    assert precious.read_bytes() == b"do not overwrite"


def test_defect6_swap_path_symlink_is_never_followed(tmp_path):
    target = tmp_path / "target"
    target.write_bytes(b"target bytes")
    link = tmp_path / "link"
    link.symlink_to(target)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    for path in (link, dangling):
        with pytest.raises(FileExistsError):
            Kernel(physmem="4M", swap="4M", swap_path=str(path))
    assert target.read_bytes() == b"target bytes"
    assert not (tmp_path / "nowhere").exists()


# -- 7: lazy swap allocator -----------------------------------------------------------------------------

def test_defect7_swap_allocator_memory_does_not_grow_with_swap_size():
    tracemalloc.start()
    try:
        k = Kernel(physmem="4M", swap="4G")         # a million blocks: 40 MB as an eager list
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    try:
        assert peak < 1 << 20
        assert k.swap.nblocks == 1 << 20 and k.sysctl("vm.swap_total") == 4 << 30
    finally:
        k.close()


def test_defect7_terabyte_swap_boots_and_allocates_lowest_block_first():
    k = Kernel(physmem="4M", swap="1T")
    try:
        p = k.spawn(uid=1000, gid=1000)
        n = 2 * k.phys.npages
        a = p.mmap(0, n * PG, RW, MAP_ANON | MAP_PRIVATE)
        for i in range(n):
            p.mem_write(a + i * PG, i.to_bytes(4, "little"))
        used = sorted(k.swap.owner)
        assert used == list(range(len(used)))      # lowest blocks first, no gaps
        assert all(p.mem_read(a + i * PG, 4) == i.to_bytes(4, "little") for i in range(n))
        p.exit()
        check_quiescent(k)
    finally:
        k.close()


# -- 8: madvise/mincore walk resident pages --------------------------------------------------------

class _CountingPages(dict):
    """An object's page index that fails the test when probed index by index."""

    limit = 10_000

    def __init__(self, *args):
        super().__init__(*args)
        self.probes = 0

    def get(self, key, default=None):
        self.probes += 1
        if self.probes > self.limit:
            raise AssertionError("the page index is probed for every page of the range")
        return super().get(key, default)


def _sparse_64g(k):
    p = k.spawn(uid=1000, gid=1000)
    size = 64 << 30
    a = p.mmap(0, size, RW, MAP_ANON | MAP_PRIVATE)
    touched = [0, 1, 12345, (size >> 12) - 1]
    for i in touched:
        p.mem_write(a + i * PG, b"x")
    (entry,) = [e for e in p.proc.p_vmspace.vm_map.entries() if e.start == a]
    return p, a, size, touched, entry


@pytest.mark.pure_python                # compiled code reads a dict without calling its get method
@pytest.mark.parametrize("advice", [MADV_FREE, MADV_DONTNEED, mman.MADV_WILLNEED])
def test_defect8_madvise_of_a_64g_range_walks_only_resident_pages(k, advice):
    p, a, size, touched, entry = _sparse_64g(k)
    entry.object.pages = _CountingPages(entry.object.pages)
    p.madvise(a, size, advice)
    assert 0 < entry.object.pages.probes <= 4 * len(touched)   # the walk was counted, and short
    k.check_invariants()
    p.exit()


@pytest.mark.pure_python
def test_defect8_mincore_of_a_64g_range_walks_only_resident_pages(k, monkeypatch):
    p, a, size, touched, entry = _sparse_64g(k)
    calls = []
    real = pmap_mod.pmap_mincore

    def counting(pmap, va):
        calls.append(va)
        if len(calls) > 10_000:
            raise AssertionError("mincore visits every page of the range")
        return real(pmap, va)
    monkeypatch.setattr(pmap_mod, "pmap_mincore", counting)
    vec = p.mincore(a, size)
    assert len(vec) == size >> 12
    assert [i for i, b in enumerate(vec) if b] == touched
    assert len(calls) == len(touched)
    p.exit()


def test_defect8_mincore_into_user_memory_zero_fills_the_untouched_run(k):
    p = k.spawn(uid=1000, gid=1000)
    size = 1 << 30
    a = p.mmap(0, size, RW, MAP_ANON | MAP_PRIVATE)
    p.mem_write(a + 100 * PG, b"x")
    vec = p.mmap(0, (size >> 12), RW, MAP_ANON | MAP_PRIVATE)
    p.mem_write(vec, b"\xaa" * (size >> 12))
    p.mincore(a, size, vec=vec)
    out = p.mem_read(vec, size >> 12)
    assert out[100] & mman.MINCORE_INCORE
    assert out[:100] == bytes(100) and out[101:] == bytes((size >> 12) - 101)
    p.exit()


# -- 9: read(2) counts ----------------------------------------------------------------------------

@pytest.mark.parametrize("count", [2**63, 2**64 - 1, 2**40, 2**31, -1])
def test_defect9_read_of_dev_zero_above_int_max_is_einval(k, count):
    p = k.spawn(uid=1000, gid=1000)
    fd = p.open("/dev/zero", os.O_RDONLY)
    for call in (lambda: p.read(fd, count), lambda: p.pread(fd, count, 0)):
        with pytest.raises(OSError) as ei:
            call()
        assert ei.value.errno == errno.EINVAL
    assert p.read(fd, 10) == bytes(10)
    p.exit()


# -- 10: device memory ----------------------------------------------------------------------------

def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def test_defect10_make_dev_allocates_device_memory_lazily(k):
    rss = _rss_kib()
    dev = k.make_dev("big", 2**32)
    assert len(dev.si_memory) == 2**32
    assert _rss_kib() - rss < 64 * 1024             # not 4 GiB of host memory
    try:
        huge = k.make_dev("huge", 2**47)
        assert len(huge.si_memory) == 2**47
    except OSError as e:                            # the host cannot reserve 128 TiB: an errno
        assert e.errno == errno.ENOMEM
    p = k.spawn(uid=0, gid=0)
    fd = p.open("/dev/big", os.O_RDWR)
    a = p.mmap(0, 2 * PG, RW, MAP_SHARED, fd, 2**32 - 2 * PG)
    p.mem_write(a + PG + 7, b"top")
    assert dev.si_memory[2**32 - PG + 7:2**32 - PG + 10] == b"top"
    assert p.pread(fd, 3, 2**32 - PG + 7) == b"top"
    assert p.pread(fd, 4, 0) == bytes(4)
    assert _rss_kib() - rss < 64 * 1024
    p.exit()


@pytest.mark.parametrize("size, exc", [(2**64, ValueError), (-1, ValueError), ("x", ValueError),
                                       (1.5, TypeError), (None, TypeError)])
def test_defect10_make_dev_bad_size_is_a_value_or_type_error(k, size, exc):
    with pytest.raises(exc):
        k.make_dev("bad", size)
    assert "bad" not in k.devices


@pytest.mark.parametrize("files", [["a"], "abc", None, 5])
def test_defect10_mount_pseudofs_with_a_non_dict_is_a_type_error(k, files):
    with pytest.raises(TypeError):
        k.mount_pseudofs("/proc", files)


# -- 11: constructor arguments --------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc", [
    ({"kernel_wired_pages": -5}, ValueError),
    ({"kernel_wired_pages": 10**9}, ValueError),
    ({"kernel_wired_pages": "x"}, TypeError),
    ({"max_wired": "x"}, TypeError),
    ({"max_wired": -1}, ValueError),
    ({"root": ""}, ValueError),
    ({"swap_path": ""}, ValueError),
    ({"pagedaemon": "yes"}, TypeError),
])
def test_defect11_kernel_arguments_are_validated_up_front(kwargs, exc, private_tmp):
    fds = open_fds()
    with pytest.raises(exc):
        Kernel(physmem="4M", swap="4M", **kwargs)
    assert open_fds() <= fds and swap_dirs() == set()


def test_defect11_free_frames_never_exceed_physical_memory():
    k = Kernel(physmem="4M", swap="4M", kernel_wired_pages=0)
    try:
        assert k.phys.free_count + k.phys.v_wire_count == k.phys.npages
    finally:
        k.close()


# -- 12: uid_t / gid_t --------------------------------------------------------------------------------

def test_defect12_chown_converts_ids_like_spawn(k):
    root = k.spawn(uid=0, gid=0)
    fd = root.open("/mine", os.O_RDWR | os.O_CREAT, 0o600)
    root.close(fd)
    root.chown("/mine", -2, -2)
    st = root.stat("/mine")
    assert (st.st_uid, st.st_gid) == (0xFFFFFFFE, 0xFFFFFFFE)
    nobody = k.spawn(uid=-2, gid=-2)
    assert nobody.uid == 0xFFFFFFFE
    fd = nobody.open("/mine", os.O_RDWR)            # the owner can open its 0600 file
    nobody.close(fd)
    root.chown("/mine", -1, -1)                     # (uid_t)-1: leave both alone
    st = root.stat("/mine")
    assert (st.st_uid, st.st_gid) == (0xFFFFFFFE, 0xFFFFFFFE)
    with pytest.raises(OSError) as ei:
        root.chown("/mine", 2**32, 0)
    assert ei.value.errno == errno.EINVAL
    with pytest.raises(TypeError):
        root.chown("/mine", "0", 0)


# -- 13: exited processes -------------------------------------------------------------------------------

def test_defect13_every_method_of_an_exited_process_raises_process_lookup_error(k):
    p = k.spawn(uid=1000, gid=1000)
    p.exit()
    for call in (p.brk_base, p.brk_current, lambda: p.getrlimit(0), p.maps, p.vmspace_info,
                 lambda: p.getrlimit(8)):
        with pytest.raises(ProcessLookupError) as ei:
            call()
        assert ei.value.errno == errno.ESRCH
    p.exit()                                        # exit stays idempotent


# -- issue 9, "also worth a line": an exception mid-fault ---------------------------------------

@pytest.mark.pure_python
@pytest.mark.parametrize("where", ["_prefault", "pmap_enter"])
def test_keyboard_interrupt_mid_fault_leaves_the_page_gauges_consistent(k, monkeypatch, where):
    import bsdvm.vm.fault as fault_mod
    p = k.spawn(uid=1000, gid=1000)
    a = p.mmap(0, 4 * PG, RW, MAP_ANON | MAP_PRIVATE)
    target = fault_mod if where == "_prefault" else fault_mod.pmap_mod
    real = getattr(target, where)

    def interrupted(*args, **kw):
        real(*args, **kw)
        raise KeyboardInterrupt
    monkeypatch.setattr(target, where, interrupted)
    with pytest.raises(KeyboardInterrupt):
        p.mem_write(a, b"interrupted")
    monkeypatch.setattr(target, where, real)
    k.check_invariants()                            # every valid page wired or on one queue
    st = k.vmstat()
    assert st["v_free_count"] + st["v_wire_count"] + st["v_active_count"] \
        + st["v_inactive_count"] == k.phys.npages
    p.mem_write(a, b"again")
    assert p.mem_read(a, 5) == b"again"
    p.exit()
    check_quiescent(k)
