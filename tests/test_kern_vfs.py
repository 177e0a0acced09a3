"""Unit tests for kern/vfs.py: name space, containment, permissions, flags, reference counting, mounts."""
import errno
import os
import stat
from types import SimpleNamespace

import pytest

from bsdvm.kern import devices as D
from bsdvm.kern import vfs as V
from bsdvm.kern.fail import FailPoints
from bsdvm.kern.priv import Ucred

ROOT = Ucred()
ALICE = Ucred.for_user(1000, 1000)
BOB = Ucred.for_user(1001, 1001)
JAILROOT = Ucred(cr_prison="j1")
RW_CREAT = os.O_RDWR | os.O_CREAT


class FakeVM:
    """vm_hooks that go straight to the host file and record what the VFS asked for."""

    def __init__(self):
        self.calls = []

    def vnode_create_vobject(self, vp):
        self.calls.append(("create", vp))
        vp.v_object = SimpleNamespace(handle=vp)

    def vnode_destroy_vobject(self, vp):
        self.calls.append(("destroy", vp))
        vp.v_object = None

    def vnode_pager_setsize(self, vp, size):
        self.calls.append(("setsize", size))

    def vn_read(self, vp, off, n):
        self.calls.append(("read", off, n))
        return vp.host_pread(off, n)

    def vn_write(self, vp, off, data):
        self.calls.append(("write", off, len(data)))
        vp.host_pwrite(off, data)


