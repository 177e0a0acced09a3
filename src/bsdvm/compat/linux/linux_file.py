"""sys/compat/linux/linux_file.c (and the descriptor parts of linux_misc.c, linux_ioctl.c): the Linux
x86-64 file and descriptor calls as kernel-side bodies that translate and call the native FreeBSD ones
(kern/vfs_syscalls.py, kern/sys_generic.py, kern/descrip.py, kern/sys_pipe.py).

Translation, as FreeBSD's layer does it: open flags through linux_common_open's table (O_ACCMODE 3 is
O_RDONLY there, O_TMPFILE EOPNOTSUPP, O_LARGEFILE implied); *at() flags from Linux values to FreeBSD's;
getdents64/getdents records in Linux's linux_dirent64/linux_dirent layouts; getcwd returns the length
with its NUL (ERANGE when it does not fit); fcntl commands and F_GETFL/F_SETFL flags translated; ioctl
knows the generic descriptor ioctls and answers terminal ioctls on non-terminals ENOTTY; pipe/pipe2
store the two descriptors as int[2].

Pointer arguments that receive a structure (pipefd) may be given by a Python caller as a system-space
`Uio` instead of a user address.  Invariants: bodies return FreeBSD errnos (the boundary translates).
May call: kern.* (the native bodies), kern.sysent (Uio).
"""
from __future__ import annotations

import errno
import struct
from types import SimpleNamespace
from typing import Any

from ...kern import descrip, sys_generic, sys_pipe, vfs_syscalls
from ...kern.sysent import (BUF_IN, BUF_OUT, CADDR_T, FD, GID_T, INT, MODE_T, OFF_T, PATH,
                            SIZE_T, U_INT, U_LONG, UID_T, Arg, Sysent, Uio, UioRw)
from ...kern.vfs import VTYPE_NAMES

# Linux open(2) flags (x86-64), AT_* flags, fcntl commands, ioctl commands
L_O_ACCMODE = 0o3
L_O_WRONLY = 0o1
L_O_RDWR = 0o2
L_O_CREAT = 0o100
L_O_EXCL = 0o200
L_O_NOCTTY = 0o400
L_O_TRUNC = 0o1000
L_O_APPEND = 0o2000
L_O_NONBLOCK = 0o4000
L_O_DSYNC = 0o10000
L_FASYNC = 0o20000
L_O_DIRECT = 0o40000
L_O_LARGEFILE = 0o100000
L_O_DIRECTORY = 0o200000
L_O_NOFOLLOW = 0o400000
L_O_NOATIME = 0o1000000
L_O_CLOEXEC = 0o2000000
L_O_SYNC = 0o4010000
L_O_PATH = 0o10000000
L_O_TMPFILE = 0o20000000

L_AT_FDCWD = -100
L_AT_SYMLINK_NOFOLLOW = 0x100
L_AT_REMOVEDIR = 0x200
L_AT_EACCESS = 0x200
L_AT_SYMLINK_FOLLOW = 0x400
L_AT_NO_AUTOMOUNT = 0x800
L_AT_EMPTY_PATH = 0x1000

L_F_DUPFD = 0
L_F_GETFD = 1
L_F_SETFD = 2
L_F_GETFL = 3
L_F_SETFL = 4
L_F_DUPFD_CLOEXEC = 1030

L_TCGETS = 0x5401
L_TCSETS = 0x5402
L_TCSETSW = 0x5403
L_TCSETSF = 0x5404
L_TIOCGPGRP = 0x540F
L_TIOCSPGRP = 0x5410
L_TIOCGWINSZ = 0x5413
L_TIOCSWINSZ = 0x5414
L_FIONREAD = 0x541B
L_FIONBIO = 0x5421
L_FIONCLEX = 0x5450
L_FIOCLEX = 0x5451

# linux_common_open's flag table: Linux bit -> FreeBSD bit
_OPEN_FLAGS = ((L_O_NONBLOCK, vfs_syscalls.O_NONBLOCK), (L_O_APPEND, vfs_syscalls.O_APPEND),
               (L_O_SYNC, vfs_syscalls.O_FSYNC), (L_FASYNC, vfs_syscalls.O_ASYNC),
               (L_O_CREAT, vfs_syscalls.O_CREAT), (L_O_TRUNC, vfs_syscalls.O_TRUNC),
               (L_O_EXCL, vfs_syscalls.O_EXCL), (L_O_NOCTTY, vfs_syscalls.O_NOCTTY),
               (L_O_DIRECT, vfs_syscalls.O_DIRECT), (L_O_NOFOLLOW, vfs_syscalls.O_NOFOLLOW),
               (L_O_DIRECTORY, vfs_syscalls.O_DIRECTORY), (L_O_CLOEXEC, vfs_syscalls.O_CLOEXEC))

