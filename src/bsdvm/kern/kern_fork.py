"""kern_fork.c for processes that run programs: fork1 -- a new process with vmspace_fork's
copy-on-write copy of the address space, a copy of the descriptor table and signal actions, and
its own CPU (a new Unicorn instance over the same physical memory) whose registers are the
parent's at the system call, returning 0 (the personality's child return).

Invariants: the child runs the same personality and starts right after the parent's syscall
instruction; nothing is changed in the parent when fork fails (ENOMEM: vmspace_fork could not copy
a wired entry; EAGAIN: maxproc reached).  May call: kern.proc, amd64.cpu.
"""
from __future__ import annotations

import errno
from typing import Any

MAXPROC = 1000          # kern.maxproc for the model's process table


def fork1(td: Any, stack: int = 0) -> tuple[int, Any]:
    """Fork the calling (running) process: (0, child Proc) or (errno, None).  `stack`, when
    nonzero, is the child's stack pointer (clone's newsp)."""
    from unicorn import x86_const as X

    from ..amd64.cpu import Cpu
    parent = td.td_proc
    kernel = parent.p_kernel
    if len(kernel.procs) >= MAXPROC:
        return errno.EAGAIN, None
    err, child = kernel.fork_proc(parent)
    if err or child is None:
        return err or errno.ENOMEM, None
    child.p_sysvec = parent.p_sysvec
    child.p_sig = parent.p_sig.fork_copy()
    child.p_comm = parent.p_comm
    cpu = Cpu(kernel, child)
    cpu.copy_from(parent.p_cpu)
    # the parent is inside its syscall hook: RIP still names the syscall instruction
    cpu.uc.reg_write(X.UC_X86_REG_RIP, td.td_syscall_rip + 2)
    if stack:
        cpu.uc.reg_write(X.UC_X86_REG_RSP, stack)
    parent.p_sysvec.fork_child_return(cpu)
    child.p_cpu = cpu
    kernel.need_resched = True
    return 0, child


def sys_fork(td: Any, uap: Any) -> int:
    """fork(2) (2) and vfork(2) (66, served as fork): the child's pid in the parent (rdx 0); the
    child sees 0 with rdx 1 (the personality's fork_child_return)."""
    err, child = fork1(td)
    if err:
        return err
    td.td_retval[0] = child.p_pid
    td.td_retval[1] = 0
    return 0


def native_sysents() -> list[Any]:
    """The native FreeBSD 7 declarations of this file's calls."""
    from .sysent import Sysent
    return [Sysent(2, "fork", (), sys_fork, (errno.EAGAIN, errno.ENOMEM), doc="fork"),
            Sysent(66, "vfork", (), sys_fork, (errno.EAGAIN, errno.ENOMEM),
                   doc="vfork, served as fork")]
