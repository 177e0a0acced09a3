"""The sweep engine: hands a plan's jobs to a Dask cluster and gathers one row per job.

The cluster is the caller's `distributed.Client`, or one made for the sweep -- a client of a running
scheduler (`scheduler="tcp://host:port"`) or a LocalCluster with one single-threaded worker process
per core (`workers=N` to size it) that is closed afterwards.  Each job is one Dask task
(`jobs.run_job`); workload files are scattered once and shared by the jobs that replay or run them.

Results: `OUT/results.parquet` and `OUT/results.csv`, one row per job key, written every few seconds
while results arrive and at the end, atomically (a crash leaves the last complete file).  A job whose
key has a row there is not run again (resume), unless the plan says `retry_failed` and the row
failed or timed out.  Ctrl-C (KeyboardInterrupt) cancels the outstanding tasks, saves what finished
and propagates.  Invariant: the results file never holds two rows for one job key.
May call: .plan, .jobs, .report, dask.distributed, pandas.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from .jobs import (COUNTER_COLUMNS, RESULT_COLUMNS, STATUS_FAILED, STATUS_OK, failed_row, run_job)
from .plan import Job, Plan

if TYPE_CHECKING:
    from distributed import Client

RESULTS_PARQUET = "results.parquet"
RESULTS_CSV = "results.csv"
REPORT_HTML = "report.html"
CHECKPOINT_EVERY_S = 2.0
CONNECT_TIMEOUT = "10s"                 # how long to wait for a --scheduler that does not answer

_INT_COLUMNS = ("physmem", "swap", "uid", "exit_status", "calls_replayed", "agreements",
                "disagreements") + COUNTER_COLUMNS
_FLOAT_COLUMNS = ("agreement_rate", "wall_s", "cpu_s")


@dataclass
class SweepStatus:
    """What a progress display shows: jobs in this run (`total`, excluding those resumed), how many
    finished (`done`, of which `failed` failed or timed out), how many are running now, and the
    estimated seconds left (None until the first job finished)."""
    total: int
    done: int = 0
    failed: int = 0
    running: int = 0
    resumed: int = 0
    elapsed: float = 0.0
    eta: float | None = None


def results_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows -> a DataFrame with the result columns in order (sysctl:* columns after `sysctl`) and
    stable dtypes (nullable Int64 for counts, float64, object for text), whatever the rows hold."""
    df = pd.DataFrame(rows)
    extra = sorted(c for c in df.columns if c not in RESULT_COLUMNS)
    cols = list(RESULT_COLUMNS)
    at = cols.index("sysctl") + 1
    cols[at:at] = extra
    df = df.reindex(columns=cols)
    for c in df.columns:
        if c in _INT_COLUMNS or c.startswith("sysctl:"):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
        elif c in _FLOAT_COLUMNS:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        else:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def load_results(out: str) -> pd.DataFrame | None:
    """The results recorded in directory `out`, or None if there are none yet."""
    path = os.path.join(out, RESULTS_PARQUET)
    if not os.path.exists(path):
        return None
    return results_frame(pd.read_parquet(path).to_dict("records"))


def save_results(out: str, df: pd.DataFrame) -> None:
    """Write results.parquet and results.csv in `out`, each atomically (temp file + rename)."""
    os.makedirs(out, exist_ok=True)
    for name, write in ((RESULTS_PARQUET, lambda p: df.to_parquet(p, index=False)),
                        (RESULTS_CSV, lambda p: df.to_csv(p, index=False))):
        final = os.path.join(out, name)
        tmp = f"{final}.tmp-{os.getpid()}"
        write(tmp)
        os.replace(tmp, final)


def _make_client(scheduler: str | None, workers: int | None) -> tuple[Client, list[Any]]:
    from distributed import Client, LocalCluster
    if scheduler is not None:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        return client, [client]
    # Ctrl-C in a terminal reaches the whole process group: the worker processes are started with
    # SIGINT ignored (kept across exec), so only this process reacts, cancels and closes them
    main_thread = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
    try:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None, silence_logs=logging.ERROR)
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, old)
    client = Client(cluster)
    return client, [client, cluster]


