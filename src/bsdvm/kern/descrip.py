"""File descriptors and struct file (kern_descrip.c, sys_pipe.c and vfs_vnops.c's fileops, reduced).

Invariants
* f_count counts every reference to a File: one per descriptor-table slot (falloc, fork_copy) plus one
  per fget hold.  When it reaches 0 the file is released exactly once: a vnode file vrele's its vnode,
  a pipe end is marked closed.  close() only drops the slot's reference, so an mmap that fget'ed the
  file finishes with it before the release (spec FD-1).
* fget refuses (EBADF) descriptors that are not open (FD-1).  Like FreeBSD's, it does not look at
  the vnode: a revoked (doomed) vnode's I/O fails in the VFS (EBADF) and its mmap in vget (ENOENT).
* f_flag is FFLAGS(oflags) = FREAD/FWRITE by access mode, plus status flags (FAPPEND, FNONBLOCK,
  FPOSIXSHM), with FreeBSD's values whatever the host's O_* values are (spec FD-2).
* Pipes never block: an empty pipe with a live writer reads EAGAIN, with no writer EOF.
May call: kern.vfs (vrele and the VFS read/write of a vnode's file system).
"""
from __future__ import annotations

import errno
import os
import threading

from bsdvm.kern import vfs as _vfs

DTYPE_VNODE = 1
DTYPE_SOCKET = 2
DTYPE_PIPE = 3
DTYPE_FIFO = 4
DTYPE_KQUEUE = 5
DTYPE_CRYPTO = 6
DTYPE_MQUEUE = 7

FREAD = 0x0001
FWRITE = 0x0002
FNONBLOCK = 0x0004
FAPPEND = 0x0008
FASYNC = 0x0040
FPOSIXSHM = 0x0100
FCNTLFLAGS = FAPPEND | FASYNC | FNONBLOCK | FPOSIXSHM     # what F_SETFL may change

_refs = threading.Lock()     # f_count updates: a leaf lock, never held while releasing


def fflags(oflags: int) -> int:
    """FFLAGS() of FreeBSD from Python os.O_* open flags."""
    acc = oflags & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR)
    f = {os.O_RDONLY: FREAD, os.O_WRONLY: FWRITE, os.O_RDWR: FREAD | FWRITE}.get(acc, 0)
    if oflags & os.O_APPEND:
        f |= FAPPEND
    if oflags & os.O_NONBLOCK:
        f |= FNONBLOCK
    return f


