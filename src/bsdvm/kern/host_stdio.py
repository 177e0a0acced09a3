"""The host's standard descriptors as files of the model (for `bsdvm exec`): a program's stdin,
stdout and stderr are the command's own.

A host stream is a File of type DTYPE_PIPE whose data is a `HostStream` (the same read/write
interface as a pipe buffer), so every descriptor call treats it as a FIFO: fstat says S_IFIFO,
lseek is ESPIPE, TCGETS is ENOTTY (docs/differences.md: a host terminal or regular file behind
stdin/stdout is seen as a pipe).  Reading blocks in the host until data or end of file arrives;
writing goes straight to the host descriptor; a write to a closed host pipe is EPIPE.
Invariants: the host descriptor is never closed by the model (the command owns it).
May call: os (the host descriptor only), kern.descrip.
"""
from __future__ import annotations

import errno
import os

from . import descrip


class HostStream:
    """One host descriptor seen through the pipe interface."""

    def __init__(self, host_fd: int) -> None:
        self.host_fd = host_fd
        self.buf = b""              # what pipe_stat reports as waiting: nothing is buffered here
        self.rd_closed = False
        self.wr_closed = False

    def read(self, n: int) -> tuple[int, bytes]:
        if n < 0:
            return errno.EINVAL, b""
        try:
            return 0, os.read(self.host_fd, n)
        except OSError as e:
            return e.errno or errno.EIO, b""

    def write(self, data) -> tuple[int, int]:
        mv = memoryview(data).cast("B")
        done = 0
        try:
            while done < len(mv):
                done += os.write(self.host_fd, mv[done:])
        except OSError as e:
            if done:
                return 0, done
            return e.errno or errno.EIO, 0
        return 0, done


def host_file(host_fd: int, readable: bool, writable: bool) -> descrip.File:
    """A File over a host descriptor."""
    flags = (descrip.FREAD if readable else 0) | (descrip.FWRITE if writable else 0)
    return descrip.File(descrip.DTYPE_PIPE, flags, f_data=HostStream(host_fd))


def attach_stdio(proc, fds: tuple[int, int, int] = (0, 1, 2)) -> None:
    """Install the host's stdin, stdout and stderr as descriptors 0, 1 and 2 of proc."""
    fdt = proc.p_fd
    for i, hfd in enumerate(fds):
        fp = host_file(hfd, i == 0, i != 0)
        err, fd = fdt.falloc(fp)
        if err or fd != i:
            raise RuntimeError(f"stdio slot {i} taken (got {fd}, errno {err})")
