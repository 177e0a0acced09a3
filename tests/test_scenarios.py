"""Whole programs: several processes, real files, the seed's system calls and user loads/stores.

Durability is checked against the host file itself (os.path.join(k.root, name)), not through the
model's own read path.  Expected values come from the spec (../shared/spec/freebsd7-vm.md); each
test names the rules it exercises.  Every test ends with every process exited and the kernel
quiescent (no page frame, object or swap block left: the `k` fixture checks it).
"""
from __future__ import annotations

import errno
import os
import signal

import pytest

from bsdvm import BusError, Kernel, SegmentationFault, mman, resource
from bsdvm.vm.invariants import check_quiescent

PG = 4096
R, W, X = mman.PROT_READ, mman.PROT_WRITE, mman.PROT_EXEC
RW = R | W
RWX = R | W | X
ANON = mman.MAP_ANON | mman.MAP_PRIVATE
SHANON = mman.MAP_ANON | mman.MAP_SHARED
INCORE, REF, MOD = mman.MINCORE_INCORE, mman.MINCORE_REFERENCED, mman.MINCORE_MODIFIED
REF_O, MOD_O = mman.MINCORE_REFERENCED_OTHER, mman.MINCORE_MODIFIED_OTHER


def pattern(tag: int, n: int) -> bytes:
    return bytes((tag * 7 + i * 13) & 0xFF for i in range(n))


def host(k, path: str) -> bytes:
    with open(os.path.join(k.root, path.lstrip("/")), "rb") as f:
        return f.read()


def mkfile(p, path: str, data: bytes, flags=os.O_RDWR) -> int:
    fd = p.open(path, flags | os.O_CREAT, 0o644)
    assert p.write(fd, data) == len(data)
    return fd


def nentries(p) -> int:
    return len(p.maps())


def entry_at(p, addr):
    for e in p.maps():
        if e.start <= addr < e.end:
            return e
    return None


def segv(fn, code: str):
    with pytest.raises(SegmentationFault) as ei:
        fn()
    assert ei.value.signal == signal.SIGSEGV
    assert ei.value.code == code, ei.value
    return ei.value


def errno_of(fn) -> int:
    with pytest.raises(OSError) as ei:
        fn()
    return ei.value.errno


# -- MAP_SHARED files: coherence and durability --------------------------------------------------

def test_two_processes_share_a_file_mapping(k):
    p = k.spawn(uid=1000, gid=1000)
    q = k.spawn(uid=1000, gid=1000)
    init = pattern(1, 3 * PG)
    fdp = mkfile(p, "/data", init)
    fdq = q.open("/data", os.O_RDWR)
    a = p.mmap(0, 3 * PG, RW, mman.MAP_SHARED, fdp, 0)
    b = q.mmap(0, 3 * PG, RW, mman.MAP_SHARED, fdq, 0)
    assert p.mem_read(a, 3 * PG) == init == q.mem_read(b, 3 * PG)
    # stores through one mapping are loads through the other, and read(2) sees them (one object)
    p.mem_write(a + 100, b"from p")
    assert q.mem_read(b + 100, 6) == b"from p"
    q.mem_write(b + 2 * PG + 5, b"from q")
    assert p.mem_read(a + 2 * PG + 5, 6) == b"from q"
    assert q.pread(fdq, 6, 100) == b"from p"
    assert p.pread(fdp, 6, 2 * PG + 5) == b"from q"
    # write(2) through either descriptor shows in both mappings
    p.pwrite(fdp, b"pwrite!", PG + 7)
    assert p.mem_read(a + PG + 7, 7) == b"pwrite!" == q.mem_read(b + PG + 7, 7)
    q.pwrite(fdq, b"QQ", 100)
    assert p.mem_read(a + 100, 6) == b"QQom p"
    q.lseek(fdq, 3 * PG - 4)                                           # write(2), extending
    assert q.write(fdq, b"tail+more") == 9
    assert p.mem_read(a + 3 * PG - 4, 4) == b"tail" == q.mem_read(b + 3 * PG - 4, 4)
    assert p.fstat(fdp).st_size == 3 * PG + 5
    assert [e.path for e in p.maps() if e.start == a] == ["/data"]
    assert entry_at(p, a).object_type == "vnode"
    assert entry_at(p, a).inheritance == mman.INHERIT_SHARE          # VMM-10
    p.exit()
    q.exit()
    want = bytearray(init)
    want[100:106] = b"QQom p"
    want[2 * PG + 5:2 * PG + 11] = b"from q"
    want[PG + 7:PG + 14] = b"pwrite!"
    want[3 * PG - 4:] = b"tail+more"
    assert host(k, "/data") == bytes(want)                             # written back at exit


@pytest.mark.parametrize("flags", [mman.MS_SYNC, mman.MS_ASYNC, mman.MS_INVALIDATE])
def test_msync_puts_bytes_in_the_host_file(k, flags):
    p = k.spawn()
    init = pattern(2, 4 * PG)
    fd = mkfile(p, "/m", init)
    a = p.mmap(0, 4 * PG, RW, mman.MAP_SHARED, fd, 0)
    p.mem_write(a + PG + 10, b"dirty page one")
    p.mem_write(a + 3 * PG, b"dirty page three")
    p.msync(a, 4 * PG, flags)                                          # SYN-4, OBJ-11/14
    h = host(k, "/m")
    assert h[PG + 10:PG + 24] == b"dirty page one"
    assert h[3 * PG:3 * PG + 16] == b"dirty page three"
    assert h[:PG] == init[:PG]
    # the pages are clean now: no translation is modified any more
    vec = p.mincore(a, 4 * PG)
    assert not any(v & MOD for v in vec)
    # and the data is still what the mapping shows (MS_INVALIDATE frees clean pages: re-read)
    assert p.mem_read(a + PG + 10, 14) == b"dirty page one"


