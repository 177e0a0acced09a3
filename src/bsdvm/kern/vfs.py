"""Vnodes, vattr, mounts and the model name space: FreeBSD 7's vfs_lookup/vfs_subr/vfs_vnops reduced, with
four file systems: hostfs (a UFS stand-in whose file bytes live in a host directory), devfs (the cdevs),
nullfs (stacked vnodes, spec VFS-4) and pseudofs (read-only synthetic files without VM objects).

Each file system is one operations vector (`VopVector`, after FreeBSD's vop_vector/vfsops: root, lookup,
new metadata, vnode set-up, create/remove, readdir, read/write/truncate), found by the mount
(`Mount.op`, from `FILESYSTEMS` by type).  The `VFS` itself keeps namei, the mount table, the vnode cache
and the checks all file systems share (DAC, read-only mounts, immutable and append-only flags, the
sticky bit, argument checks) and never asks which file system it is talking to.

Invariants
* Containment: paths are resolved component by component in the *model* name space.  A host path is only
  ever <mount host_dir>/<name>/... built from names that lstat showed to be plain directories; host
  symlinks are read and resolved in the model (an absolute target is relative to the model root), never
  followed by the host; every host open/create/unlink is preceded by a realpath containment check
  (EACCES on escape) and opens use O_NOFOLLOW.
* One vnode per file per mount while it is referenced (v_usecount > 0).  At 0 its dirty pages are written
  back (vm_hooks.vnode_pager_flush) and it is reclaimed: its VM object is destroyed through vm_hooks, its
  host fd closed, and it leaves the cache, so the next lookup makes a fresh vnode.  If that write-back
  fails (disk full, I/O error) the vnode is not reclaimed: it stays cached, unreferenced, with its dirty
  pages and its host fd, and sync() (Kernel.sync, Kernel.close) tries again -- as FreeBSD keeps a
  buffer whose write failed dirty.  An unlinked file's bytes stay readable through the host fd of a
  live vnode.  Every host fd a vnode holds is in `host_fds`, so a kernel dropped without close() can
  still close them.
* Metadata (uid, gid, mode, flags, times) is model-side, kept per host inode in a store that outlives
  vnodes; host files hold only bytes.  Files created through the model carry the creator's uid and gid
  (DESIGN.md; real UFS would take the gid from the directory).  Pre-existing host files take uid, gid and
  mode from the host.  The root directory of every hostfs mount is shown as root:wheel 01777 (like
  /tmp), because the host directory's own mode (often 0700 for temporary directories) is an artifact
  of the host, and unprivileged model processes must be able to create files there.
* VREG hostfs data moves only through vm_hooks.vn_read/vn_write (the VM's page cache), so read(2),
  write(2) and mappings stay coherent; every size change is reported with vm_hooks.vnode_pager_setsize.
* The VFS lock is a leaf with respect to the VM: vm_hooks are never called with it held.
* Hostfs mounts that overlap on the host get separate vnodes (and VM objects) per mount; use nullfs to
  share one file between two model paths.

May call: kern.priv (privilege), kern.devices (device I/O), kern.fail (fail points "vget",
"vop_getattr"), vm.param, and the vm_hooks object given at construction.
"""
from __future__ import annotations

import errno
import itertools
import os
import stat as _st
from bsdvm.kern.lock import mtx
import time
from collections import deque
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from bsdvm.kern import devices as _dev
from bsdvm.kern.fail import FailPoints
from bsdvm.kern.priv import (
    PRIV_VFS_ADMIN, PRIV_VFS_CHOWN, PRIV_VFS_EXEC, PRIV_VFS_LOOKUP, PRIV_VFS_READ, PRIV_VFS_RETAINSUGID,
    PRIV_VFS_SETGID, PRIV_VFS_SYSFLAGS, PRIV_VFS_WRITE, PrivPolicy, Ucred,
)

VNON, VREG, VDIR, VBLK, VCHR, VLNK, VSOCK, VFIFO, VBAD = range(9)
VTYPE_NAMES = ("VNON", "VREG", "VDIR", "VBLK", "VCHR", "VLNK", "VSOCK", "VFIFO", "VBAD")

MNT_RDONLY = 0x1
MNT_NOEXEC = 0x4
MNT_NOATIME = 0x10000000

UF_NODUMP = 0x1
UF_IMMUTABLE = 0x2
UF_APPEND = 0x4
UF_OPAQUE = 0x8
UF_NOUNLINK = 0x10
SF_ARCHIVED = 0x10000
SF_IMMUTABLE = 0x20000
SF_APPEND = 0x40000
SF_NOUNLINK = 0x100000
SF_SNAPSHOT = 0x200000
IMMUTABLE = UF_IMMUTABLE | SF_IMMUTABLE
APPEND = UF_APPEND | SF_APPEND
NOUNLINK = UF_NOUNLINK | SF_NOUNLINK
UF_SETTABLE = 0x0000FFFF
SF_SETTABLE = 0xFFFF0000

# VOP_ACCESS modes (sys/vnode.h): the same bit positions as the owner's rwx.
VEXEC = 0o100
VWRITE = 0o200
VREAD = 0o400

MAXPATHLEN = 1024
NAME_MAX = 255
MAXSYMLINKS = 32

_IFTOVT = {_st.S_IFREG: VREG, _st.S_IFDIR: VDIR, _st.S_IFBLK: VBLK, _st.S_IFCHR: VCHR,
           _st.S_IFLNK: VLNK, _st.S_IFSOCK: VSOCK, _st.S_IFIFO: VFIFO}
_VTTOIF = {v: k for k, v in _IFTOVT.items()}

_ACCMODE = os.O_RDONLY | os.O_WRONLY | os.O_RDWR


@dataclass
class Vattr:
    va_type: int
    va_mode: int
    va_uid: int
    va_gid: int
    va_nlink: int
    va_size: int
    va_flags: int
    va_atime: float
    va_mtime: float
    va_ctime: float
    va_fileid: int
    va_bytes: int = -1          # bytes allocated on the host (-1: none, report size rounded up)
    va_blocksize: int = 4096    # the preferred I/O size


class HostTime(float):
    """A timestamp taken from the host: float seconds like every model time, plus `ns`, the exact
    nanoseconds the host reported (a float cannot hold them), so a stat shows the host's time to the
    nanosecond.  A time the model sets is a plain float."""
    __slots__ = ("ns",)
    ns: int

    def __new__(cls, ns: int) -> "HostTime":
        t = super().__new__(cls, ns / 1e9)
        t.ns = ns
        return t


def _host_times(st: os.stat_result) -> tuple[HostTime, HostTime, HostTime]:
    return HostTime(st.st_atime_ns), HostTime(st.st_mtime_ns), HostTime(st.st_ctime_ns)


@dataclass(eq=False)
class Meta:
    """The inode-like part of a file that the model, not the host, owns."""
    uid: int
    gid: int
    mode: int          # permission bits only (07777)
    flags: int
    nlink: int
    atime: float
    mtime: float
    ctime: float
    fileid: int


class Mount:
    def __init__(self, vfs: "VFS", fstype: str, model: tuple, mnt_flag: int = 0, host_dir: str | None = None,
                 lower: str | None = None, files: dict | None = None, hostattrs: bool = False) -> None:
        self.vfs = vfs
        self.fstype = fstype
        self.op: VopVector = FILESYSTEMS[fstype]      # mnt_op / v_op: the file system's operations
        self.model = model                          # canonical mount point, as path components
        self.mnt_path = "/" + "/".join(model)
        self.mnt_flag = mnt_flag
        self.host_dir: Any = host_dir               # hostfs: realpath of the host directory
        self.lower = lower                          # nullfs: canonical model path of the lower directory
        self.lower_model = tuple(c for c in lower.split("/") if c) if lower else ()
        self.files = files                          # pseudofs: name -> bytes
        self.hostattrs = hostattrs                  # hostfs: the root shows its host owner and mode
        self.mnt_id = next(vfs._mnt_ids)

    def __repr__(self) -> str:
        return f"<Mount {self.fstype} on {self.mnt_path} flags={self.mnt_flag:#x}>"


