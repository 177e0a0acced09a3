"""kern/vfs_syscalls.c: the path and vnode system calls as kernel bodies `(td, uap) -> errno`:
open, unlink, chmod, chown, chflags, mkdir, symlink, revoke, stat, lseek and ftruncate, and the
user-visible `struct stat` of FreeBSD 7.

Paths arrive as bytes (copied in from user memory, or a Python caller's path); the bodies name
files in the model's name space through kern.vfs with the calling thread's credential.  `open`
takes FreeBSD's O_* values, as a FreeBSD binary passes them; a Python caller passes the host's
`os.O_*` (the public API's contract), which its uap builder maps with `oflags_from_host`, and the
VFS speaks the host's values again (`oflags_to_vfs`).
Invariants: a vnode or file held here is released on every path; an open whose descriptor cannot
be allocated releases its vnode (no leak on EMFILE).
May call: kern.vfs, kern.descrip, kern.sysent (StructOut).
"""
from __future__ import annotations

import os
import struct
from errno import EINVAL, ESPIPE
from typing import TYPE_CHECKING, Any

from . import descrip
from .sysent import CType, Kind

if TYPE_CHECKING:
    from ..arch import Arch

SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2      # sys/unistd.h (the same on every system bsdvm runs on)

# sys/fcntl.h of FreeBSD 7 (O_DIRECTORY and O_CLOEXEC are later FreeBSD's; the Linux personality
# maps its own onto them)
O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE = 0x0000, 0x0001, 0x0002, 0x0003
O_NONBLOCK = 0x0004
O_APPEND = 0x0008
O_NOFOLLOW = 0x0100
O_CREAT = 0x0200
O_TRUNC = 0x0400
O_EXCL = 0x0800
O_DIRECTORY = 0x00020000

# the bits the VFS acts on, as (FreeBSD value, host value)
_TO_VFS = ((O_NONBLOCK, os.O_NONBLOCK), (O_APPEND, os.O_APPEND), (O_NOFOLLOW, os.O_NOFOLLOW),
           (O_CREAT, os.O_CREAT), (O_TRUNC, os.O_TRUNC), (O_EXCL, os.O_EXCL),
           (O_DIRECTORY, os.O_DIRECTORY))


def oflags_to_vfs(flags: int) -> int:
    """FreeBSD open flags as the os.O_* values the VFS takes (bits it has no use for dropped)."""
    out = {O_RDONLY: os.O_RDONLY, O_WRONLY: os.O_WRONLY, O_RDWR: os.O_RDWR}.get(
        flags & O_ACCMODE, os.O_RDONLY | os.O_WRONLY | os.O_RDWR)     # 3: vn_open's EINVAL
    for bsd, host in _TO_VFS:
        if flags & bsd:
            out |= host
    return out


def oflags_from_host(flags: int) -> int:
    """A Python caller's os.O_* open flags as FreeBSD's (the access mode, 3 included, kept as is;
    bits the model has no use for dropped)."""
    acc = flags & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR)
    out = {os.O_RDONLY: O_RDONLY, os.O_WRONLY: O_WRONLY, os.O_RDWR: O_RDWR}.get(acc, O_ACCMODE)
    for bsd, host in _TO_VFS:
        if flags & host:
            out |= bsd
    return out