def test_msync_only_cleans_the_range(k):
    p = k.spawn()
    init = pattern(3, 3 * PG)
    fd = mkfile(p, "/r", init)
    a = p.mmap(0, 3 * PG, RW, mman.MAP_SHARED, fd, 0)
    p.mem_write(a, b"AAAA")
    p.mem_write(a + 2 * PG, b"CCCC")
    p.msync(a + 2 * PG, PG, mman.MS_SYNC)
    h = host(k, "/r")
    assert h[2 * PG:2 * PG + 4] == b"CCCC"
    assert h[:4] == init[:4]                                           # outside the range
    # OBJ-11 with 7.0's MSYNC_FLUSH_HARDSEQ: the sequential scan covered the partial range and
    # returned before the pass that write-protects every page, so page 0 (not adjacent to page
    # 2) keeps its writable translation and M bit; page 2 is clean
    vec = p.mincore(a, 3 * PG)
    assert vec[0] & (MOD | MOD_O) == MOD | MOD_O
    assert not vec[2] & (MOD | MOD_O)
    faults = k.vmstat()["v_vm_faults"]
    p.mem_write(a + 4, b"more")                                        # no fault: still writable
    assert k.vmstat()["v_vm_faults"] == faults
    assert p.mincore(a, PG)[0] & MOD


def test_munmap_writes_dirty_pages_back(k):
    p = k.spawn()
    fd = mkfile(p, "/u", pattern(4, 2 * PG))
    a = p.mmap(0, 2 * PG, RW, mman.MAP_SHARED, fd, 0)
    p.mem_write(a + PG - 3, b"straddle")
    p.munmap(a, 2 * PG)
    assert host(k, "/u")[PG - 3:PG + 5] == b"straddle"
    segv(lambda: p.mem_read(a, 1), "SEGV_MAPERR")                      # UNM-3: gone


def test_exit_writes_dirty_pages_back(k):
    p = k.spawn()
    fd = mkfile(p, "/e", pattern(5, 2 * PG))
    a = p.mmap(0, 2 * PG, RW, mman.MAP_SHARED, fd, 0)
    c = p.fork()                                                       # shares the mapping
    c.mem_write(a + 5, b"child wrote")
    p.mem_write(a + PG + 5, b"parent wrote")
    c.exit()
    p.exit()
    h = host(k, "/e")
    assert h[5:16] == b"child wrote" and h[PG + 5:PG + 17] == b"parent wrote"


# -- MAP_PRIVATE files ---------------------------------------------------------------------------

def test_private_mapping_never_changes_the_file(k):
    p = k.spawn()
    init = pattern(6, 3 * PG)
    fd = mkfile(p, "/priv", init)
    a = p.mmap(0, 3 * PG, RW, mman.MAP_PRIVATE, fd, 0)
    e = entry_at(p, a)
    assert {"COW", "NEEDS_COPY"} <= e.flags and e.max_prot == RWX      # VMM-6, MMAP-10
    # before the page is written, file changes show through the mapping
    assert p.mem_read(a, 4) == init[:4]
    p.pwrite(fd, b"file v2", 0)
    assert p.mem_read(a, 7) == b"file v2"
    # writing the page makes it private: later file changes to that page are not seen ...
    p.mem_write(a + 100, b"private")
    p.pwrite(fd, b"file v3", 0)
    p.pwrite(fd, b"file v3", PG)
    assert p.mem_read(a, 7) == b"file v2"
    assert p.mem_read(a + 100, 7) == b"private"
    # ... while pages never written still follow the file
    assert p.mem_read(a + PG, 7) == b"file v3"
    p.msync(a, 3 * PG, mman.MS_SYNC)                                   # OBJ-14: shadow not written
    assert p.pread(fd, 3 * PG, 0)[100:107] == init[100:107]
    p.munmap(a, 3 * PG)
    p.exit()
    h = host(k, "/priv")
    assert h[100:107] == init[100:107]
    assert h[:7] == b"file v3" and h[PG:PG + 7] == b"file v3"


def test_readonly_descriptor_private_mapping_is_writable(k):
    p = k.spawn()
    init = pattern(7, PG)
    mkfile(p, "/ro", init)
    fd = p.open("/ro", os.O_RDONLY)
    # edge case 4: MAP_SHARED+PROT_WRITE on an O_RDONLY file is EACCES, MAP_PRIVATE is fine
    assert errno_of(lambda: p.mmap(0, PG, RW, mman.MAP_SHARED, fd, 0)) == errno.EACCES
    a = p.mmap(0, PG, RW, mman.MAP_PRIVATE, fd, 0)
    p.mem_write(a, b"mine")
    assert p.mem_read(a, 4) == b"mine"
    s = p.mmap(0, PG, R, mman.MAP_SHARED, fd, 0)
    assert p.mem_read(s, 4) == init[:4]
    assert entry_at(p, s).max_prot == R | X
    assert errno_of(lambda: p.mprotect(s, PG, RW)) == errno.EACCES    # edge 21
    p.exit()
    assert host(k, "/ro") == init


def test_mapping_keeps_its_file_after_close_and_unlink(k):
    p = k.spawn()
    q = k.spawn()
    init = pattern(8, 2 * PG)
    fd = mkfile(p, "/gone", init)
    a = p.mmap(0, 2 * PG, RW, mman.MAP_SHARED, fd, 0)
    p.close(fd)
    p.unlink("/gone")
    assert not os.path.exists(os.path.join(k.root, "gone"))
    assert errno_of(lambda: q.open("/gone", os.O_RDONLY)) == errno.ENOENT
    assert p.mem_read(a, 2 * PG) == init                               # still the file's bytes
    p.mem_write(a + PG, b"after unlink")
    c = p.fork()
    assert c.mem_read(a + PG, 12) == b"after unlink"
    c.mem_write(a, b"child")
    assert p.mem_read(a, 5) == b"child"
    p.msync(a, 2 * PG, mman.MS_SYNC)
    c.exit()
    assert p.mem_read(a, 2 * PG)[:5] == b"child"
    p.munmap(a, 2 * PG)
    assert k.vmstat()["object_count"] == 0                             # the vnode went with it


# -- fork: COPY, SHARE, NONE ---------------------------------------------------------------------

def test_fork_private_copy_on_write(k):
    p = k.spawn()
    a = p.mmap(0, 2 * PG, RW, ANON)
    p.mem_write(a, b"before fork")
    c = p.fork()
    assert c.mem_read(a, 11) == b"before fork"
    p.mem_write(a, b"PARENT")
    c.mem_write(a + PG, b"CHILD")
    assert c.mem_read(a, 11) == b"before fork"
    assert p.mem_read(a, 11) == b"PARENT fork"
    assert p.mem_read(a + PG, 5) == bytes(5)
    assert c.mem_read(a + PG, 5) == b"CHILD"
    assert {"COW"} <= entry_at(c, a).flags                             # FORK-3
    assert k.vmstat()["v_cow_faults"] >= 1
    c.exit()
    assert p.mem_read(a, 11) == b"PARENT fork"


