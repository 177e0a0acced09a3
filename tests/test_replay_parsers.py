"""The trace parsers of `bsdvm replay` on hand-written lines: every shape of strace and kdump output
the replay reads."""
from bsdvm.compat import linux as L
from bsdvm.compat.trace import detect_format, parse_kdump, parse_strace, parse_text
from bsdvm import mman


def one(line):
    recs = parse_strace([line])
    assert len(recs) == 1, recs
    return recs[0]


# -- strace -------------------------------------------------------------------------------------

def test_strace_plain_mmap_without_pid():
    r = one("mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
            "0x7f348917d000")
    assert (r.kind, r.pid, r.name, r.abi) == ("call", None, "mmap", "linux")
    assert r.args == dict(addr=0, length=8192, prot=L.PROT_READ | L.PROT_WRITE,
                          flags=L.MAP_PRIVATE | L.MAP_ANONYMOUS, fd=-1, offset=0)
    assert r.ret == 0x7f348917d000 and r.errno is None and r.ok


def test_strace_pid_prefixes_and_timestamps():
    a = one("[pid  1234] munmap(0x7f0000001000, 4096) = 0")
    b = one("1234  mprotect(0x7f0000001000, 4096, PROT_READ) = 0")
    c = one("12:00:01.123456 brk(NULL)               = 0x556a745b4000")
    d = one("1234  1700000000.123456 brk(0x556a745d5000) = 0x556a745d5000")
    e = one("     0.000123 madvise(0x7f0000000000, 8192, MADV_DONTNEED) = 0 <0.000012>")
    f = one("[pid 77] 09:10:11 close(3) = 0")
    assert (a.pid, a.name, a.args) == (1234, "munmap", dict(addr=0x7f0000001000, length=4096))
    assert (b.pid, b.args["prot"]) == (1234, L.PROT_READ)
    assert (c.pid, c.args["addr"], c.ret) == (None, 0, 0x556a745b4000)
    assert (d.pid, d.args["addr"], d.ret) == (1234, 0x556a745d5000, 0x556a745d5000)
    assert (e.pid, e.args["advice"], e.ret) == (None, L.MADV_DONTNEED, 0)
    assert (f.pid, f.name, f.args["fd"]) == (77, "close", 3)


def test_strace_errors():
    r = one("mmap(NULL, 1099511627776, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM "
            "(Cannot allocate memory)")
    assert r.ret == -1 and r.errno == "ENOMEM" and not r.ok
    r = one("mincore(0x7f9c090f7001, 4096, 0x7ffd96684720) = -1 EINVAL (Invalid argument)")
    assert r.errno == "EINVAL" and r.args["vec"] is None


def test_strace_descriptor_decorations():
    r = one("mmap(0x7f3488f8a000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|"
            "MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libc.so.6>, 0x26000) = 0x7f3488f8a000")
    assert r.args["fd"] == 3 and r.args["path"] == "/usr/lib/x86_64-linux-gnu/libc.so.6"
    assert r.args["offset"] == 0x26000
    assert r.args["flags"] == L.MAP_PRIVATE | L.MAP_FIXED | L.MAP_DENYWRITE
    r = one('openat(AT_FDCWD</work/main>, "/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC)'
            " = 3</usr/lib/x86_64-linux-gnu/libc.so.6>")
    assert r.args["dirfd"] == L.AT_FDCWD and r.args["dirfd_path"] == "/work/main"
    assert r.args["path"] == "/lib/x86_64-linux-gnu/libc.so.6"
    assert r.args["oflags"] == L.O_RDONLY | L.O_CLOEXEC
    assert r.ret == 3 and r.args["ret_path"] == "/usr/lib/x86_64-linux-gnu/libc.so.6"
    r = one("close(4<socket:[12631]>) = 0")
    assert r.args == dict(fd=4, path="socket:[12631]")
    r = one('openat(AT_FDCWD, "/tmp/a,b (x)", O_RDWR|O_CREAT|O_TRUNC, 0644) = 5</tmp/a,b (x)>')
    assert r.args["path"] == "/tmp/a,b (x)" and r.args["mode"] == 0o644
    assert r.args["oflags"] == L.O_RDWR | L.O_CREAT | L.O_TRUNC and r.ret == 5
    r = one('open("/etc/x\\"y\\n", O_RDONLY) = -1 ENOENT (No such file or directory)')
    assert r.args["path"] == '/etc/x"y\n' and r.errno == "ENOENT"


