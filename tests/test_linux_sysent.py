"""linux_sysent, the Linux x86-64 system-call table: numbers, the file/descriptor/stat/misc bodies called
through it from Python (system-space uios) and from registers (user-space uios over the process's
memory), the Linux struct layouts they write, and the errno translation at the boundary."""
from __future__ import annotations

import errno
import os
import re
import struct
import time

import pytest
from linux_helpers import Guest, guest, unpack_stat

from bsdvm.compat import linux as L
from bsdvm.compat.linux import linux_sysent
from bsdvm.compat.linux.linux_emul import emul_record
from bsdvm.kern.sysent import Kind
from bsdvm.kernel import Kernel

O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC = 0, 1, 2, 0o100, 0o200, 0o1000
O_APPEND, O_NONBLOCK, O_DIRECTORY, O_CLOEXEC = 0o2000, 0o4000, 0o200000, 0o2000000
AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_EMPTY_PATH = -100, 0x100, 0x200, 0x1000
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC = 0, 1, 2, 3, 4, 1030
TCGETS, TIOCGWINSZ, FIONREAD = 0x5401, 0x5413, 0x541B
UNISTD_64 = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"


@pytest.fixture
def k():
    k = Kernel(physmem="64M", swap="32M")
    yield k
    k.close()


@pytest.fixture
def hk():
    k = Kernel(physmem="64M", swap="32M", host_root=True)
    yield k
    k.close()


# -- the table -------------------------------------------------------------------------------------
@pytest.mark.skipif(not os.path.exists(UNISTD_64), reason="no Linux x86-64 kernel headers")
def test_numbers_are_the_linux_x86_64_syscall_numbers():
    with open(UNISTD_64) as f:
        nr = {m.group(1): int(m.group(2)) for m in re.finditer(r"#define __NR_(\w+) (\d+)", f.read())}
    for e in linux_sysent:
        assert nr[e.name] == e.number, e.name
    for number, name in linux_sysent.nosys.items():
        assert nr[name] == number, name
        assert number not in linux_sysent.by_number


def test_every_entry_is_documented_and_its_buffers_name_their_length():
    for e in linux_sysent:
        assert e.doc, e.name
        names = {a.name for a in e.args}
        for a in e.args:
            if a.ctype.kind in (Kind.UIO_IN, Kind.UIO_OUT):
                assert a.length_arg in names, e.name
    assert linux_sysent.name_of(334) == "rseq" and 334 not in linux_sysent


def test_memory_calls_run_from_registers_without_an_emulation_record(k):
    g = guest(k)
    err, addr = g.regs("mmap", 0, 8192, 3, L.MAP_PRIVATE | L.MAP_ANONYMOUS | L.MAP_LOCKED, -1, 0)
    assert err == 0 and addr
    assert emul_record(g.td) is None
    g.p.mem_write(addr, b"x")
    assert g.regs("munmap", addr, 8192) == (0, 0)
    # the same call from replay's wrapper reports what the layer dropped and the native call
    res = L.LinuxABI(g.p).mmap(0, 8192, 3, L.MAP_PRIVATE | L.MAP_ANONYMOUS | L.MAP_LOCKED)
    assert res.ok and any(n.startswith("MAP_LOCKED") for n in res.notes)
    assert res.bsd["call"] == "mmap" and res.bsd["args"][1] == 8192


def test_errnos_reach_linux_programs_through_linux_errtbl(k):
    g = guest(k)
    err, _ = g.regs("read", 77, g.buf, 10)
    assert err == errno.EBADF and L.bsd_to_linux_errno(err) == 9
    assert L.bsd_to_linux_errno(errno.EAGAIN) == 11 and L.bsd_to_linux_errno(errno.ENOSYS) == 38
    assert L.bsd_to_linux_errno(errno.EDEADLK) == 35
    assert L.bsd_to_linux_errno("EPROCLIM") == "EAGAIN"     # names, as traces carry them
    err, _ = g.regs("mremap", g.buf, 4096, 8192, 0, 0)     # growing: FreeBSD's layer says ENOMEM
    assert L.bsd_to_linux_errno(err) == 12


