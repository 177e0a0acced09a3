"""Issue 12: a bad option or argument value of any command is click's usage error -- exit status 2,
one line naming the option and saying why -- never a Python traceback.  One test per bad-input class
per command."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from bsdvm.cli import main

SMALL = ["--physmem", "32M", "--swap", "16M"]
TRACE_LINE = "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"


@pytest.fixture
def files(tmp_path):
    sc = tmp_path / "sc.py"
    sc.write_text("a = p.mmap(0, 4096, 3, mman.MAP_ANON | mman.MAP_PRIVATE)\n")
    tr = tmp_path / "t.trace"
    tr.write_text(TRACE_LINE)
    return {"scenario": str(sc), "trace": str(tr), "tmp": tmp_path}


def command(name: str, files: dict) -> list[str]:
    """The command line of `name` with its required arguments, valid."""
    return {"demo": ["demo"], "run": ["run", files["scenario"]], "replay": ["replay", files["trace"]],
            "sysctl": ["sysctl", "-a"]}[name]


def assert_usage_error(args: list[str], option: str, why: str) -> str:
    r = CliRunner().invoke(main, args)
    out = r.output
    assert r.exit_code == 2, (r.exit_code, out, r.exception)
    assert "Traceback" not in out
    assert isinstance(r.exception, SystemExit)
    err = [ln for ln in out.splitlines() if ln.startswith("Error:")]
    assert len(err) == 1, out                       # one line saying which option and why
    assert option in err[0] and why in err[0], err[0]
    return err[0]


KERNEL_COMMANDS = ["demo", "run", "replay", "sysctl"]
UID_COMMANDS = ["run", "replay"]
SHOW_COMMANDS = ["demo", "run", "replay"]


@pytest.mark.parametrize("cmd", KERNEL_COMMANDS)
def test_size_that_is_not_a_size(cmd, files):
    assert_usage_error(command(cmd, files) + ["--physmem", "abc"], "'--physmem'", "'abc' is not a size")
    assert_usage_error(command(cmd, files) + ["--swap", "12Q"], "'--swap'", "'12Q' is not a size")


@pytest.mark.parametrize("cmd", KERNEL_COMMANDS)
def test_physmem_below_the_kernel_minimum(cmd, files):
    assert_usage_error(command(cmd, files) + ["--physmem", "1K"], "'--physmem'",
                       "below the minimum of 256K")


@pytest.mark.parametrize("cmd", KERNEL_COMMANDS)
def test_negative_size(cmd, files):
    assert_usage_error(command(cmd, files) + ["--swap=-5M"], "'--swap'", "'-5M' is not a size")


@pytest.mark.parametrize("cmd", KERNEL_COMMANDS)
def test_unknown_arch(cmd, files):
    assert_usage_error(command(cmd, files) + ["--arch", "sparc64"], "'--arch'", "'sparc64' is not one of")


@pytest.mark.parametrize("cmd", KERNEL_COMMANDS)
def test_root_that_does_not_exist_or_is_a_file(cmd, files):
    assert_usage_error(command(cmd, files) + ["--root", str(files["tmp"] / "nope")], "'--root'",
                       "does not exist")
    assert_usage_error(command(cmd, files) + ["--root", files["trace"]], "'--root'", "is a file")


@pytest.mark.parametrize("cmd", KERNEL_COMMANDS)
def test_sysctl_setting_without_equals_or_integer(cmd, files):
    assert_usage_error(command(cmd, files) + ["--sysctl", "vm.max_proc_mmap"], "'--sysctl'",
                       "is not NAME=VALUE")
    assert_usage_error(command(cmd, files) + ["--sysctl", "vm.max_proc_mmap=lots"], "'--sysctl'",
                       "'lots' is not an integer")


@pytest.mark.parametrize("cmd", KERNEL_COMMANDS)
def test_sysctl_setting_of_unknown_or_read_only_node(cmd, files):
    assert_usage_error(command(cmd, files) + SMALL + ["--sysctl", "vm.no_such_knob=1"], "'--sysctl'",
                       "unknown oid 'vm.no_such_knob'")
    assert_usage_error(command(cmd, files) + SMALL + ["--sysctl", "hw.pagesize=8192"], "'--sysctl'",
                       "oid 'hw.pagesize' is read only")


@pytest.mark.parametrize("cmd", UID_COMMANDS)
def test_uid_out_of_range_or_not_a_number(cmd, files):
    for bad in ("-1", str(2 ** 32), "root"):
        assert_usage_error(command(cmd, files) + ["--uid", bad], "'--uid'", "is not a user id")


@pytest.mark.parametrize("cmd", SHOW_COMMANDS)
def test_show_of_unknown_view(cmd, files):
    assert_usage_error(command(cmd, files) + ["--show", "procstat,top"], "'--show'",
                       "'top' is not a view; choose from procstat, vmstat, sysctl")


def test_run_scenario_path_missing_or_a_directory(files):
    assert_usage_error(["run", str(files["tmp"] / "missing.py")], "'SCENARIO'", "does not exist")
    assert_usage_error(["run", str(files["tmp"])], "'SCENARIO'", "is a directory")


def test_replay_trace_path_missing_or_a_directory(files):
    assert_usage_error(["replay", str(files["tmp"] / "missing.trace")], "'TRACE'", "does not exist")
    assert_usage_error(["replay", str(files["tmp"])], "'TRACE'", "is a directory")


def test_replay_report_in_a_missing_directory_is_refused_before_replaying(files):
    bad = str(files["tmp"] / "no" / "such" / "dir" / "r.html")
    assert_usage_error(["replay", files["trace"], "--report", bad], "'--report'", "does not exist")
    assert_usage_error(["replay", files["trace"], "--report", str(files["tmp"])], "'--report'",
                       "is a directory")


def test_replay_limit_and_choices(files):
    assert_usage_error(["replay", files["trace"], "--limit", "-1"], "'--limit'", "-1")
    assert_usage_error(["replay", files["trace"], "--limit", "many"], "'--limit'", "'many'")
    assert_usage_error(["replay", files["trace"], "--format", "dtrace"], "'--format'", "'dtrace'")
    assert_usage_error(["replay", files["trace"], "--touch", "some"], "'--touch'", "'some'")


def test_sysctl_command_unknown_name_bad_value_read_only():
    assert_usage_error(["sysctl", "vm.nonexistent"], "NAME[=VALUE]", "unknown oid 'vm.nonexistent'")
    assert_usage_error(["sysctl", "vm.max_proc_mmap=ten"], "NAME[=VALUE]", "'ten' is not an integer")
    assert_usage_error(["sysctl", "hw.pagesize=1"] + SMALL, "NAME[=VALUE]", "oid 'hw.pagesize' is read only")


def test_sysctl_command_without_names():
    r = CliRunner().invoke(main, ["sysctl"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "name a node (or a subtree), or give -a" in r.output


@pytest.mark.parametrize("cmd", KERNEL_COMMANDS)
def test_memory_the_host_cannot_give_is_a_usage_error(cmd, files, monkeypatch):
    """A size the host cannot back (mmap of the page frames fails with ENOMEM) ends the same way."""
    import errno
    import os

    import bsdvm.cli_types

    def refuse(*a, **kw):
        raise OSError(errno.ENOMEM, os.strerror(errno.ENOMEM))
    monkeypatch.setattr(bsdvm.cli_types, "Kernel", refuse)
    assert_usage_error(command(cmd, files) + ["--physmem", "100T"], "--physmem 100T",
                       "cannot boot the model")
