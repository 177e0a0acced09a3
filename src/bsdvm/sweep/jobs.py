"""One sweep job: a fresh Kernel, one workload, one configuration -> one result row (a flat dict).

`run_job` is what a Dask worker executes, and what a test calls directly to run the same job without
Dask.  It never raises for the job's own failures: an exception from the workload, a kernel that
refuses the configuration or a timeout becomes a row with `status` "failed" or "timeout" and the
`error`; the counters moved until then are kept.

Measurements: the vmstat event counters are taken after boot and sysctl settings and again at the
end (the difference is the workload's); `peak_resident` is the high-water mark of page frames in use
(anonymous, file cache and wired, all but the kernel's boot-time pages) and `peak_swap` that of swap
blocks in use, followed by `Meter`, which reads the page and swap allocators' watermarks for the job.
Timeout: a watchdog thread raises `JobTimeout` in the job's thread (CPython's asynchronous exception),
so a job stuck in model code stops at its next Python instruction without killing the worker.
May call: the public bsdvm API, .workloads, .plan.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import threading
import time
import traceback
from datetime import datetime, timezone
from typing import Any

from .. import __version__
from ..kernel import Kernel
from ..vm.page import COUNTER_NAMES
from ..vm.param import PAGE_SIZE
from .plan import Job, size_label

STATUS_OK, STATUS_FAILED, STATUS_TIMEOUT = "ok", "failed", "timeout"

OUTCOME_COLUMNS = ("exit_status", "calls_replayed", "agreements", "disagreements", "agreement_rate",
                   "disagreements_by_reason")
COUNTER_COLUMNS = COUNTER_NAMES + ("page_ins", "page_outs", "peak_resident", "peak_swap")
RESULT_COLUMNS = ("job_key", "workload", "kind", "arch", "physmem", "physmem_label", "swap",
                  "swap_label", "uid", "sysctl", "status") + OUTCOME_COLUMNS + COUNTER_COLUMNS + \
                 ("wall_s", "cpu_s", "error", "worker", "started", "bsdvm_version")


class JobTimeout(BaseException):
    """Raised inside a job's thread when its time is up.  A BaseException so that a scenario's
    `except Exception` cannot swallow it."""


class Meter:
    """Follows the peak number of page frames and swap blocks in use on one kernel from the
    allocators' own watermarks (PhysMem.free_low, SwapSpace.used_high), which it resets when it
    starts.  The allocators are not wrapped: compiled (mypyc) builds cannot shadow their methods."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        kernel.phys.free_low = kernel.phys.free_count
        kernel.swap.used_high = kernel.swap.used

    @property
    def peak_resident(self) -> int:
        """Bytes: the most page frames in use at once, beyond the kernel's boot-time wired pages."""
        return (self.kernel.phys.free_at_boot - self.kernel.phys.free_low) * PAGE_SIZE

    @property
    def peak_swap(self) -> int:
        """Bytes: the most swap blocks in use at once."""
        return self.kernel.swap.used_high * PAGE_SIZE


class _Watchdog:
    """Raises JobTimeout in the calling thread after `timeout` seconds unless disarmed first.

    In the main thread the alarm is SIGALRM (setitimer): its handler raises between bytecodes, and
    no other thread's state is touched.  In any other thread (a Dask worker's) a timer thread
    injects the exception with PyThreadState_SetAsyncExc.  A run under coverage hung once with the
    injected exception racing the timer's own Event in disarm; the signal path avoids that race
    where a signal can be had.
    """

    def __init__(self, timeout: float | None) -> None:
        self.fired = False
        self._armed = timeout is not None
        self._lock = threading.Lock()
        self._tid = threading.get_ident()
        self._timer: threading.Timer | None = None
        self._old_handler: Any = None
        self._use_signal = (timeout is not None and hasattr(signal, "setitimer")
                            and threading.current_thread() is threading.main_thread())
        if timeout is None:
            return
        if self._use_signal:
            self._old_handler = signal.signal(signal.SIGALRM, self._on_alarm)
            signal.setitimer(signal.ITIMER_REAL, timeout)
        else:
            self._timer = threading.Timer(timeout, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _on_alarm(self, signum: int, frame: Any) -> None:
        if self._armed:
            self.fired = True
            raise JobTimeout()

    def _fire(self) -> None:
        with self._lock:
            if self._armed:
                self.fired = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._tid),
                                                           ctypes.py_object(JobTimeout))

    def disarm(self) -> None:
        """After this returns no JobTimeout is pending or will be raised in the thread."""
        if self._use_signal:
            self._armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old_handler)
            return
        with self._lock:
            self._armed = False
            if self.fired:                  # fired but maybe not yet delivered: withdraw it
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._tid), None)
        if self._timer is not None:
            self._timer.cancel()


