"""A page's bytes are its frame's slice of physical memory, seen through a view made on use (a
resident page holds no view of its own); a freed page's view is gone, so a stale reference cannot
reach the frame's next page; pmap_zero_page and pmap_copy_page work on the frames themselves; and
vm_page_activate leaves a page that is already active where it is on the queue (FreeBSD 7's
vm_page.c), only raising its act_count."""
from __future__ import annotations

import os

import pytest

from bsdvm import mman
from bsdvm.vm import pmap as pm
from bsdvm.vm.object import vm_object_allocate, vm_object_deallocate
from bsdvm.vm.page import ACT_INIT
from bsdvm.vm.param import OBJT_DEFAULT, PAGE_SIZE, PQ_ACTIVE

ANON = mman.MAP_ANON | mman.MAP_PRIVATE


def test_a_page_sees_its_frame_and_loses_it_when_freed(k):
    o = vm_object_allocate(k.vm, OBJT_DEFAULT, 2)
    m = k.phys.alloc(o, 0)
    off = m.phys_addr - k.phys.phys_base
    m.data[:4] = b"abcd"
    assert bytes(k.phys.memory[off:off + 4]) == b"abcd"         # the same bytes, no copy
    assert len(m.data) == PAGE_SIZE and m.data is not m.data     # a view made on each use
    k.phys.free(m)
    assert m.data is None and m.frames is None
    again = k.phys.alloc(o, 1)                                   # the frame comes back zeroed
    assert again.phys_addr == m.phys_addr and bytes(again.data) == bytes(PAGE_SIZE)
    k.phys.free(again)
    vm_object_deallocate(o)


def test_zero_and_copy_page_work_on_the_frames(k):
    o = vm_object_allocate(k.vm, OBJT_DEFAULT, 2)
    src, dst = k.phys.alloc(o, 0), k.phys.alloc(o, 1)
    src.data[:] = bytes(range(256)) * (PAGE_SIZE // 256)
    pm.pmap_copy_page(src, dst)
    assert bytes(dst.data) == bytes(src.data)
    pm.pmap_zero_page(src)
    assert bytes(src.data) == bytes(PAGE_SIZE) and bytes(dst.data[:3]) == b"\0\1\2"
    k.phys.free(src)
    k.phys.free(dst)
    vm_object_deallocate(o)


def test_copy_on_write_copies_the_bytes_and_keeps_the_parents(k):
    p = k.spawn()
    a = p.mmap(0, 2 * PAGE_SIZE, 3, ANON)
    p.mem_write(a, b"parent" * 1000)
    c = p.fork()
    c.mem_write(a + 3, b"CHILD")
    assert p.mem_read(a, 12) == b"parentparent"
    assert c.mem_read(a, 12) == b"parCHILDrent"
    assert c.mem_read(a + 5000, 6) == p.mem_read(a + 5000, 6)
    c.exit()


def test_activate_leaves_an_active_page_in_place_and_raises_act_count(k):
    o = vm_object_allocate(k.vm, OBJT_DEFAULT, 3)
    pages = [k.phys.alloc(o, i) for i in range(3)]
    for m in pages:
        m.valid = True
        k.phys.activate(m)
    queue = [m for m in k.phys.active if m.object is o]
    assert queue == pages and all(m.queue == PQ_ACTIVE for m in pages)
    pages[0].act_count = 0
    k.phys.activate(pages[0])                                    # already active: no move
    assert [m for m in k.phys.active if m.object is o] == pages
    assert pages[0].act_count == ACT_INIT
    k.phys.deactivate(pages[0])
    k.phys.activate(pages[0])                                    # from inactive: to the tail
    assert [m for m in k.phys.active if m.object is o] == [pages[1], pages[2], pages[0]]
    for m in pages:
        k.phys.free(m)
    vm_object_deallocate(o)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_physical_memory_is_the_host_process_own_private_memory(k):
    """Physical memory (and a memory device's) is a private anonymous host mapping, as a process's
    own memory is: a host process forked while a kernel runs gets a copy of it, not a share."""
    dev = k.make_dev("fbpriv", PAGE_SIZE)
    p = k.spawn()
    a = p.mmap(0, PAGE_SIZE, 3, ANON)
    p.mem_write(a, b"parent")
    pid = os.fork()
    if pid == 0:                                    # the forked host process writes its copy
        try:
            p.mem_write(a, b"child!")
            dev.si_memory[:5] = b"child"
            os._exit(0 if p.mem_read(a, 6) == b"child!" else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert p.mem_read(a, 6) == b"parent"
    assert bytes(dev.si_memory[:5]) == bytes(5)