# -- files and descriptors -------------------------------------------------------------------------
def test_open_write_read_from_python_with_system_space_buffers(k):
    g = guest(k)
    err, fd, _ = g.py("openat", dfd=AT_FDCWD, path="/f", flags=O_CREAT | O_RDWR, mode=0o640)
    assert err == 0
    assert g.py("write", fd=fd, buf=b"hello world", count=11)[:2] == (0, 11)
    err, n, uap = g.py("pread64", fd=fd, buf=None, count=5, pos=6)
    assert (err, n, bytes(uap.buf.sysbuf)) == (0, 5, b"world")
    assert g.py("lseek", fd=fd, offset=0, whence=0)[:2] == (0, 0)
    err, n, uap = g.py("read", fd=fd, buf=None, count=100)
    assert bytes(uap.buf.sysbuf) == b"hello world"
    assert g.py("openat", dfd=AT_FDCWD, path="/f", flags=O_CREAT | O_EXCL | O_WRONLY,
                mode=0)[0] == errno.EEXIST
    assert g.p.stat("/f").st_mode & 0o777 == 0o640 & ~0o022


def test_open_from_registers_truncates_int_arguments_as_the_abi_does(k):
    g = guest(k)
    path = g.cstr("/g")
    err, fd = g.regs("open", path, (1 << 40) | O_CREAT | O_WRONLY, 0o600)
    assert err == 0
    g.p.mem_write(g.buf + 512, b"abc")
    assert g.regs("write", (7 << 32) | fd, g.buf + 512, 3) == (0, 3)     # fd: the low 32 bits
    assert g.regs("close", fd) == (0, 0)
    assert g.regs("close", fd) == (errno.EBADF, 0)


def test_readv_writev_move_user_iovecs_in_order(k):
    g = guest(k)
    err, fd = g.regs("openat", AT_FDCWD, g.cstr("/v"), O_CREAT | O_RDWR, 0o644)
    g.p.mem_write(g.buf + 1000, b"abc")
    g.p.mem_write(g.buf + 2000, b"defgh")
    g.p.mem_write(g.buf + 3000, struct.pack("<QQQQ", g.buf + 1000, 3, g.buf + 2000, 5))
    assert g.regs("writev", fd, g.buf + 3000, 2) == (0, 8)
    g.p.mem_write(g.buf + 3000, struct.pack("<QQQQ", g.buf + 4000, 2, g.buf + 5000, 10))
    assert g.regs("pread64", fd, g.buf + 6000, 8, 0) == (0, 8)
    assert g.regs("lseek", fd, 0, 0) == (0, 0)
    assert g.regs("readv", fd, g.buf + 3000, 2) == (0, 8)
    assert g.read(4000, 2) + g.read(5000, 6) == b"abcdefgh"
    assert g.regs("readv", fd, g.buf + 3000, 1025)[0] == errno.EINVAL
    assert g.regs("writev", fd, 0x10, 1)[0] == errno.EFAULT


