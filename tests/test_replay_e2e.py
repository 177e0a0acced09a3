"""End to end: record real programs' memory system calls with strace, replay them on the model,
and check the agreement rate, that every disagreement carries a reason, the command's JSON and the
HTML report (every embedded image decodes).

Skips, saying why, only where strace cannot run here (not installed, or ptrace not permitted) and,
for the C program, where no C compiler is installed.
"""
import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from bsdvm import Kernel
from bsdvm.cli import main
from bsdvm.compat.replay import Replayer
from bsdvm.compat.trace import parse_file

STRACE_ARGS = ["-f", "-y", "-e", "trace=%memory,openat,open,close"]


def _strace_problem():
    exe = shutil.which("strace")
    if exe is None:
        return "strace is not installed (apt-get install strace; .ci/run installs it)"
    try:
        r = subprocess.run([exe, "-f", "-o", os.devnull, "true"], capture_output=True,
                           timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"strace cannot run: {e}"
    if r.returncode != 0:
        return f"strace cannot trace here (ptrace not permitted?): {r.stderr.decode()[:200]}"
    return None


_PROBLEM = _strace_problem()
needs_strace = pytest.mark.skipif(_PROBLEM is not None, reason=str(_PROBLEM))


def record(tmp_path, argv, name, with_pids=True):
    out = tmp_path / f"{name}.trace"
    if with_pids:
        cmd = ["strace", *STRACE_ARGS, "-o", str(out), *argv]
        subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    else:
        # no -f and no -o: the terminal format, without pid prefixes
        cmd = ["strace", "-y", "-e", "trace=%memory,openat,open,close", *argv]
        r = subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True, timeout=120)
        out.write_bytes(r.stderr)
    return out


def replay_trace(path, **kw):
    recs = parse_file(path)
    with Kernel(physmem="128M", swap="128M") as k:
        res = Replayer(k, recs, **kw).run()
        k.check_invariants()
    return res


def check_reasons(res):
    for o in res.outcomes:
        if o.disagrees or o.status == "skipped":
            assert o.reason, o.call_text()
            assert o.reason.cls.strip() and o.reason.detail.strip(), (o.call_text(), o.reason)
        # a by-design difference names its rule-table row, anything else is unexplained
        assert (o.status == "differ-by-design") == (o.disagrees and o.reason.difference is not None)


@needs_strace
def test_ls(tmp_path):
    trace = record(tmp_path, [shutil.which("ls") or "ls", "-la", "/"], "ls", with_pids=False)
    res = replay_trace(trace)
    s = res.summary
    assert s["calls_replayed"] >= 15
    check_reasons(res)
    assert s["agreement_rate"] >= 0.95, s["disagreements_by_reason"]
    assert s["files_copied"] >= 1           # libc and friends, copied from the host
    assert s["standins"] >= 1               # the exec image's RELRO mprotect


PY_SCRIPT = r"""
import json, mmap, os, sys
m = mmap.mmap(-1, 1 << 20)
m[:5] = b'hello'
m.madvise(mmap.MADV_DONTNEED)
m.resize(4 << 20)                       # mremap: growing
m.close()
path = sys.argv[1]
with open(path, 'wb') as f:
    f.write(b'x' * 65536)
with open(path, 'r+b') as f:
    fm = mmap.mmap(f.fileno(), 0)
    fm[0:1] = b'y'
    fm.flush()                          # msync
    fm.close()
big = bytearray(32 << 20)
del big
print(json.dumps({'ok': True}))
"""


@needs_strace
def test_python(tmp_path):
    trace = record(tmp_path, [sys.executable, "-c", PY_SCRIPT, str(tmp_path / "py.bin")], "py")
    res = replay_trace(trace)
    s = res.summary
    assert s["calls_replayed"] >= 50
    check_reasons(res)
    assert s["agreement_rate"] >= 0.95, s["disagreements_by_reason"]
    # the growing resize is the one thing FreeBSD's Linux layer cannot do
    assert set(s["disagreements_by_reason"]) <= {"mremap-grow"}, s["disagreement_examples"]
    assert s["by_call"]["msync"]["agree"] >= 1


