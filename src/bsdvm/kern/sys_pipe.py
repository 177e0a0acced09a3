"""kern/sys_pipe.c: pipe(2).  The buffer itself is descrip.Pipe (unidirectional, never blocking: an empty
pipe with a live writer reads EAGAIN, the scheduler above decides whether to wait).

Invariants: both ends are installed or neither is.  May call: kern.descrip.
"""
from __future__ import annotations

from typing import Any

from . import descrip


def kern_pipe(td: Any, cloexec: bool = False, nonblock: bool = False) -> tuple[int, int, int]:
    """kern_pipe: a new pipe's read and write ends in the two lowest free slots ->
    (errno, read fd, write fd); EMFILE leaves the table as it was."""
    fdp = td.td_proc.p_fd
    r, w = descrip.make_pipe()
    if nonblock:
        r.f_flag |= descrip.FNONBLOCK
        w.f_flag |= descrip.FNONBLOCK
    err, rfd = fdp.falloc(r)
    if err:
        return err, -1, -1
    err, wfd = fdp.falloc(w)
    if err:
        fdp.close(rfd)
        return err, -1, -1
    if cloexec:
        fdp.setfdflags(rfd, descrip.UF_EXCLOSE)
        fdp.setfdflags(wfd, descrip.UF_EXCLOSE)
    return 0, rfd, wfd


def pipe(td: Any, uap: Any) -> int:
    """pipe(2) (42): the read end in td_retval[0], the write end in td_retval[1] (the FreeBSD
    convention: libc stores them)."""
    err, rfd, wfd = kern_pipe(td)
    if not err:
        td.td_retval[0] = rfd
        td.td_retval[1] = wfd
    return err