# F_GETFL/F_SETFL status flags: FreeBSD O_* bit <-> Linux bit
_STATUS_FLAGS = ((vfs_syscalls.O_NONBLOCK, L_O_NONBLOCK), (vfs_syscalls.O_APPEND, L_O_APPEND),
                 (vfs_syscalls.O_ASYNC, L_FASYNC), (vfs_syscalls.O_FSYNC, L_O_SYNC),
                 (vfs_syscalls.O_DIRECT, L_O_DIRECT))

# linux_dirent d_type values are DT_* as on FreeBSD
_DT = {v: vfs_syscalls.VTTODT.get(v, vfs_syscalls.DT_UNKNOWN) for v in range(len(VTYPE_NAMES))}


def linux_to_bsd_oflags(l_flags: int) -> int:
    """linux_common_open's translation of Linux open flags to FreeBSD's."""
    acc = l_flags & L_O_ACCMODE
    bsd = (vfs_syscalls.O_WRONLY if acc == L_O_WRONLY else
           vfs_syscalls.O_RDWR if acc == L_O_RDWR else vfs_syscalls.O_RDONLY)
    for lbit, bbit in _OPEN_FLAGS:
        if (l_flags & lbit) == lbit:
            bsd |= bbit
    return bsd


def out_uio(td: Any, ptr: Any, size: int) -> Uio:
    """A UIO_READ uio for a structure the kernel writes at `ptr`: a user address, or a Python
    caller's own system-space Uio."""
    if isinstance(ptr, Uio):
        return ptr
    return Uio.user(td.td_proc.p_vmspace.vm_map, ptr, size, UioRw.UIO_READ)


def in_bytes(td: Any, ptr: Any, size: int) -> tuple[int, bytes]:
    """Copy in `size` bytes of a structure at `ptr` (a user address or a system-space Uio)."""
    uio = ptr if isinstance(ptr, Uio) else Uio.user(td.td_proc.p_vmspace.vm_map, ptr, size,
                                                    UioRw.UIO_WRITE)
    err, data = uio.uiomove_in(size)
    if not err and len(data) < size:
        return errno.EFAULT, b""
    return err, data


# -- open, close, read, write ----------------------------------------------------------------------
def linux_openat(td: Any, uap: Any) -> int:
    """linux_openat: linux_common_open's flags; O_TMPFILE is EOPNOTSUPP."""
    if uap.flags & L_O_TMPFILE:
        return errno.EOPNOTSUPP
    return vfs_syscalls.kern_openat(td, uap.dfd, uap.path, linux_to_bsd_oflags(uap.flags),
                                    uap.mode)


def linux_open(td: Any, uap: Any) -> int:
    """linux_open: openat from the current directory."""
    return linux_openat(td, SimpleNamespace(dfd=L_AT_FDCWD, path=uap.path, flags=uap.flags,
                                            mode=uap.mode))


def linux_creat(td: Any, uap: Any) -> int:
    """linux_creat: open(path, O_WRONLY|O_CREAT|O_TRUNC, mode)."""
    return vfs_syscalls.kern_openat(td, vfs_syscalls.AT_FDCWD, uap.path, vfs_syscalls.O_WRONLY
                                    | vfs_syscalls.O_CREAT | vfs_syscalls.O_TRUNC, uap.mode)


def linux_close(td: Any, uap: Any) -> int:
    """close(2): the native call."""
    return descrip.close(td, uap)


def linux_read(td: Any, uap: Any) -> int:
    """read(2): the native call."""
    return sys_generic.read(td, SimpleNamespace(fd=uap.fd, buf=uap.buf, nbyte=uap.count))


def linux_write(td: Any, uap: Any) -> int:
    """write(2): the native call."""
    return sys_generic.write(td, SimpleNamespace(fd=uap.fd, buf=uap.buf, nbyte=uap.count))


def linux_pread(td: Any, uap: Any) -> int:
    """linux_pread: the native pread."""
    return sys_generic.pread(td, SimpleNamespace(fd=uap.fd, buf=uap.buf, nbyte=uap.count,
                                                 offset=uap.pos))


def linux_pwrite(td: Any, uap: Any) -> int:
    """linux_pwrite: the native pwrite."""
    return sys_generic.pwrite(td, SimpleNamespace(fd=uap.fd, buf=uap.buf, nbyte=uap.count,
                                                  offset=uap.pos))


def linux_readv(td: Any, uap: Any) -> int:
    """readv(2): the native call (struct iovec has the same layout)."""
    return sys_generic.readv(td, uap)


