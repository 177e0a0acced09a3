"""bsdvm exec, priority 2: dynamic programs (ld.so and libraries from the host tree) and coreutils
print exactly what they print natively."""
from __future__ import annotations

import os
import shutil

import pytest

from executil import build, run_guest, run_native


def _tool(name: str) -> str:
    path = shutil.which(name, path="/usr/bin:/bin")
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def test_dynamic_hello_runs_with_the_host_loader():
    prog = build("hello")
    r = run_guest([prog, "x"], env={"BSDVM_TEST": "dyn"})
    n = run_native([prog, "x"], env={"BSDVM_TEST": "dyn"})
    assert r.stdout == n.stdout and r.exit_code == 3
    assert r.stats.calls["openat"] >= 1 and r.stats.calls["mmap"] >= 1


@pytest.mark.parametrize("argv,stdin", [
    (["echo", "hello", "there"], b""),
    (["cat", "/etc/passwd"], b""),
    (["sort"], b"pear\napple\nfig\nbanana\n"),
    (["sha256sum", "/etc/passwd"], b""),
    (["ls", "-l", "/usr/bin"], b""),
    (["cat"], b"from stdin\n" * 100),
])
def test_coreutils_output_is_byte_identical(argv, stdin):
    argv = [_tool(argv[0])] + argv[1:]
    r = run_guest(argv, stdin=stdin)
    n = run_native(argv, stdin=stdin)
    assert r.stdout == n.stdout
    assert r.stderr == n.stderr
    assert r.exit_code == n.returncode


def test_failing_command_reports_the_same_error_and_status(tmp_path):
    argv = [_tool("ls"), str(tmp_path / "missing")]
    r = run_guest(argv)
    n = run_native(argv)
    assert (r.stdout, r.stderr, r.exit_code) == (n.stdout, n.stderr, n.returncode)


def test_python_minus_S_runs(tmp_path):
    py = "/usr/bin/python3"
    if not os.path.exists(py):
        pytest.skip("no /usr/bin/python3")
    code = "import sys; print(sum(range(10**4)), sys.argv[1:], 'x' * 3)"
    r = run_guest([py, "-S", "-c", code, "arg"])
    n = run_native([py, "-S", "-c", code, "arg"])
    assert r.stdout == n.stdout and r.exit_code == n.returncode == 0
