"""kern_exit.c for processes that run programs: exit1 (the status, the zombie, SIGCHLD to the
parent, orphans) and wait4's search for a child to reap.

A process that exits becomes a zombie (`Kernel.zombies`) until its parent reaps it with wait4; a
process without a live parent is reaped at once and its status kept in `Kernel.exit_status` (what
`Kernel.run()` returns for the first program).  Orphans lose their parent (no init process is
modelled: their zombies are reaped at once).
Invariants: an exited process has no vmspace, no descriptors and no CPU, and is in `Kernel.procs`
no more; a zombie's parent is alive.  May call: kern.proc (proc_exit), kern.kern_sig.
"""
from __future__ import annotations

import signal as S
from typing import Any

from ..vm.fault import UserFault, copyout

# FreeBSD's kernel-internal returns of a syscall body (sys/errno.h)
ERESTART = -1           # restart the call (a blocking call that must wait: the process sleeps)
EJUSTRETURN = -2        # the body set the registers itself (sigreturn, execve)


def W_EXITED(code: int) -> int:
    """The wait status of a normal exit (W_EXITCODE(code, 0))."""
    return (code & 0xFF) << 8


def W_SIGNALED(signo: int) -> int:
    """The wait status of a death by signal (no core flag: the model writes no core files)."""
    return signo & 0x7F


def status_exit_code(status: int) -> int:
    """A shell's $? for a wait status: the exit code, or 128 + the signal."""
    if status & 0x7F:
        return 128 + (status & 0x7F)
    return (status >> 8) & 0xFF


def exit1(proc: Any, wstatus: int) -> None:
    """The process ends with `wstatus`: its CPU stops, its address space and descriptors go, it
    becomes a zombie for its parent (who gets SIGCHLD) or is reaped at once."""
    from .kern_sig import SigInfo, psignal
    from .proc import proc_exit
    kernel = proc.p_kernel
    if proc.p_vmspace is None:
        return
    if proc.p_cleartid:
        # CLONE_CHILD_CLEARTID: the tid word is zeroed (and its futex woken: no threads here)
        try:
            copyout(proc.p_vmspace.vm_map, proc.p_cleartid, b"\0\0\0\0")
        except UserFault:
            pass
    cpu = proc.p_cpu
    if cpu is not None:
        if cpu.running:
            cpu.stop()
        cpu.close()
        proc.p_cpu = None
    proc.p_xstat = wstatus
    if kernel.exec_keep_maps:
        # --report: the address space as it was at exit, before it is torn down
        from ..process import Process
        view = Process(kernel, proc)
        proc.p_final_maps = view.maps()
        proc.p_final_procstat = view.procstat()
    proc_exit(proc)
    kernel.procs.pop(proc.p_pid, None)
    kernel.exit_status[proc.p_pid] = wstatus
    for child in list(kernel.procs.values()):
        if child.p_pptr is proc:
            child.p_pptr = None
    for pid, z in list(kernel.zombies.items()):
        if z.p_pptr is proc:
            del kernel.zombies[pid]
    parent = proc.p_pptr
    if parent is not None and parent.p_vmspace is not None:
        kernel.zombies[proc.p_pid] = proc
        if wstatus & 0x7F:
            code, st = 2, wstatus & 0x7F            # CLD_KILLED
        else:
            code, st = 1, (wstatus >> 8) & 0xFF     # CLD_EXITED
        psignal(parent, SigInfo(S.SIGCHLD, code, 0, proc.p_pid, proc.p_ucred.cr_uid, st))
    kernel.need_resched = True


WNOHANG = 1


def kern_wait(proc: Any, pid: int, options: int) -> tuple[int, int, int]:
    """wait4's search: (0, pid, status) for a reaped child, (0, 0, 0) under WNOHANG when none is
    ready, (ECHILD, 0, 0) when no child matches, (ERESTART, 0, 0) when the caller must sleep.
    pid -1 means any child, 0 any child in the caller's process group, < -1 any child in group
    -pid."""
    import errno
    kernel = proc.p_kernel

    def match(p: Any) -> bool:
        if p.p_pptr is not proc:
            return False
        if pid > 0:
            return bool(p.p_pid == pid)
        if pid == 0:
            return bool(p.p_pgid == proc.p_pgid)
        return pid == -1 or bool(p.p_pgid == -pid)

    for zpid, z in sorted(kernel.zombies.items()):
        if match(z):
            del kernel.zombies[zpid]
            return 0, zpid, z.p_xstat
    if not any(match(p) for p in kernel.procs.values()):
        return errno.ECHILD, 0, 0
    if options & WNOHANG:
        return 0, 0, 0
    return ERESTART, 0, 0


def sys_exit(td: Any, uap: Any) -> int:
    """exit(2) (1): the process ends with uap.rval as its exit status."""
    exit1(td.td_proc, W_EXITED(uap.rval))
    return EJUSTRETURN


def sys_wait4(td: Any, uap: Any) -> int:
    """wait4(2) (7): reap a child; the status word and a zero rusage are copied out."""
    import errno

    if uap.options & ~(WNOHANG | 2 | 8):
        return errno.EINVAL
    return wait4_copyout(td, uap.pid, uap.options, uap.status, uap.rusage)


def wait4_copyout(td: Any, pid: int, options: int, status_addr: int, rusage_addr: int) -> int:
    """The part of wait4 every personality shares: reap with kern_wait, copy the status word and
    a zeroed struct rusage (144 bytes on amd64, the same in both ABIs) out, return the pid.
    Returns 0 or the errno of kern_wait or EFAULT."""
    import errno
    import struct

    from ..vm.fault import UserFault, copyout
    err, pid, status = kern_wait(td.td_proc, pid, options)
    if err:
        return err
    m = td.td_proc.p_vmspace.vm_map
    try:
        if pid and status_addr:
            copyout(m, status_addr, struct.pack("<i", status))
        if pid and rusage_addr:
            copyout(m, rusage_addr, bytes(144))
    except UserFault:
        return errno.EFAULT
    td.td_retval[0] = pid
    return 0


def native_sysents() -> list[Any]:
    """The native FreeBSD 7 declarations of this file's calls."""
    import errno

    from .sysent import CADDR_T, INT, Arg, Sysent
    return [
        Sysent(1, "exit", (Arg("rval", INT),), sys_exit, (), doc="exit: end the process"),
        Sysent(7, "wait4", (Arg("pid", INT), Arg("status", CADDR_T), Arg("options", INT),
                            Arg("rusage", CADDR_T)), sys_wait4,
               (errno.ECHILD, errno.EINVAL, errno.EFAULT), doc="wait4: reap a child"),
    ]
