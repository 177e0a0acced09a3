"""`bsdvm sweep`: the click command over bsdvm.sweep (registered by bsdvm.cli).  Presentation and
option checking only: every bad option value is a click usage error (exit status 2, no traceback);
the work is engine.sweep.  Exit status: 0 when the sweep finished (failed jobs are rows, not
errors), 1 when the cluster cannot be reached, 130 after Ctrl-C (what finished is saved).
May call: .plan, .workloads, .engine (lazily: pandas and Dask load only when the command runs).
"""
from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

import click

from .plan import parse_archs, parse_ints, parse_sizes, parse_sysctl, workloads_from
from .workloads import PlanError

_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://\S+$|^[\w.\-\[\]:]+:\d+$")


class _ListType(click.ParamType):
    """A comma-separated axis, checked by `parse` (a plan.parse_* function)."""

    def __init__(self, name: str, parse: Any) -> None:
        self.name = name
        self._parse = parse

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, list):
            return value
        try:
            return self._parse(value)
        except PlanError as e:
            self.fail(str(e), param, ctx)


class _SysctlType(click.ParamType):
    name = "NAME=V1,V2"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, tuple):
            return value
        try:
            name, values = parse_sysctl(value)
        except PlanError as e:
            self.fail(str(e), param, ctx)
        from ..kernel import Kernel
        with Kernel(physmem="256K", swap=0) as k:       # the names a fresh kernel knows
            tree = k.sysctl_tree
            if name not in tree:
                self.fail(f"{name}: no such sysctl", param, ctx)
            if not tree.writable(name):
                self.fail(f"{name}: read-only sysctl", param, ctx)
        return name, values


class _AddressType(click.ParamType):
    name = "ADDRESS"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if not isinstance(value, str) or not _ADDRESS.match(value):
            self.fail(f"{value!r} is not a scheduler address such as tcp://HOST:PORT", param, ctx)
        return value


SIZES = _ListType("SIZES", lambda v: parse_sizes(v, "physmem/swap"))
ARCHS = _ListType("ARCHS", parse_archs)
UIDS = _ListType("UIDS", lambda v: parse_ints(v, "uid", 0, (1 << 32) - 1))


@click.command("sweep")
@click.argument("args", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="results directory: results.parquet, results.csv, report.html (resumed if present)")
@click.option("--exec", "exec_cmds", multiple=True, metavar="COMMAND",
              help='a program to execute in the model, e.g. "python3 -S -c pass" (repeatable)')
@click.option("--replay", multiple=True, metavar="TRACE",
              help="strace/kdump trace(s) to replay; globs welcome (repeatable)")
@click.option("--run", multiple=True, metavar="SCENARIO.py", help="scenario script(s) (repeatable)")
@click.option("--physmem", type=SIZES, default=None, help="axis, e.g. 8M,16M,32M  [default: 64M]")
@click.option("--swap", type=SIZES, default=None, help="axis  [default: 128M]")
@click.option("--arch", type=ARCHS, default=None, help="axis: amd64,i386  [default: amd64]")
@click.option("--uid", type=UIDS, default=None, help="axis: uids the workload runs as  [default: 0]")
@click.option("--sysctl", "sysctls", type=_SysctlType(), multiple=True,
              help="axis: NAME=V1,V2 set after boot (repeatable; each name is an axis)")
@click.option("--scheduler", type=_AddressType(), default=None,
              help="a running Dask scheduler (tcp://HOST:PORT); default: a LocalCluster")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="worker processes of the LocalCluster  [default: one per core]")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="seconds per job; a job over it is a timed-out row")
