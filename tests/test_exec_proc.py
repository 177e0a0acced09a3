"""bsdvm exec, priority 3: fork, wait, pipes, exec and sh -c; copy-on-write of private memory and
MAP_SHARED|MAP_ANON sharing across fork."""
from __future__ import annotations

import shutil

import pytest

from executil import build, run_guest, run_native


def test_fork_copies_private_memory_and_shares_map_shared_anon():
    prog = build("fork_mem")
    r = run_guest([prog])
    assert r.exit_code == 0, r.stderr
    assert r.stdout == (b"pipe: child sees c heap-child\n"
                        b"parent priv=p heap=heap-before anon=anon-before shared=shared-child\n"
                        b"child exited=1 status=42\n")
    assert r.stats.calls["fork"] + r.stats.calls["clone"] == 1
    assert r.kernel.phys.counters["v_cow_faults"] > 0


def test_fork_works_statically_linked_too():
    r = run_guest([build("fork_mem", static=True)])
    assert r.exit_code == 0 and b"status=42" in r.stdout


def test_sh_c_with_a_pipe_and_an_exit_code():
    sh = shutil.which("sh", path="/usr/bin:/bin")
    if sh is None:
        pytest.skip("no sh")
    script = "echo one two three | tr a-z A-Z; printf 'b\\na\\n' | sort; exit 7"
    r = run_guest([sh, "-c", script])
    n = run_native([sh, "-c", script])
    assert r.stdout == n.stdout == b"ONE TWO THREE\na\nb\n"
    assert r.exit_code == n.returncode == 7
    assert r.stats.calls["execve"] >= 2 and r.stats.calls["wait4"] >= 1


def test_a_reader_blocked_on_an_empty_pipe_yields_to_the_writer():
    sh = shutil.which("sh", path="/usr/bin:/bin")
    if sh is None:
        pytest.skip("no sh")
    script = "(for i in 1 2 3 4 5; do echo line$i; done) | cat | cat"
    r = run_guest([sh, "-c", script])
    assert r.stdout == b"".join(b"line%d\n" % i for i in range(1, 6))
    assert r.exit_code == 0


def test_process_groups_and_sessions_follow_kern_prot():
    prog = build("pgrp")
    r = run_guest([prog])
    n = run_native([prog])
    assert r.stdout == n.stdout == (b"child ok=1 parent got=0\n"
                                    b"setsid ok=1\n")
