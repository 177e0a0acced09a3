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
import sys
from collections.abc import Callable, Iterable, Iterator
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
    STRUCT_OUT = "struct_out"   # struct X *: a structure the kernel fills (copyout)


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
    # STRUCT_OUT only: the structure's bytes in user memory for a value (for a CPU caller)
    encode: Callable[[Any, Arch], bytes] | None = None

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

    def identity_range(self, arch: Arch) -> tuple[int, int]:
        """The ints (lo, hi inclusive) that are their own C value in this type on `arch`."""
        width = self.width(arch)
        if self.signed:
            return -(1 << (width - 1)), (1 << (width - 1)) - 1
        return 0, (1 << width) - 1

    def python_converter(self, arch: Arch) -> Callable[[Any], int]:
        """`from_python` for one arch, with the width's bounds computed once (the per-call path)."""
        width = self.width(arch)
        lo, hi = -(1 << (width - 1)), 1 << width
        mask, sign, signed, err, name = hi - 1, 1 << (width - 1), self.signed, self.errno, self.name
        index = operator.index

        def convert(value: Any) -> int:
            x = index(value)
            if not lo <= x < hi:
                raise OSError(err, os.strerror(err), f"{x} does not fit a {width}-bit C {name}")
            x &= mask
            if signed and x & sign:
                x -= hi
            return x
        return convert


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
RLIM_T = CType("rlim_t", 64, True)
PATH = CType("const char *", 0, False, kind=Kind.PATH)
BUF_IN = CType("const void *", 0, False, kind=Kind.UIO_IN)
BUF_OUT = CType("void *", 0, False, kind=Kind.UIO_OUT)


class _NoDefault:
    """The marker for a required argument (a Python caller must pass it)."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _NoDefault()


@dataclass(frozen=True)
class Arg:
    """One declared argument: its name in the uap, its C type, and for a buffer the name of the
    argument that carries its length.

    For Python callers: `py` is the parameter's name in the `Process` method (default: `name`),
    `default` its default value, `doc` what it means.  A UIO_OUT buffer and a STRUCT_OUT pointer
    are not parameters (the method returns their contents), nor is the length of a UIO_IN buffer
    (it is the length of the bytes passed).
    """

    name: str
    ctype: CType
    length_arg: str | None = None
    py: str | None = None
    default: Any = REQUIRED
    doc: str = ""
    # INTEGER only: maps a Python caller's (already C-converted) value to the kernel's, where the
    # public API takes the host's constants (open's os.O_* flags) and the kernel FreeBSD's
    from_host: Callable[[int], int] | None = None

    @property
    def py_name(self) -> str:
        """The parameter's name for a Python caller."""
        return self.py or self.name


# -- uio(9) --------------------------------------------------------------------------------------
class UioSeg(enum.Enum):
    """enum uio_seg: where a uio's buffer lives."""

    UIO_USERSPACE = 0
    UIO_SYSSPACE = 1


class UioRw(enum.Enum):
    """enum uio_rw: the direction of the transfer, from the kernel's point of view."""

    UIO_READ = 0            # kernel -> buffer (read(2))
    UIO_WRITE = 1           # buffer -> kernel (write(2))


@dataclass(slots=True)
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
    sysbuf: bytearray | bytes = b""
    offset: int = 0

    @classmethod
    def sys_in(cls, data: bytes | bytearray | memoryview) -> Uio:
        """A system-space uio holding a caller's data (for write-like calls); TypeError for a
        value that is not bytes-like (a str, an int), as os.write raises."""
        buf = bytes(memoryview(data))       # one copy: later changes to the caller's buffer don't count
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
        n = len(data)
        if n > self.resid:
            n = self.resid
            data = data[:n]
        if self.segflg is UioSeg.UIO_SYSSPACE:
            if not self.sysbuf and type(data) is bytes:
                self.sysbuf = data          # the first move of bytes is kept as is: no copy
            else:
                if not isinstance(self.sysbuf, bytearray):
                    self.sysbuf = bytearray(self.sysbuf)
                self.sysbuf += memoryview(data)[:n]
        else:
            from ..vm.fault import UserFault, copyout
            try:
                copyout(self.vmmap, self.base + self.offset, memoryview(data)[:n])
            except UserFault:
                return errno.EFAULT
        self.offset += n
        self.resid -= n
        return 0

    def uiomove_in(self, n: int | None = None) -> tuple[int, bytes]:
        """uiomove for a UIO_WRITE uio: take up to n (default all remaining) bytes from the buffer.

        Returns (0, bytes) or (EFAULT, b"").
        """
        n = self.resid if n is None else min(n, self.resid)
        if self.segflg is UioSeg.UIO_SYSSPACE:
            if self.offset == 0 and n == len(self.sysbuf):
                data = bytes(self.sysbuf)       # no copy for bytes: the whole buffer at once
            else:
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


