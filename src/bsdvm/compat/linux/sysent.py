"""sys/amd64/linux/linux_sysent.c: the Linux x86-64 system-call table.

`linux_sysent` maps Linux x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl) to the
kernel-side Linux bodies, each of which translates and calls native FreeBSD bodies, as FreeBSD's
linux_sysent does.  It is assembled from per-area modules, each exporting a list `SYSENTS`; adding an
area is one import line here.  `LINUX_NOSYS` names the Linux calls known but not served: the CPU
runner answers them ENOSYS and counts them by name.

Errnos: bodies return FreeBSD errnos; the boundary (the CPU runner, replay) translates them with
`linux.bsd_to_linux_errno` (linux_errtbl), as FreeBSD's sv_errtbl does.
Invariants: numbers and names are unique (SysentTable enforces it).  May call: the area modules.
"""
from __future__ import annotations

from ...kern.sysent import Sysent, SysentTable
from . import linux_file, linux_misc, linux_mmap, linux_stats

# Linux calls the table knows by number but does not serve (threads, sockets, ...): ENOSYS.
LINUX_NOSYS: dict[int, str] = {
    7: "poll", 23: "select", 29: "shmget", 30: "shmat", 31: "shmctl", 34: "pause", 35: "nanosleep",
    36: "getitimer", 37: "alarm", 38: "setitimer", 40: "sendfile", 41: "socket", 42: "connect",
    43: "accept", 44: "sendto", 45: "recvfrom", 46: "sendmsg", 47: "recvmsg", 48: "shutdown",
    49: "bind", 50: "listen", 51: "getsockname", 52: "getpeername", 53: "socketpair",
    54: "setsockopt", 55: "getsockopt", 73: "flock", 98: "getrusage", 100: "times", 101: "ptrace",
    135: "personality", 137: "statfs", 138: "fstatfs", 157: "prctl",
    213: "epoll_create", 232: "epoll_wait", 233: "epoll_ctl", 270: "pselect6", 271: "ppoll",
    281: "epoll_pwait", 283: "timerfd_create", 284: "eventfd", 290: "eventfd2",
    291: "epoll_create1", 230: "clock_nanosleep", 319: "memfd_create", 334: "rseq", 435: "clone3",
}

# Known calls with no body in the model yet (FreeBSD 7 lacks some: fadvise64, preadv/pwritev, the
# *at renames and links; the VFS has no rename, link or utimes; credentials never change).
LINUX_NOSYS.update({
    74: "fsync", 75: "fdatasync", 82: "rename", 86: "link", 105: "setuid", 106: "setgid",
    109: "setpgid", 111: "getpgrp", 112: "setsid", 113: "setreuid", 114: "setregid",
    116: "setgroups", 117: "setresuid", 119: "setresgid", 121: "getpgid", 124: "getsid",
    132: "utime", 136: "ustat", 221: "fadvise64", 235: "utimes", 264: "renameat", 265: "linkat",
    280: "utimensat", 295: "preadv", 296: "pwritev", 316: "renameat2",
})

SYSENTS: list[Sysent] = [*linux_mmap.SYSENTS, *linux_file.SYSENTS, *linux_stats.SYSENTS,
                         *linux_misc.SYSENTS]

linux_sysent = SysentTable("linux64", SYSENTS, LINUX_NOSYS)