@pytest.fixture
def env(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside.txt").write_bytes(b"secret")
    vm = FakeVM()
    fail = FailPoints()
    devs = {"zero": D.make_zero(), "null": D.make_null(), "fb0": D.make_mem_dev("fb0", 5000)}
    fs = V.VFS(str(root), devs, fail, vm)
    return SimpleNamespace(fs=fs, vm=vm, fail=fail, root=root, tmp=tmp_path)


def mkfile(fs, path, data=b"", cred=ROOT, mode=0o644):
    e, vp = fs.open(cred, path, RW_CREAT, mode)
    assert e == 0
    if data:
        assert fs.write(vp, 0, data) == (0, len(data))
    V.vrele(vp)


# ---- basic files ---------------------------------------------------------------------------------------

def test_create_write_read_and_metadata(env):
    fs = env.fs
    e, vp = fs.open(ALICE, "/data.bin", RW_CREAT, 0o666)
    assert e == 0 and vp.v_type == V.VREG and vp.v_usecount == 1
    assert vp.v_object is not None and vp.v_object.handle is vp
    assert fs.write(vp, 0, b"hello world") == (0, 11)
    assert fs.read(vp, 6, 100) == (0, b"world")
    e, va = V.VOP_GETATTR(vp, ALICE, None)
    assert e == 0 and va.va_size == 11 and va.va_uid == 1000 and va.va_gid == 1000
    assert va.va_mode == stat.S_IFREG | 0o644 and va.va_nlink == 1
    assert (env.root / "data.bin").read_bytes() == b"hello world"
    V.vrele(vp)
    assert fs.active_vnodes() == []


def test_io_goes_through_vm_hooks_and_reports_size(env):
    fs, vm = env.fs, env.vm
    e, vp = fs.open(ROOT, "/f", RW_CREAT, 0o644)
    vm.calls.clear()
    fs.write(vp, 0, b"abcd")
    assert vm.calls == [("write", 0, 4), ("setsize", 4)]
    vm.calls.clear()
    fs.write(vp, 1, b"x")                      # no growth, no setsize
    assert vm.calls == [("write", 1, 1)]
    vm.calls.clear()
    assert fs.read(vp, 2, 100) == (0, b"cd")   # clipped at EOF before asking the VM
    assert vm.calls == [("read", 2, 2)]
    assert fs.read(vp, 10, 5) == (0, b"")
    vm.calls.clear()
    assert fs.truncate(vp, 1) == 0
    assert vm.calls == [("setsize", 1)] and vp.host_size() == 1
    assert fs.truncate(vp, -1) == errno.EINVAL
    V.vrele(vp)
    assert any(c[0] == "destroy" for c in vm.calls)


def test_append_write(env):
    fs = env.fs
    mkfile(fs, "/log", b"12345")
    e, vp = fs.open(ROOT, "/log", os.O_WRONLY | os.O_APPEND, 0)
    assert fs.write(vp, 0, b"67", append=True) == (0, 2)
    assert fs.read(vp, 0, 10) == (0, b"1234567")
    V.vrele(vp)


def test_open_flags(env):
    fs = env.fs
    mkfile(fs, "/f", b"data")
    assert fs.open(ROOT, "/f", RW_CREAT | os.O_EXCL, 0o644)[0] == errno.EEXIST
    assert fs.mkdir(ROOT, "/d", 0o755) == 0
    assert fs.open(ROOT, "/d", os.O_RDWR, 0)[0] == errno.EISDIR
    e, dvp = fs.open(ROOT, "/d", os.O_RDONLY | os.O_DIRECTORY, 0)
    assert e == 0 and dvp.v_type == V.VDIR
    V.vrele(dvp)
    assert fs.open(ROOT, "/f", os.O_RDONLY | os.O_DIRECTORY, 0)[0] == errno.ENOTDIR
    assert fs.symlink(ROOT, "f", "/lnk") == 0
    assert fs.open(ROOT, "/lnk", os.O_RDONLY | os.O_NOFOLLOW, 0)[0] == errno.EMLINK
    assert fs.open(ROOT, "/lnk", os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0)[0] == errno.EEXIST
    e, vp = fs.open(ROOT, "/f", os.O_RDWR | os.O_TRUNC, 0)
    assert e == 0 and vp.host_size() == 0
    V.vrele(vp)
    assert fs.open(ROOT, "/f", 3, 0)[0] == errno.EINVAL
    assert fs.open(ROOT, "/missing", os.O_RDONLY, 0)[0] == errno.ENOENT
    assert fs.open(ROOT, "/new/", RW_CREAT, 0o644)[0] == errno.EISDIR


def test_create_ignores_own_mode_and_applies_umask(env):
    fs = env.fs
    e, vp = fs.open(ALICE, "/ro", RW_CREAT, 0o444)   # creating a 0444 file for writing works once
    assert e == 0
    V.vrele(vp)
    assert fs.stat(ALICE, "/ro")[1].st_mode & 0o777 == 0o444
    assert fs.open(ALICE, "/ro", os.O_RDWR, 0)[0] == errno.EACCES
    e, vp = fs.open(ALICE, "/um", RW_CREAT, 0o777, umask=0o027)
    assert vp.meta.mode == 0o750
    V.vrele(vp)


def test_preexisting_host_file_gets_host_metadata(env):
    p = env.root / "pre.txt"
    p.write_bytes(b"pre")
    os.chmod(p, 0o640)
    e, st = env.fs.stat(ROOT, "/pre.txt")
    assert e == 0 and st.st_size == 3 and st.st_mode & 0o777 == 0o640
    assert st.st_uid == os.stat(p).st_uid


# ---- containment -----------------------------------------------------------------------------------

def test_dotdot_never_leaves_model_root(env):
    fs = env.fs
    assert fs.namei(ROOT, "/../../outside.txt")[0] == errno.ENOENT
    assert fs.namei(ROOT, "../outside.txt")[0] == errno.ENOENT
    mkfile(fs, "/../../../x", b"1")                  # clamps to "/x" in the model
    assert (env.root / "x").read_bytes() == b"1"
    assert not (env.tmp / "x").exists()
    e, vp = fs.namei(ROOT, "/../..")
    assert e == 0 and vp.path == "/"
    V.vrele(vp)


def test_absolute_host_path_is_a_model_path(env):
    assert env.fs.namei(ROOT, str(env.tmp / "outside.txt"))[0] == errno.ENOENT


def test_symlinks_resolve_in_model_namespace(env):
    fs, root = env.fs, env.root
    os.symlink("/etc", root / "etc_link")
    os.symlink("../outside.txt", root / "up")
    os.symlink("../../..", root / "upup")
    os.symlink(str(env.tmp / "outside.txt"), root / "abs_host")
    assert fs.namei(ROOT, "/etc_link/passwd")[0] == errno.ENOENT
    assert fs.namei(ROOT, "/up")[0] == errno.ENOENT
    assert fs.namei(ROOT, "/upup/outside.txt")[0] == errno.ENOENT
    assert fs.namei(ROOT, "/abs_host")[0] == errno.ENOENT
    assert fs.open(ROOT, "/up", os.O_RDONLY, 0)[0] == errno.ENOENT
    # A model-absolute link target works inside the model.
    mkfile(fs, "/target", b"T")
    os.symlink("/target", root / "good")
    e, vp = fs.open(ROOT, "/good", os.O_RDONLY, 0)
    assert e == 0 and fs.read(vp, 0, 5) == (0, b"T")
    V.vrele(vp)


def test_create_through_dangling_link_stays_inside(env):
    os.symlink("../escaped", env.root / "dangle")
    mkfile(env.fs, "/dangle", b"in")
    assert not (env.tmp / "escaped").exists()
    assert (env.root / "escaped").read_bytes() == b"in"


def test_symlink_loops_and_chains(env):
    fs, root = env.fs, env.root
    os.symlink("self", root / "self")
    assert fs.namei(ROOT, "/self")[0] == errno.ELOOP
    mkfile(fs, "/end", b"e")
    prev = "end"
    for i in range(32):
        os.symlink(prev, root / f"l{i}")
        prev = f"l{i}"
    e, vp = fs.namei(ROOT, "/l31")
    assert e == 0 and vp.v_type == V.VREG
    V.vrele(vp)
    os.symlink("l31", root / "l32")
    assert fs.namei(ROOT, "/l32")[0] == errno.ELOOP
    e, vp = fs.namei(ROOT, "/l32", follow=False)
    assert e == 0 and vp.v_type == V.VLNK
    V.vrele(vp)


def test_name_errors(env):
    fs = env.fs
    mkfile(fs, "/f")
    assert fs.namei(ROOT, "/" + "a" * 256)[0] == errno.ENAMETOOLONG
    assert fs.namei(ROOT, "/" + "a/" * 512)[0] == errno.ENAMETOOLONG
    assert fs.namei(ROOT, "/f/x")[0] == errno.ENOTDIR
    assert fs.namei(ROOT, "/f/")[0] == errno.ENOTDIR
    assert fs.namei(ROOT, "/f/..")[0] == errno.ENOTDIR
    assert fs.namei(ROOT, "")[0] == errno.ENOENT
    assert fs.namei(ROOT, "/a\0b")[0] == errno.EINVAL


def test_host_swap_to_symlink_is_caught(env):
    # Second line of defence: a directory swapped on the host for an escaping symlink between the
    # lookup and the open is refused by the realpath containment check.
    fs, root, tmp = env.fs, env.root, env.tmp
    fs.mkdir(ROOT, "/d", 0o755)
    mkfile(fs, "/d/f", b"inside")
    (tmp / "f").write_bytes(b"outside")
    e, node, *_ = fs._walk(ROOT, "/d/f")
    assert e == 0
    os.rename(root / "d", root / "d_old")
    os.symlink(str(tmp), root / "d")
    os.utime(tmp / "f")
    node.st = os.lstat(tmp / "f")              # even if the inode check were fooled
    assert fs._getvnode(node) == (errno.EACCES, None)
    assert fs.namei(ROOT, "/d/f")[0] == errno.ENOENT    # a fresh lookup reads the link in the model


# ---- permissions -------------------------------------------------------------------------------------

def test_access_checks_for_non_root(env):
    fs = env.fs
    mkfile(fs, "/secret", b"s", cred=ALICE, mode=0o600)
    assert fs.open(BOB, "/secret", os.O_RDONLY, 0)[0] == errno.EACCES
    e, vp = fs.open(ROOT, "/secret", os.O_RDWR, 0)   # root bypasses DAC
    assert e == 0
    V.vrele(vp)
    assert fs.mkdir(ALICE, "/priv", 0o700) == 0
    mkfile(fs, "/priv/f", b"x", cred=ALICE)
    assert fs.namei(BOB, "/priv/f")[0] == errno.EACCES          # no search permission
    assert fs.open(BOB, "/priv/new", RW_CREAT, 0o644)[0] == errno.EACCES
    assert fs.mkdir(ALICE, "/shared", 0o755) == 0
    assert fs.open(BOB, "/shared/new", RW_CREAT, 0o644)[0] == errno.EACCES   # no write on dir
    grp = Ucred.for_user(1002, 1000)
    assert fs.chmod(ALICE, "/secret", 0o640) == 0
    e, vp = fs.open(grp, "/secret", os.O_RDONLY, 0)
    assert e == 0
    V.vrele(vp)
    assert fs.open(grp, "/secret", os.O_WRONLY, 0)[0] == errno.EACCES


def test_owner_bits_win_over_other_bits(env):
    mkfile(env.fs, "/o", b"", cred=ALICE, mode=0o066)
    assert env.fs.open(ALICE, "/o", os.O_RDONLY, 0)[0] == errno.EACCES


def test_exec_needs_some_x_bit_even_for_root(env):
    fs = env.fs
    mkfile(fs, "/prog", mode=0o644)
    e, node, *_ = fs._walk(ROOT, "/prog")
    assert fs._vaccess(V.VREG, fs._meta_for(node), V.VEXEC, ROOT) == errno.EACCES
    fs.chmod(ROOT, "/prog", 0o100)
    assert fs._vaccess(V.VREG, fs._meta_for(node), V.VEXEC, ROOT) == 0


def test_sticky_root_directory(env):
    fs = env.fs
    st = fs.stat(ALICE, "/")[1]
    assert (st.st_uid, st.st_gid, st.st_mode) == (0, 0, stat.S_IFDIR | 0o1777)
    mkfile(fs, "/alice", cred=ALICE)
    assert fs.unlink(BOB, "/alice") == errno.EPERM
    assert fs.unlink(ALICE, "/alice") == 0


def test_chmod_chown_rules(env):
    fs = env.fs
    mkfile(fs, "/f", cred=ALICE)
    assert fs.chmod(BOB, "/f", 0o777) == errno.EPERM
    assert fs.chmod(ALICE, "/f", 0o600) == 0
    assert fs.chown(ALICE, "/f", 1001, -1) == errno.EPERM
    assert fs.chown(ALICE, "/f", -1, 5) == errno.EPERM            # not a member of group 5
    assert fs.chown(ROOT, "/f", 1001, 5) == 0
    st = fs.stat(ROOT, "/f")[1]
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1001, 5, 0o600)


