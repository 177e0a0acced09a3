"""Unit tests for kern/sysctl.py, kern/priv.py, kern/hooks.py and kern/fail.py."""
import errno
from types import SimpleNamespace

import pytest

from bsdvm.kern import priv as P
from bsdvm.kern.fail import FailPoints
from bsdvm.kern.hooks import Hooks
from bsdvm.kern.sysctl import Sysctl

VM_PRIVS = (P.PRIV_VM_MADV_PROTECT, P.PRIV_VM_MLOCK, P.PRIV_VM_MUNLOCK)


# ---- sysctl ------------------------------------------------------------------------------------------

def test_sysctl_values_and_errors():
    s = Sysctl()
    s.register_value("vm.max_proc_mmap", 100)
    s.register_value("vm.stats.vm.v_page_size", 4096, writable=False, description="page size")
    assert s.get("vm.max_proc_mmap") == (0, 100)
    assert s.set("vm.max_proc_mmap", 7) == 0 and s.value("vm.max_proc_mmap") == 7
    assert s.set("vm.stats.vm.v_page_size", 1) == errno.EPERM
    assert s.set("vm.max_proc_mmap", "8") == errno.EINVAL
    assert s.set("vm.max_proc_mmap", True) == errno.EINVAL
    assert s.get("no.such") == (errno.ENOENT, 0)
    assert s.set("no.such", 1) == errno.ENOENT
    with pytest.raises(KeyError):
        s.value("no.such")
    assert s.describe("vm.stats.vm.v_page_size") == "page size"
    with pytest.raises(ValueError):
        s.register_value("vm.max_proc_mmap", 1)


def test_sysctl_procs_and_listing():
    s = Sysctl()
    state = {"wired": 5}

    def set_wired(v):
        if v < 0:
            return errno.EINVAL
        state["wired"] = v
    s.register("vm.max_wired", lambda: state["wired"], set_wired)
    s.register("vm.stats.vm.v_free_count", lambda: 42)
    s.register_value("vmx.other", 1)
    s.register_value("security.bsd.suser_enabled", 1)
    assert s.set("vm.max_wired", -1) == errno.EINVAL and state["wired"] == 5
    assert s.set("vm.max_wired", 9) == 0 and state["wired"] == 9
    assert s.names("vm") == ["vm.max_wired", "vm.stats.vm.v_free_count"]
    assert s.names("vm.stats.") == ["vm.stats.vm.v_free_count"]
    assert s.names() == sorted(s.names())
    assert s.get_all("vm.stats") == {"vm.stats.vm.v_free_count": 42}
    assert "vmx.other" in s and "vm.nope" not in s


# ---- priv --------------------------------------------------------------------------------------------

def test_priv_root_nonroot_jailed():
    root, user, jroot = P.Ucred(), P.Ucred.for_user(1000, 1000), P.Ucred(cr_prison="www")
    for pv in VM_PRIVS:
        assert P.priv_check_cred(root, pv) == 0
        assert P.priv_check_cred(user, pv) == errno.EPERM
        assert P.priv_check_cred(jroot, pv) == errno.EPERM
        assert P.priv_check_cred(root, pv, None, suser_enabled=False) == errno.EPERM
    assert P.priv_check_cred(jroot, P.PRIV_VFS_READ) == 0          # on the jail allow-list
    assert P.priv_check_cred(jroot, P.PRIV_VFS_SYSFLAGS) == errno.EPERM


def test_priv_uses_effective_uid():
    setuid_root = P.Ucred(cr_uid=0, cr_ruid=1000, cr_svuid=0, cr_gid=1000, cr_rgid=1000)
    assert P.priv_check_cred(setuid_root, P.PRIV_VM_MLOCK) == 0
    dropped = P.Ucred(cr_uid=1000, cr_ruid=0, cr_svuid=0)
    assert P.priv_check_cred(dropped, P.PRIV_VM_MLOCK) == errno.EPERM


