"""sys/sysent.h, kern/init_sysent.c and syscalls.master: system-call tables.

A system call is declared once, as a `Sysent`: its number in the personality's table, its name, its
arguments with their C types, its body `(td, uap) -> errno` (result in `td.td_retval[0]`), the errnos
it can return and the spec rules it implements.  A `SysentTable` is one personality's table (the
native FreeBSD 7 table, the Linux x86-64 table); everything that calls into the kernel goes through
one: the typed `Process` methods, `bsdvm replay`, and the CPU runner, which dispatches by number.

Arguments are converted once, here, by C type, from one of two sources:

* a Python caller (`Process` methods, replay): `CType.from_python` -- an int that fits no C integer
  of the argument's type is refused (EINVAL, EBADF for descriptors) rather than truncated, so
  `close(2**32)` can never close descriptor 0; values in range keep C cast semantics (-1 is the
  all-ones word);
* a CPU's registers: `CType.from_register` -- the value is what the hardware hands the kernel: an
  `int` argument is the low 32 bits of the register, sign-extended, as the C ABI passes it.

Strings and buffers follow FreeBSD's uio(9): a path argument is copied in (`copyinstr`) from user
memory for a CPU, and taken as is from a Python caller (bytes, str or a PathLike); a buffer is a
`Uio` whose segment is user space (a CPU: copyin/copyout through the pmap, faulting as the hardware
would) or system space (a Python caller: the bytes are handed over directly).

Invariants: a table's numbers and names are unique; every argument of a body's uap is a declared
argument.  May call: vm.fault (copyin/copyout for user-space segments); nothing above kern.
"""
from __future__ import annotations

import enum
import errno
import operator
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..arch import Arch

MAXPATHLEN = 1024           # sys/param.h: the longest path copyinstr accepts, NUL included


class Thread(Protocol):
    """What a body needs of its thread (kern/proc.py's Thread is the implementation)."""

    td_retval: list[int]


SyscallBody = Callable[[Any, Any], int]


class Kind(enum.Enum):
    """How an argument crosses the user/kernel boundary."""

    INTEGER = "integer"     # passed by value in a register
    PATH = "path"           # const char *: a NUL-terminated string copied in
    UIO_IN = "uio_in"       # const void *buf with a length argument: user -> kernel
    UIO_OUT = "uio_out"     # void *buf with a length argument: kernel -> user


@dataclass(frozen=True)
class CType:
    """A C argument type of the syscall ABI.

    `bits` is the width, or 0 for the machine word (pointers, size_t, u_long on amd64) or -1 for a
    C long (arch-dependent); `signed` says whether the body sees it as signed; `errno` is what an
    out-of-range Python value gets.
    """

    name: str
    bits: int
    signed: bool
    errno: int = errno.EINVAL
    kind: Kind = Kind.INTEGER

    def width(self, arch: Arch) -> int:
        """The width in bits of this type on `arch`."""
        if self.bits == 0:
            return arch.word_bits
        if self.bits == -1:
            return arch.c_long_bits
        return self.bits

    def _c_value(self, x: int, width: int) -> int:
        x &= (1 << width) - 1
        if self.signed and x >> (width - 1):
            x -= 1 << width
        return x

    def from_python(self, value: Any, arch: Arch) -> int:
        """A Python caller's integer as this C type.

        Raises TypeError for a non-integer (as os functions do) and OSError(`self.errno`) for an
        integer no C integer of this width can hold, signed or unsigned.
        """
        x = operator.index(value)
        width = self.width(arch)
        if not -(1 << (width - 1)) <= x < (1 << width):
            raise OSError(self.errno, os.strerror(self.errno),
                          f"{x} does not fit a {width}-bit C {self.name}")
        return self._c_value(x, width)

    def from_register(self, value: int, arch: Arch) -> int:
        """A register's raw value as this C type (truncated and sign-extended as the ABI does)."""
        return self._c_value(value, self.width(arch))


# The C types of the FreeBSD 7 and Linux x86-64 syscall ABIs.
INT = CType("int", 32, True)
U_INT = CType("u_int", 32, False)
LONG = CType("long", -1, True)
U_LONG = CType("u_long", -1, False)
SIZE_T = CType("size_t", 0, False)
SSIZE_T = CType("ssize_t", 0, True)
OFF_T = CType("off_t", 64, True)
CADDR_T = CType("caddr_t", 0, False)        # any user pointer passed by value (void *, caddr_t)
FD = CType("int fd", 32, True, errno.EBADF)
UID_T = CType("uid_t", 32, False)
GID_T = CType("gid_t", 32, False)
MODE_T = CType("mode_t", 16, False)
PATH = CType("const char *", 0, False, kind=Kind.PATH)
BUF_IN = CType("const void *", 0, False, kind=Kind.UIO_IN)
BUF_OUT = CType("void *", 0, False, kind=Kind.UIO_OUT)


@dataclass(frozen=True)
class Arg:
    """One declared argument: its name in the uap, its C type, and for a buffer the name of the
    argument that carries its length."""

    name: str
    ctype: CType
    length_arg: str | None = None


