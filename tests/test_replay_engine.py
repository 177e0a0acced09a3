"""The Linux ABI layer and the replay engine on hand-made traces: translation of every Linux bit,
relocation through ties, stand-ins, splits, processes, files and the kdump (native) path."""
import os

import pytest

from bsdvm import Kernel, mman
from bsdvm.compat import linux as L
from bsdvm.compat.replay import Replayer, Status, Ties
from bsdvm.compat.trace import parse_kdump, parse_strace

PG = 4096


@pytest.fixture
def k():
    with Kernel(physmem="64M", swap="64M") as kern:
        yield kern


# -- ties -----------------------------------------------------------------------------------------

def test_ties_set_remove_pieces_and_merge():
    t = Ties()
    t.set(0x10000, 0x20000, 0x900000)
    t.set(0x20000, 0x30000, 0x910000)          # continues the same translation: merged
    assert list(t) == [(0x10000, 0x30000, 0x900000)]
    t.set(0x40000, 0x50000, 0x100000)
    assert t.translate(0x18123) == 0x908123 and t.translate(0x38000) is None
    assert t.pieces(0x2f000, 0x42000) == [(0x2f000, 0x30000, 0x91f000), (0x30000, 0x40000, None),
                                         (0x40000, 0x42000, 0x100000)]
    t.remove(0x14000, 0x16000)                 # punch a hole
    assert list(t)[:2] == [(0x10000, 0x14000, 0x900000), (0x16000, 0x30000, 0x906000)]
    t.set(0x12000, 0x18000, 0x700000)          # overwrite across the hole
    assert t.translate(0x13000) == 0x701000 and t.translate(0x18000) == 0x908000
    c = t.copy()
    c.remove(0, 1 << 48)
    assert len(c) == 0 and len(t) == 4


# -- the Linux ABI layer --------------------------------------------------------------------------

def test_linux_mmap_flag_translation_reports_every_dropped_bit(k):
    p = k.spawn()
    abi = L.LinuxABI(p)
    flags = (L.MAP_PRIVATE | L.MAP_ANONYMOUS | L.MAP_DENYWRITE | L.MAP_EXECUTABLE | L.MAP_LOCKED |
             L.MAP_NORESERVE | L.MAP_POPULATE | L.MAP_NONBLOCK | L.MAP_STACK | L.MAP_HUGETLB |
             L.MAP_32BIT | L.MAP_FIXED_NOREPLACE | 0x800000)
    r = abi.mmap(0, 2 * PG, L.PROT_READ | L.PROT_WRITE, flags, 7, 0)
    assert r.ok and r.ret
    names = {n.split(":")[0] for n in r.notes}
    for want in ("MAP_DENYWRITE", "MAP_EXECUTABLE", "MAP_LOCKED", "MAP_NORESERVE", "MAP_POPULATE",
                 "MAP_NONBLOCK", "MAP_STACK", "MAP_HUGETLB", "MAP_32BIT", "MAP_FIXED_NOREPLACE",
                 "0x800000"):
        assert want in names, want
    # fd ignored with MAP_ANONYMOUS; the FreeBSD call is MAP_PRIVATE|MAP_ANON
    assert r.bsd["args"][3] == mman.MAP_PRIVATE | mman.MAP_ANON and r.bsd["args"][4] == -1
    e = [m for m in p.maps() if m.start == r.ret][0]
    assert e.wired_count == 0 and e.resident == 0      # MAP_LOCKED/POPULATE not honoured


def test_linux_mmap_rejections(k):
    abi = L.LinuxABI(k.spawn())
    r = abi.mmap(0, PG, 1, L.MAP_SHARED | L.MAP_PRIVATE | L.MAP_ANONYMOUS)
    assert r.errno == "EINVAL" and "exactly one" in r.why
    r = abi.mmap(0, PG, 1, L.MAP_ANONYMOUS)
    assert r.errno == "EINVAL"
    r = abi.mmap(0, PG, 1, L.MAP_PRIVATE | L.MAP_ANONYMOUS, -1, 123)
    assert r.errno == "EINVAL" and "unaligned" in r.why
    r = abi.mmap(0, PG, 1, L.MAP_PRIVATE, 99, 0)
    assert r.errno == "EBADF" and r.why is None          # the kernel's answer


def test_linux_file_mapping_gets_nosync_and_wronly_is_eacces(k):
    p = k.spawn()
    fd = p.open("/f", os.O_RDWR | os.O_CREAT, 0o644)
    p.ftruncate(fd, PG)
    abi = L.LinuxABI(p)
    r = abi.mmap(0, PG, L.PROT_READ, L.MAP_SHARED, fd, 0)
    assert r.ok and r.bsd["args"][3] == mman.MAP_SHARED | mman.MAP_NOSYNC
    wfd = p.open("/f", os.O_WRONLY)
    r = abi.mmap(0, PG, L.PROT_READ, L.MAP_SHARED, wfd, 0)
    assert r.errno == "EACCES" and "O_WRONLY" in r.why


