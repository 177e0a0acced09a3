"""pmap_mmu_run, the MMU's walk that copyin/copyout take runs of physical memory from (issue 10).

A user copy is split into stretches of pages whose frames are consecutive in physical memory;
each stretch is one slice of the physical buffer.  These tests pin what a stretch may hold (pages
translated, writable for a write, managed, in consecutive frames, across page-table pages), the
A and M bits it sets (on exactly the pages it takes), and that copies over every mixture --
faults, broken frame order, device memory beside anonymous memory -- give the bytes a simple
reference model of the address space gives.
"""
from __future__ import annotations

import os

import pytest

from bsdvm import Kernel, mman
from bsdvm.vm import pmap as pm
from bsdvm.vm.param import PAGE_SIZE as PG

RW = mman.PROT_READ | mman.PROT_WRITE
ANON = mman.MAP_ANON | mman.MAP_PRIVATE
TWO_MB = 512 * PG


def pat(seed: int, n: int) -> bytes:
    return bytes((seed * 131 + i * 7) & 0xFF for i in range(n))


@pytest.fixture
def kern():
    k = Kernel(physmem="64M")
    yield k
    k.close()


def pmap_of(p):
    return p.proc.p_vmspace.vm_map.pmap


def test_a_run_takes_consecutive_frames_and_stops_where_a_page_is_missing(kern):
    p = kern.spawn()
    a = p.mmap(0, 8 * PG, RW, ANON)
    for i in range(4):                              # frames handed out in order: consecutive
        p.mem_write(a + i * PG, b"x")
    pmap = pmap_of(p)
    for i in range(4):
        pte = pm.pmap_pte(pmap, a + i * PG)
        pte.ref = pte.mod = False
    pa, run = pm.pmap_mmu_run(pmap, a + 100, a + 8 * PG, False)
    first = pm.pmap_pte(pmap, a).page.phys_addr
    assert (pa, run) == (first + 100, 4 * PG - 100)     # up to the missing fifth page
    assert all(pm.pmap_pte(pmap, a + i * PG).ref for i in range(4))
    assert not any(pm.pmap_pte(pmap, a + i * PG).mod for i in range(4))    # a read sets no M
    assert pm.pmap_mmu_run(pmap, a + 4 * PG, a + 8 * PG, False) == (0, 0)  # no translation
    pa, run = pm.pmap_mmu_run(pmap, a + PG, a + PG + 10, True)             # ends at `end`
    assert (pa, run) == (first + PG, 10)
    assert pm.pmap_pte(pmap, a + PG).mod and not pm.pmap_pte(pmap, a + 2 * PG).mod


def test_a_run_stops_at_a_frame_out_of_order_and_at_a_read_only_page_for_a_write(kern):
    p = kern.spawn()
    a = p.mmap(0, 4 * PG, RW, ANON)
    p.mem_write(a + 2 * PG, b"c")                   # the third page gets the first frame
    p.mem_write(a, b"a")
    p.mem_write(a + PG, b"b")
    pmap = pmap_of(p)
    f0, f1, f2 = (pm.pmap_pte(pmap, a + i * PG).page.phys_addr for i in range(3))
    assert f1 == f0 + PG and f2 != f1 + PG
    assert pm.pmap_mmu_run(pmap, a, a + 3 * PG, False) == (f0, 2 * PG)
    p.mprotect(a + PG, PG, mman.PROT_READ)
    pte1 = pm.pmap_pte(pmap, a + PG)
    pte1.mod = False
    assert pm.pmap_mmu_run(pmap, a, a + 3 * PG, True) == (f0, PG)           # the write stops
    assert not pte1.mod
    assert pm.pmap_mmu_run(pmap, a + PG, a + 3 * PG, True) == (0, 0)
    assert pm.pmap_mmu_run(pmap, a + PG, a + 3 * PG, False) == (f1, PG)     # a read does not