def test_getdents64_lists_the_directory_in_linux_dirent64_records(k):
    g = guest(k)
    for name in ("a", "bb", "ccc"):
        g.p.close(g.p.open(f"/{name}", os.O_CREAT | os.O_WRONLY))
    g.p.mkdir("/sub")
    g.p.symlink("a", "/lnk")
    err, fd = g.regs("openat", AT_FDCWD, g.cstr("/"), O_DIRECTORY, 0)
    assert err == 0
    seen = {}
    while True:
        err, n = g.regs("getdents64", fd, g.buf + 4096, 64)   # small: several calls
        assert err == 0
        if n == 0:
            break
        raw, off = g.read(4096, n), 0
        while off < n:
            ino, doff, reclen, dtype = struct.unpack_from("<QqHB", raw, off)
            assert reclen % 8 == 0
            name = raw[off + 19:off + reclen].split(b"\0")[0].decode()
            seen[name] = dtype
            off += reclen
    expect = set(os.listdir(k.root)) | {".", "..", "dev"}
    assert set(seen) == expect
    assert seen["a"] == 8 and seen["sub"] == 4 and seen["lnk"] == 10 and seen["dev"] == 4
    assert g.regs("getdents64", fd, g.buf + 4096, 8)[0] == 0          # at the end: 0, not EINVAL
    assert g.regs("lseek", fd, 0, 0) == (0, 0)
    assert g.regs("getdents64", fd, g.buf + 4096, 8)[0] == errno.EINVAL   # no record fits
    assert g.regs("getdents64", fd, 0x10, 4096)[0] == errno.EFAULT
    err, ffd = g.regs("openat", AT_FDCWD, g.cstr("/a"), O_RDONLY, 0)
    assert g.regs("getdents64", ffd, g.buf + 4096, 4096)[0] == errno.ENOTDIR


def test_getcwd_chdir_and_relative_paths(k):
    g = guest(k)
    g.p.mkdir("/d")
    g.p.mkdir("/d/e")
    assert g.regs("chdir", g.cstr("d/e"))[0] == 0
    assert g.regs("getcwd", g.buf + 100, 200) == (0, 5)
    assert g.read(100, 5) == b"/d/e\0"
    assert g.regs("getcwd", g.buf + 100, 4)[0] == errno.ERANGE
    err, fd = g.regs("openat", AT_FDCWD, g.cstr("../x"), O_CREAT | O_WRONLY, 0o644)
    assert err == 0 and g.p.stat("/d/x")
    err, dfd = g.regs("open", g.cstr("/d"), O_DIRECTORY, 0)
    assert g.regs("openat", dfd, g.cstr("e/y"), O_CREAT | O_WRONLY, 0o644)[0] == 0
    assert g.p.stat("/d/e/y")
    assert g.regs("openat", fd, g.cstr("z"), O_RDONLY, 0)[0] == errno.ENOTDIR
    assert g.regs("chdir", g.cstr("/d/x"))[0] == errno.ENOTDIR
    assert g.regs("fchdir", dfd)[0] == 0
    assert g.py("getcwd", buf=None, size=10)[2].buf.sysbuf == bytearray(b"/d\0")
    child = g.p.fork()
    assert child.proc.p_fd.fd_cdir == "/d"            # inherited across fork


def test_fcntl_flags_dup_and_close_on_exec(k):
    g = guest(k)
    err, fd = g.regs("openat", AT_FDCWD, g.cstr("/f"), O_CREAT | O_RDWR | O_APPEND | O_CLOEXEC,
                     0o644)
    assert g.regs("fcntl", fd, F_GETFL, 0) == (0, O_RDWR | O_APPEND)
    assert g.regs("fcntl", fd, F_GETFD, 0) == (0, 1)
    assert g.regs("fcntl", fd, F_SETFL, O_NONBLOCK)[0] == 0
    assert g.regs("fcntl", fd, F_GETFL, 0) == (0, O_RDWR | O_NONBLOCK)
    assert g.regs("fcntl", fd, F_SETFD, 0)[0] == 0 and g.regs("fcntl", fd, F_GETFD, 0) == (0, 0)
    assert g.regs("fcntl", fd, F_DUPFD, 10) == (0, 10)
    assert g.regs("fcntl", fd, F_DUPFD_CLOEXEC, 10) == (0, 11)
    assert g.regs("fcntl", 11, F_GETFD, 0) == (0, 1)
    assert g.regs("dup3", fd, 20, O_CLOEXEC) == (0, 20)
    assert g.regs("dup3", fd, fd, 0)[0] == errno.EINVAL
    assert g.regs("dup2", fd, fd) == (0, fd)
    assert g.regs("dup2", fd, 2**20)[0] == errno.EBADF
    err, d = g.regs("dup", fd)
    assert err == 0 and g.regs("fcntl", d, F_GETFD, 0) == (0, 0)
    assert g.regs("fcntl", fd, 5, 0)[0] == errno.EINVAL          # F_GETLK: no locks in the model
    g.p.proc.p_fd.closeexec()
    assert g.p.proc.p_fd.open_fds() == sorted({fd, 10, d})