def test_linux_growsdown_becomes_map_stack(k):
    p = k.spawn()
    abi = L.LinuxABI(p)
    top = 0x7f0000000000
    r = abi.mmap(top, 16 * PG, 3, L.MAP_PRIVATE | L.MAP_ANONYMOUS | L.MAP_GROWSDOWN)
    a = r.bsd["args"]
    assert a[1] == L.STACK_SIZE - L.GUARD_SIZE and a[0] == top - (L.STACK_SIZE - L.GUARD_SIZE
                                                                  - 16 * PG)
    assert a[3] & mman.MAP_STACK
    assert any(n.startswith("MAP_GROWSDOWN") for n in r.notes)


def test_linux_mprotect_madvise_msync(k):
    p = k.spawn()
    abi = L.LinuxABI(p)
    a = abi.mmap(0, 4 * PG, 3, L.MAP_PRIVATE | L.MAP_ANONYMOUS).ret
    r = abi.mprotect(a, PG, L.PROT_READ | L.PROT_GROWSDOWN)
    assert r.ok and "PROT_GROWSDOWN" in r.notes[0]
    assert abi.mprotect(a, PG, 0x10).errno == "EINVAL"
    assert abi.madvise(a, PG, L.MADV_DONTFORK).ok
    assert [m.inheritance for m in p.maps() if m.start == a][0] == mman.INHERIT_NONE
    assert abi.madvise(a, PG, L.MADV_DOFORK).ok
    assert abi.madvise(a, PG, L.MADV_DONTDUMP).ok
    assert "NOCOREDUMP" in [m for m in p.maps() if m.start == a][0].flags
    r = abi.madvise(a, PG, L.MADV_DONTNEED)
    assert r.ok and "not discarded" in r.notes[0]
    for adv in (L.MADV_UNMERGEABLE, L.MADV_HUGEPAGE, L.MADV_FREE, L.MADV_SEQUENTIAL):
        assert abi.madvise(a, PG, adv).ok, adv
    for adv in (L.MADV_REMOVE, L.MADV_MERGEABLE, L.MADV_NOHUGEPAGE, L.MADV_WIPEONFORK,
                L.MADV_HWPOISON, -1, 77):
        r = abi.madvise(a, PG, adv)
        assert r.errno == "EINVAL" and r.why, adv
    assert abi.msync(a, PG, L.MS_SYNC).ok
    assert abi.msync(a, PG, L.MS_SYNC | L.MS_ASYNC).errno == "EINVAL"
    assert abi.msync(a, PG, 0x40).errno == "EINVAL"
    assert abi.msync(a + 1, PG, L.MS_SYNC).errno == "EINVAL"
    # FreeBSD 7's own msync refuses MS_ASYNC|MS_INVALIDATE: an errno from the kernel, not the layer
    r = abi.msync(a, PG, L.MS_ASYNC | L.MS_INVALIDATE)
    assert r.errno == "EINVAL" and r.why is None
    assert abi.mlock2(a, PG, 2).errno == "EINVAL"
    r = abi.mlock2(a, PG, L.MLOCK_ONFAULT)
    assert r.ok and "eagerly" in r.notes[0]
    assert abi.munlock(a, PG).ok
    assert abi.mincore(a, PG).ok


def test_linux_brk_and_mremap(k):
    p = k.spawn()
    abi = L.LinuxABI(p)
    cur = abi.brk(0).ret
    assert cur == p.brk_current()
    r = abi.brk(cur + 3 * PG + 5)
    assert r.ret == cur + 3 * PG + 5                # Linux returns the requested break
    assert abi.brk(p.brk_base() - PG).ret == p.brk_current()     # failure: the old break
    a = abi.mmap(0, 8 * PG, 3, L.MAP_PRIVATE | L.MAP_ANONYMOUS).ret
    r = abi.mremap(a, 8 * PG, 2 * PG)
    assert r.ret == a and sum(m.size for m in p.maps() if a <= m.start < a + 8 * PG) == 2 * PG
    r = abi.mremap(a, 2 * PG, 16 * PG, L.MREMAP_MAYMOVE)
    assert r.errno == "ENOMEM" and "cannot grow" in r.why
    assert abi.mremap(a, PG, PG, 8).errno == "EINVAL"
    assert abi.mremap(a + 1, PG, PG).errno == "EINVAL"


def test_read_implies_exec_on_i386():
    with Kernel(arch="i386", physmem="32M", swap="32M") as k:
        abi = L.LinuxABI(k.spawn())
        assert abi.read_implies_exec
        r = abi.mmap(0, PG, L.PROT_READ, L.MAP_PRIVATE | L.MAP_ANONYMOUS)
        assert r.bsd["args"][2] == L.PROT_READ | L.PROT_EXEC
        assert any("read-implies-exec" in n for n in r.notes)


