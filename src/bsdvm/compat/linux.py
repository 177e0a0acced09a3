"""The Linux ABI layer: Linux memory system calls on a modelled FreeBSD 7 process, translated the
way FreeBSD's Linux emulation does it (sys/compat/linux/linux_mmap.c and linux_misc.c).

`LinuxABI(process)` has one method per Linux call (mmap, mmap2, munmap, mprotect, madvise, mincore,
mlock, mlock2, munlock, mlockall, munlockall, msync, brk, mremap).  Each takes the Linux arguments
(Linux bit values) and returns a `LinuxResult`: what the Linux program would see (`ret`, or `errno`
as a Linux errno name), plus `notes` -- one per Linux bit or request the layer could not honour,
ignored, or emulated -- and `why` when the layer itself, not the FreeBSD kernel below it, produced
the error.  Nothing is dropped silently.

What follows FreeBSD's layer, call by call (the current linux_mmap.c unless said otherwise):

mmap      exactly one of MAP_SHARED/MAP_PRIVATE or EINVAL; MAP_FIXED -> MAP_FIXED; MAP_ANONYMOUS ->
          MAP_ANON with the offset checked page-aligned then ignored and the fd ignored (-1); a file
          mapping gets MAP_NOSYNC; MAP_GROWSDOWN -> MAP_STACK with vm_maxsaddr lowered to
          USRSTACK - RLIMIT_STACK when the region reaches above it, and the region widened to
          STACK_SIZE - GUARD_SIZE below its top (addr moved down) when it is smaller; a non-vnode
          descriptor is EINVAL and a descriptor without FREAD EACCES (linux_mmap_check_fp).
          Linux/i386 (arch i386, the 7.x linux.ko): any of PROT_READ/WRITE/EXEC implies READ|EXEC.
          Bits FreeBSD 7 has no counterpart for are dropped and reported: MAP_DENYWRITE and
          MAP_EXECUTABLE (Linux ignores them too), MAP_LOCKED (not wired), MAP_NORESERVE (7.x does
          not reserve swap anyway), MAP_POPULATE/MAP_NONBLOCK (no prefault), MAP_STACK (a Linux
          hint, unlike FreeBSD's MAP_STACK), MAP_HUGETLB and the MAP_HUGE_* size, MAP_32BIT (7.x
          has none), MAP_SYNC, MAP_UNINITIALIZED, MAP_FIXED_NOREPLACE (7.x has no MAP_EXCL: it
          becomes a plain hint), and any unknown bit.  The Linux offset is in bytes for both mmap
          and mmap2 here: strace prints mmap2's page offset already multiplied by the page size.
mprotect  PROT_GROWSDOWN/PROT_GROWSUP dropped (reported); any other unknown bit EINVAL.
madvise   linux_madvise_common's table: NORMAL, RANDOM, SEQUENTIAL, WILLNEED, FREE, DONTDUMP (NOCORE)
          and DODUMP (CORE) map to FreeBSD advice; DONTFORK/DOFORK/KEEPONFORK become minherit
          NONE/COPY/COPY; UNMERGEABLE and HUGEPAGE succeed doing nothing; REMOVE, MERGEABLE,
          NOHUGEPAGE, HWPOISON, SOFT_OFFLINE, -1 and anything unknown are EINVAL; WIPEONFORK needs
          INHERIT_ZERO, which FreeBSD 7 lacks: EINVAL, reported.  DONTNEED: the current layer
          discards anonymous pages (linux_madvise_dontneed); FreeBSD 7 has no such primitive, so
          the native MADV_DONTNEED (deactivate) is used and the difference reported.
msync     unknown bits or MS_SYNC|MS_ASYNC EINVAL, unaligned address EINVAL, then MS_ASYNC ->
          MS_ASYNC, MS_INVALIDATE -> MS_INVALIDATE, MS_SYNC -> 0.
mlock2    flags other than MLOCK_ONFAULT EINVAL; ONFAULT wires eagerly (reported).
mlockall  MCL_ONFAULT dropped (reported).
brk       linux_brk: obreak(new) when new > vm_daddr; returns new on success, else the old break.
mremap    linux_mremap: flags other than FIXED|MAYMOVE EINVAL, unaligned address EINVAL; lengths
          rounded; growing is ENOMEM (FreeBSD never moves or grows); shrinking unmaps the tail;
          returns the address.
munmap, mincore, munlock, munlockall: the native calls.

Errno values: FreeBSD errnos reach the program as Linux errnos through linux_errtbl; this module
has both numberings (`FREEBSD_ERRNO`, `LINUX_ERRNO`, `bsd_to_linux_errno`, `linux_to_bsd_errno`)
and works with names, which is what traces carry.
"""
from __future__ import annotations

import errno as _host_errno
import os
from dataclasses import dataclass, field
from typing import overload

from .. import mman

PAGE_SIZE = 4096
PAGE_MASK = PAGE_SIZE - 1

