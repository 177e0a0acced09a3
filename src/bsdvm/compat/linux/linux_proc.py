"""sys/compat/linux/linux_fork.c, linux_misc.c (wait4, exit_group) and linux_signal.c's kill
family: the Linux process calls, as kernel-side bodies over the native fork1/execve/exit1/wait.

clone: without CLONE_VM it is fork (the low byte is the exit signal, SIGCHLD for fork-like use;
CLONE_SETTLS sets the child's fs base, CLONE_PARENT_SETTID/CLONE_CHILD_SETTID store the child's pid,
CLONE_CHILD_CLEARTID zeroes it at exit).  CLONE_VM|CLONE_VFORK without CLONE_THREAD (posix_spawn,
vfork-style) is a fork onto the given stack: the child gets a copy, not a share, of the memory --
what it writes before execve is not seen by the parent (docs/differences.md).  Threads (CLONE_VM
otherwise, CLONE_THREAD) are refused with ENOSYS and counted in the statistics.  vfork is fork.
wait4: pid > 0 that child, -1 any child, 0 / < -1 a child in the caller's / that group; WNOHANG; the status
word is the same as Linux's; the rusage is zero (no accounting is modelled).  A wait for a child
still running sleeps (ERESTART: the call is run again when the process is next scheduled).
kill/tkill/tgkill: signal 0 checks existence and permission; pid 0 is the caller's process group,
-1 every other process the caller may signal, -pgid that group; EPERM unless root or the same
user; ESRCH for no target.  Process groups and sessions (getpgid, getpgrp, setpgid, getsid,
setsid) follow kern_prot.c; a program's first process leads its own group and session.
Invariants: bodies return FreeBSD errnos.  May call: kern.kern_fork, kern.kern_exec,
kern.kern_exit, kern.kern_sig.
"""
from __future__ import annotations

import errno
import struct
from typing import Any

from ...kern.kern_exec import execve_body
from ...kern.kern_exit import EJUSTRETURN, W_EXITED, exit1, wait4_copyout
from ...kern.kern_fork import fork1
from ...kern.kern_sig import NSIG, SigInfo, psignal
from ...kern.sysent import CADDR_T, INT, PATH, U_LONG, Arg, Sysent
from ...vm.fault import UserFault, copyout

CLONE_VM = 0x00000100
CLONE_FS = 0x00000200
CLONE_FILES = 0x00000400
CLONE_SIGHAND = 0x00000800
CLONE_VFORK = 0x00004000
CLONE_PARENT = 0x00008000
CLONE_THREAD = 0x00010000
CLONE_SETTLS = 0x00080000
CLONE_PARENT_SETTID = 0x00100000
CLONE_CHILD_CLEARTID = 0x00200000
CLONE_CHILD_SETTID = 0x01000000
SI_USER = 0
SI_TKILL = -6


def linux_fork(td: Any, uap: Any) -> int:
    """fork(2): the child's pid in the parent, 0 in the child."""
    err, child = fork1(td)
    if err:
        return err
    td.td_retval[0] = child.p_pid
    return 0


def linux_clone(td: Any, uap: Any) -> int:
    """clone(2) without threads (see the module comment)."""
    flags = uap.flags
    if flags & CLONE_THREAD or (flags & CLONE_VM and not flags & CLONE_VFORK):
        return errno.ENOSYS
    err, child = fork1(td, uap.stack if flags & CLONE_VM else uap.stack)
    if err:
        return err
    pid = child.p_pid
    if flags & CLONE_SETTLS:
        from unicorn import x86_const as X
        child.p_cpu.uc.reg_write(X.UC_X86_REG_FS_BASE, uap.tls)
    tid = struct.pack("<i", pid)
    try:
        if flags & CLONE_PARENT_SETTID and uap.parent_tidptr:
            copyout(td.td_proc.p_vmspace.vm_map, uap.parent_tidptr, tid)
        if flags & CLONE_CHILD_SETTID and uap.child_tidptr:
            copyout(child.p_vmspace.vm_map, uap.child_tidptr, tid)
    except UserFault:
        pass
    if flags & CLONE_CHILD_CLEARTID:
        child.p_cleartid = uap.child_tidptr
    td.td_retval[0] = pid
    return 0