# -- uio(9) --------------------------------------------------------------------------------------
class UioSeg(enum.Enum):
    """enum uio_seg: where a uio's buffer lives."""

    UIO_USERSPACE = 0
    UIO_SYSSPACE = 1


class UioRw(enum.Enum):
    """enum uio_rw: the direction of the transfer, from the kernel's point of view."""

    UIO_READ = 0            # kernel -> buffer (read(2))
    UIO_WRITE = 1           # buffer -> kernel (write(2))


@dataclass
class Uio:
    """struct uio with one iovec.

    A system-space uio carries its bytes in `sysbuf` (UIO_WRITE: the caller's data; UIO_READ: the
    bytes the kernel moved, collected for the caller).  A user-space uio names `base` in the address
    space of `vmmap` and moves bytes with copyin/copyout, so a bad buffer is EFAULT exactly where
    the kernel would find it.
    """

    segflg: UioSeg
    rw: UioRw
    resid: int
    base: int = 0
    vmmap: Any = None
    sysbuf: bytearray = field(default_factory=bytearray)
    offset: int = 0

    @classmethod
    def sys_in(cls, data: bytes | bytearray | memoryview) -> Uio:
        """A system-space uio holding a caller's data (for write-like calls)."""
        buf = bytearray(memoryview(data).cast("B"))
        return cls(UioSeg.UIO_SYSSPACE, UioRw.UIO_WRITE, len(buf), sysbuf=buf)

    @classmethod
    def sys_out(cls, n: int) -> Uio:
        """A system-space uio that collects up to n bytes (for read-like calls)."""
        return cls(UioSeg.UIO_SYSSPACE, UioRw.UIO_READ, n)

    @classmethod
    def user(cls, vmmap: Any, base: int, n: int, rw: UioRw) -> Uio:
        """A user-space uio over [base, base + n) of the address space `vmmap`."""
        return cls(UioSeg.UIO_USERSPACE, rw, n, base=base, vmmap=vmmap)

    def uiomove_out(self, data: bytes | bytearray | memoryview) -> int:
        """uiomove for a UIO_READ uio: move up to `resid` bytes of data to the buffer.

        Returns 0 or EFAULT (a user buffer the kernel cannot write).
        """
        mv = memoryview(data)[:self.resid]
        if self.segflg is UioSeg.UIO_SYSSPACE:
            self.sysbuf += mv
        else:
            from ..vm.fault import UserFault, copyout
            try:
                copyout(self.vmmap, self.base + self.offset, mv)
            except UserFault:
                return errno.EFAULT
        self.offset += len(mv)
        self.resid -= len(mv)
        return 0

    def uiomove_in(self, n: int | None = None) -> tuple[int, bytes]:
        """uiomove for a UIO_WRITE uio: take up to n (default all remaining) bytes from the buffer.

        Returns (0, bytes) or (EFAULT, b"").
        """
        n = self.resid if n is None else min(n, self.resid)
        if self.segflg is UioSeg.UIO_SYSSPACE:
            data = bytes(self.sysbuf[self.offset:self.offset + n])
        else:
            from ..vm.fault import UserFault, copyin
            try:
                data = copyin(self.vmmap, self.base + self.offset, n)
            except UserFault:
                return errno.EFAULT, b""
        self.offset += n
        self.resid -= n
        return 0, data


def copyinstr(vmmap: Any, addr: int, maxlen: int = MAXPATHLEN) -> tuple[int, bytes]:
    """copyinstr(9): the NUL-terminated string at user address addr, without its NUL.

    Returns (0, bytes), (EFAULT, b"") for an unreadable byte, or (ENAMETOOLONG, b"") when no NUL
    comes within maxlen bytes.
    """
    from ..vm.fault import UserFault, copyin
    from ..vm.param import PAGE_MASK, PAGE_SIZE
    out = bytearray()
    pos = addr
    while len(out) < maxlen:
        # read to the end of the page at most, so a string ending just before a hole is fine
        chunk = min(PAGE_SIZE - (pos & PAGE_MASK), maxlen - len(out))
        try:
            data = copyin(vmmap, pos, chunk)
        except UserFault:
            return errno.EFAULT, b""
        nul = data.find(b"\0")
        if nul >= 0:
            out += data[:nul]
            return 0, bytes(out)
        out += data
        pos += chunk
    return errno.ENAMETOOLONG, b""


def path_from_python(value: Any) -> tuple[int, bytes]:
    """A Python caller's path (str, bytes or PathLike) as the bytes the kernel sees.

    Returns (0, bytes), (EINVAL, b"") for an embedded NUL (as a C string cannot hold one) or
    (ENAMETOOLONG, b"") for a path of MAXPATHLEN bytes or more.  Raises TypeError for a non-path.
    """
    raw = os.fsencode(value)
    if b"\0" in raw:
        return errno.EINVAL, b""
    if len(raw) >= MAXPATHLEN:
        return errno.ENAMETOOLONG, b""
    return 0, raw