def test_strace_unfinished_and_resumed_interleaved():
    recs = parse_strace([
        "[pid 10] mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 "
        "<unfinished ...>",
        "[pid 11] munmap(0x7f0000000000, 4096 <unfinished ...>",
        "[pid 10] <... mmap resumed>) = 0x7f1000000000",
        "[pid 11] <... munmap resumed>) = 0",
        "[pid 12] close(3</etc/passwd> <unfinished ...>",
        "[pid 12] <... close resumed>)             = 0",
        "[pid 13] mprotect(0x7f2000000000, 4096, <unfinished ...>",
        "[pid 13] <... mprotect resumed>PROT_READ) = 0",
    ])
    assert [(r.pid, r.name) for r in recs] == [(10, "mmap"), (11, "munmap"), (12, "close"),
                                              (13, "mprotect")]
    assert recs[0].args["length"] == 8192 and recs[0].ret == 0x7f1000000000
    assert recs[0].info["resumed"] and recs[0].info["started_at"] == 1
    assert recs[0].lineno == 3
    assert recs[1].args == dict(addr=0x7f0000000000, length=4096) and recs[1].ret == 0
    assert recs[2].args == dict(fd=3, path="/etc/passwd")
    assert recs[3].args["prot"] == L.PROT_READ and recs[3].ret == 0


def test_strace_resumed_without_start_and_never_resumed():
    recs = parse_strace([
        "[pid 20] <... mmap resumed>) = 0x7f0000000000",
        "[pid 21] mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 <unfinished ...>",
        "[pid 21] +++ killed by SIGKILL +++",
        "[pid 22] munmap(0x7f0000000000, 4096 <unfinished ...>",
    ])
    assert recs[0].name == "mmap" and recs[0].ret == 0x7f0000000000
    assert recs[0].info["unparsed"] == "resumed without its start" and recs[0].args == {}
    assert recs[1].kind == "killed" and recs[1].pid == 21 and recs[1].name == "SIGKILL"
    assert recs[2].name == "munmap" and recs[2].ret is None
    assert recs[2].info["never_resumed"]


def test_strace_signals_exits_and_noise():
    recs = parse_strace([
        "strace: Process 1235 attached",
        "1234  --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---",
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=9070, si_uid=0} ---",
        "[pid 7] --- stopped by SIGSTOP ---",
        "1234  +++ killed by SIGSEGV (core dumped) +++",
        "+++ exited with 0 +++",
        "[pid 9] +++ exited with 3 +++",
        "[pid 8] +++ superseded by execve in pid 7 +++",
        "[ Process PID=5 runs in 32 bit mode. ]",
        "hello from the program's own output",
        "exit_group(0)                           = ?",
    ])
    kinds = [(r.kind, r.pid, r.name) for r in recs]
    assert kinds == [("signal", 1234, "SIGSEGV"), ("signal", None, "SIGCHLD"),
                     ("signal", 7, "SIGSTOP"), ("killed", 1234, "SIGSEGV"),
                     ("exit", None, "exit"), ("exit", 9, "exit"), ("exit", 8, "superseded"),
                     ("call", None, "exit_group")]
    assert recs[0].info["si_code"] == "SEGV_MAPERR" and recs[0].info["si_addr"] == "0x10"
    assert recs[2].info["stopped"]
    assert recs[3].info["core"] is True
    assert recs[5].info["status"] == 3
    assert recs[6].info["by"] == 7
    assert recs[7].ret is None and recs[7].info["result_unknown"]


def test_strace_vectors_mremap_flags_and_odd_numbers():
    r = one("mincore(0x7f9c090f7000, 65536, [1, 1, 1, 0, 0, 1, 0, 0]) = 0")
    assert r.args["vec"] == [1, 1, 1, 0, 0, 1, 0, 0]
    r = one("mincore(0x7f9c090f7000, 65536, [1, 1, ...]) = 0")
    assert r.args["vec"] == [1, 1] and r.info["vec_truncated"]
    r = one("mremap(0x7f9c092ed000, 8192, 262144, MREMAP_MAYMOVE) = 0x7f9c090af000")
    assert r.args == dict(addr=0x7f9c092ed000, old_length=8192, new_length=262144,
                          flags=L.MREMAP_MAYMOVE)
    r = one("mremap(0x7f0000000000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0x7f1000000000) "
            "= 0x7f1000000000")
    assert r.args["new_addr"] == 0x7f1000000000
    assert r.args["flags"] == L.MREMAP_MAYMOVE | L.MREMAP_FIXED
    r = one("mmap(NULL, 2097152, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|"
            "21<<MAP_HUGE_SHIFT|0x4000000, -1, 0) = -1 ENOMEM (Cannot allocate memory)")
    assert r.args["flags"] == (L.MAP_PRIVATE | L.MAP_ANONYMOUS | L.MAP_HUGETLB |
                               (21 << L.MAP_HUGE_SHIFT) | 0x4000000)
    r = one("mmap2(0xb7700000, 4096, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|"
            "MAP_ANONYMOUS, -1, 0) = 0xb7700000")
    assert r.name == "mmap2" and r.args["prot"] == 7
    r = one("mprotect(0x7ffd00000000, 4096, PROT_READ|PROT_WRITE|PROT_EXEC|PROT_GROWSDOWN) = 0")
    assert r.args["prot"] == 7 | L.PROT_GROWSDOWN
    r = one("msync(0x7f0000000000, 4096, MS_ASYNC|MS_INVALIDATE) = 0")
    assert r.args["flags"] == L.MS_ASYNC | L.MS_INVALIDATE
    r = one("mlockall(MCL_CURRENT|MCL_FUTURE) = 0")
    assert r.args["flags"] == 3
    r = one("mlock2(0x7f0000000000, 4096, MLOCK_ONFAULT) = 0")
    assert r.args["flags"] == L.MLOCK_ONFAULT
    r = one("mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_BOGUS, -1, 0) = 0x7f0000000000")
    assert r.info["unknown_symbols"] == ["MAP_BOGUS"] and r.args["flags"] == L.MAP_PRIVATE
    r = one("munlockall() = 0")
    assert r.name == "munlockall" and r.args == {}


