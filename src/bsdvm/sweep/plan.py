"""A sweep's plan: workloads × the cartesian product of the configuration axes, expanded into jobs.

A `Config` is one point of the axes (arch, physmem, swap, uid, sysctl settings); a `Job` is one
workload under one config, named by a stable key (a hash of the workload's identity -- for files,
their content -- and of the config), so re-running the same plan finds the jobs already done.
Invariants: a Plan's axes are validated when it is built (sizes parse, archs exist, uids fit a
uid_t, sysctl values are ints), so expansion cannot fail; the job list is in a deterministic order.
May call: bsdvm.arch (sizes, profiles) and .workloads; never a Kernel or Dask.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

from .. import arch as arch_mod
from .workloads import ExecWorkload, PlanError, ReplayWorkload, RunWorkload, Workload, expand_paths

ARCHS = ("amd64", "i386")
MIN_PHYSMEM = 256 * 1024            # Kernel refuses fewer than 64 pages


def size_label(nbytes: int) -> str:
    """The shortest exact `8M`-style spelling of a byte count (what users type on the axes)."""
    for suffix, mult in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if nbytes and nbytes % mult == 0:
            return f"{nbytes // mult}{suffix}"
    return str(nbytes)


def parse_sizes(text: str | list[Any], what: str, minimum: int = 0) -> list[int]:
    """`'8M,16M'` or `['8M', 16777216]` -> byte counts, in the order given, duplicates dropped.
    Raises PlanError naming `what` for an empty list, a bad size or one below `minimum`."""
    items = _split(text)
    if not items:
        raise PlanError(f"{what}: empty list")
    out: list[int] = []
    for it in items:
        try:
            n = arch_mod.parse_size(it.strip() if isinstance(it, str) else it)
        except (TypeError, ValueError) as e:
            raise PlanError(f"{what}: {it!r} is not a size ({e})") from None
        if n < minimum:
            raise PlanError(f"{what}: {it!r} is below the minimum {size_label(minimum)}")
        if n not in out:
            out.append(n)
    return out


def parse_ints(text: str | list[Any], what: str, lo: int, hi: int) -> list[int]:
    """`'0,1000'` or `[0, 1000]` -> ints in [lo, hi] (0x.. accepted), duplicates dropped."""
    items = _split(text)
    if not items:
        raise PlanError(f"{what}: empty list")
    out: list[int] = []
    for it in items:
        if isinstance(it, bool):
            raise PlanError(f"{what}: {it!r} is not an integer")
        try:
            n = it if isinstance(it, int) else int(str(it).strip(), 0)
        except ValueError:
            raise PlanError(f"{what}: {it!r} is not an integer") from None
        if not lo <= n <= hi:
            raise PlanError(f"{what}: {n} is outside [{lo}, {hi}]")
        if n not in out:
            out.append(n)
    return out


def parse_archs(text: str | list[Any]) -> list[str]:
    items = _split(text)
    if not items:
        raise PlanError("arch: empty list")
    out: list[str] = []
    for it in items:
        a = str(it).strip()
        if a not in ARCHS:
            raise PlanError(f"arch: {a!r} is not one of {', '.join(ARCHS)}")
        if a not in out:
            out.append(a)
    return out


def parse_sysctl(spec: str) -> tuple[str, list[int]]:
    """`'vm.max_proc_mmap=0,1000'` -> ('vm.max_proc_mmap', [0, 1000])."""
    name, sep, values = spec.partition("=")
    name = name.strip()
    if not sep or not name or ".." in name or name.startswith(".") or name.endswith("."):
        raise PlanError(f"sysctl: {spec!r} is not NAME=V1,V2,...")
    return name, parse_ints(values, f"sysctl {name}", -(1 << 63), (1 << 64) - 1)


def _split(text: str | list[Any]) -> list[Any]:
    if isinstance(text, (list, tuple)):
        return list(text)
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return [text]
    if not isinstance(text, str):
        raise PlanError(f"expected a list or a comma-separated string, got {text!r}")
    return [t for t in (s.strip() for s in text.split(",")) if t]


@dataclass(frozen=True)
class Config:
    """One point of the axes.  `sysctl` is a sorted tuple of (name, value) set after boot."""
    arch: str = "amd64"
    physmem: int = 64 << 20
    swap: int = 128 << 20
    uid: int = 0
    sysctl: tuple[tuple[str, int], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form; also the part of the job key that names the configuration."""
        return dict(arch=self.arch, physmem=self.physmem, swap=self.swap, uid=self.uid,
                    sysctl={n: v for n, v in self.sysctl})

    def label(self) -> str:
        """Short human form: `amd64 physmem=8M swap=128M uid=0 vm.max_proc_mmap=0`."""
        s = f"{self.arch} physmem={size_label(self.physmem)} swap={size_label(self.swap)} uid={self.uid}"
        return s + "".join(f" {n}={v}" for n, v in self.sysctl)