# -- Linux constants (x86, asm-generic) ----------------------------------------------------------
PROT_NONE = 0x0
PROT_READ = 0x1
PROT_WRITE = 0x2
PROT_EXEC = 0x4
PROT_SEM = 0x8
PROT_GROWSDOWN = 0x01000000
PROT_GROWSUP = 0x02000000

MAP_SHARED = 0x01
MAP_PRIVATE = 0x02
MAP_SHARED_VALIDATE = 0x03
MAP_TYPE = 0x0F
MAP_FIXED = 0x10
MAP_ANONYMOUS = 0x20
MAP_32BIT = 0x40
MAP_GROWSDOWN = 0x0100
MAP_DENYWRITE = 0x0800
MAP_EXECUTABLE = 0x1000
MAP_LOCKED = 0x2000
MAP_NORESERVE = 0x4000
MAP_POPULATE = 0x8000
MAP_NONBLOCK = 0x10000
MAP_STACK = 0x20000
MAP_HUGETLB = 0x40000
MAP_SYNC = 0x80000
MAP_FIXED_NOREPLACE = 0x100000
MAP_UNINITIALIZED = 0x4000000
MAP_HUGE_SHIFT = 26
MAP_HUGE_MASK = 0x3F

MADV_NORMAL = 0
MADV_RANDOM = 1
MADV_SEQUENTIAL = 2
MADV_WILLNEED = 3
MADV_DONTNEED = 4
MADV_FREE = 8
MADV_REMOVE = 9
MADV_DONTFORK = 10
MADV_DOFORK = 11
MADV_MERGEABLE = 12
MADV_UNMERGEABLE = 13
MADV_HUGEPAGE = 14
MADV_NOHUGEPAGE = 15
MADV_DONTDUMP = 16
MADV_DODUMP = 17
MADV_WIPEONFORK = 18
MADV_KEEPONFORK = 19
MADV_COLD = 20
MADV_PAGEOUT = 21
MADV_POPULATE_READ = 22
MADV_POPULATE_WRITE = 23
MADV_DONTNEED_LOCKED = 24
MADV_COLLAPSE = 25
MADV_HWPOISON = 100
MADV_SOFT_OFFLINE = 101

MS_ASYNC = 1
MS_INVALIDATE = 2
MS_SYNC = 4

MCL_CURRENT = 1
MCL_FUTURE = 2
MCL_ONFAULT = 4

MLOCK_ONFAULT = 1

MREMAP_MAYMOVE = 1
MREMAP_FIXED = 2
MREMAP_DONTUNMAP = 4

O_RDONLY = 0
O_WRONLY = 1
O_RDWR = 2
O_ACCMODE = 3
O_CREAT = 0o100
O_EXCL = 0o200
O_NOCTTY = 0o400
O_TRUNC = 0o1000
O_APPEND = 0o2000
O_NONBLOCK = 0o4000
O_DSYNC = 0o10000
O_ASYNC = 0o20000
O_DIRECT = 0o40000
O_LARGEFILE = 0o100000
O_DIRECTORY = 0o200000
O_NOFOLLOW = 0o400000
O_NOATIME = 0o1000000
O_CLOEXEC = 0o2000000
O_SYNC = 0o4010000
O_PATH = 0o10000000
O_TMPFILE = 0o20200000

AT_FDCWD = -100

CLONE_VM = 0x100
CLONE_FS = 0x200
CLONE_FILES = 0x400
CLONE_SIGHAND = 0x800
CLONE_PIDFD = 0x1000
CLONE_PTRACE = 0x2000
CLONE_VFORK = 0x4000
CLONE_PARENT = 0x8000
CLONE_THREAD = 0x10000
CLONE_NEWNS = 0x20000
CLONE_SYSVSEM = 0x40000
CLONE_SETTLS = 0x80000
CLONE_PARENT_SETTID = 0x100000
CLONE_CHILD_CLEARTID = 0x200000
CLONE_DETACHED = 0x400000
CLONE_UNTRACED = 0x800000
CLONE_CHILD_SETTID = 0x1000000
CLONE_NEWCGROUP = 0x2000000
CLONE_NEWUTS = 0x4000000
CLONE_NEWIPC = 0x8000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_IO = 0x80000000

LINUX_SIGNALS = {
    "SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6, "SIGIOT": 6,
    "SIGBUS": 7, "SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11, "SIGUSR2": 12,
    "SIGPIPE": 13, "SIGALRM": 14, "SIGTERM": 15, "SIGSTKFLT": 16, "SIGCHLD": 17, "SIGCONT": 18,
    "SIGSTOP": 19, "SIGTSTP": 20, "SIGTTIN": 21, "SIGTTOU": 22, "SIGURG": 23, "SIGXCPU": 24,
    "SIGXFSZ": 25, "SIGVTALRM": 26, "SIGPROF": 27, "SIGWINCH": 28, "SIGIO": 29, "SIGPWR": 30,
    "SIGSYS": 31,
}

# the names strace prints, with their values: the symbol table of the strace parser
SYMBOLS: dict[str, int] = {}
for _n, _v in list(globals().items()):
    if _n.isupper() and isinstance(_v, int) and _n.split("_")[0] in (
            "PROT", "MAP", "MADV", "MS", "MCL", "MLOCK", "MREMAP", "O", "AT", "CLONE"):
        SYMBOLS[_n] = _v
