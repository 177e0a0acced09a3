"""The HTML report of `bsdvm exec --report FILE.html`: one self-contained file in the style of
`bsdvm replay --report` (matplotlib figures as base64 PNG data URIs): a summary, the address space
of the program at exit (its entries just before exit1 tore them down), resident memory and page
faults over the run's wall time, and the system calls by name with their errors.
Presentation only: everything is read from the kernel's exec statistics.
"""
from __future__ import annotations

import html
from typing import Any

from .report import _layout_figure, _png, _table


def _time_figure(samples: list[tuple[float, int, int]], col: int, label: str, ylabel: str,
                 scale: float = 1.0) -> Any:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.plot([s[0] for s in samples], [s[col] / scale for s in samples], label=label,
            drawstyle="steps-post")
    ax.set_xlabel("wall time (s)")
    ax.set_ylabel(ylabel)
    ax.set_title(label)
    ax.grid(alpha=0.3)
    return fig


def build_exec_report(k: Any, proc: Any, program: str) -> str:
    """The report's HTML text for the run of `program` whose first process is `proc`."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    from ..kern.kern_exit import status_exit_code
    st = k.exec_stats
    samples = st.samples if st is not None and st.samples else [(0.0, 0, 0)]
    entries = getattr(proc.proc, "p_final_maps", None) or []
    status = k.exit_status.get(proc.pid, 0)
    c = k.phys.counters
    c0 = st.counters0 if st is not None else {}

    def d(n: str) -> int:
        return c.get(n, 0) - c0.get(n, 0)
    summary = [
        ("program", program), ("exit status", status_exit_code(status)),
        ("system calls", sum(st.calls.values()) if st else 0),
        ("page faults (through the TLB-fill hook)", st.faults if st else 0),
        ("zero-fill / copy-on-write / vnode page-in / swap-in",
         f"{d('v_zfod')} / {d('v_cow_faults')} / {d('v_vnodein')} / {d('v_swapin')}"),
        ("TLB fills", k.exec_tlb_fills), ("pages written out (swap + vnode)",
                                         d("v_swappgsout") + d("v_vnodepgsout")),
        ("peak resident (pages)", st.peak_resident if st else 0),
        ("CPU time in Unicorn incl. hooks (s)", f"{k.exec_cpu_time:.3f}"),
    ]
    images = [
        ("Address space of the program at exit", _png(_layout_figure(entries, proc.pid))),
        ("Resident memory over time", _png(_time_figure(samples, 1, "resident pages (all "
                                                        "processes)", "MiB", 256.0))),
        ("Page faults over time", _png(_time_figure(samples, 2, "page faults (cumulative)",
                                                    "faults"))),
    ]
    rows = []
    if st is not None:
        for name, n in sorted(st.calls.items(), key=lambda kv: (-kv[1], kv[0])):
            errs = st.errors.get(name, {})
            rows.append((name, n, sum(errs.values()),
                         ", ".join(f"{e}×{m}" for e, m in sorted(errs.items()))))
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>bsdvm exec: {html.escape(program)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
        "table{border-collapse:collapse;margin:1em 0;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}"
        "th{background:#f0f0f0}img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}"
        "pre{font-size:12px}</style></head><body>",
        f"<h1>bsdvm exec: {html.escape(program)}</h1>",
        "<h2>Summary</h2>", _table(("", "value"), summary),
    ]
    for caption, b64 in images:
        parts.append(f"<h2>{html.escape(caption)}</h2>")
        parts.append(f"<img alt='{html.escape(caption)}' src='data:image/png;base64,{b64}'>")
    parts.append("<h2>System calls</h2>")
    parts.append(_table(("call", "count", "errors", "errnos"), rows))
    text = getattr(proc.proc, "p_final_procstat", None)
    if text:
        parts.append(f"<h2>procstat -v of pid {proc.pid} at exit</h2>")
        parts.append(f"<pre>{html.escape(text)}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_exec_report(path: str, k: Any, proc: Any, program: str) -> None:
    """Write the report to `path`."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(build_exec_report(k, proc, program))
