"""Branch-by-branch tests of src/bsdvm/vm/mmap.py (the seed, sys/vm/vm_mmap.c of FreeBSD 7):
anonymous memory, the argument checks of every system call, ommap, msync, munmap, mprotect,
minherit, madvise, mincore, the mlock family, sbrk/sstk/ogetpagesize and obreak.

File, device and vnode paths, and direct calls of vm_mmap()/vm_mmap_cdev(), are in
test_mmap_seed_files.py.  Every expected value is taken from the seed or from the spec
(../shared/spec/freebsd7-vm.md); the rule IDs are in the test names.
"""
from __future__ import annotations

import errno
import os

import pytest

from bsdvm import Kernel, SegmentationFault, mman, resource
from bsdvm.mman import (MAP_ANON, MAP_FIXED, MAP_NOCORE, MAP_NOSYNC, MAP_PRIVATE, MAP_SHARED,
                        MAP_STACK, MCL_CURRENT, MCL_FUTURE, MINCORE_INCORE, MINCORE_MODIFIED,
                        MINCORE_MODIFIED_OTHER, MINCORE_REFERENCED, MINCORE_REFERENCED_OTHER,
                        MS_ASYNC, MS_INVALIDATE, MS_SYNC, PROT_EXEC, PROT_NONE, PROT_READ,
                        PROT_WRITE)
from bsdvm.vm import mmap as seed
from bsdvm.vm.param import (KERN_FAILURE, KERN_INVALID_ARGUMENT, KERN_PROTECTION_FAILURE)
from seedutil import entry_at, err, heap_end, round_page

P = 4096
RW = PROT_READ | PROT_WRITE
RWX = RW | PROT_EXEC
ANON = MAP_ANON | MAP_PRIVATE
M64 = (1 << 64) - 1
ALL_BITS = (MINCORE_INCORE | MINCORE_REFERENCED | MINCORE_MODIFIED | MINCORE_REFERENCED_OTHER
            | MINCORE_MODIFIED_OTHER)
HIGH = 0x100000000000          # a free address far above the heap window (amd64)


# -- fixtures and helpers -----------------------------------------------------------------------

@pytest.fixture
def k(tmp_path):
    with Kernel(root=str(tmp_path)) as kern:
        yield kern


@pytest.fixture
def p(k):
    return k.spawn(uid=0)


@pytest.fixture
def user(k):
    return k.spawn(uid=1000, gid=1000)


def vmmap(p):
    return p.proc.p_vmspace.vm_map


def wired(k) -> int:
    return k.vmstat()["v_wire_count"]


# ================================================================================================
# sbrk, sstk, ogetpagesize (BRK-0)
# ================================================================================================

def test_sbrk_eopnotsupp_BRK0(p):
    assert err(p.sbrk, 4096) == errno.EOPNOTSUPP
    assert err(p.sbrk, 0) == errno.EOPNOTSUPP


def test_sstk_eopnotsupp_BRK0(p):
    assert err(p.sstk, 4096) == errno.EOPNOTSUPP


def test_ogetpagesize_returns_page_size_BRK0(p):
    assert p.ogetpagesize() == 4096


# ================================================================================================
# mmap: argument checks in the seed's order
# ================================================================================================

def test_mmap_len_negative_as_ssize_t_einval_MMAP2(p, k):
    before = p.maps()
    assert err(p.mmap, 0, -1, RW, ANON) == errno.EINVAL
    assert err(p.mmap, 0, 1 << 63, RW, ANON) == errno.EINVAL
    # the largest non-negative length passes MMAP-2 and is refused by RLIMIT_VMEM (VMM-2)
    assert err(p.mmap, 0, (1 << 63) - P, RW, ANON) == errno.ENOMEM
    assert p.maps() == before


def test_mmap_len_negative_i386_word_einval_MMAP2(tmp_path):
    with Kernel(arch="i386", physmem="64M", swap="64M", root=str(tmp_path)) as k:
        p = k.spawn(uid=0)
        assert err(p.mmap, 0, 0x80000000, RW, ANON) == errno.EINVAL
        assert err(p.mmap, 0, -P, RW, ANON) == errno.EINVAL


def test_mmap_anon_with_fd_einval_MMAP2_edge2(p):
    assert err(p.mmap, 0, P, RW, MAP_ANON, 3) == errno.EINVAL
    fd = p.open("/f", os.O_RDWR | os.O_CREAT, 0o644)     # a valid descriptor changes nothing
    assert err(p.mmap, 0, P, RW, ANON, fd) == errno.EINVAL


def test_mmap_anon_fd_check_precedes_stack_check_MMAP2(p):
    # MAP_ANON with an fd is refused before MAP_STACK's own checks, even with a bad prot
    assert err(p.mmap, 0, P, PROT_READ, MAP_ANON | MAP_STACK, 5) == errno.EINVAL


def test_mmap_stack_with_fd_einval_MMAP4_edge15(p):
    fd = p.open("/f", os.O_RDWR | os.O_CREAT, 0o644)
    assert err(p.mmap, HIGH, 1 << 20, RW, MAP_STACK, fd) == errno.EINVAL


@pytest.mark.parametrize("prot", [PROT_NONE, PROT_READ, PROT_WRITE, PROT_READ | PROT_EXEC,
                                  PROT_WRITE | PROT_EXEC])
def test_mmap_stack_needs_read_and_write_einval_MMAP4_edge15(p, prot):
    assert err(p.mmap, HIGH, 1 << 20, prot, MAP_STACK) == errno.EINVAL


def test_mmap_stack_at_free_address_returns_bottom_MMAP4_VMM9_edge15(p, k):
    size = 1 << 20
    sgrowsiz = k.sysctl("kern.sgrowsiz")
    # MAP_ANON is implied and pos forced to 0: the offset's page offset is not added back
    addr = p.mmap(HIGH, size, RWX, MAP_STACK | MAP_PRIVATE, -1, 100)
    assert addr == HIGH
    assert entry_at(p, HIGH) is None                       # the reservation is not mapped
    e = entry_at(p, HIGH + size - 1)
    assert (e.start, e.end) == (HIGH + size - sgrowsiz, HIGH + size)
    assert "GROWS_DOWN" in e.flags
    assert e.prot == RWX and e.max_prot == 7
    found, ent = vmmap(p).lookup_entry(e.start)
    assert found and ent.avail_ssize == size - sgrowsiz
    k.check_invariants()


def test_mmap_stack_no_space_search_enomem_VMM9_edge15(p, k):
    # something occupies the default hint (where ld-elf.so.1 would be, VMS-3) ...
    h = p.mmap(0, P, RW, ANON)
    assert h == heap_end(p)
    before = p.maps()
    # ... so MAP_STACK at the default hint fails instead of searching for space
    assert err(p.mmap, 0, 1 << 20, RW, MAP_STACK) == errno.ENOMEM
    assert p.maps() == before
    k.check_invariants()


def test_mmap_fixed_misaligned_address_einval_MMAP6_edge10(p):
    # anonymous: pos is 0, so pageoff is 0 and the address itself must be aligned
    assert err(p.mmap, HIGH + 1, P, RW, ANON | MAP_FIXED) == errno.EINVAL
    assert err(p.mmap, HIGH + 0x800, P, RW, ANON | MAP_FIXED) == errno.EINVAL


def test_mmap_fixed_beyond_map_max_einval_MMAP6_edge11(p, k):
    top = vmmap(p).max_offset
    before = p.maps()
    assert err(p.mmap, top - P, 2 * P, RW, ANON | MAP_FIXED) == errno.EINVAL
    assert err(p.mmap, top, P, RW, ANON | MAP_FIXED) == errno.EINVAL
    assert p.maps() == before          # nothing removed: the check precedes vm_map_remove