# ---- flags -------------------------------------------------------------------------------------------

def test_immutable_flag(env):
    fs = env.fs
    mkfile(fs, "/imm", b"x", cred=ALICE)
    assert fs.chflags(ALICE, "/imm", stat.UF_IMMUTABLE) == 0
    e, vp = fs.open(ALICE, "/imm", os.O_RDONLY, 0)
    assert e == 0 and V.VOP_GETATTR(vp)[1].va_flags == V.UF_IMMUTABLE
    assert fs.truncate(vp, 0) == errno.EPERM
    V.vrele(vp)
    assert fs.open(ALICE, "/imm", os.O_RDWR, 0)[0] == errno.EPERM
    assert fs.open(ROOT, "/imm", os.O_WRONLY, 0)[0] == errno.EPERM
    assert fs.unlink(ROOT, "/imm") == errno.EPERM
    assert fs.chmod(ALICE, "/imm", 0o777) == errno.EPERM
    assert fs.chflags(ALICE, "/imm", 0) == 0
    assert fs.unlink(ALICE, "/imm") == 0


def test_system_flags_need_privilege(env):
    fs = env.fs
    mkfile(fs, "/f", cred=ALICE)
    assert fs.chflags(ALICE, "/f", stat.SF_IMMUTABLE) == errno.EPERM
    assert fs.chflags(JAILROOT, "/f", stat.SF_IMMUTABLE) == errno.EPERM
    assert fs.chflags(BOB, "/f", stat.UF_NODUMP) == errno.EPERM      # not the owner
    assert fs.chflags(ROOT, "/f", stat.SF_APPEND | stat.UF_NODUMP) == 0
    assert fs.chflags(ALICE, "/f", 0) == errno.EPERM                 # cannot clear root's SF_APPEND
    assert fs.chflags(ROOT, "/f", stat.SF_SNAPSHOT) == 0
    assert fs.stat(ROOT, "/f")[1].st_flags == V.SF_SNAPSHOT
    assert fs.chflags(ALICE, "/f", V.UF_NODUMP) == 0                 # SF bits kept, UF replaced
    assert fs.stat(ROOT, "/f")[1].st_flags == V.SF_SNAPSHOT | V.UF_NODUMP
    assert fs.chflags(ROOT, "/f", -1) == errno.EINVAL