def test_pipe2_and_ioctls_on_files_and_pipes(k):
    g = guest(k)
    assert g.regs("pipe2", g.buf + 100, O_NONBLOCK | O_CLOEXEC)[0] == 0
    r, w = struct.unpack("<ii", g.read(100, 8))
    assert g.regs("read", r, g.buf + 200, 10)[0] == errno.EAGAIN
    g.p.mem_write(g.buf + 200, b"ping")
    assert g.regs("write", w, g.buf + 200, 4) == (0, 4)
    assert g.regs("ioctl", r, FIONREAD, g.buf + 300) == (0, 0)
    assert struct.unpack("<i", g.read(300, 4)) == (4,)
    assert g.regs("ioctl", r, TCGETS, g.buf + 300)[0] == errno.ENOTTY
    assert g.regs("pread64", r, g.buf + 200, 4, 0)[0] == errno.ESPIPE
    assert g.regs("read", r, g.buf + 400, 10) == (0, 4) and g.read(400, 4) == b"ping"
    assert g.regs("pipe2", g.buf + 100, 0o40000)[0] == errno.EINVAL       # O_DIRECT
    assert g.regs("pipe", 0x10)[0] == errno.EFAULT
    err, fd = g.regs("openat", AT_FDCWD, g.cstr("/dev/null"), O_RDWR, 0)
    assert g.regs("ioctl", fd, TIOCGWINSZ, g.buf)[0] == errno.ENOTTY
    assert g.regs("ioctl", fd, TCGETS, g.buf)[0] == errno.ENOTTY
    assert g.regs("ioctl", fd, 0x12345, g.buf)[0] == errno.EINVAL


def test_readlink_access_and_unlinkat(k):
    g = guest(k)
    g.p.symlink("target/path", "/l")
    assert g.regs("readlink", g.cstr("/l"), g.buf + 100, 64) == (0, 11)
    assert g.read(100, 11) == b"target/path"
    assert g.regs("readlinkat", AT_FDCWD, g.cstr("/l"), g.buf + 100, 4) == (0, 4)
    assert g.regs("readlink", g.cstr("/l"), g.buf + 100, 0)[0] == errno.EINVAL
    g.p.mkdir("/dir")
    assert g.regs("readlink", g.cstr("/dir"), g.buf + 100, 64)[0] == errno.EINVAL
    assert g.regs("access", g.cstr("/dir"), 7)[0] == 0
    assert g.regs("access", g.cstr("/nope"), 0)[0] == errno.ENOENT
    assert g.regs("faccessat2", AT_FDCWD, g.cstr("/l"), 0, AT_SYMLINK_NOFOLLOW)[0] == 0
    assert g.regs("faccessat", AT_FDCWD, g.cstr("/l"), 0)[0] == errno.ENOENT   # dangling
    g.p.open("/dir/f", os.O_CREAT | os.O_WRONLY)
    assert g.regs("unlinkat", AT_FDCWD, g.cstr("/dir"), AT_REMOVEDIR)[0] == errno.ENOTEMPTY
    assert g.regs("unlinkat", AT_FDCWD, g.cstr("/dir/f"), 0)[0] == 0
    assert g.regs("unlinkat", AT_FDCWD, g.cstr("/dir"), AT_REMOVEDIR)[0] == 0
    assert g.regs("unlinkat", AT_FDCWD, g.cstr("/l"), 0x4000)[0] == errno.EINVAL