def linux_writev(td: Any, uap: Any) -> int:
    """writev(2): the native call."""
    return sys_generic.writev(td, uap)


def linux_lseek(td: Any, uap: Any) -> int:
    """linux_lseek: the native lseek (SEEK_DATA/SEEK_HOLE are EINVAL in FreeBSD 7)."""
    return vfs_syscalls.lseek(td, SimpleNamespace(fd=uap.fd, offset=uap.offset, whence=uap.whence))


# -- directories and names -------------------------------------------------------------------------
def _dirent64(name: str, vtype: int, fileid: int, next_offset: int) -> bytes:
    """struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, d_name + NUL, padded
    to 8 bytes."""
    raw = name.encode("utf-8", "surrogateescape")
    reclen = (19 + len(raw) + 1 + 7) & ~7
    return struct.pack("<QqHB", fileid & 0xFFFFFFFFFFFFFFFF, next_offset, reclen,
                       _DT.get(vtype, 0)) + raw + bytes(reclen - 19 - len(raw))


def _dirent(name: str, vtype: int, fileid: int, next_offset: int) -> bytes:
    """struct linux_dirent: unsigned long d_ino, d_off, u16 d_reclen, d_name + NUL, then d_type in
    the record's last byte, padded to 8 bytes."""
    raw = name.encode("utf-8", "surrogateescape")
    reclen = (18 + len(raw) + 2 + 7) & ~7
    body = struct.pack("<QqH", fileid & 0xFFFFFFFFFFFFFFFF, next_offset, reclen) + raw
    return body + bytes(reclen - len(body) - 1) + bytes((_DT.get(vtype, 0),))


def linux_getdents64(td: Any, uap: Any) -> int:
    """linux_getdents64: directory entries as linux_dirent64 records."""
    return vfs_syscalls.kern_getdirentries(td, uap.fd, uap.dirent, _dirent64)


def linux_getdents(td: Any, uap: Any) -> int:
    """linux_getdents: directory entries as (old) linux_dirent records."""
    return vfs_syscalls.kern_getdirentries(td, uap.fd, uap.dirent, _dirent)


def linux_readlinkat(td: Any, uap: Any) -> int:
    """linux_readlinkat: a bufsiz of 0 or less is EINVAL, as on Linux."""
    if uap.bufsiz <= 0:
        return errno.EINVAL
    return vfs_syscalls.kern_readlinkat(td, uap.dfd, uap.path, uap.buf)


def linux_readlink(td: Any, uap: Any) -> int:
    """linux_readlink: readlinkat from the current directory."""
    return linux_readlinkat(td, SimpleNamespace(dfd=L_AT_FDCWD, path=uap.path, buf=uap.buf,
                                                bufsiz=uap.bufsiz))


def _faccessat(td: Any, dfd: int, path: bytes, mode: int, flags: int) -> int:
    if flags & ~(L_AT_EACCESS | L_AT_SYMLINK_NOFOLLOW | L_AT_EMPTY_PATH):
        return errno.EINVAL
    bsd = ((vfs_syscalls.AT_EACCESS if flags & L_AT_EACCESS else 0)
           | (vfs_syscalls.AT_SYMLINK_NOFOLLOW if flags & L_AT_SYMLINK_NOFOLLOW else 0))
    return vfs_syscalls.kern_accessat(td, dfd, path, bsd, mode)


def linux_faccessat(td: Any, uap: Any) -> int:
    """linux_faccessat: access from a directory descriptor (no flags argument)."""
    return _faccessat(td, uap.dfd, uap.path, uap.mode, 0)


def linux_faccessat2(td: Any, uap: Any) -> int:
    """linux_faccessat2: with AT_EACCESS / AT_SYMLINK_NOFOLLOW."""
    return _faccessat(td, uap.dfd, uap.path, uap.mode, uap.flags)


def linux_access(td: Any, uap: Any) -> int:
    """linux_access: faccessat from the current directory."""
    return _faccessat(td, L_AT_FDCWD, uap.path, uap.mode, 0)


def linux_unlinkat(td: Any, uap: Any) -> int:
    """linux_unlinkat: AT_REMOVEDIR makes it rmdir; other flags EINVAL."""
    if uap.flag & ~L_AT_REMOVEDIR:
        return errno.EINVAL
    return vfs_syscalls.kern_unlinkat(td, uap.dfd, uap.path, vfs_syscalls.AT_REMOVEDIR
                                      if uap.flag & L_AT_REMOVEDIR else 0)


def linux_unlink(td: Any, uap: Any) -> int:
    """linux_unlink: unlink from the current directory (a directory is EISDIR on Linux; FreeBSD's
    layer says EPERM, as here)."""
    return vfs_syscalls.kern_unlinkat(td, vfs_syscalls.AT_FDCWD, uap.path, 0)


