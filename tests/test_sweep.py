"""bsdvm sweep (issue 11) on a LocalCluster: rows equal one-by-one runs without Dask, resume after
an interrupted sweep runs only the missing jobs, failing and timed-out jobs are rows, the command's
option checking (usage errors, exit 2), TOML plans, and the exec workload's contract.

One LocalCluster (2 single-threaded worker processes) is shared by the module; the command-line
test starts its own, as `bsdvm sweep` does.
"""
from __future__ import annotations

import json
import sys

import pandas as pd
import pytest
from click.testing import CliRunner
from sweeputil import write_inputs

from bsdvm.cli import main
from bsdvm.sweep import (ExecWorkload, Plan, PlanError, load_plan, load_results, run_job, sweep,
                         workloads_from)
from bsdvm.sweep.engine import results_frame
from bsdvm.sweep.jobs import COUNTER_COLUMNS

PHYSMEM = ["1M", "2M", "4M"]


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            Client(cl) as c:
        yield c


@pytest.fixture
def inputs(tmp_path):
    return write_inputs(tmp_path)


def test_sweep_rows_equal_one_by_one_runs_without_dask(inputs, tmp_path):
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["sweep", "--out", str(out), "--run", str(inputs["touch.py"]),
                                  "--replay", str(inputs["small.trace"]), "--physmem", ",".join(PHYSMEM),
                                  "--swap", "16M", "--workers", "2", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["ok"] == 6
    df = load_results(str(out))
    assert len(df) == 6 and set(df["status"]) == {"ok"}
    assert (out / "results.csv").exists() and (out / "report.html").exists()
    plan = Plan(workloads_from(run=[str(inputs["touch.py"])], replay=[str(inputs["small.trace"])]),
                physmem=PHYSMEM, swap=["16M"])
    jobs, _ = plan.jobs()
    by_key = {r["job_key"]: r for r in df.to_dict("records")}
    assert set(by_key) == {j.key for j in jobs}
    alone = results_frame([run_job(j) for j in jobs]).set_index("job_key")
    swept = df.set_index("job_key").loc[alone.index]
    for col in COUNTER_COLUMNS + ("status", "exit_status", "agreement_rate", "disagreements_by_reason"):
        assert swept[col].equals(alone[col]), col
    # the working-set curve is real: less physmem, more faults and page-outs for the touch scenario
    touch = df[df["workload"] == "touch.py"].sort_values("physmem")
    assert list(touch["page_outs"]) == sorted(touch["page_outs"], reverse=True)
    assert touch["page_outs"].iloc[0] > 0 and touch["page_outs"].iloc[-1] == 0
    replay = df[df["kind"] == "replay"]
    assert set(replay["disagreements_by_reason"]) == {json.dumps({"msync-flags": 1})}


def test_resume_after_interrupted_sweep_runs_only_missing_jobs(client, inputs, tmp_path):
    plan = Plan(workloads_from(run=[str(inputs["touch.py"]), str(inputs["segv.py"])]),
                physmem=PHYSMEM, swap=["16M"], out=str(tmp_path / "out"))
    seen = []

    def interrupt_after_two(st):
        seen.append(st.done)
        if st.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(plan, client, progress=interrupt_after_two)
    first = load_results(plan.out)
    assert len(first) == 2 and set(first["status"]) == {"ok"}
    statuses = []
    df = sweep(plan, client, progress=statuses.append)
    assert statuses[-1].resumed == 2 and statuses[-1].total == 4 and statuses[-1].done == 4
    assert len(df) == 6 and set(df["status"]) == {"ok"}
    again = df.set_index("job_key")
    for r in first.to_dict("records"):          # the rows already done were not run again
        assert again.loc[r["job_key"], "started"] == r["started"]
    # a third run finds everything done and runs nothing
    statuses.clear()
    sweep(plan, client, progress=statuses.append)
    assert statuses[-1].total == 0 and statuses[-1].resumed == 6
    assert len(load_results(plan.out)) == 6


def test_failing_and_timed_out_jobs_are_rows_and_the_rest_complete(client, inputs, tmp_path):
    plan = Plan(workloads_from(run=[str(inputs["raises.py"]), str(inputs["spins.py"]),
                                    str(inputs["touch.py"]), str(inputs["segv.py"])]),
                physmem=["1M"], swap=["16M"], timeout=2.0, out=str(tmp_path / "out"))
    df = sweep(plan, client).set_index("workload")
    assert df.loc["raises.py", "status"] == "failed"
    assert df.loc["raises.py", "error"].startswith("ZeroDivisionError: division by zero")
    assert df.loc["spins.py", "status"] == "timeout"
    assert df.loc["spins.py", "error"] == "timed out after 2 s"
    assert df.loc["touch.py", "status"] == "ok" and df.loc["touch.py", "exit_status"] == 0
    assert df.loc["segv.py", "status"] == "ok" and df.loc["segv.py", "exit_status"] == 128 + 11
    # the worker that ran the timed-out job is still usable
    assert sweep(Plan(workloads_from(run=[str(inputs["touch.py"])]), physmem=["2M"]),
                 client)["status"].tolist() == ["ok"]
    # --retry-failed re-runs exactly the failed rows
    plan.retry_failed = True
    plan.timeout = 0.5
    statuses = []
    sweep(plan, client, progress=statuses.append)
    assert statuses[-1].total == 2 and statuses[-1].resumed == 2


def test_exec_on_a_worker_without_the_cpu_module_is_a_failed_row_saying_so(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "unicorn", None)      # import unicorn -> ImportError
    plan = Plan([ExecWorkload.from_command("true")], physmem=["1M"])
    (job,), _ = plan.jobs()
    row = run_job(job)
    assert row["status"] == "failed"
    assert row["error"].startswith("WorkloadUnavailable: this worker has no unicorn module")


def test_exec_workload_records_the_programs_exit_status(client, tmp_path):
    plan = Plan([ExecWorkload.from_command("true"), ExecWorkload.from_command("false")],
                physmem=["16M"], swap=["32M"])
    df = sweep(plan, client).set_index("workload")
    assert df.loc["true", "status"] == "ok" and df.loc["true", "exit_status"] == 0
    assert df.loc["false", "status"] == "ok" and df.loc["false", "exit_status"] == 1
    assert df.loc["true", "v_vm_faults"] > 0


def test_job_keys_are_stable_and_name_content_and_configuration(inputs):
    def keys(**kw):
        return [j.key for j in Plan(workloads_from(run=[str(inputs["touch.py"])]), **kw).jobs()[0]]
    assert keys(physmem="1M,2M") == keys(physmem=["1024K", 2 << 20])
    assert keys(physmem="1M") != keys(physmem="1M", sysctl={"vm.max_proc_mmap": [0]})
    before = keys(physmem="1M")
    inputs["touch.py"].write_text(inputs["touch.py"].read_text() + "\n# changed\n")
    assert keys(physmem="1M") != before


def test_64_bit_trace_is_left_out_on_i386(inputs):
    plan = Plan(workloads_from(replay=[str(inputs["small.trace"])], run=[str(inputs["touch.py"])]),
                arch="amd64,i386", physmem="1M")
    jobs, excluded = plan.jobs()
    assert sorted((j.workload.name, j.config.arch) for j in jobs) == [
        ("small.trace", "amd64"), ("touch.py", "amd64"), ("touch.py", "i386")]
    assert [(w.name, c.arch) for w, c, _ in excluded] == [("small.trace", "i386")]


def test_sysctl_axis_is_set_in_each_job(inputs, tmp_path):
    scen = tmp_path / "limit.py"
    scen.write_text("import sys\nsys.exit(k.sysctl('vm.max_proc_mmap') % 256)\n")
    plan = Plan(workloads_from(run=[str(scen)]), physmem="1M", sysctl={"vm.max_proc_mmap": [7, 9]})
    rows = [run_job(j) for j in plan.jobs()[0]]
    assert sorted((r["sysctl:vm.max_proc_mmap"], r["exit_status"]) for r in rows) == [(7, 7), (9, 9)]


def test_toml_plan_is_the_same_plan_as_the_options(inputs, tmp_path):
    toml = tmp_path / "plan.toml"
    toml.write_text('out = "res"\nphysmem = ["1M", "2M"]\nswap = "16M"\narch = ["amd64"]\n'
                    '[sysctl]\n"vm.max_proc_mmap" = [0, 1000]\n'
                    '[[workload]]\nrun = "touch.py"\n[[workload]]\nreplay = ["*.trace"]\n')
    plan = load_plan(str(toml))
    same = Plan(workloads_from(run=[str(inputs["touch.py"])], replay=[str(inputs["small.trace"])]),
                physmem="1M,2M", swap="16M", sysctl={"vm.max_proc_mmap": [0, 1000]})
    assert sorted(j.key for j in plan.jobs()[0]) == sorted(j.key for j in same.jobs()[0])
    assert len(plan.jobs()[0]) == 8 and plan.out == str(tmp_path / "res")
    # command-line axes override the file's
    assert load_plan(str(toml), physmem=["4M"]).physmem == [4 << 20]


@pytest.mark.parametrize("toml_text, message", [
    ("physmem = [", "not valid TOML"),
    ("colour = 1\n[[workload]]\nrun = 'touch.py'", "unknown key"),
    ("[[workload]]\nrun = 'touch.py'\nreplay = 'x'", "exactly one of"),
    ("[[workload]]\nreplay = 'none*.trace'", "matches no file"),
    ("physmem = '1Q'\n[[workload]]\nrun = 'touch.py'", "not a size"),
])
def test_bad_toml_plan_is_a_plan_error(inputs, tmp_path, toml_text, message):
    toml = tmp_path / "bad.toml"
    toml.write_text(toml_text)
    with pytest.raises(PlanError, match=message):
        load_plan(str(toml))


@pytest.mark.parametrize("extra, message", [
    (["--physmem", "8Q"], "not a size"),
    (["--physmem", "100K"], "below the minimum"),
    (["--physmem", ""], "empty list"),
    (["--swap", "-1M"], "not a size"),
    (["--arch", "amd64,sparc64"], "is not one of"),
    (["--uid", "-1"], "outside"),
    (["--uid", "4294967296"], "outside"),
    (["--sysctl", "vm.no_such_knob=1"], "no such sysctl"),
    (["--sysctl", "vm.kmem_size=1"], "read-only"),
    (["--sysctl", "vm.max_proc_mmap"], "NAME=V1,V2"),
    (["--sysctl", "vm.max_proc_mmap=x"], "not an integer"),
    (["--workers", "0"], "--workers"),
    (["--timeout", "0"], "--timeout"),
    (["--scheduler", "not an address"], "scheduler address"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "cannot go with --scheduler"),
    (["--replay", "nothing-here-*.trace"], "matches no file"),
    (["--exec", "'unbalanced"], "exec"),
])
def test_bad_option_is_a_usage_error(inputs, tmp_path, extra, message):
    r = CliRunner().invoke(main, ["sweep", "--out", str(tmp_path / "o"), "--run",
                                  str(inputs["touch.py"]), *extra])
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o").exists()


def test_missing_out_or_workload_is_a_usage_error(inputs, tmp_path):
    r = CliRunner().invoke(main, ["sweep", "--run", str(inputs["touch.py"])])
    assert r.exit_code == 2 and "--out DIR is required" in r.output
    r = CliRunner().invoke(main, ["sweep", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "no workload" in r.output


def test_unreachable_scheduler_is_an_error_not_a_traceback(inputs, tmp_path, monkeypatch):
    import socket

    from bsdvm.sweep import engine
    monkeypatch.setattr(engine, "CONNECT_TIMEOUT", "2s")
    with socket.socket() as s:             # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = CliRunner().invoke(main, ["sweep", "--out", str(tmp_path / "o"), "--run",
                                  str(inputs["touch.py"]), "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert r.exit_code == 1 and "cannot reach the Dask scheduler" in r.output


def test_python_api_returns_plan_ordered_dataframe_without_out_dir(client, inputs):
    plan = Plan(workloads_from(run=[str(inputs["touch.py"])]), physmem="4M,1M,2M")
    df = sweep(plan, client)
    assert isinstance(df, pd.DataFrame)
    assert list(df["physmem_label"]) == ["4M", "1M", "2M"]
    assert df["physmem"].dtype == "Int64" and df["wall_s"].dtype == "float64"


def test_ctrl_c_cancels_the_command_cleanly_and_keeps_finished_jobs(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    busy = tmp_path / "busy.py"
    busy.write_text("import time\nt = time.monotonic()\nwhile time.monotonic() - t < 0.7:\n"
                    "    p.mem_read(p.mmap(0, 4096, 1, mman.MAP_ANON | mman.MAP_PRIVATE), 1)\n")
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-m", "bsdvm.cli", "sweep", "--out", str(out), "--run",
                             str(busy), "--physmem", "1M", "--uid", ",".join(map(str, range(40))),
                             "--workers", "1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            # as a shell starts a foreground job: SIGINT at its default even when
                            # the test runner ignores it (as a job started with `&` does)
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while not (out / "results.parquet").exists():      # the first checkpoint: jobs are running
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)                  # what Ctrl-C in a terminal does
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "cancelled: finished jobs are saved" in err and "Traceback" not in err
    df = load_results(str(out))
    assert 0 < len(df) < 40 and set(df["status"]) == {"ok"}