def test_fork_shared_stays_shared_and_none_is_a_hole(k):
    p = k.spawn()
    sh = p.mmap(0, PG, RW, SHANON)
    pr = p.mmap(0, PG, RW, ANON)
    no = p.mmap(0, PG, RW, ANON)
    p.minherit(no, PG, mman.INHERIT_NONE)
    p.mem_write(sh, b"shared")
    p.mem_write(no, b"not for the child")
    c = p.fork()
    assert entry_at(c, no) is None                                     # FORK-1
    segv(lambda: c.mem_read(no, 1), "SEGV_MAPERR")
    c.mem_write(sh, b"SHARED")
    assert p.mem_read(sh, 6) == b"SHARED"
    p.mem_write(sh + 10, b"back")
    assert c.mem_read(sh + 10, 4) == b"back"
    c.mem_write(pr, b"x")
    assert p.mem_read(pr, 1) == b"\0"
    g = c.fork()                                                       # a grandchild shares too
    g.mem_write(sh + 20, b"grand")
    assert p.mem_read(sh + 20, 5) == b"grand"
    # a fresh mapping in the child's former hole is independent
    n = c.mmap(no, PG, RW, ANON | mman.MAP_FIXED)
    assert n == no and c.mem_read(no, 3) == bytes(3)
    assert p.mem_read(no, 17) == b"not for the child"


def test_inherit_share_after_cow_fork_forked_twice(k):
    """FORK-2 with NEEDS_COPY: the private mapping was COW-shared with c1 when it was set to
    INHERIT_SHARE; the next fork shadows it first so that parent and c2 (and later c3) share the
    new shadow, while c1 keeps the pre-fork copy."""
    p = k.spawn()
    a = p.mmap(0, 2 * PG, RW, ANON)
    p.mem_write(a, b"v1")
    p.mem_write(a + PG, b"w1")
    c1 = p.fork()
    p.minherit(a, 2 * PG, mman.INHERIT_SHARE)
    c2 = p.fork()
    assert "NEEDS_COPY" not in entry_at(p, a).flags
    p.mem_write(a, b"v2")
    assert c2.mem_read(a, 2) == b"v2"
    assert c1.mem_read(a, 2) == b"v1"
    c2.mem_write(a + PG, b"w2")
    assert p.mem_read(a + PG, 2) == b"w2"
    assert c1.mem_read(a + PG, 2) == b"w1"
    c1.mem_write(a, b"c1")
    assert p.mem_read(a, 2) == b"v2" and c2.mem_read(a, 2) == b"v2"
    c3 = p.fork()                                                      # second SHARE fork
    c3.mem_write(a, b"v3")
    assert p.mem_read(a, 2) == b"v3" == c2.mem_read(a, 2)
    assert c1.mem_read(a, 2) == b"c1"
    c2.exit()
    p.mem_write(a + PG, b"w3")
    assert c3.mem_read(a + PG, 2) == b"w3"
    assert c1.mem_read(a + PG, 2) == b"w1"


@pytest.mark.parametrize("collapse", [False, True], ids=["nocollapse", "collapse"])
@pytest.mark.parametrize("block_xfer", [False, True], ids=["noblockxfer", "blockxfer"])
@pytest.mark.parametrize("full_mod", [False, True], ids=["nofullmod", "fullmod"])
def test_shared_shadow_inval(k, collapse, block_xfer, full_mod):
    """FreeBSD's tests/sys/vm/shared_shadow_inval_test.c (CVE-2021-29626), sequentially:
    P1 maps MAP_SHARED|MAP_ANON memory and stamps it; (P4 forked to block the COW page move);
    P1 sets INHERIT_COPY and forks P2; P2 sets INHERIT_SHARE, reads every page (mapping P1's
    pages read-only), forks P3; (P1 and P4 exit so the chain can collapse); P3 writes.  P2 shares
    the shadow with P3 (FORK-2: writes through either are seen by both), so P2 must see P3's
    stores -- its read-only mappings of P1's pages must not survive P3's copy-on-write."""
    npages = 9
    modlen = npages if full_mod else npages // 2

    def stamp(p, n):
        for i in range(n):
            p.mem_write(a + i * PG, p.pid.to_bytes(4, "little"))

    def seen(p):
        return [int.from_bytes(p.mem_read(a + i * PG, 4), "little") for i in range(npages)]

    p1 = k.spawn()
    a = p1.mmap(0, npages * PG, RW, SHANON)
    stamp(p1, npages)
    p4 = p1.fork() if block_xfer else None
    p1.minherit(a, npages * PG, mman.INHERIT_COPY)
    p2 = p1.fork()
    p2.minherit(a, npages * PG, mman.INHERIT_SHARE)
    old = seen(p2)[0]
    assert old == p1.pid
    p3 = p2.fork()
    if collapse:
        p1.exit()
        if p4 is not None:
            p4.exit()
        k.check_invariants()
    stamp(p3, modlen)
    want = [p3.pid] * modlen + [old] * (npages - modlen)
    assert seen(p3) == want
    assert seen(p2) == want
    for p in (p1, p4):
        if p is not None and p.alive:
            assert seen(p) == [p1.pid] * npages
    k.check_invariants()


def test_shared_anon_set_to_inherit_copy(k):
    """FORK-3 on a MAP_SHARED region: vm_map_copy_entry marks *both* entries COW|NEEDS_COPY, so
    after the fork the parent's own stores go to a private shadow: the process it shared the
    region with (by INHERIT_SHARE) no longer sees them.  Pages the parent has not written still
    show the other sharer's stores (read through to the shared object)."""
    p = k.spawn()
    a = p.mmap(0, 2 * PG, RW, SHANON)
    p.mem_write(a, b"base")
    s = p.fork()                                       # s shares the region (INHERIT_SHARE)
    p.minherit(a, 2 * PG, mman.INHERIT_COPY)
    d = p.fork()                                       # COPY: p and d both become copy-on-write
    assert {"COW", "NEEDS_COPY"} <= entry_at(p, a).flags
    assert {"COW", "NEEDS_COPY"} <= entry_at(d, a).flags
    assert "COW" not in entry_at(s, a).flags
    p.mem_write(a, b"P!")
    assert s.mem_read(a, 4) == b"base"                 # the sharer does not see it any more
    assert d.mem_read(a, 4) == b"base"
    s.mem_write(a + PG, b"S-page1")
    assert p.mem_read(a + PG, 7) == b"S-page1"         # not written by p: still the shared page
    assert d.mem_read(a + PG, 7) == b"S-page1"
    s.mem_write(a + 2, b"SS")
    assert p.mem_read(a, 4) == b"P!se"                 # written by p: private now
    assert d.mem_read(a, 4) == b"baSS"
    d.mem_write(a + PG, b"D")
    assert s.mem_read(a + PG, 7) == b"S-page1" and p.mem_read(a + PG, 7) == b"S-page1"