def linux_rmdir(td: Any, uap: Any) -> int:
    """linux_rmdir: remove an empty directory."""
    return vfs_syscalls.kern_unlinkat(td, vfs_syscalls.AT_FDCWD, uap.path,
                                      vfs_syscalls.AT_REMOVEDIR)


def linux_mkdirat(td: Any, uap: Any) -> int:
    """linux_mkdirat: make a directory (mode & ~umask)."""
    return vfs_syscalls.kern_mkdirat(td, uap.dfd, uap.path, uap.mode)


def linux_mkdir(td: Any, uap: Any) -> int:
    """linux_mkdir: mkdirat from the current directory."""
    return vfs_syscalls.kern_mkdirat(td, vfs_syscalls.AT_FDCWD, uap.path, uap.mode)


def linux_umask(td: Any, uap: Any) -> int:
    """umask(2): set the mask, return the old one."""
    fdp = td.td_proc.p_fd
    td.td_retval[0] = fdp.fd_cmask
    fdp.fd_cmask = uap.mask & 0o777
    return 0


def linux_getcwd(td: Any, uap: Any) -> int:
    """linux_getcwd: the path with its NUL; returns its length including the NUL (ERANGE when the
    buffer is too small)."""
    err, path = vfs_syscalls.kern___getcwd(td)
    if err:
        return err
    data = path + b"\0"
    if len(data) > uap.buf.resid:
        return errno.ERANGE
    err = uap.buf.uiomove_out(data)
    if err:
        return err
    td.td_retval[0] = len(data)
    return 0


def linux_chdir(td: Any, uap: Any) -> int:
    """chdir(2): the native kern_chdir."""
    return vfs_syscalls.kern_chdir(td, uap.path)


def linux_fchdir(td: Any, uap: Any) -> int:
    """fchdir(2): the native call."""
    return vfs_syscalls.fchdir(td, uap)


def linux_ftruncate(td: Any, uap: Any) -> int:
    """ftruncate(2): the native call."""
    return vfs_syscalls.ftruncate(td, SimpleNamespace(fd=uap.fd, length=uap.length))


def linux_symlinkat(td: Any, uap: Any) -> int:
    """linux_symlinkat: make path (relative to dfd) a symbolic link to target."""
    return vfs_syscalls.kern_symlinkat(td, uap.target, uap.dfd, uap.path)


def linux_symlink(td: Any, uap: Any) -> int:
    """linux_symlink: symlinkat from the current directory."""
    return vfs_syscalls.kern_symlinkat(td, uap.target, vfs_syscalls.AT_FDCWD, uap.path)


def linux_fchmodat(td: Any, uap: Any) -> int:
    """linux_fchmodat: chmod relative to dfd (the syscall has no flags: symlinks are followed)."""
    return vfs_syscalls.kern_fchmodat(td, uap.dfd, uap.path, uap.mode, 0)


def linux_chmod(td: Any, uap: Any) -> int:
    """linux_chmod: fchmodat from the current directory."""
    return vfs_syscalls.kern_fchmodat(td, vfs_syscalls.AT_FDCWD, uap.path, uap.mode, 0)


def linux_fchmod(td: Any, uap: Any) -> int:
    """linux_fchmod: chmod of an open file."""
    return vfs_syscalls.kern_fchmodat(td, uap.fd, None, uap.mode, 0)


def _id(v: int) -> int:
    """A uid_t/gid_t argument: (uid_t)-1 means "unchanged", as -1."""
    return -1 if v == 0xFFFFFFFF else v


def linux_fchownat(td: Any, uap: Any) -> int:
    """linux_fchownat: chown relative to dfd; AT_SYMLINK_NOFOLLOW changes the link itself,
    AT_EMPTY_PATH with an empty path the file open at dfd; other flags EINVAL."""
    if uap.flag & ~(L_AT_SYMLINK_NOFOLLOW | L_AT_EMPTY_PATH):
        return errno.EINVAL
    path = None if not uap.path and uap.flag & L_AT_EMPTY_PATH else uap.path
    bsd = vfs_syscalls.AT_SYMLINK_NOFOLLOW if uap.flag & L_AT_SYMLINK_NOFOLLOW else 0
    return vfs_syscalls.kern_fchownat(td, uap.dfd, path, _id(uap.user), _id(uap.group), bsd)


def linux_chown(td: Any, uap: Any) -> int:
    """linux_chown: symlinks followed."""
    return vfs_syscalls.kern_fchownat(td, vfs_syscalls.AT_FDCWD, uap.path, _id(uap.user),
                                      _id(uap.group), 0)


