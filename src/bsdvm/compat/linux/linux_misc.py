"""sys/compat/linux/linux_misc.c, linux_time.c and linux_uid16.c's x86-64 counterparts: uname, sysinfo,
the clocks, getrandom, resource limits, identities, and the thread start-up calls glibc makes
(set_tid_address, set_robust_list, sched_getaffinity, sched_yield).

What the model answers, and from where:
* uname: sysname "Linux", the host's node name, release and version (so that programs see the kernel
  they were built for), machine "x86_64", domain "(none)";
* sysinfo: uptime since the Kernel booted; RAM and swap totals and free amounts from the model's
  physical memory and swap (mem_unit 1); processes from the model's process table; load averages 0
  (the model keeps no run-queue average);
* clock_gettime/clock_getres/gettimeofday/time: the host's clocks (the model has no clock of its own);
  the CPU-time clocks are the host process's, which the whole model runs in;
* getrandom: host entropy (os.urandom), at most 32 MiB - 1 bytes a call as Linux's urandom source;
* getrlimit/setrlimit/prlimit64: Linux resource numbers and RLIM_INFINITY translated to FreeBSD's
  (linux_to_bsd_resource); Linux-only resources are EINVAL, as FreeBSD's layer says;
* identities from the credential (real and effective uid/gid; getgroups without the effective gid
  that FreeBSD keeps in cr_groups[0]); gettid is the pid (one thread per process);
* sched_getaffinity: one CPU (the model runs one process at a time).

Invariants: bodies return FreeBSD errnos.  May call: kern.kern_resource, kern.sysent (Uio).
"""
from __future__ import annotations

import errno
import os
import struct
import time
from typing import Any

from ...kern import kern_resource
from ...kern.sysent import BUF_OUT, CADDR_T, INT, SIZE_T, U_INT, Arg, Sysent
from ...resource import (RLIM_INFINITY, RLIMIT_AS, RLIMIT_CORE, RLIMIT_CPU, RLIMIT_DATA,
                         RLIMIT_FSIZE, RLIMIT_MEMLOCK, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_RSS,
                         RLIMIT_STACK)
from ...vm.param import PAGE_SIZE
from .linux_emul import em_find
from .linux_file import in_bytes, out_uio

LINUX_RLIM_INFINITY = 2**64 - 1
# linux_to_bsd_resource: Linux RLIMIT_* (the index) -> FreeBSD's, None where FreeBSD has none
LINUX_TO_BSD_RESOURCE: tuple[int | None, ...] = (
    RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE, RLIMIT_RSS, RLIMIT_NPROC,
    RLIMIT_NOFILE, RLIMIT_MEMLOCK, RLIMIT_AS, None, None, None, None, None, None)

CLOCK_REALTIME = 0
CLOCK_MONOTONIC = 1
CLOCK_PROCESS_CPUTIME_ID = 2
CLOCK_THREAD_CPUTIME_ID = 3
CLOCK_MONOTONIC_RAW = 4
CLOCK_REALTIME_COARSE = 5
CLOCK_MONOTONIC_COARSE = 6
CLOCK_BOOTTIME = 7
_HOST_CLOCKS = {
    CLOCK_REALTIME: time.CLOCK_REALTIME, CLOCK_MONOTONIC: time.CLOCK_MONOTONIC,
    CLOCK_PROCESS_CPUTIME_ID: time.CLOCK_PROCESS_CPUTIME_ID,
    CLOCK_THREAD_CPUTIME_ID: time.CLOCK_PROCESS_CPUTIME_ID,     # the model has one thread
    CLOCK_MONOTONIC_RAW: getattr(time, "CLOCK_MONOTONIC_RAW", time.CLOCK_MONOTONIC),
    CLOCK_REALTIME_COARSE: time.CLOCK_REALTIME, CLOCK_MONOTONIC_COARSE: time.CLOCK_MONOTONIC,
    CLOCK_BOOTTIME: getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC),
}
_COARSE_RES_NS = 4_000_000      # a jiffy at HZ=250, what Linux reports for the coarse clocks

