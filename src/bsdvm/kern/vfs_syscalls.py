"""kern/vfs_syscalls.c: path lookup relative to a directory descriptor or the current directory,
openat, stat, readlink, access, unlink/rmdir, mkdir, symlink, chmod/chown/chflags, revoke,
chdir/getcwd, lseek, ftruncate and getdirentries, as kernel-internal `kern_*` functions and native
`(td, uap) -> errno` bodies (the native table's are thin calls to the `kern_*at` functions), and the
user-visible `struct stat` of FreeBSD 7.

The model's VFS resolves every path from its root; a relative path is made absolute here, from the
process's current directory (`fd_cdir`, a canonical model path) or from an open directory's vnode,
exactly where FreeBSD's namei starts from ni_startdir.  Open flags arrive in FreeBSD's O_* values (a
Python caller passes the host's `os.O_*`, the public API's contract, which its uap builder maps with
`oflags_from_host`) and are handed to the VFS in the host's os.O_* values it speaks (`oflags_to_vfs`).

Invariants: every fget is matched by an fdrop and every namei'd vnode by a vrele, on every path;
bodies return FreeBSD errnos with the result in td.td_retval[0].
May call: kern.vfs, kern.descrip, kern.sysent (Uio, StructOut), kern.priv.
"""
from __future__ import annotations

import errno
import os
import struct
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from . import descrip
from . import vfs as _vfs
from .sysent import CType, Kind, Uio

if TYPE_CHECKING:
    from ..arch import Arch

# sys/fcntl.h (FreeBSD 7 values, with the *at() flags of the 8.x headers)
O_RDONLY = 0x0000
O_WRONLY = 0x0001
O_RDWR = 0x0002
O_ACCMODE = 0x0003
O_NONBLOCK = 0x0004
O_APPEND = 0x0008
O_SHLOCK = 0x0010
O_EXLOCK = 0x0020
O_ASYNC = 0x0040
O_FSYNC = 0x0080
O_SYNC = 0x0080
O_NOFOLLOW = 0x0100
O_CREAT = 0x0200
O_TRUNC = 0x0400
O_EXCL = 0x0800
O_NOCTTY = 0x8000
O_DIRECT = 0x00010000
O_DIRECTORY = 0x00020000
O_CLOEXEC = 0x00100000

AT_FDCWD = -100
AT_EACCESS = 0x100
AT_SYMLINK_NOFOLLOW = 0x200
AT_REMOVEDIR = 0x800

R_OK, W_OK, X_OK = 0x04, 0x02, 0x01

SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2

# sys/dirent.h d_type
DT_UNKNOWN, DT_FIFO, DT_CHR, DT_DIR, DT_BLK, DT_REG, DT_LNK, DT_SOCK = 0, 1, 2, 4, 6, 8, 10, 12
VTTODT = {_vfs.VREG: DT_REG, _vfs.VDIR: DT_DIR, _vfs.VBLK: DT_BLK, _vfs.VCHR: DT_CHR,
          _vfs.VLNK: DT_LNK, _vfs.VSOCK: DT_SOCK, _vfs.VFIFO: DT_FIFO}

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


def _vfs_of(td: Any) -> Any:
    return td.td_proc.p_kernel.vfs          # the VFS shares the kernel's PrivPolicy


def lookup_at(td: Any, dirfd: int, path: bytes) -> tuple[int, str]:
    """namei's starting point: `path` made absolute in the model, from the current directory
    (dirfd AT_FDCWD) or from the open directory dirfd.  (errno, path): ENOENT for an empty path,
    EBADF for a bad dirfd, ENOTDIR when dirfd is not a directory."""
    if not path:
        return errno.ENOENT, ""
    spath = os.fsdecode(path)
    if spath.startswith("/"):
        return 0, spath
    fdp = td.td_proc.p_fd
    if dirfd == AT_FDCWD:
        base = fdp.fd_cdir
    else:
        err, fp = fdp.fget(dirfd)
        if err:
            return err, ""
        try:
            vp = fp.f_vnode
            if fp.f_type != descrip.DTYPE_VNODE or vp is None or vp.v_type != _vfs.VDIR:
                return errno.ENOTDIR, ""
            base = vp.path
        finally:
            fdp.fdrop(fp)
    return 0, base.rstrip("/") + "/" + spath