def linux_lchown(td: Any, uap: Any) -> int:
    """linux_lchown: the last symlink itself."""
    return vfs_syscalls.kern_fchownat(td, vfs_syscalls.AT_FDCWD, uap.path, _id(uap.user),
                                      _id(uap.group), vfs_syscalls.AT_SYMLINK_NOFOLLOW)


def linux_fchown(td: Any, uap: Any) -> int:
    """linux_fchown: chown of an open file."""
    return vfs_syscalls.kern_fchownat(td, uap.fd, None, _id(uap.user), _id(uap.group), 0)


# -- descriptors -----------------------------------------------------------------------------------
def linux_dup(td: Any, uap: Any) -> int:
    """dup(2): the native call."""
    return descrip.dup(td, uap)


def linux_dup2(td: Any, uap: Any) -> int:
    """linux_dup2: do_dup into newfd (dup2(fd, fd) checks fd and returns it)."""
    err, fd = td.td_proc.p_fd.dupfd(uap.oldfd, uap.newfd)
    if not err:
        td.td_retval[0] = fd
    return err


def linux_dup3(td: Any, uap: Any) -> int:
    """linux_dup3: flags other than O_CLOEXEC, or oldfd == newfd, are EINVAL."""
    if uap.flags & ~L_O_CLOEXEC or uap.oldfd == uap.newfd:
        return errno.EINVAL
    err, fd = td.td_proc.p_fd.dupfd(uap.oldfd, uap.newfd, 0,
                                    descrip.UF_EXCLOSE if uap.flags & L_O_CLOEXEC else 0)
    if not err:
        td.td_retval[0] = fd
    return err


def linux_fcntl(td: Any, uap: Any) -> int:
    """linux_fcntl: F_DUPFD(_CLOEXEC), F_GETFD/F_SETFD, F_GETFL/F_SETFL with the status flags
    translated both ways; other commands EINVAL (no record locks or SIGIO owners in the model)."""
    cmd, arg = uap.cmd, uap.arg
    if cmd == L_F_DUPFD:
        return descrip.kern_fcntl(td, uap.fd, descrip.F_DUPFD, arg)
    if cmd == L_F_DUPFD_CLOEXEC:
        return descrip.kern_fcntl(td, uap.fd, descrip.F_DUPFD_CLOEXEC, arg)
    if cmd == L_F_GETFD:
        return descrip.kern_fcntl(td, uap.fd, descrip.F_GETFD, 0)
    if cmd == L_F_SETFD:
        return descrip.kern_fcntl(td, uap.fd, descrip.F_SETFD, arg)
    if cmd == L_F_GETFL:
        err = descrip.kern_fcntl(td, uap.fd, descrip.F_GETFL, 0)
        if err:
            return err
        bsd = td.td_retval[0]
        acc = bsd & vfs_syscalls.O_ACCMODE
        linux = L_O_WRONLY if acc == vfs_syscalls.O_WRONLY else L_O_RDWR if acc == \
            vfs_syscalls.O_RDWR else 0
        for bbit, lbit in _STATUS_FLAGS:
            if bsd & bbit:
                linux |= lbit
        td.td_retval[0] = linux
        return 0
    if cmd == L_F_SETFL:
        bsd = 0
        for bbit, lbit in _STATUS_FLAGS:
            if (arg & lbit) == lbit:
                bsd |= bbit
        return descrip.kern_fcntl(td, uap.fd, descrip.F_SETFL, bsd)
    return errno.EINVAL


def linux_ioctl(td: Any, uap: Any) -> int:
    """linux_ioctl: FIOCLEX/FIONCLEX/FIONBIO/FIONREAD through the native generic ioctls; the
    terminal ioctls (TCGETS, TCSETS*, TIOC[GS]WINSZ, TIOC[GS]PGRP) go to the file, which is ENOTTY
    for anything that is not a terminal (regular files, directories, pipes, /dev/null); any other
    command is EINVAL, as FreeBSD's layer answers an ioctl it does not implement."""
    cmd = uap.cmd
    vmmap = td.td_proc.p_vmspace.vm_map
    if cmd == L_FIOCLEX:
        return sys_generic.kern_ioctl(td, uap.fd, sys_generic.FIOCLEX, None)
    if cmd == L_FIONCLEX:
        return sys_generic.kern_ioctl(td, uap.fd, sys_generic.FIONCLEX, None)
    if cmd == L_FIONBIO:
        return sys_generic.kern_ioctl(td, uap.fd, sys_generic.FIONBIO,
                                      Uio.user(vmmap, uap.arg, 4, UioRw.UIO_WRITE))
    if cmd == L_FIONREAD:
        return sys_generic.kern_ioctl(td, uap.fd, sys_generic.FIONREAD,
                                      Uio.user(vmmap, uap.arg, 4, UioRw.UIO_READ))
    if cmd == L_TIOCGWINSZ:         # struct winsize has the same 8-byte layout in both
        return sys_generic.kern_ioctl(td, uap.fd, sys_generic.TIOCGWINSZ,
                                      Uio.user(vmmap, uap.arg, 8, UioRw.UIO_READ))
    tty = _TTY_IOCTLS.get(cmd)
    if tty is not None:
        # The model has no terminals: only a file with its own fo_ioctl (a host terminal plugged
        # in by the runner) answers these, given the Linux command and its Linux structure.
        size, rw = tty
        return sys_generic.kern_ioctl(td, uap.fd, cmd, Uio.user(vmmap, uap.arg, size, rw))
    return errno.EINVAL