def test_append_only_flag(env):
    fs = env.fs
    mkfile(fs, "/a", b"abc")
    assert fs.chflags(ROOT, "/a", stat.UF_APPEND) == 0
    assert fs.open(ROOT, "/a", os.O_WRONLY, 0)[0] == errno.EPERM
    assert fs.open(ROOT, "/a", os.O_WRONLY | os.O_APPEND | os.O_TRUNC, 0)[0] == errno.EPERM
    e, vp = fs.open(ROOT, "/a", os.O_WRONLY | os.O_APPEND, 0)
    assert e == 0
    assert fs.write(vp, 0, b"x") == (errno.EPERM, 0)
    assert fs.write(vp, 0, b"de", append=True) == (0, 2)
    assert fs.write(vp, 5, b"f") == (0, 1)                          # at EOF is fine
    assert fs.truncate(vp, 0) == errno.EPERM
    V.vrele(vp)
    assert fs.unlink(ROOT, "/a") == errno.EPERM
    assert (env.root / "a").read_bytes() == b"abcdef"


def test_nounlink(env):
    mkfile(env.fs, "/n")
    env.fs.chflags(ROOT, "/n", stat.UF_NOUNLINK)
    assert env.fs.unlink(ROOT, "/n") == errno.EPERM


# ---- unlink and reference counting ----------------------------------------------------------------