# -- open ------------------------------------------------------------------------------------------
def kern_openat(td: Any, dirfd: int, path: bytes, flags: int, mode: int) -> int:
    """kern_openat: open `path` (FreeBSD O_* flags) into the lowest free descriptor, returned in
    td_retval[0]; O_CLOEXEC marks the slot close-on-exec."""
    err, full = lookup_at(td, dirfd, path)
    if err:
        return err
    p = td.td_proc
    fdp = p.p_fd
    vflags = oflags_to_vfs(flags)
    err, vp = _vfs_of(td).open(p.p_ucred, full, vflags, mode & 0o7777, fdp.fd_cmask)
    if err:
        return err
    fp = descrip.File(descrip.DTYPE_VNODE, descrip.fflags(vflags), f_vnode=vp)
    err, fd = fdp.falloc(fp)
    if err:
        descrip.fhold(fp)
        descrip.fdrop(fp)           # releases the vnode reference the File holds
        return err
    if flags & O_CLOEXEC:
        fdp.setfdflags(fd, descrip.UF_EXCLOSE)
    td.td_retval[0] = fd
    return 0


def open(td: Any, uap: Any) -> int:  # noqa: A001 -- the system call's name
    """open(2) (5): open uap.path with uap.flags (FreeBSD O_*) and uap.mode."""
    return kern_openat(td, AT_FDCWD, uap.path, uap.flags, uap.mode)


# -- stat ------------------------------------------------------------------------------------------
def kern_statat(td: Any, flag: int, dirfd: int, path: bytes) -> tuple[int, Any]:
    """kern_statat: (errno, stat) of `path`, the last symlink not followed with AT_SYMLINK_NOFOLLOW.
    The stat is the VFS's attribute record (st_mode, st_ino, st_dev, st_nlink, st_uid, st_gid,
    st_rdev, st_size, st_blksize, st_blocks, st_atime/st_mtime/st_ctime as float seconds)."""
    err, full = lookup_at(td, dirfd, path)
    if err:
        return err, None
    return _vfs_of(td).stat(td.td_proc.p_ucred, full, follow=not flag & AT_SYMLINK_NOFOLLOW)


# -- links, access, removal ------------------------------------------------------------------------
def kern_readlinkat(td: Any, dirfd: int, path: bytes, uio: Uio) -> int:
    """kern_readlinkat: the target of the symbolic link `path` (not NUL-terminated, truncated to
    the buffer) moved to uio; the byte count in td_retval[0].  EINVAL for a non-link."""
    err, full = lookup_at(td, dirfd, path)
    if err:
        return err
    err, target = _vfs_of(td).readlink(td.td_proc.p_ucred, full)
    if err:
        return err
    data = os.fsencode(target)[:uio.resid]
    err = uio.uiomove_out(data)
    if err:
        return err
    td.td_retval[0] = len(data)
    return 0


def kern_accessat(td: Any, dirfd: int, path: bytes, flags: int, mode: int) -> int:
    """kern_accessat: may the caller reach `path` with `mode` (R_OK|W_OK|X_OK, 0 for existence)?
    Checked with the real uid and gid unless AT_EACCESS, as access(2) is."""
    if mode & ~(R_OK | W_OK | X_OK) or flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW):
        return errno.EINVAL
    err, full = lookup_at(td, dirfd, path)
    if err:
        return err
    cred = td.td_proc.p_ucred
    if not flags & AT_EACCESS:
        cred = replace(cred, cr_uid=cred.cr_ruid, cr_gid=cred.cr_rgid)
    acc = ((_vfs.VREAD if mode & R_OK else 0) | (_vfs.VWRITE if mode & W_OK else 0)
           | (_vfs.VEXEC if mode & X_OK else 0))
    return _vfs_of(td).access(cred, full, acc, follow=not flags & AT_SYMLINK_NOFOLLOW)


