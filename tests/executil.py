"""Helpers for the `bsdvm exec` tests: compile C test programs with the host's gcc (cached per
session), run a program on a fresh kernel whose file tree is the host's, with stdin/stdout/stderr
on host temporary files, and check the kernel is consistent and every frame free afterwards."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any

import pytest

pytest.importorskip("unicorn")
GCC = shutil.which("gcc")
PROGS = os.path.join(os.path.dirname(__file__), "exec_progs")
_BUILD = tempfile.mkdtemp(prefix="bsdvm-exec-progs-")
_cache: dict[tuple[str, bool, tuple[str, ...]], str] = {}


def need_gcc() -> None:
    if GCC is None:
        pytest.skip("gcc is not installed")


def build(name: str, static: bool = False, flags: tuple[str, ...] = ()) -> str:
    """Compile tests/exec_progs/<name>.c; returns the executable's path."""
    need_gcc()
    key = (name, static, flags)
    if key not in _cache:
        out = os.path.join(_BUILD, f"{name}{'_static' if static else ''}{abs(hash(flags)) % 10**6}")
        cmd = [GCC, "-O1", "-o", out, os.path.join(PROGS, name + ".c"), *flags]
        if static:
            cmd.insert(1, "-static")
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            if static and "cannot find -lc" in r.stderr:
                pytest.skip("libc's static archive is not installed")
            raise RuntimeError(r.stderr)
        _cache[key] = out
    return _cache[key]


@dataclass
class Run:
    status: int
    stdout: bytes
    stderr: bytes
    kernel: Any
    process: Any
    stats: Any = field(default=None)

    @property
    def exit_code(self) -> int:
        return (self.status >> 8) & 0xFF if not self.status & 0x7F else -1

    @property
    def signal(self) -> int:
        return self.status & 0x7F


def run_guest(argv: list[str], stdin: bytes = b"", physmem: str = "128M", swap: str = "256M",
              uid: int | None = None, env: dict[str, str] | None = None, rw: tuple[str, ...] = (),
              cwd: str | None = None, check_free: bool = True) -> Run:
    """Run argv[0] (a host path) on a fresh kernel; returns its status and output."""
    from bsdvm import Kernel
    from bsdvm.kern.host_stdio import attach_stdio
    k = Kernel(physmem=physmem, swap=swap, host_root=True, rw=list(rw))
    with tempfile.TemporaryFile() as fin, tempfile.TemporaryFile() as fout, \
            tempfile.TemporaryFile() as ferr:
        fin.write(stdin)
        fin.seek(0)
        p = k.spawn(uid=os.getuid() if uid is None else uid)
        p.proc.p_fd.fd_cdir = cwd or os.getcwd()
        attach_stdio(p.proc, (fin.fileno(), fout.fileno(), ferr.fileno()))
        envp = [f"{a}={b}" for a, b in (env if env is not None else
                                       {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}).items()]
        try:
            p.execve(argv[0], argv, envp)
            k.run()
            status = p.wait_status
            k.check_invariants()
        finally:
            k.close()
        if check_free:
            phys = k.phys
            assert phys.free_count == phys.npages - phys.kernel_wired, "frames left in use"
        fout.seek(0)
        ferr.seek(0)
        return Run(status, fout.read(), ferr.read(), k, p, k.exec_stats)


def run_native(argv: list[str], stdin: bytes = b"", env: dict[str, str] | None = None,
               cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, input=stdin, capture_output=True, cwd=cwd,
                          env=env if env is not None else {"PATH": "/usr/bin:/bin",
                                                           "LC_ALL": "C"})