def test_mmap_fixed_address_wrap_einval_MMAP6(p):
    assert err(p.mmap, M64 - P + 1, 2 * P, RW, ANON | MAP_FIXED) == errno.EINVAL
    assert err(p.mmap, M64 - P + 1, P, RW, ANON | MAP_FIXED) == errno.EINVAL


def test_mmap_fixed_address_wrap_i386_einval_MMAP6(tmp_path):
    with Kernel(arch="i386", physmem="64M", swap="64M", root=str(tmp_path)) as k:
        p = k.spawn(uid=0)
        assert err(p.mmap, 0xFFFFF000, 2 * P, RW, ANON | MAP_FIXED) == errno.EINVAL


def test_mmap_fixed_at_top_of_map_succeeds_MMAP6(p, k):
    top = vmmap(p).max_offset
    # replaces the top page of the stack (MAP_FIXED removes first, VMM-4)
    assert p.mmap(top - P, P, RW, ANON | MAP_FIXED) == top - P
    e = entry_at(p, top - P)
    assert (e.start, e.end) == (top - P, top) and "GROWS_DOWN" not in e.flags
    k.check_invariants()


def test_mmap_fixed_replaces_existing_mapping_VMM4(p, k):
    a = p.mmap(HIGH, 3 * P, RW, ANON | MAP_FIXED)
    p.mem_write(a, b"x" * (3 * P))
    assert p.mmap(a + P, P, PROT_READ, ANON | MAP_FIXED) == a + P
    assert p.mem_read(a + P, 4) == b"\0" * 4          # fresh zero-fill memory
    assert p.mem_read(a, 1) == b"x" and p.mem_read(a + 2 * P, 1) == b"x"
    assert entry_at(p, a + P).prot == PROT_READ
    k.check_invariants()


def test_mmap_hint_zero_goes_above_heap_MMAP6(p):
    assert p.mmap(0, P, RW, ANON) == heap_end(p)


def test_mmap_default_hint_rounds_heap_end_up_MMAP6(p):
    lim = (1 << 30) + 100                       # an unaligned RLIMIT_DATA hard limit
    p.setrlimit(resource.RLIMIT_DATA, (lim, lim))
    expect = round_page(p.brk_base() + lim)
    assert expect == p.brk_base() + (1 << 30) + P
    assert p.mmap(0, P, RW, ANON) == expect
    # the window's end is round_page()'d too: its last page is still relocated
    assert p.mmap(expect - P, P, RW, ANON) == expect + P


def test_mmap_hint_in_heap_window_relocated_MMAP6_edge12(p):
    info = p.vmspace_info()
    lo = round_page(info["taddr"])
    he = heap_end(p)
    assert p.mmap(lo, P, RW, ANON) == he                    # the window's first address
    assert p.mmap(he - P, P, RW, ANON) == he + P            # the last page; first fit above
    assert p.mmap(p.brk_base() + 5 * P, P, RW, ANON) == he + 2 * P


def test_mmap_hint_below_text_is_kept_MMAP6(p):
    lo = round_page(p.vmspace_info()["taddr"])
    assert p.mmap(lo - P, P, RW, ANON) == lo - P
    assert p.mmap(0x100000, P, RW, ANON) == 0x100000


def test_mmap_hint_above_heap_is_kept_and_rounded_up_MMAP6_VMM4(p):
    he = heap_end(p)
    assert p.mmap(he + 5 * P, P, RW, ANON) == he + 5 * P
    # a non-fixed unaligned hint is rounded up (VMM-4) and not reduced by pageoff
    assert p.mmap(HIGH + 1, P, RW, ANON) == HIGH + P


def test_mmap_hint_occupied_first_fit_above_MAP11(p):
    a = p.mmap(HIGH, 2 * P, RW, ANON)
    assert a == HIGH
    assert p.mmap(HIGH, P, PROT_READ, ANON) == HIGH + 2 * P


def test_mmap_hint_nothing_fits_above_enomem_MAP11_edge12(p, k):
    # the main stack ends at the top of the map: nothing fits above its start, and the search
    # never wraps around to lower addresses
    stack = max(p.maps(), key=lambda e: e.end)
    assert stack.end == vmmap(p).max_offset
    before = p.maps()
    assert err(p.mmap, stack.start, P, RW, ANON) == errno.ENOMEM
    assert p.maps() == before
    k.check_invariants()


def test_mmap_zero_length_returns_hint_creates_nothing_MMAP12_edge1(p):
    before = p.maps()
    assert p.mmap(0, 0, RW, ANON) == heap_end(p)
    # an unaligned non-fixed hint comes back unrounded: vm_mmap returns before rounding it
    assert p.mmap(HIGH + 5, 0, RW, ANON) == HIGH + 5
    assert p.maps() == before


def test_mmap_fixed_zero_length_removes_nothing_MMAP12_VMM1(p):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mem_write(a, b"keep")
    before = p.maps()
    assert p.mmap(a, 0, RW, ANON | MAP_FIXED) == a
    assert p.maps() == before
    assert p.mem_read(a, 4) == b"keep"


def test_mmap_prot_extra_bits_dropped_MMAP1(p):
    a = p.mmap(0, P, 0xFF, ANON)
    assert entry_at(p, a).prot == RWX


def test_mmap_unknown_flags_ignored_neither_shared_nor_private_is_private_MMAP3(p):
    a = p.mmap(HIGH, P, RW, MAP_ANON | 0x40000000)
    e = entry_at(p, a)
    assert e.inheritance == mman.INHERIT_COPY
    b = p.mmap(HIGH + 4 * P, P, RW, MAP_ANON | MAP_SHARED | MAP_PRIVATE)
    assert entry_at(p, b).inheritance == mman.INHERIT_SHARE      # MAP_SHARED is what is tested


def test_mmap_anon_private_is_not_cow_VMM6(p):
    a = p.mmap(HIGH, P, RW, ANON)
    e = entry_at(p, a)
    assert "COW" not in e.flags and "NEEDS_COPY" not in e.flags
    assert e.max_prot == 7 and e.object_type is None            # MMAP-7, no object yet
    assert e.offset == 0


def test_mmap_anon_shared_inherits_share_VMM10(p):
    a = p.mmap(HIGH, P, RW, MAP_ANON | MAP_SHARED)
    assert entry_at(p, a).inheritance == mman.INHERIT_SHARE
    c = p.fork()
    c.mem_write(a, b"child")
    assert p.mem_read(a, 5) == b"child"


def test_mmap_nosync_nocore_flags_VMM6(p):
    a = p.mmap(HIGH, P, RW, ANON | MAP_NOSYNC)
    assert "NOSYNC" in entry_at(p, a).flags
    b = p.mmap(HIGH + 4 * P, P, RW, ANON | MAP_NOCORE)
    assert "NOCOREDUMP" in entry_at(p, b).flags
    c = p.mmap(HIGH + 8 * P, P, RW, ANON)
    assert not {"NOSYNC", "NOCOREDUMP"} & entry_at(p, c).flags


def test_mmap_max_proc_mmap_enomem_MMAP9_edge13(p, k):
    n = p.vmspace_info()["nentries"]
    k.sysctl("vm.max_proc_mmap", n)
    before = p.maps()
    assert err(p.mmap, 0, P, RW, ANON) == errno.ENOMEM
    assert p.maps() == before
    # argument errors come first (MMAP-2)
    assert err(p.mmap, 0, P, RW, MAP_ANON, 4) == errno.EINVAL
    k.sysctl("vm.max_proc_mmap", n + 1)
    p.mmap(HIGH, P, RW, ANON)
    assert err(p.mmap, HIGH + 8 * P, P, RW, ANON) == errno.ENOMEM
    k.sysctl("vm.max_proc_mmap", 0)                         # 0 disables the check
    p.mmap(HIGH + 8 * P, P, RW, ANON)


