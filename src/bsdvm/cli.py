"""The `bsdvm` command: `demo` (the README's main job) and `run SCENARIO.py`.  Presentation only:
everything shown is read from the model through the public API."""
from __future__ import annotations

import json as json_mod
import os
import runpy
import sys

import click
from rich.console import Console
from rich.table import Table

from . import Kernel, mman
from .report import TP_NAMES, flags_str, prot_str, vmstat_diff

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
    return [dict(start=e.start, end=e.end, prot=e.prot, max_prot=e.max_prot,
                 inheritance=e.inheritance, wired_count=e.wired_count, flags=sorted(e.flags),
                 object_type=e.object_type, offset=e.offset, path=e.path, resident=e.resident,
                 private_resident=e.private_resident, ref_count=e.ref_count,
                 shadow_count=e.shadow_count) for e in proc.maps()]


def _kernel_opts(f):
    f = click.option("--arch", type=click.Choice(["amd64", "i386"]), default="amd64")(f)
    f = click.option("--physmem", default="256M", show_default=True)(f)
    f = click.option("--swap", default="512M", show_default=True)(f)
    f = click.option("--root", type=click.Path(file_okay=False), default=None,
                     help="host directory that is the model's / (default: a fresh temporary one)")(f)
    f = click.option("--json", "as_json", is_flag=True, help="machine-readable output")(f)
    return f


@click.group()
@click.version_option(package_name="bsdvm")
def main():
    """bsdvm: FreeBSD 7's virtual-memory mapping layer, modelled."""


@main.command()
@_kernel_opts
def demo(arch, physmem, swap, root, as_json):
    """A real scenario: shared file mapping between two processes, fork and copy-on-write, msync to
    the host file, mincore, and mlock refused for a non-root process."""
    con = _console()
    steps = []

    def step(msg, **data):
        steps.append(dict(step=msg, **data))
        if not as_json:
            con.print(f"[bold cyan]>[/] {msg}")

    with Kernel(arch=arch, physmem=physmem, swap=swap, root=root) as k:
        before = k.vmstat()
        a = k.spawn(uid=1000, gid=1000)
        b = k.spawn(uid=1000, gid=1000)
        fd = a.open("/shared.dat", os.O_RDWR | os.O_CREAT, 0o644)
        a.ftruncate(fd, 4 * 4096)
        pa = a.mmap(0, 4 * 4096, mman.PROT_READ | mman.PROT_WRITE, mman.MAP_SHARED, fd, 0)
        step(f"pid {a.pid}: mmap(/shared.dat, 16 KiB, RW, MAP_SHARED) = {pa:#x}")
        fdb = b.open("/shared.dat", os.O_RDWR)
        pb = b.mmap(0, 4 * 4096, mman.PROT_READ | mman.PROT_WRITE, mman.MAP_SHARED, fdb, 0)
        step(f"pid {b.pid}: mmap(/shared.dat, 16 KiB, RW, MAP_SHARED) = {pb:#x}")
        a.mem_write(pa, b"hello from A")
        got = b.mem_read(pb, 12)
        step(f"pid {a.pid} stores 'hello from A'; pid {b.pid} reads {got!r}", seen=got.decode())
        b.msync(pb, 4096, mman.MS_SYNC)
        with open(os.path.join(k.root, "shared.dat"), "rb") as f:
            host = f.read(12)
        step(f"pid {b.pid}: msync(MS_SYNC); the host file now starts with {host!r}",
             host=host.decode())
        anon = a.mmap(0, 8 * 4096, mman.PROT_READ | mman.PROT_WRITE,
                      mman.MAP_ANON | mman.MAP_PRIVATE)
        a.mem_write(anon, b"parent data")
        c = a.fork()
        step(f"pid {a.pid}: private anon at {anon:#x} written, then fork() = pid {c.pid}")
        c.mem_write(anon, b"child  data")
        step(f"pid {c.pid} writes its copy: parent sees {a.mem_read(anon, 11)!r}, child sees "
             f"{c.mem_read(anon, 11)!r} (copy-on-write)")
        vec = a.mincore(anon, 8 * 4096)
        step(f"pid {a.pid}: mincore(anon, 8 pages) = {vec.hex(' ')}", mincore=list(vec))
        try:
            a.mlock(anon, 4096)
            step("mlock succeeded (unexpected for uid 1000)")
        except OSError as e:
            step(f"pid {a.pid} (uid 1000): mlock -> {os.strerror(e.errno)} (errno {e.errno})",
                 mlock_errno=e.errno)
        r = k.spawn(uid=0)
        ra = r.mmap(0, 4096, 3, mman.MAP_ANON | mman.MAP_PRIVATE)
        r.mlock(ra, 4096)
        step(f"pid {r.pid} (root): mlock succeeds; wired count {k.vmstat()['v_wire_count']}")
        procs = [a, b, c]
        if as_json:
            out = dict(steps=steps, maps={p.pid: _maps_json(p) for p in procs},
                       vmstat=k.vmstat(), vmstat_moved=vmstat_diff(before, k.vmstat()))
            click.echo(json_mod.dumps(out, indent=1, default=str))
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
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False))
@_kernel_opts
@click.option("--uid", default=0, show_default=True, help="uid of the process given to the scenario")
def run(scenario, arch, physmem, swap, root, as_json, uid):
    """Run a Python scenario against a fresh Kernel.  The script sees `k` (the Kernel), `p` (a
    spawned process), `mman` and `resource`; the final state is printed."""
    from . import resource
    con = _console()
    with Kernel(arch=arch, physmem=physmem, swap=swap, root=root) as k:
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
            click.echo(json_mod.dumps(dict(processes={q.pid: _maps_json(q) for q in procs},
                                           vmstat=k.vmstat()), indent=1, default=str))
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


@main.command()
@click.argument("trace", type=click.Path(exists=True, dir_okay=False))
@_kernel_opts
@click.option("--format", "fmt", type=click.Choice(["auto", "strace", "kdump"]), default="auto",
              show_default=True)
@click.option("--uid", default=0, show_default=True, help="uid of the replaying processes")
@click.option("--touch", type=click.Choice(["none", "evidence", "all"]), default="evidence",
              show_default=True, help="which pages to fault in besides what the calls fault")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
              help="write a self-contained HTML report")
@click.option("--limit", default=40, show_default=True, help="disagreements listed")
@click.option("--all-calls", is_flag=True, help="list every call, not only disagreements")
def replay(trace, arch, physmem, swap, root, as_json, fmt, uid, touch, report_path, limit,
           all_calls):
    """Replay a real program's memory system calls (strace or kdump output) on the model:
    Linux calls through the Linux ABI layer, addresses relocated, results compared."""
    from .compat.replay import run_cli
    sys.exit(run_cli(trace, arch=arch, physmem=physmem, swap=swap, root=root, as_json=as_json,
                     fmt=fmt, uid=uid, touch=touch, report_path=report_path, limit=limit,
                     all_calls=all_calls, console=_console()))


from .sweep.cli import sweep_command  # noqa: E402 -- its own module (issue 11); pandas/Dask load lazily

main.add_command(sweep_command)


if __name__ == "__main__":
    main()
