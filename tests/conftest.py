"""Shared pytest configuration.

Hypothesis profiles: "bsdvm-ci" (the default: modest example counts so the suite stays fast) and
"long" (thorough runs).  Pick one with `pytest --hypothesis-profile=long` or with the environment
variable BSDVM_HYPOTHESIS_PROFILE=long; the command-line option wins.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("bsdvm-ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("BSDVM_HYPOTHESIS_PROFILE", "bsdvm-ci"))