class Pipe:
    """One unidirectional pipe buffer shared by a read-end File and a write-end File."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.rd_closed = False
        self.wr_closed = False
        self._lock = threading.Lock()

    def read(self, n: int) -> tuple[int, bytes]:
        if n < 0:
            return errno.EINVAL, b""
        with self._lock:
            if not self.buf:
                return (0, b"") if self.wr_closed else (errno.EAGAIN, b"")
            data = bytes(self.buf[:n])
            del self.buf[:n]
            return 0, data

    def write(self, data) -> tuple[int, int]:
        with self._lock:
            if self.rd_closed:
                return errno.EPIPE, 0
            self.buf += data
            return 0, len(data)


class File:
    __slots__ = ("f_type", "f_flag", "f_vnode", "f_data", "f_offset", "f_count", "f_closed")

    def __init__(self, f_type: int, f_flag: int, f_vnode=None, f_data=None) -> None:
        self.f_type = f_type
        self.f_flag = f_flag
        self.f_vnode = f_vnode          # holds one vnode reference, dropped at release
        self.f_data = f_data            # the Pipe of a pipe end
        self.f_offset = 0
        self.f_count = 0
        self.f_closed = False

    def __repr__(self) -> str:
        what = self.f_vnode.path if self.f_vnode is not None else type(self.f_data).__name__
        return f"<File type={self.f_type} flag={self.f_flag:#x} {what} count={self.f_count}>"


def make_pipe() -> tuple[File, File]:
    p = Pipe()
    return File(DTYPE_PIPE, FREAD, f_data=p), File(DTYPE_PIPE, FWRITE, f_data=p)


def fhold(fp: File) -> None:
    with _refs:
        fp.f_count += 1


def fdrop(fp: File) -> None:
    with _refs:
        if fp.f_count <= 0:
            raise RuntimeError(f"fdrop: negative reference count on {fp!r}")
        fp.f_count -= 1
        last = fp.f_count == 0
    if last:
        _release(fp)


def _release(fp: File) -> None:
    fp.f_closed = True
    if fp.f_type == DTYPE_PIPE and isinstance(fp.f_data, Pipe):
        if fp.f_flag & FREAD:
            fp.f_data.rd_closed = True
        if fp.f_flag & FWRITE:
            fp.f_data.wr_closed = True
    if fp.f_vnode is not None:
        _vfs.vrele(fp.f_vnode)


def fo_read(fp: File, n: int, offset: int | None = None) -> tuple[int, bytes]:
    """read(2)/pread(2) on a file: offset None uses and advances f_offset."""
    if fp.f_closed or not fp.f_flag & FREAD:
        return errno.EBADF, b""
    if fp.f_type == DTYPE_PIPE:
        return (errno.ESPIPE, b"") if offset is not None else fp.f_data.read(n)
    vp = fp.f_vnode
    if fp.f_type != DTYPE_VNODE or vp is None:
        return errno.EOPNOTSUPP, b""
    off = fp.f_offset if offset is None else offset
    error, data = vp.v_mount.vfs.read(vp, off, n)
    if not error and offset is None:
        fp.f_offset = off + len(data)
    return error, data


def fo_write(fp: File, data, offset: int | None = None) -> tuple[int, int]:
    """write(2)/pwrite(2); with FAPPEND the data goes at end of file either way (IO_APPEND)."""
    if fp.f_closed or not fp.f_flag & FWRITE:
        return errno.EBADF, 0
    if fp.f_type == DTYPE_PIPE:
        return (errno.ESPIPE, 0) if offset is not None else fp.f_data.write(data)
    vp = fp.f_vnode
    if fp.f_type != DTYPE_VNODE or vp is None:
        return errno.EOPNOTSUPP, 0
    vfs = vp.v_mount.vfs
    append = bool(fp.f_flag & FAPPEND)
    off = fp.f_offset if offset is None else offset
    error, n = vfs.write(vp, off, data, append)
    if not error and offset is None:
        if append and vp.base().v_type == _vfs.VREG:
            error, va = vfs.getattr(vp)
            fp.f_offset = va.va_size if not error else fp.f_offset
        else:
            fp.f_offset = off + n
    return error, n


class FileDesc:
    """A process's descriptor table (struct filedesc)."""

    def __init__(self, maxfiles: int = 1024) -> None:
        self.maxfiles = maxfiles        # RLIMIT_NOFILE; the process layer may lower it
        self._files: list[File | None] = []
        self._lock = threading.Lock()

    def falloc(self, fp: File) -> tuple[int, int]:
        """Install fp in the lowest free slot: -> (errno, fd); EMFILE when the table is full."""
        with self._lock:
            try:
                fd = self._files.index(None)
            except ValueError:
                fd = len(self._files)
            if fd >= self.maxfiles:
                return errno.EMFILE, -1
            if fd == len(self._files):
                self._files.append(fp)
            else:
                self._files[fd] = fp
            fhold(fp)
            return 0, fd

    def _lookup(self, fd) -> File | None:
        if not isinstance(fd, int) or isinstance(fd, bool) or fd < 0 or fd >= len(self._files):
            return None
        return self._files[fd]

    def fget(self, fd) -> tuple[int, File | None]:
        with self._lock:
            fp = self._lookup(fd)
            if fp is None or fp.f_closed:
                return errno.EBADF, None
            fhold(fp)
            return 0, fp

    def fdrop(self, fp: File) -> None:
        fdrop(fp)

    def close(self, fd) -> int:
        with self._lock:
            fp = self._lookup(fd)
            if fp is None:
                return errno.EBADF
            self._files[fd] = None
            while self._files and self._files[-1] is None:
                self._files.pop()
        fdrop(fp)                       # outside the table lock: the release may reclaim a vnode
        return 0

    def fcntl_setfl(self, fd, flags: int) -> int:
        """F_SETFL: replace the settable status flags (7.x libc shm_open sets FPOSIXSHM this way)."""
        with self._lock:
            fp = self._lookup(fd)
            if fp is None:
                return errno.EBADF
            fp.f_flag = (fp.f_flag & ~FCNTLFLAGS) | (flags & FCNTLFLAGS)
            return 0

    def dup(self, fd: int, minfd: int = 0) -> tuple[int, int]:
        """dup(2) / F_DUPFD: the file of fd in the lowest free slot >= minfd: -> (errno, new fd).
        EBADF for a descriptor not open, EINVAL for a minfd outside the table's limit, EMFILE when
        no slot is free below it."""
        with self._lock:
            fp = self._lookup(fd)
            if fp is None:
                return errno.EBADF, -1
            if minfd < 0 or minfd >= self.maxfiles:
                return errno.EINVAL, -1
            new = minfd
            while new < len(self._files) and self._files[new] is not None:
                new += 1
            if new >= self.maxfiles:
                return errno.EMFILE, -1
            while len(self._files) <= new:
                self._files.append(None)
            self._files[new] = fp
            fhold(fp)
            return 0, new

    def dup2(self, fd: int, new: int) -> int:
        """dup2(2): make `new` refer to fd's file, closing what `new` held.  EBADF for fd not open
        or `new` outside the table's limit; dup2(fd, fd) does nothing."""
        with self._lock:
            fp = self._lookup(fd)
            if fp is None or new < 0 or new >= self.maxfiles:
                return errno.EBADF
            if new == fd:
                return 0
            while len(self._files) <= new:
                self._files.append(None)
            old = self._files[new]
            self._files[new] = fp
            fhold(fp)
        if old is not None:
            fdrop(old)                  # outside the table lock, as close() does
        return 0

    def fcntl_getfl(self, fd) -> tuple[int, int]:
        with self._lock:
            fp = self._lookup(fd)
            return (errno.EBADF, 0) if fp is None else (0, fp.f_flag)

    def fork_copy(self) -> "FileDesc":
        """fdcopy(): the child shares every File, each gaining a reference for the child's slot."""
        child = FileDesc(self.maxfiles)
        with self._lock:
            child._files = list(self._files)
            for fp in child._files:
                if fp is not None:
                    fhold(fp)
        return child

    def close_all(self) -> None:
        with self._lock:
            files, self._files = self._files, []
        for fp in files:
            if fp is not None:
                fdrop(fp)

    def open_fds(self) -> list[int]:
        with self._lock:
            return [i for i, fp in enumerate(self._files) if fp is not None]

    def __len__(self) -> int:
        return len(self.open_fds())


