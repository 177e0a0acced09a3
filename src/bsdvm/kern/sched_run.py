"""A simple scheduler for processes that run programs (sched_4bsd.c, much reduced): one process
runs at a time on its own CPU; a process runs until it blocks, exits, execs or -- when others are
runnable -- its time slice has ended and it makes a system call (preemption is only ever there: a
loop that makes no system call keeps the CPU); then the next one runs, round robin.

A blocking call (an empty pipe with a live writer, wait4 for a running child) returns ERESTART:
the process sleeps and the call is run again from its syscall instruction when the process is next
scheduled (so pending signals are delivered first, and the call resumes after the handler, as with
SA_RESTART).  Signals are delivered (postsig) when a process is about to run; since a process
only ever stops in the kernel (a system call, a fault, a sleep), a handler's frame is always built
at such a point.  When every
remaining process sleeps and a whole round made no progress, the processes can never wake: they
are killed (SIGKILL) and the deadlock is reported in `Kernel.exec_deadlocks`.
Invariants: at most one CPU runs at a time; a process is only run with a live vmspace and a CPU.
May call: amd64.cpu, amd64.trap, kern.kern_sig, kern.kern_exit.
"""
from __future__ import annotations

import signal as S
from typing import Any

from .kern_exec import ExecStats
from .kern_exit import W_SIGNALED, exit1
from .kern_sig import SigInfo, postsig, trapsignal

QUANTUM_US = 20_000     # time slice when more than one process can run


class HookError(RuntimeError):
    """A Python exception inside a CPU hook: a bug in the model, never a guest's doing."""


def run(kernel: Any, on_slice: Any = None) -> int | None:
    """Kernel.run(): run until no process has a CPU; the first program's exit status as a shell
    reports it (None when on_slice asked for a pause)."""
    from unicorn import x86_const as X

    from ..amd64.cpu import STOP_ERROR, STOP_FAULT, STOP_NONE, STOP_TRAP
    from ..amd64.trap import exact_fault_address
    if kernel.exec_stats is None:
        kernel.exec_stats = ExecStats(kernel)
    stats = kernel.exec_stats
    if not hasattr(kernel, "exec_deadlocks"):
        kernel.exec_deadlocks = []
    first = kernel.exec_first_pid
    with kernel.giant:
        while True:
            runnable = [p for p in kernel.procs.values() if p.p_cpu is not None]
            if not runnable:
                break
            if first is None:
                first = kernel.exec_first_pid = runnable[0].p_pid
            progressed = False
            for p in runnable:
                cpu = p.p_cpu
                if p.p_vmspace is None or cpu is None:
                    progressed = True
                    continue
                if p.p_sleeping:
                    cpu.uc.reg_write(X.UC_X86_REG_RIP, p.p_restart_rip)
                    p.p_sleeping = False
                if p.p_sig.pending:
                    postsig(p)
                    if p.p_vmspace is None:
                        progressed = True
                        continue
                before = stats.faults + sum(stats.calls.values())
                kernel.need_resched = False
                reason = cpu.run(QUANTUM_US if len(runnable) > 1 else 0)
                if reason == STOP_ERROR:
                    err = cpu.hook_error
                    exit1(p, W_SIGNALED(S.SIGKILL))
                    raise HookError(f"pid {p.p_pid}: {err!r}") from err
                if reason in (STOP_FAULT, STOP_TRAP) and p.p_vmspace is not None \
                        and cpu.fault_info is not None:
                    if reason == STOP_FAULT:
                        exact_fault_address(cpu)
                    signo, code, addr = cpu.fault_info
                    trapsignal(p, SigInfo(signo, code, addr))
                if p.p_cpu is not cpu:
                    cpu.close()         # exec replaced it, or the process exited
                if reason == STOP_NONE or not p.p_sleeping \
                        or before != stats.faults + sum(stats.calls.values()):
                    progressed = True
                if on_slice is not None and on_slice(kernel):
                    return None
            if not progressed:
                sleepers = [p for p in kernel.procs.values() if p.p_cpu is not None]
                kernel.exec_deadlocks.append([p.p_pid for p in sleepers])
                for p in sleepers:
                    p.p_killinfo = SigInfo(S.SIGKILL)
                    exit1(p, W_SIGNALED(S.SIGKILL))
        stats.sample()
    if first is None:
        return 0
    from .kern_exit import status_exit_code
    return status_exit_code(kernel.exit_status.get(first, 0))
