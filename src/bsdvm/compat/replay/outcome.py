"""The typed outcome of replaying one call: a status, a reason (class and detail, and the by-design
difference it is when there is one), and the call's text.

Status: AGREE (success vs failure and the errno class match, and a successful mmap mapped what the
trace mapped), DIFFER_BY_DESIGN (the reason's class and call name a row of the rule table
bsdvm.compat.differences: FreeBSD 7 does this on purpose), DIFFER_UNEXPLAINED (any other difference: a
model bug or an unknown), SKIPPED (not comparable: no result in the trace, no counterpart, process
gone).  Imports the trace record, the Linux layer's names and the rule table.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from .. import linux as L
from ..differences import Difference, for_replay
from ..trace import Record


class Status(enum.StrEnum):
    """What replaying one call found."""

    AGREE = "agree"
    DIFFER_BY_DESIGN = "differ-by-design"
    DIFFER_UNEXPLAINED = "differ-unexplained"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Reason:
    """Why a call differs or was skipped.

    Attributes:
        cls: the class, a short stable name ("holes", "mremap-grow", "model-refused", ...).
        detail: one sentence for people.
        difference: the rule-table row this is, when the difference is by design.
    """

    cls: str
    detail: str
    difference: Difference | None = None

    def __str__(self) -> str:
        return f"{self.cls}: {self.detail}"

    @classmethod
    def of(cls, reason_class: str, call: str, detail: str) -> Reason:
        """A reason whose by-design difference, if any, is looked up in the rule table.

        Args:
            reason_class: the class.
            call: the canonical call it happened on (the table rows name calls).
            detail: the sentence.

        Returns:
            the Reason, with `difference` set when (class, call) names a row.
        """
        return cls(reason_class, detail, for_replay(reason_class, call))


@dataclass
class Comparison:
    """What a per-call handler found: the two results as text, the reason when they differ, and the
    model address the call used (for mappings: where the model mapped it)."""

    trace: str
    model: str
    reason: Reason | None = None
    model_addr: int | None = None

    @property
    def agrees(self) -> bool:
        """True when the trace and the model agree on this call."""
        return self.reason is None


@dataclass
class Outcome:
    """One replayed (or skipped) call: its place in the replay, the record, the status, the two
    results as text ("0x7f...", "0", "ENOMEM"), the reason when it differs or was skipped, notes
    (Linux bits not honoured, stand-ins, relocations) and the model address it used."""

    seq: int
    rec: Record
    status: Status
    trace: str
    model: str
    reason: Reason | None = None
    notes: list[str] = field(default_factory=list)
    model_addr: int | None = None

    @property
    def reason_class(self) -> str | None:
        """The reason's class, or None when the call agreed."""
        return self.reason.cls if self.reason else None

    @property
    def disagrees(self) -> bool:
        """True when the trace and the model differ (by design or not)."""
        return self.status in (Status.DIFFER_BY_DESIGN, Status.DIFFER_UNEXPLAINED)

    def call_text(self) -> str:
        """The call as strace or kdump would show it."""
        return format_call(self.rec)

    def as_dict(self) -> dict[str, Any]:
        """The outcome for --json."""
        r = self.rec
        d = self.reason.difference if self.reason else None
        return dict(seq=self.seq, line=r.lineno, pid=r.pid, call=self.call_text(),
                    status=str(self.status), trace=self.trace, model=self.model,
                    reason=str(self.reason) if self.reason else None,
                    reason_class=self.reason_class,
                    difference=d.id if d else None, rule=d.rule if d else None,
                    notes=list(self.notes),
                    model_addr=None if self.model_addr is None else hex(self.model_addr))


def hx(v: Any) -> str:
    """A result or address as the tables show it: NULL, hex, or the text given."""
    return "NULL" if v == 0 else (f"{v:#x}" if isinstance(v, int) else str(v))


def format_call(rec: Record) -> str:
    """`rec` as strace (Linux) or kdump (FreeBSD) would show it, with flag names."""
    a = rec.args
    n = rec.name
    lin = rec.abi == "linux"
    try:
        if n in ("mmap", "mmap2", "old_mmap", "freebsd6_mmap"):
            prot = L.prot_str(a["prot"]) if lin else _bsd_prot(a["prot"])
            flags = L.map_flags_str(a["flags"]) if lin else f"{a['flags']:#x}"
            fd = a.get("fd")
            fds = f"{fd}<{a['path']}>" if a.get("path") else str(fd)
            return f"{n}({hx(a['addr'])}, {a['length']}, {prot}, {flags}, {fds}, " \
                   f"{a.get('offset', 0):#x})"
        if "addr" in a and "length" in a:
            extra = ""
            for k in ("prot", "advice", "flags", "inherit"):
                if k in a:
                    v = a[k]
                    if k == "prot":
                        v = L.prot_str(v) if lin else _bsd_prot(v)
                    elif k == "advice" and lin:
                        v = L.MADV_NAMES.get(v, v)
                    elif k == "flags" and lin and isinstance(v, int):
                        v = _names(v, _LINUX_FLAG_NAMES.get(n, ()))
                    extra += f", {v}"
            return f"{n}({hx(a['addr'])}, {a['length']}{extra})"
        if n == "mremap":
            fl = _names(a.get("flags") or 0, ((L.MREMAP_MAYMOVE, "MREMAP_MAYMOVE"),
                                              (L.MREMAP_FIXED, "MREMAP_FIXED"),
                                              (L.MREMAP_DONTUNMAP, "MREMAP_DONTUNMAP")))
            return f"mremap({hx(a['addr'])}, {a['old_length']}, {a['new_length']}, {fl})"
        if n in ("mlockall",):
            return f"{n}({_names(a.get('flags') or 0, _MCL_NAMES)})"
        if n in ("brk", "break", "obreak"):
            return f"{n}({hx(a.get('addr', 0))})"
    except (KeyError, TypeError):
        pass
    return f"{n}(...)"


_MCL_NAMES = ((1, "MCL_CURRENT"), (2, "MCL_FUTURE"), (4, "MCL_ONFAULT"))

_LINUX_FLAG_NAMES: dict[str, tuple[tuple[int, str], ...]] = {
    "msync": ((L.MS_ASYNC, "MS_ASYNC"), (L.MS_INVALIDATE, "MS_INVALIDATE"), (L.MS_SYNC, "MS_SYNC")),
    "mlock2": ((L.MLOCK_ONFAULT, "MLOCK_ONFAULT"),),
}


def _names(v: int, table: tuple[tuple[int, str], ...]) -> str:
    parts = [nm for bit, nm in table if v & bit]
    rest = v & ~sum(bit for bit, _ in table)
    if rest or not parts:
        parts.append(hex(rest) if rest else "0")
    return "|".join(parts)


def _bsd_prot(p: Any) -> str:
    if not isinstance(p, int):
        return str(p)
    return "|".join(nm for bit, nm in ((1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC"))
                    if p & bit) or "PROT_NONE"


def rwx(p: int) -> str:
    """A protection as procstat's r/w/x letters."""
    return ("r" if p & 1 else "-") + ("w" if p & 2 else "-") + ("x" if p & 4 else "-")
