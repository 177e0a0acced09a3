"""Ties: how the traced kernel's addresses relate to the model's.

The traced kernel and the model place mappings differently, so every mapping the trace created is
*tied* to the one the model created (trace range -> model start).  Later calls have their addresses
translated through the ties.  Invariant: the trace ranges are sorted, disjoint and non-empty;
neighbours that continue the same translation are merged.  Imports nothing from bsdvm.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterator


class Ties:
    """Sorted, disjoint trace ranges [start, end) each tied to a model start address."""

    __slots__ = ("starts", "ends", "ms")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.ms: list[int] = []

    def copy(self) -> Ties:
        """An independent copy (a forked process's ties)."""
        t = Ties()
        t.starts, t.ends, t.ms = self.starts[:], self.ends[:], self.ms[:]
        return t

    def __len__(self) -> int:
        return len(self.starts)

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        return iter(zip(self.starts, self.ends, self.ms, strict=False))

    def translate(self, a: int) -> int | None:
        """The model address of trace address `a`, or None when no tie covers it."""
        i = bisect.bisect_right(self.starts, a) - 1
        if i >= 0 and a < self.ends[i]:
            return self.ms[i] + (a - self.starts[i])
        return None

    def _first(self, a: int) -> int:
        i = bisect.bisect_right(self.starts, a) - 1
        if i < 0 or self.ends[i] <= a:
            i += 1
        return i

    def pieces(self, a: int, b: int) -> list[tuple[int, int, int | None]]:
        """[a, b) cut at tie boundaries: (start, end, model start or None for a gap)."""
        out: list[tuple[int, int, int | None]] = []
        i = self._first(a)
        n = len(self.starts)
        cur = a
        while cur < b:
            if i < n and self.starts[i] <= cur < self.ends[i]:
                e = min(self.ends[i], b)
                out.append((cur, e, self.ms[i] + (cur - self.starts[i])))
                cur = e
                i += 1
            else:
                nxt = self.starts[i] if i < n else b
                e = min(max(nxt, cur), b)
                if e == cur:
                    e = b
                out.append((cur, e, None))
                cur = e
        return out

    def remove(self, a: int, b: int) -> None:
        """Untie trace range [a, b) (ties that overlap it are cut)."""
        i = self._first(a)
        j = i
        n = len(self.starts)
        keep: list[tuple[int, int, int]] = []
        while j < n and self.starts[j] < b:
            s, e, m = self.starts[j], self.ends[j], self.ms[j]
            if s < a:
                keep.append((s, a, m))
            if e > b:
                keep.append((b, e, m + (b - s)))
            j += 1
        if i == j:
            return
        self.starts[i:j] = [k[0] for k in keep]
        self.ends[i:j] = [k[1] for k in keep]
        self.ms[i:j] = [k[2] for k in keep]

    def set(self, a: int, b: int, m: int) -> None:
        """Tie trace range [a, b) to model start `m`, replacing what was tied there."""
        if b <= a:
            return
        self.remove(a, b)
        i = bisect.bisect_left(self.starts, a)
        # merge with neighbours that continue the same translation
        if i > 0 and self.ends[i - 1] == a and self.ms[i - 1] + (a - self.starts[i - 1]) == m:
            i -= 1
            a, m = self.starts[i], self.ms[i]
            del self.starts[i], self.ends[i], self.ms[i]
        if i < len(self.starts) and self.starts[i] == b and self.ms[i] == m + (b - a):
            b = self.ends[i]
            del self.starts[i], self.ends[i], self.ms[i]
        self.starts.insert(i, a)
        self.ends.insert(i, b)
        self.ms.insert(i, m)