def test_shared_file_mapping_set_to_inherit_copy_stops_writing_the_file(k):
    """The same FORK-3 rule for a MAP_SHARED file mapping: after an INHERIT_COPY fork the parent's
    entry is copy-on-write, so its later stores no longer reach the file."""
    p = k.spawn()
    init = pattern(9, 2 * PG)
    fd = mkfile(p, "/shcopy", init)
    a = p.mmap(0, 2 * PG, RW, mman.MAP_SHARED, fd, 0)
    p.mem_write(a, b"before")
    p.minherit(a, 2 * PG, mman.INHERIT_COPY)
    c = p.fork()
    p.mem_write(a + PG, b"after")
    assert p.pread(fd, 6, 0) == b"before"
    assert p.pread(fd, 5, PG) == init[PG:PG + 5]
    p.pwrite(fd, b"file!", 10)
    assert p.mem_read(a + 10, 5) == b"file!"           # page 0 not written since: follows file
    assert c.mem_read(a + 10, 5) == b"file!"
    c.exit()
    p.exit()
    h = host(k, "/shcopy")
    assert h[:6] == b"before" and h[PG:PG + 5] == init[PG:PG + 5]


def test_fork_after_mlock_gives_child_eager_copy(k):
    p = k.spawn(uid=0)
    a = p.mmap(0, 2 * PG, RW, ANON)
    p.mem_write(a, b"wired data")
    p.mlock(a, 2 * PG)
    c = p.fork()                                                       # edge 29
    ce = entry_at(c, a)
    assert ce.wired_count == 0 and not {"COW", "NEEDS_COPY"} & ce.flags
    assert entry_at(p, a).wired_count == 1
    assert c.mem_read(a, 10) == b"wired data"
    p.mem_write(a, b"WIRED")
    c.mem_write(a + PG, b"child")
    assert c.mem_read(a, 5) == b"wired" and p.mem_read(a + PG, 5) == bytes(5)


# -- clipping and merging ------------------------------------------------------------------------

@pytest.mark.parametrize("op, undo", [
    (lambda p, a, n: p.mprotect(a, n, R), lambda p, a, n: p.mprotect(a, n, RW)),
    (lambda p, a, n: p.minherit(a, n, mman.INHERIT_NONE),
     lambda p, a, n: p.minherit(a, n, mman.INHERIT_COPY)),
    (lambda p, a, n: p.madvise(a, n, mman.MADV_NOSYNC),
     lambda p, a, n: p.madvise(a, n, mman.MADV_AUTOSYNC)),
    (lambda p, a, n: p.madvise(a, n, mman.MADV_NOCORE),
     lambda p, a, n: p.madvise(a, n, mman.MADV_CORE)),
    (lambda p, a, n: p.madvise(a, n, mman.MADV_SEQUENTIAL),
     lambda p, a, n: p.madvise(a, n, mman.MADV_NORMAL)),
], ids=["mprotect", "minherit", "nosync", "nocore", "behaviour"])
@pytest.mark.parametrize("touched", [False, True])
def test_split_then_merge_again(k, op, undo, touched):
    p = k.spawn()
    base = nentries(p)
    a = p.mmap(0, 8 * PG, RW, ANON)
    assert nentries(p) == base + 1
    if touched:
        for i in range(8):
            p.mem_write(a + i * PG, bytes([i + 1]))
    op(p, a + 3 * PG, 2 * PG)                                          # MAP-13/14: clip twice
    assert nentries(p) == base + 3
    mid = entry_at(p, a + 3 * PG)
    assert (mid.start, mid.end) == (a + 3 * PG, a + 5 * PG)
    assert entry_at(p, a).end == a + 3 * PG and entry_at(p, a + 7 * PG).start == a + 5 * PG
    # clipping gave the halves one object (MAP-13) at consecutive offsets
    assert [e.offset for e in p.maps() if a <= e.start < a + 8 * PG] == [0, 3 * PG, 5 * PG]
    undo(p, a + 3 * PG, 2 * PG)                                        # MAP-15: alike again
    assert nentries(p) == base + 1
    e = entry_at(p, a)
    assert (e.start, e.end, e.prot, e.inheritance) == (a, a + 8 * PG, RW, mman.INHERIT_COPY)
    if touched:
        assert [p.mem_read(a + i * PG, 1)[0] for i in range(8)] == list(range(1, 9))


def test_munmap_middle_leaves_two_entries_and_a_hole(k):
    p = k.spawn()
    base = nentries(p)
    a = p.mmap(0, 6 * PG, RW, ANON)
    for i in range(6):
        p.mem_write(a + i * PG, bytes([0x40 + i]))
    p.munmap(a + 2 * PG, 2 * PG)
    assert nentries(p) == base + 2
    segv(lambda: p.mem_read(a + 2 * PG, 1), "SEGV_MAPERR")
    assert p.mem_read(a + 4 * PG, 1) == b"\x44"
    # UNM-2: munmap over the hole is refused and removes nothing
    assert errno_of(lambda: p.munmap(a, 6 * PG)) == errno.EINVAL
    assert p.mem_read(a, 1) == b"\x40" and nentries(p) == base + 2
    # refill the hole: a fresh zero page, not the old contents
    b = p.mmap(a + 2 * PG, 2 * PG, RW, ANON | mman.MAP_FIXED)
    assert b == a + 2 * PG and p.mem_read(b, 2 * PG) == bytes(2 * PG)


