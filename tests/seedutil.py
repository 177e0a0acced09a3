"""Helpers the seed-branch tests share (tests/test_mmap_seed*.py)."""
from __future__ import annotations

import pytest

from bsdvm import resource

P = 4096


def err(fn, *args, **kw) -> int:
    """The errno of the OSError fn raises."""
    with pytest.raises(OSError) as ei:
        fn(*args, **kw)
    return ei.value.errno


def round_page(x: int) -> int:
    return (x + P - 1) & ~(P - 1)


def heap_end(p) -> int:
    """MMAP-6: round_page(vm_daddr + lim_max(RLIMIT_DATA))."""
    return round_page(p.brk_base() + p.getrlimit(resource.RLIMIT_DATA)[1])


def entry_at(p, addr):
    for e in p.maps():
        if e.start <= addr < e.end:
            return e
    return None