def test_unlink_keeps_open_vnode_data(env):
    fs = env.fs
    e, vp = fs.open(ROOT, "/gone", RW_CREAT, 0o644)
    fs.write(vp, 0, b"still here")
    assert fs.unlink(ROOT, "/gone") == 0
    assert not (env.root / "gone").exists()
    assert fs.read(vp, 0, 100) == (0, b"still here")
    e, va = V.VOP_GETATTR(vp)
    assert e == 0 and va.va_nlink == 0 and va.va_size == 10
    assert fs.namei(ROOT, "/gone")[0] == errno.ENOENT
    e, vp2 = fs.open(ROOT, "/gone", RW_CREAT, 0o600)
    assert e == 0 and vp2 is not vp and fs.read(vp2, 0, 10) == (0, b"")
    V.vrele(vp2)
    V.vrele(vp)
    assert fs.active_vnodes() == []


def test_unlink_errors(env):
    fs = env.fs
    fs.mkdir(ROOT, "/d", 0o755)
    assert fs.unlink(ROOT, "/d") == errno.EPERM
    assert fs.unlink(ROOT, "/nope") == errno.ENOENT
    mkfile(fs, "/d/f")
    assert fs.unlink(ROOT, "/d/f/..") == errno.ENOTDIR
    fs.symlink(ROOT, "/d", "/l")
    assert fs.unlink(ROOT, "/l") == 0                       # removes the link, not the directory
    assert (env.root / "d" / "f").exists()