class _Node:
    """A lookup result: what namei knows about a name before (or without) making a vnode for it."""
    __slots__ = ("mount", "model", "vtype", "host", "st", "cdev", "data", "lower", "key", "mkey")

    def __init__(self, mount, model, vtype, host=None, st=None, cdev=None, data=None, lower=None,
                 key=None, mkey=None):
        self.mount, self.model, self.vtype, self.host, self.st = mount, model, vtype, host, st
        self.cdev, self.data, self.lower, self.key, self.mkey = cdev, data, lower, key, mkey

    def base(self) -> "_Node":
        n = self
        while n.lower is not None:
            n = n.lower
        return n


class Vnode:
    __slots__ = ("v_type", "v_mount", "v_object", "v_rdev", "v_usecount", "v_doomed", "v_reclaimed", "path",
                 "lower", "meta", "host_fd", "host_path", "host_writable", "pdata", "v_key", "__weakref__")

    def __init__(self, v_type: int, mount: Mount, path: str, meta: Meta) -> None:
        self.v_type = v_type
        self.v_mount = mount
        self.v_object = None
        self.v_rdev = None
        self.v_usecount = 0
        self.v_doomed = False
        self.v_reclaimed = False
        self.path = path
        self.lower: Vnode | None = None             # nullfs: the vnode this one stacks on
        self.meta = meta
        self.host_fd: int | None = None
        self.host_path: str | None = None
        self.host_writable = False
        self.pdata: bytes | None = None             # pseudofs: the file's contents
        self.v_key: Any = None

    def __repr__(self) -> str:
        state = " doomed" if self.v_doomed else ""
        return f"<Vnode {VTYPE_NAMES[self.v_type]} {self.path} use={self.v_usecount}{state}>"

    def base(self) -> "Vnode":
        """The bottom of a nullfs stack (the vnode itself when not stacked)."""
        vp = self
        while vp.lower is not None:
            vp = vp.lower
        return vp

    def _fd(self) -> int:
        fd = self.base().host_fd
        if fd is None:
            raise OSError(errno.EBADF, "vnode has no host file")
        return fd

    def host_pread(self, offset: int, n: int) -> bytes:
        fd, parts = self._fd(), []
        while n > 0:
            b = os.pread(fd, n, offset)
            if not b:
                break
            parts.append(b)
            n -= len(b)
            offset += len(b)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def host_pwrite(self, offset: int, data) -> None:
        fd, mv = self._fd(), memoryview(data).cast("B")
        while mv:
            k = os.pwrite(fd, mv, offset)
            mv, offset = mv[k:], offset + k

    def host_size(self) -> int:
        return os.fstat(self._fd()).st_size

    def host_truncate(self, size: int) -> None:
        os.ftruncate(self._fd(), size)

    def host_fsync(self) -> None:
        os.fsync(self._fd())

    def touch_mtime(self) -> None:
        self.meta.mtime = self.meta.ctime = time.time()

    def mark_atime(self) -> None:
        self.meta.atime = time.time()


class DirectVMHooks:
    """vm_hooks for a VFS with no VM above it: file I/O goes straight to the host file, no VM objects."""

    def vnode_create_vobject(self, vp: Vnode) -> None:
        pass

    def vnode_destroy_vobject(self, vp: Vnode) -> None:
        vp.v_object = None

    def vnode_pager_flush(self, vp: Vnode) -> int:
        return 0                    # no pages above the host file: nothing to write back

    def vnode_pager_setsize(self, vp: Vnode, newsize: int) -> None:
        pass

    def vn_read(self, vp: Vnode, offset: int, n: int) -> bytes:
        return vp.host_pread(offset, n)

    def vn_write(self, vp: Vnode, offset: int, data) -> None:
        vp.host_pwrite(offset, data)


# ---- vnode reference counting and the VOPs the VM calls -------------------------------------------------

def vref(vp: Vnode) -> None:
    vp.v_mount.vfs._vref(vp)


def vrele(vp: Vnode) -> None:
    vp.v_mount.vfs._vrele(vp)


def vget(vp: Vnode, flags: int = 0, td=None) -> int:
    if vp.v_doomed:
        return errno.ENOENT
    vfs = vp.v_mount.vfs
    error = vfs.fail.check("vget")
    if error:
        return error
    vfs._vref(vp)
    return 0


def vput(vp: Vnode) -> None:
    vrele(vp)


def VOP_GETATTR(vp: Vnode, cred=None, td=None) -> tuple[int, Any]:     # (0, Vattr) or (errno, None)
    vfs = vp.v_mount.vfs
    error = vfs.fail.check("vop_getattr")
    if error:
        return error, None
    return vfs.getattr(vp)


def vfs_mark_atime(vp: Vnode, td=None) -> None:
    if not vp.v_mount.mnt_flag & (MNT_NOATIME | MNT_RDONLY):
        vp.mark_atime()


def _err(e: OSError) -> int:
    return e.errno or errno.EIO


