"""Physical memory is one host buffer: frames have fixed physical addresses, a page's bytes are its
frame's slice of that buffer, a freed frame is reused and comes back zero-filled, and the buffer's
host address shows exactly the bytes user memory holds (what a CPU emulator maps)."""
from __future__ import annotations

import ctypes
import os

from bsdvm import Kernel, mman
from bsdvm.kern import devices
from bsdvm.vm.object import vm_object_allocate
from bsdvm.vm.page import PhysMem, buffer_address
from bsdvm.vm.param import OBJT_DEFAULT, PAGE_SIZE

RW = mman.PROT_READ | mman.PROT_WRITE
ANON = mman.MAP_ANON | mman.MAP_PRIVATE


def _resident_page(k, p, addr):
    """The page that backs user address addr (mapped and resident)."""
    pte = p.proc.p_vmspace.vm_map.pmap.ptes[addr // PAGE_SIZE]
    return pte.page


def test_page_frame_is_a_slice_of_the_one_physical_buffer():
    with Kernel(physmem="16M") as k:
        p = k.spawn()
        a = p.mmap(0, 4 * PAGE_SIZE, RW, ANON)
        p.mem_write(a + PAGE_SIZE + 7, b"frame bytes")
        m = _resident_page(k, p, a + PAGE_SIZE)
        phys = k.phys
        off = m.phys_addr - phys.phys_base
        assert off % PAGE_SIZE == 0 and phys.kernel_wired * PAGE_SIZE <= off < phys.size
        assert bytes(phys.memory[off + 7:off + 18]) == b"frame bytes"
        # and the other way round: a store into the buffer is what the process reads
        phys.memory[off + 100:off + 103] = b"cpu"
        assert p.mem_read(a + PAGE_SIZE + 100, 3) == b"cpu"


def test_host_address_of_physical_memory_shows_user_memory():
    with Kernel(physmem="16M") as k:
        p = k.spawn()
        a = p.mmap(0, PAGE_SIZE, RW, ANON)
        p.mem_write(a + 12, b"seen by native code")
        m = _resident_page(k, p, a)
        host = k.phys.host_address + (m.phys_addr - k.phys.phys_base)
        assert ctypes.string_at(host + 12, 19) == b"seen by native code"


def test_freed_frame_is_reused_and_reads_as_zero():
    phys = PhysMem(64, 4)
    with Kernel(physmem="16M") as k:
        obj = vm_object_allocate(k, OBJT_DEFAULT, 2)
        m = phys.alloc(obj, 0)
        first_addr = m.phys_addr
        m.data[:] = b"\xa5" * PAGE_SIZE
        phys.free(m)
        assert m.data is None
        again = phys.alloc(obj, 1)
        assert again.phys_addr == first_addr            # the frame came back from the free list
        assert bytes(again.data) == bytes(PAGE_SIZE)     # and holds nothing of its last page


def test_frames_of_live_pages_are_distinct_and_free_count_balances():
    phys = PhysMem(32, 2)
    with Kernel(physmem="16M") as k:
        obj = vm_object_allocate(k, OBJT_DEFAULT, 64)
        pages = [phys.alloc(obj, i) for i in range(30)]
        assert all(m is not None for m in pages)
        assert phys.alloc(obj, 30) is None                # 32 frames, 2 of them the kernel's
        assert len({m.phys_addr for m in pages}) == 30
        assert phys.free_count == 0
        for m in pages[::2]:
            phys.free(m)
        assert phys.free_count == 15
        again = [phys.alloc(obj, 40 + i) for i in range(15)]
        assert {m.phys_addr for m in again} == {m.phys_addr for m in pages[::2]}


def test_physical_base_offsets_every_frame_address():
    phys = PhysMem(16, 1, phys_base=0x100000)
    with Kernel(physmem="16M") as k:
        obj = vm_object_allocate(k, OBJT_DEFAULT, 1)
        m = phys.alloc(obj, 0)
        assert m.phys_addr == 0x100000 + PAGE_SIZE        # frame 0 is the kernel's


def test_device_memory_is_one_lazily_backed_buffer_with_a_host_address():
    dev = devices.make_mem_dev("fbx", 3 * PAGE_SIZE)
    assert len(dev.si_memory) == 3 * PAGE_SIZE
    assert bytes(dev.si_memory[:16]) == bytes(16)
    dev.si_memory[PAGE_SIZE:PAGE_SIZE + 4] = b"vram"
    assert ctypes.string_at(buffer_address(dev.si_memory) + PAGE_SIZE, 4) == b"vram"
    assert buffer_address(devices.make_mem_dev("empty", 0).si_memory) == 0


def test_read_across_a_fault_that_frees_the_pages_behind_keeps_their_bytes(tmp_path):
    """A sequential read faults the next cluster in; the cache-behind frees the clean pages it
    passed and their frames are reused at once.  mem_read must return the file's bytes, not the
    bytes of whatever page took a recycled frame."""
    with Kernel(physmem="4M", root=str(tmp_path)) as k:
        p = k.spawn()
        n = 64
        content = b"".join(bytes([i]) * PAGE_SIZE for i in range(n))
        fd = p.open("/seq.bin", os.O_RDWR | os.O_CREAT, 0o644)
        p.write(fd, content)
        a = p.mmap(0, n * PAGE_SIZE, mman.PROT_READ, mman.MAP_SHARED, fd, 0)
        p.madvise(a, n * PAGE_SIZE, mman.MADV_SEQUENTIAL)
        assert p.mem_read(a, n * PAGE_SIZE) == content
        k.check_invariants()