def test_priv_mac_deny_and_grant():
    h = Hooks()

    class Deny:
        def priv_check(self, cred, pv):
            return errno.EACCES if pv == P.PRIV_VM_MLOCK else 0

    class Grant:
        def priv_grant(self, cred, pv):
            return 0 if pv == P.PRIV_VM_MUNLOCK else errno.EPERM

    h.add_mac_policy(Deny())
    h.add_mac_policy(Grant())
    root, user = P.Ucred(), P.Ucred.for_user(1000, 1000)
    assert P.priv_check_cred(root, P.PRIV_VM_MLOCK, h) == errno.EACCES    # MAC denies even root
    assert P.priv_check_cred(user, P.PRIV_VM_MUNLOCK, h) == 0             # MAC grants
    assert P.priv_check_cred(user, P.PRIV_VM_MADV_PROTECT, h) == errno.EPERM
    jailed = P.Ucred.for_user(1000, 1000, prison="j")
    assert P.priv_check_cred(jailed, P.PRIV_VM_MUNLOCK, h) == errno.EPERM  # the jail refuses first


def test_priv_check_thread():
    kernel = SimpleNamespace(hooks=Hooks(), suser_enabled=True)
    td = SimpleNamespace(td_ucred=P.Ucred(), td_proc=SimpleNamespace(p_kernel=kernel))
    assert P.priv_check(td, P.PRIV_VM_MLOCK) == 0
    kernel.suser_enabled = False
    assert P.priv_check(td, P.PRIV_VM_MLOCK) == errno.EPERM
    td.td_ucred = P.Ucred.for_user(5, 5)
    kernel.suser_enabled = True
    assert P.priv_check(td, P.PRIV_VM_MLOCK) == errno.EPERM


def test_ucred_groups():
    c = P.Ucred.for_user(1000, 100, groups=(5, 100, 7))
    assert c.cr_groups == (100, 5, 7) and c.groupmember(7) and not c.groupmember(8)
    assert not c.jailed() and P.Ucred(cr_prison="x").jailed()


# ---- hooks -------------------------------------------------------------------------------------------

def test_mac_vnode_mmap_policies():
    h = Hooks()
    assert h.mac_check_vnode_mmap(None, None, 1, 1) == 0
    seen = []

    class Watch:
        def check_vnode_mmap(self, cred, vp, prot, flags):
            seen.append((vp, prot, flags))
            return 0

    class NoExec:
        def check_vnode_mmap(self, cred, vp, prot, flags):
            return errno.EACCES if prot & 4 else 0

    w, nx, other = Watch(), NoExec(), object()
    for p in (w, other, nx):
        h.add_mac_policy(p)
    assert h.mac_check_vnode_mmap("cred", "vp", 1, 2) == 0
    assert h.mac_check_vnode_mmap("cred", "vp", 5, 2) == errno.EACCES
    assert seen == [("vp", 1, 2), ("vp", 5, 2)]
    h.remove_mac_policy(nx)
    assert h.mac_check_vnode_mmap("cred", "vp", 5, 2) == 0
    with pytest.raises(ValueError):
        h.remove_mac_policy(nx)
    assert h.mac_policies == (w, other)


def test_pmc_hooks():
    h = Hooks()
    h.pmc_call_hook("mmap", pm_file=None, pm_address=0, path="")      # no callbacks: nothing happens
    events = []
    def cb(event, **info):
        events.append((event, info))
    h.on_pmc(cb)
    h.pmc_call_hook("mmap", pm_file="vp", pm_address=0x1000, path="/bin/x")
    h.pmc_call_hook("munmap", pm_address=0x1000, pm_size=4096)
    assert events == [("mmap", {"pm_file": "vp", "pm_address": 0x1000, "path": "/bin/x"}),
                      ("munmap", {"pm_address": 0x1000, "pm_size": 4096})]
    h.remove_pmc(cb)
    h.pmc_call_hook("munmap", pm_address=0, pm_size=1)
    assert len(events) == 2


# ---- fail points -------------------------------------------------------------------------------------

def test_fail_points():
    f = FailPoints()
    assert f.check("vget") == 0
    f.set("vget", errno.ENOENT)
    assert f.check("vget") == errno.ENOENT and f.check("vget") == errno.ENOENT
    assert f.check("vop_getattr") == 0
    f.set("vget", 0)
    assert f.check("vget") == 0
    f.set("vnode_pager_alloc", errno.ENOMEM, count=2)
    assert [f.check("vnode_pager_alloc") for _ in range(3)] == [errno.ENOMEM, errno.ENOMEM, 0]
    f.set("vm_map_inherit", errno.EINVAL)
    assert f.armed() == {"vm_map_inherit": errno.EINVAL}
    f.clear()
    assert f.check("vm_map_inherit") == 0
    with pytest.raises(ValueError):
        f.set("x", -1)