def test_unprivileged_access_checks_use_the_real_ids(k):
    g = guest(k, uid=1000, gid=1000)
    root = guest(k)
    root.p.open("/secret", os.O_CREAT | os.O_WRONLY, 0o600)
    assert g.regs("access", g.cstr("/secret"), 4)[0] == errno.EACCES
    assert g.regs("openat", AT_FDCWD, g.cstr("/secret"), O_RDONLY, 0)[0] == errno.EACCES
    assert g.regs("umask", 0o077) == (0, 0o022)
    err, fd = g.regs("openat", AT_FDCWD, g.cstr("/mine"), O_CREAT | O_WRONLY, 0o666)
    assert err == 0 and g.p.stat("/mine").st_mode & 0o777 == 0o600


# -- stat ------------------------------------------------------------------------------------------
def test_stat_calls_write_linux_struct_stat(k):
    g = guest(k)
    fd = g.p.open("/s", os.O_CREAT | os.O_RDWR)
    g.p.write(fd, b"x" * 5000)
    st = g.p.stat("/s")
    for name, regs in (("stat", (g.cstr("/s", 0), g.buf + 4096)), ("fstat", (fd, g.buf + 4096)),
                       ("newfstatat", (fd, g.cstr("", 100), g.buf + 4096, AT_EMPTY_PATH)),
                       ("newfstatat", (AT_FDCWD, g.cstr("s", 200), g.buf + 4096, 0))):
        assert g.regs(name, *regs) == (0, 0), name
        got = unpack_stat(g.read(4096, 144))
        assert (got["mode"], got["size"], got["ino"], got["nlink"], got["uid"]) == (
            st.st_mode, 5000, st.st_ino, 1, 0), name
        assert got["mtime"] + got["mtime_nsec"] / 1e9 == pytest.approx(st.st_mtime, abs=1e-6)
    g.p.symlink("s", "/sl")
    assert g.regs("lstat", g.cstr("/sl"), g.buf + 4096) == (0, 0)
    assert unpack_stat(g.read(4096, 144))["mode"] & 0o170000 == 0o120000
    assert g.regs("newfstatat", AT_FDCWD, g.cstr("/sl"), g.buf, AT_SYMLINK_NOFOLLOW) == (0, 0)
    assert unpack_stat(g.read(0, 144))["mode"] & 0o170000 == 0o120000
    assert g.regs("newfstatat", AT_FDCWD, g.cstr(""), g.buf, 0)[0] == errno.ENOENT
    assert g.regs("newfstatat", AT_FDCWD, g.cstr("/s"), g.buf, 0x8)[0] == errno.EINVAL
    assert g.regs("fstat", fd, 0x10)[0] == errno.EFAULT
    assert g.regs("pipe", g.buf)[0] == 0
    r = struct.unpack("<i", g.read(0, 4))[0]
    assert g.regs("fstat", r, g.buf + 4096) == (0, 0)
    assert unpack_stat(g.read(4096, 144))["mode"] & 0o170000 == 0o010000     # a FIFO


