"""kern_sig.c, reduced to one thread per process: signal actions, the blocked mask, pending
signals with their siginfo, posting (psignal, trapsignal) and delivery (postsig) with the default
actions.

Signal numbers are the Linux x86-64 (and host) numbers; a FreeBSD-branded program only ever gets
default actions (its native sigaction is not served), so no translation is needed inside.
Default actions: terminate (most), terminate with the core flag unset -- the model writes no core
files, so WCOREFLAG is never set -- (SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV,
SIGXCPU, SIGXFSZ, SIGSYS), ignore (SIGCHLD, SIGURG, SIGWINCH, SIGCONT).  Job-control stops are not
modelled: SIGSTOP, SIGTSTP, SIGTTIN and SIGTTOU are discarded (docs/differences.md).
A synchronous signal from a fault (trapsignal) that is blocked or ignored kills the process, as
FreeBSD's trapsignal and Linux's force_sig both do.

Invariants: SIGKILL and SIGSTOP can be neither caught, ignored nor blocked; a pending signal whose
action is to ignore is discarded when posted and when the action is set.
May call: kern.kern_exit (default actions), the personality's sendsig.
"""
from __future__ import annotations

import signal as S
from dataclasses import dataclass, field
from typing import Any

NSIG = 64
SIG_DFL = 0
SIG_IGN = 1

SA_NOCLDSTOP = 0x00000001
SA_NOCLDWAIT = 0x00000002
SA_SIGINFO = 0x00000004
SA_RESTORER = 0x04000000
SA_ONSTACK = 0x08000000
SA_RESTART = 0x10000000
SA_NODEFER = 0x40000000
SA_RESETHAND = 0x80000000

DEFAULT_IGNORE = frozenset({S.SIGCHLD, S.SIGURG, S.SIGWINCH, S.SIGCONT})
JOB_STOP = frozenset({S.SIGSTOP, S.SIGTSTP, S.SIGTTIN, S.SIGTTOU})
UNCATCHABLE = frozenset({S.SIGKILL, S.SIGSTOP})


def sigbit(signo: int) -> int:
    return 1 << (signo - 1)


CANTMASK = sigbit(S.SIGKILL) | sigbit(S.SIGSTOP)


@dataclass
class SigAction:
    """struct sigaction: handler (SIG_DFL, SIG_IGN or an address), flags, mask, restorer."""

    handler: int = SIG_DFL
    flags: int = 0
    mask: int = 0
    restorer: int = 0


@dataclass
class SigInfo:
    """The siginfo of one pending signal."""

    signo: int
    code: int = 0
    addr: int = 0
    pid: int = 0
    uid: int = 0
    status: int = 0


@dataclass
class SigState:
    """A process's signal state (struct sigacts + the thread's mask and pending set)."""

    actions: dict[int, SigAction] = field(default_factory=dict)
    mask: int = 0
    pending: dict[int, SigInfo] = field(default_factory=dict)
    altstack: tuple[int, int, int] = (0, 2, 0)      # ss_sp, ss_flags (SS_DISABLE), ss_size

    def action(self, signo: int) -> SigAction:
        a = self.actions.get(signo)
        return a if a is not None else SigAction()

    def fork_copy(self) -> SigState:
        """fork: actions and mask are inherited, pending signals are not."""
        return SigState({k: SigAction(v.handler, v.flags, v.mask, v.restorer)
                         for k, v in self.actions.items()}, self.mask, {}, self.altstack)

    def exec_reset(self) -> None:
        """execve: caught signals go back to SIG_DFL; ignored ones stay ignored; mask and pending
        signals are kept; the alternate stack is disabled."""
        for signo, a in list(self.actions.items()):
            if a.handler != SIG_IGN:
                del self.actions[signo]
        self.altstack = (0, 2, 0)


def _ignored(st: SigState, signo: int) -> bool:
    if signo in UNCATCHABLE:
        return False
    a = st.action(signo)
    if a.handler == SIG_IGN:
        return True
    return a.handler == SIG_DFL and (signo in DEFAULT_IGNORE or signo in JOB_STOP)


def psignal(proc: Any, info: SigInfo) -> None:
    """Post a signal to a process (kill, SIGCHLD, a pipe's SIGPIPE): discarded when its action
    is to ignore; a sleeping process is woken (its call is restarted after the handler)."""
    if proc.p_vmspace is None or not 1 <= info.signo <= NSIG:
        return
    st: SigState = proc.p_sig
    if _ignored(st, info.signo):
        return
    st.pending.setdefault(info.signo, info)
    proc.p_kernel.need_resched = True


