"""The body of `bsdvm replay`: replays a read trace on a booted Kernel and prints the verdict (text or
JSON), optionally writes the HTML report.  Presentation only; the command line itself (options, their
checking, booting the kernel) is in bsdvm.cli.  The output leads with the three verdicts: calls that
differ without explanation, calls that differ by design (each under its docs/differences.md id and
FreeBSD 7 rule), calls that agree.
"""
from __future__ import annotations

import json as json_mod
import os
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ...report import entry_dict, vmstat_diff
from ..trace import ParsedTrace
from .engine import Replayer, ReplayResult
from .outcome import Status

UNPARSED_SHOWN = 5          # unrecognised lines quoted in the output


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def exit_status(result: ReplayResult, strict: bool) -> int:
    """The command's exit status: 1 under --strict when some call differs without explanation,
    else 0."""
    return 1 if strict and result.summary["unexplained"] else 0


def run_replay(kernel: Any, trace: ParsedTrace, trace_path: str, *, as_json: bool, uid: int = 0,
               touch: str = "evidence", report_path: str | None = None, limit: int = 40,
               all_calls: bool = False, console: Console | None = None,
               views: Callable[[ReplayResult], dict[str, str]] | None = None) -> ReplayResult:
    """Replay `trace` on `kernel`, print the verdict (text, or JSON with `as_json`) and write the
    HTML report when `report_path` is given.

    Args:
        kernel: a freshly booted Kernel.
        trace: the trace read by bsdvm.compat.trace.read_trace (at least one record).
        trace_path: its path, for the titles.
        as_json: print one JSON document instead of tables.
        uid: the replaying processes' user.
        touch: "none", "evidence" or "all" (see Replayer).
        report_path: where to write the HTML report, or None.
        limit: how many differing calls the text output lists.
        all_calls: list every call, not only those that differ.
        console: where the tables go (default: stdout).
        views: called with the result, returns the --show views (name -> text) to print after the
            tables, or to add to the JSON under "show".

    Returns:
        the ReplayResult; its summary also carries the trace's facts (path, format, records,
        unparsed lines) and the architecture.
    """
    con = console or Console()
    records = trace.records
    k = kernel
    before = k.vmstat()
    if not as_json and len(records) >= 5000:
        with Progress(TextColumn("replaying"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=Console(stderr=True), transient=True) as prog:
            task = prog.add_task("replay", total=len(records))
            res = Replayer(k, records, uid=uid, touch=touch,
                           progress=lambda i, n: prog.update(task, completed=i)).run()
    else:
        res = Replayer(k, records, uid=uid, touch=touch).run()
    moved = vmstat_diff(before, k.vmstat())
    s = res.summary
    s["trace"] = os.fspath(trace_path)
    s["format"] = trace.format
    s["records"] = len(records)
    s["lines"] = trace.lines
    s["unparsed_lines"] = dict(count=len(trace.unparsed),
                               first=[dict(line=n, text=t) for n, t in
                                      trace.unparsed[:UNPARSED_SHOWN]])
    s["arch"] = k.arch.name
    if report_path:
        from ..report import write_report
        write_report(res, report_path, title=os.path.basename(os.fspath(trace_path)),
                     arch=k.arch.name)
    if as_json:
        out = res.to_json(all_calls=True)
        out["final_maps"] = {str(pid): [entry_dict(e) for e in ents]
                             for pid, ents in res.final_maps.items()}
        out["vmstat_moved"] = {n: list(v) for n, v in moved.items()}
        if report_path:
            out["report"] = os.fspath(report_path)
        if views is not None:
            out["show"] = views(res)
        print(json_mod.dumps(out, indent=1, default=str))
        return res
    _print_text(con, res, trace, moved, limit, all_calls)
    if report_path:
        con.print(f"report written to {escape(os.fspath(report_path))}")
    if views is not None:
        for name, text in views(res).items():
            print(f"--- {name} ---")
            print(text)
    return res


def _print_text(con: Console, res: ReplayResult, trace: ParsedTrace,
                moved: dict[str, tuple[int, int]], limit: int, all_calls: bool) -> None:
    s = res.summary
    n = s["calls_replayed"]

    def pct(x: int) -> str:
        return f"{100 * x / n:.1f} %" if n else "-"

    t = Table(title=f"replay of {s['trace']} ({trace.format}, {s['records']} records)",
              show_header=False)
    t.add_column("verdict")
    t.add_column("calls", justify="right")
    t.add_column("share", justify="right")
    t.add_row("[bold]differ without explanation[/]" if s["unexplained"] else
              "differ without explanation", str(s["unexplained"]), pct(s["unexplained"]))
    t.add_row("differ by design (FreeBSD 7 rules)", str(s["by_design"]), pct(s["by_design"]))
    t.add_row("agree", str(s["agreements"]), pct(s["agreements"]))
    t.add_row("memory calls replayed", str(n), "")
    con.print(t)
    if trace.unparsed:
        con.print(f"{len(trace.unparsed)} of {trace.lines} lines are not {trace.format} records "
                  f"and were skipped; the first {min(UNPARSED_SHOWN, len(trace.unparsed))}:",
                  highlight=False)
        for lineno, text in trace.unparsed[:UNPARSED_SHOWN]:
            con.print(f"  line {lineno}: {escape(text[:160])}", highlight=False)
    if s["unexplained_by_reason"]:
        t = Table(title="differences without explanation (a model bug or an unknown)")
        t.add_column("reason")
        t.add_column("calls", justify="right")
        t.add_column("example")
        for cls, cnt in s["unexplained_by_reason"].items():
            ex = s["disagreement_examples"].get(cls, [{}])[0]
            t.add_row(cls, str(cnt), f"line {ex.get('line')}: {ex.get('reason', '')}")
        con.print(t)
    if s["by_design_by_difference"]:
        t = Table(title="differences by design (docs/differences.md)")
        t.add_column("id")
        t.add_column("calls", justify="right")
        t.add_column("FreeBSD 7 rule")
        t.add_column("example")
        for did, row in s["by_design_by_difference"].items():
            t.add_row(did, str(row["calls"]), row["rule"], row["example"])
        con.print(t)
    t = Table(title="replay", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    rows = [
        ("agreement rate (agree only)", f"{100 * s['agreement_rate']:.2f} %"),
        ("skipped", sum(s["skipped"].values())),
        ("model processes (spawn/fork/exec)", s["model_processes"]),
        ("forks inferred / execs", f"{s['inferred_forks']} / {s['execs']}"),
        ("stand-in regions / stand-in files", f"{s['standins']} / {s['standin_files']}"),
        ("host files copied", s["files_copied"]),
        ("relocated MAP_FIXED / split calls / resyncs",
         f"{s['relocated']} / {s['split_calls']} / {s['resyncs']}"),
        ("peak mapped", _size(s["peak_mapped"])),
        ("peak resident", _size(s["peak_resident"])),
        ("peak wired", _size(s["peak_wired"])),
    ]
    for a, b in rows:
        t.add_row(a, str(b))
    con.print(t)
    if s["skipped"]:
        t = Table(title="skipped")
        t.add_column("reason")
        t.add_column("calls", justify="right")
        for cls, cnt in s["skipped"].items():
            t.add_row(str(cls), str(cnt))
        con.print(t)
    rows_o = [o for o in res.outcomes if all_calls or o.disagrees]
    # unexplained first: they are what needs looking at
    if not all_calls:
        rows_o.sort(key=lambda o: (o.status is not Status.DIFFER_UNEXPLAINED, o.seq))
    if rows_o:
        t = Table(title="calls" if all_calls else
                  f"calls that differ (first {min(limit, len(rows_o))} of {len(rows_o)}, "
                  "unexplained first)")
        for col in ("line", "pid", "call", "trace", "model", "status", "reason"):
            t.add_column(col, overflow="fold")
        for o in rows_o if all_calls else rows_o[:limit]:
            d = o.reason.difference if o.reason else None
            why = str(o.reason) if o.reason else "; ".join(o.notes[:2])
            t.add_row(str(o.rec.lineno), "-" if o.rec.pid is None else str(o.rec.pid),
                      o.call_text(), o.trace, o.model,
                      str(o.status) + (f" {d.id}" if d else ""), escape(why))
        con.print(t)
    if s["notes_by_kind"]:
        t = Table(title="Linux bits not honoured, emulations and stand-ins (notes)")
        t.add_column("note")
        t.add_column("calls", justify="right")
        for nm, cnt in s["notes_by_kind"].items():
            t.add_row(nm, str(cnt))
        con.print(t)
    main = res.main_pid
    if main in res.final_procstat:
        con.print(f"[bold]final procstat -v of traced pid {main}[/]")
        con.print(res.final_procstat[main], highlight=False, markup=False)
    t = Table(title="vmstat counters that moved")
    t.add_column("counter")
    t.add_column("before", justify="right")
    t.add_column("after", justify="right")
    for name, (old, new) in sorted(moved.items()):
        t.add_row(name, str(old), str(new))
    con.print(t)