GRND_NONBLOCK = 0x1
GRND_RANDOM = 0x2
GRND_INSECURE = 0x4
GETRANDOM_MAX = 33554431

ROBUST_LIST_HEAD_SIZE = 24      # struct robust_list_head on x86-64
UTSNAME_FIELD = 65
SYSINFO_FMT = "<qQQQQQQQQQHH4xQQI4x"
SI_LOAD_SHIFT = 16


def _retval(td: Any, value: int) -> int:
    td.td_retval[0] = value
    return 0


# -- system identity and state ---------------------------------------------------------------------
def linux_newuname(td: Any, uap: Any) -> int:
    """linux_newuname: struct new_utsname (six 65-byte fields)."""
    host = os.uname()
    fields = ("Linux", host.nodename, host.release, host.version, "x86_64", "(none)")
    data = b"".join(f.encode()[:UTSNAME_FIELD - 1].ljust(UTSNAME_FIELD, b"\0") for f in fields)
    err = out_uio(td, uap.buf, len(data)).uiomove_out(data)
    return err or _retval(td, 0)


def linux_sysinfo(td: Any, uap: Any) -> int:
    """linux_sysinfo: struct sysinfo from the model's memory, swap and process table."""
    k = td.td_proc.p_kernel
    boot = getattr(k, "boottime", None)
    uptime = int(time.monotonic() - boot) if boot is not None else 0
    phys = k.phys
    swap = k.swap
    data = struct.pack(SYSINFO_FMT, uptime, 0, 0, 0, phys.npages * PAGE_SIZE,
                       phys.free_count * PAGE_SIZE, 0, 0, swap.nblocks * PAGE_SIZE,
                       (swap.nblocks - swap.used) * PAGE_SIZE, min(len(k.procs), 0xFFFF), 0, 0, 0, 1)
    err = out_uio(td, uap.info, len(data)).uiomove_out(data)
    return err or _retval(td, 0)


def linux_getrandom(td: Any, uap: Any) -> int:
    """linux_getrandom: up to GETRANDOM_MAX bytes of host entropy; unknown flags, or GRND_RANDOM
    with GRND_INSECURE, are EINVAL."""
    flags = uap.flags
    if flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) or (
            flags & GRND_RANDOM and flags & GRND_INSECURE):
        return errno.EINVAL
    n = min(uap.buf.resid, GETRANDOM_MAX)
    err = uap.buf.uiomove_out(os.urandom(n))
    return err or _retval(td, n)