def linux_execve(td: Any, uap: Any) -> int:
    """execve(2): see kern_exec."""
    return execve_body(td, uap)


def linux_exit(td: Any, uap: Any) -> int:
    """exit(2) / exit_group(2): one thread per process, so both end the process."""
    exit1(td.td_proc, W_EXITED(uap.rval))
    return EJUSTRETURN


def linux_wait4(td: Any, uap: Any) -> int:
    """wait4(2) (see the module comment)."""
    if uap.options & ~(1 | 2 | 8 | 0x01000000 | 0x40000000 | 0x80000000 | 0x20000000):
        return errno.EINVAL
    return wait4_copyout(td, uap.pid, uap.options, uap.status, uap.rusage)


def _pfind(p: Any, pid: int) -> Any:
    """pfind: the live process `pid` (0: the caller), or None."""
    if pid == 0:
        return p
    return p.p_kernel.procs.get(pid)


def linux_getpgid(td: Any, uap: Any) -> int:
    """getpgid(2): the process group of pid (0: the caller); ESRCH for no such process."""
    q = _pfind(td.td_proc, uap.pid)
    if q is None:
        return errno.ESRCH
    td.td_retval[0] = q.p_pgid
    return 0


def linux_getpgrp(td: Any, uap: Any) -> int:
    """getpgrp(2): the caller's process group."""
    td.td_retval[0] = td.td_proc.p_pgid
    return 0


def linux_getsid(td: Any, uap: Any) -> int:
    """getsid(2): the session of pid (0: the caller); ESRCH for no such process."""
    q = _pfind(td.td_proc, uap.pid)
    if q is None:
        return errno.ESRCH
    td.td_retval[0] = q.p_sid
    return 0


def linux_setsid(td: Any, uap: Any) -> int:
    """setsid(2): a new session and group led by the caller; EPERM for a group leader."""
    p = td.td_proc
    if p.p_pgid == p.p_pid or any(q.p_pgid == p.p_pid for q in p.p_kernel.procs.values()):
        return errno.EPERM
    p.p_sid = p.p_pgid = p.p_pid
    td.td_retval[0] = p.p_pid
    return 0


def linux_setpgid(td: Any, uap: Any) -> int:
    """setpgid(2) (kern_prot.c): pid 0 is the caller, pgid 0 is pid; the target is the caller or
    one of its children in the same session; a session leader cannot move (EPERM), nor can a
    process join a group of another session (EPERM); EINVAL for a negative pgid."""
    p = td.td_proc
    if uap.pgid < 0:
        return errno.EINVAL
    q = _pfind(p, uap.pid)
    if q is None or (q is not p and q.p_pptr is not p):
        return errno.ESRCH
    if q.p_sid != p.p_sid or q.p_sid == q.p_pid:
        return errno.EPERM
    pgid = uap.pgid or q.p_pid
    if pgid != q.p_pid and not any(r.p_pgid == pgid and r.p_sid == p.p_sid
                                   for r in p.p_kernel.procs.values()):
        return errno.EPERM
    q.p_pgid = pgid
    return 0


def _cansignal(p: Any, q: Any) -> bool:
    a, b = p.p_ucred, q.p_ucred
    return a.cr_uid == 0 or a.cr_uid == b.cr_uid


def kill_common(td: Any, pid: int, signo: int, code: int) -> int:
    """The shared part of kill, tkill and tgkill (FreeBSD's kill / pksignal)."""
    p = td.td_proc
    kernel = p.p_kernel
    if not 0 <= signo <= NSIG:
        return errno.EINVAL
    if pid > 0:
        targets = [kernel.procs[pid]] if pid in kernel.procs else []
        if not targets:
            return errno.ESRCH
    elif pid == -1:
        targets = [q for q in kernel.procs.values() if q is not p]
    else:
        pgid = p.p_pgid if pid == 0 else -pid
        targets = [q for q in kernel.procs.values() if q.p_pgid == pgid]
    sent = False
    denied = False
    for q in targets:
        if not _cansignal(p, q):
            denied = True
            continue
        sent = True
        if signo:
            psignal(q, SigInfo(signo, code, 0, p.p_pid, p.p_ucred.cr_uid))
    if not sent:
        return errno.EPERM if denied else errno.ESRCH
    if p.p_cpu is not None and p.p_sig.pending:
        p.p_cpu.stop()
    return 0