class VFS:
    def __init__(self, root_host_dir, devices: dict | None = None, fail: FailPoints | None = None,
                 vm_hooks=None, host_fds: set[int] | None = None,
                 priv_policy: PrivPolicy | None = None, rdonly: bool = False) -> None:
        root = os.path.realpath(os.fspath(root_host_dir))
        if not os.path.isdir(root):
            raise NotADirectoryError(f"root {root_host_dir!r} is not a directory")
        self.devices = devices if devices is not None else {}    # shared with the caller: make_dev adds
        self.fail = fail if fail is not None else FailPoints()
        self.host_fds: set[int] = host_fds if host_fds is not None else set()
        self._unflushed: dict[int, Vnode] = {}     # unreferenced vnodes whose write-back failed
        self._flush_error = 0                       # the errno of the last failed write-back
        self.vm_hooks = vm_hooks if vm_hooks is not None else DirectVMHooks()
        # security.bsd.suser_enabled and the MAC hooks: the kernel's policy, shared, not copied
        self.priv_policy = priv_policy if priv_policy is not None else PrivPolicy()
        self.lock = mtx("vfs", recursive=True)
        self._mnt_ids = itertools.count(1)
        self._fileids = itertools.count(1 << 48)    # synthetic inode numbers for devfs/pseudofs
        self._mounts: dict[tuple, Mount] = {}
        self._vcache: dict[tuple, Vnode] = {}
        self._meta: dict[tuple, Meta] = {}
        # rdonly: the host-view root of `bsdvm exec` -- the host tree as it is (its own owner and mode
        # at the root too), every write EROFS, host files opened read-only
        self.rootmount = Mount(self, "hostfs", (), MNT_RDONLY if rdonly else 0, host_dir=root,
                               hostattrs=rdonly)
        self._mounts[()] = self.rootmount
        self._mounts[("dev",)] = Mount(self, "devfs", ("dev",))

    # ---- helpers ----------------------------------------------------------------------------------------

    def _priv(self, cred: Ucred, priv: int) -> int:
        return self.priv_policy.check(cred, priv)

    @staticmethod
    def _contained(mount: Mount, hp: str) -> bool:
        d = os.path.realpath(os.path.dirname(hp))
        root = mount.host_dir
        return d == root or d.startswith(root.rstrip(os.sep) + os.sep)

    @staticmethod
    def _rdonly(mount_chain) -> bool:
        return any(m.mnt_flag & MNT_RDONLY for m in mount_chain)

    @staticmethod
    def _node_mounts(node: _Node):
        while node is not None:
            yield node.mount
            node = node.lower

    def _vaccess(self, vtype: int, m: Meta, acc: int, cred: Ucred) -> int:
        """vaccess(9): DAC by owner, then group, then other bits; privilege may supply what is missing."""
        if cred.cr_uid == m.uid:
            granted = m.mode & 0o700
        elif cred.groupmember(m.gid):
            granted = (m.mode & 0o070) << 3
        else:
            granted = (m.mode & 0o007) << 6
        missing = acc & ~granted
        if not missing:
            return 0
        if missing & VEXEC:
            if vtype == VDIR:
                if self._priv(cred, PRIV_VFS_LOOKUP):
                    return errno.EACCES
            elif not m.mode & 0o111 or self._priv(cred, PRIV_VFS_EXEC):
                return errno.EACCES     # even root needs some x bit to execute a file
        if missing & VREAD and self._priv(cred, PRIV_VFS_READ):
            return errno.EACCES
        if missing & VWRITE and self._priv(cred, PRIV_VFS_WRITE):
            return errno.EACCES
        return 0

    def _access(self, vtype: int, mounts, m: Meta, acc: int, cred: Ucred) -> int:
        """ufs_access(): read-only mount, then immutable flags, then DAC."""
        if acc & VWRITE:
            if vtype in (VREG, VDIR, VLNK) and self._rdonly(mounts):
                return errno.EROFS
            if m.flags & (IMMUTABLE | SF_SNAPSHOT):
                return errno.EPERM
        return self._vaccess(vtype, m, acc, cred)

    def _meta_for(self, node: _Node) -> Meta:
        with self.lock:
            m = self._meta.get(node.mkey)
            if m is not None:
                return m
            b = node.base()
            m = b.mount.op.new_meta(self, b)
            self._meta[node.mkey] = m
            return m

    def _wrap(self, mount: Mount, model: tuple, lower: _Node) -> _Node:
        return _Node(mount, model, lower.vtype, lower=lower, key=(mount.mnt_id, lower.key), mkey=lower.mkey)

    def _mount_root(self, mp: Mount, depth: int) -> tuple[int, Any]:       # (0, _Node) or (errno, None)
        return mp.op.root(self, mp, depth)

    def _lookup_child(self, d: _Node, name: str, depth: int) -> tuple[int, Any]:   # (0, _Node) | (errno, None)
        model = d.model + (name,)
        mp = self._mounts.get(model)
        if mp is not None:
            return self._mount_root(mp, depth)
        return d.mount.op.lookup(self, d, name, model, depth)

    def _readlink(self, node: _Node) -> tuple[int, str]:
        b = node.base()
        if b.host is None:
            return errno.EINVAL, ""
        try:
            return 0, os.readlink(b.host)
        except OSError as e:
            return _err(e), ""

    def _walk(self, cred: Ucred | None, path, follow: bool = True, create: bool = False, depth: int = 0):
        """namei(): -> (errno, node, parent, last, trailing_slash).  With `create`, a missing last
        component gives node None and the directory it would be created in.  `parent` is the directory
        the last component was found in (None when the path ends in "/", "." or "..").  cred None
        skips search-permission checks (kernel-internal lookups)."""
        if isinstance(path, (bytes, bytearray)):
            path = os.fsdecode(bytes(path))
        if not isinstance(path, str):
            return errno.EFAULT, None, None, "", False
        if not path:
            return errno.ENOENT, None, None, "", False
        if "\0" in path:
            return errno.EINVAL, None, None, "", False
        if len(os.fsencode(path)) >= MAXPATHLEN:
            return errno.ENAMETOOLONG, None, None, "", False
        error, root = self._mount_root(self.rootmount, depth)
        if error:
            return error, None, None, "", False
        stack = [root]
        comps = deque(path.split("/"))
        trailing = path.rstrip("/") != path and path.strip("/") != ""
        links, last, parent = 0, "", None
        while comps:
            c = comps.popleft()
            if not c:
                continue
            cur = stack[-1]
            if cur.vtype != VDIR:
                return errno.ENOTDIR, None, None, "", False
            if len(os.fsencode(c)) > NAME_MAX:
                return errno.ENAMETOOLONG, None, None, "", False
            if cred is not None:
                error = self._vaccess(VDIR, self._meta_for(cur), VEXEC, cred)
                if error:
                    return error, None, None, "", False
            last = c
            if c == ".":
                parent = None
                continue
            if c == "..":
                if len(stack) > 1:      # ".." of the model root is the root: never above "/"
                    stack.pop()
                parent = None
                continue
            is_last = not any(comps)
            error, child = self._lookup_child(cur, c, depth)
            if error:
                if error == errno.ENOENT and is_last and create:
                    return 0, None, cur, c, trailing
                return error, None, None, "", False
            if child.vtype == VLNK and (follow or trailing or not is_last):
                links += 1
                if links > MAXSYMLINKS:
                    return errno.ELOOP, None, None, "", False
                error, target = self._readlink(child)
                if error:
                    return error, None, None, "", False
                if not target:
                    return errno.ENOENT, None, None, "", False
                if len(os.fsencode(target)) + sum(len(x) + 1 for x in comps) >= MAXPATHLEN:
                    return errno.ENAMETOOLONG, None, None, "", False
                if target.startswith("/"):
                    del stack[1:]       # absolute targets are relative to the model root
                comps.extendleft(reversed(target.split("/")))
                continue
            stack.append(child)
            parent = cur
        node = stack[-1]
        if trailing and node.vtype != VDIR:
            return errno.ENOTDIR, None, None, "", False
        return 0, node, parent, last, trailing

    def _getvnode(self, node: _Node) -> tuple[int, Any]:      # (0, Vnode) or (errno, None)
        """A referenced vnode for `node`: the cached one, or a new one."""
        with self.lock:
            vp = self._vcache.get(node.key)
            if vp is not None:
                if vp.v_type == node.vtype and not vp.v_doomed:
                    vp.v_usecount += 1
                    return 0, vp
                del self._vcache[node.key]      # stale: the inode number was reused by a new file
            meta = self._meta_for(node)
            vp = Vnode(node.vtype, node.mount, "/" + "/".join(node.model), meta)
            error = node.mount.op.init_vnode(self, vp, node)
            if error:
                return error, None
            vp.v_usecount = 1
            vp.v_key = node.key
            self._vcache[node.key] = vp
            return 0, vp

    def _vref(self, vp: Vnode) -> None:
        with self.lock:
            vp.v_usecount += 1

    def _vrele(self, vp: Vnode) -> None:
        with self.lock:
            if vp.v_usecount <= 0:
                raise RuntimeError(f"vrele: negative reference count on {vp!r}")
            vp.v_usecount -= 1
            if vp.v_usecount or vp.v_reclaimed:
                return
        # Outside the VFS lock (the VM takes its own): write dirty pages back before reclaiming.
        # (vm_hooks without vnode_pager_flush keep no dirty pages of their own.)
        flush = getattr(self.vm_hooks, "vnode_pager_flush", None)
        error = flush(vp) if flush is not None and vp.lower is None and vp.v_object else 0
        with self.lock:
            if vp.v_usecount or vp.v_reclaimed:
                return
            if error:
                # keep it, pages and host fd included, until a write-back succeeds
                self._unflushed[id(vp)] = vp
                self._flush_error = error
                return
            self._unflushed.pop(id(vp), None)
            vp.v_reclaimed = True
            if self._vcache.get(vp.v_key) is vp:
                del self._vcache[vp.v_key]
        self._reclaim(vp)

    def sync(self) -> int:
        """Retry the write-back of every unreferenced vnode whose write-back failed, reclaiming
        those that now succeed.  Returns 0, or an errno when some dirty data is still unwritten."""
        with self.lock:
            pending = [vp for vp in self._unflushed.values() if not vp.v_usecount]
        for vp in pending:
            self._vref(vp)
            self._vrele(vp)
        with self.lock:
            return (self._flush_error or errno.EIO) if self._unflushed else 0

    def _reclaim(self, vp: Vnode) -> None:
        # Outside the VFS lock: destroying the VM object takes VM locks and may write dirty pages back.
        if vp.lower is not None:
            vp.v_object = None                  # the object belongs to the lower vnode (null_reclaim)
            low, vp.lower = vp.lower, None
            vrele(low)
        elif vp.v_object is not None:
            self.vm_hooks.vnode_destroy_vobject(vp)
        if vp.host_fd is not None:
            fd, vp.host_fd = vp.host_fd, None
            self.host_fds.discard(fd)
            os.close(fd)
        if vp.v_rdev is not None:
            vp.v_rdev.si_refcount -= 1
        vp.v_doomed = True

    # ---- name space operations --------------------------------------------------------------------------

    def namei(self, cred: Ucred, path, follow: bool = True) -> tuple[int, Any]:   # (0, Vnode) | (errno, None)
        """Look `path` up; the vnode is returned referenced (the caller vrele's it)."""
        error, node, _, _, _ = self._walk(cred, path, follow)
        if error:
            return error, None
        return self._getvnode(node)

    def stat(self, cred: Ucred, path, follow: bool = True):
        error, node, _, _, _ = self._walk(cred, path, follow)
        if error:
            return error, None
        with self.lock:
            cached = node.key in self._vcache
        if not cached:
            # A file no vnode stands for may be described without making one (a host file: from the
            # lookup's own lstat and the model's metadata, without opening it).
            st = node.mount.op.stat_unopened(self, node)
            if st is not None:
                return 0, st
        error, vp = self._getvnode(node)
        if error:
            return error, None
        try:
            return 0, self.getattr_stat(vp)
        except OSError as e:
            return _err(e), None
        finally:
            vrele(vp)

    def _stat_of_host_node(self, node: _Node) -> SimpleNamespace:
        st, m = node.st, self._meta_for(node)
        m.nlink = st.st_nlink
        return SimpleNamespace(
            st_mode=_VTTOIF.get(node.vtype, 0) | m.mode, st_ino=m.fileid, st_dev=node.mount.mnt_id,
            st_nlink=st.st_nlink, st_uid=m.uid, st_gid=m.gid, st_size=st.st_size, st_atime=m.atime,
            st_mtime=m.mtime, st_ctime=m.ctime, st_flags=m.flags, st_blksize=st.st_blksize,
            st_blocks=st.st_blocks, st_rdev=0)

    def readlink(self, cred: Ucred, path) -> tuple[int, str]:
        """VOP_READLINK of the symbolic link `path` (not followed): (errno, target); EINVAL when it
        is not a symbolic link."""
        error, node, _, _, _ = self._walk(cred, path, follow=False)
        if error:
            return error, ""
        if node.vtype != VLNK:
            return errno.EINVAL, ""
        return self._readlink(node)

    def access(self, cred: Ucred, path, acc: int, follow: bool = True) -> int:
        """access(2)'s check: `acc` is a mask of VREAD/VWRITE/VEXEC (0: existence only), checked
        against `cred` as ufs_access would (read-only mount, immutable flags, DAC, privilege)."""
        error, node, _, _, _ = self._walk(cred, path, follow)
        if error:
            return error
        if not acc:
            return 0
        return self._access(node.vtype, self._node_mounts(node), self._meta_for(node), acc, cred)

    def _may_remove(self, cred: Ucred, node, parent) -> tuple[int, Any, Any, Any]:
        """The checks unlink and rmdir share (ufs_remove/ufs_rmdir with VOP_ACCESS): a read-only
        mount, the file system's refusal, write access to the parent, the sticky bit and the
        NOUNLINK/IMMUTABLE/APPEND flags.  Returns (errno, bottom node, the parent's and the node's
        metadata)."""
        if self._rdonly(self._node_mounts(node)):
            return errno.EROFS, None, None, None
        base = node.base()
        error = base.mount.op.remove_error()
        if error:
            return error, None, None, None
        pm, m = self._meta_for(parent), self._meta_for(node)
        error = self._access(VDIR, self._node_mounts(parent), pm, VWRITE, cred)
        if error:
            return error, None, None, None
        if pm.mode & _st.S_ISVTX and cred.cr_uid not in (m.uid, pm.uid) and self._priv(cred, PRIV_VFS_ADMIN):
            return errno.EPERM, None, None, None
        if m.flags & (NOUNLINK | IMMUTABLE | APPEND) or pm.flags & APPEND:
            return errno.EPERM, None, None, None
        return 0, base, pm, m

    def rmdir(self, cred: Ucred, path) -> int:
        """rmdir(2): remove the empty directory `path` (ENOTEMPTY from the file system otherwise)."""
        error, node, parent, last, _ = self._walk(cred, path, follow=False)
        if error:
            return error
        if node.vtype != VDIR:
            return errno.ENOTDIR
        if parent is None or last in (".", ".."):
            return errno.EINVAL
        if node.model in self._mounts:
            return errno.EBUSY
        error, base, pm, m = self._may_remove(cred, node, parent)
        if error:
            return error
        error = base.mount.op.remove(self, base, VDIR)
        if error:
            return error
        now = time.time()
        with self.lock:
            if self._meta.get(base.mkey) is m:
                del self._meta[base.mkey]
            for k in [k for k, v in self._vcache.items() if v.meta is m]:
                self._vcache.pop(k).host_path = None
            pm.mtime = pm.ctime = now
        return 0

    def _create(self, cred: Ucred, parent: _Node, name: str, vtype: int, perm: int, target: str = ""):
        """Create a file, directory or symlink `name` in `parent`; model metadata from cred and perm."""
        if self._rdonly(self._node_mounts(parent)):
            return errno.EROFS, None
        base = parent.base()
        error = base.mount.op.create_error()
        if error:
            return error, None
        pm = self._meta_for(parent)
        error = self._access(VDIR, self._node_mounts(parent), pm, VWRITE, cred)
        if error:
            return error, None
        error, hp, st = base.mount.op.create(self, base, name, vtype, target)
        if error:
            return error, None
        now = time.time()
        mkey = ("h", st.st_dev, st.st_ino)
        with self.lock:
            # Overwrites any stale entry left by a host file that used the same inode number.
            self._meta[mkey] = Meta(cred.cr_uid, cred.cr_gid, perm, 0, st.st_nlink, now, now, now, st.st_ino)
            pm.mtime = pm.ctime = now
        node = _Node(base.mount, base.model + (name,), vtype, host=hp, st=st,
                     key=(base.mount.mnt_id, st.st_dev, st.st_ino), mkey=mkey)
        uppers = []
        p = parent
        while p.lower is not None:
            uppers.append(p)
            p = p.lower
        for up in reversed(uppers):
            node = self._wrap(up.mount, up.model + (name,), node)
        return 0, node

    def open(self, cred: Ucred, path, oflags: int, mode: int = 0o666, umask: int = 0o022):
        """vn_open(): -> (errno, referenced Vnode).  oflags are Python os.O_* values."""
        acc = oflags & _ACCMODE
        if acc == _ACCMODE:
            return errno.EINVAL, None
        fread, fwrite = acc in (os.O_RDONLY, os.O_RDWR), acc in (os.O_WRONLY, os.O_RDWR)
        creat, excl = bool(oflags & os.O_CREAT), bool(oflags & os.O_CREAT and oflags & os.O_EXCL)
        follow = not (oflags & os.O_NOFOLLOW or excl)
        error, node, parent, last, trailing = self._walk(cred, path, follow, create=creat)
        if error:
            return error, None
        created = False
        if node is None:
            if trailing:
                return errno.EISDIR, None
            error, node = self._create(cred, parent, last, VREG, mode & ~umask & 0o7777)
            if error:
                return error, None
            created = True
        elif excl:
            return errno.EEXIST, None
        vt = node.vtype
        if vt == VLNK:
            return errno.EMLINK, None       # O_NOFOLLOW on a symlink: FreeBSD 7 says EMLINK
        if vt in (VSOCK, VFIFO, VBAD):
            return errno.EOPNOTSUPP, None
        if oflags & os.O_DIRECTORY and vt != VDIR:
            return errno.ENOTDIR, None
        trunc = bool(oflags & os.O_TRUNC)
        if not created:                     # a file just created is not checked against its own mode
            m = self._meta_for(node)
            want = VREAD if fread else 0
            if fwrite or trunc:
                if vt == VDIR:
                    return errno.EISDIR, None
                want |= VWRITE
            error = self._access(vt, self._node_mounts(node), m, want, cred)
            if error:
                return error, None
            if m.flags & APPEND and fwrite and not oflags & os.O_APPEND:
                return errno.EPERM, None    # ufs_open: append-only files take O_APPEND writers only
        error, vp = self._getvnode(node)
        if error:
            return error, None
        base = vp.base()
        if vt in (VCHR, VBLK) and vp.v_rdev is None:
            error = errno.ENXIO             # a host device node: no driver in the model
        elif fwrite and vt == VREG and base.host_fd is not None and not base.host_writable:
            error = errno.EACCES
        elif trunc and vt == VREG and not created:
            error = self.truncate(vp, 0)
        if error:
            vrele(vp)
            return error, None
        if vt == VREG and base.host_fd is not None:
            if base.v_object is None:
                self.vm_hooks.vnode_create_vobject(base)
            u = vp
            while u is not base:            # stacked vnodes share the bottom vnode's object (VFS-4)
                u.v_object = base.v_object
                u = u.lower
        return 0, vp

    def unlink(self, cred: Ucred, path) -> int:
        error, node, parent, last, _ = self._walk(cred, path, follow=False)
        if error:
            return error
        if node.vtype == VDIR:
            return errno.EPERM
        if parent is None or last in (".", ".."):
            return errno.EINVAL
        error, base, pm, m = self._may_remove(cred, node, parent)
        if error:
            return error
        error = base.mount.op.remove(self, base, node.vtype)
        if error:
            return error
        now = time.time()
        with self.lock:
            vp = self._vcache.get(base.key)
            try:
                nlink = os.fstat(vp.host_fd).st_nlink if vp is not None and vp.host_fd is not None \
                    else base.st.st_nlink - 1
            except OSError:
                nlink = 0
            m.nlink = max(nlink, 0)
            m.ctime = now
            pm.mtime = pm.ctime = now
            if m.nlink == 0:
                # The inode number may now be reused by a new host file: forget the metadata and take
                # the live vnodes out of the cache (they stay valid for their holders).
                if self._meta.get(base.mkey) is m:
                    del self._meta[base.mkey]
                for k in [k for k, v in self._vcache.items() if v.meta is m]:
                    self._vcache.pop(k).host_path = None
        return 0

    def _setattr_target(self, cred: Ucred, path, follow: bool = True):
        error, node, _, _, _ = self._walk(cred, path, follow)
        if error:
            return error, None, None
        if self._rdonly(self._node_mounts(node)):
            return errno.EROFS, None, None
        return 0, node, self._meta_for(node)

    def chmod(self, cred: Ucred, path, mode: int, follow: bool = True) -> int:
        error, node, m = self._setattr_target(cred, path, follow)
        if error:
            return error
        if cred.cr_uid != m.uid and self._priv(cred, PRIV_VFS_ADMIN):
            return errno.EPERM
        if m.flags & (IMMUTABLE | APPEND):
            return errno.EPERM
        if mode & _st.S_ISGID and not cred.groupmember(m.gid) and self._priv(cred, PRIV_VFS_SETGID):
            return errno.EPERM
        with self.lock:
            m.mode = mode & 0o7777
            m.ctime = time.time()
        return 0

    def chown(self, cred: Ucred, path, uid: int, gid: int, follow: bool = True) -> int:
        error, node, m = self._setattr_target(cred, path, follow)
        if error:
            return error
        if m.flags & (IMMUTABLE | APPEND):
            return errno.EPERM
        # (uid_t)-1 / (gid_t)-1 (VNOVAL) leaves the id alone; callers pass either spelling
        uid = m.uid if uid in (-1, 0xFFFFFFFF) else uid
        gid = m.gid if gid in (-1, 0xFFFFFFFF) else gid
        # ufs_chown: only a privileged caller may give a file away or pick a group it is not in.
        if (cred.cr_uid != m.uid or uid != m.uid or (gid != m.gid and not cred.groupmember(gid))) \
                and self._priv(cred, PRIV_VFS_CHOWN):
            return errno.EPERM
        with self.lock:
            if m.mode & (_st.S_ISUID | _st.S_ISGID) and (uid, gid) != (m.uid, m.gid) \
                    and self._priv(cred, PRIV_VFS_RETAINSUGID):
                m.mode &= ~(_st.S_ISUID | _st.S_ISGID)
            m.uid, m.gid = uid, gid
            m.ctime = time.time()
        return 0

    def chflags(self, cred: Ucred, path, flags: int, follow: bool = True) -> int:
        if not isinstance(flags, int) or flags < 0 or flags > 0xFFFFFFFF:
            return errno.EINVAL
        error, node, m = self._setattr_target(cred, path, follow)
        if error:
            return error
        if cred.cr_uid != m.uid and self._priv(cred, PRIV_VFS_ADMIN):
            return errno.EPERM
        with self.lock:
            if self._priv(cred, PRIV_VFS_SYSFLAGS) == 0:
                # Deviation: UFS never lets chflags change SF_SNAPSHOT (only mksnap_ffs sets it); the
                # model has no snapshots, so root may set it to exercise MMV-6.
                m.flags = flags
            else:
                if m.flags & (SF_NOUNLINK | SF_IMMUTABLE | SF_APPEND) or flags & ~UF_SETTABLE:
                    return errno.EPERM
                m.flags = (m.flags & SF_SETTABLE) | (flags & UF_SETTABLE)
            m.ctime = time.time()
        return 0

    def mkdir(self, cred: Ucred, path, mode: int = 0o777, umask: int = 0o022) -> int:
        error, node, parent, last, _ = self._walk(cred, path, follow=False, create=True)
        if error:
            return error
        if node is not None:
            return errno.EEXIST
        return self._create(cred, parent, last, VDIR, mode & ~umask & 0o777)[0]

    def symlink(self, cred: Ucred, target, path, umask: int = 0o022) -> int:
        if isinstance(target, (bytes, bytearray)):
            target = os.fsdecode(bytes(target))
        if "\0" in target:
            return errno.EINVAL
        if len(os.fsencode(target)) >= MAXPATHLEN:
            return errno.ENAMETOOLONG
        error, node, parent, last, trailing = self._walk(cred, path, follow=False, create=True)
        if error:
            return error
        if node is not None:
            return errno.EEXIST
        if trailing:
            return errno.ENOENT
        return self._create(cred, parent, last, VLNK, 0o777 & ~umask, target)[0]

    def revoke(self, cred: Ucred, path) -> int:
        """revoke(2), extended to every vnode type (7.0 accepts only character devices): the vnode is
        doomed, so existing descriptors fail with EBADF and vget with ENOENT; new opens get a new vnode."""
        error, vp = self.namei(cred, path)
        if error:
            return error
        if cred.cr_uid != vp.meta.uid and self._priv(cred, PRIV_VFS_ADMIN):
            error = errno.EPERM
        else:
            with self.lock:
                vp.v_doomed = True
                key = vp.v_key
                if self._vcache.get(key) is vp:
                    del self._vcache[key]
        vrele(vp)
        return error

    # ---- mounts -----------------------------------------------------------------------------------------

    def _mountpoint(self, path) -> tuple[int, Any]:       # (0, model tuple) or (errno, None)
        """The canonical model path for a new mount: an existing directory, or a missing name in one."""
        error, node, parent, last, _ = self._walk(None, path, follow=True, create=True)
        if error:
            return error, None
        if node is None:
            return 0, parent.model + (last,)
        if node.vtype != VDIR:
            return errno.ENOTDIR, None
        if node.model in self._mounts:
            return errno.EBUSY, None
        return 0, node.model

    def mount(self, path, host_dir, noexec: bool = False, rdonly: bool = False, noatime: bool = False,
              hostattrs: bool = False) -> int:
        """Mount the host directory host_dir at the model path `path`.  hostattrs: show the mount's
        root with its host owner and mode (the host view) instead of root:wheel 01777."""
        error, model = self._mountpoint(path)
        if error:
            return error
        hd = os.path.realpath(os.fspath(host_dir))
        if not os.path.exists(hd):
            return errno.ENOENT
        if not os.path.isdir(hd):
            return errno.ENOTDIR
        flags = (MNT_NOEXEC if noexec else 0) | (MNT_RDONLY if rdonly else 0) | (MNT_NOATIME if noatime else 0)
        with self.lock:
            self._mounts[model] = Mount(self, "hostfs", model, flags, host_dir=hd, hostattrs=hostattrs)
        return 0

    def mount_nullfs(self, path, lower_path, noexec: bool = False, rdonly: bool = False) -> int:
        error, lower, _, _, _ = self._walk(None, lower_path, follow=True)
        if error:
            return error
        if lower.vtype != VDIR:
            return errno.ENOTDIR
        error, model = self._mountpoint(path)
        if error:
            return error
        if lower.model[:len(model)] == model:
            return errno.EDEADLK            # the upper layer would cover its own lower directory
        flags = (MNT_NOEXEC if noexec else 0) | (MNT_RDONLY if rdonly else 0)
        with self.lock:
            self._mounts[model] = Mount(self, "nullfs", model, flags, lower="/" + "/".join(lower.model))
        return 0

    def mount_pseudofs(self, path, files: dict) -> int:
        for name, data in files.items():
            if not name or "/" in name or name in (".", "..") or "\0" in name:
                return errno.EINVAL
            if not isinstance(data, (bytes, bytearray)):
                return errno.EINVAL
        error, model = self._mountpoint(path)
        if error:
            return error
        with self.lock:
            self._mounts[model] = Mount(self, "pseudofs", model, MNT_RDONLY,
                                        files={k: bytes(v) for k, v in files.items()})
        return 0

    def unmount(self, path) -> int:
        error, node, _, _, _ = self._walk(None, path, follow=True)
        if error:
            return error
        mp = self._mounts.get(node.model)
        if mp is None or node.mount is not mp:
            return errno.EINVAL
        with self.lock:
            if mp is self.rootmount:
                return errno.EBUSY
            n = len(mp.model)
            for other in self._mounts.values():
                # (only a nullfs mount has a lower path: the others' lower_model is empty)
                if other is not mp and (other.model[:n] == mp.model or other.lower_model[:n] == mp.model):
                    return errno.EBUSY
            if any(vp.v_mount is mp for vp in self._vcache.values()):
                return errno.EBUSY
            del self._mounts[mp.model]
        return 0

    def mounts(self) -> list[Mount]:
        return sorted(self._mounts.values(), key=lambda m: m.model)

    # ---- devices ----------------------------------------------------------------------------------------

    def add_device(self, cdev) -> int:
        with self.lock:
            if cdev.si_name in self.devices:
                return errno.EEXIST
            self.devices[cdev.si_name] = cdev
        return 0

    def remove_device(self, name: str) -> int:
        """destroy_dev(9): live vnodes of the device are doomed, as revoke would."""
        with self.lock:
            if self.devices.pop(name, None) is None:
                return errno.ENOENT
            self._meta.pop(("d", name), None)
            for k in [k for k, v in self._vcache.items() if v.v_rdev is not None and v.v_rdev.si_name == name]:
                self._vcache.pop(k).v_doomed = True
        return 0

    # ---- directories ------------------------------------------------------------------------------------

    def readdir(self, vp: Vnode) -> tuple[int, list[tuple[str, int, int]]]:
        """VOP_READDIR of a whole directory: (errno, [(name, vtype, fileid)]) with "." and ".." first,
        then the file system's entries in its own order; a name covered by a mount shows the mounted
        directory (as the kernel's lookup of it would).  ENOTDIR for a non-directory."""
        if vp.v_doomed:
            return errno.EBADF, []
        if vp.v_type != VDIR:
            return errno.ENOTDIR, []
        model = tuple(c for c in vp.path.split("/") if c)
        dotdot = vp.meta.fileid
        if model:
            error, up, _, _, _ = self._walk(None, "/" + "/".join(model[:-1]))
            if not error and up is not None:
                dotdot = self._meta_for(up).fileid
        out: list[tuple[str, int, int]] = [(".", VDIR, vp.meta.fileid), ("..", VDIR, dotdot)]
        b = vp.base()
        names: dict[str, int] = {}
        try:
            for name, vt, fileid in b.v_mount.op.readdir(self, b, model):
                names[name] = len(out)
                out.append((name, vt, fileid))
        except OSError as e:
            return _err(e), []
        n = len(model)
        for mp in list(self._mounts.values()):
            if len(mp.model) == n + 1 and mp.model[:n] == model:
                error, root = self._mount_root(mp, 0)
                if error or root is None:
                    continue
                entry = (mp.model[-1], VDIR, self._meta_for(root).fileid)
                if mp.model[-1] in names:
                    out[names[mp.model[-1]]] = entry
                else:
                    out.append(entry)
        return 0, out

    # ---- attributes -------------------------------------------------------------------------------------

    def _vattr(self, vp: Vnode) -> Vattr:
        m, b = vp.meta, vp.base()
        nbytes, bsize = -1, 4096
        if b.host_fd is not None:
            st = os.fstat(b.host_fd)
            size, nlink = st.st_size, st.st_nlink
            nbytes, bsize = st.st_blocks * 512, st.st_blksize
        elif b.host_path is not None:
            st = os.lstat(b.host_path)
            size, nlink = st.st_size, st.st_nlink
            nbytes, bsize = st.st_blocks * 512, st.st_blksize
        elif b.pdata is not None:
            size, nlink = len(b.pdata), 1
        else:
            size, nlink = (512 if vp.v_type == VDIR else 0), m.nlink
        m.nlink = nlink
        return Vattr(vp.v_type, _VTTOIF.get(vp.v_type, 0) | m.mode, m.uid, m.gid, nlink, size, m.flags,
                     m.atime, m.mtime, m.ctime, m.fileid, nbytes, bsize)

    def getattr(self, vp: Vnode) -> tuple[int, Vattr | None]:
        if vp.v_doomed:
            return errno.EBADF, None
        try:
            return 0, self._vattr(vp)
        except OSError as e:
            return _err(e), None

    def getattr_stat(self, vp: Vnode) -> SimpleNamespace:
        va = self._vattr(vp)
        rdev = vp.v_rdev
        return SimpleNamespace(
            st_mode=va.va_mode, st_ino=va.va_fileid, st_dev=vp.v_mount.mnt_id, st_nlink=va.va_nlink,
            st_uid=va.va_uid, st_gid=va.va_gid, st_size=va.va_size, st_atime=va.va_atime,
            st_mtime=va.va_mtime, st_ctime=va.va_ctime, st_flags=va.va_flags, st_blksize=va.va_blocksize,
            st_blocks=va.va_bytes // 512 if va.va_bytes >= 0 else (va.va_size + 511) // 512,
            st_rdev=id(rdev) & 0xFFFFFFFF if rdev is not None else 0)

    # ---- data -------------------------------------------------------------------------------------------

    def read(self, vp: Vnode, offset: int, n: int) -> tuple[int, bytes]:
        if vp.v_doomed:
            return errno.EBADF, b""
        if offset < 0 or n < 0:
            return errno.EINVAL, b""
        if vp.v_type == VDIR:
            return errno.EISDIR, b""
        return vp.v_mount.op.read(self, vp, offset, n)

    def write(self, vp: Vnode, offset: int, data, append: bool = False) -> tuple[int, int]:
        if vp.v_doomed:
            return errno.EBADF, 0
        if offset < 0 and not append:
            return errno.EINVAL, 0
        if vp.v_type == VDIR:
            return errno.EISDIR, 0
        return vp.v_mount.op.write(self, vp, offset, data, append)

    def truncate(self, vp: Vnode, size: int) -> int:
        if vp.v_doomed:
            return errno.EBADF
        if not isinstance(size, int) or size < 0:
            return errno.EINVAL
        if vp.v_type == VDIR:
            return errno.EISDIR
        return vp.v_mount.op.truncate(self, vp, size)

    # ---- inspection and shutdown ------------------------------------------------------------------------

    def active_vnodes(self) -> list[Vnode]:
        with self.lock:
            return list(self._vcache.values())

    def close(self) -> None:
        """Last resort at kernel shutdown: close the host files of vnodes somebody leaked."""
        with self.lock:
            leaked = list(self._vcache.values())
            # (a revoked vnode whose write-back failed is in _unflushed only)
            leaked += [vp for vp in self._unflushed.values() if vp not in leaked]
            self._vcache.clear()
            self._unflushed.clear()
        for vp in leaked:
            if vp.lower is None and vp.v_object is not None:
                # what no write-back could save is dropped now, with its frames
                self.vm_hooks.vnode_destroy_vobject(vp)
            if vp.host_fd is not None:
                fd, vp.host_fd = vp.host_fd, None
                self.host_fds.discard(fd)
                os.close(fd)
            vp.v_doomed = True