def test_mmap_max_proc_mmap_scales_with_refcnt_MMAP9(p, k):
    vms = p.proc.p_vmspace
    n = vmmap(p).nentries
    k.sysctl("vm.max_proc_mmap", n)
    vms.vm_refcnt = 2          # as if an rfork(RFMEM) thread shared the vmspace
    try:
        p.mmap(HIGH, P, RW, ANON)
    finally:
        vms.vm_refcnt = 1


def test_mmap_rlimit_vmem_enomem_VMM2_edge13(p, k):
    size = p.vmspace_info()["size"]
    p.setrlimit(resource.RLIMIT_VMEM, (size + P, resource.RLIM_INFINITY))
    before = p.maps()
    assert err(p.mmap, 0, 2 * P, RW, ANON) == errno.ENOMEM
    assert p.maps() == before
    p.mmap(0, P, RW, ANON)
    # VMM-2 counts the current size even when MAP_FIXED would replace existing pages
    text = p.maps()[0]
    assert err(p.mmap, text.start, P, RW, ANON | MAP_FIXED) == errno.ENOMEM
    assert entry_at(p, text.start) == text                  # and nothing was removed


def test_mmap_anon_pmc_not_informed_MMAP11(p, k):
    events = []
    k.on_pmc(lambda ev, **info: events.append(ev))
    p.mmap(0, P, RWX, ANON)
    assert events == []


def test_mmap_wirefuture_wires_new_mapping_VMM11_MLA2(p, k):
    p.mlockall(MCL_FUTURE)
    w0 = wired(k)
    a = p.mmap(HIGH, 3 * P, RW, ANON)
    e = entry_at(p, a)
    assert e.wired_count == 1 and "USER_WIRED" in e.flags
    assert e.resident == 3
    assert wired(k) == w0 + 3
    p.munlockall()
    assert entry_at(p, a).wired_count == 0
    assert wired(k) == w0
    k.check_invariants()


def test_mmap_adjacent_anon_coalesce_edge14_MAP8(p):
    a = p.mmap(HIGH, P, RW, ANON)
    n = p.vmspace_info()["nentries"]
    b = p.mmap(HIGH + P, P, RW, ANON)
    assert b == a + P
    assert p.vmspace_info()["nentries"] == n
    e = entry_at(p, a)
    assert (e.start, e.end) == (a, a + 2 * P)
    c = p.mmap(HIGH + 2 * P, P, PROT_READ, ANON)             # different prot: a new entry
    assert p.vmspace_info()["nentries"] == n + 1
    assert entry_at(p, c).start == c


def test_mmap_adjacent_after_touch_shares_object_edge14_MAP8(p, k):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mem_write(a, b"first")                          # the first entry now has an object
    b = p.mmap(HIGH + P, P, PROT_READ, ANON)          # different prot: a new entry ...
    assert b == a + P
    ea, eb = entry_at(p, a), entry_at(p, b)
    assert (ea.start, ea.end) == (a, a + P) and (eb.start, eb.end) == (b, b + P)
    # ... that references the same object at the following offset
    assert eb.offset == ea.offset + P
    assert ea.ref_count == eb.ref_count == 2
    k.check_invariants()


def test_mmap_stack_grows_down_edge16_MAP43(p, k):
    size = 1 << 20
    sgrowsiz = k.sysctl("kern.sgrowsiz")
    a = p.mmap(HIGH, size, RW, MAP_STACK)
    top_piece = entry_at(p, a + size - 1)
    assert top_piece.prot == RW
    p.mem_write(top_piece.start - 1, b"g")            # one byte below the mapped piece
    grown = entry_at(p, top_piece.start - 1)
    assert (grown.start, grown.end) == (top_piece.start - sgrowsiz, top_piece.start)
    assert grown.prot == RWX and "GROWS_DOWN" in grown.flags      # sv_stackprot, not RW
    assert "GROWS_DOWN" not in entry_at(p, a + size - 1).flags
    with pytest.raises(SegmentationFault):
        p.mem_read(a - 1, 1)                          # beyond the reservation
    k.check_invariants()


def test_mmap_shared_anon_after_coalesce_is_split_back_VMM10(p, k):
    a = p.mmap(HIGH, P, RW, ANON)
    b = p.mmap(HIGH + P, P, RW, MAP_ANON | MAP_SHARED)
    assert b == a + P
    ea, eb = entry_at(p, a), entry_at(p, b)
    assert (ea.start, ea.end) == (a, a + P) and ea.inheritance == mman.INHERIT_COPY
    assert (eb.start, eb.end) == (b, b + P) and eb.inheritance == mman.INHERIT_SHARE
    k.check_invariants()


# ================================================================================================
# ommap (MMAP-13)
# ================================================================================================

_CVT = [0, PROT_EXEC, PROT_WRITE, PROT_EXEC | PROT_WRITE, PROT_READ, PROT_EXEC | PROT_READ,
        PROT_WRITE | PROT_READ, PROT_EXEC | PROT_WRITE | PROT_READ]


@pytest.mark.parametrize("oprot", range(8))
def test_ommap_prot_conversion_MMAP13(p, oprot):
    a = p.ommap(HIGH, P, oprot | 0x8, mman.OMAP_ANON)      # only the low three bits are used
    assert entry_at(p, a).prot == _CVT[oprot]


def test_ommap_flags_conversion_MMAP13(p):
    a = p.ommap(HIGH, P, 6, mman.OMAP_ANON)
    assert a == HIGH
    assert entry_at(p, a).inheritance == mman.INHERIT_COPY            # MAP_PRIVATE
    b = p.ommap(HIGH + 4 * P, P, 6, mman.OMAP_ANON | mman.OMAP_SHARED)
    assert entry_at(p, b).inheritance == mman.INHERIT_SHARE
    c = p.ommap(HIGH + 8 * P, P, 6, mman.OMAP_ANON | mman.OMAP_COPY)
    assert entry_at(p, c).inheritance == mman.INHERIT_COPY
    # OMAP_FIXED → MAP_FIXED: the old page is replaced at exactly that address
    p.mem_write(a, b"old")
    assert p.ommap(a, P, 4, mman.OMAP_ANON | mman.OMAP_FIXED) == a
    assert entry_at(p, a).prot == PROT_READ
    assert p.mem_read(a, 3) == b"\0\0\0"
    # without OMAP_FIXED a hint in the heap window is relocated like mmap's
    assert p.ommap(p.brk_base(), P, 6, mman.OMAP_ANON) == heap_end(p)


def test_ommap_negative_int_len_einval_MMAP13_MMAP2(p):
    assert err(p.ommap, 0, -1, 6, mman.OMAP_ANON) == errno.EINVAL


def test_ommap_anon_with_fd_einval_MMAP13(p):
    assert err(p.ommap, 0, P, 6, mman.OMAP_ANON, 3) == errno.EINVAL


# ================================================================================================
# msync (SYN-1..4); file data paths are in test_mmap_seed_files.py
# ================================================================================================

def test_msync_wrap_einval_SYN1(p):
    assert err(p.msync, M64 - P + 1, 2 * P, MS_SYNC) == errno.EINVAL
    assert err(p.msync, M64, 1, MS_SYNC) == errno.EINVAL       # pageoff pushes size past the end


def test_msync_async_invalidate_einval_SYN1_edge28(p):
    a = p.mmap(HIGH, P, RW, ANON)
    assert err(p.msync, a, P, MS_ASYNC | MS_INVALIDATE) == errno.EINVAL


