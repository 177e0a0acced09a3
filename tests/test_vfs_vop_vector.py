"""Issue 8 item 4 (file systems): one operations vector per file system (FreeBSD's vop_vector) --
hostfs, devfs, nullfs, pseudofs -- chosen by the mount, instead of branches on the file-system type in
the VFS, which keeps namei, the mount table and the vnode cache."""
from __future__ import annotations

import ast
import errno
import inspect
import os

from bsdvm import Kernel
from bsdvm.kern import vfs as vfs_mod
from bsdvm.kern.priv import Ucred


def test_the_vfs_never_branches_on_the_file_system_type():
    tree = ast.parse(inspect.getsource(vfs_mod.VFS))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            assert node.attr != "fstype", f"VFS reads Mount.fstype at line {node.lineno}"


def test_every_file_system_is_a_vop_vector_named_by_its_mount_type():
    assert set(vfs_mod.FILESYSTEMS) == {"hostfs", "devfs", "nullfs", "pseudofs"}
    for name, ops in vfs_mod.FILESYSTEMS.items():
        assert isinstance(ops, vfs_mod.VopVector) and ops.name == name


def test_each_mount_dispatches_to_its_own_vector(tmp_path):
    host = tmp_path / "h"
    host.mkdir()
    (host / "f").write_bytes(b"host bytes")
    with Kernel(physmem="4M", swap="4M") as k:
        k.mount("/mnt", str(host))
        k.mount_nullfs("/null", "/mnt")
        k.mount_pseudofs("/proc", {"status": b"synthetic"})
        by_path = {m.mnt_path: m for m in k.vfs.mounts()}
        assert type(by_path["/"].op) is vfs_mod.HostFs
        assert type(by_path["/dev"].op) is vfs_mod.DevFs
        assert type(by_path["/mnt"].op) is vfs_mod.HostFs
        assert type(by_path["/null"].op) is vfs_mod.NullFs
        assert type(by_path["/proc"].op) is vfs_mod.PseudoFs
        root = Ucred()
        for path, data in (("/null/f", b"host bytes"), ("/proc/status", b"synthetic")):
            err, vp = k.vfs.open(root, path, os.O_RDONLY)
            assert err == 0
            assert k.vfs.read(vp, 0, 64) == (0, data)
            vfs_mod.vrele(vp)
        # what only a file system knows: pseudofs and devfs refuse names, nullfs passes writes down
        assert k.vfs.open(root, "/proc/new", os.O_CREAT | os.O_WRONLY)[0] == errno.EROFS
        assert k.vfs.mkdir(root, "/dev/sub") == errno.EOPNOTSUPP
        assert k.vfs.unlink(root, "/proc/status") == errno.EROFS       # a read-only mount first
        assert k.vfs.unlink(root, "/dev/null") == errno.EOPNOTSUPP
        err, vp = k.vfs.open(root, "/null/f", os.O_RDWR)
        assert err == 0 and k.vfs.write(vp, 0, b"HOST") == (0, 4)
        vfs_mod.vrele(vp)
        k.sync()
        assert (host / "f").read_bytes() == b"HOST bytes"
