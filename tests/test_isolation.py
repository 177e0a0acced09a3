"""Isolation and privilege.

A non-root process cannot mlock, MADV_PROTECT or raise a hard limit; nobody can write a file opened
read-only through a shared mapping, or map writable-shared an immutable or append-only file; no process
sees another's private memory (except through fork copy-on-write or explicit sharing), not even through
recycled page frames or swap; no path given to the file system escapes the kernel's root directory
("..", symlinks made in the model or planted on the host, absolute host paths, mounts); and a MAC
policy's denial is honoured (and its grant, for privileges).
"""
from __future__ import annotations

import errno
import os
import stat

import pytest

from bsdvm import Kernel, SegmentationFault, mman, resource
from bsdvm.mman import (MAP_ANON, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE)

PG = 4096
RW = PROT_READ | PROT_WRITE


@pytest.fixture
def k(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    with Kernel(root=str(root), physmem="32M", swap="32M") as kern:
        yield kern


@pytest.fixture
def user(k):
    return k.spawn(uid=1000, gid=1000)


@pytest.fixture
def other(k):
    return k.spawn(uid=1001, gid=1001)


def err(fn, *args):
    with pytest.raises(OSError) as ei:
        fn(*args)
    return ei.value.errno


def host(k, name):
    with open(os.path.join(k.root, name.lstrip("/")), "rb") as f:
        return f.read()


# -- privilege ------------------------------------------------------------------------------------

def test_non_root_cannot_lock_memory(k, user):
    a = user.mmap(0, 4 * PG, RW, MAP_ANON | MAP_PRIVATE)
    user.mem_write(a, b"x")
    before = user.maps()
    wired = k.vmstat()["v_wire_count"]
    assert err(user.mlock, a, PG) == errno.EPERM
    assert err(user.mlock, a, 0) == errno.EPERM
    assert err(user.munlock, a, PG) == errno.EPERM
    assert err(user.mlockall, mman.MCL_CURRENT) == errno.EPERM
    assert err(user.mlockall, mman.MCL_FUTURE) == errno.EPERM
    assert err(user.munlockall) == errno.EPERM
    assert user.maps() == before
    assert not user.vmspace_info()["wirefuture"]
    assert k.vmstat()["v_wire_count"] == wired
    # even with RLIMIT_MEMLOCK as high as it goes (FreeBSD 7 has no unprivileged mlock)
    assert user.getrlimit(resource.RLIMIT_MEMLOCK)[1] == resource.RLIM_INFINITY
    assert err(user.mlock, a, PG) == errno.EPERM


def test_jailed_root_cannot_lock_memory(k):
    j = k.spawn(uid=0, gid=0, jail="j1")
    a = j.mmap(0, PG, RW, MAP_ANON | MAP_PRIVATE)
    assert err(j.mlock, a, PG) == errno.EPERM
    assert err(j.madvise, a, PG, mman.MADV_PROTECT) == errno.EPERM


def test_non_root_cannot_madv_protect(k, user):
    assert err(user.madvise, 0, 0, mman.MADV_PROTECT) == errno.EPERM
    assert not user.protected
    r = k.spawn(uid=0)
    r.madvise(0, 0, mman.MADV_PROTECT)
    assert r.protected


def test_non_root_cannot_raise_a_hard_limit(k, user):
    for which in (resource.RLIMIT_MEMLOCK, resource.RLIMIT_VMEM, resource.RLIMIT_DATA):
        cur, mx = user.getrlimit(which)
        user.setrlimit(which, (min(cur, 1 << 20), 1 << 20))        # lowering is allowed
        assert err(user.setrlimit, which, (1 << 20, 2 << 20)) == errno.EPERM
        assert err(user.setrlimit, which, (1 << 20, -1)) == errno.EPERM     # -1: RLIM_INFINITY
        assert err(user.setrlimit, which, (2 << 20, 1 << 20)) == errno.EINVAL
        assert user.getrlimit(which) == (min(cur, 1 << 20), 1 << 20)
        user.setrlimit(which, (1 << 19, 1 << 20))                   # the soft limit, within
    r = k.spawn(uid=0)
    r.setrlimit(resource.RLIMIT_VMEM, (1 << 20, 1 << 20))
    r.setrlimit(resource.RLIMIT_VMEM, (1 << 30, 1 << 30))          # root may raise it again
    assert r.getrlimit(resource.RLIMIT_VMEM) == (1 << 30, 1 << 30)
    # a lowered limit is inherited and cannot be raised back by the child either
    user.setrlimit(resource.RLIMIT_VMEM, (1 << 20, 1 << 20))
    c = user.fork()
    assert c.getrlimit(resource.RLIMIT_VMEM) == (1 << 20, 1 << 20)
    assert err(c.setrlimit, resource.RLIMIT_VMEM, (1 << 21, 1 << 21)) == errno.EPERM
    assert err(c.mmap, 0, 1 << 21, RW, MAP_ANON) == errno.ENOMEM


# -- files: read-only opens, immutable and append-only files ---------------------------------------

def _make(k, path, data, mode=0o644, uid=0):
    p = k.spawn(uid=uid, gid=uid)
    fd = p.open(path, os.O_RDWR | os.O_CREAT, mode)
    p.write(fd, data)
    p.close(fd)
    p.chmod(path, mode)                     # past the umask
    p.exit()


def test_read_only_open_cannot_write_through_a_shared_mapping(k, user):
    data = bytes(range(256)) * 32
    _make(k, "/ro.bin", data, 0o644, uid=0)
    fd = user.open("/ro.bin", os.O_RDONLY)
    assert err(user.open, "/ro.bin", os.O_RDWR) == errno.EACCES
    assert err(user.mmap, 0, 2 * PG, RW, MAP_SHARED, fd, 0) == errno.EACCES
    a = user.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0)
    assert user.maps()[-2].max_prot & PROT_WRITE == 0 or \
        [e for e in user.maps() if e.start == a][0].max_prot & PROT_WRITE == 0
    assert err(user.mprotect, a, 2 * PG, RW) == errno.EACCES
    with pytest.raises(SegmentationFault):
        user.mem_write(a, b"evil")
    assert err(user.minherit, a, PG, 99) == errno.EINVAL
    # a private mapping may be written: the copy is private
    b = user.mmap(0, 2 * PG, RW, MAP_PRIVATE, fd, 0)
    user.mem_write(b, b"mine")
    assert user.mem_read(b, 4) == b"mine" and user.mem_read(a, 4) == data[:4]
    user.msync(b, 2 * PG, mman.MS_SYNC)
    user.exit()
    assert host(k, "ro.bin") == data
    # even for the owner, a read-only descriptor gives no writable shared mapping
    owner = k.spawn(uid=0)
    fd = owner.open("/ro.bin", os.O_RDONLY)
    assert err(owner.mmap, 0, PG, RW, MAP_SHARED, fd, 0) == errno.EACCES