def test_newfstatat_and_statx_of_a_host_file_equal_os_stat(hk):
    g = guest(hk)
    path = os.path.realpath(__file__)
    host = os.stat(path)
    assert g.regs("newfstatat", AT_FDCWD, g.cstr(path), g.buf + 4096, 0) == (0, 0)
    got = unpack_stat(g.read(4096, 144))
    assert (got["ino"], got["mode"], got["nlink"], got["uid"], got["gid"], got["size"],
            got["blocks"], got["blksize"]) == (host.st_ino, host.st_mode, host.st_nlink,
                                               host.st_uid, host.st_gid, host.st_size,
                                               host.st_blocks, host.st_blksize)
    for field in ("atime", "mtime", "ctime"):
        ns = getattr(host, f"st_{field}_ns")
        assert (got[field], got[f"{field}_nsec"]) == divmod(ns, 10**9), field
    assert g.regs("statx", AT_FDCWD, g.cstr(path), 0, 0x7FF, g.buf + 8192) == (0, 0)
    raw = g.read(8192, 256)
    mask, blksize, _attrs, nlink, uid, gid, mode = struct.unpack_from("<IIQIIIH", raw)
    ino, size, blocks = struct.unpack_from("<QQQ", raw, 32)
    mtime_sec, mtime_nsec = struct.unpack_from("<qI", raw, 112)
    assert mask & 0x7FF == 0x7FF
    assert (nlink, uid, gid, mode, ino, size, blocks, blksize) == (
        host.st_nlink, host.st_uid, host.st_gid, host.st_mode, host.st_ino, host.st_size,
        host.st_blocks, host.st_blksize)
    assert (mtime_sec, mtime_nsec) == divmod(host.st_mtime_ns, 10**9)
    assert g.regs("statx", AT_FDCWD, g.cstr(path), 0, 0x80000000, g.buf)[0] == errno.EINVAL


# -- misc ------------------------------------------------------------------------------------------
def test_uname_and_sysinfo_layouts(k):
    g = guest(k)
    assert g.regs("uname", g.buf) == (0, 0)
    fields = [g.read(65 * i, 65).split(b"\0")[0].decode() for i in range(6)]
    assert fields[0] == "Linux" and fields[4] == "x86_64" and fields[1] == os.uname().nodename
    assert g.regs("sysinfo", g.buf) == (0, 0)
    vals = struct.unpack("<qQQQQQQQQQHH4xQQI4x", g.read(0, 112))
    uptime, totalram, freeram, totalswap, freeswap, procs, mem_unit = (
        vals[0], vals[4], vals[5], vals[8], vals[9], vals[10], vals[14])
    assert totalram == 64 << 20 and totalswap == 32 << 20 and mem_unit == 1
    assert 0 < freeram < totalram and freeswap == totalswap and procs == len(k.procs)
    assert uptime >= 0


def test_clocks_and_time(k):
    g = guest(k)
    assert g.regs("clock_gettime", 1, g.buf) == (0, 0)
    a = struct.unpack("<qq", g.read(0, 16))
    assert g.regs("clock_gettime", 1, g.buf) == (0, 0)
    b = struct.unpack("<qq", g.read(0, 16))
    assert b >= a and 0 <= b[1] < 10**9
    assert g.regs("clock_gettime", 11, g.buf)[0] == errno.EINVAL          # CLOCK_TAI
    assert g.regs("clock_getres", 0, 0) == (0, 0)
    assert g.regs("clock_getres", 5, g.buf) == (0, 0)
    assert struct.unpack("<qq", g.read(0, 16)) == (0, 4_000_000)
    assert g.regs("gettimeofday", g.buf, g.buf + 16) == (0, 0)
    sec, usec = struct.unpack("<qq", g.read(0, 16))
    assert abs(sec + usec / 1e6 - time.time()) < 5 and 0 <= usec < 10**6
    err, now = g.regs("time", g.buf + 100)
    assert err == 0 and struct.unpack("<q", g.read(100, 8))[0] == now
    assert g.regs("time", 0x10)[0] == errno.EFAULT


def test_getrandom_fills_the_buffer(k):
    g = guest(k)
    assert g.regs("getrandom", g.buf, 64, 0) == (0, 64)
    assert g.read(0, 64) != bytes(64)
    assert g.regs("getrandom", g.buf, 64, 0x8)[0] == errno.EINVAL
    assert g.regs("getrandom", g.buf, 64, 0x6)[0] == errno.EINVAL      # RANDOM with INSECURE
    err, n, uap = g.py("getrandom", buf=None, count=16, flags=1)
    assert (err, n, len(uap.buf.sysbuf)) == (0, 16, 16)


