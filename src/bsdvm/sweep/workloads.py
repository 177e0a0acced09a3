"""The workloads a sweep runs, one class per kind, each against the public API of a fresh Kernel:

* `RunWorkload`    a scenario script (what `bsdvm run` runs): it sees `k`, `p`, `mman`, `resource`;
* `ReplayWorkload` a strace/kdump trace replayed by `compat.replay` (what `bsdvm replay` does);
* `ExecWorkload`   a program executed in the model (`bsdvm exec`, issue 13: `Process.execve` and
                   `Kernel.run`).

A workload is small and picklable: its identity (what the job key hashes: the file's content digest,
or the command line) and where its input lives.  File contents travel to the workers separately, as
a `payload` the engine scatters once per file, so a remote worker needs no shared file system.
`run()` returns the outcome columns (`exit_status`, or the replay's agreement figures); an exception
it raises makes the job a failed row.  May call: the public bsdvm API and bsdvm.compat.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
from dataclasses import dataclass
from typing import Any, ClassVar

from .. import mman, resource
from ..kernel import Kernel
from ..process import MemoryFault, ProcessKilled

# the environment an executed program gets: fixed, so a job's outcome does not depend on the worker
EXEC_ENV = ("PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/", "LANG=C", "TERM=dumb")


class PlanError(ValueError):
    """A plan (its TOML, or an axis or workload value) is invalid; the message says which."""


class WorkloadUnavailable(RuntimeError):
    """The bsdvm running the job lacks what the workload needs (e.g. `bsdvm exec` for --exec)."""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expand_paths(patterns: list[str], base: str, what: str) -> list[str]:
    """Paths and globs (`**` recursive) -> existing files, absolute, in the order given (each glob's
    matches sorted), duplicates dropped.  Raises PlanError for a glob without a match or a path that
    is not a file."""
    out: list[str] = []
    for pat in patterns:
        full = os.path.join(base, os.path.expanduser(pat))
        if glob.has_magic(full):
            hits = sorted(p for p in glob.glob(full, recursive=True) if os.path.isfile(p))
            if not hits:
                raise PlanError(f"{what}: {pat!r} matches no file")
        elif os.path.isfile(full):
            hits = [full]
        else:
            raise PlanError(f"{what}: {pat!r} is not a file")
        for h in hits:
            h = os.path.abspath(h)
            if h not in out:
                out.append(h)
    return out


@dataclass(frozen=True)
class Workload:
    """Base of the workload kinds.  `name` labels the workload in results and the report."""
    name: str
    kind: ClassVar[str] = ""

    def identity(self) -> dict[str, Any]:
        """What the job key hashes: the same identity means the same work."""
        raise NotImplementedError

    def refuses(self, arch: str) -> str | None:
        """Why this workload cannot run on `arch`, or None when it can."""
        return None

    def payload(self) -> bytes | None:
        """The input the job needs shipped to the worker (a file's bytes), or None."""
        return None

    def run(self, kernel: Kernel, uid: int, payload: bytes | None) -> dict[str, Any]:
        """Run once on `kernel` (fresh, sysctls already set) as `uid`; return the outcome columns."""
        raise NotImplementedError


@dataclass(frozen=True)
class _FileWorkload(Workload):
    path: str = ""
    digest: str = ""

    def identity(self) -> dict[str, Any]:
        return dict(kind=self.kind, name=self.name, sha256=self.digest)

    def payload(self) -> bytes:
        """The file's bytes, as they were when the plan was made.  Raises PlanError if the file
        changed since (the job key names the old content)."""
        with open(self.path, "rb") as f:
            data = f.read()
        if _digest(data) != self.digest:
            raise PlanError(f"{self.path} changed while the sweep was being planned")
        return data


@dataclass(frozen=True)
class RunWorkload(_FileWorkload):
    """A scenario script, run as `bsdvm run` runs it.  Exit status: 0 when it finishes, its
    SystemExit code, 128+signal for an uncaught MemoryFault, 128+SIGKILL when the OOM killer took
    its process; any other exception fails the job."""
    kind: ClassVar[str] = "run"

    @classmethod
    def from_file(cls, path: str) -> RunWorkload:
        with open(path, "rb") as f:
            data = f.read()
        try:
            compile(data, path, "exec")
        except SyntaxError as e:
            raise PlanError(f"run: {path}: {e.msg} (line {e.lineno})") from None
        return cls(name=os.path.basename(path), path=path, digest=_digest(data))

    def run(self, kernel: Kernel, uid: int, payload: bytes | None) -> dict[str, Any]:
        code = compile(payload if payload is not None else self.payload(), self.path, "exec")
        p = kernel.spawn(uid=uid, gid=uid)
        g: dict[str, Any] = {"k": kernel, "p": p, "mman": mman, "resource": resource,
                             "__name__": "__bsdvm_scenario__", "__file__": self.path}
        try:
            exec(code, g)  # noqa: S102 -- running the user's scenario is the point
        except SystemExit as e:
            return dict(exit_status=e.code if isinstance(e.code, int) else (0 if e.code is None else 1))
        except MemoryFault as e:
            return dict(exit_status=128 + int(e.signal))
        except ProcessKilled:
            return dict(exit_status=128 + int(signal.SIGKILL))
        return dict(exit_status=0)


_WIDE_ADDR = re.compile(rb"0x[0-9a-fA-F]{9,}")


@dataclass(frozen=True)
class ReplayWorkload(_FileWorkload):
    """A strace or kdump trace replayed on the model.  Outcome: calls replayed, agreements,
    disagreements, the agreement rate and the disagreements by reason class.  A trace with
    addresses above 4 GiB (a 64-bit program's) is refused on i386."""
    wide: bool = False
    kind: ClassVar[str] = "replay"

    @classmethod
    def from_file(cls, path: str) -> ReplayWorkload:
        with open(path, "rb") as f:
            data = f.read()
        wide = any(int(m.group(), 16) > 0xFFFFFFFF for m in _WIDE_ADDR.finditer(data))
        return cls(name=os.path.basename(path), path=path, digest=_digest(data), wide=wide)

    def refuses(self, arch: str) -> str | None:
        if arch == "i386" and self.wide:
            return "the trace has 64-bit addresses"
        return None

    def run(self, kernel: Kernel, uid: int, payload: bytes | None) -> dict[str, Any]:
        from ..compat.replay import Replayer
        from ..compat.trace import detect_format, parse_kdump, parse_strace
        data = payload if payload is not None else self.payload()
        lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
        parse = parse_kdump if detect_format(lines) == "kdump" else parse_strace
        s = Replayer(kernel, parse(lines, keep_raw=False), uid=uid).run().summary
        return dict(calls_replayed=s["calls_replayed"], agreements=s["agreements"],
                    disagreements=s["disagreements"], agreement_rate=float(s["agreement_rate"]),
                    disagreements_by_reason=json.dumps(s["disagreements_by_reason"], sort_keys=True))


@dataclass(frozen=True)
class ExecWorkload(Workload):
    """A program executed in the model, as `bsdvm exec` does: spawn a process with the job's uid,
    `execve` the program with `argv` and a fixed environment (EXEC_ENV), `Kernel.run()` until every
    process exited; the outcome is its exit status (128+N for signal N).  argv[0] without a slash is
    looked up on the worker's PATH.  A 64-bit ELF is refused on i386, a 32-bit one on amd64 (when
    the planning host has the program to look at)."""
    argv: tuple[str, ...] = ()
    elf_class: int = 0              # 1 ELFCLASS32, 2 ELFCLASS64, 0 unknown on the planning host
    kind: ClassVar[str] = "exec"

    @classmethod
    def from_command(cls, command: str) -> ExecWorkload:
        try:
            argv = tuple(shlex.split(command))
        except ValueError as e:
            raise PlanError(f"exec: {command!r}: {e}") from None
        if not argv:
            raise PlanError("exec: empty command")
        host = _resolve(argv[0])
        elf_class = 0
        if host is not None:
            try:
                with open(host, "rb") as f:
                    head = f.read(5)
                if head[:4] == b"\x7fELF":
                    elf_class = head[4]
            except OSError:
                pass
        return cls(name=shlex.join(argv), argv=argv, elf_class=elf_class)

    def identity(self) -> dict[str, Any]:
        return dict(kind=self.kind, argv=list(self.argv), env=list(EXEC_ENV))

    def refuses(self, arch: str) -> str | None:
        if self.elf_class == 2 and arch == "i386":
            return "a 64-bit program"
        if self.elf_class == 1 and arch == "amd64":
            return "a 32-bit program"
        return None

    def run(self, kernel: Kernel, uid: int, payload: bytes | None) -> dict[str, Any]:
        path = _resolve(self.argv[0])
        if path is None:
            raise FileNotFoundError(f"{self.argv[0]}: not found on this worker's PATH")
        try:
            import unicorn  # noqa: F401 -- the CPU of `bsdvm exec`, an optional extra
        except ImportError:
            raise WorkloadUnavailable("this worker has no unicorn module, the CPU of `bsdvm exec` "
                                      "(pip install 'bsdvm[exec]'): --exec jobs cannot run") from None
        p = kernel.spawn(uid=uid, gid=uid)
        p.execve(path, list(self.argv), list(EXEC_ENV))
        status = kernel.run()           # None only when an on_slice callback pauses the run
        assert status is not None
        return dict(exit_status=status)


def _resolve(prog: str) -> str | None:
    if "/" in prog:
        return os.path.abspath(prog) if os.path.isfile(prog) else None
    return shutil.which(prog)