def kern_unlinkat(td: Any, dirfd: int, path: bytes, flag: int) -> int:
    """kern_unlinkat: unlink `path`, or rmdir it with AT_REMOVEDIR."""
    if flag & ~AT_REMOVEDIR:
        return errno.EINVAL
    err, full = lookup_at(td, dirfd, path)
    if err:
        return err
    vfs = _vfs_of(td)
    cred = td.td_proc.p_ucred
    return vfs.rmdir(cred, full) if flag & AT_REMOVEDIR else vfs.unlink(cred, full)


def kern_mkdirat(td: Any, dirfd: int, path: bytes, mode: int) -> int:
    """kern_mkdirat: make the directory `path` with mode & ~umask."""
    err, full = lookup_at(td, dirfd, path)
    if err:
        return err
    return int(_vfs_of(td).mkdir(td.td_proc.p_ucred, full, mode & 0o7777, td.td_proc.p_fd.fd_cmask))


# -- the native table's path calls: thin calls to the *at functions ---------------------------------
def unlink(td: Any, uap: Any) -> int:
    """unlink(2) (10): unlink(char *path)."""
    return kern_unlinkat(td, AT_FDCWD, uap.path, 0)


def mkdir(td: Any, uap: Any) -> int:
    """mkdir(2) (136): mkdir(char *path, int mode), mode & ~umask."""
    return kern_mkdirat(td, AT_FDCWD, uap.path, uap.mode)


def chmod(td: Any, uap: Any) -> int:
    """chmod(2) (15): chmod(char *path, int mode)."""
    return kern_fchmodat(td, AT_FDCWD, uap.path, uap.mode, 0)


def chown(td: Any, uap: Any) -> int:
    """chown(2) (16): chown(char *path, int uid, int gid); -1 leaves the id as it is."""
    return kern_fchownat(td, AT_FDCWD, uap.path, uap.uid, uap.gid, 0)


def chflags(td: Any, uap: Any) -> int:
    """chflags(2) (34): chflags(char *path, int flags)."""
    err, full = lookup_at(td, AT_FDCWD, uap.path)
    if err:
        return err
    return int(_vfs_of(td).chflags(td.td_proc.p_ucred, full, uap.flags))


def symlink(td: Any, uap: Any) -> int:
    """symlink(2) (57): symlink(char *path, char *link): a symbolic link named `link` whose contents
    are `path`."""
    return kern_symlinkat(td, uap.path, AT_FDCWD, uap.link)


def revoke(td: Any, uap: Any) -> int:
    """revoke(2) (56): revoke(char *path)."""
    err, full = lookup_at(td, AT_FDCWD, uap.path)
    if err:
        return err
    return int(_vfs_of(td).revoke(td.td_proc.p_ucred, full))


def stat(td: Any, uap: Any) -> int:
    """stat(2) (188): stat(char *path, struct stat *ub)."""
    error, sb = kern_statat(td, 0, AT_FDCWD, uap.path)
    if error:
        return error
    return int(uap.ub.copyout(sb))


# -- the current directory -------------------------------------------------------------------------
def _set_cdir(td: Any, vp: Any) -> int:
    if vp.v_type != _vfs.VDIR:
        return errno.ENOTDIR
    err = _vfs_of(td).access(td.td_proc.p_ucred, vp.path, _vfs.VEXEC)
    if err:
        return err
    td.td_proc.p_fd.fd_cdir = vp.path
    return 0


def kern_chdir(td: Any, path: bytes) -> int:
    """kern_chdir: make the directory `path` the current directory (search permission needed)."""
    err, full = lookup_at(td, AT_FDCWD, path)
    if err:
        return err
    err, vp = _vfs_of(td).namei(td.td_proc.p_ucred, full)
    if err:
        return err
    try:
        return _set_cdir(td, vp)
    finally:
        _vfs.vrele(vp)