def test_refcount_reclaim(env):
    fs, vm = env.fs, env.vm
    e, vp = fs.open(ROOT, "/r", RW_CREAT, 0o644)
    e, vp2 = fs.namei(ROOT, "/r")
    assert vp2 is vp and vp.v_usecount == 2
    fd = vp.host_fd
    V.vrele(vp2)
    assert vp.v_usecount == 1 and not vp.v_doomed
    assert V.vget(vp, 0, None) == 0 and vp.v_usecount == 2
    V.vput(vp)
    V.vrele(vp)
    assert vp.v_doomed and vp.host_fd is None and vp.v_object is None
    assert ("destroy", vp) in vm.calls
    with pytest.raises(OSError):
        os.fstat(fd)
    assert V.vget(vp, 0, None) == errno.ENOENT
    with pytest.raises(RuntimeError):
        V.vrele(vp)
    fs.chmod(ROOT, "/r", 0o600)                             # metadata survives reclaim
    e, vp3 = fs.namei(ROOT, "/r")
    assert vp3 is not vp and vp3.meta.mode == 0o600
    V.vrele(vp3)


def test_fail_points(env):
    fs, fail = env.fs, env.fail
    e, vp = fs.open(ROOT, "/f", RW_CREAT, 0o644)
    fail.set("vget", errno.EDEADLK)
    assert V.vget(vp) == errno.EDEADLK and vp.v_usecount == 1
    fail.set("vget", 0)
    fail.set("vop_getattr", errno.EIO)
    assert V.VOP_GETATTR(vp) == (errno.EIO, None)
    assert fs.getattr(vp)[0] == 0                            # the internal path is not injected
    fail.set("vop_getattr", 0)
    assert V.VOP_GETATTR(vp)[0] == 0
    V.vrele(vp)


def test_revoke(env):
    fs = env.fs
    mkfile(fs, "/rv", b"abc", cred=ALICE)
    e, vp = fs.open(ALICE, "/rv", os.O_RDONLY, 0)
    assert fs.revoke(BOB, "/rv") == errno.EPERM and not vp.v_doomed
    assert fs.revoke(ALICE, "/rv") == 0
    assert vp.v_doomed and vp.v_type == V.VREG
    assert V.vget(vp) == errno.ENOENT
    assert fs.read(vp, 0, 3) == (errno.EBADF, b"")
    assert fs.write(vp, 0, b"x") == (errno.EBADF, 0)
    assert V.VOP_GETATTR(vp)[0] == errno.EBADF
    e, vp2 = fs.open(ALICE, "/rv", os.O_RDONLY, 0)
    assert e == 0 and vp2 is not vp and fs.read(vp2, 0, 3) == (0, b"abc")
    V.vrele(vp2)
    V.vrele(vp)
    assert fs.active_vnodes() == []


def test_atime_marking(env, tmp_path):
    fs = env.fs
    mkfile(fs, "/t", b"x")
    e, vp = fs.open(ROOT, "/t", os.O_RDONLY, 0)
    vp.meta.atime = 0.0
    V.vfs_mark_atime(vp, None)
    assert vp.meta.atime > 0
    V.vrele(vp)
    host = tmp_path / "na"
    host.mkdir()
    (host / "f").write_bytes(b"y")
    assert fs.mount("/na", str(host), noatime=True) == 0
    e, vp = fs.open(ROOT, "/na/f", os.O_RDONLY, 0)
    vp.meta.atime = 0.0
    V.vfs_mark_atime(vp, None)
    fs.read(vp, 0, 1)
    assert vp.meta.atime == 0.0
    V.vrele(vp)


# ---- mounts ------------------------------------------------------------------------------------------