def test_adjacent_anonymous_mappings_coalesce(k):
    p = k.spawn()
    base = nentries(p)
    a = p.mmap(0, 2 * PG, RW, ANON)
    b = p.mmap(0, 2 * PG, RW, ANON)
    assert b == a + 2 * PG                                             # MAP-11 first fit
    assert nentries(p) == base + 1                                     # MAP-8 extension
    c = p.mmap(0, PG, R, ANON)
    assert c == a + 4 * PG and nentries(p) == base + 2                 # different prot
    s = p.mmap(0, PG, RW, SHANON)
    assert s == a + 5 * PG and nentries(p) == base + 3                 # VMM-10 split back off
    assert entry_at(p, s).inheritance == mman.INHERIT_SHARE


def test_mprotect_beyond_max_is_eacces_and_keeps_contents(k):
    p = k.spawn()
    init = pattern(10, 2 * PG)
    mkfile(p, "/max", init)
    fd = p.open("/max", os.O_RDONLY)
    s = p.mmap(0, 2 * PG, R, mman.MAP_SHARED, fd, 0)
    assert errno_of(lambda: p.mprotect(s + PG, PG, RW)) == errno.EACCES
    assert all(e.prot == R for e in p.maps() if s <= e.start < s + 2 * PG)
    assert p.mem_read(s, 2 * PG) == init
    segv(lambda: p.mem_write(s, b"x"), "SEGV_ACCERR")                 # edge 18


# -- mincore -------------------------------------------------------------------------------------

def test_mincore_reports_real_page_state(k):
    p = k.spawn()
    a = p.mmap(0, 4 * PG, RW, ANON)
    p.mem_write(a, b"w")                                               # written
    p.mem_read(a + PG, 1)                                              # read: zero fill
    vec = p.mincore(a, 4 * PG)
    assert vec[0] == INCORE | REF | MOD | REF_O | MOD_O
    assert vec[1] == INCORE | REF | REF_O
    assert vec[2] == 0 and vec[3] == 0
    assert errno_of(lambda: p.mincore(a + 8 * PG, PG)) == errno.ENOMEM


def test_mincore_other_bits_across_processes(k):
    p = k.spawn()
    q = k.spawn()
    fd = mkfile(p, "/mc", pattern(11, 2 * PG))
    fq = q.open("/mc", os.O_RDWR)
    a = p.mmap(0, 2 * PG, RW, mman.MAP_SHARED, fd, 0)
    b = q.mmap(0, 2 * PG, RW, mman.MAP_SHARED, fq, 0)
    p.mem_write(a, b"p")                       # p: A and M set on page 0
    # q never touched page 0: it sees it resident, modified and referenced by someone else
    # (PMAP-7 / MIN-6: no translation in q, so the page's own state and the other pmaps')
    assert q.mincore(b, PG)[0] == INCORE | MOD_O | REF_O
    assert p.mincore(a, PG)[0] == INCORE | REF | MOD | REF_O | MOD_O
    q.mem_read(b, 1)                           # q: A set, M clear on its own translation
    assert q.mincore(b, PG)[0] == INCORE | REF | REF_O | MOD_O
    # page 1 was never touched, but p's fault read it ahead (FLT-6): resident, not referenced
    # (the read-ahead page's only translation is p's prefault, A clear), not modified
    assert q.mincore(b + PG, PG)[0] == INCORE
    q.mem_read(b + PG, 1)
    assert q.mincore(b + PG, PG)[0] == INCORE | REF | REF_O
    assert p.mincore(a + PG, PG)[0] & (INCORE | MOD | MOD_O) == INCORE
    # once written back (msync), nobody reports it modified any more
    p.msync(a, 2 * PG, mman.MS_SYNC)
    assert not q.mincore(b, PG)[0] & (MOD | MOD_O)


def test_mincore_private_copy_hides_the_file_page(k):
    p = k.spawn()
    fd = mkfile(p, "/mp", pattern(12, 2 * PG))
    a = p.mmap(0, 2 * PG, RW, mman.MAP_PRIVATE, fd, 0)
    p.mem_write(a, b"copy")                    # page 0 is in the shadow now
    p.msync(a, 2 * PG, mman.MS_INVALIDATE)     # drop the translations (MAP-29)
    vec = p.mincore(a, 2 * PG)
    assert vec[0] & INCORE and vec[0] & MOD_O  # the shadow's own page (MIN-6)
    assert p.mem_read(a, 4) == b"copy"


# -- stack ---------------------------------------------------------------------------------------

def test_stack_grows_down_within_its_reservation(k):
    p = k.spawn()
    sg = k.sysctl("kern.sgrowsiz")
    st = [e for e in p.maps() if "GROWS_DOWN" in e.flags]
    assert len(st) == 1
    top = st[0]
    assert top.end == k.arch.usrstack and top.size == sg
    n = nentries(p)
    p.mem_write(top.start - 8, b"deeper!!")                           # MAP-40..43, edge 16
    assert nentries(p) == n + 1
    new = entry_at(p, top.start - 8)
    assert (new.start, new.end) == (top.start - sg, top.start)
    assert new.prot == RWX and "GROWS_DOWN" in new.flags
    assert "GROWS_DOWN" not in entry_at(p, top.start).flags
    assert p.mem_read(top.start - 8, 8) == b"deeper!!"
    assert p.vmspace_info()["ssize"] * PG == 2 * sg
    # a touch further down grows by whole sgrowsiz pieces
    p.mem_read(new.start - 3 * sg + 1, 1)
    assert entry_at(p, new.start - 3 * sg + 1).start == new.start - 3 * sg


def test_stack_growth_beyond_rlimit_is_segv_maperr(k):
    p = k.spawn()
    sg = k.sysctl("kern.sgrowsiz")
    p.setrlimit(resource.RLIMIT_STACK, (4 * sg, 4 * sg))
    top = [e for e in p.maps() if "GROWS_DOWN" in e.flags][0]
    p.mem_write(top.end - 4 * sg, b"ok")                              # exactly at the limit
    n = nentries(p)
    segv(lambda: p.mem_write(top.end - 4 * sg - 1, b"x"), "SEGV_MAPERR")  # MAP-42, FLT-1
    assert nentries(p) == n
    # far below any stack: not a growth candidate either
    segv(lambda: p.mem_read(0x1000, 1), "SEGV_MAPERR")


# -- files and EOF -------------------------------------------------------------------------------

