"""`bsdvm exec` as a command: options validated by click (bad ones exit 2, never a traceback), a
program found on PATH, the exit status passed through, --stats JSON and --report HTML."""
from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from executil import build

from bsdvm.cli import main


@pytest.mark.parametrize("opts", [["--physmem", "lots"], ["--physmem", "1K"], ["--swap", "-3"],
                                  ["--env", "NOEQUALS"], ["--uid", "-5"], ["--uid", "abc"],
                                  ["--rw", "/definitely/not/here"]])
def test_bad_options_exit_2_without_a_traceback(opts):
    r = CliRunner().invoke(main, ["exec", *opts, "true"])
    assert r.exit_code == 2
    assert "Traceback" not in r.output


def test_unknown_program_is_127():
    r = CliRunner().invoke(main, ["exec", "no-such-program-bsdvm"])
    assert r.exit_code == 127
    assert "command not found" in r.output


def test_exit_status_and_stats_json(tmp_path):
    stats = tmp_path / "s.json"
    r = CliRunner().invoke(main, ["exec", "--env", "BSDVM_TEST=7", "--stats", str(stats),
                                  build("hello")])
    assert r.exit_code == 3
    d = json.loads(stats.read_text())
    assert d["exit_status"] == 3
    assert d["syscalls"]["write"]["count"] >= 1
    assert "rseq" in d["unimplemented"] or d["unimplemented"] == []
    for kind in ("zero_fill", "copy_on_write", "vnode_page_in", "swap_in"):
        assert kind in d["faults"]
    assert d["tlb_fills"] > 0 and d["peak_resident_pages"] > 0 and d["wall_seconds"] > 0


def test_report_html_has_the_layout_and_the_calls(tmp_path):
    out = tmp_path / "r.html"
    r = CliRunner().invoke(main, ["exec", "--report", str(out), build("hello"), "a"])
    assert r.exit_code == 3
    text = out.read_text()
    assert "Address space of the program at exit" in text and "data:image/png;base64," in text
    assert "<td>write</td>" in text
    assert os.path.getsize(out) > 10000