def test_hostfs_mount_flags_and_unmount(env, tmp_path):
    fs = env.fs
    host = tmp_path / "exe"
    host.mkdir()
    (host / "bin").write_bytes(b"\x7fELF")
    assert fs.mount("/mnt", str(host), noexec=True) == 0        # a mount point that does not exist yet
    assert fs.mount("/mnt", str(host)) == errno.EBUSY
    e, vp = fs.open(ALICE, "/mnt/bin", os.O_RDONLY, 0)
    assert e == 0 and vp.v_mount.mnt_flag & V.MNT_NOEXEC and vp.v_mount.mnt_path == "/mnt"
    e, up = fs.namei(ALICE, "/mnt/..")
    assert up.path == "/"
    V.vrele(up)
    assert fs.unmount("/mnt") == errno.EBUSY                    # a vnode is live
    V.vrele(vp)
    assert fs.unmount("/mnt") == 0
    assert fs.namei(ROOT, "/mnt/bin")[0] == errno.ENOENT
    assert fs.unmount("/") == errno.EBUSY
    mkfile(fs, "/plain")
    assert fs.mount("/plain", str(host)) == errno.ENOTDIR
    assert fs.mount("/x", str(tmp_path / "nope")) == errno.ENOENT
    assert fs.unmount("/plain") == errno.EINVAL


def test_rdonly_mount(env, tmp_path):
    fs = env.fs
    host = tmp_path / "ro"
    host.mkdir()
    (host / "f").write_bytes(b"r")
    fs.mount("/ro", str(host), rdonly=True)
    assert fs.open(ROOT, "/ro/f", os.O_RDWR, 0)[0] == errno.EROFS
    assert fs.open(ROOT, "/ro/new", RW_CREAT, 0o644)[0] == errno.EROFS
    assert fs.unlink(ROOT, "/ro/f") == errno.EROFS
    assert fs.chmod(ROOT, "/ro/f", 0o777) == errno.EROFS
    e, vp = fs.open(ALICE, "/ro/f", os.O_RDONLY, 0)
    assert e == 0 and fs.read(vp, 0, 1) == (0, b"r")
    assert fs.write(vp, 0, b"w") == (errno.EROFS, 0)
    V.vrele(vp)


def test_nullfs_shares_lower_object(env):
    fs, vm = env.fs, env.vm
    fs.mkdir(ROOT, "/lower", 0o755)
    mkfile(fs, "/lower/f", b"lower data")
    assert fs.mount_nullfs("/upper", "/lower", noexec=True) == 0
    e, up = fs.open(ROOT, "/upper/f", os.O_RDWR, 0)
    assert e == 0 and up.lower is not None and up.lower.path == "/lower/f"
    low = up.lower
    assert up.v_object is low.v_object and up.v_object.handle is low
    assert up.v_mount.mnt_flag & V.MNT_NOEXEC and not low.v_mount.mnt_flag & V.MNT_NOEXEC
    assert fs.write(up, 0, b"UPPER") == (0, 5)
    e, lvp = fs.open(ROOT, "/lower/f", os.O_RDONLY, 0)
    assert lvp is low and fs.read(lvp, 0, 10) == (0, b"UPPER data")
    assert V.VOP_GETATTR(up)[1].va_size == 10
    V.vrele(lvp)
    mkfile(fs, "/upper/new", b"n")                      # creation goes to the lower directory
    assert (env.root / "lower" / "new").read_bytes() == b"n"
    vm.calls.clear()
    V.vrele(up)                                         # the upper reclaim leaves the object alone
    assert [c for c in vm.calls if c[0] == "destroy"] == [("destroy", low)]
    assert fs.active_vnodes() == []
    fs.mkdir(ROOT, "/lower/sub", 0o755)
    assert fs.mount_nullfs("/lower", "/lower/sub") == errno.EDEADLK   # would cover its own lower
    assert fs.mount_nullfs("/lower", "/lower") == errno.EDEADLK


def test_nullfs_cycle_terminates(env):
    fs = env.fs
    for d in ("/a", "/b", "/b/z", "/b/z/q"):
        assert fs.mkdir(ROOT, d, 0o755) == 0
    assert fs.mount_nullfs("/a", "/b/z") == 0
    assert fs.mount_nullfs("/b", "/a/q") == 0          # each lower runs through the other mount
    assert fs.namei(ROOT, "/a/x")[0] == errno.ELOOP