def test_write_only_open_cannot_be_read_through_a_mapping(k, user):
    _make(k, "/wo.bin", b"secret" * 1000, 0o622, uid=0)
    fd = user.open("/wo.bin", os.O_WRONLY)
    assert err(user.mmap, 0, PG, PROT_READ, MAP_SHARED, fd, 0) == errno.EACCES
    assert err(user.mmap, 0, PG, PROT_READ, MAP_PRIVATE, fd, 0) == errno.EACCES


@pytest.mark.parametrize("flag", [stat.UF_IMMUTABLE, stat.UF_APPEND, stat.SF_IMMUTABLE,
                                  stat.SF_APPEND])
def test_no_writable_shared_mapping_of_immutable_or_append_only(k, flag):
    owner_uid = 1000 if flag in (stat.UF_IMMUTABLE, stat.UF_APPEND) else 0
    p = k.spawn(uid=owner_uid, gid=owner_uid)
    fd = p.open("/prot.bin", os.O_RDWR | os.O_CREAT, 0o644)
    p.write(fd, b"A" * 2 * PG)
    if flag in (stat.SF_IMMUTABLE, stat.SF_APPEND):
        assert err(k.spawn(uid=1000).chflags, "/prot.bin", flag) == errno.EPERM
    p.chflags("/prot.bin", flag)
    # the descriptor was opened for writing before the flag: MMV-6 is what stops it
    assert err(p.mmap, 0, 2 * PG, RW, MAP_SHARED, fd, 0) == errno.EPERM
    a = p.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0)
    assert [e for e in p.maps() if e.start == a][0].max_prot & PROT_WRITE == 0
    assert err(p.mprotect, a, PG, RW) == errno.EACCES
    with pytest.raises(SegmentationFault):
        p.mem_write(a, b"x")
    # MAP_FIXED over an existing mapping: the old one is gone even though the call fails (VMM-4)
    b = p.mmap(0, PG, RW, MAP_ANON | MAP_PRIVATE)
    assert err(p.mmap, b, PG, RW, MAP_SHARED | MAP_FIXED, fd, 0) == errno.EPERM
    assert not [e for e in p.maps() if e.start <= b < e.end]
    # private writable mappings are allowed and stay private
    c = p.mmap(0, PG, RW, MAP_PRIVATE, fd, 0)
    p.mem_write(c, b"private")
    # root is stopped as well: the rule is about the file, not the caller
    r = k.spawn(uid=0)
    if flag in (stat.UF_APPEND, stat.SF_APPEND):
        rfd = r.open("/prot.bin", os.O_RDWR | os.O_APPEND)
    else:
        assert err(r.open, "/prot.bin", os.O_RDWR) == errno.EPERM
        rfd = r.open("/prot.bin", os.O_RDONLY)
    assert err(r.mmap, 0, PG, RW, MAP_SHARED, rfd, 0) in (errno.EPERM, errno.EACCES)
    p.exit()
    r.exit()
    assert host(k, "prot.bin") == b"A" * 2 * PG


