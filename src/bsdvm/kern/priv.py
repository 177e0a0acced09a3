"""priv(9) of FreeBSD 7.0 (kern_priv.c + the prison check of kern_jail.c) and struct ucred.

Rules (spec PRIV-1/2): a MAC policy may deny first; a jailed credential is refused every privilege outside
the 7.0 jail allow-list (the VM privileges are not in it); then the superuser policy grants everything to
effective uid 0 while security.bsd.suser_enabled is set; then a MAC policy may grant; otherwise EPERM.
Numbers are FreeBSD's sys/priv.h values.  May call: the `hooks` object passed in (kern.hooks.Hooks).
"""
from __future__ import annotations

import errno
from dataclasses import dataclass

PRIV_PROC_SETRLIMIT = 162
PRIV_VFS_READ = 310
PRIV_VFS_WRITE = 311
PRIV_VFS_ADMIN = 312
PRIV_VFS_EXEC = 313
PRIV_VFS_LOOKUP = 314
PRIV_VFS_CHOWN = 317
PRIV_VFS_RETAINSUGID = 319
PRIV_VFS_SETGID = 339
PRIV_VFS_STICKYFILE = 341
PRIV_VFS_SYSFLAGS = 342
PRIV_VM_MADV_PROTECT = 360
PRIV_VM_MLOCK = 361
PRIV_VM_MUNLOCK = 362

# The part of 7.0's prison_priv_check() allow-list that this model uses: jailed root keeps its file
# system DAC overrides, but not system flags (jail_chflags_allowed defaults to 0) nor any VM privilege.
JAIL_ALLOWED_PRIVS = frozenset({
    PRIV_VFS_READ, PRIV_VFS_WRITE, PRIV_VFS_ADMIN, PRIV_VFS_EXEC, PRIV_VFS_LOOKUP, PRIV_VFS_CHOWN,
    PRIV_VFS_RETAINSUGID, PRIV_VFS_SETGID, PRIV_VFS_STICKYFILE,
})


@dataclass
class Ucred:
    cr_uid: int = 0          # effective uid: the one privilege and DAC decisions use
    cr_ruid: int = 0
    cr_svuid: int = 0
    cr_gid: int = 0
    cr_rgid: int = 0
    cr_groups: tuple = ()
    cr_prison: str | None = None

    @classmethod
    def for_user(cls, uid: int, gid: int, groups: tuple = (), prison: str | None = None) -> "Ucred":
        return cls(uid, uid, uid, gid, gid, (gid, *[g for g in groups if g != gid]), prison)

    def groupmember(self, gid: int) -> bool:
        return gid == self.cr_gid or gid in self.cr_groups

    def jailed(self) -> bool:
        return self.cr_prison is not None


class PrivPolicy:
    """The system's privilege policy: security.bsd.suser_enabled (its one owner) and the MAC
    hooks consulted first.  Shared by priv_check and the VFS's own checks."""

    def __init__(self, hooks=None, suser_enabled: bool = True) -> None:
        self.hooks = hooks
        self.suser_enabled = suser_enabled

    def check(self, cred: Ucred, priv: int) -> int:
        """priv_check_cred under this policy: 0 when granted, else EPERM (or the MAC errno)."""
        return priv_check_cred(cred, priv, self.hooks, self.suser_enabled)


def priv_check_cred(cred: Ucred, priv: int, hooks=None, suser_enabled: bool = True) -> int:
    if hooks is not None:
        error = hooks.mac_priv_check(cred, priv)
        if error:
            return error
    if cred.cr_prison is not None and priv not in JAIL_ALLOWED_PRIVS:
        return errno.EPERM
    if suser_enabled and cred.cr_uid == 0:
        return 0
    if hooks is not None and hooks.mac_priv_grant(cred, priv) == 0:
        return 0
    return errno.EPERM


def priv_check(td, priv: int) -> int:
    k = td.td_proc.p_kernel
    return priv_check_cred(td.td_ucred, priv, k.hooks, k.suser_enabled)