C_PROGRAM = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "bsdvm-e2e.dat";
    long pg = sysconf(_SC_PAGESIZE);
    size_t n = 16 * pg;
    unsigned char vec[64];

    /* anonymous private memory, half of it touched */
    char *a = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED)
        return 1;
    memset(a, 1, 8 * pg);
    mincore(a, n, vec);
    mprotect(a + 4 * pg, 2 * pg, PROT_READ);
    madvise(a, n, MADV_SEQUENTIAL);
    madvise(a + 8 * pg, 4 * pg, MADV_DONTNEED);
    madvise(a, n, MADV_WILLNEED);
    mlock(a, 2 * pg);
    munlock(a, 2 * pg);

    /* a shared file mapping, written and synced */
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, 4 * pg) != 0)
        return 2;
    char *f = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    memcpy(f, "hello", 5);
    msync(f, 4 * pg, MS_SYNC);
    msync(f, pg, MS_ASYNC | MS_INVALIDATE);

    /* a reservation with MAP_FIXED mappings inside it, as ld.so makes them */
    char *r = mmap(NULL, 8 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    mmap(r + 2 * pg, 2 * pg, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    mmap(r + 4 * pg, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS,
         -1, 0);
    mprotect(r + 4 * pg, pg, PROT_READ);

    /* fork: the child changes its own copy of the address space */
    pid_t c = fork();
    if (c == 0) {
        munmap(a, n);
        char *b = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        b[0] = 1;
        mincore(b, 2 * pg, vec);
        munmap(b, 2 * pg);
        _exit(0);
    }
    waitpid(c, NULL, 0);

    /* calls both kernels refuse */
    mmap(NULL, n, PROT_READ, MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mmap(NULL, n, PROT_READ, MAP_SHARED, 12345, 0);
    msync(a + 1, pg, MS_SYNC);

    /* Linux behaviour FreeBSD's Linux layer does not have */
    mincore(a + 1, pg, vec);
    char *g = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    g = mremap(g, 4 * pg, 2 * pg, 0);
    g = mremap(g, 2 * pg, 64 * pg, MREMAP_MAYMOVE);
    munmap(g, 64 * pg);
    char *s = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
    if (s != MAP_FAILED)
        munmap(s, 16 * pg);

    munmap(r, 8 * pg);
    munmap(f, 4 * pg);
    close(fd);
    unlink(path);
    munmap(a, n);
    return 0;
}
"""


@pytest.fixture
def c_trace(tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (gcc/cc) to build the test program")
    src = tmp_path / "prog.c"
    src.write_text(C_PROGRAM)
    exe = tmp_path / "prog"
    subprocess.run([cc, "-O0", "-o", str(exe), str(src)], check=True, capture_output=True,
                   timeout=120)
    return record(tmp_path, [str(exe), str(tmp_path / "prog.dat")], "prog")


@needs_strace
def test_c_program(c_trace):
    res = replay_trace(c_trace, touch="all")
    s = res.summary
    assert s["calls_replayed"] >= 35
    check_reasons(res)
    assert s["agreement_rate"] >= 0.85, s["disagreements_by_reason"]
    # the differences the program provokes on purpose, each with its own reason
    expected = {"msync-flags", "alignment", "mremap-grow", "growsdown"}
    assert expected <= set(s["disagreements_by_reason"]), s["disagreements_by_reason"]
    assert set(s["disagreements_by_reason"]) <= expected, s["disagreement_examples"]
    # every kind of call was replayed and most agreed
    for call in ("mmap", "munmap", "mprotect", "madvise", "mincore", "mlock", "munlock", "msync"):
        assert s["by_call"][call]["agree"] >= 1, call
    # fork: the child is a model process of its own, made by fork (inferred: clone is not traced)
    assert s["model_processes"] == 2 and s["inferred_forks"] == 1
    # the ld.so-style reservation: MAP_FIXED mappings inside it stay inside it in the model
    mm = [o for o in res.outcomes if o.rec.name == "mmap" and o.status == "agree"]
    resv = [o for o in mm if o.rec.args["prot"] == 0]
    assert resv
    base, tbase = resv[0].model_addr, resv[0].rec.ret
    inside = [o for o in mm if o.rec.args["flags"] & 0x10 and tbase <= o.rec.ret < tbase + 0x8000]
    assert len(inside) == 2
    assert all(o.model_addr - base == o.rec.ret - tbase for o in inside)
    assert s["peak_resident"] > 0 and s["peak_wired"] > 0


class _Imgs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs = []
        self.tables = 0
        self.titles = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs)["src"])
        elif tag == "table":
            self.tables += 1
        elif tag == "h2":
            self._in_h2 = True

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.titles.append(data)


def _check_png(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, ctype = struct.unpack(">I4s", data[8:16])
    assert ctype == b"IHDR" and length == 13
    w, h = struct.unpack(">II", data[16:24])
    assert w > 50 and h > 50
    assert zlib.crc32(data[12:29]) == struct.unpack(">I", data[29:33])[0]
    # the image data decompresses
    pos, idat = 8, b""
    while pos < len(data):
        ln, ct = struct.unpack(">I4s", data[pos:pos + 8])
        if ct == b"IDAT":
            idat += data[pos + 8:pos + 8 + ln]
        pos += 12 + ln
    assert len(zlib.decompress(idat)) > 0
    try:
        import io

        from PIL import Image
    except ImportError:
        return
    im = Image.open(io.BytesIO(data))
    im.load()
    assert im.size == (w, h)


@needs_strace
def test_cli_json_and_html_report(c_trace, tmp_path):
    runner = CliRunner()
    out = tmp_path / "report.html"
    r = runner.invoke(main, ["replay", str(c_trace), "--json", "--physmem", "64M", "--swap",
                             "64M", "--touch", "all", "--report", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["calls_replayed"] == len([c for c in d["calls"] if c["status"] != "skipped"])
    assert all(c["reason"] for c in d["calls"] if c["status"].startswith("differ"))
    assert d["final_maps"] and d["vmstat"]["v_vm_faults"] > 0
    html = out.read_text()
    p = _Imgs()
    p.feed(html)
    assert len(p.srcs) == 3 and p.tables >= 3
    assert any("Address-space layout" in t for t in p.titles)
    assert any("Disagreeing calls" in t for t in p.titles)
    assert "http://" not in html and "https://" not in html       # self-contained
    for src in p.srcs:
        assert src.startswith("data:image/png;base64,")
        _check_png(base64.b64decode(src.split(",", 1)[1], validate=True))
    # the text form: tables and the final procstat
    r = runner.invoke(main, ["replay", str(c_trace), "--physmem", "64M", "--swap", "64M"])
    assert r.exit_code == 0, r.output
    assert "agreement rate" in r.output and "differ by design" in r.output
    assert "final procstat" in r.output