def test_file_past_eof(k):
    p = k.spawn()
    data = pattern(13, PG + 100)
    fd = mkfile(p, "/eof", data)
    a = p.mmap(0, 3 * PG, R, mman.MAP_SHARED, fd, 0)                  # MMV-9: no error at mmap
    assert p.mem_read(a, PG) == data[:PG]
    tail = p.mem_read(a + PG, PG)
    assert tail[:100] == data[PG:] and tail[100:] == bytes(PG - 100)  # PGR-4
    e = segv(lambda: p.mem_read(a + 2 * PG + 5, 1), "SEGV_ACCERR")    # edge 17
    assert e.addr == a + 2 * PG + 5
    k.sysctl("machdep.prot_fault_translation", 1)
    with pytest.raises(BusError) as ei:
        p.mem_read(a + 2 * PG, 1)
    assert ei.value.signal == signal.SIGBUS and ei.value.code == "BUS_PAGE_FAULT"
    k.sysctl("machdep.prot_fault_translation", 0)
    pv = p.mmap(0, 3 * PG, RW, mman.MAP_PRIVATE, fd, 0)
    segv(lambda: p.mem_write(pv + 2 * PG, b"x"), "SEGV_ACCERR")       # FLT-4, private too
    p.mem_write(pv + PG + 200, b"private tail")
    assert p.mem_read(pv + PG + 200, 12) == b"private tail"
    assert errno_of(lambda: p.mlock(a, 3 * PG)) == errno.ENOMEM       # MLK-5: past EOF
    p.exit()
    assert host(k, "/eof") == data


def test_shared_write_past_eof_in_last_page_is_not_written_to_the_file(k):
    p = k.spawn()
    data = pattern(14, 100)
    fd = mkfile(p, "/tail", data)
    a = p.mmap(0, PG, RW, mman.MAP_SHARED, fd, 0)
    p.mem_write(a + 50, b"inside")
    p.mem_write(a + 200, b"outside")
    p.msync(a, PG, mman.MS_SYNC)
    h = host(k, "/tail")
    assert len(h) == 100 and h[50:56] == b"inside"


def test_ftruncate_shrinking_under_mappings(k):
    p = k.spawn()
    data = pattern(15, 3 * PG)
    fd = mkfile(p, "/trunc", data)
    a = p.mmap(0, 3 * PG, RW, mman.MAP_SHARED, fd, 0)
    pv = p.mmap(0, 3 * PG, RW, mman.MAP_PRIVATE, fd, 0)
    assert p.mem_read(a + 2 * PG, 4) == data[2 * PG:2 * PG + 4]
    p.mem_write(pv + 2 * PG, b"mine")                                 # a private copy of page 2
    p.mem_read(pv + PG, 4)
    p.ftruncate(fd, PG + 1000)                                        # PGR-3 setsize
    assert len(host(k, "/trunc")) == PG + 1000
    segv(lambda: p.mem_read(a + 2 * PG, 1), "SEGV_ACCERR")            # past the new EOF
    assert p.mem_read(a + PG, PG) == data[PG:PG + 1000] + bytes(PG - 1000)   # tail zeroed
    assert p.mem_read(pv + PG, PG) == data[PG:PG + 1000] + bytes(PG - 1000)
    assert p.mem_read(pv + 2 * PG, 4) == b"mine"                      # FLT-4: found in the shadow
    assert p.mem_read(a, PG) == data[:PG]
    p.ftruncate(fd, 3 * PG)                                           # grow again: zeros
    assert p.mem_read(a + 2 * PG, PG) == bytes(PG)
    assert p.mem_read(a + PG, PG) == data[PG:PG + 1000] + bytes(PG - 1000)
    p.exit()
    assert host(k, "/trunc") == data[:PG + 1000] + bytes(2 * PG - 1000)


# -- wiring --------------------------------------------------------------------------------------

def test_mlock_makes_pages_resident_and_counts_them(k):
    p = k.spawn(uid=0)
    a = p.mmap(0, 4 * PG, RW, ANON)
    before = k.vmstat()["v_wire_count"]
    p.mlock(a + PG, 2 * PG)
    assert k.vmstat()["v_wire_count"] == before + 2                   # PAGE-3
    vec = p.mincore(a, 4 * PG)
    assert [bool(v & INCORE) for v in vec] == [False, True, True, False]
    assert entry_at(p, a + PG).wired_count == 1 and "USER_WIRED" in entry_at(p, a + PG).flags
    p.mlock(a + PG, 2 * PG)                                           # MLK-5: relock, no change
    assert k.vmstat()["v_wire_count"] == before + 2
    assert nentries(p) == 6
    p.munlock(a, 4 * PG)                                              # MAP-34: merged again
    assert nentries(p) == 4 and k.vmstat()["v_wire_count"] == before
    assert all(v & INCORE for v in p.mincore(a + PG, 2 * PG))         # unwired, still resident
    p.mlock(a + PG, 2 * PG)
    # a shared page wired by two processes counts once
    s = p.mmap(0, PG, RW, SHANON)
    c = p.fork()
    p.mlock(s, PG)
    c.mlock(s, PG)
    assert k.vmstat()["v_wire_count"] == before + 3
    c.exit()
    p.munlock(a, 4 * PG)
    assert k.vmstat()["v_wire_count"] == before + 1
    p.munmap(s, PG)                                                   # MAP-16: wiring dropped
    assert k.vmstat()["v_wire_count"] == before


def test_mlock_needs_privilege_and_no_holes(k):
    u = k.spawn(uid=1000, gid=1000)
    a = u.mmap(0, PG, RW, ANON)
    assert errno_of(lambda: u.mlock(a, PG)) == errno.EPERM            # MLK-1
    r = k.spawn(uid=0)
    b = r.mmap(0, 3 * PG, RW, ANON)
    r.munmap(b + PG, PG)
    assert errno_of(lambda: r.mlock(b, 3 * PG)) == errno.ENOMEM       # edge 26: hole
    assert all(e.wired_count == 0 for e in r.maps())                  # all or nothing
    assert errno_of(lambda: r.munlock(b, 3 * PG)) == errno.ENOMEM