# -- memory of other processes ----------------------------------------------------------------------

def test_no_process_sees_anothers_private_memory(k, user, other):
    a = user.mmap(0, 8 * PG, RW, MAP_ANON | MAP_PRIVATE)
    user.mem_write(a, b"SECRET" * 5000)
    # the same address in another process is its own (unmapped, then zero-filled)
    with pytest.raises(SegmentationFault):
        other.mem_read(a, 6)
    b = other.mmap(a, 8 * PG, RW, MAP_ANON | MAP_PRIVATE | MAP_FIXED)
    assert b == a
    assert other.mem_read(a, 8 * PG) == bytes(8 * PG)
    other.mem_write(a, b"other")
    assert user.mem_read(a, 6) == b"SECRET"
    # a private file mapping written by one process is invisible to the other and to the file
    _make(k, "/pub.bin", b"P" * 2 * PG, 0o666)
    fu = user.open("/pub.bin", os.O_RDWR)
    fo = other.open("/pub.bin", os.O_RDWR)
    m1 = user.mmap(0, 2 * PG, RW, MAP_PRIVATE, fu, 0)
    m2 = other.mmap(0, 2 * PG, RW, MAP_SHARED, fo, 0)
    user.mem_write(m1, b"mine")
    assert other.mem_read(m2, 4) == b"PPPP"
    assert user.pread(fu, 4, 0) == b"PPPP"


