"""vm_fault_prefault (FLT-10): after a fault, resident valid neighbours are mapped read-only in
FreeBSD 7's prefault_pageorder (-1, +1, -2, +2 ... pages), and the walk gives up at the first
neighbour that is not in memory."""
from __future__ import annotations

import os

from bsdvm import Kernel, mman

PG = 4096


def _mapped_pages(p, base, npages):
    ptes = p.proc.p_vmspace.vm_map.pmap.ptes
    return [i for i in range(npages) if (base // PG) + i in ptes]


def test_prefault_gives_up_at_the_first_neighbour_not_in_memory(tmp_path):
    with Kernel(physmem="16M", root=str(tmp_path)) as k:
        q = k.spawn()
        fd = q.open("/f.bin", os.O_RDWR | os.O_CREAT, 0o644)
        q.write(fd, b"".join(bytes([i + 1]) * PG for i in range(8)))
        # p maps the file while nothing is resident (mmap's own MAP_PREFAULT_PARTIAL maps nothing)
        p = k.spawn()
        pfd = p.open("/f.bin", os.O_RDONLY)
        a = p.mmap(0, 8 * PG, mman.PROT_READ, mman.MAP_SHARED, pfd, 0)
        p.madvise(a, 8 * PG, mman.MADV_RANDOM)
        assert _mapped_pages(p, a, 8) == []
        b = q.mmap(0, 8 * PG, mman.PROT_READ, mman.MAP_SHARED, fd, 0)
        q.madvise(b, 8 * PG, mman.MADV_RANDOM)          # page in one page a fault
        for i in (3, 2, 5):
            q.mem_read(b + i * PG, 1)
        # resident now: 2, 3, 5 -- page 1 and page 4 are not in memory
        assert p.mem_read(a + 3 * PG, 1) == b"\x04"
        # order -1, +1, -2, ...: 2 is mapped, 4 is not in memory, so 5 is never looked at
        assert _mapped_pages(p, a, 8) == [2, 3]
        assert p.mem_read(a + 5 * PG, 1) == b"\x06"
        # -1 (4) is not in memory: give up at once
        assert _mapped_pages(p, a, 8) == [2, 3, 5]
        k.check_invariants()