@dataclass(frozen=True)
class Job:
    """One workload under one configuration.  `key` is stable across runs of the same plan."""
    key: str
    workload: Workload
    config: Config


def job_key(workload: Workload, config: Config) -> str:
    """sha256 of the workload's identity and the configuration, 20 hex digits."""
    ident = json.dumps(dict(workload=workload.identity(), config=config.as_dict()), sort_keys=True)
    return hashlib.sha256(ident.encode()).hexdigest()[:20]


@dataclass
class Plan:
    """What to run: `workloads` under every combination of the axes.

    Axes (each a list): `physmem`, `swap` (byte counts), `arch`, `uid`, and `sysctl` (name -> list
    of values; every name is its own axis).  `timeout` (seconds, None for none) bounds each job;
    `out` is the results directory (None: results only returned).  `retry_failed` re-runs jobs whose
    recorded row failed or timed out (by default every recorded job counts as done)."""
    workloads: list[Workload]
    physmem: list[int] = field(default_factory=lambda: [64 << 20])
    swap: list[int] = field(default_factory=lambda: [128 << 20])
    arch: list[str] = field(default_factory=lambda: ["amd64"])
    uid: list[int] = field(default_factory=lambda: [0])
    sysctl: dict[str, list[int]] = field(default_factory=dict)
    timeout: float | None = None
    out: str | None = None
    retry_failed: bool = False

    def __post_init__(self) -> None:
        if not self.workloads:
            raise PlanError("no workload: give --exec, --replay or --run (or [[workload]] in the plan)")
        self.physmem = parse_sizes(self.physmem, "physmem", MIN_PHYSMEM)
        self.swap = parse_sizes(self.swap, "swap", 0)
        self.arch = parse_archs(self.arch)
        self.uid = parse_ints(self.uid, "uid", 0, (1 << 32) - 1)
        self.sysctl = {str(n): parse_ints(v, f"sysctl {n}", -(1 << 63), (1 << 64) - 1)
                       for n, v in sorted(self.sysctl.items())}
        if self.timeout is not None and (isinstance(self.timeout, bool) or
                                         not isinstance(self.timeout, (int, float)) or
                                         not self.timeout > 0):
            raise PlanError(f"timeout: {self.timeout!r} is not a positive number of seconds")

    def configs(self) -> list[Config]:
        """Every point of the axes, arch varying slowest and physmem fastest."""
        names = list(self.sysctl)
        out = []
        for a, uid, swap, vals, pm in itertools.product(self.arch, self.uid, self.swap,
                                                         itertools.product(*(self.sysctl[n] for n in names)),
                                                         self.physmem):
            out.append(Config(a, pm, swap, uid, tuple(zip(names, vals, strict=True))))
        return out

    def jobs(self) -> tuple[list[Job], list[tuple[Workload, Config, str]]]:
        """(jobs, excluded): every workload × config the workload allows, and the combinations it
        does not (with the reason, e.g. a 64-bit trace on i386)."""
        jobs: list[Job] = []
        excluded: list[tuple[Workload, Config, str]] = []
        seen: set[str] = set()
        for w in self.workloads:
            for c in self.configs():
                why = w.refuses(c.arch)
                if why:
                    excluded.append((w, c, why))
                    continue
                k = job_key(w, c)
                if k not in seen:           # the same workload given twice runs once
                    seen.add(k)
                    jobs.append(Job(k, w, c))
        return jobs, excluded