def fchdir(td: Any, uap: Any) -> int:
    """fchdir(2) (13): make the open directory uap.fd the current directory."""
    fdp = td.td_proc.p_fd
    err, fp = fdp.fget(uap.fd)
    if err:
        return err
    try:
        if fp.f_type != descrip.DTYPE_VNODE or fp.f_vnode is None:
            return errno.ENOTDIR
        return _set_cdir(td, fp.f_vnode)
    finally:
        fdp.fdrop(fp)


def kern___getcwd(td: Any) -> tuple[int, bytes]:
    """kern___getcwd: the current directory's path."""
    return 0, os.fsencode(td.td_proc.p_fd.fd_cdir)


# -- seeking and directories ------------------------------------------------------------------------
def lseek(td: Any, uap: Any) -> int:
    """lseek(2) (478): set the offset of uap.fd; ESPIPE for a pipe, EINVAL for a bad whence or a
    negative result.  (A directory's offset is the index of its next entry.)"""
    fdp = td.td_proc.p_fd
    err, fp = fdp.fget(uap.fd)
    if err:
        return err
    try:
        vp = fp.f_vnode
        if fp.f_type != descrip.DTYPE_VNODE or vp is None:
            return errno.ESPIPE
        whence, offset = uap.whence, uap.offset
        if whence == SEEK_SET:
            new = offset
        elif whence == SEEK_CUR:
            new = fp.f_offset + offset
        elif whence == SEEK_END:
            err, va = vp.v_mount.vfs.getattr(vp)
            if err:
                return err
            new = va.va_size + offset
        else:
            return errno.EINVAL
        if new < 0 or new >= 1 << 63:
            return errno.EINVAL
        fp.f_offset = new
        td.td_retval[0] = new
        return 0
    finally:
        fdp.fdrop(fp)


DirentEncoder = Callable[[str, int, int, int], bytes]


def kern_getdirentries(td: Any, fd: int, uio: Uio, encode: DirentEncoder) -> int:
    """getdirentries' loop with the record format left to the caller: the entries of directory fd
    from its offset on, each encoded by encode(name, vtype, fileid, next_offset), moved to uio while
    whole records fit; the offset advances past them.  td_retval[0] is the bytes moved: 0 at the end,
    EINVAL when not even the next record fits, ENOTDIR for a non-directory."""
    fdp = td.td_proc.p_fd
    err, fp = fdp.fget(fd)
    if err:
        return err
    try:
        vp = fp.f_vnode
        if not fp.f_flag & descrip.FREAD:
            return errno.EBADF
        if fp.f_type != descrip.DTYPE_VNODE or vp is None or vp.v_type != _vfs.VDIR:
            return errno.ENOTDIR
        entries = fp.f_dirents
        if entries is None or fp.f_offset == 0:
            # read the directory at its start (open, rewinddir) and keep the listing for the calls
            # that continue from an offset, as reading a directory's blocks in turn would
            err, entries = vp.v_mount.vfs.readdir(vp)
            if err:
                return err
            fp.f_dirents = entries
        out = bytearray()
        i = fp.f_offset
        while i < len(entries):
            name, vtype, fileid = entries[i]
            rec = encode(name, vtype, fileid, i + 1)
            if len(out) + len(rec) > uio.resid:
                break
            out += rec
            i += 1
        if not out and i < len(entries):
            return errno.EINVAL
        err = uio.uiomove_out(out)
        if err:
            return err
        fp.f_offset = i
        _vfs.vfs_mark_atime(vp)
        td.td_retval[0] = len(out)
        return 0
    finally:
        fdp.fdrop(fp)


def _freebsd_dirent(name: str, vtype: int, fileid: int, next_offset: int) -> bytes:
    """struct dirent of FreeBSD 7: u_int32_t d_fileno, u_int16_t d_reclen, u_int8_t d_type,
    u_int8_t d_namlen, char d_name[namlen + 1] padded to a multiple of 4."""
    raw = os.fsencode(name)
    reclen = (8 + len(raw) + 1 + 3) & ~3
    return (fileid & 0xFFFFFFFF).to_bytes(4, "little") + reclen.to_bytes(2, "little") + bytes(
        (VTTODT.get(vtype, DT_UNKNOWN), len(raw))) + raw + bytes(reclen - 8 - len(raw))