# ---- file systems: one operations vector each (FreeBSD's vop_vector / vfsops) ------------------------------
#
# The VFS keeps namei, the mount table, the vnode cache and the checks every file system shares (DAC,
# read-only mounts, immutable flags, the sticky bit); what differs between file systems is asked of the
# mount's `op`, one of the four vectors below.  The vectors hold no state of their own: everything they
# touch is in the VFS, the mount, the node or the vnode they are given.

class VopVector:
    """The operations a file system provides.  The defaults are those of a file system with a synthetic
    root directory, no name-space writes and no data (each vector overrides what it has)."""
    name = ""

    def root(self, vfs: "VFS", mp: Mount, depth: int) -> tuple[int, _Node | None]:
        """VFS_ROOT: the node of the mount's root directory."""
        return 0, _Node(mp, mp.model, VDIR, key=(mp.mnt_id, None), mkey=("m", mp.mnt_id, None))

    def lookup(self, vfs: "VFS", d: _Node, name: str, model: tuple, depth: int) -> tuple[int, _Node | None]:
        """VOP_LOOKUP of `name` in directory `d` (a mount point covering it was already checked)."""
        return errno.ENOENT, None

    def new_meta(self, vfs: "VFS", b: _Node) -> Meta:
        """The model metadata of a file first seen (a synthetic directory by default)."""
        now = time.time()
        return Meta(0, 0, 0o555, 0, 2, now, now, now, next(vfs._fileids))

    def init_vnode(self, vfs: "VFS", vp: Vnode, node: _Node) -> int:
        """The file-system half of a new vnode for `node` (VFS_VGET): 0 or an errno."""
        return 0

    def stat_unopened(self, vfs: "VFS", node: _Node) -> SimpleNamespace | None:
        """stat of a file no vnode stands for, without making one; None: make the vnode."""
        return None

    def create_error(self) -> int:
        """Why a name cannot be created here (0 when it can)."""
        return errno.EROFS

    def remove_error(self) -> int:
        """Why a name cannot be removed here (0 when it can)."""
        return errno.EOPNOTSUPP

    def create(self, vfs: "VFS", base: _Node, name: str, vtype: int, target: str) -> tuple[int, str, object]:
        """VOP_CREATE/VOP_MKDIR/VOP_SYMLINK: (errno, host path, host stat)."""
        return self.create_error(), "", None

    def remove(self, vfs: "VFS", base: _Node, vtype: int) -> int:
        """VOP_REMOVE/VOP_RMDIR of the file behind `base`."""
        return self.remove_error()

    def readdir(self, vfs: "VFS", b: Vnode, model: tuple) -> list[tuple[str, int, int]]:
        """VOP_READDIR: the file system's own entries (name, vtype, fileid); OSError on a host error."""
        return []

    def read(self, vfs: "VFS", vp: Vnode, offset: int, n: int) -> tuple[int, bytes]:
        """VOP_READ of a non-directory vnode whose arguments were checked."""
        return errno.EOPNOTSUPP, b""

    def write(self, vfs: "VFS", vp: Vnode, offset: int, data, append: bool) -> tuple[int, int]:
        """VOP_WRITE of a non-directory vnode whose arguments were checked."""
        return errno.EOPNOTSUPP, 0

    def truncate(self, vfs: "VFS", vp: Vnode, size: int) -> int:
        """VOP_SETATTR(va_size) of a non-directory vnode whose arguments were checked."""
        return errno.EINVAL