def test_msync_unknown_flag_bits_ignored_SYN1(p):
    a = p.mmap(HIGH, P, RW, ANON)
    p.msync(a, P, 0x100)
    p.msync(a, P, MS_ASYNC)
    p.msync(a, P, MS_INVALIDATE)


def test_msync_unmapped_start_einval_SYN2_edge28(p):
    assert err(p.msync, HIGH, P, MS_SYNC) == errno.EINVAL
    # beyond the map: clamped (MAP-3) to an empty range whose start is unmapped
    assert err(p.msync, vmmap(p).max_offset + P, P, MS_SYNC) == errno.EINVAL


def test_msync_hole_einval_SYN2_edge28(p):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mmap(HIGH + 2 * P, P, RW, ANON)
    assert err(p.msync, a, 3 * P, MS_SYNC) == errno.EINVAL
    # running past the end of the last entry of the range is a hole too
    assert err(p.msync, a, 2 * P, MS_SYNC) == errno.EINVAL


def test_msync_invalidate_mlocked_ebusy_SYN2_edge28(p):
    a = p.mmap(HIGH, 2 * P, RW, ANON)
    p.mlock(a, P)
    assert err(p.msync, a, 2 * P, MS_INVALIDATE) == errno.EBUSY
    p.msync(a, 2 * P, MS_SYNC)                                  # without INVALIDATE: fine
    p.msync(a + P, P, MS_INVALIDATE)                            # unwired part: fine


def test_msync_invalidate_keeps_anonymous_data_MAP29(p):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mem_write(a, b"data")
    p.msync(a, P, MS_INVALIDATE)
    assert p.mem_read(a, 4) == b"data"


def test_msync_zero_length_anon_succeeds_SYN3(p):
    a = p.mmap(HIGH, 2 * P, RW, ANON)
    p.msync(a + P, 0, MS_SYNC)
    assert err(p.msync, HIGH + 8 * P, 0, MS_SYNC) == errno.EINVAL


@pytest.mark.pure_python
def test_msync_unknown_kern_code_maps_to_einval_SYN2(p, monkeypatch):
    # vm_map_sync has no other failure path (MAP-30; the model's KERN_FAILURE is a write-back
    # error, EIO, docs/errata.md): the seed's `default: EINVAL` arm is unreachable through the
    # public API, so the translation is checked with a stand-in.
    monkeypatch.setattr(seed, "vm_map_sync", lambda *a: KERN_PROTECTION_FAILURE)
    assert err(p.msync, HIGH, P, MS_SYNC) == errno.EINVAL
    monkeypatch.setattr(seed, "vm_map_sync", lambda *a: KERN_FAILURE)
    assert err(p.msync, HIGH, P, MS_SYNC) == errno.EIO


# ================================================================================================
# munmap (UNM-1..3)
# ================================================================================================

def test_munmap_zero_length_einval_UNM1_edge20(p):
    a = p.mmap(HIGH, P, RW, ANON)
    assert err(p.munmap, a, 0) == errno.EINVAL
    assert entry_at(p, a) is not None


def test_munmap_wrap_einval_UNM1(p):
    assert err(p.munmap, M64 - P + 1, 2 * P) == errno.EINVAL


def test_munmap_out_of_range_einval_UNM1(p):
    top = vmmap(p).max_offset
    before = p.maps()
    assert err(p.munmap, top - P, 2 * P) == errno.EINVAL
    assert err(p.munmap, top, P) == errno.EINVAL
    assert p.maps() == before


def test_munmap_hole_einval_nothing_removed_UNM2_edge20(p, k):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mmap(HIGH + 2 * P, P, RW, ANON)
    before = p.maps()
    assert err(p.munmap, a, 3 * P) == errno.EINVAL
    assert err(p.munmap, HIGH + 8 * P, P) == errno.EINVAL       # wholly unmapped
    assert p.maps() == before
    k.check_invariants()


def test_munmap_rounds_unaligned_address_UNM1(p, k):
    a = p.mmap(HIGH, 3 * P, RW, ANON)
    p.munmap(a + 1, P)                       # pageoff 1: covers [a, a + 2P)
    assert entry_at(p, a) is None and entry_at(p, a + P) is None
    assert entry_at(p, a + 2 * P).start == a + 2 * P
    k.check_invariants()


def test_munmap_drops_mlock_wiring_UNM3(p, k):
    w0 = wired(k)
    a = p.mmap(HIGH, 2 * P, RW, ANON)
    p.mlock(a, 2 * P)
    assert wired(k) == w0 + 2
    p.munmap(a, 2 * P)
    assert wired(k) == w0
    k.check_invariants()


def test_munmap_pmc_event_for_executable_region(p, k):
    events = []
    k.on_pmc(lambda ev, **info: events.append((ev, info)))
    text = p.maps()[0]
    assert text.prot & PROT_EXEC
    p.munmap(text.start, P)
    assert [e for e, _ in events] == ["munmap"]
    assert events[0][1]["pm_address"] == text.start and events[0][1]["pm_size"] == P


def test_munmap_pmc_event_when_exec_entry_follows(p, k):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mmap(HIGH + P, P, RWX, ANON)
    events = []
    k.on_pmc(lambda ev, **info: events.append((ev, info)))
    p.munmap(a, 2 * P)
    assert [e for e, _ in events] == ["munmap"]
    assert events[0][1]["pm_address"] == a and events[0][1]["pm_size"] == 2 * P


def test_munmap_pmc_event_once_for_several_exec_entries(p, k):
    a = p.mmap(HIGH, P, RWX, ANON)
    p.mmap(HIGH + P, P, PROT_READ | PROT_EXEC, ANON)
    events = []
    k.on_pmc(lambda ev, **info: events.append(ev))
    p.munmap(a, 2 * P)
    assert events == ["munmap"]                     # the loop stops at the first one


def test_munmap_no_pmc_event_without_exec(p, k):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mmap(HIGH + P, P, PROT_READ, ANON)
    events = []
    k.on_pmc(lambda ev, **info: events.append(ev))
    p.munmap(a, 2 * P)
    assert events == []


# ================================================================================================
# mprotect (PROT-1, PROT-2)
# ================================================================================================

def test_mprotect_changes_protection_PROT2(p):
    a = p.mmap(HIGH, 2 * P, RW, ANON)
    p.mprotect(a, P, PROT_READ)
    assert entry_at(p, a).prot == PROT_READ
    assert entry_at(p, a + P).prot == RW
    p.mprotect(a, P, PROT_READ | 0xF0)                  # extra bits masked (PROT-1)
    assert entry_at(p, a).prot == PROT_READ


def test_mprotect_amd64_read_is_not_exec_PROT1(p):
    a = p.mmap(HIGH, P, PROT_READ, ANON)
    assert entry_at(p, a).prot == PROT_READ


def test_mprotect_i386_read_is_exec_PROT1_VMM7(tmp_path):
    with Kernel(arch="i386", physmem="64M", swap="64M", root=str(tmp_path)) as k:
        p = k.spawn(uid=0)
        a = p.mmap(0, 2 * P, RW, ANON)
        assert entry_at(p, a).prot == RWX                  # VMM-7 at mmap time
        p.mprotect(a, P, PROT_READ)
        assert entry_at(p, a).prot == PROT_READ | PROT_EXEC
        p.mprotect(a, P, PROT_WRITE)                       # no READ: nothing added
        assert entry_at(p, a).prot == PROT_WRITE
        k.check_invariants()


def test_mprotect_beyond_max_prot_eacces_PROT2_edge33(p):
    a = p.mmap(HIGH, P, PROT_NONE, ANON)
    p.mlock(a, P)                                          # FLT-3 strips WRITE from max
    e = entry_at(p, a)
    assert e.max_prot == PROT_READ | PROT_EXEC
    assert err(p.mprotect, a, P, RW) == errno.EACCES
    p.mprotect(a, P, PROT_READ)


