"""Issue 12 and issue 8 item 8: replay's three verdicts (agree / differ by design / differ without
explanation) from a typed outcome and the one rule table; a file holding no trace is a usage error;
unrecognised lines are counted and shown; --strict; the HTML report leads with the unexplained count."""
from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from bsdvm import Kernel
from bsdvm.cli import main
from bsdvm.compat.differences import BY_ID, DIFFERENCES, for_replay, replay_classes
from bsdvm.compat.replay import Reason, Replayer, Status
from bsdvm.compat.trace import parse_strace, read_trace

SMALL = ["--physmem", "32M", "--swap", "16M"]

# 5 calls agree; 3 differ by design (MSYNC-ASYNC-INVALIDATE, UNALIGNED, MREMAP-GROW); 1 differs
# without explanation (Linux refused an mprotect the model has no reason to refuse)
BY_DESIGN_TRACE = """\
mmap(NULL, 65536, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000
msync(0x7f0000000000, 4096, MS_ASYNC|MS_INVALIDATE) = 0
mincore(0x7f0000000001, 4096, 0x7ffd0000) = -1 EINVAL (Invalid argument)
mprotect(0x7f0000000000, 4096, PROT_READ) = 0
mprotect(0x7f0000001000, 4096, PROT_READ) = -1 EACCES (Permission denied)
mremap(0x7f0000000000, 65536, 262144, MREMAP_MAYMOVE) = 0x7f1000000000
munmap(0x7f1000000000, 262144) = 0
mmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f2000000000
munmap(0x7f2000000000, 8192) = 0
"""

GARBAGE = ["hello, this is the program's own output", "#### 42 ####", "Segmentation fault?"]


@pytest.fixture
def by_design_trace(tmp_path):
    p = tmp_path / "bydesign.trace"
    p.write_text(BY_DESIGN_TRACE)
    return p


def invoke(args):
    r = CliRunner().invoke(main, args)
    assert "Traceback" not in r.output
    return r


# -- the typed outcome and the rule table --------------------------------------------------------

def test_reason_names_its_rule_table_row_only_for_the_calls_it_covers():
    r = Reason.of("holes", "mprotect", "mprotect: holes ignored")
    assert r.difference is BY_ID["MPROTECT-HOLE"] and str(r) == "holes: mprotect: holes ignored"
    assert Reason.of("holes", "madvise", "x").difference is BY_ID["MADVISE-HOLE"]
    assert Reason.of("holes", "mlock", "x").difference is None          # not a documented row
    assert Reason.of("model-refused", "mmap", "x").difference is None
    assert Reason.of("linux-layer", "madvise", "x").difference is BY_ID["LINUX-LAYER"]  # any call


def test_rule_table_ids_unique_and_replay_classes_resolve():
    ids = [d.id for d in DIFFERENCES]
    assert len(ids) == len(set(ids))
    for d in DIFFERENCES:
        if d.replay_class:
            for call in d.replay_calls or ("mmap",):
                got = for_replay(d.replay_class, call)
                assert got is not None and got.replay_class == d.replay_class
        assert d.rule and d.freebsd and d.linux
    assert {"mremap-grow", "holes", "alignment", "msync-flags", "growsdown"} <= replay_classes()


def test_by_design_trace_gives_the_three_counts(by_design_trace):
    with Kernel(physmem="32M", swap="16M") as k:
        res = Replayer(k, read_trace(by_design_trace).records).run()
    s = res.summary
    assert (s["agreements"], s["by_design"], s["unexplained"]) == (5, 3, 1)
    assert s["calls_replayed"] == 9 and s["disagreements"] == 4
    assert set(s["by_design_by_difference"]) == {"MSYNC-ASYNC-INVALIDATE", "UNALIGNED", "MREMAP-GROW"}
    assert s["by_design_by_difference"]["MSYNC-ASYNC-INVALIDATE"]["rule"] == "SYN-1"
    assert s["unexplained_by_reason"] == {"model-accepted": 1}
    [bad] = res.unexplained
    assert bad.rec.lineno == 5 and bad.status is Status.DIFFER_UNEXPLAINED
    assert bad.reason is not None and bad.reason.cls == "model-accepted" and bad.reason.difference is None
    for o in res.by_design:
        assert o.reason is not None and o.reason.difference is not None
        assert o.as_dict()["difference"] == o.reason.difference.id


def test_cli_text_leads_with_unexplained_and_strict_sets_the_exit_status(by_design_trace):
    r = invoke(["replay", str(by_design_trace)] + SMALL)
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.output.splitlines() if "│" in ln]
    assert "differ without explanation" in lines[0] and "│ 1 │" in lines[0]
    assert "differ by design" in lines[1] and "│ 3 │" in lines[1]
    assert "agree" in lines[2] and "│ 5 │" in lines[2]
    assert "MREMAP-GROW" in r.output and "SYN-1" in r.output
    r = invoke(["replay", str(by_design_trace), "--strict"] + SMALL)
    assert r.exit_code == 1


def test_strict_passes_when_every_difference_is_explained(tmp_path):
    p = tmp_path / "explained.trace"
    p.write_text("".join(ln + "\n" for ln in BY_DESIGN_TRACE.splitlines() if "EACCES" not in ln))
    r = invoke(["replay", str(p), "--strict", "--json"] + SMALL)
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert list(d)[:3] == ["unexplained", "by_design", "agreements"]     # JSON leads with them
    assert (d["unexplained"], d["by_design"], d["agreements"]) == (0, 3, 5)
    statuses = {c["line"]: c["status"] for c in d["calls"]}
    assert statuses[2] == "differ-by-design"