# -- system calls (kern_descrip.c) ------------------------------------------------------------------
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL = 0, 1, 2, 3, 4     # sys/fcntl.h


def close(td, uap) -> int:
    """close(int fd)."""
    return td.td_proc.p_fd.close(uap.fd)


def dup(td, uap) -> int:
    """dup(u_int fd): td_retval[0] = the lowest free descriptor, now sharing fd's file."""
    error, new = td.td_proc.p_fd.dup(uap.fd)
    if not error:
        td.td_retval[0] = new
    return error


def dup2(td, uap) -> int:
    """dup2(u_int from, u_int to): td_retval[0] = to."""
    error = td.td_proc.p_fd.dup2(uap.from_, uap.to)
    if not error:
        td.td_retval[0] = uap.to
    return error


def fcntl(td, uap) -> int:
    """fcntl(int fd, int cmd, long arg): F_DUPFD, F_GETFL and F_SETFL (the status flags are
    FreeBSD's: O_NONBLOCK 0x4, O_APPEND 0x8, O_ASYNC 0x40, and 7.x libc's FPOSIXSHM 0x100)."""
    fdp = td.td_proc.p_fd
    cmd = uap.cmd
    if cmd == F_DUPFD:
        error, new = fdp.dup(uap.fd, uap.arg)
        if not error:
            td.td_retval[0] = new
        return error
    if cmd == F_GETFL:
        error, flag = fdp.fcntl_getfl(uap.fd)
        if not error:
            td.td_retval[0] = flag - 1          # OFLAGS(): FREAD/FWRITE back to O_RDONLY/WRONLY/RDWR
        return error
    if cmd == F_SETFL:
        return fdp.fcntl_setfl(uap.fd, uap.arg)
    error, fp = fdp.fget(uap.fd)
    if error:
        return error
    fdp.fdrop(fp)
    return errno.EINVAL


def kern_fstat(td, fd: int):
    """fo_stat of descriptor fd: (0, stat) or (errno, None)."""
    fdp = td.td_proc.p_fd
    error, fp = fdp.fget(fd)
    if error:
        return error, None
    try:
        if fp.f_vnode is None:
            from .sys_pipe import pipe_stat
            return 0, pipe_stat(td, fp)
        return 0, fp.f_vnode.v_mount.vfs.getattr_stat(fp.f_vnode)
    finally:
        fdp.fdrop(fp)


def fstat(td, uap) -> int:
    """fstat(int fd, struct stat *sb)."""
    error, sb = kern_fstat(td, uap.fd)
    if error:
        return error
    return uap.sb.copyout(sb)
