"""Shared pytest configuration.

Hypothesis profiles: "bsdvm-ci" (the default: modest example counts so the suite stays fast) and
"long" (thorough runs).  Pick one with `pytest --hypothesis-profile=long` or with the environment
variable BSDVM_HYPOTHESIS_PROFILE=long; the command-line option wins.

Marker pure_python: the test patches a compiled VM module and is skipped on the compiled build.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from bsdvm import _build
from kernutil import quiescent_kernel

settings.register_profile("bsdvm-ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("BSDVM_HYPOTHESIS_PROFILE", "bsdvm-ci"))


def pytest_collection_modifyitems(config, items):
    """Tests marked pure_python replace a function of a compiled VM module (monkeypatch.setattr):
    compiled callers call the native function directly and never see the replacement, so they
    run on the pure-Python build only."""
    if not _build.COMPILED:
        return
    skip = pytest.mark.skip(reason="patches a compiled module (runs on the pure-Python build)")
    for item in items:
        if item.get_closest_marker("pure_python") is not None:
            item.add_marker(skip)


@pytest.fixture
def k():
    """A fresh default Kernel; afterwards every process exits and the kernel must be quiescent
    (every frame and swap block free).  Test modules that need another kernel define their own."""
    with quiescent_kernel() as kern:
        yield kern
