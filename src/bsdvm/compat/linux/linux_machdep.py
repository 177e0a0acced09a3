"""sys/amd64/linux/linux_machdep.c: the machine-dependent Linux calls -- arch_prctl, which sets or
reads the fs/gs segment bases (the thread pointer glibc uses for TLS).

ARCH_SET_FS/ARCH_SET_GS need a canonical user address (EPERM otherwise, as Linux says); other
codes are EINVAL.  Invariants: bodies return FreeBSD errnos.  May call: the process's CPU.
"""
from __future__ import annotations

import errno
import struct
from typing import Any

from ...kern.sysent import CADDR_T, INT, Arg, Sysent
from ...vm.fault import UserFault, copyout

ARCH_SET_GS = 0x1001
ARCH_SET_FS = 0x1002
ARCH_GET_FS = 0x1003
ARCH_GET_GS = 0x1004
USER_TOP = 0x0000800000000000


def linux_arch_prctl(td: Any, uap: Any) -> int:
    """arch_prctl(code, addr)."""
    from unicorn import x86_const as X
    cpu = td.td_proc.p_cpu
    if cpu is None:
        return errno.EINVAL
    reg = {ARCH_SET_FS: X.UC_X86_REG_FS_BASE, ARCH_GET_FS: X.UC_X86_REG_FS_BASE,
           ARCH_SET_GS: X.UC_X86_REG_GS_BASE, ARCH_GET_GS: X.UC_X86_REG_GS_BASE}.get(uap.code)
    if reg is None:
        return errno.EINVAL
    if uap.code in (ARCH_SET_FS, ARCH_SET_GS):
        if uap.addr >= USER_TOP:
            return errno.EPERM
        cpu.uc.reg_write(reg, uap.addr)
        return 0
    try:
        copyout(td.td_proc.p_vmspace.vm_map, uap.addr, struct.pack("<Q", cpu.uc.reg_read(reg)))
    except UserFault:
        return errno.EFAULT
    return 0


SYSENTS: list[Sysent] = [
    Sysent(158, "arch_prctl", (Arg("code", INT), Arg("addr", CADDR_T)), linux_arch_prctl,
           (errno.EINVAL, errno.EPERM, errno.EFAULT), doc="arch_prctl: fs/gs base"),
]