def test_errno_tables():
    assert L.freebsd_errno_name(35) == "EAGAIN" and L.linux_errno_name(11) == "EAGAIN"
    assert L.freebsd_errno_number("EOPNOTSUPP") == 45 and L.linux_errno_number("EOPNOTSUPP") == 95
    assert L.bsd_to_linux_errno("ENOATTR") == "ENODATA"
    assert L.linux_to_bsd_errno("ENODATA") == "ENOATTR"
    assert L.errno_name("EWOULDBLOCK") == "EAGAIN"
    assert L.errno_class("EPERM") == L.errno_class("EACCES")
    assert L.errno_class("ENOMEM") != L.errno_class("EINVAL")


# -- the engine -----------------------------------------------------------------------------------

LDSO = """\
100   brk(NULL) = 0x555555560000
100   openat(AT_FDCWD, "/nonexistent/libfoo.so", O_RDONLY|O_CLOEXEC) = 3</nonexistent/libfoo.so>
100   mmap(NULL, 40960, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3</nonexistent/libfoo.so>, 0) = 0x7f0000000000
100   mmap(0x7f0000002000, 16384, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3</nonexistent/libfoo.so>, 0x2000) = 0x7f0000002000
100   mmap(0x7f0000008000, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0x7f0000008000
100   close(3</nonexistent/libfoo.so>) = 0
100   mprotect(0x555555554000, 4096, PROT_READ) = 0
100   mprotect(0x7f0000008000, 4096, PROT_READ) = 0
100   brk(0x555555581000) = 0x555555581000
100   mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7effffffe000
100   munmap(0x7effffffe000, 49152) = 0
100   munmap(0x7f1000000000, 4096) = -1 EINVAL (Invalid argument)
101   mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f2000000000
101   brk(NULL) = 0x555555581000
101   +++ exited with 0 +++
102   brk(NULL) = 0x560000000000
102   +++ exited with 0 +++
100   +++ exited with 0 +++
"""  # noqa: E501


def test_replay_relocation_standins_splits_and_processes(k):
    recs = parse_strace(LDSO.splitlines())
    res = Replayer(k, recs).run()
    s = res.summary
    by_line = {o.rec.lineno: o for o in res.outcomes}
    assert s["disagreements"] == 0, [(o.call_text(), o.reason) for o in res.disagreements]
    assert s["calls_replayed"] == 13 and s["agreement_rate"] == 1.0
    # the reservation and the MAP_FIXED mappings inside it keep their relative placement
    base = by_line[3].model_addr
    assert by_line[4].model_addr == base + 0x2000 and by_line[5].model_addr == base + 0x8000
    # the missing library gets a stand-in file; the exec image's RELRO a stand-in region
    assert s["standin_files"] == 1 and s["standins"] >= 1
    assert any(n.startswith("stand-in") for n in by_line[7].notes)
    # munmap over the anonymous mapping and the reservation: the model pieces are not contiguous
    assert any(n.startswith("split") for n in by_line[11].notes) or s["split_calls"] == 0
    # pid 101 was forked (inferred); pid 102 ran another image (a brk(NULL) it could not have)
    assert s["inferred_forks"] == 2 and s["execs"] == 1
    assert s["model_processes"] == 4
    assert set(res.final_procstat) == {100, 101, 102}
    assert s["peak_mapped"] > 0
    k.check_invariants()


def test_replay_fixed_mapping_conflict_is_relocated_and_unknown_results_skipped(k):
    text = (
        "mmap(0x410000, 4096, PROT_READ, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0x410000\n"
        "mmap(0x500000, 4096, PROT_READ, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0x500000\n"
        "munmap(0x7f0000000000, 4096 <unfinished ...>\n"
        "shmat(3, NULL, 0) = 0x7f0000000000\n"
    )
    res = Replayer(k, parse_strace(text.splitlines())).run()
    first, second = [o for o in res.outcomes if o.rec.name == "mmap"]
    # 0x410000 is where the model's own image lives (spawn puts text at 0x400000): relocated
    assert first.status == "agree" and first.model_addr != 0x410000
    assert any(n.startswith("relocated") for n in first.notes)
    assert second.model_addr == 0x500000                   # free in the model: kept
    reasons = sorted(o.reason.cls for o in res.outcomes if o.status == "skipped")
    assert reasons == ["no-counterpart", "result-unknown"]