class StructOut:
    """A STRUCT_OUT argument: where a body copies out the structure it fills (`copyout(9)` of a
    struct stat, ...).  A Python caller's is system space: the value is kept for the caller as is.
    A CPU's names a user address: the value is encoded by the argument's C type and copied out."""

    __slots__ = ("value", "vmmap", "addr", "ctype", "arch")

    def __init__(self, vmmap: Any = None, addr: int = 0, ctype: CType | None = None,
                 arch: Arch | None = None) -> None:
        self.value: Any = None
        self.vmmap = vmmap
        self.addr = addr
        self.ctype = ctype
        self.arch = arch

    def copyout(self, value: Any) -> int:
        """Store `value` for the caller: 0, or EFAULT when a user address cannot be written."""
        if self.vmmap is None:
            self.value = value
            return 0
        assert self.ctype is not None and self.ctype.encode is not None and self.arch is not None
        from ..vm.fault import UserFault, copyout
        try:
            copyout(self.vmmap, self.addr, self.ctype.encode(value, self.arch))
        except UserFault:
            return errno.EFAULT
        return 0


class SysStructOut:
    """A Python caller's STRUCT_OUT argument: copyout keeps the value for the caller as is (the
    system-space `StructOut`, without the user-space fields, as it is made on every call)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None

    def copyout(self, value: Any) -> int:
        """Store `value` for the caller: always 0."""
        self.value = value
        return 0


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


def _python_path(call: str) -> Callable[[Any], bytes]:
    """path_from_python for one call's uap builder: the bytes, or OSError naming the call."""
    def convert(value: Any) -> bytes:
        err, raw = path_from_python(value)
        if err:
            raise OSError(err, os.strerror(err), call)
        return raw
    return convert


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
class Result(enum.Enum):
    """What a Python caller gets back from a successful call."""

    NONE = "none"               # nothing (the C call returns 0)
    RETVAL = "retval"           # td_retval[0], an int
    RETVAL_PAIR = "pair"        # (td_retval[0], td_retval[1]): pipe(2)'s two descriptors
    UIO_OUT = "uio_out"         # the bytes the kernel moved into the UIO_OUT buffer
    STRUCT_OUT = "struct_out"   # the structure copied out to the STRUCT_OUT argument


_PY_TYPES = {Result.NONE: "None", Result.RETVAL: "int", Result.RETVAL_PAIR: "tuple[int, int]",
             Result.UIO_OUT: "bytes"}