SYMBOLS.update(LINUX_SIGNALS)
SYMBOLS.update({"NULL": 0, "MAP_FILE": 0, "MAP_ANON": MAP_ANONYMOUS,
                "MAP_HUGE_2MB": 21 << MAP_HUGE_SHIFT, "MAP_HUGE_1GB": 30 << MAP_HUGE_SHIFT,
                "MAP_HUGE_SHIFT": MAP_HUGE_SHIFT, "O_FSYNC": O_SYNC, "O_NDELAY": O_NONBLOCK})

# -- errno tables --------------------------------------------------------------------------------
FREEBSD_ERRNO = {
    1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG",
    8: "ENOEXEC", 9: "EBADF", 10: "ECHILD", 11: "EDEADLK", 12: "ENOMEM", 13: "EACCES",
    14: "EFAULT", 15: "ENOTBLK", 16: "EBUSY", 17: "EEXIST", 18: "EXDEV", 19: "ENODEV",
    20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE", 25: "ENOTTY",
    26: "ETXTBSY", 27: "EFBIG", 28: "ENOSPC", 29: "ESPIPE", 30: "EROFS", 31: "EMLINK",
    32: "EPIPE", 33: "EDOM", 34: "ERANGE", 35: "EAGAIN", 36: "EINPROGRESS", 37: "EALREADY",
    38: "ENOTSOCK", 39: "EDESTADDRREQ", 40: "EMSGSIZE", 41: "EPROTOTYPE", 42: "ENOPROTOOPT",
    43: "EPROTONOSUPPORT", 44: "ESOCKTNOSUPPORT", 45: "EOPNOTSUPP", 46: "EPFNOSUPPORT",
    47: "EAFNOSUPPORT", 48: "EADDRINUSE", 49: "EADDRNOTAVAIL", 50: "ENETDOWN", 51: "ENETUNREACH",
    52: "ENETRESET", 53: "ECONNABORTED", 54: "ECONNRESET", 55: "ENOBUFS", 56: "EISCONN",
    57: "ENOTCONN", 58: "ESHUTDOWN", 59: "ETOOMANYREFS", 60: "ETIMEDOUT", 61: "ECONNREFUSED",
    62: "ELOOP", 63: "ENAMETOOLONG", 64: "EHOSTDOWN", 65: "EHOSTUNREACH", 66: "ENOTEMPTY",
    67: "EPROCLIM", 68: "EUSERS", 69: "EDQUOT", 70: "ESTALE", 71: "EREMOTE", 72: "EBADRPC",
    73: "ERPCMISMATCH", 74: "EPROGUNAVAIL", 75: "EPROGMISMATCH", 76: "EPROCUNAVAIL",
    77: "ENOLCK", 78: "ENOSYS", 79: "EFTYPE", 80: "EAUTH", 81: "ENEEDAUTH", 82: "EIDRM",
    83: "ENOMSG", 84: "EOVERFLOW", 85: "ECANCELED", 86: "EILSEQ", 87: "ENOATTR", 88: "EDOOFUS",
    89: "EBADMSG", 90: "EMULTIHOP", 91: "ENOLINK", 92: "EPROTO",
}
LINUX_ERRNO = {
    1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG",
    8: "ENOEXEC", 9: "EBADF", 10: "ECHILD", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES",
    14: "EFAULT", 15: "ENOTBLK", 16: "EBUSY", 17: "EEXIST", 18: "EXDEV", 19: "ENODEV",
    20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE", 25: "ENOTTY",
    26: "ETXTBSY", 27: "EFBIG", 28: "ENOSPC", 29: "ESPIPE", 30: "EROFS", 31: "EMLINK",
    32: "EPIPE", 33: "EDOM", 34: "ERANGE", 35: "EDEADLK", 36: "ENAMETOOLONG", 37: "ENOLCK",
    38: "ENOSYS", 39: "ENOTEMPTY", 40: "ELOOP", 42: "ENOMSG", 43: "EIDRM", 61: "ENODATA",
    62: "ETIME", 66: "EREMOTE", 67: "ENOLINK", 71: "EPROTO", 72: "EMULTIHOP", 74: "EBADMSG",
    75: "EOVERFLOW", 84: "EILSEQ", 87: "EUSERS", 88: "ENOTSOCK", 89: "EDESTADDRREQ",
    90: "EMSGSIZE", 91: "EPROTOTYPE", 92: "ENOPROTOOPT", 93: "EPROTONOSUPPORT",
    94: "ESOCKTNOSUPPORT", 95: "EOPNOTSUPP", 96: "EPFNOSUPPORT", 97: "EAFNOSUPPORT",
    98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 100: "ENETDOWN", 101: "ENETUNREACH",
    102: "ENETRESET", 103: "ECONNABORTED", 104: "ECONNRESET", 105: "ENOBUFS", 106: "EISCONN",
    107: "ENOTCONN", 108: "ESHUTDOWN", 109: "ETOOMANYREFS", 110: "ETIMEDOUT",
    111: "ECONNREFUSED", 112: "EHOSTDOWN", 113: "EHOSTUNREACH", 114: "EALREADY",
    115: "EINPROGRESS", 116: "ESTALE", 122: "EDQUOT", 125: "ECANCELED",
    512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND", 516: "ERESTART_RESTARTBLOCK",
}
_FREEBSD_BY_NAME = {v: k for k, v in FREEBSD_ERRNO.items()}
_LINUX_BY_NAME = {v: k for k, v in LINUX_ERRNO.items()}
# FreeBSD names Linux lacks, as linux_errtbl sends them (and the reverse where Linux's is unique)
_BSD_ONLY_TO_LINUX = {"EPROCLIM": "EAGAIN", "EBADRPC": "ENXIO", "ERPCMISMATCH": "ENXIO",
                      "EPROGUNAVAIL": "ENXIO", "EPROGMISMATCH": "ENXIO", "EPROCUNAVAIL": "ENXIO",
                      "EFTYPE": "EINVAL", "EAUTH": "ENXIO", "ENEEDAUTH": "ENXIO",
                      "ENOATTR": "ENODATA", "EDOOFUS": "EBUSY"}