def workloads_from(exec_cmds: list[str] = (), replay: list[str] = (), run: list[str] = (),  # type: ignore[assignment]
                   base: str = ".") -> list[Workload]:
    """Workload objects for `--exec` command lines, `--replay` paths or globs and `--run` scripts;
    relative paths are taken from `base`.  Raises PlanError for a glob matching nothing or a missing
    file."""
    ws: list[Workload] = [ExecWorkload.from_command(c) for c in exec_cmds]
    for path in expand_paths(list(replay), base, "replay"):
        ws.append(ReplayWorkload.from_file(path))
    for path in expand_paths(list(run), base, "run"):
        ws.append(RunWorkload.from_file(path))
    return ws


def load_plan(path: str, **overrides: Any) -> Plan:
    """Read a TOML plan.  Keys: `out`, `physmem`, `swap`, `arch`, `uid` (lists or comma strings),
    `timeout`, `[sysctl]` (name = [values]) and `[[workload]]` tables each with one of `exec`
    (a command line), `replay` (a path, glob, or list of them) or `run` (a path or list).  Relative
    paths are from the plan's directory.  `overrides` (non-None values) replace the file's keys;
    `extra_workloads` are added to its workloads.  Raises PlanError."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except OSError as e:
        raise PlanError(f"{path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise PlanError(f"{path}: not valid TOML ({e})") from None
    base = os.path.dirname(os.path.abspath(path))
    known = {"out", "physmem", "swap", "arch", "uid", "timeout", "sysctl", "workload"}
    unknown = set(doc) - known
    if unknown:
        raise PlanError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    workloads: list[Workload] = []
    tables = doc.get("workload", [])
    if not isinstance(tables, list):
        raise PlanError(f"{path}: workload must be an array of tables ([[workload]])")
    for i, t in enumerate(tables):
        if not isinstance(t, dict) or len(set(t) & {"exec", "replay", "run"}) != 1 or \
                set(t) - {"exec", "replay", "run"}:
            raise PlanError(f"{path}: [[workload]] #{i + 1} needs exactly one of exec, replay, run")
        kind, value = next(iter(t.items()))
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            raise PlanError(f"{path}: [[workload]] #{i + 1}: {kind} takes strings")
        workloads += workloads_from(**{"exec_cmds" if kind == "exec" else kind: values}, base=base)
    workloads += overrides.pop("extra_workloads", None) or []
    kw: dict[str, Any] = {k: doc[k] for k in ("physmem", "swap", "arch", "uid", "timeout") if k in doc}
    if "sysctl" in doc:
        if not isinstance(doc["sysctl"], dict):
            raise PlanError(f"{path}: sysctl must be a table of name = [values]")
        kw["sysctl"] = _flatten_sysctl(doc["sysctl"])
    if "out" in doc:
        if not isinstance(doc["out"], str):
            raise PlanError(f"{path}: out must be a string")
        kw["out"] = os.path.join(base, doc["out"])
    for k, v in overrides.items():
        if v is not None:
            kw[k] = v
    return Plan(workloads=workloads, **kw)


def _flatten_sysctl(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    # TOML reads `vm.max_proc_mmap = [..]` as nested tables; a quoted key stays flat
    out: dict[str, Any] = {}
    for k, v in table.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten_sysctl(v, name + "."))
        else:
            out[name] = v
    return out