def trapsignal(proc: Any, info: SigInfo) -> None:
    """A synchronous signal from a fault or trap: delivered now if caught and not blocked,
    otherwise the default action (the process dies even if it ignored or blocked the signal)."""
    st: SigState = proc.p_sig
    a = st.action(info.signo)
    if a.handler in (SIG_DFL, SIG_IGN) or st.mask & sigbit(info.signo):
        st.actions.pop(info.signo, None)
        st.mask &= ~sigbit(info.signo)
    st.pending[info.signo] = info
    postsig(proc)


def deliverable(proc: Any) -> int:
    """The lowest pending signal that is not blocked (SIGKILL always is), or 0."""
    st: SigState = proc.p_sig
    if not st.pending:
        return 0
    if S.SIGKILL in st.pending:
        return S.SIGKILL
    for signo in sorted(st.pending):
        if not st.mask & sigbit(signo):
            return signo
    return 0


def postsig(proc: Any) -> None:
    """Deliver every deliverable pending signal: run its default action, or build the handler's
    frame on the user stack through the personality (sendsig)."""
    from .kern_exit import exit1, W_SIGNALED
    while proc.p_vmspace is not None:
        signo = deliverable(proc)
        if not signo:
            return
        st: SigState = proc.p_sig
        info = st.pending.pop(signo)
        a = st.action(signo)
        if a.handler == SIG_IGN and signo not in UNCATCHABLE:
            continue
        if a.handler == SIG_DFL or signo in UNCATCHABLE:
            if signo in DEFAULT_IGNORE or signo in JOB_STOP:
                continue
            proc.p_killinfo = info
            exit1(proc, W_SIGNALED(signo))
            return
        oldmask = st.mask
        if not proc.p_sysvec.sendsig(proc, info, a, oldmask):
            # the frame cannot be written (a bad stack): the process dies of SIGSEGV
            proc.p_killinfo = SigInfo(S.SIGSEGV, 0x80)
            exit1(proc, W_SIGNALED(S.SIGSEGV))
            return
        st.mask |= a.mask
        if not a.flags & SA_NODEFER:
            st.mask |= sigbit(signo)
        st.mask &= ~CANTMASK
        if a.flags & SA_RESETHAND:
            st.actions.pop(signo, None)


# FreeBSD signal numbers that differ from the (Linux) numbering used inside
FREEBSD_TO_LINUX_SIGNAL = {10: S.SIGBUS, 12: S.SIGSYS, 16: S.SIGURG, 17: S.SIGSTOP,
                           18: S.SIGTSTP, 19: S.SIGCONT, 20: S.SIGCHLD, 21: S.SIGTTIN,
                           22: S.SIGTTOU, 23: S.SIGIO, 24: S.SIGXCPU, 25: S.SIGXFSZ,
                           26: S.SIGVTALRM, 27: S.SIGPROF, 28: S.SIGWINCH, 30: S.SIGUSR1,
                           31: S.SIGUSR2}


def sys_kill(td: Any, uap: Any) -> int:
    """kill(2) (37) of the native personality: FreeBSD signal numbers (29, SIGINFO, has no
    counterpart inside and is EINVAL)."""
    import errno

    from ..compat.linux.linux_proc import kill_common
    signo = uap.signum
    if signo == 29 or not 0 <= signo <= 32:
        return errno.EINVAL
    return kill_common(td, uap.pid, FREEBSD_TO_LINUX_SIGNAL.get(signo, signo), 0)


def sys_getpid(td: Any, uap: Any) -> int:
    """getpid(2) (20): the pid, and the parent's in rdx as FreeBSD returns it."""
    p = td.td_proc
    td.td_retval[0] = p.p_pid
    td.td_retval[1] = p.p_pptr.p_pid if p.p_pptr is not None else 1
    return 0


def sys_getppid(td: Any, uap: Any) -> int:
    """getppid(2) (39)."""
    p = td.td_proc
    td.td_retval[0] = p.p_pptr.p_pid if p.p_pptr is not None else 1
    return 0


def native_sysents() -> list[Any]:
    """The native FreeBSD 7 declarations of kill, getpid and getppid."""
    import errno

    from .sysent import INT, Arg, Sysent
    return [Sysent(37, "kill", (Arg("pid", INT), Arg("signum", INT)), sys_kill,
                   (errno.EINVAL, errno.EPERM, errno.ESRCH), doc="kill"),
            Sysent(20, "getpid", (), sys_getpid, (), doc="getpid"),
            Sysent(39, "getppid", (), sys_getppid, (), doc="getppid")]
