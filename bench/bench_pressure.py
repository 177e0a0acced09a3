"""Benchmarks for issue 3, memory pressure (run: python bench/bench_pressure.py [--quick] [--json]).
Never run as tests.

Figures:
  * pages per second paged out and paged in (swap) under a 4x overcommit of anonymous memory,
    from the vmstat deltas (v_swappgsout, v_swappgsin) over the wall time of each phase;
  * the same for a MAP_SHARED file mapping 4x physmem (v_vnodepgsout, v_vnodepgsin);
  * the total run time of the 4x-overcommit pattern (write every page, read every page back and
    check it) as a ratio to the same pattern on a Kernel whose physmem holds it all.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import time

from bsdvm import Kernel, mman

PAGE = 4096
RW = mman.PROT_READ | mman.PROT_WRITE


def pat(i: int) -> bytes:
    return struct.pack("<II", 0xC0FFEE, i) * (PAGE // 8)


def pattern(k, npages: int, shared_file: bool = False) -> dict:
    """Write every page, then read every page back and check it; time and count each phase."""
    p = k.spawn(uid=1000, gid=1000)
    if shared_file:
        fd = p.open("/bench.bin", os.O_RDWR | os.O_CREAT, 0o644)
        p.ftruncate(fd, npages * PAGE)
        a = p.mmap(0, npages * PAGE, RW, mman.MAP_SHARED, fd, 0)
    else:
        a = p.mmap(0, npages * PAGE, RW, mman.MAP_ANON | mman.MAP_PRIVATE)
    v0 = k.vmstat()
    t0 = time.perf_counter()
    for i in range(npages):
        p.mem_write(a + i * PAGE, pat(i))
    t1 = time.perf_counter()
    v1 = k.vmstat()
    for i in range(npages):
        if p.mem_read(a + i * PAGE, PAGE) != pat(i):
            raise AssertionError(f"page {i} corrupted")
    t2 = time.perf_counter()
    v2 = k.vmstat()
    p.exit()
    t3 = time.perf_counter()
    out, inn = ("v_vnodepgsout", "v_vnodepgsin") if shared_file else ("v_swappgsout", "v_swappgsin")
    return dict(
        write_s=t1 - t0, read_s=t2 - t1, exit_s=t3 - t2, total_s=t3 - t0,
        pgsout_write=v1[out] - v0[out], pgsout_read=v2[out] - v1[out],
        pgsin=v2[inn] - v1[inn],
        pdwakeups=v2["v_pdwakeups"] - v0["v_pdwakeups"], pdpages=v2["v_pdpages"] - v0["v_pdpages"],
        faults=v2["v_vm_faults"] - v0["v_vm_faults"],
    )


def best_of(reps: int, fn):
    runs = [fn() for _ in range(reps)]
    return min(runs, key=lambda r: r["total_s"])


def run(physmem_mb: int, reps: int) -> dict:
    small = f"{physmem_mb}M"
    npages_phys = physmem_mb * 256
    with Kernel(physmem=small, swap=f"{physmem_mb * 8}M") as k:
        usable = k.phys.npages - k.phys.kernel_wired
    n = 4 * k.phys.npages               # 4x physmem

    def over():
        with Kernel(physmem=small, swap=f"{physmem_mb * 8}M") as k:
            return pattern(k, n)

    def roomy():
        with Kernel(physmem=f"{physmem_mb * 8}M", swap=f"{physmem_mb * 8}M") as k:
            r = pattern(k, n)
            assert r["pgsout_write"] == r["pgsout_read"] == r["pgsin"] == 0
            return r

    def over_file():
        with Kernel(physmem=small, swap=f"{physmem_mb * 8}M") as k:
            return pattern(k, n, shared_file=True)

    o = best_of(reps, over)
    r = best_of(reps, roomy)
    f = best_of(reps, over_file)
    pgsout = o["pgsout_write"] + o["pgsout_read"]
    fout = f["pgsout_write"] + f["pgsout_read"]
    return dict(
        physmem_pages=npages_phys, usable_pages=usable, touched_pages=n,
        swap_out_pages=pgsout, swap_in_pages=o["pgsin"],
        swap_out_per_s=pgsout / (o["write_s"] + o["read_s"]),
        swap_in_per_s=o["pgsin"] / o["read_s"],
        vnode_out_pages=fout, vnode_in_pages=f["pgsin"],
        vnode_out_per_s=fout / (f["write_s"] + f["read_s"]),
        vnode_in_per_s=f["pgsin"] / f["read_s"],
        overcommit_total_s=o["total_s"], roomy_total_s=r["total_s"],
        overcommit_ratio=o["total_s"] / r["total_s"],
        file_overcommit_total_s=f["total_s"], file_ratio=f["total_s"] / r["total_s"],
        pdwakeups=o["pdwakeups"], pdpages=o["pdpages"],
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="4 MiB physmem, one repetition")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sizes = [4] if args.quick else [4, 16, 64]
    reps = 1 if args.quick else 3
    results = {}
    for mb in sizes:
        results[f"{mb}M"] = res = run(mb, reps)
        if not args.json:
            print(f"physmem {mb} MiB ({res['usable_pages']} usable pages), "
                  f"4x overcommit = {res['touched_pages']} pages touched")
            print(f"  anon  : {res['swap_out_pages']:6d} pages out at {res['swap_out_per_s']:9.0f}/s, "
                  f"{res['swap_in_pages']:6d} in at {res['swap_in_per_s']:9.0f}/s  "
                  f"(pdwakeups {res['pdwakeups']}, pdpages {res['pdpages']})")
            print(f"  vnode : {res['vnode_out_pages']:6d} pages out at {res['vnode_out_per_s']:9.0f}/s, "
                  f"{res['vnode_in_pages']:6d} in at {res['vnode_in_per_s']:9.0f}/s")
            print(f"  total : overcommitted {res['overcommit_total_s']:.3f} s vs roomy "
                  f"{res['roomy_total_s']:.3f} s -> ratio {res['overcommit_ratio']:.2f} "
                  f"(shared file: {res['file_ratio']:.2f})")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
