"""kern/kern_resource.c: getrlimit/setrlimit kernel-side (kern_getrlimit, kern_setrlimit).

Invariants: cur <= max for every limit after a successful call; raising a hard limit needs
PRIV_PROC_SETRLIMIT; RLIMIT_DATA and RLIMIT_STACK are clamped to maxdsiz/maxssiz, as FreeBSD 7's
kern_proc_setrlimit does.  May call: kern.priv, resource.
"""
from __future__ import annotations

import errno
from typing import Any

from ..resource import RLIM_INFINITY, RLIM_NLIMITS, RLIMIT_DATA, RLIMIT_STACK
from . import priv
from .priv import PRIV_PROC_SETRLIMIT


def kern_getrlimit(p: Any, which: int) -> tuple[int, int, int]:
    """(errno, cur, max) of the process's limit `which`; EINVAL for an unknown resource."""
    if not 0 <= which < RLIM_NLIMITS:
        return errno.EINVAL, 0, 0
    cur, mx = p.p_limit[which]
    return 0, cur, mx


def kern_setrlimit(td: Any, p: Any, which: int, cur: int, mx: int) -> int:
    """kern_proc_setrlimit: set p's limit `which` for the caller td (values above RLIM_INFINITY or
    negative mean infinity); EINVAL for cur > max or an unknown resource, EPERM for raising the hard
    limit without privilege."""
    if not 0 <= which < RLIM_NLIMITS:
        return errno.EINVAL
    if cur < 0 or cur > RLIM_INFINITY:
        cur = RLIM_INFINITY
    if mx < 0 or mx > RLIM_INFINITY:
        mx = RLIM_INFINITY
    old = p.p_limit[which]
    if cur > mx:
        return errno.EINVAL
    if mx > old[1]:
        err = priv.priv_check(td, PRIV_PROC_SETRLIMIT)
        if err:
            return int(err)
    arch = p.p_kernel.arch
    if which == RLIMIT_DATA:
        cur, mx = min(cur, arch.maxdsiz), min(mx, arch.maxdsiz)
    elif which == RLIMIT_STACK:
        cur, mx = min(cur, arch.maxssiz), min(mx, arch.maxssiz)
    p.p_limit[which] = [cur, mx]
    return 0
