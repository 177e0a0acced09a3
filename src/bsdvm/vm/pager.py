"""vm_pager.c: the pager protocol and its table by object type (spec section 6).

Every VM object type has one pager, FreeBSD's `struct pagerops` (alloc, dealloc, getpages,
putpages, haspage), chosen through `pagertab[obj.type]`: the default and swap pagers
(vm/swap_pager.py), the vnode pager (vm/vnode_pager.py) and the device pager
(vm/device_pager.py).  The fault handler, the object code and the page daemon call pagers only
through this table.
Invariants: pagertab has exactly one entry for each of OBJT_DEFAULT, OBJT_SWAP, OBJT_VNODE and
OBJT_DEVICE.  May call: vm.swap_pager, vm.vnode_pager, vm.device_pager.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .device_pager import DevicePager
from .param import OBJT_DEFAULT, OBJT_DEVICE, OBJT_SWAP, OBJT_VNODE
from .swap_pager import DefaultPager, SwapPager, SwapSpace
from .vnode_pager import VnodePager

if TYPE_CHECKING:
    from .object import VmObject
    from .page import VmPage
    from .vm_system import VmSystem

__all__ = ["PagerOps", "Pagers", "SwapSpace", "DefaultPager", "SwapPager", "VnodePager",
           "DevicePager"]


class PagerOps(Protocol):
    """struct pagerops.

    `fictitious`: getpages makes its own (fictitious) pages, so the fault hands it no frame.
    `clustered`: the fault sizes a read-ahead cluster (behind, ahead, within [lo_limit, hi_limit])
    for getpages; other pagers read the one page.
    """

    fictitious: bool
    clustered: bool

    def alloc(self, handle, size: int, prot: int, off: int) -> VmObject | None:
        """pgo_alloc: the object for `handle` covering [off, off+size), or None (refused)."""
        ...

    def dealloc(self, obj: VmObject) -> None:
        """pgo_dealloc: the object is being terminated; release what the pager keeps for it."""
        ...

    def getpages(self, obj: VmObject, pindex: int, m: VmPage | None, behind: int = 0,
                 ahead: int = 0, lo_limit: int | None = None, hi_limit: int | None = None) -> int:
        """pgo_getpages: make page pindex of obj valid (m, or for a fictitious pager a page of
        its own in obj.pages).  Returns VM_PAGER_OK, VM_PAGER_FAIL (the pager has no copy),
        VM_PAGER_BAD (outside the object) or VM_PAGER_ERROR (I/O error)."""
        ...

    def putpages(self, obj: VmObject, pages: list[VmPage], sync: bool) -> int:
        """pgo_putpages: write dirty pages to the backing store.  Returns 0 or an errno; pages
        that were not written stay dirty."""
        ...

    def haspage(self, obj: VmObject, pindex: int) -> bool:
        """pgo_haspage: whether the backing store holds a copy of page pindex."""
        ...


class Pagers:
    """The VM system's pagers: `pagertab` by object type, vm_pager_allocate and friends, and the
    vnode pager's services to the VFS (the VFS's `vm_hooks`).  Built with the injected VmSystem
    (`Pagers(vmsys)`), which every pager holds as `vm`; none of them reaches the kernel."""

    def __init__(self, vm: VmSystem) -> None:
        self.vm = vm
        self.default = DefaultPager(vm)
        self.swap = SwapPager(vm)
        self.vnode = VnodePager(vm)
        self.device = DevicePager(vm)
        self.pagertab: dict[int, PagerOps] = {
            OBJT_DEFAULT: self.default,
            OBJT_SWAP: self.swap,
            OBJT_VNODE: self.vnode,
            OBJT_DEVICE: self.device,
        }

    # -- vm_pager.c -----------------------------------------------------------------------------
    def vm_pager_allocate(self, objtype: int, handle, size: int, prot: int,
                          off: int) -> VmObject | None:
        """The object of type `objtype` for `handle` covering [off, off+size); None if refused."""
        ops = self.pagertab.get(objtype)
        if ops is None:
            return None
        return ops.alloc(handle, size, prot, off)

    def vm_pager_deallocate(self, obj: VmObject) -> None:
        """Tell the object's pager that the object is being terminated."""
        self.pagertab[obj.type].dealloc(obj)

    def vm_pager_put_pages(self, obj: VmObject, pages: list[VmPage], sync: bool) -> int:
        """Write dirty pages of obj to its backing store: 0 or an errno."""
        return self.pagertab[obj.type].putpages(obj, pages, sync)

    def vm_pager_has_page(self, obj: VmObject, pindex: int) -> bool:
        """Whether obj's backing store holds page pindex."""
        return self.pagertab[obj.type].haspage(obj, pindex)

    # -- the VFS's view of the VM (vm_hooks): vnode pager services ------------------------------
    def vnode_create_vobject(self, vp) -> None:
        """Give a regular file its VM object (PGR-3); see VnodePager.vnode_create_vobject."""
        self.vnode.vnode_create_vobject(vp)

    def vnode_destroy_vobject(self, vp) -> None:
        """Terminate a reclaimed vnode's VM object."""
        self.vnode.vnode_destroy_vobject(vp)

    def vnode_pager_flush(self, vp) -> int:
        """Write a vnode's dirty pages back before reclaim: 0 or an errno."""
        return self.vnode.vnode_pager_flush(vp)

    def vnode_pager_setsize(self, vp, nsize: int) -> None:
        """The file's size changed: drop or zero the pages past the new end."""
        self.vnode.vnode_pager_setsize(vp, nsize)

    def vn_read(self, vp, offset: int, n: int) -> bytes:
        """Coherent read(2) of a regular file."""
        return self.vnode.vn_read(vp, offset, n)

    def vn_write(self, vp, offset: int, data) -> None:
        """Coherent write(2) of a regular file."""
        self.vnode.vn_write(vp, offset, data)