# Linux terminal ioctls: the size of their argument (struct termios is 36 bytes in the kernel's
# layout) and its direction
_TTY_IOCTLS = {L_TCGETS: (36, UioRw.UIO_READ), L_TCSETS: (36, UioRw.UIO_WRITE),
               L_TCSETSW: (36, UioRw.UIO_WRITE), L_TCSETSF: (36, UioRw.UIO_WRITE),
               L_TIOCSWINSZ: (8, UioRw.UIO_WRITE), L_TIOCGPGRP: (4, UioRw.UIO_READ),
               L_TIOCSPGRP: (4, UioRw.UIO_WRITE)}


def _store_pipe(td: Any, ptr: Any, rfd: int, wfd: int) -> int:
    err = out_uio(td, ptr, 8).uiomove_out(struct.pack("<ii", rfd, wfd))
    if err:
        fdp = td.td_proc.p_fd
        fdp.close(rfd)
        fdp.close(wfd)
        return err
    td.td_retval[0] = 0
    return 0


def linux_pipe2(td: Any, uap: Any) -> int:
    """linux_pipe2: O_CLOEXEC and O_NONBLOCK honoured, other flags EINVAL; the descriptors are
    stored as int[2] at pipefd (both closed again when that faults)."""
    if uap.flags & ~(L_O_CLOEXEC | L_O_NONBLOCK):
        return errno.EINVAL
    err, rfd, wfd = sys_pipe.kern_pipe(td, bool(uap.flags & L_O_CLOEXEC),
                                       bool(uap.flags & L_O_NONBLOCK))
    if err:
        return err
    return _store_pipe(td, uap.pipefd, rfd, wfd)


def linux_pipe(td: Any, uap: Any) -> int:
    """linux_pipe: pipe2 without flags."""
    return linux_pipe2(td, SimpleNamespace(pipefd=uap.pipefd, flags=0))


_FD = Arg("fd", FD)
_DFD = Arg("dfd", FD)
_RW_ERR = (errno.EBADF, errno.EFAULT, errno.EINVAL, errno.EISDIR, errno.EAGAIN, errno.EIO)
_PATH_ERR = (errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.ELOOP, errno.ENAMETOOLONG,
             errno.EFAULT)

