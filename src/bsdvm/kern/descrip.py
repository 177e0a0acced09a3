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
import stat as _stat
from types import SimpleNamespace

from bsdvm.kern.lock import mtx

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

UF_EXCLOSE = 0x01       # sys/filedesc.h: the slot is closed by exec (FD_CLOEXEC)

_refs = mtx("file refs")     # f_count updates: a leaf lock, never held while releasing


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
        self._lock = mtx("pipe")

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
    __slots__ = ("f_type", "f_flag", "f_vnode", "f_data", "f_offset", "f_count", "f_closed", "f_dirents")

    def __init__(self, f_type: int, f_flag: int, f_vnode=None, f_data=None) -> None:
        self.f_type = f_type
        self.f_flag = f_flag
        self.f_vnode = f_vnode          # holds one vnode reference, dropped at release
        self.f_data = f_data            # the Pipe of a pipe end
        self.f_offset = 0
        self.f_count = 0
        self.f_closed = False
        self.f_dirents = None           # a directory's entries as read at offset 0 (getdirentries)

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


def fo_stat(fp: File, cred) -> tuple[int, object]:
    """fo_stat: (errno, stat) of an open file.  A vnode's is the VFS's attribute record; a pipe end
    is a FIFO owned by the caller whose st_size is the bytes waiting to be read (pipe_stat)."""
    if fp.f_closed:
        return errno.EBADF, None
    if fp.f_vnode is not None:
        vp = fp.f_vnode
        if vp.v_doomed:
            return errno.EBADF, None
        try:
            return 0, vp.v_mount.vfs.getattr_stat(vp)
        except OSError as e:
            return e.errno or errno.EIO, None
    pipe = fp.f_data
    return 0, SimpleNamespace(
        st_mode=_stat.S_IFIFO | 0o600, st_ino=id(pipe) & 0xFFFFFFFF, st_dev=0, st_nlink=1,
        st_uid=cred.cr_uid, st_gid=cred.cr_gid, st_size=len(getattr(pipe, "buf", b"")),
        st_atime=0.0, st_mtime=0.0, st_ctime=0.0, st_flags=0, st_blksize=4096, st_blocks=0,
        st_rdev=0)


class FileDesc:
    """A process's descriptor table (struct filedesc)."""

    def __init__(self, maxfiles: int = 1024) -> None:
        self.maxfiles = maxfiles        # RLIMIT_NOFILE; the process layer may lower it
        self._files: list[File | None] = []
        self._ofileflags: dict[int, int] = {}  # fd -> UF_* flags of the slot (absent: 0)
        self.fd_cdir = "/"              # the current directory, as a canonical model path
        self.fd_cmask = 0o022           # the umask
        self._lock = mtx("filedesc")

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
            self._ofileflags.pop(fd, None)
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
            self._ofileflags.pop(fd, None)
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

    def fcntl_getfl(self, fd) -> tuple[int, int]:
        with self._lock:
            fp = self._lookup(fd)
            return (errno.EBADF, 0) if fp is None else (0, fp.f_flag)

    def fork_copy(self) -> "FileDesc":
        """fdcopy(): the child shares every File, each gaining a reference for the child's slot."""
        child = FileDesc(self.maxfiles)
        with self._lock:
            child._files = list(self._files)
            child._ofileflags = dict(self._ofileflags)
            child.fd_cdir = self.fd_cdir
            child.fd_cmask = self.fd_cmask
            for fp in child._files:
                if fp is not None:
                    fhold(fp)
        return child

    def dupfd(self, fd: int, newfd: int | None = None, minfd: int = 0, fdflags: int = 0) -> tuple[int, int]:
        """do_dup(): another slot for fd's file -> (errno, new fd).

        newfd None: the lowest free slot >= minfd (dup, F_DUPFD; EINVAL when minfd is beyond the table
        limit, EMFILE when no slot is free).  newfd given: exactly that slot (dup2), closing what it
        held; EBADF when it is beyond the limit; dup2(fd, fd) returns fd unchanged.  The new slot's
        flags are `fdflags` (close-on-exec for F_DUPFD_CLOEXEC/dup3(O_CLOEXEC)), never fd's."""
        old = None
        with self._lock:
            fp = self._lookup(fd)
            if fp is None or fp.f_closed:
                return errno.EBADF, -1
            if newfd is None:
                if minfd < 0 or minfd >= self.maxfiles:
                    return errno.EINVAL, -1
                newfd = minfd
                while newfd < len(self._files) and self._files[newfd] is not None:
                    newfd += 1
                if newfd >= self.maxfiles:
                    return errno.EMFILE, -1
            elif newfd < 0 or newfd >= self.maxfiles:
                return errno.EBADF, -1
            elif newfd == fd:
                return 0, fd
            while len(self._files) <= newfd:
                self._files.append(None)
            old = self._files[newfd]
            self._files[newfd] = fp
            if fdflags:
                self._ofileflags[newfd] = fdflags
            else:
                self._ofileflags.pop(newfd, None)
            fhold(fp)
        if old is not None:
            fdrop(old)                  # outside the table lock: the release may reclaim a vnode
        return 0, newfd

    def getfdflags(self, fd) -> tuple[int, int]:
        """F_GETFD: (errno, the slot's UF_* flags)."""
        with self._lock:
            fp = self._lookup(fd)
            return (errno.EBADF, 0) if fp is None else (0, self._ofileflags.get(fd, 0))

    def setfdflags(self, fd, flags: int) -> int:
        """F_SETFD: set the slot's UF_* flags."""
        with self._lock:
            if self._lookup(fd) is None:
                return errno.EBADF
            if flags & UF_EXCLOSE:
                self._ofileflags[fd] = UF_EXCLOSE
            else:
                self._ofileflags.pop(fd, None)
            return 0

    def closeexec(self) -> None:
        """fdcloseexec(): close every slot marked close-on-exec (exec calls it)."""
        for fd in [fd for fd, f in list(self._ofileflags.items()) if f & UF_EXCLOSE]:
            self.close(fd)

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