def test_replay_disagreements_carry_reasons(k):
    text = (
        "mmap(NULL, 65536, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
        "msync(0x7f0000000000, 4096, MS_ASYNC|MS_INVALIDATE) = 0\n"
        "mincore(0x7f0000000001, 4096, 0x7ffd0000) = -1 EINVAL (Invalid argument)\n"
        "mremap(0x7f0000000000, 65536, 262144, MREMAP_MAYMOVE) = 0x7f1000000000\n"
        "munmap(0x7f1000000000, 262144) = 0\n"
        "mlock(0x7f2000000000, 4096) = 0\n"
    )
    res = Replayer(k, parse_strace(text.splitlines()), uid=1000).run()
    classes = {o.rec.name: o.reason_class for o in res.disagreements}
    assert classes == {"msync": "msync-flags", "mincore": "alignment", "mremap": "mremap-grow",
                       "mlock": "privilege"}
    assert all(o.reason for o in res.disagreements)
    munmap = [o for o in res.outcomes if o.rec.name == "munmap"][0]
    assert munmap.status == "agree"                     # the resync followed the moved mapping


def test_replay_fork_and_clone_records(k):
    text = (
        "100 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
        "100 clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD) = 101\n"
        "100 clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0}, 88) = 102\n"
        "101 munmap(0x7f0000000000, 8192) = 0\n"
        "102 munmap(0x7f0000000000, 4096) = 0\n"
        "100 mprotect(0x7f0000001000, 4096, PROT_READ) = 0\n"
        "100 mprotect(0x7f0000000000, 4096, PROT_READ) = -1 ENOMEM (Cannot allocate memory)\n"
    )
    res = Replayer(k, parse_strace(text.splitlines())).run()
    # the thread's munmap is seen by pid 100, the forked child's is not
    assert [o.status for o in res.outcomes] == ["agree"] * 4 + [Status.DIFFER_BY_DESIGN]
    assert res.disagreements[0].reason_class == "holes"      # FreeBSD 7 mprotect ignores holes
    assert res.summary["model_processes"] == 2         # the thread shares its process


def test_replay_kdump_native(k, tmp_path):
    lib = tmp_path / "libx.so"
    lib.write_bytes(b"\x7fELF" + b"\0" * 9000)
    lines = [
        "  10 a CALL  break(0x602000)",
        "  10 a RET   break 0",
        "  10 a CALL  open(0x800633e24,O_RDONLY,<unused>0)",
        f'  10 a NAMI  "{lib}"',
        "  10 a RET   open 3",
        "  10 a CALL  mmap(0,0x3000,PROT_READ|PROT_EXEC,MAP_PRIVATE,0x3,0,0)",
        "  10 a RET   mmap 34366234624/0x800632000",
        "  10 a CALL  mprotect(0x800632000,0x1000,PROT_READ)",
        "  10 a RET   mprotect 0",
        "  10 a CALL  minherit(0x800632000,0x1000,0x2)",
        "  10 a RET   minherit 0",
        "  10 a CALL  mmap(0,0x1000,0x3,0x1002,0xffffffff,0,0)",
        "  10 a RET   mmap 34366246912/0x800635000",
        "  10 a CALL  madvise(0x800635000,0x1000,MADV_FREE)",
        "  10 a RET   madvise 0",
        "  10 a CALL  mlock(0x800635000,0x1000)",
        "  10 a RET   mlock 0",
        "  10 a CALL  msync(0x800632000,0x1000,0)",
        "  10 a RET   msync 0",
        "  10 a CALL  mincore(0x800635000,0x1000,0x7fffffffe000)",
        "  10 a RET   mincore 0",
        "  10 a CALL  munmap(0x800632000,0x3000)",
        "  10 a RET   munmap 0",
        "  10 a CALL  break(0x612000)",
        "  10 a RET   break 0",
        "  10 a CALL  exit(0)",
    ]
    res = Replayer(k, parse_kdump(lines)).run()
    s = res.summary
    assert s["calls_replayed"] == 11 and s["disagreements"] == 0, \
        [(o.call_text(), o.reason) for o in res.disagreements]
    assert s["files_copied"] == 1
    assert os.path.exists(os.path.join(k.root, str(lib).lstrip("/")))
    assert s["peak_wired"] == PG


def test_touched_private_file_mapping_clipped_then_forked_exits_cleanly(k):
    """Found by replaying a real trace: a COW shadow over a vnode object, shared by two entries
    after mprotect clipped it, then fork: the split/bypass must vref the vnode they reference."""
    with open(os.path.join(k.root, "lib.so"), "wb") as f:
        f.write(b"x" * (8 * PG))
    p = k.spawn()
    fd = p.open("/lib.so", os.O_RDONLY)
    a = p.mmap(0, 6 * PG, 3, mman.MAP_PRIVATE, fd, 0)
    for i in range(6):
        p.mem_write(a + i * PG, b"\0")
    p.mprotect(a, 4 * PG, 1)
    c = p.fork()
    c.mem_write(a + 5 * PG, b"1")
    c.exit()
    p.exit()
    k.check_invariants()
