"""Command-line argument types and the options every `bsdvm` command shares.

Invariant: a bad option or argument value ends in click's usage error -- exit status 2, one line naming
the option and saying why -- never in a Python traceback.  Every check is a click ParamType (sizes,
architectures, uids, sysctl NAME=VALUE settings, comma-separated view lists, output files), so a
command gets it by declaring the option with the type; `kernel_options` adds the options that boot a
kernel (--arch, --physmem, --swap, --root, --sysctl, --json) and `boot_kernel` boots it, turning what
only the kernel can check (an unknown sysctl, a value its handler refuses) into the same usage error.
Presentation only: calls the public Kernel API and bsdvm.arch's size parser.
"""
from __future__ import annotations

import errno
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from . import Kernel
from .arch import PROFILES, parse_size
from .kernel import MIN_PHYSMEM

UID_MAX = 2 ** 32 - 2          # uid_t is 32 bits; (uid_t)-1 means "no change" to setuid and friends

F = TypeVar("F", bound=Callable[..., Any])


class SizeType(click.ParamType):
    """A size in bytes: an integer, or a number with K, M, G or T (binary units), e.g. 64M, 1.5G.

    Args:
        minimum: the smallest size accepted, in bytes.
    """

    name = "size"

    def __init__(self, minimum: int = 0) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            n = value
        else:
            try:
                n = parse_size(str(value))
            except (ValueError, TypeError):
                self.fail(f"{value!r} is not a size (a number of bytes, or with K, M, G or T: "
                          "64M, 1.5G)", param, ctx)
        if n < self.minimum:
            self.fail(f"{value!r} is below the minimum of {_human(self.minimum)}", param, ctx)
        return n


def _human(n: int) -> str:
    for unit, size in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size}{unit}"
    return f"{n} bytes"


class UidType(click.ParamType):
    """A user id: an integer from 0 to UID_MAX (uid_t)."""

    name = "uid"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            uid = int(str(value), 10) if not isinstance(value, int) else value
        except ValueError:
            self.fail(f"{value!r} is not a user id (an integer from 0 to {UID_MAX})", param, ctx)
        if not 0 <= uid <= UID_MAX:
            self.fail(f"{value} is not a user id (an integer from 0 to {UID_MAX})", param, ctx)
        return uid


def _sysctl_int(text: str) -> int:
    return int(text.strip(), 0)


def _complete_sysctl_names(incomplete: str, suffix: str = "") -> list[Any]:
    """Shell completion of sysctl names: the nodes of a minimal kernel (the tree's names do not
    depend on the memory sizes)."""
    from click.shell_completion import CompletionItem
    with Kernel(physmem=MIN_PHYSMEM, swap=0, pagedaemon=False) as k:
        names = k.sysctl_tree.names()
    return [CompletionItem(n + suffix) for n in names if n.startswith(incomplete)]


class SysctlSetting(click.ParamType):
    """A sysctl setting `NAME=VALUE`; the value is an integer (decimal, or 0x.. hexadecimal).
    Converts to (name, value).  Whether the kernel has the node and accepts the value is checked by
    `boot_kernel` (or the command) against the booted kernel."""

    name = "name=value"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, int]:
        if isinstance(value, tuple):
            return value
        name, sep, val = str(value).partition("=")
        name = name.strip()
        if not sep or not name:
            self.fail(f"{value!r} is not NAME=VALUE (e.g. vm.max_proc_mmap=100)", param, ctx)
        try:
            return name, _sysctl_int(val)
        except ValueError:
            self.fail(f"{name}: {val!r} is not an integer (sysctl values are integers)", param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter,
                       incomplete: str) -> list[Any]:
        return _complete_sysctl_names(incomplete, "=")


class SysctlQuery(click.ParamType):
    """A `sysctl` command argument: `NAME` (a node or a subtree) or `NAME=VALUE`.  Converts to
    (name, value or None)."""

    name = "name[=value]"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, int | None]:
        if isinstance(value, tuple):
            return value
        if "=" in str(value):
            return SysctlSetting().convert(value, param, ctx)
        name = str(value).strip()
        if not name:
            self.fail("an empty sysctl name", param, ctx)
        return name, None

    def shell_complete(self, ctx: click.Context, param: click.Parameter,
                       incomplete: str) -> list[Any]:
        return _complete_sysctl_names(incomplete)


