"""Benchmark for issue 9 (attack defects 7 and 8; run: python bench/bench_sparse_range.py [--size 64G]).
Never run as a test.

* madvise(MADV_FREE / MADV_DONTNEED / MADV_WILLNEED) and mincore over a huge, mostly untouched
  anonymous range (default 64 GiB with 64 touched pages): the calls walk the resident pages of the
  objects (and the pmap's translations), so their cost follows what is resident, not the size of
  the range.  Before the fix they walked every page of the range under the kernel lock.
* the RSS a kernel's swap allocator costs for a large swap size (the allocator is lazy, like
  FreeBSD's blist: the host's resident memory does not grow with the swap size).

Prints one JSON object; compare two checkouts by pointing PYTHONPATH at each.
"""
from __future__ import annotations

import argparse
import json
import resource
import time

from bsdvm import Kernel, mman
from bsdvm.arch import parse_size

PAGE = 4096


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def sparse_range(size: int, touched: int) -> dict:
    k = Kernel(physmem="64M", swap="64M")
    try:
        p = k.spawn(uid=1000, gid=1000)
        a = p.mmap(0, size, mman.PROT_READ | mman.PROT_WRITE, mman.MAP_ANON | mman.MAP_PRIVATE)
        step = size // touched
        for i in range(touched):
            p.mem_write(a + i * step, b"x")
        out = {"range_bytes": size, "touched_pages": touched}
        for name, advice in (("madvise_free_s", mman.MADV_FREE),
                             ("madvise_dontneed_s", mman.MADV_DONTNEED),
                             ("madvise_willneed_s", mman.MADV_WILLNEED)):
            out[name] = round(timed(lambda adv=advice: p.madvise(a, size, adv)), 4)
        # a user-space vector (one byte per page) would not fit the model's physical memory for
        # 64 GiB; the host-side vector is the same kernel walk
        out["mincore_s"] = round(timed(lambda: p.mincore(a, size)), 4)
        vec = p.mincore(a, size)
        out["mincore_incore_pages"] = sum(1 for b in vec if b & 1)
        p.exit()
        return out
    finally:
        k.close()


def swap_rss(size: int) -> dict:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    k = Kernel(physmem="16M", swap=size)
    boot = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    k.close()
    return {"swap_bytes": size, "boot_s": round(boot, 4),
            "max_rss_growth_kib": after - before}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="64G", help="size of the sparse range (default 64G)")
    ap.add_argument("--touched", type=int, default=64)
    ap.add_argument("--swap", default="64G", help="swap size for the RSS figure (default 64G)")
    args = ap.parse_args()
    result = {"sparse": sparse_range(parse_size(args.size), args.touched),
              "swap": swap_rss(parse_size(args.swap))}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