def test_fork_copy_on_write_is_private_both_ways(k, user):
    a = user.mmap(0, 4 * PG, RW, MAP_ANON | MAP_PRIVATE)
    user.mem_write(a, b"before")
    c = user.fork()
    assert c.mem_read(a, 6) == b"before"          # the one sanctioned view: fork's snapshot
    user.mem_write(a, b"parent")
    c.mem_write(a + PG, b"child")
    assert c.mem_read(a, 6) == b"before"
    assert user.mem_read(a + PG, 5) == bytes(5)
    g = c.fork()
    c.mem_write(a, b"CHILD!")
    assert g.mem_read(a, 6) == b"before"
    assert user.mem_read(a, 6) == b"parent"
    # INHERIT_NONE: the child does not get the region at all
    s = user.mmap(0, PG, RW, MAP_ANON | MAP_PRIVATE)
    user.mem_write(s, b"hidden")
    user.minherit(s, PG, mman.INHERIT_NONE)
    c2 = user.fork()
    with pytest.raises(SegmentationFault):
        c2.mem_read(s, 1)


def test_explicit_sharing_is_shared(k, user, other):
    a = user.mmap(0, PG, RW, MAP_ANON | MAP_SHARED)
    c = user.fork()
    c.mem_write(a, b"shared!")
    assert user.mem_read(a, 7) == b"shared!"
    p = user.mmap(0, PG, RW, MAP_ANON | MAP_PRIVATE)
    user.minherit(p, PG, mman.INHERIT_SHARE)
    c = user.fork()
    c.mem_write(p, b"via minherit")
    assert user.mem_read(p, 12) == b"via minherit"
    # POSIX shm between unrelated processes (same uid rules as files)
    fd = user.shm_open("/seg", os.O_RDWR | os.O_CREAT, 0o600)
    user.ftruncate(fd, PG)
    s = user.mmap(0, PG, RW, MAP_SHARED, fd, 0)
    user.mem_write(s, b"shm")
    assert err(other.shm_open, "/seg", os.O_RDWR, 0o600) == errno.EACCES
    same = k.spawn(uid=1000, gid=1000)
    fd2 = same.shm_open("/seg", os.O_RDWR, 0o600)
    s2 = same.mmap(0, PG, RW, MAP_SHARED, fd2, 0)
    assert same.mem_read(s2, 3) == b"shm"


