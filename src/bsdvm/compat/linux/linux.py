"""The Linux ABI's definitions (FreeBSD's sys/amd64/linux/linux.h and linux_errno.c): Linux constant
values, the FreeBSD and Linux errno numberings with linux_errtbl, and the flag formatting replay prints.

The Linux memory calls are translated the way FreeBSD's Linux emulation does it
(sys/compat/linux/linux_mmap.c and linux_misc.c); the bodies are in linux_mmap.py, entries of the
Linux x86-64 system-call table (sysent.py).  Each reports, through the call's emulation record, one
note per Linux bit or request the layer could not honour, ignored, or emulated, and `why` when the
layer itself, not the FreeBSD kernel below it, produced the error.  Nothing is dropped silently.

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
from typing import overload

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
def errno_name(value: int | str) -> str: ...
def errno_name(value: int | str | None) -> str | None:
    """A canonical errno name for a host errno number (what the model raises) or a name."""
    if value is None:
        return None
    if isinstance(value, str):
        return _ALIASES.get(value, value)
    name = _host_errno.errorcode.get(value, f"E#{value}")
    return _ALIASES.get(name, name)


@overload
def bsd_to_linux_errno(err: int) -> int: ...
@overload
def bsd_to_linux_errno(err: str) -> str: ...
def bsd_to_linux_errno(err: int | str) -> int | str:
    """linux_errtbl (FreeBSD's sv_errtbl for Linux): a FreeBSD errno as the Linux program sees it.

    Given a name (what traces carry) it returns the Linux name; given the errno number a kernel body
    returned (the model's errnos are Python `errno` values naming FreeBSD errors) it returns the
    Linux errno number, which is what the CPU runner puts in rax (negated) at the boundary.
    """
    if isinstance(err, int):
        linux = _ERRTBL.get(err)
        if linux is None:
            name = errno_name(err) or ""
            linux = _LINUX_BY_NAME.get(_BSD_ONLY_TO_LINUX.get(name, name), err)
            _ERRTBL[err] = linux
        return linux
    name = errno_name(err) or err
    return _BSD_ONLY_TO_LINUX.get(name, name)


# FreeBSD errno (as a model body returns it) -> Linux errno number, filled on first use
_ERRTBL: dict[int, int] = {}


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