# -- what is not a trace ---------------------------------------------------------------------------

def test_replay_of_a_file_that_holds_no_trace_is_a_usage_error(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("Dear diary,\ntoday I mapped some memory.\n\nThe end.\n")
    r = invoke(["replay", str(p)] + SMALL)
    assert r.exit_code == 2
    err = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
    assert len(err) == 1
    assert "holds no trace" in err[0] and "formats tried: strace, kdump" in err[0]
    assert "strace -f -y -e trace=%memory" in err[0] and "kdump" in err[0]
    assert "agreement rate" not in r.output


def test_replay_of_an_empty_file_or_the_wrong_format(tmp_path, by_design_trace):
    empty = tmp_path / "empty.trace"
    empty.write_text("")
    r = invoke(["replay", str(empty)] + SMALL)
    assert r.exit_code == 2 and "holds no trace" in r.output
    r = invoke(["replay", str(by_design_trace), "--format", "kdump"] + SMALL)
    assert r.exit_code == 2 and "formats tried: kdump)" in r.output


def test_trace_with_garbage_lines_reports_how_many_and_the_first(tmp_path):
    lines = BY_DESIGN_TRACE.splitlines()
    mixed = [lines[0], GARBAGE[0], lines[1], lines[2], GARBAGE[1], *lines[3:], GARBAGE[2]]
    p = tmp_path / "mixed.trace"
    p.write_text("\n".join(mixed) + "\n")
    t = read_trace(p)
    assert t.format == "strace" and len(t.unparsed) == 3
    assert [n for n, _ in t.unparsed] == [2, 5, len(mixed)]
    r = invoke(["replay", str(p)] + SMALL)
    assert r.exit_code == 0, r.output
    assert f"3 of {len(mixed)} lines are not strace records" in r.output
    assert "line 2: hello, this is the program's own output" in r.output
    r = invoke(["replay", str(p), "--json"] + SMALL)
    d = json.loads(r.output)
    assert d["unparsed_lines"]["count"] == 3
    assert d["unparsed_lines"]["first"][1] == {"line": 5, "text": GARBAGE[1]}
    # the garbage changes nothing in the verdict
    assert (d["agreements"], d["by_design"], d["unexplained"]) == (5, 3, 1)
    out = tmp_path / "mixed.html"
    assert invoke(["replay", str(p), "--report", str(out)] + SMALL).exit_code == 0
    rep = _Report()
    rep.feed(out.read_text())
    assert "Lines not recognised" in rep.h2 and GARBAGE[1] in rep.text


def test_kdump_noise_is_counted_but_dump_continuations_are_not():
    from bsdvm.compat.trace import parse_kdump
    unparsed: list = []
    recs = parse_kdump(["  10 a CALL  munmap(0x800632000,0x3000)",
                        "  10 a RET   munmap 0",
                        '       "indented GIO dump line"',
                        "garbage here"], unparsed=unparsed)
    assert len(recs) == 1 and unparsed == [(4, "garbage here")]


def test_engine_outcome_statuses_are_typed():
    with Kernel(physmem="32M", swap="16M") as k:
        res = Replayer(k, parse_strace(BY_DESIGN_TRACE.splitlines())).run()
    assert all(isinstance(o.status, Status) for o in res.outcomes)
    assert all(o.reason is None or isinstance(o.reason, Reason) for o in res.outcomes)


# -- the HTML report -------------------------------------------------------------------------------

class _Report(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.h2: list[str] = []
        self.imgs: list[str] = []
        self._tag = None

    def handle_starttag(self, tag, attrs):
        self._tag = tag
        if tag == "img":
            self.imgs.append(dict(attrs)["src"])

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())
            if self._tag == "h2":
                self.h2.append(data.strip())


def test_html_report_leads_with_the_unexplained_count_and_renders(tmp_path, by_design_trace):
    out = tmp_path / "r.html"
    r = invoke(["replay", str(by_design_trace), "--report", str(out)] + SMALL)
    assert r.exit_code == 0, r.output
    doc = out.read_text()
    p = _Report()
    p.feed(doc)
    # the first thing after the title is the verdict, and it starts with the unexplained count
    assert p.h2[0] == "Verdict"
    after_title = p.text[p.text.index("Verdict") + 1]
    assert after_title.startswith("1 of 9 calls differ without explanation")
    assert p.h2[1] == "Differences without explanation" and p.h2[2].startswith("Differences by design")
    assert "MREMAP-GROW" in doc and "SYN-1" in doc
    from PIL import Image
    for src in p.imgs:
        im = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1], validate=True)))
        im.load()
        assert im.size[0] > 100 and im.size[1] > 100
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return
    shot = tmp_path / "shot.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1000,800", f"file://{out}"], capture_output=True, timeout=120,
                   check=False)
    assert os.path.exists(shot), "headless chromium did not render the report"
    im = Image.open(shot).convert("L")
    # rendered: not a blank page (text and tables make dark pixels)
    dark = sum(im.histogram()[:128])
    assert dark > 1000, dark