def test_strace_process_calls():
    recs = parse_strace([
        "100   clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
        "child_tidptr=0x7f00) = 101",
        "100   clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, "
        "exit_signal=0, stack=0x7f00, stack_size=0x7fff00}, 88 <unfinished ...>",
        "102   mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000",
        "100   <... clone3 resumed>) = 102",
        '101   execve("/bin/true", ["true"], 0x7ffc /* 20 vars */) = 0',
        "103   vfork( <unfinished ...>",
    ])
    kinds = [(r.kind, r.pid, r.name) for r in recs]
    assert kinds == [("call", 100, "clone"), ("forking", 100, "clone3"), ("call", 102, "mmap"),
                     ("call", 100, "clone3"), ("call", 101, "execve"), ("forking", 103, "vfork"),
                     ("call", 103, "vfork")]
    assert recs[0].ret == 101 and recs[0].args["flags"] & L.CLONE_CHILD_SETTID
    assert recs[0].args["flags"] & 0xFF == L.LINUX_SIGNALS["SIGCHLD"]
    assert recs[1].args["flags"] & L.CLONE_VM and recs[1].args["flags"] & L.CLONE_THREAD
    assert recs[3].ret == 102 and recs[3].args["flags"] & L.CLONE_THREAD
    assert recs[4].args["path"] == "/bin/true"
    assert recs[5].args["flags"] & L.CLONE_VM and recs[6].ret is None


# -- kdump --------------------------------------------------------------------------------------

KDUMP = """\
 73237 ls       CALL  mmap(0,0x1000,0x3,0x1002,0xffffffff,0,0)
 73237 ls       RET   mmap 34366234624/0x800632000
 73237 ls       CALL  mmap(0,0x2000,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANON,0xffffffff,0,0)
 73237 ls       RET   mmap 34366242816/0x800634000
 73237 ls       CALL  open(0x800633e24,O_RDONLY,<unused>0)
 73237 ls       NAMI  "/lib/libc.so.7"
 73237 ls       RET   open 3
 73237 ls       CALL  mmap(0,0x100000,0x5,0x2,0x3,0,0x1000)
 73237 ls       RET   mmap 34366251008/0x800636000
 73237 ls       CALL  open(0x800633e30,0,0)
 73237 ls       NAMI  "/etc/libmap.conf"
 73237 ls       RET   open -1 errno 2 No such file or directory
 73237 ls       CALL  close(0x3)
 73237 ls       RET   close 0
 73237 ls       CALL  munmap(0x800632000,0x1000)
 73237 ls       RET   munmap 0
 73237 ls       CALL  mprotect(0x800636000,0x1000,PROT_READ)
 73237 ls       RET   mprotect 0
 73237 ls       CALL  madvise(0x800634000,0x2000,MADV_FREE)
 73237 ls       RET   madvise 0
 73237 ls       CALL  mincore(0x800634000,0x2000,0x7fffffffe000)
 73237 ls       RET   mincore 0
 73237 ls       CALL  mlock(0x800634000,0x1000)
 73237 ls       RET   mlock -1 errno 1 Operation not permitted
 73237 ls       CALL  msync(0x800634000,0x1000,0x1)
 73237 ls       RET   msync 0
 73237 ls       CALL  minherit(0x800634000,0x1000,0x2)
 73237 ls       RET   minherit 0
 73237 ls       CALL  break(0x602000)
 73237 ls       RET   break 0
 73237 ls       PSIG  SIGSEGV SIG_DFL code=SEGV_MAPERR
 73237 ls       CALL  exit(0)
"""


