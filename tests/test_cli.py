"""The bsdvm command: demo and run, in text and JSON (issue 2's main job, issue 4's run)."""
from __future__ import annotations

import errno
import json

from click.testing import CliRunner

from bsdvm.cli import main


def test_demo_text_shows_each_step_tables_and_counters():
    r = CliRunner().invoke(main, ["demo", "--physmem", "32M", "--swap", "32M"])
    assert r.exit_code == 0, r.output
    out = r.output
    assert "reads b'hello from A'" in out
    assert "host file now starts with b'hello from A'" in out
    assert "parent sees b'parent data', child sees b'child  data'" in out
    assert "mlock -> Operation not permitted" in out
    assert "procstat -v" in out and "vmstat counters that moved" in out
    assert "v_cow_faults" in out and "/shared.dat" in out


def test_demo_json_is_machine_readable():
    r = CliRunner().invoke(main, ["demo", "--json", "--physmem", "32M", "--swap", "32M"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    steps = {s["step"]: s for s in d["steps"]}
    assert any(s.get("mlock_errno") == errno.EPERM for s in steps.values())
    assert any(s.get("seen") == "hello from A" for s in steps.values())
    assert d["vmstat"]["v_cow_faults"] >= 1
    assert d["vmstat_moved"]["v_forks"] == [0, 1]
    for entries in d["maps"].values():
        starts = [e["start"] for e in entries]
        assert starts == sorted(starts)


def test_demo_i386(tmp_path):
    r = CliRunner().invoke(main, ["demo", "--arch", "i386", "--physmem", "32M", "--swap", "16M",
                                  "--root", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "shared.dat").read_bytes()[:12] == b"hello from A"


def test_run_scenario_prints_final_state(tmp_path):
    sc = tmp_path / "sc.py"
    sc.write_text("a = p.mmap(0, 8192, 3, mman.MAP_ANON | mman.MAP_PRIVATE)\n"
                  "p.mem_write(a, b'x')\n"
                  "c = p.fork()\n")
    r = CliRunner().invoke(main, ["run", str(sc), "--json", "--physmem", "32M", "--swap", "16M"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert len(d["processes"]) == 2 and d["vmstat"]["v_forks"] == 1
    r = CliRunner().invoke(main, ["run", str(sc), "--physmem", "32M", "--swap", "16M"])
    assert r.exit_code == 0 and "procstat -v" in r.output and "vmstat" in r.output


def test_run_scenario_failure_is_reported_with_exit_1(tmp_path):
    sc = tmp_path / "bad.py"
    sc.write_text("p.munmap(0, 0)\n")
    r = CliRunner().invoke(main, ["run", str(sc), "--physmem", "32M", "--swap", "16M"])
    assert r.exit_code == 1
    assert "scenario raised OSError" in r.output and "procstat -v" in r.output