# -- time ------------------------------------------------------------------------------------------
def linux_clock_gettime(td: Any, uap: Any) -> int:
    """linux_clock_gettime: struct timespec {s64 sec, s64 nsec} of a Linux clock; EINVAL for a clock
    the model does not have (CPU clocks of other processes, TAI, alarms)."""
    host = _HOST_CLOCKS.get(uap.which)
    if host is None:
        return errno.EINVAL
    ns = time.clock_gettime_ns(host)
    err = out_uio(td, uap.tp, 16).uiomove_out(struct.pack("<qq", ns // 10**9, ns % 10**9))
    return err or _retval(td, 0)


def linux_clock_getres(td: Any, uap: Any) -> int:
    """linux_clock_getres: the clock's resolution at tp (tp NULL: only check the clock)."""
    host = _HOST_CLOCKS.get(uap.which)
    if host is None:
        return errno.EINVAL
    if uap.which in (CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE):
        res = _COARSE_RES_NS
    else:
        res = max(1, round(time.clock_getres(host) * 1e9))
    if uap.tp:
        err = out_uio(td, uap.tp, 16).uiomove_out(struct.pack("<qq", res // 10**9, res % 10**9))
        if err:
            return err
    return _retval(td, 0)


def linux_gettimeofday(td: Any, uap: Any) -> int:
    """gettimeofday(2): struct timeval {s64 sec, s64 usec} at tv and a zero struct timezone at tz
    (either may be NULL)."""
    ns = time.time_ns()
    if uap.tv:
        err = out_uio(td, uap.tv, 16).uiomove_out(struct.pack("<qq", ns // 10**9,
                                                              ns % 10**9 // 1000))
        if err:
            return err
    if uap.tz:
        err = out_uio(td, uap.tz, 8).uiomove_out(bytes(8))
        if err:
            return err
    return _retval(td, 0)


def linux_time(td: Any, uap: Any) -> int:
    """linux_time: the seconds of the epoch, also stored at tloc when it is not NULL."""
    now = time.time_ns() // 10**9
    if uap.tloc:
        err = out_uio(td, uap.tloc, 8).uiomove_out(struct.pack("<q", now))
        if err:
            return err
    return _retval(td, now)


# -- resource limits -------------------------------------------------------------------------------
def _bsd_resource(resource: int) -> int | None:
    if 0 <= resource < len(LINUX_TO_BSD_RESOURCE):
        return LINUX_TO_BSD_RESOURCE[resource]
    return None


def _to_linux_lim(v: int) -> int:
    return LINUX_RLIM_INFINITY if v >= RLIM_INFINITY else v


def _to_bsd_lim(v: int) -> int:
    return RLIM_INFINITY if v >= RLIM_INFINITY else v


def _target(td: Any, pid: int) -> tuple[int, Any]:
    """The process prlimit64 acts on: the caller for pid 0 or its own pid; another process only
    for root or a caller with the same real and effective uid (ESRCH when there is none)."""
    p = td.td_proc
    if pid in (0, p.p_pid):
        return 0, p
    other = p.p_kernel.procs.get(pid)
    if other is None:
        return errno.ESRCH, None
    me, them = p.p_ucred, other.p_ucred
    if me.cr_uid != 0 and (me.cr_uid != them.cr_ruid or me.cr_uid != them.cr_uid):
        return errno.EPERM, None
    return 0, other


def _prlimit(td: Any, p: Any, resource: int, new: Any, old: Any) -> int:
    which = _bsd_resource(resource)
    if which is None:
        return errno.EINVAL
    err, cur, mx = kern_resource.kern_getrlimit(p, which)
    if err:
        return err
    if new:
        err, raw = in_bytes(td, new, 16)
        if err:
            return err
        ncur, nmax = struct.unpack("<QQ", raw)
        err = kern_resource.kern_setrlimit(td, p, which, _to_bsd_lim(ncur), _to_bsd_lim(nmax))
        if err:
            return err
    if old:
        err = out_uio(td, old, 16).uiomove_out(struct.pack("<QQ", _to_linux_lim(cur),
                                                           _to_linux_lim(mx)))
        if err:
            return err
    return _retval(td, 0)


def linux_prlimit64(td: Any, uap: Any) -> int:
    """linux_prlimit64: read (old) and/or set (new) a limit of pid (0: the caller)."""
    err, p = _target(td, uap.pid)
    if err:
        return err
    return _prlimit(td, p, uap.resource, uap.new_rlim, uap.old_rlim)


def linux_getrlimit(td: Any, uap: Any) -> int:
    """linux_getrlimit: struct rlimit {u64 cur, u64 max} of the caller."""
    return _prlimit(td, td.td_proc, uap.resource, 0, uap.rlim)


def linux_setrlimit(td: Any, uap: Any) -> int:
    """linux_setrlimit: set a limit of the caller from struct rlimit."""
    return _prlimit(td, td.td_proc, uap.resource, uap.rlim, 0)


# -- identities ------------------------------------------------------------------------------------
def linux_getpid(td: Any, uap: Any) -> int:
    """getpid(2)."""
    return _retval(td, td.td_proc.p_pid)


def linux_getppid(td: Any, uap: Any) -> int:
    """getppid(2): the parent's pid, 1 (init) when there is none in the model."""
    parent = td.td_proc.p_pptr
    return _retval(td, parent.p_pid if parent is not None else 1)


def linux_gettid(td: Any, uap: Any) -> int:
    """linux_gettid: the thread id, which is the pid for a process's only thread."""
    return _retval(td, td.td_proc.p_pid)


def linux_getuid(td: Any, uap: Any) -> int:
    """getuid(2): the real uid."""
    return _retval(td, td.td_proc.p_ucred.cr_ruid)


def linux_geteuid(td: Any, uap: Any) -> int:
    """geteuid(2): the effective uid."""
    return _retval(td, td.td_proc.p_ucred.cr_uid)


def linux_getgid(td: Any, uap: Any) -> int:
    """getgid(2): the real gid."""
    return _retval(td, td.td_proc.p_ucred.cr_rgid)


def linux_getegid(td: Any, uap: Any) -> int:
    """getegid(2): the effective gid."""
    return _retval(td, td.td_proc.p_ucred.cr_gid)


def _store_ids(td: Any, ptrs: tuple[Any, ...], ids: tuple[int, ...]) -> int:
    for ptr, v in zip(ptrs, ids, strict=True):
        if ptr:
            err = out_uio(td, ptr, 4).uiomove_out(struct.pack("<I", v & 0xFFFFFFFF))
            if err:
                return err
    return _retval(td, 0)


def linux_getresuid(td: Any, uap: Any) -> int:
    """getresuid(2): real, effective and saved uid stored as u32 each."""
    c = td.td_proc.p_ucred
    return _store_ids(td, (uap.ruid, uap.euid, uap.suid), (c.cr_ruid, c.cr_uid, c.cr_svuid))


def linux_getresgid(td: Any, uap: Any) -> int:
    """getresgid(2): real, effective and saved gid (the model's saved gid is the real one)."""
    c = td.td_proc.p_ucred
    return _store_ids(td, (uap.rgid, uap.egid, uap.sgid), (c.cr_rgid, c.cr_gid, c.cr_rgid))


def linux_getgroups(td: Any, uap: Any) -> int:
    """linux_getgroups: the supplementary groups (cr_groups without FreeBSD's cr_groups[0], the
    effective gid); size 0 asks for the count; a smaller size is EINVAL."""
    groups = tuple(td.td_proc.p_ucred.cr_groups[1:])
    if uap.size == 0:
        return _retval(td, len(groups))
    if uap.size < len(groups):
        return errno.EINVAL
    data = b"".join(struct.pack("<I", g & 0xFFFFFFFF) for g in groups)
    if data:
        err = out_uio(td, uap.list, len(data)).uiomove_out(data)
        if err:
            return err
    return _retval(td, len(groups))


# -- thread start-up -------------------------------------------------------------------------------
def linux_set_tid_address(td: Any, uap: Any) -> int:
    """linux_set_tid_address: remember where to clear the tid at exit; returns the tid."""
    em_find(td).child_clear_tid = uap.tidptr
    return _retval(td, td.td_proc.p_pid)


def linux_set_robust_list(td: Any, uap: Any) -> int:
    """linux_set_robust_list: remember the robust futex list; a size other than the x86-64
    struct robust_list_head is EINVAL."""
    if uap.len != ROBUST_LIST_HEAD_SIZE:
        return errno.EINVAL
    em = em_find(td)
    em.robust_list, em.robust_len = uap.head, uap.len
    return _retval(td, 0)


def linux_sched_getaffinity(td: Any, uap: Any) -> int:
    """linux_sched_getaffinity: one CPU; the mask is one unsigned long (8 bytes, returned as the
    size written); a length that is not a multiple of 8 or shorter than that is EINVAL."""
    err, _ = _target(td, uap.pid)
    if err:
        return err
    if uap.len < 8 or uap.len % 8:
        return errno.EINVAL
    err = out_uio(td, uap.user_mask_ptr, 8).uiomove_out(struct.pack("<Q", 1))
    return err or _retval(td, 8)


def linux_sched_yield(td: Any, uap: Any) -> int:
    """sched_yield(2): always succeeds; whether another process runs is the scheduler's call."""
    return _retval(td, 0)


_NONE = ()
_FAULT = (errno.EFAULT,)

SYSENTS: list[Sysent] = [
    Sysent(24, "sched_yield", (), linux_sched_yield, _NONE, doc="Yield the CPU."),
    Sysent(39, "getpid", (), linux_getpid, _NONE, doc="The process id."),
    Sysent(63, "uname", (Arg("buf", CADDR_T),), linux_newuname, _FAULT,
           doc="struct new_utsname."),
    Sysent(96, "gettimeofday", (Arg("tv", CADDR_T), Arg("tz", CADDR_T)), linux_gettimeofday,
           _FAULT, doc="The time of day (struct timeval)."),
    Sysent(97, "getrlimit", (Arg("resource", U_INT), Arg("rlim", CADDR_T)), linux_getrlimit,
           (errno.EINVAL, errno.EFAULT), doc="A resource limit (struct rlimit)."),
    Sysent(99, "sysinfo", (Arg("info", CADDR_T),), linux_sysinfo, _FAULT,
           doc="struct sysinfo of the model."),
    Sysent(102, "getuid", (), linux_getuid, _NONE, doc="The real uid."),
    Sysent(104, "getgid", (), linux_getgid, _NONE, doc="The real gid."),
    Sysent(107, "geteuid", (), linux_geteuid, _NONE, doc="The effective uid."),
    Sysent(108, "getegid", (), linux_getegid, _NONE, doc="The effective gid."),
    Sysent(110, "getppid", (), linux_getppid, _NONE, doc="The parent's pid."),
    Sysent(115, "getgroups", (Arg("size", INT), Arg("list", CADDR_T)), linux_getgroups,
           (errno.EINVAL, errno.EFAULT), doc="The supplementary groups."),
    Sysent(118, "getresuid", (Arg("ruid", CADDR_T), Arg("euid", CADDR_T), Arg("suid", CADDR_T)),
           linux_getresuid, _FAULT, doc="Real, effective and saved uid."),
    Sysent(120, "getresgid", (Arg("rgid", CADDR_T), Arg("egid", CADDR_T), Arg("sgid", CADDR_T)),
           linux_getresgid, _FAULT, doc="Real, effective and saved gid."),
    Sysent(160, "setrlimit", (Arg("resource", U_INT), Arg("rlim", CADDR_T)), linux_setrlimit,
           (errno.EINVAL, errno.EFAULT, errno.EPERM), doc="Set a resource limit."),
    Sysent(186, "gettid", (), linux_gettid, _NONE, doc="The thread id (the pid)."),
    Sysent(201, "time", (Arg("tloc", CADDR_T),), linux_time, _FAULT, doc="Seconds of the epoch."),
    Sysent(204, "sched_getaffinity", (Arg("pid", INT), Arg("len", U_INT),
                                      Arg("user_mask_ptr", CADDR_T)), linux_sched_getaffinity,
           (errno.EINVAL, errno.EFAULT, errno.ESRCH, errno.EPERM), doc="The CPU mask (one CPU)."),
    Sysent(218, "set_tid_address", (Arg("tidptr", CADDR_T),), linux_set_tid_address, _NONE,
           doc="Set the clear-child-tid address; returns the tid."),
    Sysent(228, "clock_gettime", (Arg("which", INT), Arg("tp", CADDR_T)), linux_clock_gettime,
           (errno.EINVAL, errno.EFAULT), doc="A clock's time (struct timespec)."),
    Sysent(229, "clock_getres", (Arg("which", INT), Arg("tp", CADDR_T)), linux_clock_getres,
           (errno.EINVAL, errno.EFAULT), doc="A clock's resolution."),
    Sysent(273, "set_robust_list", (Arg("head", CADDR_T), Arg("len", SIZE_T)),
           linux_set_robust_list, (errno.EINVAL,), doc="Register the robust futex list."),
    Sysent(302, "prlimit64", (Arg("pid", INT), Arg("resource", U_INT), Arg("new_rlim", CADDR_T),
                              Arg("old_rlim", CADDR_T)), linux_prlimit64,
           (errno.EINVAL, errno.EFAULT, errno.EPERM, errno.ESRCH),
           doc="Get and/or set a resource limit of a process."),
    Sysent(318, "getrandom", (Arg("buf", BUF_OUT, "count"), Arg("count", SIZE_T),
                              Arg("flags", U_INT)), linux_getrandom, (errno.EINVAL, errno.EFAULT),
           doc="Random bytes."),
]