# -- struct stat (sys/stat.h of FreeBSD 7) ---------------------------------------------------------
def _timespec(t: float) -> tuple[int, int]:
    sec = int(t // 1)
    return sec, int(round((t - sec) * 1e9)) % 1_000_000_000


def encode_stat(sb: Any, arch: Arch) -> bytes:
    """FreeBSD 7's struct stat for `sb` (an os.stat_result-like value) as a process of `arch` sees
    it: 120 bytes on amd64 (timespecs of two 64-bit longs), 96 on i386 (two 32-bit longs, then the
    two pad words that make room for 16-byte timespecs)."""
    ts = "qq" if arch.c_long_bits == 64 else "ii"
    head = struct.pack("<IIHHIII", sb.st_dev & 0xFFFFFFFF, sb.st_ino & 0xFFFFFFFF,
                       sb.st_mode & 0xFFFF, min(sb.st_nlink, 0xFFFF), sb.st_uid & 0xFFFFFFFF,
                       sb.st_gid & 0xFFFFFFFF, sb.st_rdev & 0xFFFFFFFF)
    times = b"".join(struct.pack("<" + ts, *_timespec(t))
                     for t in (sb.st_atime, sb.st_mtime, sb.st_ctime))
    tail = struct.pack("<qqIIIi", sb.st_size, sb.st_blocks, sb.st_blksize & 0xFFFFFFFF,
                       sb.st_flags & 0xFFFFFFFF, 0, 0)
    birth = struct.pack("<" + ts, *_timespec(sb.st_ctime))
    pad = b"" if arch.c_long_bits == 64 else bytes(8)
    return head + times + tail + birth + pad


STAT_OUT = CType("struct stat *", 0, False, kind=Kind.STRUCT_OUT, encode=encode_stat)


def _path(raw: bytes) -> str:
    return os.fsdecode(raw)


def _vfs(td: Any) -> Any:
    return td.td_proc.p_kernel.vfs


# -- the calls --------------------------------------------------------------------------------------
def kern_open(td: Any, path: bytes, flags: int, mode: int) -> int:
    """vn_open the path and install a descriptor for it: td_retval[0] = the descriptor."""
    fdp = td.td_proc.p_fd
    vflags = oflags_to_vfs(flags)
    error, vp = _vfs(td).open(td.td_ucred, _path(path), vflags, mode)
    if error:
        return error
    fp = descrip.File(descrip.DTYPE_VNODE, descrip.fflags(vflags), f_vnode=vp)
    error, fd = fdp.falloc(fp)
    if error:
        descrip.fhold(fp)               # the only reference: dropping it vrele's the vnode
        descrip.fdrop(fp)
        return error
    td.td_retval[0] = fd
    return 0


def open(td: Any, uap: Any) -> int:
    """open(char *path, int flags, int mode); flags are FreeBSD's O_* values."""
    return kern_open(td, uap.path, uap.flags, uap.mode)


def unlink(td: Any, uap: Any) -> int:
    """unlink(char *path)."""
    return _vfs(td).unlink(td.td_ucred, _path(uap.path))


def chmod(td: Any, uap: Any) -> int:
    """chmod(char *path, int mode)."""
    return _vfs(td).chmod(td.td_ucred, _path(uap.path), uap.mode)


def chown(td: Any, uap: Any) -> int:
    """chown(char *path, int uid, int gid); -1 leaves the id as it is."""
    return _vfs(td).chown(td.td_ucred, _path(uap.path), uap.uid, uap.gid)


def chflags(td: Any, uap: Any) -> int:
    """chflags(char *path, int flags)."""
    return _vfs(td).chflags(td.td_ucred, _path(uap.path), uap.flags)


def mkdir(td: Any, uap: Any) -> int:
    """mkdir(char *path, int mode)."""
    return _vfs(td).mkdir(td.td_ucred, _path(uap.path), uap.mode)


def symlink(td: Any, uap: Any) -> int:
    """symlink(char *path, char *link): a symbolic link named `link` whose contents are `path`."""
    return _vfs(td).symlink(td.td_ucred, _path(uap.path), _path(uap.link))


def revoke(td: Any, uap: Any) -> int:
    """revoke(char *path)."""
    return _vfs(td).revoke(td.td_ucred, _path(uap.path))


def kern_stat(td: Any, path: bytes, follow: bool = True) -> tuple[int, Any]:
    """namei + VOP_GETATTR: (0, stat) or (errno, None)."""
    return _vfs(td).stat(td.td_ucred, _path(path), follow)


def stat(td: Any, uap: Any) -> int:
    """stat(char *path, struct stat *ub)."""
    error, sb = kern_stat(td, uap.path)
    if error:
        return error
    return uap.ub.copyout(sb)


def lseek(td: Any, uap: Any) -> int:
    """lseek(int fd, off_t offset, int whence): td_retval[0] = the new offset."""
    fdp = td.td_proc.p_fd
    error, fp = fdp.fget(uap.fd)
    if error:
        return error
    try:
        if fp.f_vnode is None:
            return ESPIPE
        offset, whence = uap.offset, uap.whence
        if whence == SEEK_SET:
            new = offset
        elif whence == SEEK_CUR:
            new = fp.f_offset + offset
        elif whence == SEEK_END:
            new = _vfs(td).getattr_stat(fp.f_vnode).st_size + offset
        else:
            return EINVAL
        if new < 0:
            return EINVAL
        fp.f_offset = new
        td.td_retval[0] = new
        return 0
    finally:
        fdp.fdrop(fp)


def ftruncate(td: Any, uap: Any) -> int:
    """ftruncate(int fd, off_t length)."""
    if uap.length < 0:
        return EINVAL
    fdp = td.td_proc.p_fd
    error, fp = fdp.fget(uap.fd)
    if error:
        return error
    try:
        if fp.f_vnode is None:
            return EINVAL                   # getvnode: not a vnode
        if not fp.f_flag & descrip.FWRITE:
            return EINVAL
        return _vfs(td).truncate(fp.f_vnode, uap.length)
    finally:
        fdp.fdrop(fp)

