"""kern/sys_generic.c: read(2), write(2), pread(2) and pwrite(2) as kernel bodies `(td, uap) -> errno`.

The data moves through the call's `Uio` (a Python caller's bytes in system space, a CPU's buffer in
user space through copyin/copyout), so one body serves every caller.  The byte count moved is the
result, in td_retval[0].
Invariants: a descriptor held with fget is dropped on every path; a transfer larger than INT_MAX
is refused (EINVAL) before the descriptor is looked up, as FreeBSD 7 does.
May call: kern.descrip (fget, fo_read, fo_write), kern.sysent (Uio).
"""
from __future__ import annotations

from errno import EBADF, EINVAL, ESPIPE
from typing import Any

from . import descrip
from .sysent import Uio
from .vfs import VCHR

INT_MAX = 0x7FFFFFFF


def _vnode_offset_ok(fp: descrip.File, offset: int) -> int:
    """kern_preadv/kern_pwritev's checks for a positioned transfer: 0, ESPIPE or EINVAL."""
    vp = fp.f_vnode
    if vp is None:
        return ESPIPE                       # not DFLAG_SEEKABLE (a pipe)
    if offset < 0 and vp.v_type != VCHR:
        return EINVAL
    return 0


def dofileread(td: Any, fp: descrip.File, uio: Uio, offset: int | None) -> int:
    """fo_read into the uio; offset None reads at (and advances) the file offset."""
    error, data = descrip.fo_read(fp, uio.resid, offset)
    if error:
        return error
    error = uio.uiomove_out(data)
    td.td_retval[0] = len(data)
    return error


def dofilewrite(td: Any, fp: descrip.File, uio: Uio, offset: int | None) -> int:
    """fo_write of the uio's bytes; offset None writes at (and advances) the file offset."""
    error, data = uio.uiomove_in()
    if error:
        return error
    error, n = descrip.fo_write(fp, data, offset)
    td.td_retval[0] = n
    return error


def kern_readv(td: Any, fd: int, uio: Uio, offset: int | None = None) -> int:
    """read(2) (offset None) or pread(2) of descriptor fd into uio."""
    fdp = td.td_proc.p_fd
    error, fp = fdp.fget(fd)
    if error:
        return error
    try:
        if not fp.f_flag & descrip.FREAD:
            return EBADF                    # fget_read
        if offset is not None and (fp.f_vnode is None or offset < 0):
            if error := _vnode_offset_ok(fp, offset):
                return error
        return dofileread(td, fp, uio, offset)
    finally:
        fdp.fdrop(fp)


def kern_writev(td: Any, fd: int, uio: Uio, offset: int | None = None) -> int:
    """write(2) (offset None) or pwrite(2) of uio to descriptor fd."""
    fdp = td.td_proc.p_fd
    error, fp = fdp.fget(fd)
    if error:
        return error
    try:
        if not fp.f_flag & descrip.FWRITE:
            return EBADF                    # fget_write
        if offset is not None and (fp.f_vnode is None or offset < 0):
            if error := _vnode_offset_ok(fp, offset):
                return error
        return dofilewrite(td, fp, uio, offset)
    finally:
        fdp.fdrop(fp)


def read(td: Any, uap: Any) -> int:
    """read(int fd, void *buf, size_t nbyte)."""
    if uap.nbyte > INT_MAX:
        return EINVAL
    return kern_readv(td, uap.fd, uap.buf)


def pread(td: Any, uap: Any) -> int:
    """pread(int fd, void *buf, size_t nbyte, off_t offset)."""
    if uap.nbyte > INT_MAX:
        return EINVAL
    return kern_readv(td, uap.fd, uap.buf, uap.offset)


def write(td: Any, uap: Any) -> int:
    """write(int fd, const void *buf, size_t nbyte)."""
    if uap.nbyte > INT_MAX:
        return EINVAL
    return kern_writev(td, uap.fd, uap.buf)


def pwrite(td: Any, uap: Any) -> int:
    """pwrite(int fd, const void *buf, size_t nbyte, off_t offset)."""
    if uap.nbyte > INT_MAX:
        return EINVAL
    return kern_writev(td, uap.fd, uap.buf, uap.offset)
