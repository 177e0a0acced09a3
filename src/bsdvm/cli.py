"""The `bsdvm` command: `demo` (the README's main job), `run SCENARIO.py`, `replay TRACE` and `sysctl`.
Presentation only: everything shown is read from the model through the public API.  Options are
checked by the types of bsdvm.cli_types (a bad value is a usage error, exit status 2, never a
traceback); commands added later declare their options the same way."""
from __future__ import annotations

import json as json_mod
import os
import runpy
import sys

import click
from rich.console import Console
from rich.table import Table

from . import mman
from ._build import build_description
from .vm.param import PAGE_SIZE
from .cli_types import (INPUT_FILE, UID, OutputFile, SysctlQuery, apply_sysctl, boot_kernel,
                        kernel_options, show_option)
from .report import (TP_NAMES, entry_dict, flags_str, procstat_text, prot_str, sysctl_text,
                     vmstat_diff, vmstat_s_text)

def _console() -> Console:
    # tables are wide (64-bit addresses): do not squeeze them into 80 columns when piped
    return Console() if sys.stdout.isatty() else Console(width=200)




def _maps_table(proc, title: str) -> Table:
    t = Table(title=title, show_lines=False)
    for col in ("PID", "START", "END", "PRT", "RES", "PRES", "REF", "SHD", "FL", "TP", "PATH"):
        t.add_column(col, justify="right" if col in ("RES", "PRES", "REF", "SHD") else "left")
    for e in proc.maps():
        t.add_row(str(proc.pid), f"{e.start:#x}", f"{e.end:#x}", prot_str(e.prot), str(e.resident),
                  str(e.private_resident), str(e.ref_count), str(e.shadow_count), flags_str(e),
                  TP_NAMES.get(e.object_type, "--"), e.path or "")
    return t


def _maps_json(proc) -> list:
    return [entry_dict(e) for e in proc.maps()]


def _views(k, show, procstats: dict | None = None) -> dict:
    """The --show views as text: name -> text.  `procstats` (pid -> procstat -v text) when the
    processes are gone (replay); else the kernel's live processes."""
    out = {}
    for view in show or ():
        if view == "procstat":
            if procstats is None:
                procstats = {q.pid: procstat_text(q) for q in k.processes()}
            first = True
            lines = []
            for _pid, text in sorted(procstats.items(), key=lambda kv: str(kv[0])):
                rows = text.splitlines()
                lines += rows if first else rows[1:]     # one header, as procstat -v prints
                first = False
            out["procstat"] = "\n".join(lines)
        elif view == "vmstat":
            out["vmstat"] = vmstat_s_text(k.vmstat())
        elif view == "sysctl":
            out["sysctl"] = sysctl_text(k.sysctl_tree.get_all())
    return out


def _print_views(views: dict) -> None:
    for name, text in views.items():
        click.echo(f"--- {name} ---")
        click.echo(text)


@click.group()
@click.version_option(package_name="bsdvm",
                      message=f"%(prog)s %(version)s (VM core: {build_description()})")
def main():
    """bsdvm: FreeBSD 7's virtual-memory mapping layer, modelled.

    Shell completion: eval "$(_BSDVM_COMPLETE=bash_source bsdvm)" (zsh_source, fish_source)."""