def sweep(plan: Plan, client: Client | None = None, *, scheduler: str | None = None,
          workers: int | None = None, progress: Callable[[SweepStatus], None] | None = None,
          report: bool = True) -> pd.DataFrame:
    """Run `plan` on Dask and return one row per job of the plan (the resumed ones too), in plan
    order.  `client`: an existing distributed.Client to use (left open); otherwise `scheduler`
    (an address) or a LocalCluster of `workers` processes (default: one per core) is made and closed.
    With `plan.out`, results are saved there (and resumed from), and `report` writes report.html.
    `progress` is called with a SweepStatus as jobs finish.  Raises KeyboardInterrupt after saving
    when interrupted; OSError or TimeoutError when the scheduler cannot be reached."""
    jobs, _excluded = plan.jobs()
    previous = load_results(plan.out) if plan.out else None
    kept: dict[str, dict[str, Any]] = {}
    if previous is not None:
        for r in previous.to_dict("records"):
            kept[r["job_key"]] = r
    if plan.retry_failed:
        kept = {k: r for k, r in kept.items() if r["status"] == STATUS_OK}
    wanted = {j.key for j in jobs}
    todo = [j for j in jobs if j.key not in kept]
    status = SweepStatus(total=len(todo), resumed=len(wanted & set(kept)))
    new_rows: dict[str, dict[str, Any]] = {}

    def save() -> None:
        if plan.out:
            save_results(plan.out, results_frame(list({**kept, **new_rows}.values())))

    if todo:
        own: list[Any] = []
        if client is None:
            client, own = _make_client(scheduler, workers)
        try:
            _run_on(client, plan, todo, new_rows, status, progress, save)
        finally:
            for o in own:
                o.close()
    elif progress is not None:
        progress(status)
    save()
    rows = {**kept, **new_rows}
    df = results_frame([rows[j.key] for j in jobs])
    if plan.out and report:
        from .report import write_report
        write_report(load_results(plan.out), os.path.join(plan.out, "report.html"))
    return df


def _run_on(client: Client, plan: Plan, todo: list[Job], new_rows: dict[str, dict[str, Any]],
            status: SweepStatus, progress: Callable[[SweepStatus], None] | None,
            save: Callable[[], None]) -> None:
    from distributed import as_completed
    nonce = uuid.uuid4().hex[:8]
    payloads: dict[Any, Any] = {}
    futures = {}
    t0 = time.monotonic()
    try:
        for job in todo:
            w = job.workload
            if w not in payloads:
                data = w.payload()
                payloads[w] = client.scatter(data, hash=False) if data is not None else None
            f = client.submit(run_job, job, payloads[w], plan.timeout, pure=False,
                              key=f"bsdvm-sweep-{job.key}-{nonce}")
            futures[f] = job
        nthreads = sum(client.nthreads().values()) or 1
        last_save = time.monotonic()
        for f in as_completed(list(futures)):
            job = futures[f]
            if f.status == "finished":
                row = f.result()
            elif f.status == "cancelled":
                continue                 # not done: the next run does it
            else:                        # the task itself failed: its worker died, or unpickling
                exc = f.exception()
                if isinstance(exc, KeyboardInterrupt):
                    continue             # Ctrl-C reached the worker too: not a result of the job
                row = failed_row(job, f"{type(exc).__name__}: {exc} (the Dask task failed)")
            f.release()
            new_rows[job.key] = row
            status.done += 1
            status.failed += row["status"] != STATUS_OK
            status.elapsed = time.monotonic() - t0
            left = status.total - status.done
            status.running = min(left, nthreads)
            status.eta = status.elapsed / status.done * left
            if progress is not None:
                progress(status)
            if time.monotonic() - last_save >= CHECKPOINT_EVERY_S:
                save()
                last_save = time.monotonic()
    except BaseException:
        client.cancel(list(futures), force=True)
        save()
        raise
    finally:
        for p in payloads.values():
            if p is not None:
                p.release()


__all__ = ["sweep", "SweepStatus", "load_results", "save_results", "results_frame",
           "RESULTS_PARQUET", "RESULTS_CSV", "REPORT_HTML", "STATUS_FAILED"]