def _chr_read(vp: Vnode, offset: int, n: int) -> tuple[int, bytes]:
    if vp.v_rdev is None:
        return errno.ENXIO, b""             # a host device node: no driver in the model
    return _dev.dev_read(vp.v_rdev, offset, n)


def _chr_write(vp: Vnode, offset: int, data) -> tuple[int, int]:
    if vp.v_rdev is None:
        return errno.ENXIO, 0
    return _dev.dev_write(vp.v_rdev, offset, data)


class HostFs(VopVector):
    """hostfs, the UFS stand-in: names and bytes live in a host directory, metadata in the model."""
    name = "hostfs"

    def root(self, vfs: "VFS", mp: Mount, depth: int) -> tuple[int, _Node | None]:
        assert mp.host_dir is not None             # a hostfs mount always has its host directory
        try:
            st = os.lstat(mp.host_dir)
        except OSError as e:
            return _err(e), None
        if not _st.S_ISDIR(st.st_mode):
            return errno.ENOTDIR, None
        return 0, _Node(mp, mp.model, VDIR, host=mp.host_dir, st=st, key=(mp.mnt_id, st.st_dev, st.st_ino),
                        mkey=("h", st.st_dev, st.st_ino))

    def lookup(self, vfs: "VFS", d: _Node, name: str, model: tuple, depth: int) -> tuple[int, _Node | None]:
        m = d.mount
        hp = os.path.join(d.host, name)
        try:
            st = os.lstat(hp)
        except OSError as e:
            return _err(e), None
        return 0, _Node(m, model, _IFTOVT.get(_st.S_IFMT(st.st_mode), VBAD), host=hp, st=st,
                        key=(m.mnt_id, st.st_dev, st.st_ino), mkey=("h", st.st_dev, st.st_ino))

    def new_meta(self, vfs: "VFS", b: _Node) -> Meta:
        st = b.st
        if b.host == b.mount.host_dir and not b.mount.hostattrs:
            return Meta(0, 0, 0o1777, 0, st.st_nlink, *_host_times(st), st.st_ino)
        return Meta(st.st_uid, st.st_gid, _st.S_IMODE(st.st_mode), 0, st.st_nlink, *_host_times(st), st.st_ino)

    def init_vnode(self, vfs: "VFS", vp: Vnode, node: _Node) -> int:
        vp.host_path = node.host
        if node.vtype == VREG:
            return self._open_host(vfs, vp, node)
        return 0

    def _open_host(self, vfs: "VFS", vp: Vnode, node: _Node) -> int:
        if not vfs._contained(node.mount, node.host):
            return errno.EACCES
        base = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        try:
            try:
                if node.mount.mnt_flag & MNT_RDONLY:
                    # never hold a host file of a read-only mount open for writing
                    raise OSError(errno.EROFS, "read-only mount")
                fd, vp.host_writable = os.open(node.host, os.O_RDWR | base), True
            except OSError as e:
                if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ETXTBSY):
                    raise
                fd = os.open(node.host, os.O_RDONLY | base)
            st = os.fstat(fd)
        except OSError as e:
            return _err(e)
        if (st.st_dev, st.st_ino) != (node.st.st_dev, node.st.st_ino) or not _st.S_ISREG(st.st_mode):
            os.close(fd)                     # swapped under us on the host
            return errno.EACCES
        vp.host_fd = fd
        vfs.host_fds.add(fd)
        return 0

    def stat_unopened(self, vfs: "VFS", node: _Node) -> SimpleNamespace | None:
        return vfs._stat_of_host_node(node) if node.st is not None else None

    def create_error(self) -> int:
        return 0

    def remove_error(self) -> int:
        return 0

    def create(self, vfs: "VFS", base: _Node, name: str, vtype: int, target: str) -> tuple[int, str, object]:
        hp = os.path.join(base.host, name)
        if not vfs._contained(base.mount, hp):
            return errno.EACCES, "", None
        try:
            if vtype == VREG:
                os.close(os.open(hp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644))
            elif vtype == VDIR:
                os.mkdir(hp, 0o755)
            else:
                os.symlink(target, hp)
            st = os.lstat(hp)
        except OSError as e:
            return _err(e), "", None
        return 0, hp, st

    def remove(self, vfs: "VFS", base: _Node, vtype: int) -> int:
        if not vfs._contained(base.mount, base.host):
            return errno.EACCES
        try:
            if vtype == VDIR:
                os.rmdir(base.host)
            else:
                os.unlink(base.host)
        except OSError as e:
            return _err(e)
        return 0

    def readdir(self, vfs: "VFS", b: Vnode, model: tuple) -> list[tuple[str, int, int]]:
        out: list[tuple[str, int, int]] = []
        if b.host_path is None:
            return out
        with os.scandir(b.host_path) as it:
            for e in it:
                # the entry's d_type when the host file system gives one: no lstat per name
                if e.is_symlink():
                    vt = VLNK
                elif e.is_dir(follow_symlinks=False):
                    vt = VDIR
                elif e.is_file(follow_symlinks=False):
                    vt = VREG
                else:
                    vt = _IFTOVT.get(_st.S_IFMT(e.stat(follow_symlinks=False).st_mode), VBAD)
                out.append((e.name, vt, e.inode()))
        return out

    def read(self, vfs: "VFS", vp: Vnode, offset: int, n: int) -> tuple[int, bytes]:
        if vp.v_type == VCHR:
            return _chr_read(vp, offset, n)
        if vp.v_type != VREG:
            return errno.EOPNOTSUPP, b""
        try:
            size = vp.host_size()
            n = min(n, size - offset)
            data = bytes(vfs.vm_hooks.vn_read(vp, offset, n)) if n > 0 else b""
        except OSError as e:
            return _err(e), b""
        vfs_mark_atime(vp)
        return 0, data

    def write(self, vfs: "VFS", vp: Vnode, offset: int, data, append: bool) -> tuple[int, int]:
        if vp.v_type == VCHR:
            return _chr_write(vp, offset, data)
        if vp.v_type != VREG:
            return errno.EOPNOTSUPP, 0
        if vp.v_mount.mnt_flag & MNT_RDONLY:
            return errno.EROFS, 0
        try:
            size = vp.host_size()
            if append:
                offset = size
            if vp.meta.flags & APPEND and offset != size:
                return errno.EPERM, 0
            if len(data):
                vfs.vm_hooks.vn_write(vp, offset, data)
                end = offset + len(data)
                if end > size:
                    # The host size is what VOP_GETATTR reports, so it must cover the write even if the
                    # VM kept the new bytes in its pages only.
                    if vp.host_size() < end:
                        vp.host_truncate(end)
                    vfs.vm_hooks.vnode_pager_setsize(vp, end)
                vp.touch_mtime()
        except OSError as e:
            return _err(e), 0
        return 0, len(data)

    def truncate(self, vfs: "VFS", vp: Vnode, size: int) -> int:
        if vp.v_type == VCHR:
            return 0                        # a size change on a device node is ignored
        if vp.v_type != VREG:
            return errno.EINVAL
        if vp.v_mount.mnt_flag & MNT_RDONLY:
            return errno.EROFS
        if vp.meta.flags & (IMMUTABLE | APPEND):
            return errno.EPERM
        try:
            vp.host_truncate(size)
        except OSError as e:
            return _err(e)
        vfs.vm_hooks.vnode_pager_setsize(vp, size)
        vp.touch_mtime()
        return 0


