"""DIR/report.html of a sweep: one self-contained file (matplotlib figures as base64 PNG data URIs,
inline CSS, no script, no external resource).

Sections: a summary; per workload its working-set curve (page faults and page-outs against physmem,
one line per combination of the other axes), wall time against physmem and a table of its jobs;
replay agreement per trace with the disagreement classes; the failed and timed-out jobs.
Reads only the results DataFrame.  May call: matplotlib (Agg), pandas.
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from .plan import size_label

ROW_LIMIT = 500          # job rows listed per workload table
LEGEND_LIMIT = 10        # more lines than this in a plot: no legend (the table names them)


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(fig: Any, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{_png(fig)}">'


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    h = "".join(f"<th>{html.escape(str(x))}</th>" for x in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _series_label(r: pd.Series, varying: list[str]) -> str:
    parts = []
    for c in varying:
        v = r[c]
        parts.append(f"{c.removeprefix('sysctl:')}={size_label(int(v)) if c in ('swap', 'physmem') else v}")
    return " ".join(parts) or "all"


def _varying(df: pd.DataFrame) -> list[str]:
    cols = ["arch", "swap", "uid"] + [c for c in df.columns if c.startswith("sysctl:")]
    return [c for c in cols if df[c].nunique(dropna=True) > 1]


def _curve_figure(ok: pd.DataFrame, ys: list[tuple[str, str, float]], title: str) -> Any:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    varying = _varying(ok)
    fig, axes = plt.subplots(1, len(ys), figsize=(5.2 * len(ys), 3.6), squeeze=False,
                             layout="constrained")
    ticks = sorted(ok["physmem"].unique())
    series = ok.apply(lambda r: _series_label(r, varying), axis=1)
    nseries = series.nunique()
    if varying and nseries > LEGEND_LIMIT:
        title += f" ({nseries} configurations, one line each)"
    for ax, (col, ylabel, scale) in zip(axes[0], ys, strict=True):
        for label, g in ok.groupby(series, sort=True):
            g = g.sort_values("physmem")
            ax.plot(g["physmem"].astype(float), g[col].astype(float) / scale, marker="o", label=label)
        ax.set_xscale("log", base=2)
        ax.set_xticks([float(t) for t in ticks])
        ax.set_xticklabels([size_label(int(t)) for t in ticks], fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel("physmem")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if varying and nseries <= LEGEND_LIMIT:
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return fig


def _agreement_figure(per_trace: list[tuple[str, float, float]]) -> Any:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n = len(per_trace)
    fig, ax = plt.subplots(figsize=(10, max(1.6, 0.3 * n + 1.0)), layout="constrained")
    ys = list(range(n))[::-1]
    ax.barh(ys, [100 * m for _, m, _ in per_trace], color="#59b35a", label="mean over configurations")
    ax.scatter([100 * lo for _, _, lo in per_trace], ys, color="#d9534f", zorder=3, label="worst")
    ax.set_yticks(ys)
    ax.set_yticklabels([t for t, _, _ in per_trace], fontsize=7)
    ax.set_xlim(0, 100)
    ax.set_xlabel("agreement with the trace (% of memory calls)")
    ax.legend(fontsize=7, loc="lower left")
    return fig


_CSS = """body{font-family:sans-serif;margin:1.5em;max-width:1200px}
table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}th{background:#eee}
img{max-width:100%}h2{border-bottom:1px solid #999}.bad{color:#b00}"""


def render_report(df: pd.DataFrame) -> str:
    """The report's HTML for a results DataFrame (engine.results_frame's columns)."""
    out: list[str] = []
    n = len(df)
    ok = df[df["status"] == "ok"]
    bad = df[df["status"] != "ok"]
    out.append("<h1>bsdvm sweep</h1>")
    out.append(f"<p>{n} jobs: {len(ok)} ok, {int((df['status'] == 'failed').sum())} failed, "
               f"{int((df['status'] == 'timeout').sum())} timed out; generated "
               f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} "
               f"(bsdvm {', '.join(sorted(set(map(str, df['bsdvm_version'].dropna()))))}).</p>")
    axes = [("arch", df["arch"]), ("physmem", df["physmem"].map(lambda v: size_label(int(v)))),
            ("swap", df["swap"].map(lambda v: size_label(int(v)))), ("uid", df["uid"])]
    axes += [(c.removeprefix("sysctl:"), df[c]) for c in df.columns if c.startswith("sysctl:")]
    out.append(_table(["axis", "values"], [[a, ", ".join(sorted({str(x) for x in s.dropna()}))]
                                           for a, s in axes]))

    for (kind, name), g in df.groupby(["kind", "workload"], sort=True):
        out.append(f"<h2>{html.escape(str(kind))}: {html.escape(str(name))}</h2>")
        gok = g[g["status"] == "ok"]
        if len(gok):
            out.append(_img(_curve_figure(gok, [("v_vm_faults", "page faults", 1),
                                                ("page_outs", "page-outs (swap + vnode pages)", 1)],
                                          f"{name}: working-set curve"), f"{name} working-set curve"))
            out.append(_img(_curve_figure(gok, [("wall_s", "wall time (s)", 1),
                                                ("peak_resident", "peak resident (MiB)", 1 << 20)],
                                          f"{name}: wall time and peak resident"),
                            f"{name} wall time"))
        else:
            out.append('<p class="bad">no job of this workload succeeded</p>')
        varying = _varying(g)
        g = g.sort_values(["physmem"] + varying, kind="stable")
        outcome = "agreement" if kind == "replay" else "exit status"
        rows = []
        for _, r in g.head(ROW_LIMIT).iterrows():
            res = (f"{100 * r['agreement_rate']:.2f} %" if kind == "replay" and r["status"] == "ok"
                   else r["exit_status"])
            rows.append([size_label(int(r["physmem"])), _series_label(r, varying), r["status"], res,
                         r["v_vm_faults"], r["v_cow_faults"], r["v_zfod"], r["page_ins"],
                         r["page_outs"], _fmt_bytes(r["peak_resident"]), _fmt_bytes(r["peak_swap"]),
                         r["wall_s"]])
        out.append(_table(["physmem", "configuration", "status", outcome, "faults", "cow faults",
                           "zero-fill", "page-ins", "page-outs", "peak resident", "peak swap",
                           "wall s"], rows))
        if len(g) > ROW_LIMIT:
            out.append(f"<p>first {ROW_LIMIT} of {len(g)} jobs; all are in results.parquet</p>")

    rep = ok[ok["kind"] == "replay"]
    if len(rep):
        out.append("<h2>Replay agreement per trace</h2>")
        per_trace = []
        rows = []
        for name, g in rep.groupby("workload", sort=True):
            classes: Counter[str] = Counter()
            for s in g["disagreements_by_reason"].dropna():
                classes.update(json.loads(s))
            mean, lo = float(g["agreement_rate"].mean()), float(g["agreement_rate"].min())
            per_trace.append((str(name), mean, lo))
            rows.append([name, len(g), int(g["calls_replayed"].max()), f"{100 * mean:.2f} %",
                         f"{100 * lo:.2f} %",
                         ", ".join(f"{c} ×{k}" for c, k in classes.most_common()) or "none"])
        out.append(_img(_agreement_figure(per_trace), "replay agreement per trace"))
        out.append(_table(["trace", "jobs", "calls replayed", "mean agreement", "worst agreement",
                           "disagreement classes (summed over the trace's jobs)"], rows))

    out.append("<h2>Failed jobs</h2>")
    if len(bad):
        out.append(_table(["workload", "configuration", "status", "error", "worker"],
                          [[r["workload"], _series_label(r, ["arch", "physmem", "swap", "uid"] +
                                                         [c for c in df.columns if c.startswith("sysctl:")]),
                            r["status"], r["error"], r["worker"]] for _, r in bad.iterrows()]))
    else:
        out.append("<p>none</p>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>bsdvm sweep</title>"
            f"<style>{_CSS}</style></head><body>{''.join(out)}</body></html>")


def _fmt_bytes(v: Any) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return ""
    return size_label(int(v)) if int(v) % 1024 == 0 else str(int(v))


def write_report(df: pd.DataFrame | None, path: str) -> None:
    """Write render_report(df) to `path` atomically.  None (no results) writes nothing."""
    if df is None:
        return
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(render_report(df))
    os.replace(tmp, path)