# -- the declaration ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sysent:
    """One system call, declared once.

    `body(td, uap)` returns an errno (0: success, the result in `td.td_retval[0]`); `uap` has one
    attribute per `args` entry, converted by its C type (a PATH is bytes, a buffer a `Uio`).
    `errnos` lists every errno the body can return; `rules` the spec rule ids it implements;
    `doc` says what the call does, for the generated documentation.
    """

    number: int
    name: str
    args: tuple[Arg, ...]
    body: SyscallBody
    errnos: tuple[int, ...] = ()
    rules: tuple[str, ...] = ()
    doc: str = ""

    def uap_from_python(self, arch: Arch, values: dict[str, Any]) -> SimpleNamespace:
        """Build the uap from a Python caller's values (by argument name).

        Integers are converted by `CType.from_python` (raising OSError/TypeError); paths by
        `path_from_python` (raising OSError); buffers become system-space uios: a UIO_IN buffer
        from the caller's bytes-like value, a UIO_OUT buffer sized by its length argument.
        """
        uap = SimpleNamespace()
        for a in self.args:
            kind = a.ctype.kind
            v = values[a.name]
            if kind is Kind.INTEGER:
                setattr(uap, a.name, a.ctype.from_python(v, arch))
            elif kind is Kind.PATH:
                err, raw = path_from_python(v)
                if err:
                    raise OSError(err, os.strerror(err), self.name)
                setattr(uap, a.name, raw)
            elif kind is Kind.UIO_IN:
                setattr(uap, a.name, Uio.sys_in(v))
            else:
                setattr(uap, a.name, None)      # sized below, once its length is converted
        for a in self.args:
            if a.ctype.kind is Kind.UIO_OUT:
                n = getattr(uap, a.length_arg) if a.length_arg else 0
                setattr(uap, a.name, Uio.sys_out(n))
        return uap

    def uap_from_registers(self, arch: Arch, vmmap: Any, regs: Iterable[int]) -> tuple[int, Any]:
        """Build the uap from a CPU's argument registers, in declaration order.

        Returns (0, uap) or (errno, None) when a path cannot be copied in (EFAULT, ENAMETOOLONG).
        Buffers become user-space uios over the process's map.
        """
        uap = SimpleNamespace()
        raw = dict(zip((a.name for a in self.args), regs, strict=False))   # a CPU passes 6 registers
        for a in self.args:
            kind = a.ctype.kind
            v = raw.get(a.name, 0)
            if kind is Kind.INTEGER:
                setattr(uap, a.name, a.ctype.from_register(v, arch))
            elif kind is Kind.PATH:
                err, s = copyinstr(vmmap, v & arch.word_mask)
                if err:
                    return err, None
                setattr(uap, a.name, s)
            else:
                n = raw.get(a.length_arg, 0) if a.length_arg else 0
                n &= arch.word_mask
                rw = UioRw.UIO_WRITE if kind is Kind.UIO_IN else UioRw.UIO_READ
                setattr(uap, a.name, Uio.user(vmmap, v & arch.word_mask, n, rw))
        return 0, uap


class SysentTable:
    """One personality's system-call table (FreeBSD's `struct sysentvec`'s sv_table).

    Lookup by number (the CPU runner) or by name (Python callers, replay).  `nosys` names are the
    calls the personality knows but the model does not serve: dispatching one gives ENOSYS and is
    visible to the caller by name.
    """

    def __init__(self, name: str, entries: Iterable[Sysent] = (), nosys: dict[int, str] | None = None):
        self.name = name
        self.by_number: dict[int, Sysent] = {}
        self.by_name: dict[str, Sysent] = {}
        self.nosys: dict[int, str] = dict(nosys or {})
        for e in entries:
            self.register(e)

    def register(self, entry: Sysent) -> None:
        """Add one declaration; a duplicate number or name is a programming error (ValueError)."""
        if entry.number in self.by_number or entry.name in self.by_name:
            raise ValueError(f"{self.name}: duplicate syscall {entry.number} {entry.name}")
        self.by_number[entry.number] = entry
        self.by_name[entry.name] = entry

    def __getitem__(self, key: int | str) -> Sysent:
        return self.by_number[key] if isinstance(key, int) else self.by_name[key]

    def __contains__(self, key: object) -> bool:
        return key in self.by_number or key in self.by_name

    def __iter__(self):
        return iter(sorted(self.by_number.values(), key=lambda e: e.number))

    def __len__(self) -> int:
        return len(self.by_number)

    def name_of(self, number: int) -> str:
        """The call's name for a number, known or not (for statistics: "nosys_<n>" if unknown)."""
        if number in self.by_number:
            return self.by_number[number].name
        return self.nosys.get(number, f"nosys_{number}")


def dispatch(td: Any, entry: Sysent, uap: Any) -> int:
    """Run one system call body: clear the return registers, call it, return its errno."""
    td.td_retval[0] = 0
    td.td_retval[1] = 0
    return entry.body(td, uap)
