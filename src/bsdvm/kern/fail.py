"""Fail points in the spirit of FreeBSD fail(9): named places in kernel code where a test can inject an
errno.  Invariant: an unset (or cleared) point returns 0, so production paths cost one dict lookup.
A point may be armed for a number of hits (fail(9)'s "N*return(E)"), after which it clears itself.
Imports nothing from bsdvm; any kernel module may call check().
"""
from __future__ import annotations

from bsdvm.kern.lock import mtx


class FailPoints:
    def __init__(self) -> None:
        self._points: dict[str, list] = {}        # name -> [errno, remaining hits or None]
        self._lock = mtx("failpoints")

    def set(self, name: str, error: int, count: int | None = None) -> None:
        """Arm `name` to return `error` (0 clears), forever or for the next `count` checks."""
        if not isinstance(error, int) or error < 0:
            raise ValueError("error must be a non-negative errno")
        if count is not None and count <= 0:
            raise ValueError("count must be positive")
        with self._lock:
            if error == 0:
                self._points.pop(name, None)
            else:
                self._points[name] = [error, count]

    def check(self, name: str) -> int:
        if not self._points:                       # fast path: nothing armed anywhere
            return 0
        with self._lock:
            p = self._points.get(name)
            if p is None:
                return 0
            if p[1] is not None:
                p[1] -= 1
                if p[1] == 0:
                    del self._points[name]
            return p[0]

    def clear(self) -> None:
        with self._lock:
            self._points.clear()

    def armed(self) -> dict[str, int]:
        with self._lock:
            return {k: v[0] for k, v in self._points.items()}