# ---- the descriptor system calls (kern_descrip.c) -------------------------------------------------------
# sys/fcntl.h commands (F_DUPFD_CLOEXEC has FreeBSD 9's value) and fd flags
F_DUPFD = 0
F_GETFD = 1
F_SETFD = 2
F_GETFL = 3
F_SETFL = 4
F_DUPFD_CLOEXEC = 17
FD_CLOEXEC = 1


def OFLAGS(f_flag: int) -> int:  # noqa: N802 -- the C macro's name
    """OFLAGS(): the open(2) flags (FreeBSD O_* values) of a file's f_flag."""
    return f_flag - 1


def close(td, uap) -> int:
    """close(2) (6): free the slot uap.fd; the file is released with its last reference."""
    return td.td_proc.p_fd.close(uap.fd)


def dup(td, uap) -> int:
    """dup(2) (41): uap.fd in the lowest free slot, returned."""
    err, fd = td.td_proc.p_fd.dupfd(uap.fd)
    if not err:
        td.td_retval[0] = fd
    return err


def dup2(td, uap) -> int:
    """dup2(u_int from, u_int to) (90): `to` made a copy of `from` (closing what it held); returns
    `to`."""
    err, fd = td.td_proc.p_fd.dupfd(uap.from_, uap.to)
    if not err:
        td.td_retval[0] = fd
    return err


def kern_fcntl(td, fd: int, cmd: int, arg: int) -> int:
    """kern_fcntl: F_DUPFD(_CLOEXEC), F_GETFD/F_SETFD (FD_CLOEXEC), F_GETFL/F_SETFL (O_NONBLOCK,
    O_APPEND, O_ASYNC and FPOSIXSHM may change); any other command is EINVAL (the model has no
    record locks or SIGIO owners)."""
    fdp = td.td_proc.p_fd
    if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
        err, new = fdp.dupfd(fd, None, arg, UF_EXCLOSE if cmd == F_DUPFD_CLOEXEC else 0)
        if not err:
            td.td_retval[0] = new
        return err
    if cmd == F_GETFD:
        err, flags = fdp.getfdflags(fd)
        if not err:
            td.td_retval[0] = FD_CLOEXEC if flags & UF_EXCLOSE else 0
        return err
    if cmd == F_SETFD:
        return fdp.setfdflags(fd, UF_EXCLOSE if arg & FD_CLOEXEC else 0)
    if cmd == F_GETFL:
        err, flags = fdp.fcntl_getfl(fd)
        if not err:
            td.td_retval[0] = OFLAGS(flags)
        return err
    if cmd == F_SETFL:
        return fdp.fcntl_setfl(fd, arg)
    return errno.EINVAL


def fcntl(td, uap) -> int:
    """fcntl(2) (92): see kern_fcntl."""
    return kern_fcntl(td, uap.fd, uap.cmd, uap.arg)


def kern_fstat(td, fd: int):
    """fo_stat of descriptor fd: (0, stat) or (errno, None)."""
    fdp = td.td_proc.p_fd
    error, fp = fdp.fget(fd)
    if error:
        return error, None
    try:
        return fo_stat(fp, td.td_proc.p_ucred)
    finally:
        fdp.fdrop(fp)


def fstat(td, uap) -> int:
    """fstat(int fd, struct stat *sb)."""
    error, sb = kern_fstat(td, uap.fd)
    if error:
        return error
    return uap.sb.copyout(sb)
