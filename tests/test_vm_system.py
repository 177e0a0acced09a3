"""Issue 8 item 5: the VM layer gets a typed VM-system object, built first and injected, and never
reaches back into Kernel; each tunable has one owner; the OOM kill is a callback."""
from __future__ import annotations

import ast
import errno
import pathlib

import pytest

from bsdvm import Kernel
from bsdvm.mman import MAP_ANON, MAP_PRIVATE, PROT_READ, PROT_WRITE
from bsdvm.vm.object import vm_object_allocate
from bsdvm.vm.param import OBJT_DEFAULT, PAGE_SIZE
from bsdvm.vm.vm_system import VmSystem

VM_DIR = pathlib.Path(__file__).resolve().parent.parent / "src" / "bsdvm" / "vm"


def test_vm_layer_objects_and_maps_hold_the_vm_system_not_the_kernel():
    with Kernel(physmem="4M", swap="4M") as k:
        assert isinstance(k.vm, VmSystem)
        p = k.spawn()
        a = p.mmap(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE)
        p.mem_write(a, b"x")
        m = p.proc.p_vmspace.vm_map
        assert m.vmsys is k.vm
        for e in m.entries():
            if e.object is not None:
                assert e.object.vm is k.vm
        # the kernel's views are the VM system's own parts, not copies
        assert k.objects is k.vm.objects and k.pager is k.vm.pager and k.phys is k.vm.phys
        assert k.pagedaemon is k.vm.pagedaemon and k.pagedaemon.vmsys is k.vm


def test_vm_modules_never_name_the_kernel():
    """No module under vm/ reaches a `kernel` or `p_kernel` attribute, except the system-call
    bodies (mmap.py, unix.py: the calling process's ABI word size and its MAC/PMC hooks) and the
    debug invariants, which check the process table against the VM."""
    allowed = {"mmap.py", "unix.py", "invariants.py"}
    for path in sorted(VM_DIR.glob("*.py")):
        if path.name in allowed:
            continue
        tree = ast.parse(path.read_text())
        names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not names & {"kernel", "p_kernel", "vfs_hooks"}, path.name


def test_no_private_name_crosses_a_module_boundary_from_vm():
    """`from .x import _y` and `mod._y(...)` across vm/ modules are gone (pmap.vpns,
    PG_MADV_FREED are public now)."""
    for path in sorted(VM_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not any(a.name.startswith("_") and not a.name.startswith("__")
                               for a in node.names), (path.name, node.module)


def test_each_vm_tunable_has_one_owner():
    with Kernel(physmem="4M", swap="4M") as k:
        k.sysctl("vm.max_proc_mmap", 7)
        assert k.vm.tunables.max_proc_mmap == 7 and k.max_proc_mmap == 7
        k.vm_page_max_wired = 5
        assert k.sysctl("vm.max_wired") == 5 and k.vm.tunables.vm_page_max_wired == 5
        k.sysctl("kern.sgrowsiz", 2 * PAGE_SIZE)
        assert k.vm.tunables.sgrowsiz == 2 * PAGE_SIZE
        # mlock sees the one value
        p = k.spawn()
        a = p.mmap(0, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE)
        with pytest.raises(OSError) as ei:
            p.mlock(a, 8 * PAGE_SIZE)
        assert ei.value.errno == errno.ENOMEM


def test_suser_enabled_has_one_owner_shared_by_priv_check_and_the_vfs():
    with Kernel(physmem="4M", swap="4M") as k:
        assert k.vfs.priv_policy is k.priv_policy
        k.sysctl("security.bsd.suser_enabled", 0)
        assert k.suser_enabled is False and k.vfs.priv_policy.suser_enabled is False
        k.suser_enabled = True
        assert k.sysctl("security.bsd.suser_enabled") == 1
        assert not hasattr(k.vfs, "suser_enabled")


def test_oom_kill_goes_through_the_injected_callback():
    with Kernel(physmem="4M", swap="4M") as k:
        victims = []
        kill = k.vm.oom_kill
        k.vm.attach_oom(k.vm.processes, lambda p: (victims.append(p.p_pid), kill(p)))
        big, small = k.spawn(), k.spawn()
        a = big.mmap(0, 32 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE)
        for i in range(32):
            big.mem_write(a + i * PAGE_SIZE, b"y")
        victim = k.pagedaemon.oom_kill()
        assert victim is big.proc and victims == [big.proc.p_pid]
        assert big.proc.p_pid not in k.procs and small.proc.p_pid in k.procs


def test_a_vm_system_without_a_file_system_refuses_vnode_calls():
    with Kernel(physmem="4M", swap="4M") as k:
        vmsys = VmSystem(k.arch, k.phys, k.swap, k.fail, k.vm.tunables)
        with pytest.raises(RuntimeError):
            vmsys.vnode_ops.vref(object())
        obj = vm_object_allocate(k.vm, OBJT_DEFAULT, 1)
        assert obj.vm is k.vm and k.objects[obj.id] is obj
        from bsdvm.vm.object import vm_object_deallocate
        vm_object_deallocate(obj)
        assert obj.id not in k.objects