def test_mprotect_holes_and_unmapped_succeed_PROT2_edge21(p):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mmap(HIGH + 2 * P, P, RW, ANON)
    p.mprotect(a, 3 * P, PROT_READ)
    assert entry_at(p, a).prot == PROT_READ
    assert entry_at(p, a + 2 * P).prot == PROT_READ
    p.mprotect(HIGH + 16 * P, P, PROT_READ)                # entirely unmapped
    p.mprotect(vmmap(p).max_offset + P, P, PROT_READ)      # beyond the map: clamped


def test_mprotect_zero_length_noop_PROT2(p):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mprotect(a, 0, PROT_NONE)
    assert entry_at(p, a).prot == RW


def test_mprotect_wrap_einval_PROT1(p):
    assert err(p.mprotect, M64 - P + 1, 2 * P, PROT_READ) == errno.EINVAL


def test_mprotect_failure_leaves_clip_MAP21(p, k):
    a = p.mmap(HIGH, 2 * P, PROT_NONE, ANON)
    # FLT-3 strips WRITE from max_protection at the first page, so the second page's
    # READ|WRITE|OVERRIDE_WRITE retry fails: the mlock fails, the max_protection change stays
    assert err(p.mlock, a, 2 * P) == errno.ENOMEM
    e = entry_at(p, a)
    assert (e.start, e.end, e.max_prot, e.wired_count) == (a, a + 2 * P, RWX & ~PROT_WRITE, 0)
    n = p.vmspace_info()["nentries"]
    assert err(p.mprotect, a + P, P, RW) == errno.EACCES
    assert p.vmspace_info()["nentries"] == n + 1
    k.check_invariants()


@pytest.mark.pure_python
def test_mprotect_unknown_kern_code_maps_to_einval_PROT2(p, monkeypatch):
    # only a sub-map entry makes vm_map_protect return KERN_INVALID_ARGUMENT, and user maps never
    # have one: the seed's EINVAL arm is checked with a stand-in.
    monkeypatch.setattr(seed, "vm_map_protect", lambda *a: KERN_INVALID_ARGUMENT)
    assert err(p.mprotect, HIGH, P, PROT_READ) == errno.EINVAL


# ================================================================================================
# minherit (INH-1)
# ================================================================================================

@pytest.mark.parametrize("bad", [3, -1, 100])
def test_minherit_bad_value_einval_INH1_edge22(p, bad):
    a = p.mmap(HIGH, P, RW, ANON)
    assert err(p.minherit, a, P, bad) == errno.EINVAL
    assert entry_at(p, a).inheritance == mman.INHERIT_COPY


def test_minherit_success_and_fork_INH1_edge29(p, k):
    a = p.mmap(HIGH, P, RW, ANON)
    b = p.mmap(HIGH + 4 * P, P, RW, ANON)
    p.mem_write(b, b"parent")
    p.minherit(a, P, mman.INHERIT_NONE)
    p.minherit(b, P, mman.INHERIT_SHARE)
    assert entry_at(p, a).inheritance == mman.INHERIT_NONE
    assert entry_at(p, b).inheritance == mman.INHERIT_SHARE
    c = p.fork()
    assert entry_at(c, a) is None                      # FORK-1: a hole in the child
    c.mem_write(b, b"child!")
    assert p.mem_read(b, 6) == b"child!"               # FORK-2: shared
    k.check_invariants()


def test_minherit_unmapped_succeeds_INH1_edge22(p):
    p.minherit(HIGH, P, mman.INHERIT_NONE)


def test_minherit_wrap_einval_INH1(p):
    assert err(p.minherit, M64 - P + 1, 2 * P, mman.INHERIT_NONE) == errno.EINVAL


@pytest.mark.pure_python
def test_minherit_protection_failure_maps_to_eacces_INH1(p, monkeypatch):
    # vm_map_inherit never returns KERN_PROTECTION_FAILURE (INH-1): unreachable arm, stand-in
    monkeypatch.setattr(seed, "vm_map_inherit", lambda *a: KERN_PROTECTION_FAILURE)
    assert err(p.minherit, HIGH, P, mman.INHERIT_NONE) == errno.EACCES


# ================================================================================================
# madvise (ADV-1..4)
# ================================================================================================

def test_madvise_protect_root_ADV1_edge23(p):
    assert not p.protected
    p.madvise(M64, M64, mman.MADV_PROTECT)             # addr and len are ignored
    assert p.protected


def test_madvise_protect_nonroot_eperm_ADV1_PRIV2_edge23(user):
    assert err(user.madvise, 0, 0, mman.MADV_PROTECT) == errno.EPERM
    assert not user.protected


def test_madvise_protect_jailed_root_eperm_PRIV2(k):
    j = k.spawn(uid=0, jail="j")
    assert err(j.madvise, 0, 0, mman.MADV_PROTECT) == errno.EPERM
    assert not j.protected


@pytest.mark.parametrize("behav", [-1, 11, 12, -100])
def test_madvise_bad_behavior_einval_ADV2_edge23(p, behav):
    a = p.mmap(HIGH, P, RW, ANON)
    assert err(p.madvise, a, P, behav) == errno.EINVAL


def test_madvise_nonroot_ordinary_advice_allowed_ADV2(user):
    a = user.mmap(HIGH, P, RW, ANON)
    user.madvise(a, P, mman.MADV_CORE)                   # 9, the largest valid value


def test_madvise_out_of_map_einval_ADV3(p):
    top = vmmap(p).max_offset
    assert err(p.madvise, top - P, 2 * P, mman.MADV_NORMAL) == errno.EINVAL
    # the unrounded end counts: addr + len == max is fine
    p.madvise(top - P, P, mman.MADV_NORMAL)


def test_madvise_wrap_einval_ADV3(p):
    assert err(p.madvise, M64 - P + 1, 2 * P, mman.MADV_NORMAL) == errno.EINVAL


def test_madvise_sets_entry_behaviour_ADV4(p, k):
    a = p.mmap(HIGH, 3 * P, RW, ANON)
    p.madvise(a + P + 1, 10, mman.MADV_SEQUENTIAL)       # [trunc_page, round_page)
    assert entry_at(p, a).behavior == mman.MADV_NORMAL
    e = entry_at(p, a + P)
    assert (e.start, e.end, e.behavior) == (a + P, a + 2 * P, mman.MADV_SEQUENTIAL)
    p.madvise(a, 3 * P, mman.MADV_NOSYNC)
    assert all("NOSYNC" in entry_at(p, a + i * P).flags for i in range(3))
    k.check_invariants()


def test_madvise_unmapped_range_succeeds_ADV4(p):
    p.madvise(HIGH, 16 * P, mman.MADV_RANDOM)
    p.madvise(HIGH, 16 * P, mman.MADV_WILLNEED)


def test_madvise_dontneed_keeps_data_edge23_PAGE6(p):
    a = p.mmap(HIGH, 2 * P, RW, ANON)
    p.mem_write(a, b"still here")
    p.madvise(a, 2 * P, mman.MADV_DONTNEED)
    assert p.mem_read(a, 10) == b"still here"


@pytest.mark.pure_python
def test_madvise_vm_map_madvise_failure_einval_ADV4(p, monkeypatch):
    # every behaviour 0..9 is valid for vm_map_madvise (MAP-25/26), so its failure arm is
    # unreachable through the syscall; checked with a stand-in.
    monkeypatch.setattr(seed, "vm_map_madvise", lambda *a: KERN_INVALID_ARGUMENT)
    assert err(p.madvise, HIGH, P, mman.MADV_NORMAL) == errno.EINVAL


# ================================================================================================
# mincore (MIN-1..10)
# ================================================================================================