@dataclass(frozen=True)
class Sysent:
    """One system call, declared once.

    `body(td, uap)` returns an errno (0: success, the result in `td.td_retval[0]`); `uap` has one
    attribute per `args` entry, converted by its C type (a PATH is bytes, a buffer a `Uio`, a
    STRUCT_OUT a `StructOut`).  `errnos` lists every errno the body can return; `raises` says when
    each is returned, as (errno, when) pairs (errnos defaults to raises' errnos); `rules` the spec
    rule ids it implements; `doc` says what the call does, for the generated documentation.
    `method` is the name of the `Process` method (default: `name`; "" for none), `returns` what that
    method returns, and `returns_doc` describes it (the STRUCT_OUT type's Python name goes in
    `returns_type`).
    """

    number: int
    name: str
    args: tuple[Arg, ...]
    body: SyscallBody
    errnos: tuple[int, ...] = ()
    rules: tuple[str, ...] = ()
    doc: str = ""
    raises: tuple[tuple[int, str], ...] = ()
    method: str | None = None
    returns: Result = Result.NONE
    returns_doc: str = ""
    returns_type: str = ""
    # builders: id(arch) -> the compiled uap builder for Python callers (see python_builder)
    builders: dict[int, Callable[..., SimpleNamespace]] = field(
        default_factory=dict, compare=False, repr=False)
    _archs: list[Any] = field(default_factory=list, compare=False, repr=False)
    # python_result(td, uap): what the `Process` method returns once the body succeeded (made from
    # `returns` when declared, a plain function so the per-call path is one call)
    python_result: Callable[[Any, Any], Any] = field(init=False, compare=False, repr=False)
    # result_arg: the uap attribute a UIO_OUT or STRUCT_OUT result is read from ("" otherwise)
    result_arg: str = field(init=False, compare=False, repr=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "python_result", self._make_result())
        want = {Result.UIO_OUT: Kind.UIO_OUT, Result.STRUCT_OUT: Kind.STRUCT_OUT}.get(self.returns)
        if want is not None:
            object.__setattr__(self, "result_arg",
                               next(a.name for a in self.args if a.ctype.kind is want))
        if not self.errnos and self.raises:
            object.__setattr__(self, "errnos", tuple(dict.fromkeys(e for e, _ in self.raises)))
        names = {a.name for a in self.args}
        for a in self.args:
            if a.length_arg is not None and a.length_arg not in names:
                raise ValueError(f"{self.name}: {a.name}'s length argument {a.length_arg} is not declared")

    @property
    def method_name(self) -> str:
        """The `Process` method generated for this call ("" when there is none)."""
        return self.name if self.method is None else self.method

    def python_args(self) -> tuple[Arg, ...]:
        """The arguments a Python caller passes, in order (the C order without the UIO_OUT buffers,
        the STRUCT_OUT pointers and the lengths of UIO_IN buffers)."""
        implied = {a.length_arg for a in self.args if a.ctype.kind is Kind.UIO_IN}
        return tuple(a for a in self.args
                     if a.ctype.kind not in (Kind.UIO_OUT, Kind.STRUCT_OUT) and a.name not in implied)

    def python_return_type(self) -> str:
        """The Python annotation of what the method returns."""
        return self.returns_type or _PY_TYPES.get(self.returns, "object")

    def python_builder(self, arch: Arch) -> Callable[..., SimpleNamespace]:
        """The function that builds this call's uap from a Python caller's values on `arch`,
        passed positionally in `python_args` order (see `uap_from_args`), compiled once per
        profile: straight-line code calling each argument's converter in order, so the per-call
        cost is the conversions themselves.

        Cached in `builders` by the profile's identity (hashing a frozen Arch, 20 fields, would
        cost more than converting the arguments)."""
        cached = self.builders.get(id(arch))
        if cached is not None:
            return cached
        env: dict[str, Any] = {"_NS": SimpleNamespace, "_path": _python_path(self.name), "_Uio": Uio,
                               "_SYS": UioSeg.UIO_SYSSPACE, "_RD": UioRw.UIO_READ,
                               "_WR": UioRw.UIO_WRITE, "_mv": memoryview, "_Out": SysStructOut}
        pargs = self.python_args()
        lines = [f"def build({', '.join(f'v{i}' for i in range(len(pargs)))}):"]
        fields: dict[str, str] = {}
        for i, a in enumerate(pargs):
            kind = a.ctype.kind
            if kind is Kind.INTEGER:
                # an int already in the C type's own range is its own C value: no call for it
                lo, hi = a.ctype.identity_range(arch)
                env[f"c{i}"] = a.ctype.python_converter(arch)
                lines.append(f"    a{i} = v{i} if type(v{i}) is int and {lo} <= v{i} <= {hi} "
                             f"else c{i}(v{i})")
                if a.from_host is not None:
                    env[f"h{i}"] = a.from_host
                    lines.append(f"    a{i} = h{i}(a{i})")
            elif kind is Kind.PATH:
                lines.append(f"    a{i} = _path(v{i})")
            else:                                               # UIO_IN: the caller's bytes
                # Uio.sys_in, inline: bytes are immutable, so they are kept; anything else is copied
                lines.append(f"    b{i} = v{i} if type(v{i}) is bytes else bytes(_mv(v{i}))")
                lines.append(f"    a{i} = _Uio(_SYS, _WR, len(b{i}), sysbuf=b{i})")
            fields[a.name] = f"a{i}"
        for j, a in enumerate(self.args):                       # what the caller does not pass
            kind = a.ctype.kind
            if kind is Kind.UIO_IN and a.length_arg:
                length = self._arg(a.length_arg).ctype
                env[f"n{j}"] = length.python_converter(arch)
                if length.identity_range(arch)[1] >= sys.maxsize:   # every bytes object's size fits
                    fields[a.length_arg] = f"{fields[a.name]}.resid"
                else:
                    fields[a.length_arg] = f"n{j}({fields[a.name]}.resid)"
        for a in self.args:
            kind = a.ctype.kind
            if kind is Kind.UIO_OUT:
                fields[a.name] = f"_Uio(_SYS, _RD, {fields[a.length_arg] if a.length_arg else 0})"
            elif kind is Kind.STRUCT_OUT:
                fields[a.name] = "_Out()"
        order = ", ".join(f"{a.name}={fields[a.name]}" for a in self.args)
        lines.append(f"    return _NS({order})")
        exec(compile("\n".join(lines), f"<uap builder {self.name}>", "exec"), env)   # noqa: S102
        # a call without arguments builds an empty uap: the class itself, no Python frame
        build: Callable[..., SimpleNamespace] = env["build"] if pargs else SimpleNamespace
        self.builders[id(arch)] = build
        self._archs.append(arch)        # keeps the profile alive, so its id is never reused
        return build

    def _arg(self, name: str) -> Arg:
        for a in self.args:
            if a.name == name:
                return a
        raise KeyError(name)

    def uap_from_args(self, arch: Arch, values: tuple[Any, ...]) -> SimpleNamespace:
        """Build the uap from a Python caller's positional values (`python_args` order).

        Converted left to right, so the first value of a wrong type (TypeError) or out of its C
        type's range (OSError EINVAL, EBADF for a descriptor) decides; paths by `path_from_python`
        (OSError); a UIO_IN buffer from a bytes-like value (TypeError otherwise), its length
        argument from the buffer's size; a UIO_OUT buffer sized by its converted length argument;
        a STRUCT_OUT argument is a system-space `StructOut`.
        """
        return self.python_builder(arch)(*values)

    def uap_from_python(self, arch: Arch, values: dict[str, Any]) -> SimpleNamespace:
        """Build the uap from a Python caller's values by Python parameter name (see
        `uap_from_args`; missing values take their declared defaults)."""
        args = []
        for a in self.python_args():
            v = values.get(a.py_name, values.get(a.name, a.default))
            if v is REQUIRED:
                raise TypeError(f"{self.name}() missing argument {a.py_name!r}")
            args.append(v)
        return self.uap_from_args(arch, tuple(args))

    def _make_result(self) -> Callable[[Any, Any], Any]:
        r = self.returns
        if r is Result.NONE:
            return lambda td, uap: None
        if r is Result.RETVAL:
            return lambda td, uap: td.td_retval[0]
        if r is Result.RETVAL_PAIR:
            return lambda td, uap: (td.td_retval[0], td.td_retval[1])
        want = Kind.UIO_OUT if r is Result.UIO_OUT else Kind.STRUCT_OUT
        names = [a.name for a in self.args if a.ctype.kind is want]
        if not names:
            raise ValueError(f"{self.name}: returns {r} but declares no {want} argument")
        name = names[0]
        if r is Result.UIO_OUT:
            return lambda td, uap: bytes(getattr(uap, name).sysbuf)
        return lambda td, uap: getattr(uap, name).value

    def uap_from_registers(self, arch: Arch, vmmap: Any, regs: Iterable[int]) -> tuple[int, Any]:
        """Build the uap from a CPU's argument registers, in declaration order.

        Returns (0, uap) or (errno, None) when a path cannot be copied in (EFAULT, ENAMETOOLONG).
        Buffers become user-space uios over the process's map, STRUCT_OUT pointers user-space
        `StructOut`s.
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
            elif kind is Kind.STRUCT_OUT:
                setattr(uap, a.name, StructOut(vmmap, v & arch.word_mask, a.ctype, arch))
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

    def __init__(self, name: str, entries: Iterable[Sysent] = (),
                 nosys: dict[int, str] | None = None) -> None:
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

    def __iter__(self) -> Iterator[Sysent]:
        return iter(sorted(self.by_number.values(), key=lambda e: e.number))

    def __len__(self) -> int:
        return len(self.by_number)

    def name_of(self, number: int) -> str:
        """The call's name for a number, known or not (for statistics: "nosys_<n>" if unknown)."""
        if number in self.by_number:
            return self.by_number[number].name
        return self.nosys.get(number, f"nosys_{number}")


_BUILDERS: dict[tuple[int, int], dict[int, Callable[..., SimpleNamespace]]] = {}


def python_builders(table: SysentTable, arch: Arch) -> dict[int, Callable[..., SimpleNamespace]]:
    """Every entry's `python_builder` for `arch`, by number: what a Python-facing object (a
    `Process`) looks its calls up in, once per call, without hashing anything but an int."""
    key = (id(table), id(arch))
    builders = _BUILDERS.get(key)
    if builders is None:
        builders = {e.number: e.python_builder(arch) for e in table}
        _BUILDERS[key] = builders
    return builders


def dispatch(td: Any, entry: Sysent, uap: Any) -> int:
    """Run one system call body: clear the return registers, call it, return its errno."""
    td.td_retval[0] = 0
    td.td_retval[1] = 0
    return entry.body(td, uap)
