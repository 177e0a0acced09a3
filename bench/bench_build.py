"""Benchmark for issue 10's compiled build (run: python bench/bench_build.py [--quick] [--rounds N]).
Never run as a test.

Runs bench_core.py on the pure-Python VM core (BSDVM_PURE_PYTHON=1) and on the compiled one (mypyc,
setup.py) in alternating child processes, each round measuring every row beside the host kernel, and
prints per row the best ratio to the host of each build and what compiling bought.  The compiled
build must be installed (`pip install -e .` with a C compiler), or the second column is pure Python
too -- the header says which build each column ran.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from bench_core import target_rows

HERE = os.path.dirname(os.path.abspath(__file__))


def run_core(pure: bool, quick: bool) -> dict:
    env = dict(os.environ)
    env.pop("BSDVM_PURE_PYTHON", None)
    if pure:
        env["BSDVM_PURE_PYTHON"] = "1"
    cmd = [sys.executable, os.path.join(HERE, "bench_core.py"), "--json"] + (["--quick"] if quick else [])
    text = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(text[text.index("\n{") + 1:])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="bench_core's smaller sizes")
    ap.add_argument("--rounds", type=int, default=2, help="alternating runs of each build (default 2)")
    a = ap.parse_args(argv)
    best: dict[bool, dict[str, float]] = {True: {}, False: {}}
    cores: dict[bool, str] = {}
    targets: dict[str, float] = {}
    for _ in range(max(1, a.rounds)):
        for pure in (True, False):
            out = run_core(pure, a.quick)
            cores[pure] = out["vm_core"]
            for name, ratio, target in target_rows(out):
                targets[name] = target
                best[pure][name] = min(ratio, best[pure].get(name, float("inf")))
    print(f"pure: {cores[True]}\ncompiled: {cores[False]}\n")
    print("| row (x slower than the host, best of rounds) | pure Python | compiled | gain | target |")
    print("|---|---|---|---|---|")
    for name, target in targets.items():
        p, c = best[True][name], best[False][name]
        print(f"| {name} | {p:.1f} | {c:.1f} | {p / c:.2f}x | <= {target:.1f}"
              f" {'met' if c <= target else 'not met'} |")


if __name__ == "__main__":
    main()