def test_mincore_end_beyond_map_enomem_MIN2(p):
    top = vmmap(p).max_offset
    assert err(p.mincore, top - P, 2 * P) == errno.ENOMEM


def test_mincore_wrap_enomem_MIN2(p):
    assert err(p.mincore, M64 - P + 1, 2 * P) == errno.ENOMEM


def test_mincore_unmapped_start_enomem_MIN3_edge24(p):
    assert err(p.mincore, HIGH, P) == errno.ENOMEM


def test_mincore_zero_length_MIN3_MIN10_edge35(p):
    a = p.mmap(HIGH, P, RW, ANON)
    v = p.mmap(HIGH + 8 * P, P, RW, ANON)
    p.mem_write(v, b"\xee" * 4)
    assert p.mincore(a, 0) == b""
    assert p.mincore(a, 0, vec=v) is None
    assert p.mem_read(v, 4) == b"\xee" * 4                  # nothing written
    assert err(p.mincore, HIGH + 16 * P, 0) == errno.ENOMEM


def test_mincore_hole_enomem_MIN4_edge24(p):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mmap(HIGH + 2 * P, P, RW, ANON)
    p.mem_write(a, b"x")
    assert err(p.mincore, a, 3 * P) == errno.ENOMEM
    # the first entry's successor exists, but a later hole is still found
    p.mmap(HIGH + P, P, PROT_READ, ANON)
    assert err(p.mincore, a, 4 * P) == errno.ENOMEM


def test_mincore_reports_touched_pages_MIN5_PMAP7(p):
    a = p.mmap(HIGH, 3 * P, RW, ANON)
    p.mem_write(a, b"w")                       # written through this pmap: A and M
    p.mem_read(a + P, 1)                       # read: zero-fill page, A only
    vec = p.mincore(a, 3 * P)
    assert vec[0] == ALL_BITS
    assert vec[1] == MINCORE_INCORE | MINCORE_REFERENCED | MINCORE_REFERENCED_OTHER
    assert vec[2] == 0


def test_mincore_unaligned_address_does_not_cover_extra_page_MIN1_edge24(p):
    a = p.mmap(HIGH, 2 * P, RW, ANON)
    v = p.mmap(HIGH + 8 * P, P, RW, ANON)
    p.mem_write(a, b"x" * (2 * P))
    p.mem_write(v, b"\xee" * 4)
    p.mincore(a + 1, P, vec=v)
    assert p.mem_read(v, 3) == bytes([ALL_BITS, 0xEE, 0xEE])
    assert len(p.mincore(a + 1, P)) == 1


def test_mincore_skipped_entry_index_quirk_MIN7(p, k):
    # X (object) | Y (no object, 2 pages) | Z (object), all adjacent, different prot from Y
    x = p.mmap(HIGH, P, RW, ANON | MAP_FIXED)
    y = p.mmap(HIGH + P, 2 * P, PROT_READ, ANON | MAP_FIXED)
    z = p.mmap(HIGH + 3 * P, P, RW, ANON | MAP_FIXED)
    p.mem_write(x, b"x")
    p.mem_write(z, b"z")
    assert entry_at(p, y).object_type is None
    vec = p.mincore(x, 4 * P, fill=0xAA)
    # vec[0] written, then the pre-fill for Z zeroes vec[0..1] and leaves vec[2] untouched
    assert vec == bytes([0, 0, 0xAA, ALL_BITS])
    assert p.last_mincore_outside == []
    k.check_invariants()


def test_mincore_tail_fill_quirk_MIN8(p):
    x = p.mmap(HIGH, P, RW, ANON | MAP_FIXED)
    p.mmap(HIGH + P, 3 * P, PROT_READ, ANON | MAP_FIXED)
    p.mem_write(x, b"x")
    vec = p.mincore(x, 4 * P, fill=0xAA)
    # the tail loop overwrites the last written byte with 0 and leaves vec[3] stale
    assert vec == bytes([0, 0, 0, 0xAA])
    assert p.last_mincore_outside == []


def test_mincore_untouched_anon_fill_pattern_MIN8_edge25(p):
    a = p.mmap(HIGH, 3 * P, RW, ANON)
    vec = p.mincore(a, 3 * P, fill=0xAA)
    assert vec == bytes([0, 0, 0xAA])
    assert p.last_mincore_outside == [(-1, 0)]           # one byte before the vector
    assert p.mincore(a, 3 * P) == bytes(3)               # with the default fill


def test_mincore_runs_past_last_entry_not_rejected_MIN4_edge24(p, k):
    # make the last entry end below vm_map_max: remove the main stack
    stack = max(p.maps(), key=lambda e: e.end)
    p.munmap(stack.start, stack.end - stack.start)
    top = vmmap(p).max_offset
    x = p.mmap(top - 16 * P, P, RW, ANON | MAP_FIXED)
    p.mmap(top - 15 * P, P, PROT_READ, ANON | MAP_FIXED)      # the map's last entry
    p.mem_write(x, b"x")
    vec = p.mincore(x, 4 * P, fill=0xAA)
    assert vec == bytes([0, 0, 0, 0xAA])                      # MIN-8 tail pattern
    # starting in the last entry itself and running past it is rejected
    assert err(p.mincore, x + P, 2 * P) == errno.ENOMEM
    k.check_invariants()


def test_mincore_vec_in_user_memory_MIN7(p):
    a = p.mmap(HIGH, 2 * P, RW, ANON)
    v = p.mmap(HIGH + 8 * P, P, RW, ANON)
    p.mem_write(a, b"x")
    p.mem_write(v, b"\xee" * 3)
    assert p.mincore(a, 2 * P, vec=v) is None
    # page 1 of the entry's object is not resident: 0; vec[2] is beyond the range
    assert p.mem_read(v, 3) == bytes([ALL_BITS, 0, 0xEE])


def test_mincore_vec_unmapped_efault_MIN7(p):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mem_write(a, b"x")
    assert err(p.mincore, a, P, vec=HIGH + 64 * P) == errno.EFAULT


def test_mincore_vec_readonly_efault_MIN7(p):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mem_write(a, b"x")
    v = p.mmap(HIGH + 8 * P, P, PROT_READ, ANON)
    assert err(p.mincore, a, P, vec=v) == errno.EFAULT


def test_mincore_efault_keeps_earlier_writes_MIN7(p):
    a = p.mmap(HIGH, 3 * P, RW, ANON)
    p.mem_write(a, b"x" * (3 * P))
    v = p.mmap(HIGH + 8 * P, P, RW, ANON)
    p.mem_write(v + P - 2, b"\xee\xee")
    # vec[0], vec[1] are the last two bytes of the mapping; vec[2] faults
    assert err(p.mincore, a, 3 * P, vec=v + P - 2) == errno.EFAULT
    assert p.mem_read(v + P - 2, 2) == bytes([ALL_BITS, ALL_BITS])


def test_mincore_efault_in_skip_fill_MIN7(p):
    # X (object) | Y (no object, 2 pages) | Z (object); the vector has room for one byte only
    x = p.mmap(HIGH, P, RW, ANON | MAP_FIXED)
    p.mmap(HIGH + P, 2 * P, PROT_READ, ANON | MAP_FIXED)
    z = p.mmap(HIGH + 3 * P, P, RW, ANON | MAP_FIXED)
    p.mem_write(x, b"x")
    p.mem_write(z, b"z")
    v = p.mmap(HIGH + 8 * P, P, RW, ANON)
    p.mem_write(v + P - 1, b"\xee")
    # vec[0] (the last byte of v) gets X's info; the pre-fill for Z writes vec[0] = 0, then
    # vec[1] (unmapped) faults → EFAULT, with the earlier writes left in place
    assert err(p.mincore, x, 4 * P, vec=v + P - 1) == errno.EFAULT
    assert p.mem_read(v + P - 1, 1) == b"\0"


