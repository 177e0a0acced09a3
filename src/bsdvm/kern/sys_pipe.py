"""kern/sys_pipe.c: the pipe(2) system call and pipe_stat (the Pipe buffer itself is in kern/descrip.py).

Invariants: either both descriptors are installed or neither (a failed second falloc closes the
first).  The two descriptors are the result, in td_retval[0] (read end) and td_retval[1] (write
end), as FreeBSD 7's pipe() returns them.
May call: kern.descrip.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from . import descrip


def pipe(td: Any, uap: Any) -> int:
    """pipe(void): a unidirectional pipe; td_retval = (read end, write end)."""
    fdp = td.td_proc.p_fd
    rf, wf = descrip.make_pipe()
    error, rfd = fdp.falloc(rf)
    if error:
        return error
    error, wfd = fdp.falloc(wf)
    if error:
        fdp.close(rfd)
        return error
    td.td_retval[0] = rfd
    td.td_retval[1] = wfd
    return 0


def pipe_stat(td: Any, fp: descrip.File) -> SimpleNamespace:
    """pipe_stat: a FIFO owned by the caller, st_size the bytes waiting to be read."""
    cred = td.td_ucred
    pipe = fp.f_data
    return SimpleNamespace(
        st_mode=0o010000 | 0o600, st_ino=id(pipe) & 0xFFFFFFFF, st_dev=0, st_nlink=1,
        st_uid=cred.cr_uid, st_gid=cred.cr_gid, st_size=len(getattr(pipe, "buf", b"")),
        st_atime=0.0, st_mtime=0.0, st_ctime=0.0, st_flags=0, st_blksize=4096, st_blocks=0,
        st_rdev=0)
