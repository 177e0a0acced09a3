"""The kernel's locks and their one hierarchy, with an optional checker after FreeBSD's WITNESS(4).

The lock order (a thread may take a lock only while every lock it already holds comes earlier in
this list; a recursive lock it already holds may be taken again):

  1. giant       Kernel.giant (recursive).  Every public Process and Kernel method, and every
                 system-call body, runs under it.  It alone protects all VM state (maps, objects,
                 pages, pmaps, swap, the pagers, the page daemon) and the process table: vm/ has
                 no lock of its own (VmMap.lock() models only the timestamp, MAP-1).
  2. sysctl      Sysctl._lock (recursive), held while a node's setter runs; setters take only
                 leaf locks.
  3. vfs         VFS.lock (recursive): mount table, name cache, vnode cache and use counts.  It is
                 dropped before the VFS calls into the VM (vm_hooks), which runs under giant.
  4. filedesc    FileDesc._lock, one per descriptor table: the slots.  A file is released
                 (fdrop) only after the table lock is dropped, since that may reclaim a vnode.
  5. leaves      Pipe._lock, the file reference counts (descrip._refs), FailPoints._lock and
                 Hooks._lock.  Nothing is called and no other lock is taken while a leaf is held.

Why the inner locks exist at all under giant: fail points, MAC policies and hwpmc callbacks are
armed and registered from outside the kernel (tests, drivers) without giant, and the VFS,
descriptor tables and pipes keep their own consistency so that they stay correct whichever
entry point reaches them.  Everything in vm/ relies on giant alone.

`mtx(name, recursive)` makes the lock for a place in the order.  Normally it is a plain
threading.Lock/RLock (no cost).  With BSDVM_WITNESS=1 in the environment when the lock is made,
it is a WitnessLock that raises LockOrderReversal on any acquisition against the order and
records it in `reversals`, as WITNESS reports a lock order reversal.
Imports nothing from bsdvm.
"""
from __future__ import annotations

import os
import threading
from typing import Any

# name -> rank; a thread may acquire a lock only while holding locks of strictly lower rank
LOCK_ORDER: dict[str, int] = {
    "giant": 1,
    "sysctl": 2,
    "vfs": 3,
    "filedesc": 4,
    "pipe": 5,
    "file refs": 5,
    "failpoints": 5,
    "hooks": 5,
}

# every lock order reversal seen, as (lock taken, lock held) names
reversals: list[tuple[str, str]] = []

_held = threading.local()


class LockOrderReversal(RuntimeError):
    """A lock was taken against LOCK_ORDER (WITNESS's "lock order reversal")."""


def witness_enabled() -> bool:
    """Whether locks made now are checked (BSDVM_WITNESS=1 in the environment)."""
    return os.environ.get("BSDVM_WITNESS", "") not in ("", "0")


class WitnessLock:
    """A Lock or RLock that checks every acquisition against LOCK_ORDER."""

    def __init__(self, name: str, recursive: bool) -> None:
        self.name = name
        self.rank = LOCK_ORDER[name]
        self._lock: Any = threading.RLock() if recursive else threading.Lock()
        self.recursive = recursive

    def _stack(self) -> list[WitnessLock]:
        stack = getattr(_held, "stack", None)
        if stack is None:
            stack = _held.stack = []
        return stack

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock; LockOrderReversal (recorded in `reversals`) when it is out of order."""
        stack = self._stack()
        if not (self.recursive and self in stack):
            for held in stack:
                if held.rank >= self.rank:
                    reversals.append((self.name, held.name))
                    raise LockOrderReversal(f"lock order reversal: {self.name} (rank {self.rank})"
                                            f" taken while holding {held.name} (rank {held.rank})")
        got = self._lock.acquire(blocking, timeout)
        if got:
            stack.append(self)
        return got

    def release(self) -> None:
        """Release the lock (the most recent acquisition of it by this thread)."""
        stack = self._stack()
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is self:
                del stack[i]
                break
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def mtx(name: str, recursive: bool = False) -> Any:
    """The lock for `name`'s place in LOCK_ORDER (KeyError for a name not in it)."""
    if name not in LOCK_ORDER:
        raise KeyError(f"{name!r} has no place in the lock order")
    if witness_enabled():
        return WitnessLock(name, recursive)
    return threading.RLock() if recursive else threading.Lock()