_LINUX_ONLY_TO_BSD = {"ENODATA": "ENOATTR", "ETIME": "ETIMEDOUT", "ERESTARTSYS": "EINTR",
                      "ERESTARTNOINTR": "EINTR", "ERESTARTNOHAND": "EINTR",
                      "ERESTART_RESTARTBLOCK": "EINTR"}
_ALIASES = {"EWOULDBLOCK": "EAGAIN", "ENOTSUP": "EOPNOTSUPP", "EDEADLOCK": "EDEADLK"}


@overload
def errno_name(value: None) -> None: ...
@overload
def errno_name(value: str | int) -> str: ...
@overload
def errno_name(value: str | int | None) -> str | None: ...


def errno_name(value: str | int | None) -> str | None:
    """A canonical errno name for a host errno number (what the model raises) or a name."""
    if value is None:
        return None
    if isinstance(value, str):
        return _ALIASES.get(value, value)
    name = _host_errno.errorcode.get(value, f"E#{value}")
    return _ALIASES.get(name, name)


def bsd_to_linux_errno(name: str) -> str:
    name = errno_name(name)
    return _BSD_ONLY_TO_LINUX.get(name, name)


def linux_to_bsd_errno(name: str) -> str:
    name = errno_name(name)
    return _LINUX_ONLY_TO_BSD.get(name, name)


def freebsd_errno_name(num: int) -> str:
    return FREEBSD_ERRNO.get(num, f"E#{num}")


def linux_errno_name(num: int) -> str:
    return LINUX_ERRNO.get(num, f"E#{num}")


def freebsd_errno_number(name: str) -> int | None:
    return _FREEBSD_BY_NAME.get(errno_name(name))


def linux_errno_number(name: str) -> int | None:
    return _LINUX_BY_NAME.get(errno_name(name))


# errno classes for comparing outcomes across kernels
ERRNO_CLASS = {
    "EPERM": "permission", "EACCES": "permission",
    "ENOMEM": "resources", "EAGAIN": "resources", "ENOSPC": "resources", "EMFILE": "resources",
    "ENFILE": "resources", "EDQUOT": "resources",
    "EINVAL": "argument", "EOVERFLOW": "argument", "ERANGE": "argument", "EFBIG": "argument",
    "EBADF": "descriptor",
    "ENODEV": "unsupported", "EOPNOTSUPP": "unsupported", "ENOSYS": "unsupported",
    "ENXIO": "unsupported",
    "EEXIST": "exists", "EBUSY": "busy", "ETXTBSY": "busy",
    "EFAULT": "fault", "ENOENT": "no-entry", "EINTR": "interrupted",
}


def errno_class(name: str | None) -> str:
    if name is None:
        return "success"
    name = errno_name(name)
    return ERRNO_CLASS.get(name, name)