def test_mincore_efault_in_tail_fill_MIN8(p):
    a = p.mmap(HIGH, 4 * P, RW, ANON)        # untouched: no object, only the tail loop writes
    v = p.mmap(HIGH + 8 * P, P, RW, ANON)
    p.mem_write(v, b"\xee" * 4)
    # the tail loop starts at vec[-1]: that byte is v - 1, unmapped → EFAULT at once
    assert err(p.mincore, a, 4 * P, vec=v) == errno.EFAULT
    assert p.mem_read(v, 4) == b"\xee" * 4


def test_mincore_timestamp_restart_clobbers_prefix_MIN9(p, k):
    # the vector's first two bytes end entry E1 (touched: has an object), the rest starts entry
    # E2 (untouched, no object): the first write into E2 makes an object (MAP-48, timestamp + 1),
    # so the scan restarts at the current page with lastvecindex = -1 and the pre-fill rewrites
    # vec[-1 .. vecindex-2] with zeros.
    a = p.mmap(HIGH, 4 * P, RW, ANON)
    p.mem_write(a, b"x" * (4 * P))
    e1 = p.mmap(HIGH + 16 * P, P, RW, ANON | MAP_FIXED)
    e2 = p.mmap(HIGH + 17 * P, P, RWX, ANON | MAP_FIXED)
    p.mem_write(e1, b"\xee" * P)
    assert entry_at(p, e2).object_type is None and entry_at(p, e1).start == e1
    vec = e2 - 2
    p.mincore(a, 4 * P, vec=vec)
    got = p.mem_read(vec - 1, 5)
    assert got == bytes([0, 0, ALL_BITS, ALL_BITS, ALL_BITS])
    k.check_invariants()


def test_mincore_vec_in_untouched_memory_restart_is_harmless_MIN9(p):
    a = p.mmap(HIGH, 2 * P, RW, ANON)
    p.mem_write(a, b"x" * (2 * P))
    v = p.mmap(HIGH + 8 * P, P, RW, ANON)          # no object yet: first subyte restarts
    p.mincore(a, 2 * P, vec=v)
    assert p.mem_read(v, 2) == bytes([ALL_BITS, ALL_BITS])


def test_mincore_tail_restart_MIN9(p, k):
    # range: X (touched, object) | Y (no object, 2 pages).  The vector's bytes -1 and 0 end entry
    # E1 (touched), bytes 1 and 2 start entry E2 (untouched, no object).
    x = p.mmap(HIGH, P, RW, ANON | MAP_FIXED)
    p.mmap(HIGH + P, 2 * P, PROT_READ, ANON | MAP_FIXED)
    p.mem_write(x, b"x")
    e1 = p.mmap(HIGH + 16 * P, P, RW, ANON | MAP_FIXED)
    e2 = p.mmap(HIGH + 17 * P, P, RWX, ANON | MAP_FIXED)
    p.mem_write(e1, b"\xee" * P)
    v = e2 - 1
    p.mincore(x, 3 * P, vec=v)
    # walk: vec[0] = info(X).  Tail (MIN-8) from lastvecindex 0: vec[0] = 0, vec[1] = 0 — that
    # write faults in E2's object (timestamp + 1).  After the tail the timestamp differs, so the
    # scan restarts at the current address (Y's start) with lastvecindex = -1: Y is skipped and
    # the tail runs again from vec[-1].  So vec[-1] (0xEE before) is zeroed too.
    assert p.mem_read(v - 1, 3) == bytes([0, 0, 0])
    k.check_invariants()


def test_mincore_shared_memory_across_processes_PMAP7_MIN6(p, k):
    a = p.mmap(HIGH, 2 * P, RW, MAP_ANON | MAP_SHARED)
    p.mem_write(a, b"parent")
    c = p.fork()
    # the child has no translation: the object's page reports the *_OTHER bits only
    assert c.mincore(a, P) == bytes([MINCORE_INCORE | MINCORE_MODIFIED_OTHER
                                     | MINCORE_REFERENCED_OTHER])
    assert p.mincore(a, P) == bytes([ALL_BITS])
    c.mem_read(a, 1)          # now the child references it through its own pmap
    assert c.mincore(a, P) == bytes([MINCORE_INCORE | MINCORE_REFERENCED
                                     | MINCORE_REFERENCED_OTHER | MINCORE_MODIFIED_OTHER])
    assert c.mincore(a + P, P) == b"\0"
    k.check_invariants()


def test_mincore_child_cow_shadow_reads_nonresident_MIN6(p):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mem_write(a, b"x")
    c = p.fork()
    c.mem_write(a, b"y")                          # the child's own shadow page
    assert c.mincore(a, P)[0] & MINCORE_MODIFIED


# ================================================================================================
# mlock (MLK-1..5), munlock (MUL-1)
# ================================================================================================

def test_mlock_nonroot_eperm_MLK1_edge26(user):
    a = user.mmap(HIGH, P, RW, ANON)
    assert err(user.mlock, a, P) == errno.EPERM
    assert err(user.mlock, M64, 100) == errno.EPERM          # before any argument check


def test_mlock_jailed_root_eperm_PRIV2(k):
    j = k.spawn(uid=0, jail="j")
    a = j.mmap(HIGH, P, RW, ANON)
    assert err(j.mlock, a, P) == errno.EPERM


def test_mlock_wrap_einval_MLK2(p):
    assert err(p.mlock, M64 - P + 1, 2 * P) == errno.EINVAL        # last < addr
    assert err(p.mlock, M64 - 2 * P + 1, P + 1) == errno.EINVAL    # round_page(last) wraps


def test_mlock_more_than_max_wired_enomem_MLK2_edge26(p, k):
    k.sysctl("vm.max_wired", 2)
    a = p.mmap(HIGH, 3 * P, RW, ANON)
    assert err(p.mlock, a, 3 * P) == errno.ENOMEM
    assert err(p.mlock, HIGH + 64 * P, 3 * P) == errno.ENOMEM      # checked before the map


def test_mlock_rlimit_memlock_enomem_MLK3_edge26(p, k):
    a = p.mmap(HIGH, 2 * P, RW, ANON)
    p.setrlimit(resource.RLIMIT_MEMLOCK, (P, P))
    assert err(p.mlock, a, 2 * P) == errno.ENOMEM
    p.mlock(a, P)
    # already-wired pages of the range are counted again
    assert err(p.mlock, a, P) == errno.ENOMEM
    k.check_invariants()


def test_mlock_system_wired_total_eagain_MLK4_edge26(p, k):
    a = p.mmap(HIGH, P, RW, ANON)
    k.sysctl("vm.max_wired", wired(k))
    assert err(p.mlock, a, P) == errno.EAGAIN
    assert entry_at(p, a).wired_count == 0


def test_mlock_hole_enomem_MLK5_edge26(p, k):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mmap(HIGH + 2 * P, P, RW, ANON)
    w0 = wired(k)
    assert err(p.mlock, a, 3 * P) == errno.ENOMEM
    assert err(p.mlock, HIGH + 64 * P, P) == errno.ENOMEM
    assert wired(k) == w0
    assert entry_at(p, a).wired_count == 0
    k.check_invariants()


def test_mlock_success_wires_pages_MLK5(p, k):
    w0 = wired(k)
    a = p.mmap(HIGH, 4 * P, RW, ANON)
    p.mlock(a + 1, 2 * P)                     # [trunc_page(a+1), round_page(a+1+2P)) = 3 pages
    e = entry_at(p, a)
    assert (e.start, e.end) == (a, a + 3 * P)
    assert e.wired_count == 1 and "USER_WIRED" in e.flags and e.resident == 3
    assert entry_at(p, a + 3 * P).wired_count == 0
    assert wired(k) == w0 + 3
    assert p.vmspace_info()["wired"] == 3
    p.mlock(a, 3 * P)                          # again: no double count
    assert entry_at(p, a).wired_count == 1 and wired(k) == w0 + 3
    k.check_invariants()


