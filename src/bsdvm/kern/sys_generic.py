"""kern/sys_generic.c: read, write, pread, pwrite, readv, writev and ioctl as native `(td, uap) -> errno`
bodies over the descriptor's file (descrip.fo_read/fo_write) and uio(9).

A buffer argument is a `Uio` (user space for a CPU, system space for a Python caller); readv/writev take
a user address of a struct iovec array (or, from Python, a list of Uios).  The count of bytes moved is
td_retval[0].  ioctl knows the generic file ioctls (FIOCLEX, FIONCLEX, FIONBIO, FIONREAD); terminal
ioctls on anything that is not a terminal are ENOTTY, as ttioctl's absence makes them.

Invariants: every fget is matched by an fdrop; nbyte beyond INT_MAX is EINVAL (FreeBSD 7's limit);
iovcnt beyond UIO_MAXIOV (1024) is EINVAL.  May call: kern.descrip, kern.sysent, vm.fault.
"""
from __future__ import annotations

import errno
import struct
from typing import Any

from . import descrip
from . import vfs as _vfs
from .sysent import Uio, UioRw

INT_MAX = 2**31 - 1
UIO_MAXIOV = 1024

# sys/filio.h and sys/ttycom.h (FreeBSD values: _IO/_IOR/_IOW encodings)
FIOCLEX = 0x20006601
FIONCLEX = 0x20006602
FIONREAD = 0x4004667F
FIONBIO = 0x8004667E
TIOCGETA = 0x402C7413
TIOCGWINSZ = 0x40087468
IOC_OUT = 0x40000000
IOC_IN = 0x80000000
IOCPARM_MASK = 0x1FFF


def _with_file(td: Any, fd: int, fn: Any) -> int:
    fdp = td.td_proc.p_fd
    err, fp = fdp.fget(fd)
    if err:
        return err
    try:
        return int(fn(fp))
    finally:
        fdp.fdrop(fp)


def dofileread(td: Any, fp: Any, uios: list[Uio], offset: int | None) -> int:
    """Read into the uios in order (one read of their total size); td_retval[0] = bytes read."""
    total = sum(u.resid for u in uios)
    if total > INT_MAX:
        return errno.EINVAL
    err, data = descrip.fo_read(fp, total, offset)
    if err:
        return err
    mv = memoryview(data)
    pos = 0
    for u in uios:
        n = min(u.resid, len(mv) - pos)
        if n <= 0:
            break
        err = u.uiomove_out(mv[pos:pos + n])
        if err:
            return err
        pos += n
    td.td_retval[0] = pos
    return 0


def dofilewrite(td: Any, fp: Any, uios: list[Uio], offset: int | None) -> int:
    """Write the uios' bytes in order (one write); td_retval[0] = bytes written."""
    parts = []
    for u in uios:
        err, data = u.uiomove_in()
        if err:
            return err
        parts.append(data)
    data = b"".join(parts)
    if len(data) > INT_MAX:
        return errno.EINVAL
    err, n = descrip.fo_write(fp, data, offset)
    if err:
        return err
    td.td_retval[0] = n
    return 0


def read(td: Any, uap: Any) -> int:
    """read(2) (3): up to uap.nbyte bytes of uap.fd into uap.buf."""
    return _with_file(td, uap.fd, lambda fp: dofileread(td, fp, [uap.buf], None))


def write(td: Any, uap: Any) -> int:
    """write(2) (4): uap.nbyte bytes of uap.buf to uap.fd."""
    return _with_file(td, uap.fd, lambda fp: dofilewrite(td, fp, [uap.buf], None))


def _positioned(fp: Any, offset: int) -> int:
    if fp.f_type == descrip.DTYPE_PIPE:
        return errno.ESPIPE
    if offset < 0:
        return errno.EINVAL
    return 0


def pread(td: Any, uap: Any) -> int:
    """pread(2) (475): like read at uap.offset, the file offset unchanged; ESPIPE on a pipe."""
    def do(fp: Any) -> int:
        return _positioned(fp, uap.offset) or dofileread(td, fp, [uap.buf], uap.offset)
    return _with_file(td, uap.fd, do)


def pwrite(td: Any, uap: Any) -> int:
    """pwrite(2) (476): like write at uap.offset, the file offset unchanged; ESPIPE on a pipe."""
    def do(fp: Any) -> int:
        return _positioned(fp, uap.offset) or dofilewrite(td, fp, [uap.buf], uap.offset)
    return _with_file(td, uap.fd, do)