def test_prlimit64_translates_resources_and_infinity(k):
    g = guest(k, uid=1000, gid=1000)
    assert g.regs("prlimit64", 0, 7, 0, g.buf) == (0, 0)                 # Linux RLIMIT_NOFILE
    assert struct.unpack("<QQ", g.read(0, 16)) == (1024, 1024)
    assert g.regs("getrlimit", 0, g.buf) == (0, 0)                        # RLIMIT_CPU
    assert struct.unpack("<QQ", g.read(0, 16)) == (2**64 - 1, 2**64 - 1)
    g.p.mem_write(g.buf + 100, struct.pack("<QQ", 1 << 20, 1 << 21))
    assert g.regs("prlimit64", g.p.pid, 3, g.buf + 100, g.buf) == (0, 0)  # STACK: old, then set
    assert struct.unpack("<QQ", g.read(0, 16)) == (k.arch.maxssiz, k.arch.maxssiz)
    assert g.p.getrlimit(3) == (1 << 20, 1 << 21)
    g.p.mem_write(g.buf + 100, struct.pack("<QQ", 1 << 20, 1 << 22))
    assert g.regs("setrlimit", 3, g.buf + 100)[0] == errno.EPERM         # raising the hard limit
    g.p.mem_write(g.buf + 100, struct.pack("<QQ", 1 << 22, 1 << 21))
    assert g.regs("setrlimit", 3, g.buf + 100)[0] == errno.EINVAL        # cur > max
    assert g.regs("prlimit64", 0, 13, 0, g.buf)[0] == errno.EINVAL       # RLIMIT_NICE: not in 7.x
    assert g.regs("prlimit64", 99999, 7, 0, g.buf)[0] == errno.ESRCH
    other = k.spawn(uid=0)
    assert g.regs("prlimit64", other.pid, 7, 0, g.buf)[0] == errno.EPERM


def test_identities_and_thread_start_up_calls(k):
    p = k.spawn(uid=1000, gid=100, groups=(5, 6))
    g = Guest(k, p, p.mmap(0, 1 << 16, 3, 0x1000 | 0x2))
    assert g.regs("getuid") == (0, 1000) and g.regs("geteuid") == (0, 1000)
    assert g.regs("getgid") == (0, 100) and g.regs("getegid") == (0, 100)
    assert g.regs("getpid") == (0, p.pid) and g.regs("gettid") == (0, p.pid)
    assert g.regs("getppid") == (0, 1)              # no parent in the model: init's
    child = p.fork()
    assert Guest(k, child, 0).regs("getppid") == (0, p.pid)
    assert g.regs("getgroups", 0, 0) == (0, 2)
    assert g.regs("getgroups", 2, g.buf) == (0, 2) and struct.unpack("<II", g.read(0, 8)) == (5, 6)
    assert g.regs("getgroups", 1, g.buf)[0] == errno.EINVAL
    assert g.regs("getresuid", g.buf, g.buf + 4, g.buf + 8) == (0, 0)
    assert struct.unpack("<III", g.read(0, 12)) == (1000, 1000, 1000)
    assert g.regs("set_tid_address", g.buf + 64) == (0, p.pid)
    assert g.regs("set_robust_list", g.buf, 24) == (0, 0)
    assert g.regs("set_robust_list", g.buf, 16)[0] == errno.EINVAL
    assert g.regs("sched_getaffinity", 0, 128, g.buf) == (0, 8)
    assert struct.unpack("<Q", g.read(0, 8)) == (1,)
    assert g.regs("sched_getaffinity", 0, 4, g.buf)[0] == errno.EINVAL
    assert g.regs("sched_yield") == (0, 0)


