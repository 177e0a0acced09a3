"""MAC framework entry points and hwpmc(4)-style notifications, reduced to what the seed calls.

A MAC policy is any object; it takes part in a check only if it has the matching method:
  check_vnode_mmap(cred, vp, prot, flags) -> errno   (mac_check_vnode_mmap; nonzero denies)
  priv_check(cred, priv) -> errno                   (mac_priv_check; nonzero denies)
  priv_grant(cred, priv) -> errno                   (mac_priv_grant; 0 grants)
With no policy every check returns 0 (spec MAC-1: GENERIC has no MAC).  hwpmc callbacks receive
(event, **info) and have no effect on the VM.  Lists are copied before iteration so a callback may
register or remove others.  Imports nothing from bsdvm.
"""
from __future__ import annotations

import errno
from bsdvm.kern.lock import mtx


class Hooks:
    def __init__(self) -> None:
        self._policies: list = []
        self._pmc: list = []
        self._lock = mtx("hooks")

    def add_mac_policy(self, policy) -> None:
        with self._lock:
            self._policies = self._policies + [policy]

    def remove_mac_policy(self, policy) -> None:
        with self._lock:
            if not any(p is policy for p in self._policies):
                raise ValueError("MAC policy not registered")
            self._policies = [p for p in self._policies if p is not policy]

    @property
    def mac_policies(self) -> tuple:
        return tuple(self._policies)

    def _deny(self, method: str, *args) -> int:
        for p in self._policies:
            fn = getattr(p, method, None)
            if fn is not None:
                error = fn(*args)
                if error:
                    return int(error)
        return 0

    def mac_check_vnode_mmap(self, cred, vp, prot: int, flags: int) -> int:
        return self._deny("check_vnode_mmap", cred, vp, prot, flags)

    def mac_priv_check(self, cred, priv: int) -> int:
        return self._deny("priv_check", cred, priv)

    def mac_priv_grant(self, cred, priv: int) -> int:
        # MAC_GRANT composition: one granting policy suffices.
        for p in self._policies:
            fn = getattr(p, "priv_grant", None)
            if fn is not None and fn(cred, priv) == 0:
                return 0
        return errno.EPERM

    def on_pmc(self, callback) -> None:
        if not callable(callback):      # else the next executable mmap would fail half-done
            raise TypeError("pmc callback must be callable")
        with self._lock:
            self._pmc = self._pmc + [callback]

    def remove_pmc(self, callback) -> None:
        with self._lock:
            if not any(c is callback for c in self._pmc):
                raise ValueError("pmc callback not registered")
            self._pmc = [c for c in self._pmc if c is not callback]

    def pmc_call_hook(self, event: str, **info) -> None:
        for cb in self._pmc:
            cb(event, **info)
