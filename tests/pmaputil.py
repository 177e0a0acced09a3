"""Pages for the pmap's unit tests: valid pages of a fresh anonymous object, and their release."""
from __future__ import annotations

from bsdvm.vm import pmap as pm
from bsdvm.vm.object import vm_object_allocate, vm_object_deallocate
from bsdvm.vm.param import OBJT_DEFAULT


def object_pages(k, n):
    """(object, [its n pages, valid]) allocated from kernel k's physical memory."""
    o = vm_object_allocate(k.vm, OBJT_DEFAULT, n)
    ps = []
    for i in range(n):
        m = k.phys.alloc(o, i)
        m.valid = True
        ps.append(m)
    return o, ps


def release(o, ps):
    """Remove every translation of the pages and drop the object (its pages go with it)."""
    for m in ps:
        pm.pmap_remove_all(m)
    vm_object_deallocate(o)
