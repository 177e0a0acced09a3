"""vm/pager.py's pagertab (FreeBSD's struct pagerops by object type): one pager per object type,
each answering alloc/dealloc/getpages/putpages/haspage, and the VM reaching pagers only through it."""
import errno
import os

import pytest

from bsdvm import Kernel, mman
from bsdvm.kern import devices
from bsdvm.vm.pager import DefaultPager, DevicePager, PagerOps, SwapPager, VnodePager
from bsdvm.vm.param import (OBJT_DEFAULT, OBJT_DEVICE, OBJT_SWAP, OBJT_VNODE, PAGE_SIZE,
                            VM_PAGER_FAIL, VM_PAGER_OK, VM_PROT_READ)

PG = PAGE_SIZE


@pytest.fixture
def k():
    with Kernel(physmem="4M", swap="4M") as kern:
        yield kern


def test_pagertab_has_one_pager_per_object_type(k):
    tab = k.pager.pagertab
    assert sorted(tab) == sorted([OBJT_DEFAULT, OBJT_SWAP, OBJT_VNODE, OBJT_DEVICE])
    assert isinstance(tab[OBJT_DEFAULT], DefaultPager) and isinstance(tab[OBJT_SWAP], SwapPager)
    assert isinstance(tab[OBJT_VNODE], VnodePager) and isinstance(tab[OBJT_DEVICE], DevicePager)
    for ops in tab.values():
        for name in ("alloc", "dealloc", "getpages", "putpages", "haspage"):
            assert callable(getattr(ops, name))
        assert isinstance(ops.fictitious, bool) and isinstance(ops.clustered, bool)
    assert [t for t, ops in tab.items() if ops.fictitious] == [OBJT_DEVICE]
    assert [t for t, ops in tab.items() if ops.clustered] == [OBJT_VNODE]
    _typed: PagerOps = tab[OBJT_SWAP]          # the implementations satisfy the protocol
    assert _typed is k.pager.swap


def test_vm_pager_allocate_refuses_an_unknown_type_and_a_default_object_with_a_handle(k):
    assert k.pager.vm_pager_allocate(99, None, PG, VM_PROT_READ, 0) is None
    assert k.pager.vm_pager_allocate(OBJT_DEFAULT, object(), PG, VM_PROT_READ, 0) is None
    obj = k.pager.vm_pager_allocate(OBJT_DEFAULT, None, PG + 1, VM_PROT_READ, 0)
    assert obj.type == OBJT_DEFAULT and obj.size == 2
    k.pager.vm_pager_deallocate(obj)


def test_default_pager_has_nothing_and_its_first_pageout_makes_the_object_swap(k):
    obj = k.pager.vm_pager_allocate(OBJT_DEFAULT, None, PG, VM_PROT_READ, 0)
    m = k.phys.alloc(obj, 0)
    assert k.pager.vm_pager_has_page(obj, 0) is False
    assert k.pager.default.getpages(obj, 0, m) == VM_PAGER_FAIL
    m.data[:4] = b"swap"
    m.dirty = True
    assert k.pager.vm_pager_put_pages(obj, [m], False) == 0
    assert obj.type == OBJT_SWAP and not m.dirty and k.pager.vm_pager_has_page(obj, 0)
    m.valid = False
    m.data[:4] = b"...."
    assert k.pager.vm_pager_has_page(obj, 1) is False
    assert k.pager.swap.getpages(obj, 0, m) == VM_PAGER_OK
    assert bytes(m.data[:4]) == b"swap" and m.valid
    assert k.swap.used == 1
    k.phys.free(m)
    from bsdvm.vm.object import vm_object_terminate
    vm_object_terminate(obj)                    # swap_pager_dealloc gives the block back
    assert k.swap.used == 0


def test_swap_pager_putpages_reports_a_full_swap_and_leaves_the_page_dirty():
    with Kernel(physmem="4M", swap="0") as k:
        obj = k.pager.vm_pager_allocate(OBJT_DEFAULT, None, PG, VM_PROT_READ, 0)
        m = k.phys.alloc(obj, 0)
        m.dirty = True
        assert k.pager.vm_pager_put_pages(obj, [m], False) == errno.ENOSPC
        assert m.dirty and obj.type == OBJT_DEFAULT and not obj.swblocks
        k.phys.free(m)
        k.pager.vm_pager_deallocate(obj)


def test_device_pager_probes_through_dev_mmap_and_its_object_is_forgotten_on_terminate(k):
    # a device without d_mmap refuses (dev_mmap's ENODEV): no object
    assert k.pager.vm_pager_allocate(OBJT_DEVICE, devices.make_null(), PG, VM_PROT_READ, 0) is None
    dev = k.make_dev("fb", 2 * PG)
    assert k.pager.vm_pager_allocate(OBJT_DEVICE, dev, 3 * PG, VM_PROT_READ, 0) is None  # past end
    p = k.spawn()
    fd = p.open("/dev/fb", 2)
    a = p.mmap(0, 2 * PG, mman.PROT_READ | mman.PROT_WRITE, mman.MAP_SHARED, fd, 0)
    p.mem_write(a + PG, b"dev!")
    obj = dev.si_object
    assert obj.type == OBJT_DEVICE and k.pager.vm_pager_has_page(obj, 1)
    assert obj.pages[1].fictitious and bytes(dev.si_memory[PG:PG + 4]) == b"dev!"
    with pytest.raises(RuntimeError):
        k.pager.vm_pager_put_pages(obj, [obj.pages[1]], False)   # FreeBSD panics
    p.exit()
    assert dev.si_object is None                # dev_pager_dealloc


def test_vnode_pager_haspage_is_the_file_size_and_dealloc_clears_v_object(k):
    p = k.spawn()
    fd = p.open("/f", os.O_RDWR | os.O_CREAT, 0o644)
    p.write(fd, b"x" * (PG + 1))
    a = p.mmap(0, 2 * PG, mman.PROT_READ, mman.MAP_SHARED, fd, 0)
    assert p.mem_read(a + PG, 1) == b"x"
    obj = next(o for o in k.objects.values() if o.type == OBJT_VNODE)
    assert k.pager.vm_pager_has_page(obj, 1) and not k.pager.vm_pager_has_page(obj, 2)
    vp = obj.handle
    k.pager.vnode_destroy_vobject(vp)
    assert vp.v_object is None and obj.id not in k.objects
    p.exit()
