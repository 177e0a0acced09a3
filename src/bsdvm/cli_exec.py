"""`bsdvm exec`: run a real x86-64 program on the model (Unicorn as the CPU, bsdvm as MMU and
kernel), with the host's file tree read-only (plus `--rw` directories), the command's environment,
current directory and standard descriptors.  The command exits with the program's exit status, or
128+N when signal N killed it (with a one-line message on stderr, as a shell reports it).
`--stats FILE.json` writes what the run did; `--report FILE.html` the address space at exit and
resident memory / faults over time.  Presentation only: everything is read from the model.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from typing import Any

import click

from .cli_types import OutputFile, PHYSMEM, SWAP, UID


class EnvType(click.ParamType):
    """An environment assignment NAME=VALUE."""

    name = "K=V"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        name, sep, val = str(value).partition("=")
        if not sep or not name or "\0" in value:
            self.fail(f"{value!r} is not NAME=VALUE", param, ctx)
        return name, val


def find_program(name: str, path_env: str | None) -> str | None:
    """What a shell would run for `name`: itself if it has a slash, else the first executable
    regular file of that name on PATH."""
    if "/" in name:
        return name
    found = shutil.which(name, path=path_env if path_env is not None else os.defpath)
    return found


def host_kernel(physmem: int, swap: int, rw_dirs: tuple[str, ...]) -> Any:
    """A kernel whose file tree is the host's, read-only, with each rw dir writable in place."""
    from . import Kernel
    return Kernel(physmem=physmem, swap=swap, host_root=True, rw=list(rw_dirs))


def signal_message(signo: int, code: str, addr: int) -> str:
    try:
        name = signal.Signals(signo).name
        desc = signal.strsignal(signo) or name
    except ValueError:
        name, desc = f"signal {signo}", f"signal {signo}"
    return f"{desc} ({name}, {code}, address {addr:#x})"


def write_stats(path: str, k: Any, status: int, wall: float, prog: str) -> None:
    """--stats: system calls by name (count, errors by errno), faults by kind, TLB fills,
    page-outs, peak resident pages, wall and CPU time."""
    from .kern.kern_exit import status_exit_code
    st = k.exec_stats
    c0 = st.counters0 if st is not None else {}
    c = k.phys.counters

    def d(name: str) -> int:
        return c.get(name, 0) - c0.get(name, 0)
    calls = {}
    if st is not None:
        for name, n in sorted(st.calls.items()):
            errs = st.errors.get(name, {})
            calls[name] = {"count": n, "errors": sum(errs.values()), "errnos": dict(errs)}
    data = {
        "program": prog,
        "exit_status": status_exit_code(status),
        "wait_status": status,
        "syscalls": calls,
        "syscalls_total": sum(v["count"] for v in calls.values()),
        "unimplemented": sorted(n for n, v in calls.items() if "ENOSYS" in v["errnos"]),
        "faults": {"total": st.faults if st else 0, "zero_fill": d("v_zfod"),
                   "copy_on_write": d("v_cow_faults"), "vnode_page_in": d("v_vnodein"),
                   "swap_in": d("v_swapin"), "vm_faults": d("v_vm_faults")},
        "tlb_fills": k.exec_tlb_fills,
        "page_outs": {"swap": d("v_swapout"), "vnode": d("v_vnodeout"),
                      "swap_pages": d("v_swappgsout"), "vnode_pages": d("v_vnodepgsout")},
        "peak_resident_pages": st.peak_resident if st else 0,
        "wall_seconds": round(wall, 6),
        "cpu_seconds": round(k.exec_cpu_time, 6),
        "oom_kills": list(getattr(k.pagedaemon, "oom_kills", []) if k.pagedaemon else []),
        "deadlocks": getattr(k, "exec_deadlocks", []),
    }
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")


@click.command("exec", context_settings={"ignore_unknown_options": True,
                                         "allow_interspersed_args": False})
@click.option("--uid", type=UID, default=None, help="user id (default: yours)")
@click.option("--gid", type=UID, default=None, help="group id (default: yours)")
@click.option("--rw", "rw_dirs", multiple=True,
              type=click.Path(exists=True, file_okay=False, dir_okay=True),
              help="host directory the program may write (repeatable)")
@click.option("--physmem", type=PHYSMEM, default="256M", show_default=True)
@click.option("--swap", type=SWAP, default="512M", show_default=True)
@click.option("--env", "env", multiple=True, type=EnvType(), help="NAME=VALUE added to the "
              "environment (repeatable)")
@click.option("--stats", "stats_path", type=OutputFile(),
              default=None, help="write run statistics as JSON")
@click.option("--report", "report_path", type=OutputFile(),
              default=None, help="write an HTML report")
@click.argument("program")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def exec_cmd(uid: int | None, gid: int | None, rw_dirs: tuple[str, ...], physmem: int,
             swap: int, env: tuple[tuple[str, str], ...], stats_path: str | None,
             report_path: str | None, program: str, args: tuple[str, ...]) -> None:
    """Run PROGRAM [ARGS]... (an x86-64 ELF, found on PATH) on the model."""
    try:
        import unicorn  # noqa: F401
    except ImportError:
        click.echo("bsdvm exec: the unicorn module is needed (pip install unicorn)", err=True)
        sys.exit(2)
    from .kern.host_stdio import attach_stdio
    from .kern.kern_exit import status_exit_code
    from .kern.sched_run import HookError
    from .amd64.trap import code_name
    environ = dict(os.environ)
    environ.update(dict(env))
    path = find_program(program, environ.get("PATH"))
    if path is None:
        click.echo(f"bsdvm exec: {program}: command not found", err=True)
        sys.exit(127)
    uid = os.getuid() if uid is None else uid
    gid = os.getgid() if gid is None else gid
    t0 = time.perf_counter()
    k = host_kernel(physmem, swap, rw_dirs)
    k.exec_keep_maps = report_path is not None
    try:
        p = k.spawn(uid=uid, gid=gid)
        fdt = p.proc.p_fd
        if hasattr(fdt, "fd_cdir"):
            fdt.fd_cdir = os.getcwd()
        attach_stdio(p.proc)
        envp = [f"{a}={b}" for a, b in environ.items()]
        try:
            p.execve(path, [program, *args], envp)
        except OSError as e:
            click.echo(f"bsdvm exec: {program}: {os.strerror(e.errno or 0)}", err=True)
            sys.exit(126 if e.errno in (13, 8) else 127)
        try:
            k.run()
            status = p.wait_status or 0
        except HookError as e:
            click.echo(f"bsdvm exec: internal error: {e}", err=True)
            sys.exit(70)
        wall = time.perf_counter() - t0
        killed = status & 0x7F
        if killed:
            info = p.proc.p_killinfo
            code = code_name(killed, info.code) if info is not None else "SI_USER"
            addr = info.addr if info is not None else 0
            click.echo(f"bsdvm exec: {program}: {signal_message(killed, code, addr)}", err=True)
        if stats_path:
            write_stats(stats_path, k, status, wall, path)
        if report_path:
            from .compat.exec_report import write_exec_report
            write_exec_report(report_path, k, p, path)
    finally:
        try:
            sys.stdout.flush()
        except OSError:
            pass
        k.close()
    sys.exit(status_exit_code(status))
