"""Instructions per operation under callgrind (run: python bench/bench_instructions.py [--pure]
[ROW ...]).  Never run as a test; needs valgrind.

Wall-clock figures on a shared virtual machine vary by up to 2x between runs (the host kernel's own
figures included); the number of machine instructions an operation executes does not, so this is
the measure to compare two builds or two commits with.  Each row runs its operation N and 2N times
in a child process under `valgrind --tool=callgrind`, counting only inside calliter_iternext (the
operations are driven by `iter(step, None)`, so setup and teardown are not counted); the
difference divided by N is the cost of one operation.  Python's cyclic garbage collector runs
every few hundred allocations, so a figure still moves by a few per cent with N: the rows that
allocate (touch, cow, fork) run enough operations to average over several collections.  --pure
measures the pure-Python VM core (BSDVM_PURE_PYTHON=1), otherwise whichever build is installed
(the header says which).
"""
from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile

PAGE = 4096
ROWS = {            # row -> (N, what one operation is)
    "pair": (100, "mmap + munmap of one page, 2000 live entries"),
    "mprot": (100, "mprotect split + merge back inside a 64-page mapping (2 calls)"),
    "touch": (200, "first-touch fault: mem_write of 1 byte to a new page"),
    "cow": (200, "copy-on-write fault in a forked child (1-byte mem_write)"),
    "w4k": (200, "mem_write of 4 KiB over resident memory"),
    "r4k": (200, "mem_read of 4 KiB over resident memory"),
    "w1m": (20, "mem_write of 1 MiB over resident memory"),
    "r1m": (20, "mem_read of 1 MiB over resident memory"),
    "fork": (4, "fork + exit with 512 pages touched"),
}


def run_row(row: str, n: int) -> None:
    """The child: set up, then do `n` operations of `row` inside calliter_iternext."""
    from bsdvm import Kernel, mman
    anon = mman.MAP_ANON | mman.MAP_PRIVATE

    def drive(step) -> None:
        for _ in itertools.islice(iter(step, None), n):
            pass
    with Kernel(physmem="512M") as k:
        if row in ("pair", "mprot"):
            k.sysctl("vm.max_proc_mmap", 0)
            p = k.spawn()
            for i in range(2000):
                p.mmap(0, PAGE, mman.PROT_READ if i % 2 else 3, anon)
            mid = p.mmap(0, 64 * PAGE, 3, anon) + 32 * PAGE

            def pair():
                p.munmap(p.mmap(0, PAGE, 3, anon), PAGE)
                return 1

            def mprot():
                p.mprotect(mid, PAGE, mman.PROT_READ)
                p.mprotect(mid, PAGE, 3)
                return 1
            drive(pair if row == "pair" else mprot)
            return
        p = k.spawn()
        npages = 512
        a = p.mmap(0, npages * PAGE, 3, anon)
        count = itertools.count()
        if row == "touch":
            drive(lambda: p.mem_write(a + next(count) * PAGE, b"x") or 1)
            return
        for i in range(npages):
            p.mem_write(a + i * PAGE, b"x")
        page, mib = b"y" * PAGE, b"z" * (1 << 20)
        if row == "w4k":
            drive(lambda: p.mem_write(a + next(count) % npages * PAGE, page) or 1)
        elif row == "r4k":
            drive(lambda: p.mem_read(a + next(count) % npages * PAGE, PAGE) and 1)
        elif row == "w1m":
            drive(lambda: p.mem_write(a + next(count) % 2 * (1 << 20), mib) or 1)
        elif row == "r1m":
            drive(lambda: p.mem_read(a + next(count) % 2 * (1 << 20), 1 << 20) and 1)
        elif row == "cow":
            c = p.fork()
            drive(lambda: c.mem_write(a + next(count) * PAGE, b"c") or 1)
        elif row == "fork":
            drive(lambda: p.fork().exit() or 1)


def instructions(row: str, n: int, env: dict) -> int:
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "callgrind.out")
        subprocess.run(["valgrind", "--tool=callgrind", "--toggle-collect=calliter_iternext",
                        f"--callgrind-out-file={out}", sys.executable, os.path.abspath(__file__),
                        "--child", row, str(n)],
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            m = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M)
    if m is None:
        raise RuntimeError("callgrind wrote no totals")
    return int(m.group(1))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", nargs="*", help=f"rows to measure: {', '.join(ROWS)} (default all)")
    ap.add_argument("--pure", action="store_true", help="measure the pure-Python VM core")
    ap.add_argument("--child", nargs=2, metavar=("ROW", "N"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        run_row(a.child[0], int(a.child[1]))
        return
    unknown = [r for r in a.rows if r not in ROWS]
    if unknown:
        ap.error(f"unknown row(s) {', '.join(unknown)}; the rows are {', '.join(ROWS)}")
    if shutil.which("valgrind") is None:
        sys.exit("bench_instructions needs valgrind (apt-get install valgrind)")
    env = dict(os.environ)
    env.pop("BSDVM_PURE_PYTHON", None)
    if a.pure:
        env["BSDVM_PURE_PYTHON"] = "1"
    core = subprocess.run([sys.executable, "-c", "import bsdvm._build as b; print(b.build_description())"],
                          env=env, capture_output=True, text=True, check=True).stdout.strip()
    print(f"VM core: {core}\n\n| row | instructions per operation | operation |\n|---|---|---|")
    for row in a.rows or ROWS:
        n, what = ROWS[row]
        per_op = (instructions(row, 2 * n, env) - instructions(row, n, env)) // n
        print(f"| {row} | {per_op:,} | {what} |", flush=True)


if __name__ == "__main__":
    main()