def test_mlock_survives_memory_pressure():
    k = Kernel(physmem="2M", swap="16M")
    try:
        p = k.spawn(uid=0)
        w = p.mmap(0, 8 * PG, RW, ANON)
        for i in range(8):
            p.mem_write(w + i * PG, bytes([i]) * 16)
        p.mlock(w, 8 * PG)
        big = p.mmap(0, 600 * PG, RW, ANON)
        for i in range(600):
            p.mem_write(big + i * PG, i.to_bytes(2, "little"))
        assert k.vmstat()["v_swapout"] > 0
        assert all(v & INCORE for v in p.mincore(w, 8 * PG))
        assert all(p.mem_read(w + i * PG, 16) == bytes([i]) * 16 for i in range(8))
        assert all(p.mem_read(big + i * PG, 2) == i.to_bytes(2, "little") for i in range(600))
        k.check_invariants()
        p.exit()
        check_quiescent(k)
    finally:
        k.close()


def test_mlock_writable_private_file_mapping_copies_every_page(k):
    p = k.spawn(uid=0)
    data = pattern(16, 2 * PG)
    fd = mkfile(p, "/wired", data)
    a = p.mmap(0, 2 * PG, RW, mman.MAP_PRIVATE, fd, 0)
    p.mlock(a, 2 * PG)                                                # edge 31, FLT-12
    assert "NEEDS_COPY" not in entry_at(p, a).flags
    p.pwrite(fd, b"later", PG)
    assert p.mem_read(a + PG, 5) == data[PG:PG + 5]
    p.mem_write(a, b"ok")                                             # mapped writable: no fault
    assert p.mem_read(a, 2) == b"ok"


def test_mlock_readonly_private_then_mprotect_rw_faults(k):
    p = k.spawn(uid=0)
    data = pattern(17, PG)
    fd = mkfile(p, "/wro", data)
    a = p.mmap(0, PG, R, mman.MAP_PRIVATE, fd, 0)
    p.mlock(a, PG)
    assert {"COW", "NEEDS_COPY", "USER_WIRED"} <= entry_at(p, a).flags
    p.pwrite(fd, b"seen", 0)
    assert p.mem_read(a, 4) == b"seen"                                # still the file's page
    p.mprotect(a, PG, RW)                                             # edge 32: succeeds ...
    segv(lambda: p.mem_write(a, b"x"), "SEGV_ACCERR")                 # ... but writes fault
    p.munlock(a, PG)
    p.mem_write(a, b"x")                                              # unwired: COW works again
    assert p.pread(fd, 4, 0) == b"seen"


def test_mlock_prot_none_strips_max_write(k):
    p = k.spawn(uid=0)
    a = p.mmap(0, PG, 0, ANON)
    p.mlock(a, PG)                                                    # edge 33, FLT-3
    e = entry_at(p, a)
    assert e.max_prot == R | X and e.prot == 0
    assert p.mem_read(a, 4) == bytes(4)                               # x86: present => readable
    assert errno_of(lambda: p.mprotect(a, PG, RW)) == errno.EACCES
    p.mprotect(a, PG, R)
    # a PROT_NONE shared mapping of an O_RDONLY file (max r-x) cannot be wired at all
    mkfile(p, "/none", pattern(18, PG))
    fd = p.open("/none", os.O_RDONLY)
    s = p.mmap(0, PG, 0, mman.MAP_SHARED, fd, 0)
    assert errno_of(lambda: p.mlock(s, PG)) == errno.ENOMEM


def test_mlock_multi_page_prot_none_fails_after_the_first_page(k):
    """FLT-3 strips WRITE from the *entry's* max_protection while wiring its first page; the
    FLT-3 retry for the entry's second page then fails (as vm_fault.c does in FreeBSD 7), so the
    whole mlock fails (MAP-33 undoes the wiring) while the stripped max stays (spec section 14)."""
    p = k.spawn(uid=0)
    a = p.mmap(0, 2 * PG, 0, ANON)
    before = k.vmstat()["v_wire_count"]
    assert errno_of(lambda: p.mlock(a, 2 * PG)) == errno.ENOMEM
    e = entry_at(p, a)
    assert e.wired_count == 0 and e.max_prot == R | X
    assert k.vmstat()["v_wire_count"] == before


def test_msync_invalidate_over_wired_memory_is_ebusy(k):
    p = k.spawn(uid=0)
    fd = mkfile(p, "/busy", pattern(19, PG))
    a = p.mmap(0, PG, RW, mman.MAP_SHARED, fd, 0)
    p.mlock(a, PG)
    assert errno_of(lambda: p.msync(a, PG, mman.MS_INVALIDATE)) == errno.EBUSY   # edge 28
    p.msync(a, PG, mman.MS_SYNC)
    assert errno_of(lambda: p.msync(a, PG, mman.MS_ASYNC | mman.MS_INVALIDATE)) == errno.EINVAL
    assert errno_of(lambda: p.msync(a + 4 * PG, PG, mman.MS_SYNC)) == errno.EINVAL


def test_madvise_dontneed_and_free(k):
    p = k.spawn()
    a = p.mmap(0, 2 * PG, RW, ANON)
    p.mem_write(a, b"keep me")
    p.madvise(a, 2 * PG, mman.MADV_DONTNEED)                          # PAGE-6: contents kept
    assert p.mem_read(a, 7) == b"keep me"
    p.madvise(a, 2 * PG, mman.MADV_FREE)                              # OBJ-15: clean, not gone
    assert p.mincore(a, PG)[0] & INCORE
    p.mem_write(a, b"written after free")
    assert p.mem_read(a, 18) == b"written after free"
    assert errno_of(lambda: p.madvise(a, PG, 11)) == errno.EINVAL


def test_madv_free_then_store_survives_pageout():
    """A page stored to after MADV_FREE is dirty again and must be saved like any other
    (FreeBSD's page daemon tests the pmap M bit)."""
    k = Kernel(physmem="2M", swap="16M")
    try:
        p = k.spawn()
        a = p.mmap(0, 16 * PG, RW, ANON)
        for i in range(16):
            p.mem_write(a + i * PG, b"old")
        p.madvise(a, 16 * PG, mman.MADV_FREE)
        for i in range(16):
            p.mem_write(a + i * PG, bytes([0x80 + i]) * 8)
        big = p.mmap(0, 700 * PG, RW, ANON)
        for i in range(700):
            p.mem_write(big + i * PG, b"z")
        assert k.vmstat()["v_swapout"] > 0
        assert [p.mem_read(a + i * PG, 8) for i in range(16)] == \
            [bytes([0x80 + i]) * 8 for i in range(16)]
        p.exit()
        check_quiescent(k)
    finally:
        k.close()


