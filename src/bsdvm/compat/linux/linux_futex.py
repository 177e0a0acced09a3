"""sys/compat/linux/linux_futex.c for single-threaded processes: FUTEX_WAIT and FUTEX_WAKE (and
their _BITSET forms), which glibc uses even without threads (its internal locks and once-flags).

With one thread per process, a waiter can only be woken by another process through shared memory,
so: FUTEX_WAIT compares the word and answers EAGAIN when it differs; when it matches the process
sleeps (the call is run again whenever the process is scheduled: a change of the word by anyone
then ends the wait with EAGAIN, which glibc treats as a spurious wake-up); a timeout is not
modelled (the wait ends only through the word).  FUTEX_WAKE wakes nobody (no thread of this
process can be waiting) and returns 0.  Other operations (requeue, PI futexes, waitv) are ENOSYS.
Invariants: bodies return FreeBSD errnos.  May call: vm.fault (copyin).
"""
from __future__ import annotations

import errno
import struct
from typing import Any

from ...kern.kern_exit import ERESTART
from ...kern.sysent import CADDR_T, INT, U_INT, Arg, Sysent
from ...vm.fault import UserFault, copyin

FUTEX_WAIT = 0
FUTEX_WAKE = 1
FUTEX_WAIT_BITSET = 9
FUTEX_WAKE_BITSET = 10
FUTEX_PRIVATE_FLAG = 128
FUTEX_CLOCK_REALTIME = 256


def linux_futex(td: Any, uap: Any) -> int:
    """futex(uaddr, op, val, timeout, uaddr2, val3)."""
    op = uap.op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    if uap.uaddr & 3:
        return errno.EINVAL
    if op in (FUTEX_WAIT, FUTEX_WAIT_BITSET):
        if op == FUTEX_WAIT_BITSET and uap.val3 == 0:
            return errno.EINVAL
        try:
            (cur,) = struct.unpack("<I", copyin(td.td_proc.p_vmspace.vm_map, uap.uaddr, 4))
        except UserFault:
            return errno.EFAULT
        if cur != uap.val & 0xFFFFFFFF:
            return errno.EAGAIN
        return ERESTART
    if op in (FUTEX_WAKE, FUTEX_WAKE_BITSET):
        if op == FUTEX_WAKE_BITSET and uap.val3 == 0:
            return errno.EINVAL
        td.td_retval[0] = 0
        return 0
    return errno.ENOSYS


SYSENTS: list[Sysent] = [
    Sysent(202, "futex", (Arg("uaddr", CADDR_T), Arg("op", INT), Arg("val", U_INT),
                          Arg("timeout", CADDR_T), Arg("uaddr2", CADDR_T), Arg("val3", U_INT)),
           linux_futex, (errno.EINVAL, errno.EAGAIN, errno.EFAULT, errno.ENOSYS),
           doc="futex: WAIT/WAKE for single-threaded processes"),
]
