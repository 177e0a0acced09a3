"""Benchmark of `bsdvm sweep` (issue 11): speed-up of 2 local Dask workers over 1 on independent
jobs, and the engine's own cost per job.

1. 16 jobs on a LocalCluster of 1 worker, then of 2 workers (single-threaded processes, started and
   warmed before timing), for two workloads:
   * exec: the issue's own example, `bsdvm exec` of a real program (default
     `/usr/bin/python3 -S -c pass`, about 1 s a job) -- the row the target is judged on;
   * touch: a scenario writing --pages pages of anonymous memory twice at a physmem small enough to
     page out (0.1-0.3 s a job, swap-file I/O): the stress case for the engine's per-job cost.
   The jobs differ by uid (16 uids), so none is a duplicate.  Target: 2 workers <= 0.6x of 1.
   "Workers kept busy" (sum of the jobs' own wall times / the sweep's wall time) separates the
   engine's share from CPU contention: on 2 cores the jobs themselves slow down when both run, as
   the scheduler and client share the same two cores.
2. Engine overhead per job: N trivial jobs (a scenario that does nothing; the job still boots a
   Kernel) on 1 worker; overhead = sweep wall time / N - the mean time the jobs report themselves.

Usage: PYTHONPATH=src python bench/bench_sweep.py [--jobs 16] [--pages 4096] [--trivial 60]
       [--repeat 2] [--exec CMD] [--only exec|touch]
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time


def _sweep_time(client, plan) -> tuple[float, object]:
    from bsdvm.sweep import sweep
    t = time.perf_counter()
    df = sweep(plan, client, report=False)
    return time.perf_counter() - t, df


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=16)
    ap.add_argument("--pages", type=int, default=4096, help="pages each job writes (twice)")
    ap.add_argument("--physmem", default="4M")
    ap.add_argument("--repeat", type=int, default=2, choices=(1, 2, 3),
                    help="timed runs per cluster size, alternating 1-2-2-1-1-2")
    ap.add_argument("--trivial", type=int, default=60, help="trivial jobs for the overhead figure")
    ap.add_argument("--exec", dest="exec_cmd", default="/usr/bin/python3 -S -c pass", metavar="CMD",
                    help="the program of the exec workload (a path outside /root: the jobs run "
                         "under uids 1000..)")
    ap.add_argument("--only", choices=("exec", "touch"), default=None, help="time one workload")
    args = ap.parse_args()

    from distributed import Client, LocalCluster

    from bsdvm.sweep import Plan, workloads_from
    d = tempfile.mkdtemp(prefix="bench-sweep-")
    work = os.path.join(d, "touch.py")
    with open(work, "w") as f:
        f.write(f"n = {args.pages}\n"
                "a = p.mmap(0, n * 4096, mman.PROT_READ | mman.PROT_WRITE, mman.MAP_ANON | mman.MAP_PRIVATE)\n"
                "for _ in range(2):\n"
                "    for i in range(n):\n"
                "        p.mem_write(a + i * 4096, b'x')\n")
    trivial = os.path.join(d, "trivial.py")
    with open(trivial, "w") as f:
        f.write("pass\n")
    uids = list(range(1000, 1000 + args.jobs))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")

    try:
        import unicorn  # noqa: F401
        have_cpu = True
    except ImportError:
        have_cpu = False
    kinds = [k for k in ("exec", "touch") if args.only in (None, k)]
    if "exec" in kinds and not have_cpu:
        print("exec workload skipped: unicorn is not installed (pip install -e '.[exec]')")
        kinds.remove("exec")
    verdicts = []
    for kind in kinds:
        wl = (workloads_from(exec_cmds=[args.exec_cmd]) if kind == "exec"
              else workloads_from(run=[work]))
        physmem = "64M" if kind == "exec" else args.physmem
        print(f"-- {kind}: {args.exec_cmd if kind == 'exec' else f'{args.pages} pages twice'}, "
              f"physmem {physmem}")
        times: dict[int, list[float]] = {1: [], 2: []}
        for nworkers in [1, 2, 2, 1, 1, 2][:2 * args.repeat]:   # alternate: load drifts both ways
            with LocalCluster(n_workers=nworkers, threads_per_worker=1, processes=True,
                              dashboard_address=None, silence_logs=logging.ERROR) as cl, \
                    Client(cl) as c:
                # warm the workers (imports) outside the timing, with a job no other run shares
                _sweep_time(c, Plan(wl, physmem=physmem, swap="64M", uid=[100 + nworkers]))
                plan = Plan(wl, physmem=physmem, swap="64M", uid=uids)
                wall, df = _sweep_time(c, plan)
                assert set(df["status"]) == {"ok"}, df[["status", "error"]]
                times[nworkers].append(wall)
                print(f"{args.jobs} jobs on {nworkers} worker(s): {wall:.2f} s "
                      f"(jobs themselves: mean {df['wall_s'].mean():.3f} s wall, "
                      f"{df['cpu_s'].mean():.3f} s CPU; page-outs/job {int(df['page_outs'].iloc[0])}; "
                      f"workers kept busy: {df['wall_s'].sum() / wall:.2f} of {nworkers})")
                if kind == kinds[0] and nworkers == 1 and not times[2] and args.trivial:
                    n = args.trivial
                    tplan = Plan(workloads_from(run=[trivial]), physmem="1M", swap="1M",
                                 uid=list(range(5000, 5000 + n)))
                    twall, tdf = _sweep_time(c, tplan)
                    own = statistics.mean(tdf["wall_s"])
                    print(f"engine overhead per job ({n} trivial jobs, 1 worker): "
                          f"{1000 * (twall / n - own):.1f} ms "
                          f"(sweep {1000 * twall / n:.1f} ms/job, of which the job itself "
                          f"{1000 * own:.1f} ms: Kernel boot and close)")
        ratio = min(times[2]) / min(times[1])
        verdicts.append(f"{kind}: 2 workers / 1 worker (best of {len(times[1])} each): {ratio:.2f}x "
                        f"(target <= 0.6x) -> {'met' if ratio <= 0.6 else 'NOT met'}")
        print(verdicts[-1])
    print("summary:", "; ".join(verdicts))

if __name__ == "__main__":
    main()