def test_kdump_every_call():
    recs = parse_kdump(KDUMP.splitlines())
    names = [(r.kind, r.name) for r in recs]
    assert names == [("call", "mmap"), ("call", "mmap"), ("call", "open"), ("call", "mmap"),
                     ("call", "open"), ("call", "close"), ("call", "munmap"),
                     ("call", "mprotect"), ("call", "madvise"), ("call", "mincore"),
                     ("call", "mlock"), ("call", "msync"), ("call", "minherit"),
                     ("call", "break"), ("signal", "SIGSEGV"), ("exit", "exit")]
    assert all(r.abi == "freebsd" and r.pid == 73237 for r in recs)
    m0, m1, o, m2, o2 = recs[:5]
    assert m0.args == dict(addr=0, length=0x1000, prot=3, flags=0x1002, fd=-1, offset=0)
    assert m0.ret == 0x800632000 and m0.info["pad"]
    assert m1.args["prot"] == mman.PROT_READ | mman.PROT_WRITE
    assert m1.args["flags"] == mman.MAP_PRIVATE | mman.MAP_ANON and m1.args["fd"] == -1
    assert o.args["path"] == "/lib/libc.so.7" and o.ret == 3 and o.args["oflags"] == 0
    assert m2.args["fd"] == 3 and m2.args["offset"] == 0x1000 and m2.args["prot"] == 5
    assert o2.errno == "ENOENT" and o2.ret == -1 and o2.args["path"] == "/etc/libmap.conf"
    by = {r.name: r for r in recs if r.kind == "call"}
    assert by["close"].args["fd"] == 3
    assert by["madvise"].args["advice"] == mman.MADV_FREE
    assert by["mlock"].errno == "EPERM"
    assert by["minherit"].args["inherit"] == mman.INHERIT_NONE
    assert by["break"].args["addr"] == 0x602000 and by["break"].ret == 0
    assert recs[-2].info["code"] == "SEGV_MAPERR" and recs[-2].info["disposition"] == "SIG_DFL"
    assert recs[-1].info["status"] == 0


def test_kdump_layouts_threads_timestamps_and_interleaving():
    lines = [
        # i386 7.x: fd, pad, offset low, offset high
        "  500 a.out    CALL  mmap(0,0x1000,0x1,0x1,0x4,0,0x2000,0x1)",
        # two processes interleaved; -H thread ids and -T timestamps
        "  501 100077 b 1234567890.000001 CALL  munmap(0x800632000,0x1000)",
        "  502 100078 c 1234567890.000002 CALL  mprotect(0x800632000,0x1000,0x1<PROT_READ>)",
        "  502 100078 c 1234567890.000003 RET   mprotect -1 errno 22 Invalid argument",
        "  501 100077 b 1234567890.000004 RET   munmap 0",
        "  500 a.out    RET   mmap 134512640/0x8048000",
        # 8.x and later: no pad
        "  503 d        CALL  mmap(0x0,0x1000,0x3<PROT_READ|PROT_WRITE>,0x1002<MAP_PRIVATE|"
        "MAP_ANON>,0xffffffff,0)",
        "  503 d        RET   mmap 34366234624/0x800632000",
        "  503 d        CALL  fork",
        "  504 d        RET   fork 0",
        "  503 d        RET   fork 504",
        "  503 d        CALL  openat(AT_FDCWD,0x800633e24,0x100000<O_RDONLY|O_CLOEXEC>)",
        '  503 d        NAMI  "/etc/x"',
        "  503 d        RET   openat 3",
    ]
    recs = parse_kdump(lines)
    assert [(r.pid, r.name) for r in recs] == [(502, "mprotect"), (501, "munmap"), (500, "mmap"),
                                              (503, "mmap"), (503, "fork"), (503, "openat")]
    assert recs[0].errno == "EINVAL" and recs[0].args["prot"] == 1
    assert recs[1].ret == 0
    assert recs[2].args["offset"] == 0x100002000 and recs[2].args["fd"] == 4
    assert recs[3].args["prot"] == 3 and recs[3].args["fd"] == -1 and recs[3].args["offset"] == 0
    assert recs[4].ret == 504
    assert recs[5].args["path"] == "/etc/x" and recs[5].args["oflags"] == 0x100000


def test_detect_format_and_parse_text():
    assert detect_format(KDUMP.splitlines()) == "kdump"
    st = "brk(NULL) = 0x1000\n+++ exited with 0 +++\n"
    assert detect_format(st.splitlines()) == "strace"
    assert [r.name for r in parse_text(st)] == ["brk", "exit"]
    assert parse_text(KDUMP)[0].abi == "freebsd"