def copyiniov(td: Any, iovp: Any, iovcnt: int, rw: UioRw) -> tuple[int, list[Uio]]:
    """copyinuio: the iovec array at user address iovp (struct iovec {void *base; size_t len})
    as uios, or a Python caller's list of uios as it is.  EINVAL for a bad count."""
    if iovcnt < 0 or iovcnt > UIO_MAXIOV:
        return errno.EINVAL, []
    if not isinstance(iovp, int):
        return 0, list(iovp)[:iovcnt]
    from ..vm.fault import UserFault, copyin
    p = td.td_proc
    arch = p.p_kernel.arch
    word = arch.word_bits // 8
    fmt = "<QQ" if word == 8 else "<II"
    try:
        raw = copyin(p.p_vmspace.vm_map, iovp, 2 * word * iovcnt) if iovcnt else b""
    except UserFault:
        return errno.EFAULT, []
    out = []
    total = 0
    for base, n in struct.iter_unpack(fmt, raw):
        total += n
        if total > INT_MAX:
            return errno.EINVAL, []
        out.append(Uio.user(p.p_vmspace.vm_map, base, n, rw))
    return 0, out


def readv(td: Any, uap: Any) -> int:
    """readv(2) (120): read into uap.iovcnt buffers described at uap.iovp."""
    err, uios = copyiniov(td, uap.iovp, uap.iovcnt, UioRw.UIO_READ)
    if err:
        return err
    return _with_file(td, uap.fd, lambda fp: dofileread(td, fp, uios, None))


def writev(td: Any, uap: Any) -> int:
    """writev(2) (121): write uap.iovcnt buffers described at uap.iovp."""
    err, uios = copyiniov(td, uap.iovp, uap.iovcnt, UioRw.UIO_WRITE)
    if err:
        return err
    return _with_file(td, uap.fd, lambda fp: dofilewrite(td, fp, uios, None))


def fo_ioctl(fp: Any, com: int, data: Uio | None) -> int:
    """The file's ioctl: a File whose f_data has `fo_ioctl(com, data)` (a terminal, say) answers
    itself; vnodes and pipes know FIONREAD; everything else is ENOTTY (not a terminal)."""
    own = getattr(fp.f_data, "fo_ioctl", None)
    if own is not None:
        return int(own(com, data))
    if com == FIONREAD and data is not None:
        if fp.f_type == descrip.DTYPE_PIPE:
            n = len(fp.f_data.buf)
        elif fp.f_vnode is not None:
            err, va = fp.f_vnode.v_mount.vfs.getattr(fp.f_vnode)
            if err:
                return err
            n = max(0, va.va_size - fp.f_offset) if fp.f_vnode.v_type == _vfs.VREG else 0
        else:
            return errno.ENOTTY
        return data.uiomove_out(min(n, INT_MAX).to_bytes(4, "little"))
    return errno.ENOTTY


def kern_ioctl(td: Any, fd: int, com: int, data: Uio | None) -> int:
    """kern_ioctl: the generic descriptor ioctls, then the file's own (fo_ioctl)."""
    fdp = td.td_proc.p_fd
    if com in (FIOCLEX, FIONCLEX):
        return fdp.setfdflags(fd, descrip.UF_EXCLOSE if com == FIOCLEX else 0)

    def do(fp: Any) -> int:
        if not fp.f_flag & (descrip.FREAD | descrip.FWRITE):
            return errno.EBADF
        if com == FIONBIO:
            if data is None:
                return errno.EFAULT
            err, raw = data.uiomove_in(4)
            if err:
                return err
            on = int.from_bytes(raw, "little")
            fp.f_flag = (fp.f_flag | descrip.FNONBLOCK) if on else (fp.f_flag & ~descrip.FNONBLOCK)
            return 0
        return fo_ioctl(fp, com, data)
    err = _with_file(td, fd, do)
    if not err:
        td.td_retval[0] = 0
    return err


def ioctl(td: Any, uap: Any) -> int:
    """ioctl(2) (54): uap.com on uap.fd; the argument at uap.data is moved in and/or out as the
    command's IOC_IN/IOC_OUT bits and size say."""
    size = (uap.com >> 16) & IOCPARM_MASK
    data = None
    if uap.com & (IOC_IN | IOC_OUT) and size:
        rw = UioRw.UIO_READ if uap.com & IOC_OUT else UioRw.UIO_WRITE
        data = Uio.user(td.td_proc.p_vmspace.vm_map, uap.data, size, rw)
    return kern_ioctl(td, uap.fd, uap.com, data)
