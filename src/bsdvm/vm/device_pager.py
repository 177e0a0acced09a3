"""device_pager.c: the pager of character devices' VM objects (spec section 6, PGR-5).

A device object's pages are fictitious: each is a window onto the device's own memory at the
"physical address" the driver's d_mmap returns, made on first touch and never paged out.
Invariants: a cdev has at most one device object (cdev.si_object), which is the object every
mapping of the device shares; its pages are PG_FICTITIOUS and always valid.  May call: vm.object,
vm.page, kern.devices (dev_mmap, the cdevsw entry point).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ..kern.devices import Cdev, dev_mmap
from .object import vm_object_allocate
from .page import VmPage
from .param import (OBJT_DEVICE, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PG_FICTITIOUS, VM_PAGER_ERROR,
                    VM_PAGER_OK, VM_PROT_READ, atop, round_page)

if TYPE_CHECKING:
    from .vm_system import VmSystem
    from .object import VmObject


class DevicePager:
    """devicepagerops."""

    fictitious = True           # getpages makes its own pages: the fault allocates no frame
    clustered = False

    def __init__(self, vm: VmSystem) -> None:
        self.vm = vm

    def alloc(self, cdev, size: int, prot: int, foff: int) -> VmObject | None:
        """dev_pager_alloc, PGR-5: every page of the range is probed with the requested
        protection; None when the offset is not page aligned or the driver refuses a page."""
        if foff & PAGE_MASK:
            return None
        off = foff
        end = foff + round_page(size)
        while off < end:
            err, _ = dev_mmap(cdev, off, prot)
            if err:
                return None
            off += PAGE_SIZE
        npages = atop(foff + size)
        obj = cdev.si_object
        if obj is None:
            obj = vm_object_allocate(self.vm, OBJT_DEVICE, npages)
            obj.handle = cdev
            cdev.si_object = obj
        else:
            obj.ref_count += 1
            if npages > obj.size:
                obj.size = npages
        return obj

    def dealloc(self, obj: VmObject) -> None:
        """dev_pager_dealloc: the cdev forgets its terminated object."""
        if obj.handle is not None and getattr(obj.handle, "si_object", None) is obj:
            obj.handle.si_object = None

    def getpages(self, obj: VmObject, pindex: int, m: VmPage | None, behind: int = 0,
                 ahead: int = 0, lo_limit: int | None = None, hi_limit: int | None = None) -> int:
        """dev_pager_getpages: enter a fictitious page over the device memory at d_mmap(offset)
        as obj.pages[pindex] (the caller passes no frame: m is None).  VM_PAGER_ERROR when the
        driver refuses the offset (FreeBSD asserts it never does), else VM_PAGER_OK."""
        cdev = cast(Cdev, obj.handle)
        err, paddr = dev_mmap(cdev, pindex << PAGE_SHIFT, VM_PROT_READ)
        if err:
            return VM_PAGER_ERROR
        assert cdev.si_memory is not None
        fake = VmPage(obj, pindex, memoryview(cdev.si_memory), paddr, PG_FICTITIOUS, paddr)
        fake.valid = True
        obj.pages[pindex] = fake
        obj.resident_page_count += 1
        return VM_PAGER_OK

    def putpages(self, obj: VmObject, pages: list[VmPage], sync: bool) -> int:
        """dev_pager_putpages: device pages are the device's memory and are never paged out;
        FreeBSD panics if asked, and so does the model (an internal error, not an errno)."""
        raise RuntimeError("dev_pager_putpages called: device pages are never paged out")

    def haspage(self, obj: VmObject, pindex: int) -> bool:
        """dev_pager_haspage: the device backs every page of its object."""
        return True