def test_symlink_chmod_chown_through_paths_and_descriptors(k):
    g = guest(k)
    assert g.regs("symlink", g.cstr("/t", 0), g.cstr("/ln", 100))[0] == 0
    err, fd = g.regs("openat", AT_FDCWD, g.cstr("/t"), O_CREAT | O_WRONLY, 0o644)
    assert g.regs("chmod", g.cstr("/ln"), 0o600)[0] == 0                  # follows the link
    assert g.p.stat("/t").st_mode & 0o7777 == 0o600
    assert g.regs("fchmod", fd, 0o640)[0] == 0 and g.p.stat("/t").st_mode & 0o777 == 0o640
    assert g.regs("chown", g.cstr("/t"), 1000, 2**32 - 1)[0] == 0         # (gid_t)-1: unchanged
    st = g.p.stat("/t")
    assert (st.st_uid, st.st_gid) == (1000, 0)
    assert g.regs("fchown", fd, 2**32 - 1, 7)[0] == 0 and g.p.stat("/t").st_gid == 7
    assert g.regs("lchown", g.cstr("/ln"), 5, 5)[0] == 0
    assert g.p.stat("/t").st_uid == 1000
    assert g.regs("fchownat", fd, g.cstr(""), 9, 9, AT_EMPTY_PATH)[0] == 0
    assert g.p.stat("/t").st_uid == 9
    err, dfd = g.regs("openat", AT_FDCWD, g.cstr("/"), O_DIRECTORY, 0)
    assert g.regs("symlinkat", g.cstr("t", 0), dfd, g.cstr("ln2", 100))[0] == 0
    assert g.regs("fchmodat", dfd, g.cstr("ln2"), 0o400)[0] == 0
    assert g.p.stat("/t").st_mode & 0o777 == 0o400
    user = guest(k, uid=1000)
    assert user.regs("chmod", user.cstr("/t"), 0o777)[0] == errno.EPERM


def test_table_abi_dispatches_any_call_of_a_table_by_name(k):
    from bsdvm.compat.linux.linux_abi import TableABI
    p = k.spawn()
    abi = TableABI(p, linux_sysent)
    res = abi.mmap(0, 4096, 3, L.MAP_PRIVATE | L.MAP_ANONYMOUS, -1, 0)
    assert res.ok and res.ret and abi.munmap(res.ret, 4096).ret == 0
    assert abi.getpid().ret == p.pid
    assert abi.close(99).errno == "EBADF"
    with pytest.raises(AttributeError):
        _ = abi.minherit                                                  # not a Linux call
    res = L.LinuxABI(p).mincore(p.maps()[0].start, 8192)
    assert res.ok and set(res.bsd["vec"]) <= {0, 1} and len(res.bsd["vec"]) == 2


def test_table_abi_over_the_native_table_answers_as_native_abi():
    """Replay's switch for kdump traces: TableABI(proc, freebsd_sysent) in place of NativeABI."""
    from bsdvm import mman
    from bsdvm.compat.linux.linux_abi import NativeABI, TableABI
    from bsdvm.kern.init_sysent import freebsd_sysent

    def run(make_abi):
        with Kernel(physmem="32M", swap="16M") as k:
            p = k.spawn()
            abi = make_abi(p)
            out = []
            r = abi.mmap(0, 8 * 4096, mman.PROT_READ | mman.PROT_WRITE, mman.MAP_PRIVATE | mman.MAP_ANON,
                         -1, 0)
            a = r.ret
            p.mem_write(a, b"x" * 4096)
            for res in (r, abi.mprotect(a, 4096, mman.PROT_READ), abi.madvise(a, 4096, 99),
                        abi.minherit(a, 4096, mman.INHERIT_NONE), abi.mincore(a, 3 * 4096),
                        abi.mlock(a, 4096), abi.munlock(a, 4096), abi.mlockall(7),
                        abi.munlockall(), abi.msync(a, 4096, mman.MS_ASYNC),
                        abi.obreak(p.brk_current() + 4096), abi.munmap(0x10000000, 4096),
                        abi.munmap(a, 8 * 4096)):
                out.append((res.ret, res.errno, res.bsd))
            return out

    assert run(lambda p: TableABI(p, freebsd_sysent)) == run(NativeABI)