@click.option("--retry-failed", is_flag=True, help="re-run jobs whose recorded row failed or timed out")
@click.option("--no-report", is_flag=True, help="do not write report.html")
@click.option("--no-progress", is_flag=True, help="no progress bar")
@click.option("--json", "as_json", is_flag=True, help="print a JSON summary")
def sweep_command(args: tuple[str, ...], out: str | None, exec_cmds: tuple[str, ...],
                  replay: tuple[str, ...], run: tuple[str, ...], physmem: list[int] | None,
                  swap: list[int] | None, arch: list[str] | None, uid: list[int] | None,
                  sysctls: tuple[tuple[str, list[int]], ...], scheduler: str | None,
                  workers: int | None, timeout: float | None, retry_failed: bool,
                  no_report: bool, no_progress: bool, as_json: bool) -> None:
    """Run workloads under every combination of the axes on Dask, one fresh Kernel per job.

    ARGS: an optional PLAN.toml (the same plan as a file), and more files for the workload options
    (so a shell-expanded `--replay *.trace` works): *.py are --run scenarios, others --replay traces.
    """
    from .plan import load_plan
    if scheduler is not None and workers is not None:
        raise click.UsageError("--workers sizes the LocalCluster; it cannot go with --scheduler")
    plans = [a for a in args if a.endswith(".toml")]
    if len(plans) > 1:
        raise click.UsageError("at most one PLAN.toml")
    more_run = [a for a in args if a.endswith(".py")]
    more_replay = [a for a in args if not a.endswith((".py", ".toml"))]
    sysctl = dict(sysctls) if sysctls else None
    try:
        workloads = workloads_from(list(exec_cmds), list(replay) + more_replay, list(run) + more_run)
        axes: dict[str, Any] = dict(physmem=physmem, swap=swap, arch=arch, uid=uid, sysctl=sysctl,
                                    timeout=timeout, out=out)
        if plans:
            plan = load_plan(plans[0], extra_workloads=workloads, **axes)
        else:
            from .plan import Plan
            plan = Plan(workloads=workloads, **{k: v for k, v in axes.items() if v is not None})
    except PlanError as e:
        raise click.UsageError(str(e)) from None
    if plan.out is None:
        raise click.UsageError("--out DIR is required (or `out = ...` in the plan)")
    plan.retry_failed = retry_failed
    _run(plan, scheduler, workers, not no_report, not no_progress and sys.stderr.isatty(), as_json)


def _run(plan: Any, scheduler: str | None, workers: int | None, report: bool, show: bool,
         as_json: bool) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .engine import sweep
    err = Console(stderr=True)
    jobs, excluded = plan.jobs()
    if excluded and not as_json:
        err.print(f"{len(excluded)} combination(s) left out where the workload does not allow the "
                  f"arch (e.g. {excluded[0][0].name} on {excluded[0][1].arch}: {excluded[0][2]})")
    prog = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("failed {task.fields[failed]} running {task.fields[running]}"),
                    TextColumn("ETA"), TimeRemainingColumn(), console=err, disable=not show)
    task = prog.add_task("sweep", total=None, failed=0, running=0)

    def progress(st: Any) -> None:
        prog.update(task, total=st.total, completed=st.done, failed=st.failed, running=st.running)

    try:
        with prog:
            df = sweep(plan, scheduler=scheduler, workers=workers, progress=progress, report=report)
    except KeyboardInterrupt:
        err.print("cancelled: finished jobs are saved; run the same command again to resume")
        sys.exit(130)
    except (OSError, TimeoutError) as e:
        raise click.ClickException(f"cannot reach the Dask scheduler {scheduler}: {e}") from None
    counts = df["status"].value_counts().to_dict()
    summary = dict(jobs=len(df), ok=int(counts.get("ok", 0)), failed=int(counts.get("failed", 0)),
                   timeout=int(counts.get("timeout", 0)), excluded=len(excluded),
                   results=os.path.join(plan.out, "results.parquet"),
                   report=os.path.join(plan.out, "report.html") if report else None)
    if as_json:
        click.echo(json.dumps(summary, indent=1))
    else:
        click.echo(f"{summary['jobs']} jobs: {summary['ok']} ok, {summary['failed']} failed, "
                   f"{summary['timeout']} timed out -> {summary['results']}"
                   + (f", {summary['report']}" if report else ""))