class DevFs(VopVector):
    """devfs: one character device per entry of the VFS's device table, under a synthetic root."""
    name = "devfs"

    def lookup(self, vfs: "VFS", d: _Node, name: str, model: tuple, depth: int) -> tuple[int, _Node | None]:
        cdev = vfs.devices.get(name)
        if cdev is None:
            return errno.ENOENT, None
        return 0, _Node(d.mount, model, VCHR, cdev=cdev, key=(d.mount.mnt_id, name), mkey=("d", name))

    def new_meta(self, vfs: "VFS", b: _Node) -> Meta:
        if b.vtype == VDIR:
            return super().new_meta(vfs, b)
        c, now = b.cdev, time.time()
        return Meta(c.si_uid, c.si_gid, c.si_mode & 0o7777, 0, 1, now, now, now, next(vfs._fileids))

    def init_vnode(self, vfs: "VFS", vp: Vnode, node: _Node) -> int:
        if node.cdev is not None:
            vp.v_rdev = node.cdev
            node.cdev.si_refcount += 1
        return 0

    def create_error(self) -> int:
        return errno.EOPNOTSUPP

    def readdir(self, vfs: "VFS", b: Vnode, model: tuple) -> list[tuple[str, int, int]]:
        return [(name, VCHR, vfs._meta_for(_Node(b.v_mount, model + (name,), VCHR, cdev=vfs.devices[name],
                                                  mkey=("d", name))).fileid)
                for name in sorted(vfs.devices)]

    def read(self, vfs: "VFS", vp: Vnode, offset: int, n: int) -> tuple[int, bytes]:
        if vp.v_type == VCHR:
            return _chr_read(vp, offset, n)
        return errno.EOPNOTSUPP, b""

    def write(self, vfs: "VFS", vp: Vnode, offset: int, data, append: bool) -> tuple[int, int]:
        if vp.v_type == VCHR:
            return _chr_write(vp, offset, data)
        return errno.EOPNOTSUPP, 0

    def truncate(self, vfs: "VFS", vp: Vnode, size: int) -> int:
        return 0 if vp.v_type == VCHR else errno.EINVAL