# -- flag names ---------------------------------------------------------------------------------
_MAP_NAMES = [(MAP_FIXED, "MAP_FIXED"), (MAP_ANONYMOUS, "MAP_ANONYMOUS"), (MAP_32BIT, "MAP_32BIT"),
              (MAP_GROWSDOWN, "MAP_GROWSDOWN"), (MAP_DENYWRITE, "MAP_DENYWRITE"),
              (MAP_EXECUTABLE, "MAP_EXECUTABLE"), (MAP_LOCKED, "MAP_LOCKED"),
              (MAP_NORESERVE, "MAP_NORESERVE"), (MAP_POPULATE, "MAP_POPULATE"),
              (MAP_NONBLOCK, "MAP_NONBLOCK"), (MAP_STACK, "MAP_STACK"),
              (MAP_HUGETLB, "MAP_HUGETLB"), (MAP_SYNC, "MAP_SYNC"),
              (MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"),
              (MAP_UNINITIALIZED, "MAP_UNINITIALIZED")]

_PROT_NAMES = [(PROT_READ, "PROT_READ"), (PROT_WRITE, "PROT_WRITE"), (PROT_EXEC, "PROT_EXEC"),
               (PROT_SEM, "PROT_SEM"), (PROT_GROWSDOWN, "PROT_GROWSDOWN"),
               (PROT_GROWSUP, "PROT_GROWSUP")]

MADV_NAMES = {v: k for k, v in SYMBOLS.items() if k.startswith("MADV_")}


def map_flags_str(flags: int) -> str:
    t = flags & MAP_TYPE
    parts = [{1: "MAP_SHARED", 2: "MAP_PRIVATE", 3: "MAP_SHARED_VALIDATE"}.get(t, f"{t:#x}")] \
        if t else []
    rest = flags & ~MAP_TYPE
    for bit, name in _MAP_NAMES:
        if rest & bit:
            parts.append(name)
            rest &= ~bit
    huge = (rest >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK
    if huge:
        parts.append(f"{huge}<<MAP_HUGE_SHIFT")
        rest &= ~(MAP_HUGE_MASK << MAP_HUGE_SHIFT)
    if rest:
        parts.append(f"{rest:#x}")
    return "|".join(parts) or "0"


def prot_str(prot: int) -> str:
    parts = []
    rest = prot
    for bit, name in _PROT_NAMES:
        if rest & bit:
            parts.append(name)
            rest &= ~bit
    if rest:
        parts.append(f"{rest:#x}")
    return "|".join(parts) or "PROT_NONE"


# Linux mmap bits FreeBSD 7 cannot honour: (bit, name, what the layer does about it)
_DROPPED_MAP_BITS = [
    (MAP_DENYWRITE, "MAP_DENYWRITE", "ignored (Linux ignores it too)"),
    (MAP_EXECUTABLE, "MAP_EXECUTABLE", "ignored (Linux ignores it too)"),
    (MAP_LOCKED, "MAP_LOCKED", "dropped by linux_mmap_common: the pages are not wired"),
    (MAP_NORESERVE, "MAP_NORESERVE", "dropped: FreeBSD 7 does not reserve swap for mappings"),
    (MAP_POPULATE, "MAP_POPULATE", "dropped by linux_mmap_common: no prefault, pages fault on "
                                   "first touch"),
    (MAP_NONBLOCK, "MAP_NONBLOCK", "dropped (only meaningful with MAP_POPULATE)"),
    (MAP_STACK, "MAP_STACK", "dropped: Linux MAP_STACK is a placement hint, not FreeBSD's "
                             "grow-down MAP_STACK"),
    (MAP_HUGETLB, "MAP_HUGETLB", "cannot honour: mapped with base pages"),
    (MAP_32BIT, "MAP_32BIT", "cannot honour: FreeBSD 7 has no MAP_32BIT"),
    (MAP_SYNC, "MAP_SYNC", "cannot honour: no DAX in FreeBSD 7"),
    (MAP_UNINITIALIZED, "MAP_UNINITIALIZED", "ignored: anonymous pages are always zeroed"),
    (MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE",
     "cannot honour: FreeBSD 7 has no MAP_EXCL, the address is only a hint"),
]
_KNOWN_MAP_BITS = MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN
for _b, _n, _w in _DROPPED_MAP_BITS:
    _KNOWN_MAP_BITS |= _b
_KNOWN_MAP_BITS |= MAP_HUGE_MASK << MAP_HUGE_SHIFT

STACK_SIZE = 2 * 1024 * 1024
GUARD_SIZE = 4 * PAGE_SIZE


@dataclass
class LinuxResult:
    """What a Linux program would see: `ret` on success, else `errno` (a Linux errno name)."""
    ret: int | None = None
    errno: str | None = None
    notes: list = field(default_factory=list)   # strings: "NAME: what happened"
    why: str | None = None                      # set when the layer (not the kernel) failed it
    bsd: dict | None = None                     # the FreeBSD call made, for the record

    @property
    def ok(self) -> bool:
        return self.errno is None


class LinuxABI:
    """Linux memory calls on one modelled process (a bsdvm Process), as FreeBSD's Linux layer
    makes them.  `read_implies_exec` is the Linux/i386 rule of the 7.x linux.ko (default: on for
    the i386 profile)."""

    def __init__(self, process, read_implies_exec: bool | None = None):
        self.p = process
        if read_implies_exec is None:
            read_implies_exec = process.kernel.arch.name == "i386"
        self.read_implies_exec = read_implies_exec

    # -- plumbing ----------------------------------------------------------------------------
    def _call(self, res: LinuxResult, fn, *args, name: str):
        res.bsd = {"call": name, "args": args}
        try:
            r = fn(*args)
        except OSError as e:
            assert e.errno is not None          # the model's OSErrors always carry one
            res.errno = bsd_to_linux_errno(errno_name(e.errno))
            return None
        return r

    def _fail(self, res: LinuxResult, err: str, why: str) -> LinuxResult:
        res.errno = err
        res.why = why
        return res

    def _fixup_prot(self, prot: int, res: LinuxResult) -> int:
        if self.read_implies_exec and prot & (PROT_READ | PROT_WRITE | PROT_EXEC):
            if (prot & (PROT_READ | PROT_EXEC)) != (PROT_READ | PROT_EXEC):
                res.notes.append("PROT_EXEC: added (Linux/i386 read-implies-exec, "
                                 "linux_mmap_common)")
            prot |= PROT_READ | PROT_EXEC
        return prot

    # -- mmap ----------------------------------------------------------------------------------
    def translate_mmap_flags(self, flags: int, res: LinuxResult) -> int | None:
        """The flag part of linux_mmap_common: FreeBSD flags, or None (EINVAL recorded)."""
        t = flags & MAP_TYPE
        if t not in (MAP_SHARED, MAP_PRIVATE):
            self._fail(res, "EINVAL", "linux_mmap_common: exactly one of MAP_SHARED and "
                                      f"MAP_PRIVATE is required (type {t:#x})")
            return None
        bsd = mman.MAP_SHARED if t == MAP_SHARED else mman.MAP_PRIVATE
        if flags & MAP_FIXED:
            bsd |= mman.MAP_FIXED
        if flags & MAP_ANONYMOUS:
            bsd |= mman.MAP_ANON
        else:
            bsd |= mman.MAP_NOSYNC
        if flags & MAP_GROWSDOWN:
            bsd |= mman.MAP_STACK
        for bit, name, what in _DROPPED_MAP_BITS:
            if flags & bit:
                res.notes.append(f"{name}: {what}")
        huge = (flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK
        if huge:
            res.notes.append(f"MAP_HUGE_{1 << huge}: cannot honour: no huge pages in the model")
        unknown = flags & ~_KNOWN_MAP_BITS
        if unknown:
            res.notes.append(f"{unknown:#x}: unknown Linux mmap flag bits dropped")
        return bsd

    def mmap(self, addr: int, length: int, prot: int, flags: int, fd: int = -1,
             offset: int = 0) -> LinuxResult:
        res = LinuxResult()
        bsd_flags = self.translate_mmap_flags(flags, res)
        if bsd_flags is None:
            return res
        if flags & MAP_ANONYMOUS:
            if offset & PAGE_MASK:
                return self._fail(res, "EINVAL", "linux_mmap_common: MAP_ANONYMOUS with an "
                                                 "unaligned offset")
            offset = 0
            fd = -1
        else:
            fp_err = self._check_fp(fd)
            if fp_err:
                return self._fail(res, fp_err[0], fp_err[1])
        if prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC):
            res.notes.append(f"{prot_str(prot & ~7)}: dropped (mmap keeps only "
                             "PROT_READ|PROT_WRITE|PROT_EXEC)")
        prot = self._fixup_prot(prot & 7, res)
        if flags & MAP_GROWSDOWN:
            addr, length = self._growsdown(addr, length, res)
        ret = self._call(res, self.p.mmap, addr, length, prot, bsd_flags, fd, offset, name="mmap")
        if ret is not None:
            res.ret = ret
        return res

    mmap2 = mmap    # the offset is in bytes here (see the module docstring)

    def _check_fp(self, fd: int):
        """linux_mmap_check_fp and the vnode check of the 7.x layer."""
        proc = self.p.proc
        try:
            err, fp = proc.p_fd.fget(fd)
        except Exception:       # noqa: BLE001 -- a model without fget: let mmap decide
            return None
        if err:
            return None         # the kernel's mmap reports EBADF itself
        try:
            from ..kern import descrip
            if not fp.f_flag & descrip.FREAD:
                return "EACCES", "linux_mmap_check_fp: Linux mmap fails for O_WRONLY files"
        finally:
            proc.p_fd.fdrop(fp)
        return None

    def _growsdown(self, addr: int, length: int, res: LinuxResult):
        vms = self.p.proc.p_vmspace
        k = self.p.kernel
        mask = k.arch.word_mask
        if addr + length > vms.vm_maxsaddr:
            from ..resource import RLIMIT_STACK
            new = (k.arch.usrstack - self.p.getrlimit(RLIMIT_STACK)[0]) & mask
            if new != vms.vm_maxsaddr:
                res.notes.append(f"MAP_GROWSDOWN: vm_maxsaddr moved to {new:#x} "
                                 "(USRSTACK - RLIMIT_STACK), as linux_mmap_common does")
                vms.vm_maxsaddr = new
        if length <= STACK_SIZE - GUARD_SIZE:
            res.notes.append(f"MAP_GROWSDOWN: FreeBSD MAP_STACK region of "
                             f"{STACK_SIZE - GUARD_SIZE:#x} bytes below the top "
                             f"(Linux asked {length:#x})")
            addr = (addr - (STACK_SIZE - GUARD_SIZE - length)) & mask
            length = STACK_SIZE - GUARD_SIZE
        return addr, length

    # -- simple range calls ------------------------------------------------------------------
    def munmap(self, addr: int, length: int) -> LinuxResult:
        res = LinuxResult()
        self._call(res, self.p.munmap, addr, length, name="munmap")
        if res.ok:
            res.ret = 0
        return res

    def mprotect(self, addr: int, length: int, prot: int) -> LinuxResult:
        res = LinuxResult()
        if prot & (PROT_GROWSDOWN | PROT_GROWSUP):
            res.notes.append(f"{prot_str(prot & (PROT_GROWSDOWN | PROT_GROWSUP))}: ignored by "
                             "linux_mprotect_common (the change is not extended to the whole "
                             "grow-down/up region)")
            prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP)
        if prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC):
            return self._fail(res, "EINVAL", f"linux_mprotect_common: unknown prot bits "
                                             f"{prot & ~7:#x}")
        prot = self._fixup_prot(prot, res)
        self._call(res, self.p.mprotect, addr, length, prot, name="mprotect")
        if res.ok:
            res.ret = 0
        return res

    def madvise(self, addr: int, length: int, advice: int) -> LinuxResult:
        res = LinuxResult()
        name = MADV_NAMES.get(advice, str(advice))
        native = {MADV_NORMAL: mman.MADV_NORMAL, MADV_RANDOM: mman.MADV_RANDOM,
                  MADV_SEQUENTIAL: mman.MADV_SEQUENTIAL, MADV_WILLNEED: mman.MADV_WILLNEED,
                  MADV_FREE: mman.MADV_FREE, MADV_DONTDUMP: mman.MADV_NOCORE,
                  MADV_DODUMP: mman.MADV_CORE, MADV_DONTNEED: mman.MADV_DONTNEED}
        inherit = {MADV_DONTFORK: mman.INHERIT_NONE, MADV_DOFORK: mman.INHERIT_COPY,
                   MADV_KEEPONFORK: mman.INHERIT_COPY}
        if advice in native:
            if advice == MADV_DONTNEED:
                res.notes.append("MADV_DONTNEED: approximated by FreeBSD 7's MADV_DONTNEED "
                                 "(pages deactivated, not discarded as Linux and "
                                 "linux_madvise_dontneed do)")
            self._call(res, self.p.madvise, addr, length, native[advice], name="madvise")
        elif advice in inherit:
            self._call(res, self.p.minherit, addr, length, inherit[advice], name="minherit")
        elif advice in (MADV_UNMERGEABLE, MADV_HUGEPAGE):
            res.notes.append(f"{name}: accepted and ignored, as linux_madvise_common does")
        elif advice == MADV_WIPEONFORK:
            return self._fail(res, "EINVAL", "MADV_WIPEONFORK needs INHERIT_ZERO, which FreeBSD 7 "
                                             "lacks")
        elif advice in (MADV_REMOVE, MADV_MERGEABLE, MADV_NOHUGEPAGE, MADV_HWPOISON,
                        MADV_SOFT_OFFLINE, -1):
            return self._fail(res, "EINVAL", f"linux_madvise_common: {name} unsupported")
        else:
            return self._fail(res, "EINVAL", f"linux_madvise_common: unsupported madvise "
                                             f"behav {name}")
        if res.ok:
            res.ret = 0
        return res

    def mincore(self, addr: int, length: int) -> LinuxResult:
        res = LinuxResult()
        vec = self._call(res, self.p.mincore, addr, length, name="mincore")
        if res.ok:
            res.ret = 0
            # Linux reports residency in bit 0 only
            assert res.bsd is not None
            res.bsd["vec"] = bytes(b & mman.MINCORE_INCORE for b in (vec or b""))
        return res

    def mlock(self, addr: int, length: int) -> LinuxResult:
        res = LinuxResult()
        self._call(res, self.p.mlock, addr, length, name="mlock")
        if res.ok:
            res.ret = 0
        return res

    def mlock2(self, addr: int, length: int, flags: int) -> LinuxResult:
        res = LinuxResult()
        if flags & ~MLOCK_ONFAULT:
            return self._fail(res, "EINVAL", f"linux_mlock2: unknown flags {flags:#x}")
        if flags & MLOCK_ONFAULT:
            res.notes.append("MLOCK_ONFAULT: pages wired eagerly (a superset of on-fault)")
        return self._merge(res, self.mlock(addr, length))

    def munlock(self, addr: int, length: int) -> LinuxResult:
        res = LinuxResult()
        self._call(res, self.p.munlock, addr, length, name="munlock")
        if res.ok:
            res.ret = 0
        return res

    def mlockall(self, flags: int) -> LinuxResult:
        res = LinuxResult()
        bsd = 0
        if flags & MCL_CURRENT:
            bsd |= mman.MCL_CURRENT
        if flags & MCL_FUTURE:
            bsd |= mman.MCL_FUTURE
        if flags & MCL_ONFAULT:
            res.notes.append("MCL_ONFAULT: cannot honour: FreeBSD 7 wires eagerly")
        if flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) or not flags & (MCL_CURRENT
                                                                             | MCL_FUTURE):
            bsd = flags    # let the kernel reject it (EINVAL)
        self._call(res, self.p.mlockall, bsd, name="mlockall")
        if res.ok:
            res.ret = 0
        return res

    def munlockall(self) -> LinuxResult:
        res = LinuxResult()
        self._call(res, self.p.munlockall, name="munlockall")
        if res.ok:
            res.ret = 0
        return res

    def msync(self, addr: int, length: int, flags: int) -> LinuxResult:
        res = LinuxResult()
        if flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC):
            return self._fail(res, "EINVAL", f"linux_msync: unknown flags {flags:#x}")
        if (flags & (MS_SYNC | MS_ASYNC)) == (MS_SYNC | MS_ASYNC):
            return self._fail(res, "EINVAL", "linux_msync: MS_SYNC together with MS_ASYNC")
        if addr & PAGE_MASK:
            return self._fail(res, "EINVAL", "linux_msync: unaligned address")
        bsd = 0
        if flags & MS_ASYNC:
            bsd |= mman.MS_ASYNC
        if flags & MS_INVALIDATE:
            bsd |= mman.MS_INVALIDATE
        self._call(res, self.p.msync, addr, length, bsd, name="msync")
        if res.ok:
            res.ret = 0
        return res

    # -- brk and mremap ------------------------------------------------------------------------
    def brk(self, new: int) -> LinuxResult:
        """linux_brk: returns the new break on success, the old one otherwise (never an errno)."""
        res = LinuxResult()
        old = self.p.brk_current()
        daddr = self.p.brk_base()
        if new > daddr:
            self._call(res, self.p.obreak, new, name="obreak")
            if res.ok:
                res.ret = new
                return res
            res.why = f"obreak: {res.errno}"
            res.errno = None
        res.ret = old
        return res

    def mremap(self, addr: int, old_len: int, new_len: int, flags: int = 0,
               new_addr: int = 0) -> LinuxResult:
        res = LinuxResult()
        if flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE):
            return self._fail(res, "EINVAL", f"linux_mremap: flags {flags:#x} unsupported")
        if addr & PAGE_MASK:
            return self._fail(res, "EINVAL", "linux_mremap: unaligned address")
        new_len = (new_len + PAGE_MASK) & ~PAGE_MASK
        old_len = (old_len + PAGE_MASK) & ~PAGE_MASK
        if new_len > old_len:
            return self._fail(res, "ENOMEM", "linux_mremap: FreeBSD's Linux layer cannot grow "
                                             "or move a mapping")
        if new_len < old_len:
            self._call(res, self.p.munmap, addr + new_len, old_len - new_len, name="munmap")
        if res.ok:
            res.ret = addr
        return res

    @staticmethod
    def _merge(outer: LinuxResult, inner: LinuxResult) -> LinuxResult:
        inner.notes[:0] = outer.notes
        return inner


