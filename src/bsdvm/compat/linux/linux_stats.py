"""sys/compat/linux/linux_stats.c: stat, fstat, lstat, newfstatat and statx with Linux x86-64 layouts,
over the native kern_statat/kern_fstat.

struct stat (x86-64, 144 bytes): u64 st_dev, u64 st_ino, u64 st_nlink, u32 st_mode, u32 st_uid,
u32 st_gid, u32 pad, u64 st_rdev, s64 st_size, s64 st_blksize, s64 st_blocks, then atime, mtime,
ctime as (u64 sec, u64 nsec), then 3 reserved longs.
struct statx (256 bytes): u32 stx_mask, u32 stx_blksize, u64 stx_attributes, u32 stx_nlink,
u32 stx_uid, u32 stx_gid, u16 stx_mode, u16 pad, u64 stx_ino, u64 stx_size, u64 stx_blocks,
u64 stx_attributes_mask, then atime, btime, ctime, mtime as (s64 sec, u32 nsec, s32 pad), then
u32 rdev_major, rdev_minor, dev_major, dev_minor, u64 stx_mnt_id, and spare words to 256 bytes.

Times taken from the host are exact to the nanosecond; times the model set are float seconds (exact
to ~0.25 us for present-day dates).  A statx caller gets every basic field (STATX_BASIC_STATS) and no birth time,
as FreeBSD's layer gives.  Invariants: bodies return FreeBSD errnos.  May call: kern.vfs_syscalls.
"""
from __future__ import annotations

import errno
import math
import struct
from typing import Any

from ...kern import descrip, vfs_syscalls
from ...kern.sysent import CADDR_T, FD, INT, PATH, U_INT, Arg, Sysent
from .linux_file import (L_AT_EMPTY_PATH, L_AT_FDCWD, L_AT_NO_AUTOMOUNT, L_AT_SYMLINK_NOFOLLOW,
                         out_uio)

STAT_FMT = "<QQQIIIIQqqqQQQQQQ3q"
STAT_SIZE = struct.calcsize(STAT_FMT)          # 144
STATX_SIZE = 256

STATX_TYPE = 0x1
STATX_MODE = 0x2
STATX_NLINK = 0x4
STATX_UID = 0x8
STATX_GID = 0x10
STATX_ATIME = 0x20
STATX_MTIME = 0x40
STATX_CTIME = 0x80
STATX_INO = 0x100
STATX_SIZE_BIT = 0x200
STATX_BLOCKS = 0x400
STATX_BASIC_STATS = 0x7FF
STATX_BTIME = 0x800
STATX_MNT_ID = 0x1000
STATX__RESERVED = 0x80000000

AT_STATX_SYNC_TYPE = 0x6000


def timespec(t: float) -> tuple[int, int]:
    """A time as (seconds, nanoseconds) with 0 <= nanoseconds < 10**9: exact for a time taken from
    the host (vfs.HostTime), to the float's resolution for one the model set."""
    ns = getattr(t, "ns", None)
    if ns is not None:
        sec, nsec = divmod(ns, 10**9)
        return sec, nsec
    sec = math.floor(t)
    nsec = min(int(round((t - sec) * 1e9)), 999_999_999)
    return sec, nsec


def _dev(dev: int) -> tuple[int, int]:
    """Linux's major/minor split of a dev_t (new_decode_dev)."""
    return (dev >> 8) & 0xFFF, (dev & 0xFF) | ((dev >> 12) & 0xFFF00)


def newstat(st: Any) -> bytes:
    """newstat_copyout's struct stat for x86-64."""
    a, m, c = timespec(st.st_atime), timespec(st.st_mtime), timespec(st.st_ctime)
    return struct.pack(STAT_FMT, st.st_dev & 0xFFFFFFFFFFFFFFFF, st.st_ino & 0xFFFFFFFFFFFFFFFF,
                       st.st_nlink, st.st_mode & 0xFFFFFFFF, st.st_uid & 0xFFFFFFFF,
                       st.st_gid & 0xFFFFFFFF, 0, st.st_rdev & 0xFFFFFFFFFFFFFFFF, st.st_size,
                       st.st_blksize, st.st_blocks, a[0] & 0xFFFFFFFFFFFFFFFF, a[1],
                       m[0] & 0xFFFFFFFFFFFFFFFF, m[1], c[0] & 0xFFFFFFFFFFFFFFFF, c[1], 0, 0, 0)