class NullFs(VopVector):
    """nullfs (spec VFS-4): every vnode stacks on the vnode of the same name under the lower directory;
    data operations pass down, refused first when the upper mount is read-only."""
    name = "nullfs"

    def root(self, vfs: "VFS", mp: Mount, depth: int) -> tuple[int, _Node | None]:
        if depth > 8:                                # nullfs mounts whose lowers go through each other
            return errno.ELOOP, None
        error, lower, _, _, _ = vfs._walk(None, mp.lower, depth=depth + 1)
        if error:
            return error, None
        assert lower is not None
        if lower.vtype != VDIR:
            return errno.ENOTDIR, None
        return 0, vfs._wrap(mp, mp.model, lower)

    def lookup(self, vfs: "VFS", d: _Node, name: str, model: tuple, depth: int) -> tuple[int, _Node | None]:
        assert d.lower is not None              # every nullfs node stacks on a lower one
        error, low = vfs._lookup_child(d.lower, name, depth)
        if error or low is None:
            return error, None
        return 0, vfs._wrap(d.mount, model, low)

    def init_vnode(self, vfs: "VFS", vp: Vnode, node: _Node) -> int:
        error, low = vfs._getvnode(node.lower)
        if error:
            return error
        vp.lower = low
        return 0

    @staticmethod
    def _lower(vp: Vnode) -> Vnode:
        assert vp.lower is not None             # until reclaimed (and then doomed, refused before)
        return vp.lower

    def read(self, vfs: "VFS", vp: Vnode, offset: int, n: int) -> tuple[int, bytes]:
        return vfs.read(self._lower(vp), offset, n)

    def write(self, vfs: "VFS", vp: Vnode, offset: int, data, append: bool) -> tuple[int, int]:
        if vp.v_mount.mnt_flag & MNT_RDONLY:
            return errno.EROFS, 0
        return vfs.write(self._lower(vp), offset, data, append)

    def truncate(self, vfs: "VFS", vp: Vnode, size: int) -> int:
        if vp.v_mount.mnt_flag & MNT_RDONLY:
            return errno.EROFS
        return vfs.truncate(self._lower(vp), size)