def getdirentries(td: Any, uap: Any) -> int:
    """getdirentries(2) (196): FreeBSD dirents of uap.fd into uap.buf (uap.count bytes); the
    directory offset before the call is stored at uap.basep when it is not 0."""
    fdp = td.td_proc.p_fd
    err, fp = fdp.fget(uap.fd)
    if err:
        return err
    base = fp.f_offset
    fdp.fdrop(fp)
    err = kern_getdirentries(td, uap.fd, uap.buf, _freebsd_dirent)
    if err or not uap.basep:
        return err
    from ..vm.fault import UserFault, copyout
    n = td.td_retval[0]
    long_bytes = td.td_proc.p_kernel.arch.c_long_bits // 8         # long *basep
    try:
        copyout(td.td_proc.p_vmspace.vm_map, uap.basep, base.to_bytes(long_bytes, "little"))
    except UserFault:
        return errno.EFAULT
    td.td_retval[0] = n
    return 0


def ftruncate(td: Any, uap: Any) -> int:
    """ftruncate(2) (480): set the size of the file open for writing at uap.fd (EINVAL for a
    non-vnode or a descriptor not open for writing, as FreeBSD's)."""
    fdp = td.td_proc.p_fd
    err, fp = fdp.fget(uap.fd)
    if err:
        return err
    try:
        if uap.length < 0:
            return errno.EINVAL
        vp = fp.f_vnode
        if fp.f_type != descrip.DTYPE_VNODE or vp is None or not fp.f_flag & descrip.FWRITE:
            return errno.EINVAL
        return int(vp.v_mount.vfs.truncate(vp, uap.length))
    finally:
        fdp.fdrop(fp)


# -- links and attributes --------------------------------------------------------------------------
def kern_symlinkat(td: Any, target: bytes, dirfd: int, path: bytes) -> int:
    """kern_symlinkat: make `path` a symbolic link to `target` (mode 0777 & ~umask)."""
    err, full = lookup_at(td, dirfd, path)
    if err:
        return err
    return int(_vfs_of(td).symlink(td.td_proc.p_ucred, target, full, td.td_proc.p_fd.fd_cmask))


def _fd_path(td: Any, fd: int) -> tuple[int, str]:
    """The model path of the vnode open at fd (for fchmod/fchown, which the VFS does by path)."""
    fdp = td.td_proc.p_fd
    err, fp = fdp.fget(fd)
    if err:
        return err, ""
    try:
        if fp.f_type != descrip.DTYPE_VNODE or fp.f_vnode is None:
            return errno.EINVAL, ""
        if fp.f_vnode.v_doomed:
            return errno.EBADF, ""
        return 0, fp.f_vnode.path
    finally:
        fdp.fdrop(fp)


def kern_fchmodat(td: Any, dirfd: int, path: bytes | None, mode: int, flag: int) -> int:
    """kern_fchmodat: set the permission bits of `path` (None: of the file open at dirfd)."""
    if flag & ~AT_SYMLINK_NOFOLLOW:
        return errno.EINVAL
    err, full = _fd_path(td, dirfd) if path is None else lookup_at(td, dirfd, path)
    if err:
        return err
    return int(_vfs_of(td).chmod(td.td_proc.p_ucred, full, mode & 0o7777,
                                 follow=not flag & AT_SYMLINK_NOFOLLOW))


def kern_fchownat(td: Any, dirfd: int, path: bytes | None, uid: int, gid: int, flag: int) -> int:
    """kern_fchownat: change the owner and/or group of `path` (None: of the file open at dirfd);
    -1 leaves one unchanged."""
    if flag & ~AT_SYMLINK_NOFOLLOW:
        return errno.EINVAL
    err, full = _fd_path(td, dirfd) if path is None else lookup_at(td, dirfd, path)
    if err:
        return err
    return int(_vfs_of(td).chown(td.td_proc.p_ucred, full, uid, gid,
                                 follow=not flag & AT_SYMLINK_NOFOLLOW))
