"""Issue 12: the views a FreeBSD user expects -- `bsdvm sysctl` as sysctl(8) prints the tree, --show
procstat,vmstat,sysctl (procstat -v and vmstat -s formats) on any run, --sysctl settings applied before
a run, and shell completion through click."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from bsdvm import Kernel
from bsdvm.cli import main
from bsdvm.report import VMSTAT_S_LINES

SMALL = ["--physmem", "32M", "--swap", "16M"]
PROCSTAT_HEADER = re.compile(r"^\s*PID\s+START\s+END\s+PRT\s+RES\s+PRES\s+REF\s+SHD\s+FL\s+TP\s+PATH$")
VMSTAT_LINE = re.compile(r"^[ \d]{8}\d  ?\S.*$")


def invoke(args, **kw):
    r = CliRunner().invoke(main, args, **kw)
    assert "Traceback" not in r.output, r.output
    return r


@pytest.fixture
def scenario(tmp_path):
    sc = tmp_path / "sc.py"
    sc.write_text("a = p.mmap(0, 8192, 3, mman.MAP_ANON | mman.MAP_PRIVATE)\n"
                  "p.mem_write(a, b'x')\n"
                  "c = p.fork()\n"
                  "print('max_proc_mmap is', k.sysctl('vm.max_proc_mmap'))\n")
    return str(sc)


def section(output: str, name: str) -> list[str]:
    lines = output.splitlines()
    i = lines.index(f"--- {name} ---")
    out = []
    for ln in lines[i + 1:]:
        if ln.startswith("--- "):
            break
        out.append(ln)
    return out


def test_sysctl_prints_name_colon_value_as_sysctl8():
    with Kernel(physmem="32M", swap="16M") as k:
        want = k.sysctl_tree.get_all()
    r = invoke(["sysctl", "-a"] + SMALL)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [f"{n}: {v}" for n, v in want.items()]
    r = invoke(["sysctl", "vm.max_proc_mmap"] + SMALL)
    assert r.output == f"vm.max_proc_mmap: {want['vm.max_proc_mmap']}\n"
    r = invoke(["sysctl", "-n", "hw.pagesize"] + SMALL)
    assert r.output == "4096\n"


def test_sysctl_subtree_descriptions_and_set():
    r = invoke(["sysctl", "vm.stats.vm"] + SMALL)
    names = [ln.split(":")[0] for ln in r.output.splitlines()]
    assert names and all(n.startswith("vm.stats.vm.") for n in names)
    r = invoke(["sysctl", "-d", "vm.max_proc_mmap", "vm.stats.vm.v_cow_faults"] + SMALL)
    assert r.output.splitlines() == [
        "vm.max_proc_mmap: max entries per map (mmap fails with ENOMEM at this many)",
        "vm.stats.vm.v_cow_faults: copy-on-write faults"]
    r = invoke(["sysctl", "vm.max_proc_mmap=100"] + SMALL)
    assert r.exit_code == 0 and re.fullmatch(r"vm\.max_proc_mmap: \d+ -> 100\n", r.output)
    r = invoke(["sysctl", "--json", "kern.sgrowsiz", "hw.pagesize"] + SMALL)
    assert json.loads(r.output) == {"kern.sgrowsiz": 128 * 1024, "hw.pagesize": 4096}


def test_sysctl_values_follow_the_kernel_options():
    small = invoke(["sysctl", "-n", "hw.physmem", "--physmem", "32M"]).output
    i386 = invoke(["sysctl", "-n", "vm.max_proc_mmap", "--arch", "i386", "--physmem", "32M"]).output
    amd64 = invoke(["sysctl", "-n", "vm.max_proc_mmap", "--physmem", "32M"]).output
    assert int(small) == 32 << 20
    assert int(i386) != int(amd64)          # the entry size differs (68 vs 112 bytes)


def test_run_sysctl_option_is_applied_before_the_scenario(scenario):
    r = invoke(["run", scenario, "--sysctl", "vm.max_proc_mmap=77"] + SMALL)
    assert r.exit_code == 0, r.output
    assert "max_proc_mmap is 77" in r.output


def test_run_show_procstat_vmstat_in_freebsd_formats(scenario):
    r = invoke(["run", scenario, "--show", "procstat,vmstat"] + SMALL)
    assert r.exit_code == 0, r.output
    ps = section(r.output, "procstat")
    assert PROCSTAT_HEADER.match(ps[0]), ps[0]
    rows = [ln.split() for ln in ps[1:]]
    assert {row[0] for row in rows} == {"100", "101"}           # parent and child, one header
    assert all(re.fullmatch(r"[r-][w-][x-]", row[3]) for row in rows)
    vm = section(r.output, "vmstat")
    assert all(VMSTAT_LINE.match(ln) for ln in vm), vm
    texts = [ln[10:] for ln in vm]
    assert texts == [t for _, t in VMSTAT_S_LINES]
    assert "        1  fork() calls" in vm
    assert "     4096 bytes per page" in vm
    assert "procstat -v 100" not in r.output                  # the views replace the tables


def test_show_in_json_and_on_demo_and_replay(scenario, tmp_path):
    r = invoke(["run", scenario, "--json", "--show", "sysctl"] + SMALL)
    d = json.loads(r.output[r.output.index("{"):])
    assert "vm.max_proc_mmap: " in d["show"]["sysctl"]
    r = invoke(["demo", "--show", "vmstat"] + SMALL)
    assert r.exit_code == 0 and "total VM faults taken" in "\n".join(section(r.output, "vmstat"))
    tr = tmp_path / "t.trace"
    tr.write_text("mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
                  "0x7f0000000000\n")
    r = invoke(["replay", str(tr), "--show", "procstat,vmstat"] + SMALL)
    assert r.exit_code == 0, r.output
    ps = section(r.output, "procstat")
    assert PROCSTAT_HEADER.match(ps[0]) and len(ps) >= 2


def test_help_explains_the_procstat_columns():
    r = invoke(["run", "--help"])
    text = " ".join(r.output.split())
    for words in ("PRT its protection", "RES pages resident", "SHD its shadow count",
                  "TP object type", "vmstat -s"):
        assert words in text, words


def test_shell_completion_script_and_show_completion():
    r = invoke([], prog_name="bsdvm", env={"_BSDVM_COMPLETE": "bash_source"})
    assert "_bsdvm_completion" in r.output and "complete -o nosort -F" in r.output
    r = invoke([], prog_name="bsdvm", env={"_BSDVM_COMPLETE": "bash_complete",
                                           "COMP_WORDS": "bsdvm run x.py --show procstat,vm",
                                           "COMP_CWORD": "4"})
    assert "plain,procstat,vmstat" in r.output
    r = invoke([], prog_name="bsdvm", env={"_BSDVM_COMPLETE": "bash_complete",
                                           "COMP_WORDS": "bsdvm sy", "COMP_CWORD": "1"})
    assert "plain,sysctl" in r.output


def test_replay_json_with_show_is_one_json_document(tmp_path):
    tr = tmp_path / "t.trace"
    tr.write_text("mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
                  "0x7f0000000000\n")
    r = invoke(["replay", str(tr), "--json", "--show", "vmstat,sysctl"] + SMALL)
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["calls_replayed"] == 1 and set(d["show"]) == {"vmstat", "sysctl"}
    assert "total VM faults taken" in d["show"]["vmstat"]


def test_shell_completion_of_sysctl_names():
    r = invoke([], prog_name="bsdvm", env={"_BSDVM_COMPLETE": "bash_complete",
                                           "COMP_WORDS": "bsdvm sysctl vm.max_", "COMP_CWORD": "2"})
    assert r.output.splitlines() == ["plain,vm.max_proc_mmap", "plain,vm.max_wired"]
    r = invoke([], prog_name="bsdvm", env={"_BSDVM_COMPLETE": "bash_complete",
                                           "COMP_WORDS": "bsdvm demo --sysctl kern.sg",
                                           "COMP_CWORD": "3"})
    assert r.output.splitlines() == ["plain,kern.sgrowsiz="]