SYSENTS: list[Sysent] = [
    Sysent(0, "read", (_FD, Arg("buf", BUF_OUT, "count"), Arg("count", SIZE_T)), linux_read,
           _RW_ERR, doc="Read from a descriptor."),
    Sysent(1, "write", (_FD, Arg("buf", BUF_IN, "count"), Arg("count", SIZE_T)), linux_write,
           _RW_ERR + (errno.EPIPE, errno.EROFS, errno.ENOSPC), doc="Write to a descriptor."),
    Sysent(2, "open", (Arg("path", PATH), Arg("flags", INT), Arg("mode", MODE_T)), linux_open,
           _PATH_ERR + (errno.EEXIST, errno.EISDIR, errno.EROFS, errno.EMFILE, errno.EOPNOTSUPP),
           doc="Open a file (linux_common_open's flags)."),
    Sysent(3, "close", (_FD,), linux_close, (errno.EBADF,), doc="Close a descriptor."),
    Sysent(8, "lseek", (_FD, Arg("offset", OFF_T), Arg("whence", INT)), linux_lseek,
           (errno.EBADF, errno.EINVAL, errno.ESPIPE), doc="Move a file offset."),
    Sysent(16, "ioctl", (_FD, Arg("cmd", U_INT), Arg("arg", U_LONG)), linux_ioctl,
           (errno.EBADF, errno.ENOTTY, errno.EINVAL, errno.EFAULT),
           doc="Descriptor control (FIO*; terminal ioctls ENOTTY on non-terminals)."),
    Sysent(17, "pread64", (_FD, Arg("buf", BUF_OUT, "count"), Arg("count", SIZE_T),
                           Arg("pos", OFF_T)), linux_pread, _RW_ERR + (errno.ESPIPE,),
           doc="Read at an offset."),
    Sysent(18, "pwrite64", (_FD, Arg("buf", BUF_IN, "count"), Arg("count", SIZE_T),
                            Arg("pos", OFF_T)), linux_pwrite, _RW_ERR + (errno.ESPIPE,),
           doc="Write at an offset."),
    Sysent(19, "readv", (_FD, Arg("iovp", CADDR_T), Arg("iovcnt", INT)), linux_readv, _RW_ERR,
           doc="Read into several buffers."),
    Sysent(20, "writev", (_FD, Arg("iovp", CADDR_T), Arg("iovcnt", INT)), linux_writev,
           _RW_ERR + (errno.EPIPE,), doc="Write several buffers."),
    Sysent(21, "access", (Arg("path", PATH), Arg("mode", INT)), linux_access,
           _PATH_ERR + (errno.EINVAL, errno.EROFS), doc="Check access with the real ids."),
    Sysent(22, "pipe", (Arg("pipefd", CADDR_T),), linux_pipe, (errno.EMFILE, errno.EFAULT),
           doc="Make a pipe; int[2] stored at pipefd."),
    Sysent(32, "dup", (_FD,), linux_dup, (errno.EBADF, errno.EMFILE), doc="Duplicate a descriptor."),
    Sysent(33, "dup2", (Arg("oldfd", FD), Arg("newfd", FD)), linux_dup2, (errno.EBADF,),
           doc="Duplicate onto a given descriptor."),
    Sysent(72, "fcntl", (_FD, Arg("cmd", INT), Arg("arg", U_LONG)), linux_fcntl,
           (errno.EBADF, errno.EINVAL, errno.EMFILE), doc="Descriptor and status flags, dup."),
    Sysent(77, "ftruncate", (_FD, Arg("length", OFF_T)), linux_ftruncate,
           (errno.EBADF, errno.EINVAL, errno.EROFS, errno.EPERM), doc="Set a file's size."),
    Sysent(78, "getdents", (_FD, Arg("dirent", BUF_OUT, "count"), Arg("count", U_INT)),
           linux_getdents, (errno.EBADF, errno.ENOTDIR, errno.EINVAL, errno.EFAULT),
           doc="Directory entries (struct linux_dirent)."),
    Sysent(79, "getcwd", (Arg("buf", BUF_OUT, "size"), Arg("size", SIZE_T)), linux_getcwd,
           (errno.ERANGE, errno.EFAULT), doc="The current directory; returns its length + 1."),
    Sysent(80, "chdir", (Arg("path", PATH),), linux_chdir, _PATH_ERR,
           doc="Change the current directory."),
    Sysent(81, "fchdir", (_FD,), linux_fchdir, (errno.EBADF, errno.ENOTDIR, errno.EACCES),
           doc="Change to an open directory."),
    Sysent(83, "mkdir", (Arg("path", PATH), Arg("mode", MODE_T)), linux_mkdir,
           _PATH_ERR + (errno.EEXIST, errno.EROFS), doc="Make a directory."),
    Sysent(84, "rmdir", (Arg("path", PATH),), linux_rmdir,
           _PATH_ERR + (errno.ENOTEMPTY, errno.EBUSY, errno.EROFS, errno.EINVAL),
           doc="Remove an empty directory."),
    Sysent(85, "creat", (Arg("path", PATH), Arg("mode", MODE_T)), linux_creat,
           _PATH_ERR + (errno.EROFS, errno.EISDIR), doc="Create or truncate a file for writing."),
    Sysent(87, "unlink", (Arg("path", PATH),), linux_unlink,
           _PATH_ERR + (errno.EPERM, errno.EROFS, errno.EBUSY), doc="Remove a name."),
    Sysent(89, "readlink", (Arg("path", PATH), Arg("buf", BUF_OUT, "bufsiz"),
                            Arg("bufsiz", INT)), linux_readlink, _PATH_ERR + (errno.EINVAL,),
           doc="A symbolic link's target (not NUL-terminated)."),
    Sysent(88, "symlink", (Arg("target", PATH), Arg("path", PATH)), linux_symlink,
           _PATH_ERR + (errno.EEXIST, errno.EROFS), doc="Make a symbolic link."),
    Sysent(90, "chmod", (Arg("path", PATH), Arg("mode", MODE_T)), linux_chmod,
           _PATH_ERR + (errno.EPERM, errno.EROFS), doc="Change a file's mode."),
    Sysent(91, "fchmod", (_FD, Arg("mode", MODE_T)), linux_fchmod,
           (errno.EBADF, errno.EPERM, errno.EROFS, errno.EINVAL), doc="chmod of an open file."),
    Sysent(92, "chown", (Arg("path", PATH), Arg("user", UID_T), Arg("group", GID_T)),
           linux_chown, _PATH_ERR + (errno.EPERM, errno.EROFS), doc="Change owner and group."),
    Sysent(93, "fchown", (_FD, Arg("user", UID_T), Arg("group", GID_T)), linux_fchown,
           (errno.EBADF, errno.EPERM, errno.EROFS, errno.EINVAL), doc="chown of an open file."),
    Sysent(94, "lchown", (Arg("path", PATH), Arg("user", UID_T), Arg("group", GID_T)),
           linux_lchown, _PATH_ERR + (errno.EPERM, errno.EROFS), doc="chown of a link itself."),
    Sysent(95, "umask", (Arg("mask", INT),), linux_umask, (), doc="Set the file mode mask."),
    Sysent(217, "getdents64", (_FD, Arg("dirent", BUF_OUT, "count"), Arg("count", U_INT)),
           linux_getdents64, (errno.EBADF, errno.ENOTDIR, errno.EINVAL, errno.EFAULT),
           doc="Directory entries (struct linux_dirent64)."),
    Sysent(257, "openat", (_DFD, Arg("path", PATH), Arg("flags", INT), Arg("mode", MODE_T)),
           linux_openat, _PATH_ERR + (errno.EEXIST, errno.EISDIR, errno.EROFS, errno.EMFILE,
                                      errno.EBADF, errno.EOPNOTSUPP),
           doc="Open a file relative to a directory descriptor."),
    Sysent(258, "mkdirat", (_DFD, Arg("path", PATH), Arg("mode", MODE_T)), linux_mkdirat,
           _PATH_ERR + (errno.EEXIST, errno.EROFS, errno.EBADF), doc="mkdir relative to dfd."),
    Sysent(260, "fchownat", (_DFD, Arg("path", PATH), Arg("user", UID_T), Arg("group", GID_T),
                             Arg("flag", INT)), linux_fchownat,
           _PATH_ERR + (errno.EPERM, errno.EROFS, errno.EINVAL, errno.EBADF),
           doc="chown relative to dfd."),
    Sysent(263, "unlinkat", (_DFD, Arg("path", PATH), Arg("flag", INT)), linux_unlinkat,
           _PATH_ERR + (errno.EPERM, errno.EROFS, errno.EINVAL, errno.ENOTEMPTY, errno.EBADF),
           doc="unlink or (AT_REMOVEDIR) rmdir relative to dfd."),
    Sysent(266, "symlinkat", (Arg("target", PATH), _DFD, Arg("path", PATH)), linux_symlinkat,
           _PATH_ERR + (errno.EEXIST, errno.EROFS, errno.EBADF), doc="symlink relative to dfd."),
    Sysent(267, "readlinkat", (_DFD, Arg("path", PATH), Arg("buf", BUF_OUT, "bufsiz"),
                               Arg("bufsiz", INT)), linux_readlinkat,
           _PATH_ERR + (errno.EINVAL, errno.EBADF), doc="readlink relative to dfd."),
    Sysent(268, "fchmodat", (_DFD, Arg("path", PATH), Arg("mode", MODE_T)), linux_fchmodat,
           _PATH_ERR + (errno.EPERM, errno.EROFS, errno.EBADF), doc="chmod relative to dfd."),
    Sysent(269, "faccessat", (_DFD, Arg("path", PATH), Arg("mode", INT)), linux_faccessat,
           _PATH_ERR + (errno.EINVAL, errno.EROFS, errno.EBADF), doc="access relative to dfd."),
    Sysent(292, "dup3", (Arg("oldfd", FD), Arg("newfd", FD), Arg("flags", INT)), linux_dup3,
           (errno.EBADF, errno.EINVAL), doc="dup2 with O_CLOEXEC."),
    Sysent(293, "pipe2", (Arg("pipefd", CADDR_T), Arg("flags", INT)), linux_pipe2,
           (errno.EMFILE, errno.EFAULT, errno.EINVAL), doc="pipe with O_CLOEXEC/O_NONBLOCK."),
    Sysent(439, "faccessat2", (_DFD, Arg("path", PATH), Arg("mode", INT), Arg("flags", INT)),
           linux_faccessat2, _PATH_ERR + (errno.EINVAL, errno.EROFS, errno.EBADF),
           doc="faccessat with AT_EACCESS / AT_SYMLINK_NOFOLLOW."),
]
