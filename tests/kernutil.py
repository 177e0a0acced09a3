"""A kernel for one test that must end quiescent: on leaving, every process exits and then every
frame and swap block must be free (check_quiescent); the kernel is closed however the test ended."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bsdvm import Kernel
from bsdvm.vm.invariants import check_quiescent


@contextmanager
def quiescent_kernel(**kwargs: Any) -> Iterator[Kernel]:
    """Kernel(**kwargs), checked quiescent after its processes exit, and closed."""
    kern = Kernel(**kwargs)
    try:
        yield kern
        for p in kern.processes():
            p.exit()
        check_quiescent(kern)
    finally:
        kern.close()