@main.command()
@kernel_options
@show_option
def demo(arch, physmem, swap, root, sysctls, as_json, show):
    """A real scenario: shared file mapping between two processes, fork and copy-on-write, msync to
    the host file, mincore, and mlock refused for a non-root process."""
    con = _console()
    steps = []

    def step(msg, **data):
        steps.append(dict(step=msg, **data))
        if not as_json:
            con.print(f"[bold cyan]>[/] {msg}")

    with boot_kernel(arch, physmem, swap, root, sysctls) as k:
        before = k.vmstat()
        a = k.spawn(uid=1000, gid=1000)
        b = k.spawn(uid=1000, gid=1000)
        fd = a.open("/shared.dat", os.O_RDWR | os.O_CREAT, 0o644)
        a.ftruncate(fd, 4 * PAGE_SIZE)
        pa = a.mmap(0, 4 * PAGE_SIZE, mman.PROT_READ | mman.PROT_WRITE, mman.MAP_SHARED, fd, 0)
        step(f"pid {a.pid}: mmap(/shared.dat, 16 KiB, RW, MAP_SHARED) = {pa:#x}")
        fdb = b.open("/shared.dat", os.O_RDWR)
        pb = b.mmap(0, 4 * PAGE_SIZE, mman.PROT_READ | mman.PROT_WRITE, mman.MAP_SHARED, fdb, 0)
        step(f"pid {b.pid}: mmap(/shared.dat, 16 KiB, RW, MAP_SHARED) = {pb:#x}")
        a.mem_write(pa, b"hello from A")
        got = b.mem_read(pb, 12)
        step(f"pid {a.pid} stores 'hello from A'; pid {b.pid} reads {got!r}", seen=got.decode())
        b.msync(pb, PAGE_SIZE, mman.MS_SYNC)
        with open(os.path.join(k.root, "shared.dat"), "rb") as f:
            host = f.read(12)
        step(f"pid {b.pid}: msync(MS_SYNC); the host file now starts with {host!r}",
             host=host.decode())
        anon = a.mmap(0, 8 * PAGE_SIZE, mman.PROT_READ | mman.PROT_WRITE,
                      mman.MAP_ANON | mman.MAP_PRIVATE)
        a.mem_write(anon, b"parent data")
        c = a.fork()
        step(f"pid {a.pid}: private anon at {anon:#x} written, then fork() = pid {c.pid}")
        c.mem_write(anon, b"child  data")
        step(f"pid {c.pid} writes its copy: parent sees {a.mem_read(anon, 11)!r}, child sees "
             f"{c.mem_read(anon, 11)!r} (copy-on-write)")
        vec = a.mincore(anon, 8 * PAGE_SIZE)
        step(f"pid {a.pid}: mincore(anon, 8 pages) = {vec.hex(' ')}", mincore=list(vec))
        try:
            a.mlock(anon, PAGE_SIZE)
            step("mlock succeeded (unexpected for uid 1000)")
        except OSError as e:
            step(f"pid {a.pid} (uid 1000): mlock -> {os.strerror(e.errno)} (errno {e.errno})",
                 mlock_errno=e.errno)
        r = k.spawn(uid=0)
        ra = r.mmap(0, PAGE_SIZE, 3, mman.MAP_ANON | mman.MAP_PRIVATE)
        r.mlock(ra, PAGE_SIZE)
        step(f"pid {r.pid} (root): mlock succeeds; wired count {k.vmstat()['v_wire_count']}")
        procs = [a, b, c]
        if as_json:
            out = dict(steps=steps, maps={p.pid: _maps_json(p) for p in procs},
                       vmstat=k.vmstat(), vmstat_moved=vmstat_diff(before, k.vmstat()))
            if show:
                out["show"] = _views(k, show)
            click.echo(json_mod.dumps(out, indent=1, default=str))
            return
        if show:                # the views asked for, in FreeBSD's formats, instead of the tables
            _print_views(_views(k, show))
            return
        for p in procs:
            con.print(_maps_table(p, f"procstat -v {p.pid}"))
        t = Table(title="vmstat counters that moved")
        t.add_column("counter")
        t.add_column("before", justify="right")
        t.add_column("after", justify="right")
        for name, (old, new) in sorted(vmstat_diff(before, k.vmstat()).items()):
            t.add_row(name, str(old), str(new))
        con.print(t)


@main.command()
@click.argument("scenario", type=INPUT_FILE)
@kernel_options
@show_option
@click.option("--uid", type=UID, default=0, show_default=True,
              help="uid of the process given to the scenario")
def run(scenario, arch, physmem, swap, root, sysctls, as_json, show, uid):
    """Run a Python scenario against a fresh Kernel.  The script sees `k` (the Kernel), `p` (a
    spawned process), `mman` and `resource`; the final state is printed."""
    from . import resource
    con = _console()
    with boot_kernel(arch, physmem, swap, root, sysctls) as k:
        p = k.spawn(uid=uid)
        g = {"k": k, "p": p, "mman": mman, "resource": resource, "__name__": "__bsdvm_scenario__"}
        try:
            runpy.run_path(scenario, init_globals=g, run_name="__bsdvm_scenario__")
        except Exception as e:       # the user's scenario failed: say so, show the state anyway
            con.print(f"[red]scenario raised {type(e).__name__}: {e}[/]")
            rc = 1
        else:
            rc = 0
        procs = k.processes()
        if as_json:
            out = dict(processes={q.pid: _maps_json(q) for q in procs}, vmstat=k.vmstat())
            if show:
                out["show"] = _views(k, show)
            click.echo(json_mod.dumps(out, indent=1, default=str))
        elif show:              # the views asked for, in FreeBSD's formats, instead of the tables
            _print_views(_views(k, show))
        else:
            for q in procs:
                con.print(_maps_table(q, f"procstat -v {q.pid}"))
            t = Table(title="vmstat")
            t.add_column("counter")
            t.add_column("value", justify="right")
            for name, v in sorted(k.vmstat().items()):
                t.add_row(name, str(v))
            con.print(t)
    sys.exit(rc)


HOW_TO_RECORD = ("record one with `strace -f -y -e trace=%memory,openat,open,close -o TRACE PROG` "
                 "on Linux, or `ktrace -f ktrace.out PROG; kdump -f ktrace.out > TRACE` on FreeBSD")


@main.command()
@click.argument("trace", type=INPUT_FILE)
@kernel_options
@show_option
@click.option("--format", "fmt", type=click.Choice(["auto", "strace", "kdump"]), default="auto",
              show_default=True, help="the trace's format (auto: detected, else each is tried)")