def test_mlock_zero_length_edge36_MAP36(p, k):
    a = p.mmap(HIGH, 4 * P, RW, ANON)
    assert err(p.mlock, HIGH + 64 * P, 0) == errno.ENOMEM      # in a hole
    n = p.vmspace_info()["nentries"]
    p.mlock(a, 0)                                             # an entry's start: no change
    p.mlock(a + P, 0)             # strictly inside: the project's documented early success
    assert p.vmspace_info()["nentries"] == n
    assert entry_at(p, a).wired_count == 0
    p.munmap(a, 4 * P)
    k.check_invariants()


def test_mlock_prot_none_strips_max_write_FLT3_edge33(p, k):
    a = p.mmap(HIGH, P, PROT_NONE, ANON)
    p.mlock(a, P)
    e = entry_at(p, a)
    assert e.wired_count == 1 and not e.max_prot & PROT_WRITE
    assert err(p.mprotect, a, P, RW) == errno.EACCES
    k.check_invariants()


def test_fork_after_mlock_child_not_wired_FORK3_edge29(p, k):
    a = p.mmap(HIGH, 2 * P, RW, ANON)
    p.mem_write(a, b"wired")
    p.mlock(a, 2 * P)
    c = p.fork()
    ce = entry_at(c, a)
    assert ce.wired_count == 0 and "USER_WIRED" not in ce.flags
    assert c.mem_read(a, 5) == b"wired"
    c.mem_write(a, b"CHILD")
    assert p.mem_read(a, 5) == b"wired"
    assert entry_at(p, a).wired_count == 1
    k.check_invariants()


def test_munlock_nonroot_eperm_MUL1_edge26(user):
    assert err(user.munlock, HIGH, P) == errno.EPERM


def test_munlock_wrap_einval_MUL1(p):
    assert err(p.munlock, M64 - P + 1, 2 * P) == errno.EINVAL
    assert err(p.munlock, M64 - 2 * P + 1, P + 1) == errno.EINVAL


def test_munlock_hole_enomem_MUL1(p):
    a = p.mmap(HIGH, P, RW, ANON)
    p.mmap(HIGH + 2 * P, P, RW, ANON)
    p.mlock(a, P)
    assert err(p.munlock, a, 3 * P) == errno.ENOMEM
    assert entry_at(p, a).wired_count == 1          # all or nothing
    assert err(p.munlock, HIGH + 64 * P, P) == errno.ENOMEM


def test_munlock_success_MUL1(p, k):
    w0 = wired(k)
    a = p.mmap(HIGH, 2 * P, RW, ANON)
    p.munlock(a, 2 * P)                             # mapped but not locked: 0 (MAP-34)
    p.mlock(a, 2 * P)
    assert wired(k) == w0 + 2
    p.munlock(a, 2 * P)
    e = entry_at(p, a)
    assert e.wired_count == 0 and "USER_WIRED" not in e.flags
    assert wired(k) == w0
    k.check_invariants()


# ================================================================================================
# mlockall / munlockall (MLA-1..3, MUA-1)
# ================================================================================================

@pytest.mark.parametrize("how", [0, 4, MCL_CURRENT | 4, -1])
def test_mlockall_bad_how_einval_before_eperm_MLA1_edge27(user, how):
    assert err(user.mlockall, how) == errno.EINVAL


@pytest.mark.parametrize("how", [MCL_CURRENT, MCL_FUTURE, MCL_CURRENT | MCL_FUTURE])
def test_mlockall_nonroot_eperm_MLA1_edge27(user, how):
    assert err(user.mlockall, how) == errno.EPERM
    assert not user.vmspace_info()["wirefuture"]


def test_mlockall_jailed_root_eperm_PRIV2(k):
    j = k.spawn(uid=0, jail="j")
    assert err(j.mlockall, MCL_CURRENT) == errno.EPERM
    assert err(j.munlockall) == errno.EPERM


def test_mlockall_future_then_munlockall_MLA2_MUA1_edge34(p, k):
    w0 = wired(k)
    p.mlockall(MCL_FUTURE)
    assert p.vmspace_info()["wirefuture"]
    assert all(e.wired_count == 0 for e in p.maps())       # nothing current is wired
    a = p.mmap(0, 2 * P, RW, ANON)
    assert entry_at(p, a).wired_count == 1
    p.munlockall()
    assert not p.vmspace_info()["wirefuture"]
    assert all(e.wired_count == 0 for e in p.maps())
    assert wired(k) == w0
    b = p.mmap(0, P, RW, ANON)
    assert entry_at(p, b).wired_count == 0
    k.check_invariants()


def test_mlockall_current_wires_everything_MLA3(p, k):
    a = p.mmap(HIGH, 2 * P, RW, ANON)
    p.mlockall(MCL_CURRENT)
    assert not p.vmspace_info()["wirefuture"]
    for e in p.maps():
        assert e.wired_count == 1 and "USER_WIRED" in e.flags, e
    assert entry_at(p, a).resident == 2
    assert p.vmspace_info()["wired"] == sum((e.end - e.start) // P for e in p.maps())
    p.munlockall()
    assert p.vmspace_info()["wired"] == 0
    k.check_invariants()


def test_munlockall_nonroot_eperm_MUA1_edge34(user):
    assert err(user.munlockall) == errno.EPERM


def test_munlockall_without_locks_succeeds_MUA1(p):
    p.munlockall()


# ================================================================================================
# obreak (BRK-1..5)
# ================================================================================================

def test_obreak_grow_and_shrink_BRK3_BRK4(p, k):
    cur = p.brk_current()
    p.obreak(cur + 2 * P)
    assert p.brk_current() == cur + 2 * P
    p.mem_write(cur + P, b"heap")
    e = entry_at(p, cur)
    # BRK-3 inserts with eflags 0 and VM_PROT_ALL: no coalescing with the COW data segment (MAP-8)
    assert (e.start, e.end, e.prot) == (cur, cur + 2 * P, RWX)
    p.obreak(cur + 1)                                       # rounds up to cur + P
    assert p.brk_current() == cur + P
    assert entry_at(p, cur + P) is None
    k.check_invariants()


def test_obreak_below_data_einval_BRK2_edge30(p):
    assert err(p.obreak, p.brk_base() - P) == errno.EINVAL


def test_obreak_above_rlimit_data_enomem_BRK2_edge30(p):
    base = round_page(p.brk_base())
    cur = p.brk_current()
    p.setrlimit(resource.RLIMIT_DATA, (cur - base, cur - base + 64 * P))
    assert err(p.obreak, cur + P) == errno.ENOMEM
    # shrinking is allowed even above the limit
    p.setrlimit(resource.RLIMIT_DATA, (P, cur - base + 64 * P))
    p.obreak(cur - P)
    assert p.brk_current() == cur - P


def test_obreak_into_existing_mapping_enomem_BRK3_edge30(p):
    cur = p.brk_current()
    p.mmap(cur + 2 * P, P, RW, ANON | MAP_FIXED)
    assert err(p.obreak, cur + 4 * P) == errno.ENOMEM
    assert p.brk_current() == cur


def test_obreak_wirefuture_wires_growth_BRK5(p, k):
    p.mlockall(MCL_FUTURE)
    cur = p.brk_current()
    p.obreak(cur + 2 * P)
    e = entry_at(p, cur)
    assert e.wired_count == 1
    p.munlockall()
    k.check_invariants()