def base_row(job: Job) -> dict[str, Any]:
    """The configuration half of a job's row, every other column None."""
    c = job.config
    row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
    row.update(job_key=job.key, workload=job.workload.name, kind=job.workload.kind, arch=c.arch,
               physmem=c.physmem, physmem_label=size_label(c.physmem), swap=c.swap,
               swap_label=size_label(c.swap), uid=c.uid,
               sysctl=json.dumps(dict(c.sysctl), sort_keys=True), bsdvm_version=__version__)
    for name, value in c.sysctl:
        row[f"sysctl:{name}"] = value
    return row


def failed_row(job: Job, error: str, status: str = STATUS_FAILED) -> dict[str, Any]:
    """The row of a job that could not even start or whose worker died."""
    row = base_row(job)
    row.update(status=status, error=error)
    return row


def run_job(job: Job, payload: bytes | None = None, timeout: float | None = None) -> dict[str, Any]:
    """Run `job` on a fresh Kernel and return its row.  `payload`: the workload's input bytes (read
    from its file when None); `timeout`: seconds, None for none.  Never raises for the job's own
    failures (see the module comment); a KeyboardInterrupt still propagates."""
    row = base_row(job)
    row.update(worker=f"{socket.gethostname()}:{os.getpid()}",
               started=datetime.now(timezone.utc).isoformat(timespec="milliseconds"))
    c = job.config
    t0, cpu0 = time.perf_counter(), time.thread_time()
    dog = _Watchdog(timeout)
    kernel: Kernel | None = None
    meter: Meter | None = None
    before: dict[str, int] = {}
    try:
        try:
            # a program runs over the host's file tree (read-only), as under `bsdvm exec`
            kernel = Kernel(arch=c.arch, physmem=c.physmem, swap=c.swap,
                            host_root=job.workload.kind == "exec")
            for name, value in c.sysctl:
                kernel.sysctl(name, value)
            before = kernel.vmstat()
            meter = Meter(kernel)
            row.update(job.workload.run(kernel, c.uid, payload))
            row["status"] = STATUS_OK
        finally:
            dog.disarm()
    except JobTimeout:
        row.update(status=STATUS_TIMEOUT, error=f"timed out after {timeout:g} s")
    except Exception as e:  # noqa: BLE001 -- the job failed: that is a result, not a crash
        tb = traceback.extract_tb(e.__traceback__)
        where = f" (at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno})" if tb else ""
        row.update(status=STATUS_FAILED, error=f"{type(e).__name__}: {e}{where}")
    if kernel is not None:
        if meter is not None:
            after = kernel.vmstat()
            for name in COUNTER_NAMES:
                row[name] = after.get(name, 0) - before.get(name, 0)
            row["page_ins"] = row["v_swappgsin"] + row["v_vnodepgsin"]
            row["page_outs"] = row["v_swappgsout"] + row["v_vnodepgsout"]
            row["peak_resident"] = meter.peak_resident
            row["peak_swap"] = meter.peak_swap
        try:
            kernel.close()
        except Exception as e:  # noqa: BLE001 -- a kernel that cannot shut down fails the job
            if row["status"] == STATUS_OK:
                row.update(status=STATUS_FAILED, error=f"Kernel.close: {type(e).__name__}: {e}")
    row["wall_s"] = time.perf_counter() - t0
    row["cpu_s"] = time.thread_time() - cpu0         # this thread's CPU: wall above it is waiting
    return row
