"""bsdvm sweep against a real Dask cluster: a `dask scheduler` and two `dask worker` processes on
127.0.0.1 (random free ports), the command run with `--scheduler`; the rows must come back from
those worker processes, equal to the same jobs run one by one without Dask."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sweeputil import write_inputs

from bsdvm.sweep import Plan, load_results, run_job, workloads_from
from bsdvm.sweep.engine import results_frame
from bsdvm.sweep.jobs import COUNTER_COLUMNS

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def _stop(procs: list[subprocess.Popen]) -> None:
    # workers first (a worker whose scheduler is gone keeps trying to reconnect), then the scheduler
    for group in (procs[1:], procs[:1]):
        for p in group:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in group:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def cluster(tmp_path):
    """(address, worker pids): a scheduler and two single-threaded workers without nannies, so the
    worker pids are the processes that run the jobs."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))
    sched_file = tmp_path / "scheduler.json"
    log = open(tmp_path / "cluster.log", "wb")
    procs = [subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)]
    try:
        deadline = time.monotonic() + 90
        while not sched_file.exists() or not sched_file.read_text().strip():
            assert procs[0].poll() is None, (tmp_path / "cluster.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for _ in range(2):
            procs.append(subprocess.Popen([sys.executable, "-m", "dask", "worker", address,
                                           "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                                           "--no-dashboard"], env=env, stdout=log,
                                          stderr=subprocess.STDOUT))
        from distributed import Client
        with Client(address, timeout="60s") as c:
            c.wait_for_workers(2, timeout=120)
        yield address, {p.pid for p in procs[1:]}
    finally:
        _stop(procs)
        log.close()


def test_sweep_with_scheduler_runs_on_the_cluster_workers(cluster, tmp_path):
    address, worker_pids = cluster
    files = write_inputs(tmp_path)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))
    r = subprocess.run([sys.executable, "-m", "bsdvm.cli", "sweep", "--scheduler", address, "--out",
                        str(out), "--run", str(files["touch.py"]), "--replay", str(files["small.trace"]),
                        "--physmem", "1M,2M,4M", "--swap", "16M", "--json", "--no-report"],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ok"] == 6
    df = load_results(str(out))
    assert len(df) == 6 and set(df["status"]) == {"ok"}
    pids = {int(w.rsplit(":", 1)[1]) for w in df["worker"]}
    assert pids <= worker_pids, (pids, worker_pids)
    plan = Plan(workloads_from(run=[str(files["touch.py"])], replay=[str(files["small.trace"])]),
                physmem="1M,2M,4M", swap="16M")
    alone = results_frame([run_job(j) for j in plan.jobs()[0]]).set_index("job_key")
    swept = df.set_index("job_key").loc[alone.index]
    for col in COUNTER_COLUMNS + ("exit_status", "agreement_rate"):
        assert swept[col].equals(alone[col]), col
    # the cluster outlives the sweep: the command closed only its client
    from distributed import Client
    with Client(address, timeout="30s") as c:
        assert len(c.scheduler_info()["workers"]) == 2
