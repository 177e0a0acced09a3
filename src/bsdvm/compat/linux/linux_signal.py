"""sys/compat/linux/linux_signal.c: rt_sigaction, rt_sigprocmask, rt_sigpending, sigaltstack and
rt_sigreturn for the Linux personality, over kern_sig's per-process state.

The user structures are Linux x86-64's: struct sigaction is {handler, flags, restorer, mask} (four
64-bit words); the signal set is 64 bits (sigsetsize must be 8, else EINVAL); stack_t is {ss_sp,
ss_flags, ss_size}.  SIGKILL and SIGSTOP cannot be caught or ignored (EINVAL) nor blocked (silently
dropped from any mask).  Setting a signal's action to ignore discards it if pending.
rt_sigreturn restores the context saved by the personality's sendsig (amd64/sysvec.py).
Invariants: bodies return FreeBSD errnos.  May call: kern.kern_sig, amd64.sysvec.
"""
from __future__ import annotations

import errno
import struct
from typing import Any

from ...kern.kern_exit import EJUSTRETURN
from ...kern.kern_sig import (CANTMASK, NSIG, UNCATCHABLE, SigAction, _ignored)
from ...kern.sysent import CADDR_T, INT, SIZE_T, Arg, Sysent
from ...vm.fault import UserFault, copyin, copyout

SIG_BLOCK = 0
SIG_UNBLOCK = 1
SIG_SETMASK = 2
SS_ONSTACK = 1
SS_DISABLE = 2
MINSIGSTKSZ = 2048
MASK64 = 0xFFFFFFFFFFFFFFFF


def linux_rt_sigaction(td: Any, uap: Any) -> int:
    """rt_sigaction(sig, act, oact, sigsetsize)."""
    if uap.sigsetsize != 8:
        return errno.EINVAL
    sig = uap.sig
    if not 1 <= sig <= NSIG:
        return errno.EINVAL
    p = td.td_proc
    m = p.p_vmspace.vm_map
    st = p.p_sig
    new = None
    if uap.act:
        if sig in UNCATCHABLE:
            return errno.EINVAL
        try:
            handler, flags, restorer, mask = struct.unpack("<QQQQ", copyin(m, uap.act, 32))
        except UserFault:
            return errno.EFAULT
        new = SigAction(handler, flags, mask & ~CANTMASK, restorer)
    if uap.oact:
        old = st.action(sig)
        try:
            copyout(m, uap.oact, struct.pack("<QQQQ", old.handler, old.flags & MASK64,
                                             old.restorer, old.mask))
        except UserFault:
            return errno.EFAULT
    if new is not None:
        st.actions[sig] = new
        if _ignored(st, sig):
            st.pending.pop(sig, None)
    return 0


def linux_rt_sigprocmask(td: Any, uap: Any) -> int:
    """rt_sigprocmask(how, set, oset, sigsetsize)."""
    if uap.sigsetsize != 8:
        return errno.EINVAL
    p = td.td_proc
    m = p.p_vmspace.vm_map
    st = p.p_sig
    newset = None
    if uap.set:
        if uap.how not in (SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK):
            return errno.EINVAL
        try:
            (newset,) = struct.unpack("<Q", copyin(m, uap.set, 8))
        except UserFault:
            return errno.EFAULT
    if uap.oset:
        try:
            copyout(m, uap.oset, struct.pack("<Q", st.mask))
        except UserFault:
            return errno.EFAULT
    if newset is not None:
        if uap.how == SIG_BLOCK:
            st.mask |= newset
        elif uap.how == SIG_UNBLOCK:
            st.mask &= ~newset
        else:
            st.mask = newset
        st.mask &= ~CANTMASK & MASK64
        if p.p_cpu is not None and st.pending:
            p.p_cpu.stop()
    return 0


def linux_rt_sigpending(td: Any, uap: Any) -> int:
    """rt_sigpending(set, sigsetsize): the pending signals that are blocked."""
    if uap.sigsetsize != 8:
        return errno.EINVAL
    st = td.td_proc.p_sig
    bits = 0
    for s in st.pending:
        bits |= 1 << (s - 1)
    try:
        copyout(td.td_proc.p_vmspace.vm_map, uap.set, struct.pack("<Q", bits & st.mask))
    except UserFault:
        return errno.EFAULT
    return 0


def linux_sigaltstack(td: Any, uap: Any) -> int:
    """sigaltstack(ss, oss): EPERM while running on it, EINVAL for bad flags, ENOMEM when smaller
    than MINSIGSTKSZ."""
    from unicorn import x86_const as X
    p = td.td_proc
    m = p.p_vmspace.vm_map
    st = p.p_sig
    sp, flags, size = st.altstack
    rsp = p.p_cpu.uc.reg_read(X.UC_X86_REG_RSP) if p.p_cpu is not None else 0
    onstack = bool(size) and sp <= rsp < sp + size and not flags & SS_DISABLE
    if uap.oss:
        try:
            copyout(m, uap.oss, struct.pack("<QiiQ", sp, (SS_ONSTACK if onstack else 0)
                                            | (flags & SS_DISABLE), 0, size))
        except UserFault:
            return errno.EFAULT
    if uap.ss:
        try:
            nsp, nflags, _pad, nsize = struct.unpack("<QiiQ", copyin(m, uap.ss, 24))
        except UserFault:
            return errno.EFAULT
        if onstack:
            return errno.EPERM
        if nflags & ~SS_DISABLE:
            return errno.EINVAL
        if nflags & SS_DISABLE:
            st.altstack = (0, SS_DISABLE, 0)
        else:
            if nsize < MINSIGSTKSZ:
                return errno.ENOMEM
            st.altstack = (nsp, 0, nsize)
    return 0


def linux_rt_sigreturn(td: Any, uap: Any) -> int:
    """rt_sigreturn(): back from a handler to the interrupted context."""
    p = td.td_proc
    err = p.p_sysvec.sigreturn(p)
    if err:
        return err
    if p.p_sig.pending and p.p_cpu is not None:
        p.p_cpu.stop()
    return EJUSTRETURN


SYSENTS: list[Sysent] = [
    Sysent(13, "rt_sigaction", (Arg("sig", INT), Arg("act", CADDR_T), Arg("oact", CADDR_T),
                                Arg("sigsetsize", SIZE_T)), linux_rt_sigaction,
           (errno.EINVAL, errno.EFAULT), doc="rt_sigaction"),
    Sysent(14, "rt_sigprocmask", (Arg("how", INT), Arg("set", CADDR_T), Arg("oset", CADDR_T),
                                  Arg("sigsetsize", SIZE_T)), linux_rt_sigprocmask,
           (errno.EINVAL, errno.EFAULT), doc="rt_sigprocmask"),
    Sysent(15, "rt_sigreturn", (), linux_rt_sigreturn, (errno.EFAULT,), doc="rt_sigreturn"),
    Sysent(127, "rt_sigpending", (Arg("set", CADDR_T), Arg("sigsetsize", SIZE_T)),
           linux_rt_sigpending, (errno.EINVAL, errno.EFAULT), doc="rt_sigpending"),
    Sysent(131, "sigaltstack", (Arg("ss", CADDR_T), Arg("oss", CADDR_T)), linux_sigaltstack,
           (errno.EPERM, errno.EINVAL, errno.ENOMEM, errno.EFAULT), doc="sigaltstack"),
]