class PseudoFs(VopVector):
    """pseudofs: read-only synthetic files held in memory, without VM objects (spec MMV-1)."""
    name = "pseudofs"

    def lookup(self, vfs: "VFS", d: _Node, name: str, model: tuple, depth: int) -> tuple[int, _Node | None]:
        m = d.mount
        data = m.files.get(name)
        if data is None:
            return errno.ENOENT, None
        return 0, _Node(m, model, VREG, data=data, key=(m.mnt_id, name), mkey=("p", m.mnt_id, name))

    def new_meta(self, vfs: "VFS", b: _Node) -> Meta:
        if b.vtype == VDIR:
            return super().new_meta(vfs, b)
        now = time.time()
        return Meta(0, 0, 0o444, 0, 1, now, now, now, next(vfs._fileids))

    def init_vnode(self, vfs: "VFS", vp: Vnode, node: _Node) -> int:
        if node.data is not None:
            vp.pdata = node.data
        return 0

    def readdir(self, vfs: "VFS", b: Vnode, model: tuple) -> list[tuple[str, int, int]]:
        files = b.v_mount.files
        if files is None:
            return []
        return [(name, VREG, vfs._meta_for(_Node(b.v_mount, model + (name,), VREG,
                                                  mkey=("p", b.v_mount.mnt_id, name))).fileid)
                for name in files]

    def read(self, vfs: "VFS", vp: Vnode, offset: int, n: int) -> tuple[int, bytes]:
        if vp.v_type != VREG or vp.pdata is None:
            return errno.EOPNOTSUPP, b""
        data = vp.pdata[offset:offset + n]
        vfs_mark_atime(vp)
        return 0, data

    def write(self, vfs: "VFS", vp: Vnode, offset: int, data, append: bool) -> tuple[int, int]:
        if vp.v_type != VREG:
            return errno.EOPNOTSUPP, 0
        return errno.EROFS, 0

    def truncate(self, vfs: "VFS", vp: Vnode, size: int) -> int:
        if vp.v_type != VREG:
            return errno.EINVAL
        return errno.EROFS


# the file systems by name (Mount.fstype): vfsconf
FILESYSTEMS: dict[str, VopVector] = {fs.name: fs for fs in (HostFs(), DevFs(), NullFs(), PseudoFs())}