def test_recycled_frames_and_swap_leak_nothing(tmp_path):
    """Pages a process freed (munmap, exit, swap-out) come back zero-filled to the next one."""
    with Kernel(root=str(tmp_path), physmem="8M", swap="32M") as k:
        p = k.spawn(uid=1000, gid=1000)
        n = 2500                                  # more than the free frames: part goes to swap
        a = p.mmap(0, n * PG, RW, MAP_ANON | MAP_PRIVATE)
        for i in range(n):
            p.mem_write(a + i * PG, b"\xAA" * 64)
        assert k.vmstat()["v_swapout"] > 0
        p.munmap(a, n // 2 * PG)
        q = k.spawn(uid=1001, gid=1001)
        b = q.mmap(0, n * PG, RW, MAP_ANON | MAP_PRIVATE)
        for i in range(0, n, 7):
            assert q.mem_read(b + i * PG, 64) == bytes(64), i
        p.exit()
        c = q.mmap(0, n * PG, RW, MAP_ANON | MAP_PRIVATE)
        for i in range(0, n, 5):
            assert q.mem_read(c + i * PG, 64) == bytes(64), i
        # a file truncated and extended again reads zeros past the old end, through a mapping too
        fd = q.open("/t.bin", os.O_RDWR | os.O_CREAT, 0o600)
        q.write(fd, b"\xBB" * 3 * PG)
        m = q.mmap(0, 3 * PG, RW, MAP_SHARED, fd, 0)
        assert q.mem_read(m + 2 * PG, 4) == b"\xBB" * 4
        q.ftruncate(fd, PG + 10)
        q.ftruncate(fd, 3 * PG)
        assert q.mem_read(m + PG + 10, 4) == bytes(4)
        assert q.mem_read(m + 2 * PG, 4) == bytes(4)
        assert q.pread(fd, 4, 2 * PG) == bytes(4)


# -- the root directory is a jail for paths ---------------------------------------------------------

def test_no_path_escapes_the_root(tmp_path, k, user):
    outside = tmp_path / "outside"
    outside.mkdir()
    canary = outside / "canary"
    canary.write_bytes(b"host secret")
    os.chmod(canary, 0o666)
    root = k.root
    rel = os.path.relpath(canary, root)             # ../outside/canary
    r = k.spawn(uid=0)                              # even root, in the model
    attempts = ["/../outside/canary", "/" + rel, rel, "../../../../../../" + str(canary),
                str(canary), "/./../outside/./canary", "//..//outside//canary",
                "/dev/../../outside/canary"]
    for proc in (user, r):
        for path in attempts:
            for flags in (os.O_RDONLY, os.O_RDWR, os.O_RDWR | os.O_CREAT | os.O_TRUNC):
                try:
                    fd = proc.open(path, flags, 0o666)
                except OSError:
                    continue
                # whatever it opened lies inside the root; it is not the host canary
                data = proc.read(fd, 100)
                assert data != b"host secret", path
                proc.close(fd)
            for op in (lambda proc=proc, path=path: proc.unlink(path),
                       lambda proc=proc, path=path: proc.chmod(path, 0o777),
                       lambda proc=proc, path=path: proc.chflags(path, stat.UF_IMMUTABLE),
                       lambda proc=proc, path=path: proc.stat(path)):
                try:
                    op()
                except OSError:
                    pass
    assert canary.read_bytes() == b"host secret"
    assert stat.S_IMODE(os.stat(canary).st_mode) == 0o666
    # nothing was created outside the root
    assert sorted(os.listdir(outside)) == ["canary"]
    assert sorted(os.listdir(tmp_path)) == ["outside", "root"]


def test_symlinks_do_not_escape(tmp_path, k):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "canary").write_bytes(b"host secret")
    r = k.spawn(uid=0)
    # made in the model: an absolute target is relative to the model root
    r.symlink(str(outside / "canary"), "/abs")
    r.symlink("../outside/canary", "/rel")
    r.symlink("/etc/passwd", "/etc_link")
    r.symlink("../../../../../../../../etc/passwd", "/deep")
    r.mkdir("/d")
    r.symlink("../..", "/d/up")
    # planted on the host, pointing out
    os.symlink(str(outside), os.path.join(k.root, "planted_dir"))
    os.symlink(str(outside / "canary"), os.path.join(k.root, "planted_file"))
    os.symlink("/etc", os.path.join(k.root, "planted_etc"))
    for path in ("/abs", "/rel", "/etc_link", "/deep", "/d/up/outside/canary", "/planted_dir/canary",
                 "/planted_file", "/planted_etc/passwd"):
        for flags in (os.O_RDONLY, os.O_RDWR | os.O_CREAT):
            try:
                fd = r.open(path, flags, 0o644)
            except OSError:
                continue
            assert r.read(fd, 100) != b"host secret", path
            a = None
            try:
                a = r.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
            except OSError:
                pass
            if a is not None:
                try:
                    assert r.mem_read(a, 11) != b"host secret"
                except SegmentationFault:
                    pass                    # an empty file inside the root: past EOF
            r.close(fd)
    assert (outside / "canary").read_bytes() == b"host secret"
    assert sorted(os.listdir(outside)) == ["canary"]
    with open("/etc/passwd", "rb") as f:
        assert f.read(1) is not None       # untouched (we only check nothing wrote to it)


def test_mounts_do_not_leak_their_parent(tmp_path, k):
    hostdir = tmp_path / "mnt_src"
    hostdir.mkdir()
    (hostdir / "inside").write_bytes(b"mounted")
    (tmp_path / "sibling").write_bytes(b"host secret")
    r = k.spawn(uid=0)
    r.mkdir("/mnt")
    k.mount("/mnt", str(hostdir), noexec=True)
    fd = r.open("/mnt/inside", os.O_RDONLY)
    assert r.read(fd, 10) == b"mounted"
    for path in ("/mnt/../sibling", "/mnt/../../sibling", "/mnt/../../../mnt_src/../sibling"):
        try:
            fd = r.open(path, os.O_RDONLY)
        except OSError:
            continue
        assert r.read(fd, 20) != b"host secret"
    # noexec: PROT_EXEC passes at mmap (12.6) but mprotect cannot add it
    fd = r.open("/mnt/inside", os.O_RDONLY)
    a = r.mmap(0, PG, PROT_READ, MAP_PRIVATE, fd, 0)
    assert err(r.mprotect, a, PG, PROT_READ | PROT_EXEC) == errno.EACCES