# -- native FreeBSD calls with the same interface (for kdump traces) ----------------------------
class NativeABI:
    """FreeBSD 7 calls with LinuxABI's interface and result type (errno names are FreeBSD's)."""

    def __init__(self, process):
        self.p = process

    def _do(self, fn, *args, name: str, ret=0) -> LinuxResult:
        res = LinuxResult(bsd={"call": name, "args": args})
        try:
            r = fn(*args)
        except OSError as e:
            res.errno = errno_name(e.errno)
            return res
        res.ret = r if ret is None else ret
        return res

    def mmap(self, addr, length, prot, flags, fd=-1, offset=0):
        return self._do(self.p.mmap, addr, length, prot, flags, fd, offset, name="mmap", ret=None)

    def munmap(self, addr, length):
        return self._do(self.p.munmap, addr, length, name="munmap")

    def mprotect(self, addr, length, prot):
        return self._do(self.p.mprotect, addr, length, prot, name="mprotect")

    def madvise(self, addr, length, behav):
        return self._do(self.p.madvise, addr, length, behav, name="madvise")

    def minherit(self, addr, length, inherit):
        return self._do(self.p.minherit, addr, length, inherit, name="minherit")

    def mincore(self, addr, length):
        res = self._do(self.p.mincore, addr, length, name="mincore", ret=None)
        if res.ok:
            res.bsd["vec"] = res.ret
            res.ret = 0
        return res

    def mlock(self, addr, length):
        return self._do(self.p.mlock, addr, length, name="mlock")

    def munlock(self, addr, length):
        return self._do(self.p.munlock, addr, length, name="munlock")

    def mlockall(self, how):
        return self._do(self.p.mlockall, how, name="mlockall")

    def munlockall(self):
        return self._do(self.p.munlockall, name="munlockall")

    def msync(self, addr, length, flags):
        return self._do(self.p.msync, addr, length, flags, name="msync")

    def obreak(self, nsize):
        return self._do(self.p.obreak, nsize, name="obreak")


def open_flags_to_host(access: int, creat: bool = False, trunc: bool = False) -> int:
    """Python os.O_* flags for the model's open() from an access mode (0/1/2 in both ABIs)."""
    f = {0: os.O_RDONLY, 1: os.O_WRONLY, 2: os.O_RDWR}.get(access & 3, os.O_RDONLY)
    if creat:
        f |= os.O_CREAT
    if trunc:
        f |= os.O_TRUNC
    return f