def linux_kill(td: Any, uap: Any) -> int:
    """kill(2)."""
    return kill_common(td, uap.pid, uap.signum, SI_USER)


def linux_tkill(td: Any, uap: Any) -> int:
    """tkill(2): the thread id is the process id (one thread per process)."""
    if uap.tid <= 0:
        return errno.EINVAL
    return kill_common(td, uap.tid, uap.sig, SI_TKILL)


def linux_tgkill(td: Any, uap: Any) -> int:
    """tgkill(2): tgid and tid must name the same (single-threaded) process."""
    if uap.tgid <= 0 or uap.tid <= 0:
        return errno.EINVAL
    if uap.tgid != uap.tid:
        return errno.ESRCH
    return kill_common(td, uap.tid, uap.sig, SI_TKILL)


_E = (errno.EAGAIN, errno.ENOMEM)
SYSENTS: list[Sysent] = [
    Sysent(56, "clone", (Arg("flags", U_LONG), Arg("stack", CADDR_T),
                         Arg("parent_tidptr", CADDR_T), Arg("child_tidptr", CADDR_T),
                         Arg("tls", CADDR_T)), linux_clone, _E + (errno.ENOSYS,),
           doc="clone without threads: a fork"),
    Sysent(57, "fork", (), linux_fork, _E, doc="fork: a copy-on-write child"),
    Sysent(58, "vfork", (), linux_fork, _E, doc="vfork, served as fork"),
    Sysent(59, "execve", (Arg("path", PATH), Arg("argv", CADDR_T), Arg("envp", CADDR_T)),
           linux_execve, (errno.ENOENT, errno.EACCES, errno.ENOEXEC, errno.E2BIG, errno.EFAULT),
           doc="execve: a new image from the host tree"),
    Sysent(60, "exit", (Arg("rval", INT),), linux_exit, (), doc="exit"),
    Sysent(61, "wait4", (Arg("pid", INT), Arg("status", CADDR_T), Arg("options", INT),
                         Arg("rusage", CADDR_T)), linux_wait4,
           (errno.ECHILD, errno.EINVAL, errno.EFAULT), doc="wait4"),
    Sysent(62, "kill", (Arg("pid", INT), Arg("signum", INT)), linux_kill,
           (errno.EINVAL, errno.EPERM, errno.ESRCH), doc="kill"),
    Sysent(200, "tkill", (Arg("tid", INT), Arg("sig", INT)), linux_tkill,
           (errno.EINVAL, errno.EPERM, errno.ESRCH), doc="tkill"),
    Sysent(109, "setpgid", (Arg("pid", INT), Arg("pgid", INT)), linux_setpgid,
           (errno.EINVAL, errno.EPERM, errno.ESRCH), doc="setpgid"),
    Sysent(111, "getpgrp", (), linux_getpgrp, (), doc="getpgrp"),
    Sysent(112, "setsid", (), linux_setsid, (errno.EPERM,), doc="setsid"),
    Sysent(121, "getpgid", (Arg("pid", INT),), linux_getpgid, (errno.ESRCH,), doc="getpgid"),
    Sysent(124, "getsid", (Arg("pid", INT),), linux_getsid, (errno.ESRCH,), doc="getsid"),
    Sysent(231, "exit_group", (Arg("rval", INT),), linux_exit, (), doc="exit_group"),
    Sysent(234, "tgkill", (Arg("tgid", INT), Arg("tid", INT), Arg("sig", INT)), linux_tgkill,
           (errno.EINVAL, errno.EPERM, errno.ESRCH), doc="tgkill"),
]

