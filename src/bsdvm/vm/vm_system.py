"""The VM system: everything the VM layer may reach, built first and handed to it.

FreeBSD keeps these as globals (`vm_page_array` and `cnt`, the swap device list, `pagertab`,
`vm_object_list`, the `vm.*` sysctl variables); the model gathers them into one typed object so
that two kernels in one process do not share them and so that the VM layer never reaches back into
`Kernel`.  The kernel builds a VmSystem before anything else (physical memory, swap, fail points,
tunables), then the pagers and the page daemon, and gives it to every map and object it makes:
`VmMap.vmsys` and `VmObject.vm` are this object.

What the VM needs from the layer above comes in as two injected services, never as a kernel
reference: `vnode_ops` (vref/vrele/fsync on the vnode behind a vnode object — FreeBSD's VOP calls
from vnode_pager.c and vm_object.c) and the page daemon's `oom_kill` callback (vm_pageout_oom's
killproc), with `processes` to choose the victim from.

Invariants: every live VmObject is in `objects` (keyed by id); each tunable has exactly one owner,
`tunables` (the kernel's sysctls and attributes read and write it there).
May call: vm.page (PhysMem), vm.pager (SwapSpace, Pagers), kern.fail (fail points).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

from .param import VM_PROT_ALL

if TYPE_CHECKING:
    from ..arch import Arch
    from ..kern.fail import FailPoints
    from .object import VmObject
    from .page import PhysMem
    from .pageout import PageDaemon
    from .pager import Pagers, SwapSpace
    from .pmap import Pte


class VnodeOps(Protocol):
    """The vnode operations the VM layer calls (vnode_pager.c / vm_object.c): a reference for a
    vnode object's mapping, its release when the object dies, and fsync for msync(MS_SYNC)."""

    def vref(self, vp: Any) -> None:
        """Take a use reference on `vp` (vref)."""

    def vrele(self, vp: Any) -> None:
        """Drop a use reference on `vp` (vrele); the last one may reclaim it."""

    def fsync(self, vp: Any) -> None:
        """Write `vp`'s host file through to stable storage (VOP_FSYNC)."""


@dataclass
class VmTunables:
    """The VM's boot-time and sysctl-settable knobs; this object is their one owner.

    vm_kmem_size: size of the kernel map (vm.kmem_size, PAGE-8), read-only after boot.
    max_proc_mmap: entries a map may hold before mmap fails with ENOMEM (vm.max_proc_mmap).
    vm_page_max_wired: system-wide wired page limit (vm.max_wired, PAGE-5).
    sgrowsiz: bytes a grow-down stack grows by at a time (kern.sgrowsiz).
    old_msync: msync(MS_INVALIDATE) discards dirty pages as before 4.0 (vm.old_msync).
    sv_stackprot: the protection of a new stack (the ABI's sv_stackprot).
    """
    vm_kmem_size: int
    max_proc_mmap: int
    vm_page_max_wired: int
    sgrowsiz: int
    old_msync: int = 0
    sv_stackprot: int = VM_PROT_ALL


class VmSystem:
    """Physical memory, swap, the pagers, the object registry, counters and tunables of one model
    system, plus the services injected from above (vnode ops, the OOM kill callback).

    Built by `Kernel` in this order: `VmSystem(arch, phys, swap, fail, tunables)`, then
    `attach_pagers`, `attach_pagedaemon` (optional) and `attach_vnode_ops`/`attach_oom`.
    """

    def __init__(self, arch: Arch, phys: PhysMem, swap: SwapSpace, fail: FailPoints,
                 tunables: VmTunables) -> None:
        self.arch = arch
        self.phys = phys
        self.swap = swap
        self.fail = fail
        self.tunables = tunables
        self.objects: dict[int, VmObject] = {}      # vm_object_list: every live object by id
        self.pv_zone: list[Pte] = []    # the PV ENTRY zone's cache, shared by every pmap (vm.pmap)
        self.stats: dict[str, int] = {"object_collapses": 0, "object_bypasses": 0}
        self.pager: Pagers
        self.pagedaemon: PageDaemon | None = None
        self.vnode_ops: VnodeOps = _NoVnodes()
        self.oom_kill: Callable[[Any], None] = _no_oom_kill
        self.processes: Callable[[], Iterable[Any]] = tuple

    def attach_pagers(self, pager: Pagers) -> None:
        """Install the pager table (vm_pager_allocate and the per-type page-in/page-out)."""
        self.pager = pager

    def attach_pagedaemon(self, daemon: PageDaemon) -> None:
        """Install the page daemon: allocation wakes it below its free_min (vm_page_alloc)."""
        self.pagedaemon = daemon
        self.phys.pagedaemon = daemon.wakeup
        self.phys.free_min = daemon.free_min

    def attach_vnode_ops(self, ops: VnodeOps) -> None:
        """Install the vnode operations the vnode pager and vm_object call."""
        self.vnode_ops = ops

    def attach_oom(self, processes: Callable[[], Iterable[Any]],
                   kill: Callable[[Any], None]) -> None:
        """Install what vm_pageout_oom needs from the process layer: the processes to choose a
        victim from (each with p_flag, p_vmspace, p_pid) and the call that makes one exit."""
        self.processes = processes
        self.oom_kill = kill


class _NoVnodes:
    """The vnode ops of a VM system with no file system attached: there are no vnodes to call."""

    def vref(self, vp: Any) -> None:
        raise RuntimeError("no file system is attached to this VM system")

    def vrele(self, vp: Any) -> None:
        raise RuntimeError("no file system is attached to this VM system")

    def fsync(self, vp: Any) -> None:
        raise RuntimeError("no file system is attached to this VM system")


def _no_oom_kill(p: Any) -> None:
    raise RuntimeError("no process layer is attached to this VM system")
