"""The sysctl tree: named integer knobs (vm.max_proc_mmap, vm.stats.vm.*, security.bsd.*, ...).

Each node has a getter and, if writable, a setter; setters validate and may return an errno (None or 0
is success), so a node can refuse a value as a SYSCTL_PROC handler does.  Invariant: values are ints
(bool is refused as a value).  Imports nothing from bsdvm.
"""
from __future__ import annotations

import errno
from bsdvm.kern.lock import mtx


class Sysctl:
    def __init__(self) -> None:
        self._nodes: dict[str, tuple] = {}          # name -> (getter, setter | None, description)
        self._lock = mtx("sysctl", recursive=True)

    def register(self, name: str, getter, setter=None, description: str = "") -> None:
        if not name or name.startswith(".") or name.endswith(".") or ".." in name:
            raise ValueError(f"bad sysctl name {name!r}")
        with self._lock:
            if name in self._nodes:
                raise ValueError(f"sysctl {name} already registered")
            self._nodes[name] = (getter, setter, description)

    def register_value(self, name: str, initial: int, writable: bool = True, description: str = "") -> None:
        cell = [int(initial)]

        def setter(v: int) -> None:
            cell[0] = v
        self.register(name, lambda: cell[0], setter if writable else None, description)

    def unregister(self, name: str) -> None:
        with self._lock:
            del self._nodes[name]

    def get(self, name: str) -> tuple[int, int]:
        node = self._nodes.get(name)
        if node is None:
            return errno.ENOENT, 0
        return 0, int(node[0]())

    def set(self, name: str, value) -> int:
        node = self._nodes.get(name)
        if node is None:
            return errno.ENOENT
        if node[1] is None:
            return errno.EPERM
        if not isinstance(value, int) or isinstance(value, bool):
            return errno.EINVAL
        with self._lock:
            return node[1](value) or 0

    def value(self, name: str) -> int:
        error, v = self.get(name)
        if error:
            raise KeyError(name)
        return v

    def describe(self, name: str) -> str:
        return self._nodes[name][2]

    def writable(self, name: str) -> bool:
        return self._nodes[name][1] is not None

    def names(self, prefix: str = "") -> list[str]:
        if not prefix:
            return sorted(self._nodes)
        if prefix.endswith("."):
            return sorted(n for n in self._nodes if n.startswith(prefix))
        # "vm" names the subtree vm.*, not vmfoo.*
        return sorted(n for n in self._nodes if n == prefix or n.startswith(prefix + "."))

    def get_all(self, prefix: str = "") -> dict[str, int]:
        return {n: self.get(n)[1] for n in self.names(prefix)}

    def __contains__(self, name: str) -> bool:
        return name in self._nodes
