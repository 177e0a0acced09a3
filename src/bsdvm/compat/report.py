"""The HTML report of a replay (`bsdvm replay TRACE --report out.html`): one self-contained file,
matplotlib figures embedded as base64 PNG data URIs, no external resources.

Sections: the verdict first (calls that differ without explanation, calls that differ by design, calls
that agree), the differences without explanation by reason, the by-design ones with their
docs/differences.md ids and FreeBSD 7 rules, the trace lines that were not recognised; then the
summary; the address-space layout at the end (the main traced process's entries in address order, bar
length the entry size on a log scale, colour the protection, hatching the object type); mapped and
resident size over the trace; page faults and page-outs over the trace; disagreements by reason and
every disagreeing call (unexplained first); the Linux bits not honoured.
"""
from __future__ import annotations

import base64
import html
import io
import os

_PROT_COLOURS = {"---": "#bdbdbd", "r--": "#4c9be8", "rw-": "#59b35a", "r-x": "#e8a33d",
                 "rwx": "#d9534f", "-w-": "#9b59b6", "--x": "#8d6e63", "-wx": "#ff7043"}
_HATCH = {"vnode": "//", "default": "", "swap": "..", "device": "xx", None: "\\\\"}


def _rwx(p: int) -> str:
    return ("r" if p & 1 else "-") + ("w" if p & 2 else "-") + ("x" if p & 4 else "-")


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _layout_figure(entries, pid):
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    n = len(entries)
    h = max(2.5, min(0.22 * n + 1.0, 40))
    fig, ax = plt.subplots(figsize=(10, h))
    if not entries:
        ax.text(0.5, 0.5, "no entries (the process unmapped everything)", ha="center")
        ax.set_axis_off()
        return fig
    ys = list(range(n))[::-1]
    for y, e in zip(ys, entries, strict=False):
        ax.barh(y, e.end - e.start, left=0, color=_PROT_COLOURS.get(_rwx(e.prot), "#777"),
                hatch=_HATCH.get(e.object_type, ""), edgecolor="#333", linewidth=0.4)
    ax.set_xscale("log")
    ax.set_xlabel("entry size (bytes, log scale)")
    step = max(1, n // 60)
    ax.set_yticks([y for i, y in enumerate(ys) if i % step == 0])
    ax.set_yticklabels([f"{e.start:#x} {os.path.basename(e.path or '') or e.object_type or ''}"
                        for i, e in enumerate(entries) if i % step == 0], fontsize=7,
                       family="monospace")
    ax.set_title(f"address space of traced pid {pid} at the end ({n} entries, lowest address "
                 "at the top)")
    handles = [Patch(facecolor=c, label=p) for p, c in _PROT_COLOURS.items()
               if any(_rwx(e.prot) == p for e in entries)]
    handles += [Patch(facecolor="white", edgecolor="#333", hatch=hh, label=f"object: {t}")
                for t, hh in _HATCH.items() if any(e.object_type == t for e in entries)]
    ax.legend(handles=handles, loc="lower right", fontsize=7)
    return fig


def _series_figure(samples, cols, labels, ylabel, title, scale=1.0):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10, 3.2))
    xs = [s[0] for s in samples]
    for c, lab in zip(cols, labels, strict=False):
        ax.plot(xs, [s[c] / scale for s in samples], label=lab, drawstyle="steps-post")
    ax.set_xlabel("memory call (replay order)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _table(headers, rows) -> str:
    h = "".join(f"<th>{html.escape(str(x))}</th>" for x in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def build_report(result, title: str = "replay", arch: str = "amd64",
                 max_rows: int = 2000) -> str:
    import matplotlib
    matplotlib.use("Agg", force=True)
    s = result.summary
    pid = result.main_pid
    entries = result.final_maps.get(pid, [])
    images = [
        ("Address-space layout at the end", _png(_layout_figure(entries, pid))),
        ("Mapped and resident size over the trace",
         _png(_series_figure(result.samples, (1, 2), ("mapped", "resident"), "MiB",
                             "mapped and resident size (all live model processes)",
                             scale=1024 * 1024))),
        ("Faults and page-outs over the trace",
         _png(_series_figure(result.samples, (3, 4), ("page faults (v_vm_faults)",
                                                      "pages written out (swap + vnode)"),
                             "count", "faults and page-outs (cumulative)"))),
    ]
    summary_rows = [
        ("memory calls replayed", s["calls_replayed"]),
        ("agreement rate (agree only)", f"{100 * s['agreement_rate']:.2f} %"),
        ("skipped", sum(s["skipped"].values())), ("model processes", s["model_processes"]),
        ("stand-in regions", s["standins"]), ("stand-in files", s["standin_files"]),
        ("host files copied", s["files_copied"]), ("relocated MAP_FIXED", s["relocated"]),
        ("split calls", s["split_calls"]), ("resyncs", s["resyncs"]),
        ("peak mapped (bytes)", s["peak_mapped"]), ("peak resident (bytes)", s["peak_resident"]),
        ("architecture", arch),
    ]
    dis = sorted((o for o in result.outcomes if o.disagrees),
                 key=lambda o: (str(o.status) != "differ-unexplained", o.seq))
    n = s["calls_replayed"]

    def share(x: int) -> str:
        return f"{100 * x / n:.1f} %" if n else "-"
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>bsdvm replay: {html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
        "table{border-collapse:collapse;margin:1em 0;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}"
        "th{background:#f0f0f0}img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}"
        "code,pre{font-size:12px}.verdict td{font-size:18px}.bad{color:#b71c1c;font-weight:bold}"
        "</style></head><body>",
        f"<h1>bsdvm replay: {html.escape(title)}</h1>",
        "<h2>Verdict</h2>",
        f"<p id='unexplained' class='{'bad' if s['unexplained'] else ''}'>"
        f"{s['unexplained']} of {n} calls differ without explanation (a model bug or an unknown).</p>",
        "<table class='verdict'><thead><tr><th>verdict</th><th>calls</th><th>share</th></tr></thead>"
        "<tbody>"
        + "".join(f"<tr><td>{html.escape(a)}</td><td>{b}</td><td>{share(b)}</td></tr>" for a, b in (
            ("differ without explanation", s["unexplained"]),
            ("differ by design (FreeBSD 7 rules)", s["by_design"]),
            ("agree", s["agreements"])))
        + "</tbody></table>",
    ]
    if s["unexplained_by_reason"]:
        parts.append("<h2>Differences without explanation</h2>")
        parts.append(_table(("reason", "calls", "example"),
                            [(cls, c, (s["disagreement_examples"].get(cls) or [{}])[0].get("reason"))
                             for cls, c in s["unexplained_by_reason"].items()]))
    if s["by_design_by_difference"]:
        parts.append("<h2>Differences by design (docs/differences.md)</h2>")
        parts.append(_table(("id", "calls", "FreeBSD 7 rule", "example"),
                            [(did, row["calls"], row["rule"], row["example"])
                             for did, row in s["by_design_by_difference"].items()]))
    unparsed = s.get("unparsed_lines") or {}
    if unparsed.get("count"):
        parts.append("<h2>Lines not recognised</h2>")
        parts.append(f"<p>{unparsed['count']} lines of the trace are not {html.escape(str(s.get('format')))} "
                     "records and were skipped; the first ones:</p>")
        parts.append(_table(("line", "text"), [(u["line"], u["text"]) for u in unparsed["first"]]))
    parts += ["<h2>Summary</h2>", _table(("", "value"), summary_rows)]
    for caption, b64 in images:
        parts.append(f"<h2>{html.escape(caption)}</h2>")
        parts.append(f"<img alt='{html.escape(caption)}' src='data:image/png;base64,{b64}'>")
    parts.append("<h2>Disagreements by reason</h2>")
    parts.append(_table(("reason", "calls", "example"),
                        [(cls, n, (s["disagreement_examples"].get(cls) or [{}])[0].get("reason"))
                         for cls, n in s["disagreements_by_reason"].items()])
                 if dis else "<p>none: every replayed call agreed.</p>")
    if dis:
        parts.append(f"<h2>Disagreeing calls ({len(dis)})</h2>")
        parts.append(_table(("line", "pid", "call", "trace", "model", "verdict", "difference",
                             "reason", "notes"),
                            [(o.rec.lineno, o.rec.pid, o.call_text(), o.trace, o.model, o.status,
                              o.reason.difference.id if o.reason and o.reason.difference else "-",
                              o.reason, "; ".join(o.notes)) for o in dis[:max_rows]]))
    if s["skipped"]:
        parts.append("<h2>Skipped</h2>")
        parts.append(_table(("reason", "calls"), list(s["skipped"].items())))
    if s["notes_by_kind"]:
        parts.append("<h2>Linux bits not honoured, emulations and stand-ins</h2>")
        parts.append(_table(("note", "calls"), list(s["notes_by_kind"].items())))
    if pid in result.final_procstat:
        parts.append(f"<h2>Final procstat -v of traced pid {pid}</h2>")
        parts.append(f"<pre>{html.escape(result.final_procstat[pid])}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(result, path, **kw) -> None:
    text = build_report(result, **kw)
    with open(os.fspath(path), "w", encoding="utf-8") as f:
        f.write(text)