@click.option("--uid", type=UID, default=0, show_default=True, help="uid of the replaying processes")
@click.option("--touch", type=click.Choice(["none", "evidence", "all"]), default="evidence",
              show_default=True, help="which pages to fault in besides what the calls fault")
@click.option("--report", "report_path", type=OutputFile(), default=None,
              help="write a self-contained HTML report")
@click.option("--limit", type=click.IntRange(min=0), default=40, show_default=True,
              help="calls that differ listed")
@click.option("--all-calls", is_flag=True, help="list every call, not only those that differ")
@click.option("--strict", is_flag=True,
              help="exit status 1 when some call differs without explanation")
def replay(trace, arch, physmem, swap, root, sysctls, as_json, show, fmt, uid, touch, report_path,
           limit, all_calls, strict):
    """Replay a real program's memory system calls (strace or kdump output) on the model:
    Linux calls through the Linux ABI layer, addresses relocated, results compared.

    Each call agrees, differs by design (FreeBSD 7 does it on purpose: the docs/differences.md id
    and the FreeBSD 7 rule are named) or differs without explanation (a model bug or an unknown);
    the output leads with that last count, and --strict makes it the exit status."""
    from .compat.replay.command import exit_status, run_replay
    from .compat.trace import read_trace
    try:
        parsed = read_trace(trace, fmt)
    except OSError as e:
        raise click.BadParameter(f"cannot read {trace!r}: {e.strerror}", param_hint="'TRACE'") from None
    if not parsed.records:
        raise click.BadParameter(
            f"{trace!r} holds no trace: none of its {parsed.lines} lines is a recognisable "
            f"record (formats tried: {', '.join(parsed.formats_tried)}); {HOW_TO_RECORD}",
            param_hint="'TRACE'")
    with boot_kernel(arch, physmem, swap, root, sysctls) as k:
        res = run_replay(k, parsed, trace, as_json=as_json, uid=uid, touch=touch,
                         report_path=report_path, limit=limit, all_calls=all_calls,
                         console=_console(),
                         views=(lambda r: _views(k, show, procstats=r.final_procstat)) if show
                         else None)
    sys.exit(exit_status(res, strict))


@main.command("sysctl")
@click.argument("names", nargs=-1, type=SysctlQuery(), metavar="[NAME[=VALUE]]...")
@click.option("-a", "all_nodes", is_flag=True, help="list every node")
@click.option("-d", "descriptions", is_flag=True, help="print each node's description, not its value")
@click.option("-n", "values_only", is_flag=True, help="print values only, without names")
@click.option("-N", "names_only", is_flag=True, help="print names only")
@kernel_options
def sysctl_cmd(names, all_nodes, descriptions, values_only, names_only, arch, physmem, swap, root,
               sysctls, as_json):
    """Read or set the sysctl tree of a freshly booted kernel, as FreeBSD's sysctl(8) prints it:
    `name: value` (vm.max_proc_mmap: 15978).  NAME may be a subtree (vm.stats.vm); NAME=VALUE sets
    a node (integers) and prints `name: old -> new`.  The values depend on --arch, --physmem and
    --swap; --sysctl settings are applied first."""
    if not names and not all_nodes:
        raise click.UsageError("name a node (or a subtree), or give -a for all of them")
    with boot_kernel(arch, physmem, swap, root, sysctls) as k:
        tree = k.sysctl_tree
        shown: dict[str, int] = {}
        changes: dict[str, list[int]] = {}
        for name, value in (names if names else ()):
            if value is not None:
                old = apply_sysctl(k, name, value, "'NAME[=VALUE]'")
                changes[name] = [old, k.sysctl(name)]
                continue
            nodes = tree.names(name)
            if not nodes:
                raise click.BadParameter(f"unknown oid {name!r}", param_hint="'NAME[=VALUE]'")
            for n in nodes:
                shown[n] = tree.get(n)[1]
        if all_nodes:
            shown.update(tree.get_all())
        if as_json:
            out: dict = dict(changes) if changes else {}
            if descriptions:
                out.update({n: tree.describe(n) for n in shown})
            else:
                out.update(shown)
            click.echo(json_mod.dumps(out, indent=1))
            return
        for n, (old, new) in changes.items():
            click.echo(f"{n}: {old} -> {new}" if not values_only else str(new))
        for n, v in shown.items():
            if names_only:
                click.echo(n)
            elif descriptions:
                click.echo(tree.describe(n) if values_only else f"{n}: {tree.describe(n)}".rstrip())
            else:
                click.echo(str(v) if values_only else f"{n}: {v}")


from .sweep.cli import sweep_command  # noqa: E402 -- its own module (issue 11); pandas/Dask load lazily

main.add_command(sweep_command)
from .cli_exec import exec_cmd as _exec_cmd  # noqa: E402  (bsdvm exec: its own module)
main.add_command(_exec_cmd)


if __name__ == "__main__":
    main()
