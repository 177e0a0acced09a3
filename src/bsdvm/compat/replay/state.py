"""Per-process replay state: what the engine knows of one traced process and its model counterpart.

A traced pid maps to a `PState`; threads (CLONE_VM) and vfork children share their parent's PState
(one model process, several pids).  Invariant: `proc` is the model process; `ties` relate this
process's trace addresses to the model's; `fds` are the trace's descriptors with their model
counterparts, opened lazily when a mapping needs them.  Imports only the ties.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .ties import Ties


@dataclass
class FdInfo:
    """One trace descriptor: the file it names and the model descriptor standing for it."""

    path: str | None
    access: int | None = None       # O_RDONLY/O_WRONLY/O_RDWR when the trace showed the open
    model_fd: int | None = None
    model_path: str | None = None
    model_size: int = 0             # for stand-in files: their size


@dataclass
class PState:
    """One model process and what the replay knows of the traced process(es) it stands for."""

    proc: Any                       # bsdvm Process
    abi: Any                        # LinuxABI or TableABI(proc, freebsd_sysent) on `proc`
    ties: Ties
    fds: dict[int, FdInfo] = field(default_factory=dict)
    pids: set[Any] = field(default_factory=set)
    origin: str = "spawn"           # spawn / fork / vfork / thread / exec / running
    trace_brk0: int | None = None   # the heap origin in the trace
    trace_brk: int | None = None    # the trace's current break
    model_brk0: int | None = None   # the heap origin in the model
    dead: str | None = None         # why the model process is gone, when it is