def test_pseudofs(env):
    fs = env.fs
    assert fs.mount_pseudofs("/proc", {"status": b"running\n"}) == 0
    e, vp = fs.open(ROOT, "/proc/status", os.O_RDONLY, 0)
    assert e == 0 and vp.v_type == V.VREG and vp.v_object is None
    assert fs.read(vp, 0, 7) == (0, b"running")
    assert V.VOP_GETATTR(vp)[1].va_size == 8
    assert fs.write(vp, 0, b"x") == (errno.EROFS, 0)
    V.vrele(vp)
    assert fs.open(ROOT, "/proc/status", os.O_RDWR, 0)[0] == errno.EROFS
    assert fs.open(ROOT, "/proc/new", RW_CREAT, 0o644)[0] == errno.EROFS
    assert fs.mount_pseudofs("/p2", {"a/b": b""}) == errno.EINVAL


def test_devfs(env):
    fs = env.fs
    e, z = fs.open(ALICE, "/dev/zero", os.O_RDWR, 0)
    assert e == 0 and z.v_type == V.VCHR and z.v_rdev.si_name == "zero" and z.v_object is None
    assert fs.read(z, 0, 4) == (0, b"\0\0\0\0")
    assert fs.write(z, 0, b"abc") == (0, 3)
    e, z2 = fs.namei(ROOT, "/dev/zero")
    assert z2 is z and z.v_rdev.si_refcount == 1
    V.vrele(z2)
    V.vrele(z)
    assert env.fs.devices["zero"].si_refcount == 0
    e, fb = fs.open(ROOT, "/dev/fb0", os.O_RDWR, 0)
    assert fs.write(fb, 4094, b"xyz") == (0, 3)
    assert fs.read(fb, 4094, 3) == (0, b"xyz")
    assert V.VOP_GETATTR(fb)[1].va_size == 0
    assert fs.truncate(fb, 0) == 0
    V.vrele(fb)
    assert fs.open(ROOT, "/dev/newdev", RW_CREAT, 0o644)[0] == errno.EOPNOTSUPP
    assert fs.namei(ROOT, "/dev/nope")[0] == errno.ENOENT
    assert fs.add_device(D.make_mem_dev("late", 10)) == 0
    e, late = fs.namei(ROOT, "/dev/late")
    assert e == 0
    assert fs.remove_device("late") == 0 and late.v_doomed
    V.vrele(late)
    st = fs.stat(ROOT, "/dev/null")[1]
    assert stat.S_ISCHR(st.st_mode) and st.st_mode & 0o777 == 0o666


def test_stat_and_mkdir_symlink(env):
    fs = env.fs
    assert fs.mkdir(ALICE, "/d", 0o777) == 0
    assert fs.mkdir(ALICE, "/d", 0o777) == errno.EEXIST
    assert fs.mkdir(ALICE, "/e/", 0o700) == 0
    st = fs.stat(ALICE, "/d")[1]
    assert stat.S_ISDIR(st.st_mode) and st.st_mode & 0o777 == 0o755 and st.st_uid == 1000
    assert fs.symlink(ALICE, "/d", "/s") == 0
    assert fs.symlink(ALICE, "/d", "/s") == errno.EEXIST
    assert stat.S_ISDIR(fs.stat(ALICE, "/s")[1].st_mode)
    assert stat.S_ISLNK(fs.stat(ALICE, "/s", follow=False)[1].st_mode)
    assert fs.symlink(ALICE, "x" * 1024, "/long") == errno.ENAMETOOLONG


def test_direct_hooks_default(tmp_path):
    fs = V.VFS(str(tmp_path))
    e, vp = fs.open(ROOT, "/f", RW_CREAT, 0o644)
    assert fs.write(vp, 3, b"x") == (0, 1)
    assert fs.read(vp, 0, 10) == (0, b"\0\0\0x")
    V.vrele(vp)
    with pytest.raises(NotADirectoryError):
        V.VFS(str(tmp_path / "f"))
