"""The native table's file bodies: descriptors (dup, dup2, fcntl), and the same bodies called as a
CPU calls them -- arguments from registers, buffers and struct stat in user memory."""
from __future__ import annotations

import errno
import os
import struct

import pytest

from bsdvm import Kernel, mman
from bsdvm.arch import AMD64, I386
from bsdvm.kern import descrip
from bsdvm.kern.init_sysent import freebsd_sysent
from bsdvm.kern.sysent import dispatch
from bsdvm.kern import vfs_syscalls
from bsdvm.kern.vfs_syscalls import encode_stat, oflags_from_host, oflags_to_vfs

PG = 4096
RW = mman.PROT_READ | mman.PROT_WRITE


@pytest.fixture
def kp():
    with Kernel(physmem="16M", swap="16M") as k:
        yield k, k.spawn(uid=1000, gid=1000)


def cpu_call(p, name, *regs):
    """Dispatch `name` as the CPU runner does: by number, arguments from registers."""
    e = freebsd_sysent[freebsd_sysent[name].number]
    err, uap = e.uap_from_registers(p.kernel.arch, p.proc.p_vmspace.vm_map, regs)
    if err:
        return err, None
    with p.kernel.giant:
        err = dispatch(p.proc.td, e, uap)
    return err, p.proc.td.td_retval[0]


def test_dup_dup2_and_fcntl_dupfd_share_the_file_offset(kp):
    k, p = kp
    fd = p.open("/f", os.O_RDWR | os.O_CREAT, 0o644)
    p.write(fd, b"0123456789")
    d = p.dup(fd)
    assert d == fd + 1
    p.lseek(d, 2)
    assert p.read(fd, 2) == b"23"                  # one file, one offset
    assert p.dup2(fd, 9) == 9 and p.read(9, 1) == b"4"
    assert p.dup2(fd, fd) == fd
    assert p.fcntl(fd, descrip.F_DUPFD, 20) == 20
    p.close(fd)
    assert p.read(20, 1) == b"5"                   # the file lives while a descriptor holds it
    for call, args, want in [("dup", (99,), errno.EBADF), ("dup2", (20, 5000), errno.EBADF),
                             ("dup", (-1,), errno.EBADF), ("fcntl", (20, 77), errno.EINVAL),
                             ("fcntl", (20, descrip.F_DUPFD, 10**6), errno.EINVAL)]:
        with pytest.raises(OSError) as ei:
            getattr(p, call)(*args)
        assert ei.value.errno == want, call


def test_fcntl_getfl_reports_access_mode_and_status_flags(kp):
    k, p = kp
    fd = p.open("/g", os.O_WRONLY | os.O_CREAT, 0o644)
    assert p.fcntl(fd, descrip.F_GETFL) == 1        # O_WRONLY
    p.fcntl_setfl(fd, descrip.FNONBLOCK)
    assert p.fcntl(fd, descrip.F_GETFL) == 1 | 0x4


def test_cpu_read_write_through_user_buffers_and_efault(kp):
    k, p = kp
    buf = p.mmap(0, PG, RW, mman.MAP_ANON | mman.MAP_PRIVATE)
    p.mem_write(buf, b"/cpu.txt\0hello")
    # a CPU passes FreeBSD's O_* values (O_CREAT is 0x200 there, 0o100 on Linux)
    err, fd = cpu_call(p, "open", buf, vfs_syscalls.O_RDWR | vfs_syscalls.O_CREAT, 0o600)
    assert err == 0
    assert cpu_call(p, "write", fd, buf + 9, 5) == (0, 5)
    assert cpu_call(p, "lseek", fd, 0, 0) == (0, 0)
    assert cpu_call(p, "read", fd, buf + 100, 64) == (0, 5)
    assert p.mem_read(buf + 100, 5) == b"hello"
    assert cpu_call(p, "read", fd, 0x10, 5) == (0, 0)                # at EOF nothing is moved
    cpu_call(p, "lseek", fd, 0, 0)
    assert cpu_call(p, "read", fd, 0x10, 5)[0] == errno.EFAULT       # unmapped buffer
    assert cpu_call(p, "pwrite", fd, 0x10, 5, 0)[0] == errno.EFAULT
    assert cpu_call(p, "open", 0x10, 0, 0)[0] == errno.EFAULT         # unreadable path
    # an int argument is the register's low 32 bits: fd 2**32 + fd is fd
    assert cpu_call(p, "close", (1 << 32) + fd) == (0, 0)


def test_cpu_stat_copies_out_freebsd7_struct_stat(kp):
    k, p = kp
    fd = p.open("/s", os.O_RDWR | os.O_CREAT, 0o640)
    p.write(fd, b"x" * 1000)
    buf = p.mmap(0, PG, RW, mman.MAP_ANON | mman.MAP_PRIVATE)
    p.mem_write(buf, b"/s\0")
    assert cpu_call(p, "stat", buf, buf + 64) == (0, 0)
    raw = p.mem_read(buf + 64, 120)
    dev, ino, mode, nlink, uid, gid = struct.unpack_from("<IIHHII", raw)
    assert (mode & 0o7777, uid, gid) == (0o640, 1000, 1000)
    assert struct.unpack_from("<q", raw, 72)[0] == 1000              # st_size
    assert cpu_call(p, "fstat", fd, buf + 200) == (0, 0)
    assert p.mem_read(buf + 200, 120) == raw
    assert cpu_call(p, "fstat", fd, 0x10)[0] == errno.EFAULT


def test_struct_stat_is_120_bytes_on_amd64_and_96_on_i386(kp):
    k, p = kp
    sb = p.stat("/")
    assert len(encode_stat(sb, AMD64)) == 120
    assert len(encode_stat(sb, I386)) == 96


def test_python_open_flags_are_the_hosts_and_the_kernels_are_freebsds():
    for host in (os.O_RDONLY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, os.O_RDWR | os.O_APPEND,
                 os.O_RDWR | os.O_TRUNC | os.O_NOFOLLOW, os.O_RDONLY | os.O_DIRECTORY, 3):
        assert oflags_to_vfs(oflags_from_host(host)) == host
    assert oflags_from_host(os.O_RDWR | os.O_CREAT) == vfs_syscalls.O_RDWR | vfs_syscalls.O_CREAT
