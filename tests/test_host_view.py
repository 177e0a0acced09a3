"""The host view of `bsdvm exec`: Kernel(host_root=True, rw=[...]) shows the host's / read-only (names,
contents, sizes, modes, owners, times as on the host; every write EROFS) with each --rw directory
writable at its own path, and nothing outside the --rw directories is ever written, whatever `..` or
symlinks the guest uses.  Files opened read-only from the host are mappable (the vnode pager reads the
host bytes)."""
from __future__ import annotations

import errno
import hashlib
import os
import stat

import pytest
from linux_helpers import guest, unpack_stat

from bsdvm.kernel import Kernel

O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_DIRECTORY = 0, 1, 2, 0o100, 0o1000, 0o200000
AT_FDCWD = -100
PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE = 1, 2, 1, 2


def _tree_digest(root: str) -> dict[str, tuple]:
    """Every name under root with its type, mode, size, mtime and content hash."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            path = os.path.join(d, n)
            st = os.lstat(path)
            h = None
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    h = hashlib.sha256(f.read()).hexdigest()
            out[path] = (st.st_mode, st.st_size, st.st_mtime_ns, h)
    return out


@pytest.fixture
def tree(tmp_path):
    ro = tmp_path / "ro"
    (ro / "sub").mkdir(parents=True)
    (ro / "data.bin").write_bytes(bytes(range(256)) * 40)          # 10 KiB, spans 3 pages
    (ro / "sub" / "note.txt").write_text("read only\n")
    os.chmod(ro / "sub" / "note.txt", 0o640)
    os.symlink("sub/note.txt", ro / "link")
    rw = tmp_path / "rw"
    rw.mkdir()
    os.chmod(rw, 0o777)
    os.symlink(str(ro / "data.bin"), rw / "out")                    # a link from rw to outside
    os.symlink("../ro/sub", rw / "up")
    return tmp_path


@pytest.fixture
def hk(tree):
    k = Kernel(physmem="64M", swap="64M", host_root=True, rw=[str(tree / "rw")])
    yield k
    k.close()


def test_host_view_shows_host_files_with_host_attributes(hk, tree):
    g = guest(hk)
    for rel in ("ro/data.bin", "ro/sub/note.txt", "ro/sub", "ro", "rw"):
        path = str(tree / rel)
        err, _ = g.regs("newfstatat", AT_FDCWD, g.cstr(path), g.buf + 4096, 0)
        assert err == 0, rel
        got = unpack_stat(g.read(4096, 144))
        st = os.stat(path)
        assert (got["mode"], got["uid"], got["gid"], got["size"], got["nlink"], got["ino"]) == \
            (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_nlink, st.st_ino), rel
        assert got["blocks"] == st.st_blocks and got["blksize"] == st.st_blksize
        assert (got["mtime"], got["mtime_nsec"]) == divmod(st.st_mtime_ns, 10**9)
        assert (got["ctime"], got["ctime_nsec"]) == divmod(st.st_ctime_ns, 10**9)


def test_host_root_directory_keeps_its_host_owner_and_mode(hk):
    g = guest(hk)
    assert g.regs("newfstatat", AT_FDCWD, g.cstr("/"), g.buf + 4096, 0)[0] == 0
    got = unpack_stat(g.read(4096, 144))
    st = os.stat("/")
    assert (got["mode"], got["uid"], got["gid"]) == (st.st_mode, st.st_uid, st.st_gid)


def test_every_write_outside_rw_is_erofs_even_for_root(hk, tree):
    before = _tree_digest(str(tree / "ro"))
    g = guest(hk, uid=0)
    f = str(tree / "ro" / "data.bin")
    assert g.regs("openat", AT_FDCWD, g.cstr(f), O_WRONLY, 0)[0] == errno.EROFS
    assert g.regs("openat", AT_FDCWD, g.cstr(f), O_RDWR | O_TRUNC, 0)[0] == errno.EROFS
    assert g.regs("openat", AT_FDCWD, g.cstr(str(tree / "ro" / "new")), O_WRONLY | O_CREAT,
                  0o644)[0] == errno.EROFS
    assert g.regs("unlink", g.cstr(f))[0] == errno.EROFS
    assert g.regs("mkdir", g.cstr(str(tree / "ro" / "d")), 0o755)[0] == errno.EROFS
    assert g.regs("rmdir", g.cstr(str(tree / "ro" / "sub")))[0] == errno.EROFS
    assert g.regs("access", g.cstr(f), 2)[0] == errno.EROFS          # W_OK
    assert g.regs("access", g.cstr(f), 4)[0] == 0                    # R_OK
    with pytest.raises(OSError) as e:
        g.p.chmod(f, 0o777)
    assert e.value.errno == errno.EROFS
    assert _tree_digest(str(tree / "ro")) == before


def test_rw_directory_is_writable_at_its_own_path(hk, tree):
    g = guest(hk, uid=0)
    path = str(tree / "rw" / "made.txt")
    err, fd = g.regs("openat", AT_FDCWD, g.cstr(path), O_WRONLY | O_CREAT, 0o600)
    assert err == 0
    g.p.mem_write(g.buf + 4096, b"written by the guest\n")
    assert g.regs("write", fd, g.buf + 4096, 21) == (0, 21)
    assert g.regs("close", fd) == (0, 0)
    with open(path, "rb") as f:
        assert f.read() == b"written by the guest\n"
    assert g.regs("mkdir", g.cstr(str(tree / "rw" / "d")), 0o755)[0] == 0
    assert os.path.isdir(tree / "rw" / "d")
    assert g.regs("rmdir", g.cstr(str(tree / "rw" / "d")))[0] == 0
    assert g.regs("unlink", g.cstr(path))[0] == 0
    assert not os.path.exists(path)


def test_no_escape_from_rw_by_dotdot_or_symlinks(hk, tree):
    before = _tree_digest(str(tree / "ro"))
    g = guest(hk, uid=0)
    rw = str(tree / "rw")
    for path in (rw + "/../ro/data.bin", rw + "/out", rw + "/up/note.txt",
                 rw + "/up/../data.bin", rw + "/.." * 40 + str(tree / "ro" / "x")):
        err, _ = g.regs("openat", AT_FDCWD, g.cstr(path), O_RDWR | O_CREAT, 0o644)
        assert err == errno.EROFS, path
    # relative to a directory descriptor of the rw directory, too
    err, dfd = g.regs("openat", AT_FDCWD, g.cstr(rw), O_DIRECTORY, 0)
    assert err == 0
    assert g.regs("openat", dfd, g.cstr("../ro/new"), O_WRONLY | O_CREAT, 0o644)[0] == errno.EROFS
    assert g.regs("unlinkat", dfd, g.cstr("out/.."), 0)[0] in (errno.ENOTDIR, errno.EROFS)
    assert g.regs("unlinkat", dfd, g.cstr("out"), 0)[0] == 0        # the link itself is in rw
    assert _tree_digest(str(tree / "ro")) == before
    assert os.path.exists(tree / "ro" / "data.bin")


def _host_allows(path: str, uid: int, gid: int, bit: int) -> bool:
    """The host's DAC answer for a non-root uid/gid: search (x) on every ancestor directory, then
    `bit` (4 read, 2 write) on the file, by owner, group or other bits."""
    def grant(st: os.stat_result) -> int:
        if st.st_uid == uid:
            return (st.st_mode >> 6) & 7
        if st.st_gid == gid:
            return (st.st_mode >> 3) & 7
        return st.st_mode & 7
    parts = path.strip("/").split("/")
    for i in range(len(parts)):
        if not grant(os.stat("/" + "/".join(parts[:i]))) & 1:
            return False
    return bool(grant(os.stat(path)) & bit)


def test_host_modes_and_owners_decide_access_for_unprivileged_guests(hk, tree):
    g = guest(hk, uid=1000, gid=1000)
    for mode in (0o700, 0o755):
        os.chmod(tree, mode)
        os.chmod(tree / "ro", mode)
        for rel in ("ro/sub/note.txt", "ro/data.bin"):
            path = str(tree / rel)
            want = 0 if _host_allows(path, 1000, 1000, 4) else errno.EACCES
            err, fd = g.regs("openat", AT_FDCWD, g.cstr(path), O_RDONLY, 0)
            assert err == want, (oct(mode), rel)
            if not err:
                g.regs("close", fd)
    assert g.regs("openat", AT_FDCWD, g.cstr("/etc/passwd"), O_RDONLY, 0)[0] == (
        0 if _host_allows("/etc/passwd", 1000, 1000, 4) else errno.EACCES)


def test_read_only_host_file_is_mappable_through_the_vnode_pager(hk, tree):
    g = guest(hk)
    err, fd = g.regs("openat", AT_FDCWD, g.cstr(str(tree / "ro" / "data.bin")), O_RDONLY, 0)
    assert err == 0
    err, addr = g.regs("mmap", 0, 3 * 4096, PROT_READ, MAP_PRIVATE, fd, 0)
    assert err == 0
    data = (tree / "ro" / "data.bin").read_bytes()
    assert g.p.mem_read(addr, len(data)) == data
    (obj,) = [e for e in g.p.maps() if e.start == addr]
    assert obj.object_type == "vnode" and obj.path == str(tree / "ro" / "data.bin")
    # a shared writable mapping needs a descriptor open for writing: refused
    assert g.regs("mmap", 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)[0] == errno.EACCES


def test_kernel_host_root_refuses_another_root(tmp_path):
    with pytest.raises(ValueError):
        Kernel(physmem="16M", swap="16M", host_root=True, root=str(tmp_path))