class ViewList(click.ParamType):
    """A comma-separated list of view names, each one of `choices`; converts to a tuple in the
    order given, without repeats."""

    name = "views"

    def __init__(self, choices: Sequence[str]) -> None:
        self.choices = tuple(choices)

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        out: list[str] = []
        for part in str(value).split(","):
            v = part.strip()
            if v not in self.choices:
                self.fail(f"{v!r} is not a view; choose from {', '.join(self.choices)} "
                          "(comma-separated)", param, ctx)
            if v not in out:
                out.append(v)
        return tuple(out)

    def shell_complete(self, ctx: click.Context, param: click.Parameter,
                       incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem
        head, _, last = incomplete.rpartition(",")
        prefix = head + "," if head else ""
        return [CompletionItem(prefix + c) for c in self.choices if c.startswith(last)]


class OutputFile(click.Path):
    """A file the command will write: not a directory, in a directory that exists and is writable.
    Checked before any work is done, so a long replay does not fail at its end."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, writable=True)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        parent = os.path.dirname(os.path.abspath(os.fspath(path))) or "."
        if not os.path.isdir(parent):
            self.fail(f"{os.fspath(path)!r}: directory {parent!r} does not exist", param, ctx)
        if not os.access(parent, os.W_OK):
            self.fail(f"{os.fspath(path)!r}: directory {parent!r} is not writable", param, ctx)
        return path


ARCH = click.Choice(sorted(PROFILES))
PHYSMEM = SizeType(minimum=MIN_PHYSMEM)
SWAP = SizeType()
UID = UidType()
SYSCTL_SETTING = SysctlSetting()
ROOT_DIR = click.Path(exists=True, file_okay=False, writable=True)
INPUT_FILE = click.Path(exists=True, dir_okay=False, readable=True)

# the --show views: the model's state as FreeBSD's tools print it
SHOW_VIEWS = ("procstat", "vmstat", "sysctl")
SHOW_HELP = (
    "after the run, print these views, comma-separated, as FreeBSD's tools do: "
    "procstat = `procstat -v` of every process: PID, START and END of each map entry, PRT its "
    "protection (r/w/x), RES pages resident in its object chain, PRES of those the private ones "
    "(the top object's), REF the object's reference count, SHD its shadow count, FL flags "
    "(C copy-on-write, N needs copy, W wired, D grows down), TP object type (df default, sw swap, "
    "vn vnode, dv device, ph phys, -- none), PATH the mapped file; "
    "vmstat = `vmstat -s`: each counter the model keeps, as 'value description' lines; "
    "sysctl = `sysctl -a`: every node as 'name: value'")


def kernel_options(f: F) -> F:
    """Add the options that boot a kernel to a command: --arch, --physmem, --swap, --root,
    --sysctl (repeatable) and --json.  The command receives arch, physmem, swap, root, sysctls
    and as_json, and boots with `boot_kernel`."""
    f = click.option("--json", "as_json", is_flag=True, help="machine-readable output")(f)
    f = click.option("--sysctl", "sysctls", type=SYSCTL_SETTING, multiple=True,
                     metavar="NAME=VALUE",
                     help="set a sysctl before anything runs (repeatable), e.g. "
                          "--sysctl vm.max_proc_mmap=100")(f)
    f = click.option("--root", type=ROOT_DIR, default=None,
                     help="existing host directory that is the model's / (default: a fresh "
                          "temporary one)")(f)
    f = click.option("--swap", type=SWAP, default="512M", show_default=True,
                     help="swap size (e.g. 512M, 0 for none)")(f)
    f = click.option("--physmem", type=PHYSMEM, default="256M", show_default=True,
                     help=f"physical memory (at least {_human(MIN_PHYSMEM)})")(f)
    f = click.option("--arch", type=ARCH, default="amd64", show_default=True,
                     help="machine profile")(f)
    return f


def show_option(f: F) -> F:
    """Add --show VIEW[,VIEW...] (SHOW_VIEWS) to a command."""
    return click.option("--show", "show", type=ViewList(SHOW_VIEWS), default=None,
                        metavar="VIEW[,VIEW]", help=SHOW_HELP)(f)


def apply_sysctl(k: Kernel, name: str, value: int, param_hint: str) -> int:
    """Set sysctl `name` to `value` on `k`, as `sysctl name=value` does.

    Args:
        k: the kernel.
        name: the node.
        value: the new value.
        param_hint: the option or argument to name in the usage error.

    Returns:
        the old value.

    Raises:
        click.BadParameter: the node does not exist, is read-only, or its handler refused the value
            (the errno is named).
    """
    if name not in k.sysctl_tree:
        raise click.BadParameter(f"unknown oid {name!r}", param_hint=param_hint)
    if not k.sysctl_tree.writable(name):
        raise click.BadParameter(f"oid {name!r} is read only", param_hint=param_hint)
    old = k.sysctl(name)
    try:
        k.sysctl(name, value)
    except OSError as e:
        code = errno.errorcode.get(e.errno or 0, str(e.errno))
        raise click.BadParameter(f"{name}: value {value} refused ({code}: "
                                 f"{os.strerror(e.errno or 0)})", param_hint=param_hint) from None
    return old


def boot_kernel(arch: str, physmem: int, swap: int, root: str | None,
                sysctls: Sequence[tuple[str, int]] = ()) -> Kernel:
    """Boot a Kernel for a command and apply its --sysctl settings.

    Returns:
        the Kernel (the caller closes it, e.g. with `with`).

    Raises:
        click.BadParameter: a --sysctl setting the kernel does not accept (the kernel is closed).
        click.UsageError: the kernel refused the configuration.
    """
    try:
        k = Kernel(arch=arch, physmem=physmem, swap=swap, root=root)
    except (ValueError, OSError, MemoryError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else (str(e) or type(e).__name__)
        raise click.UsageError(f"cannot boot the model with --arch {arch} --physmem {_human(physmem)} "
                               f"--swap {_human(swap)}: {why}") from None
    try:
        for name, value in sysctls:
            apply_sysctl(k, name, value, "'--sysctl'")
    except click.BadParameter:
        k.close()
        raise
    return k