def statx_bytes(st: Any, mnt_id: int = 0) -> bytes:
    """struct statx with STATX_BASIC_STATS (and the mount id) valid."""
    def ts(t: float) -> bytes:
        sec, nsec = timespec(t)
        return struct.pack("<qIi", sec, nsec, 0)
    rmaj, rmin = _dev(st.st_rdev)
    dmaj, dmin = _dev(st.st_dev)
    head = struct.pack("<IIQIIIHHQQQQ", STATX_BASIC_STATS | STATX_MNT_ID, st.st_blksize, 0,
                       st.st_nlink & 0xFFFFFFFF, st.st_uid & 0xFFFFFFFF, st.st_gid & 0xFFFFFFFF,
                       st.st_mode & 0xFFFF, 0, st.st_ino & 0xFFFFFFFFFFFFFFFF, st.st_size,
                       st.st_blocks, 0)
    body = head + ts(st.st_atime) + bytes(16) + ts(st.st_ctime) + ts(st.st_mtime)
    body += struct.pack("<IIIIQ", rmaj, rmin, dmaj, dmin, mnt_id or st.st_dev)
    return body + bytes(STATX_SIZE - len(body))


def _statat(td: Any, dfd: int, path: bytes, flag: int) -> tuple[int, Any]:
    """The stat of path relative to dfd with Linux AT_* flags (AT_EMPTY_PATH: dfd itself)."""
    if flag & ~(L_AT_SYMLINK_NOFOLLOW | L_AT_EMPTY_PATH | L_AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE):
        return errno.EINVAL, None
    if not path and flag & L_AT_EMPTY_PATH:
        if dfd == L_AT_FDCWD:
            return vfs_syscalls.kern_statat(td, 0, vfs_syscalls.AT_FDCWD, b".")
        return descrip.kern_fstat(td, dfd)
    bsd = vfs_syscalls.AT_SYMLINK_NOFOLLOW if flag & L_AT_SYMLINK_NOFOLLOW else 0
    return vfs_syscalls.kern_statat(td, bsd, dfd, path)


def _copyout_stat(td: Any, err: int, st: Any, ptr: Any) -> int:
    if err:
        return err
    err = out_uio(td, ptr, STAT_SIZE).uiomove_out(newstat(st))
    if not err:
        td.td_retval[0] = 0
    return err


def linux_newfstatat(td: Any, uap: Any) -> int:
    """linux_newfstatat: struct stat of path relative to dfd (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH)."""
    err, st = _statat(td, uap.dfd, uap.path, uap.flag)
    return _copyout_stat(td, err, st, uap.statbuf)


def linux_newstat(td: Any, uap: Any) -> int:
    """linux_newstat: struct stat of path, symlinks followed."""
    err, st = vfs_syscalls.kern_statat(td, 0, vfs_syscalls.AT_FDCWD, uap.path)
    return _copyout_stat(td, err, st, uap.statbuf)


def linux_newlstat(td: Any, uap: Any) -> int:
    """linux_newlstat: struct stat of path, the last symlink not followed."""
    err, st = vfs_syscalls.kern_statat(td, vfs_syscalls.AT_SYMLINK_NOFOLLOW,
                                       vfs_syscalls.AT_FDCWD, uap.path)
    return _copyout_stat(td, err, st, uap.statbuf)


def linux_newfstat(td: Any, uap: Any) -> int:
    """linux_newfstat: struct stat of an open file."""
    err, st = descrip.kern_fstat(td, uap.fd)
    return _copyout_stat(td, err, st, uap.statbuf)


def linux_statx(td: Any, uap: Any) -> int:
    """linux_statx: struct statx of path relative to dfd; STATX__RESERVED in the mask is EINVAL."""
    if uap.mask & STATX__RESERVED:
        return errno.EINVAL
    err, st = _statat(td, uap.dfd, uap.path, uap.flags)
    if err:
        return err
    err = out_uio(td, uap.statxbuf, STATX_SIZE).uiomove_out(statx_bytes(st))
    if not err:
        td.td_retval[0] = 0
    return err


_STAT_ERR = (errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.ELOOP, errno.ENAMETOOLONG,
             errno.EFAULT, errno.EBADF, errno.EINVAL)

SYSENTS: list[Sysent] = [
    Sysent(4, "stat", (Arg("path", PATH), Arg("statbuf", CADDR_T)), linux_newstat, _STAT_ERR,
           doc="struct stat of a path (symlinks followed)."),
    Sysent(5, "fstat", (Arg("fd", FD), Arg("statbuf", CADDR_T)), linux_newfstat,
           (errno.EBADF, errno.EFAULT), doc="struct stat of an open file."),
    Sysent(6, "lstat", (Arg("path", PATH), Arg("statbuf", CADDR_T)), linux_newlstat, _STAT_ERR,
           doc="struct stat of a path (the last symlink not followed)."),
    Sysent(262, "newfstatat", (Arg("dfd", FD), Arg("path", PATH), Arg("statbuf", CADDR_T),
                               Arg("flag", INT)), linux_newfstatat, _STAT_ERR,
           doc="struct stat relative to a directory descriptor."),
    Sysent(332, "statx", (Arg("dfd", FD), Arg("path", PATH), Arg("flags", INT),
                          Arg("mask", U_INT), Arg("statxbuf", CADDR_T)), linux_statx, _STAT_ERR,
           doc="struct statx relative to a directory descriptor."),
]