# -- MAC -------------------------------------------------------------------------------------------

class DenyMmap:
    def __init__(self, deny_write_only=False):
        self.calls = []
        self.deny_write_only = deny_write_only

    def check_vnode_mmap(self, cred, vp, prot, flags):
        self.calls.append((cred.cr_uid, prot, flags))
        if self.deny_write_only and not prot & PROT_WRITE:
            return 0
        return errno.EACCES


def test_mac_policy_denial_is_honoured(k, user):
    _make(k, "/m.bin", b"M" * 2 * PG, 0o666)
    fd = user.open("/m.bin", os.O_RDWR)
    pol = DenyMmap()
    k.add_mac_policy(pol)
    before = user.maps()
    for prot, flags in ((PROT_READ, MAP_SHARED), (RW, MAP_SHARED), (PROT_READ, MAP_PRIVATE),
                        (PROT_READ | PROT_EXEC, MAP_PRIVATE)):
        assert err(user.mmap, 0, PG, prot, flags, fd, 0) == errno.EACCES
    assert user.maps() == before
    assert pol.calls and all(uid == 1000 for uid, _, _ in pol.calls)
    # root is not above the policy
    r = k.spawn(uid=0)
    rfd = r.open("/m.bin", os.O_RDWR)
    assert err(r.mmap, 0, PG, PROT_READ, MAP_SHARED, rfd, 0) == errno.EACCES
    # anonymous memory and /dev/zero (MMV-2: no MAC check) are not vnode mappings
    user.mmap(0, PG, RW, MAP_ANON | MAP_PRIVATE)
    zfd = user.open("/dev/zero", os.O_RDWR)
    user.mmap(0, PG, RW, MAP_SHARED, zfd, 0)
    # MAP_FIXED over an existing mapping: removed before the MAC check fails (VMM-4)
    a = user.mmap(0, PG, RW, MAP_ANON | MAP_PRIVATE)
    assert err(user.mmap, a, PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == errno.EACCES
    assert not [e for e in user.maps() if e.start <= a < e.end]
    # a policy that only refuses writable mappings sees prot and flags
    k.remove_mac_policy(pol)
    w = DenyMmap(deny_write_only=True)
    k.add_mac_policy(w)
    user.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    assert err(user.mmap, 0, PG, RW, MAP_SHARED, fd, 0) == errno.EACCES
    assert (1000, RW, MAP_SHARED) in w.calls
    k.remove_mac_policy(w)
    b = user.mmap(0, PG, RW, MAP_SHARED, fd, 0)
    user.mem_write(b, b"ok")
    k.check_invariants()


def test_mac_privilege_checks(k, user):
    class NoLock:
        def priv_check(self, cred, priv):
            return errno.EPERM

    class GrantAll:
        def priv_grant(self, cred, priv):
            return 0

    r = k.spawn(uid=0)
    a = r.mmap(0, PG, RW, MAP_ANON | MAP_PRIVATE)
    deny = NoLock()
    k.add_mac_policy(deny)
    assert err(r.mlock, a, PG) == errno.EPERM
    assert err(r.madvise, 0, 0, mman.MADV_PROTECT) == errno.EPERM
    k.remove_mac_policy(deny)
    r.mlock(a, PG)
    grant = GrantAll()
    k.add_mac_policy(grant)
    b = user.mmap(0, PG, RW, MAP_ANON | MAP_PRIVATE)
    user.mlock(b, PG)                           # MAC_GRANT: the policy grants the privilege
    k.remove_mac_policy(grant)
    assert err(user.mlock, b, PG) == errno.EPERM
