"""`bsdvm sweep`: many runs × many configurations on Dask (a LocalCluster by default, any running
scheduler by address).  Modules: `plan` (axes, workloads -> jobs with stable keys, TOML plans),
`workloads` (run / replay / exec), `jobs` (one job -> one row), `engine` (Dask, results, resume),
`report` (report.html), `cli` (the click command).

From Python::

    from bsdvm.sweep import Plan, sweep, workloads_from
    df = sweep(Plan(workloads_from(run=["scenario.py"]), physmem=["8M", "16M"]), client=None)
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

# names -> submodule; imported on first use so that `bsdvm --help` does not load pandas or Dask
_EXPORTS = {"sweep": "engine", "SweepStatus": "engine", "load_results": "engine",
            "run_job": "jobs", "RESULT_COLUMNS": "jobs", "Config": "plan", "Job": "plan",
            "Plan": "plan", "load_plan": "plan", "workloads_from": "plan", "Workload": "workloads",
            "RunWorkload": "workloads", "ReplayWorkload": "workloads", "ExecWorkload": "workloads",
            "PlanError": "workloads", "WorkloadUnavailable": "workloads"}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["sweep", "SweepStatus", "load_results", "run_job", "RESULT_COLUMNS", "Config", "Job",
           "Plan", "load_plan", "workloads_from", "Workload", "RunWorkload", "ReplayWorkload",
           "ExecWorkload", "PlanError", "WorkloadUnavailable"]
