"""sys/compat/linux/linux_emul.c, the part the system-call bodies share: the per-call emulation record.

A Linux body translates its arguments and calls native FreeBSD bodies.  What it could not honour,
ignored or emulated is worth telling (replay prints it next to every disagreement), but the CPU runner
has no use for it.  So a caller that wants the story hangs a `LinuxCallRecord` on the thread
(`td.td_lxrecord`) for one call; the bodies append to it when it is there and skip the bookkeeping when
it is not.

The thread's lasting Linux state (FreeBSD's struct linux_emuldata in td_emuldata: the
set_tid_address and set_robust_list addresses) is a `LinuxEmuldata`, made on first use.

Invariants: a record belongs to exactly one call (the caller sets it before and clears it after);
bodies never depend on a record being present.  May call: nothing above kern.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LinuxCallRecord:
    """What one Linux call did besides its result.

    `notes`: one string per Linux bit or request the layer could not honour, ignored or emulated;
    `why`: set when the layer itself (not the FreeBSD kernel below it) produced the error;
    `bsd_call`/`bsd_args`: the last native FreeBSD call made, with its (C-converted) arguments;
    `read_implies_exec`: the Linux/i386 rule of 7.x linux.ko, None for the arch default.
    """

    notes: list[str] = field(default_factory=list)
    why: str | None = None
    bsd_call: str | None = None
    bsd_args: tuple[Any, ...] = ()
    read_implies_exec: bool | None = None


@dataclass
class LinuxEmuldata:
    """struct linux_emuldata: per-thread Linux state the exit and futex code will read.

    `child_clear_tid`: set_tid_address's address (0 at exit and a futex wake there);
    `robust_list`/`robust_len`: set_robust_list's head and its size."""

    child_clear_tid: int = 0
    robust_list: int = 0
    robust_len: int = 0


def em_find(td: Any) -> LinuxEmuldata:
    """The thread's Linux state (em_find), made on first use."""
    em = getattr(td, "td_emuldata", None)
    if not isinstance(em, LinuxEmuldata):
        em = LinuxEmuldata()
        td.td_emuldata = em
    return em


def emul_record(td: Any) -> LinuxCallRecord | None:
    """The record of the call `td` is making, or None when nobody asked for one."""
    rec = getattr(td, "td_lxrecord", None)
    return rec if isinstance(rec, LinuxCallRecord) else None


def note(td: Any, text: str) -> None:
    """Report one thing the layer could not honour, ignored or emulated."""
    rec = emul_record(td)
    if rec is not None:
        rec.notes.append(text)


def layer_error(td: Any, err: int, why: str) -> int:
    """The layer refuses the call itself: record why, return the (FreeBSD) errno."""
    rec = emul_record(td)
    if rec is not None:
        rec.why = why
    return err


def native_call(td: Any, name: str, body: Any, uap: Any, *record: Any) -> int:
    """Run the native FreeBSD body `name` with `uap`, recording the call and `record` (its arguments
    as the report shows them).  Returns the body's errno; its result is in td.td_retval[0]."""
    rec = emul_record(td)
    if rec is not None:
        rec.bsd_call = name
        rec.bsd_args = record
    td.td_retval[0] = 0
    return int(body(td, uap))