def test_a_run_goes_on_into_the_next_page_table_page(kern):
    p = kern.spawn()
    base = p.mmap(0, 3 * TWO_MB, RW, ANON)
    edge = (base + TWO_MB) & ~(TWO_MB - 1)          # a 2 MB boundary inside the mapping
    lo = edge - 2 * PG
    data = pat(3, 4 * PG)
    p.mem_write(lo, data)
    pmap = pmap_of(p)
    assert (lo >> 21) != (edge >> 21) and len(pmap.pt_pages) == 2
    first = pm.pmap_pte(pmap, lo).page.phys_addr
    assert pm.pmap_mmu_run(pmap, lo, lo + 4 * PG, False) == (first, 4 * PG)
    assert p.mem_read(lo, 4 * PG) == data


def test_device_memory_is_copied_through_its_page_beside_anonymous_memory(kern):
    """An anonymous mapping and a device mapping side by side: one copy spans both; the device
    pages are not in the physical buffer, so the walk answers (-1, 0) for them."""
    kern.make_dev("fb0", 4 * PG)
    p = kern.spawn()
    hole = p.mmap(0, 8 * PG, mman.PROT_NONE, ANON)
    p.munmap(hole, 8 * PG)
    anon = p.mmap(hole, 4 * PG, RW, ANON | mman.MAP_FIXED)
    fd = p.open("/dev/fb0", os.O_RDWR)
    dev = p.mmap(hole + 4 * PG, 4 * PG, RW, mman.MAP_SHARED | mman.MAP_FIXED, fd, 0)
    assert dev == anon + 4 * PG
    data = pat(5, 6 * PG)
    p.mem_write(anon + PG, data)                    # 3 anonymous pages, then 3 device pages
    assert p.mem_read(anon + PG, 6 * PG) == data
    assert p.pread(fd, 3 * PG, 0) == data[3 * PG:]  # the device's own bytes
    pmap = pmap_of(p)
    assert pm.pmap_mmu_run(pmap, dev, dev + PG, False) == (-1, 0)
    assert pm.pmap_mmu_run(pmap, dev, dev + PG, True) == (-1, 0)
    pa, run = pm.pmap_mmu_run(pmap, anon + PG, dev + 4 * PG, False)
    assert run == 3 * PG                            # stops where device memory begins
    assert all(pm.pmap_pte(pmap, dev + i * PG).mod for i in range(3))
    p.close(fd)


def test_copies_over_every_mixture_equal_a_reference_model(kern):
    """Pages resident or not, frames in and out of order, read-only stretches: random writes and
    reads of random lengths give what a bytearray of the same address space gives, and a write
    to a read-only page faults after the pages before it were written."""
    import random
    rng = random.Random(10)
    p = kern.spawn()
    npages = 40
    a = p.mmap(0, npages * PG, RW, ANON)
    ref = bytearray(npages * PG)
    for i in rng.sample(range(npages), 15):         # some resident, in a scrambled frame order
        p.mem_write(a + i * PG, b"\x01")
        ref[i * PG] = 1
    for step in range(200):
        off = rng.randrange(npages * PG)
        n = rng.randrange(1, min(5 * PG, npages * PG - off) + 1)
        if rng.random() < 0.5:
            data = pat(step, n)
            p.mem_write(a + off, data)
            ref[off:off + n] = data
        else:
            assert p.mem_read(a + off, n) == bytes(ref[off:off + n])
    p.mprotect(a + 10 * PG, PG, mman.PROT_READ)
    from bsdvm import SegmentationFault
    with pytest.raises(SegmentationFault) as ei:
        p.mem_write(a + 8 * PG, pat(99, 4 * PG))
    assert ei.value.addr == a + 10 * PG
    ref[8 * PG:10 * PG] = pat(99, 4 * PG)[:2 * PG]  # the pages before the fault were written
    assert p.mem_read(a, npages * PG) == bytes(ref)
    kern.check_invariants()
