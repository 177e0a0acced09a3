"""Replay throughput: a synthetic strace of N memory calls (mmap/munmap/mprotect/madvise/brk in a
malloc-like mix), parsed and replayed.  Prints figures; never run as a test.

    python bench/bench_replay.py [N]
"""
import os
import random
import sys
import tempfile
import time

from bsdvm import Kernel
from bsdvm.compat.replay import Replayer
from bsdvm.compat.trace import parse_file


def synthetic(n: int, seed: int = 1) -> str:
    rnd = random.Random(seed)
    pid = 4242
    out = [f"{pid}  brk(NULL) = 0x555555560000"]
    live = []
    addr = 0x7F0000000000
    brk = 0x555555560000
    for _ in range(n):
        r = rnd.random()
        if r < 0.3 or not live:
            size = rnd.choice([1, 2, 4, 8, 16, 64, 256]) * 4096
            addr -= size + 4096
            out.append(f"{pid}  mmap(NULL, {size}, PROT_READ|PROT_WRITE, MAP_PRIVATE|"
                       f"MAP_ANONYMOUS, -1, 0) = {addr:#x}")
            live.append((addr, size))
        elif r < 0.6:
            a, size = live.pop(rnd.randrange(len(live)))
            out.append(f"{pid}  munmap({a:#x}, {size}) = 0")
        elif r < 0.8:
            a, size = rnd.choice(live)
            out.append(f"{pid}  mprotect({a:#x}, 4096, PROT_READ) = 0")
        elif r < 0.9:
            a, size = rnd.choice(live)
            out.append(f"{pid}  madvise({a:#x}, {size}, MADV_DONTNEED) = 0")
        else:
            brk += 0x21000
            out.append(f"{pid}  brk({brk:#x}) = {brk:#x}")
    out.append(f"{pid}  +++ exited with 0 +++")
    return "\n".join(out) + "\n"


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "synthetic.trace")
        with open(path, "w") as f:
            f.write(synthetic(n))
        t0 = time.perf_counter()
        recs = parse_file(path)
        t1 = time.perf_counter()
        with Kernel() as k:
            res = Replayer(k, recs).run()
        t2 = time.perf_counter()
    s = res.summary
    print(f"calls            {s['calls_replayed']}")
    print(f"parse            {t1 - t0:.2f} s  ({(t1 - t0) / n * 1e6:.1f} us/call)")
    print(f"replay           {t2 - t1:.2f} s  ({(t2 - t1) / n * 1e6:.1f} us/call)")
    print(f"verdicts         {s['unexplained']} unexplained, {s['by_design']} by design, "
          f"{s['agreements']} agree  {s['disagreements_by_reason']}")
    print(f"peak mapped      {s['peak_mapped'] / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