def test_everything_quiescent_after_a_busy_program():
    k = Kernel(physmem="4M", swap="16M")
    try:
        p = k.spawn(uid=0)
        fd = mkfile(p, "/busy", pattern(20, 8 * PG))
        m = p.mmap(0, 8 * PG, RW, mman.MAP_SHARED, fd, 0)
        v = p.mmap(0, 8 * PG, RW, mman.MAP_PRIVATE, fd, 0)
        an = p.mmap(0, 64 * PG, RW, ANON)
        for i in range(64):
            p.mem_write(an + i * PG, bytes([i]))
        p.mem_write(m + 3 * PG, b"m")
        p.mem_write(v + 4 * PG, b"v")
        p.mlock(an, 4 * PG)
        kids = [p.fork() for _ in range(3)]
        for j, c in enumerate(kids):
            c.mem_write(an + j * PG, b"kid")
            c.mem_write(m + j, b"K")
        p.munmap(v, 8 * PG)
        for c in kids:
            c.exit()
        k.check_invariants()
        p.exit()
        check_quiescent(k)
        assert host(k, "/busy")[:3] == b"KKK"
        assert host(k, "/busy")[3 * PG] == ord("m")
    finally:
        k.close()


# -- more programs ---------------------------------------------------------------------------------

def test_regrown_anonymous_region_reads_zeros(k):
    """MAP-17 frees (and truncates) the unmapped tail of a private object; when a new mapping
    coalesces onto the entry again (MAP-8, OBJ-12) it must not see the old bytes."""
    p = k.spawn()
    base = nentries(p)
    a = p.mmap(0, 4 * PG, RW, ANON)
    for i in range(4):
        p.mem_write(a + i * PG, b"old!" * 8)
    p.munmap(a + 2 * PG, 2 * PG)
    b = p.mmap(0, 2 * PG, RW, ANON)
    assert b == a + 2 * PG and nentries(p) == base + 1
    assert p.mem_read(b, 2 * PG) == bytes(2 * PG)
    assert p.mem_read(a, 4) == b"old!"
    # the same in the middle of a region, with a child holding the object too
    c = p.fork()
    p.munmap(a + PG, PG)
    n = p.mmap(a + PG, PG, RW, ANON | mman.MAP_FIXED)
    assert p.mem_read(n, 4) == bytes(4) and c.mem_read(a + PG, 4) == b"old!"


def test_msync_zero_length_syncs_the_whole_entry(k):
    p = k.spawn()
    init = pattern(21, 3 * PG)
    fd = mkfile(p, "/whole", init)
    a = p.mmap(0, 3 * PG, RW, mman.MAP_SHARED, fd, 0)
    for i in range(3):
        p.mem_write(a + i * PG + 1, b"#%d" % i)
    p.msync(a + PG, 0, mman.MS_SYNC)                                  # SYN-3 / MAP-27
    h = host(k, "/whole")
    assert [h[i * PG + 1:i * PG + 3] for i in range(3)] == [b"#0", b"#1", b"#2"]


def test_one_file_mapped_twice_at_different_offsets(k):
    p = k.spawn()
    init = pattern(22, 3 * PG)
    fd = mkfile(p, "/twice", init)
    a = p.mmap(0, 3 * PG, RW, mman.MAP_SHARED, fd, 0)
    b = p.mmap(0, 2 * PG, RW, mman.MAP_SHARED, fd, PG)
    p.mem_write(b + 10, b"via b")
    assert p.mem_read(a + PG + 10, 5) == b"via b"
    p.mem_write(a + 2 * PG + 20, b"via a")
    assert p.mem_read(b + PG + 20, 5) == b"via a"
    # an unaligned file offset: the page offset comes back in the address (MMAP-5/11)
    c = p.mmap(0, 100, R, mman.MAP_SHARED, fd, PG + 10)
    assert c % PG == 10 and p.mem_read(c, 5) == b"via b"


def test_map_fixed_over_a_dirty_shared_mapping_keeps_the_bytes(k):
    p = k.spawn()
    init = pattern(23, 2 * PG)
    fd = mkfile(p, "/fixed", init)
    a = p.mmap(0, 2 * PG, RW, mman.MAP_SHARED, fd, 0)
    p.mem_write(a + 5, b"durable")
    n = p.mmap(a, 2 * PG, RW, ANON | mman.MAP_FIXED)                  # VMM-4 removes first
    assert n == a and p.mem_read(a, 7) == bytes(7)
    assert host(k, "/fixed")[5:12] == b"durable"
    assert p.pread(fd, 7, 5) == b"durable"


def test_private_file_mapping_fork_copy_on_write(k):
    p = k.spawn()
    init = pattern(24, 2 * PG)
    fd = mkfile(p, "/pf", init)
    a = p.mmap(0, 2 * PG, RW, mman.MAP_PRIVATE, fd, 0)
    p.mem_write(a, b"parent's")
    c = p.fork()
    c.mem_write(a + PG, b"child's")
    assert p.mem_read(a + PG, 7) == init[PG:PG + 7]
    assert c.mem_read(a, 8) == b"parent's"
    p.pwrite(fd, b"new file bytes", PG + 100)
    assert p.mem_read(a + PG + 100, 14) == b"new file bytes"            # not copied in p
    assert c.mem_read(a + PG + 100, 14) == init[PG + 100:PG + 114]     # copied in c
    c.exit()
    p.exit()
    h = host(k, "/pf")
    assert h[:8] == init[:8] and h[PG + 100:PG + 114] == b"new file bytes"


def test_exit_with_wired_memory_releases_the_wiring(k):
    p = k.spawn(uid=0)
    before = k.vmstat()["v_wire_count"]
    a = p.mmap(0, 5 * PG, RW, ANON)
    p.mlock(a, 5 * PG)
    fd = mkfile(p, "/w", pattern(25, 2 * PG))
    s = p.mmap(0, 2 * PG, RW, mman.MAP_SHARED, fd, 0)
    p.mlock(s, 2 * PG)
    p.mem_write(s, b"wired store")
    assert k.vmstat()["v_wire_count"] == before + 7
    p.exit()
    assert k.vmstat()["v_wire_count"] == before
    assert host(k, "/w")[:11] == b"wired store"
