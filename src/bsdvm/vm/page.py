"""vm_page.c: physical page frames, the page queues and the global counters (struct vmmeter).

Model: physical memory is one host buffer of `PhysMem.npages` page frames (an anonymous host
mapping, so the host backs only the frames ever touched).  Frame f has the fixed physical address
`phys_base + f * PAGE_SIZE`; the first `kernel_wired` frames are the kernel's own (PAGE-4) and
never hold a managed page.  A managed `VmPage` names its frame (`phys_addr`) and sees its bytes
through `data`, a writable view of that frame's slice of the buffer made on each use (`frames` is
the buffer's view and `offset` the frame's place in it: a resident page keeps no view object).  Freeing a page returns
its frame to the free list; a page comes out of `alloc` zero-filled -- a frame never used before is
zero already (the host buffer starts zeroed), a recycled frame is zeroed on allocation, as
vm_page_alloc hands out a non-PG_ZERO page that the caller zeroes.  Zeroing on allocation rather
than on free costs nothing for frames never reused (process exit, kernel shutdown).
Fictitious (device) pages look into their device's own buffer instead; `phys_addr` is then the
device's physical address (the d_mmap result).

What a CPU emulator needs to map guest memory onto the host: `PhysMem.memory` (the buffer),
`PhysMem.host_address` (its address in this process) and `PhysMem.size` (bytes); a managed page's
host address is `host_address + (page.phys_addr - phys_base)`.  `PhysMem.view` is a memoryview of
the buffer: consecutive frames are one slice of it (copyin/copyout copy a run of them at once).
`buffer_address` gives the host address of any writable buffer (a device's si_memory).

Invariants: v_free_count + (pages held by objects, wired kernel pages included) == npages;
v_free_count == frames on the free list + frames never handed out; a frame backs at most one page;
a page is on at most one queue; a wired page (wire_count > 0) is on no queue; v_wire_count counts
wired managed pages once each, fictitious (device) pages never.  May call: vm.pmap, only for the
reference and modify bits vm_page_dontneed clears and tests.
"""
from __future__ import annotations

import ctypes
import mmap
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Final, Iterable

from .param import (PAGE_SHIFT, PAGE_SIZE, PG_FICTITIOUS, PG_REFERENCED, PQ_ACTIVE, PQ_INACTIVE,
                    PQ_NONE)

if TYPE_CHECKING:
    from .object import VmObject
    from .pmap import Pte

ZERO_PAGE: Final = bytes(PAGE_SIZE)
ACT_INIT: Final = 5         # a page's act_count when it is (re)activated


def host_buffer(nbytes: int) -> mmap.mmap | bytearray:
    """A zero-filled, writable host buffer of nbytes that the host backs lazily (only touched pages
    cost host memory): a private anonymous mapping, as a process's own memory is.  (mmap's default,
    a shared one, is shmem: its first touch of a page costs the host half as much again, and a host
    process forked meanwhile would share it.)  An empty size gets an empty bytearray, since the
    host cannot map zero bytes."""
    if nbytes == 0:
        return bytearray()
    return mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE)


def buffer_address(buf) -> int:
    """The address of a writable buffer's first byte in this (host) process, for code that hands
    memory to native code (a CPU emulator mapping guest pages).  The buffer must outlive the use of
    the address; 0 for an empty buffer."""
    if len(buf) == 0:
        return 0
    return ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))


class VmPage:
    """struct vm_page: a page of an object, held in a frame of physical memory (managed) or over
    device memory (fictitious)."""
    __slots__ = ("object", "pindex", "frames", "offset", "phys_addr", "valid", "dirty", "flags",
                 "wire_count", "hold_count", "queue", "act_count", "pv_first", "swapblk")

    def __init__(self, obj: VmObject | None, pindex: int, frames: memoryview | None, offset: int,
                 flags: int = 0, phys_addr: int = 0) -> None:
        self.object: VmObject | None = obj  # None once freed
        self.pindex = pindex
        # the memory holding the page's bytes -- physical memory (managed) or the device's
        # (fictitious) -- and where they start in it.  None once freed, so that a stale reference
        # cannot reach the frame's next page.
        self.frames: memoryview | None = frames
        self.offset = offset
        self.phys_addr = phys_addr  # the frame's physical address (device: the d_mmap address)
        self.valid = False
        self.dirty = False
        self.flags = flags
        self.wire_count = 0
        self.hold_count = 0
        self.queue = PQ_NONE
        self.act_count = 0
        # md.pv_list: its translations (each names its pmap and vpn) in the order they were made,
        # linked through Pte.pv_next as the TAILQ links pv entries -- no list object per page
        self.pv_first: Pte | None = None
        self.swapblk: int | None = None

    @property
    def data(self) -> Any:
        """A writable view of the page's bytes (made on each use: a resident page holds no view
        of its own); None once the page is freed.  Any: every user holds a live page."""
        frames = self.frames
        if frames is None:
            return None
        return frames[self.offset:self.offset + PAGE_SIZE]

    @property
    def pv(self) -> list[Pte]:
        """Its translations (md.pv_list), in the order they were made: a snapshot."""
        found: list[Pte] = []
        pte = self.pv_first
        while pte is not None:
            found.append(pte)
            pte = pte.pv_next
        return found

    @property
    def fictitious(self) -> bool:
        return bool(self.flags & PG_FICTITIOUS)

    def __repr__(self) -> str:
        return (f"<vm_page obj={getattr(self.object, 'id', None)} pindex={self.pindex} "
                f"valid={self.valid} dirty={self.dirty} wire={self.wire_count}>")


COUNTER_NAMES = (
    "v_vm_faults", "v_cow_faults", "v_cow_optim", "v_zfod", "v_ozfod", "v_swapin", "v_swapout",
    "v_swappgsin", "v_swappgsout", "v_vnodein", "v_vnodeout", "v_vnodepgsin", "v_vnodepgsout",
    "v_intrans", "v_reactivated", "v_pdwakeups", "v_pdpages", "v_tcached", "v_dfree", "v_pfree",
    "v_tfree", "v_forks", "v_forkpages", "v_kthreads", "v_prefault",
)


class VmMeter:
    """struct vmmeter's event counters (sys/vmmeter.h, the kernel's `cnt`): one int attribute per
    name in COUNTER_NAMES, raised where FreeBSD 7 raises it (`cnt.v_vm_faults++`).  Attributes, not
    a dict keyed by name: a fault raises two or three of them, and a native attribute costs a few
    instructions where a dict item costs a lookup, a boxed add and a store."""

    def __init__(self) -> None:
        self.v_vm_faults = 0
        self.v_cow_faults = 0
        self.v_cow_optim = 0
        self.v_zfod = 0
        self.v_ozfod = 0
        self.v_swapin = 0
        self.v_swapout = 0
        self.v_swappgsin = 0
        self.v_swappgsout = 0
        self.v_vnodein = 0
        self.v_vnodeout = 0
        self.v_vnodepgsin = 0
        self.v_vnodepgsout = 0
        self.v_intrans = 0
        self.v_reactivated = 0
        self.v_pdwakeups = 0
        self.v_pdpages = 0
        self.v_tcached = 0
        self.v_dfree = 0
        self.v_pfree = 0
        self.v_tfree = 0
        self.v_forks = 0
        self.v_forkpages = 0
        self.v_kthreads = 0
        self.v_prefault = 0

    def as_dict(self) -> dict[str, int]:
        """Every counter by name, in COUNTER_NAMES order (a snapshot)."""
        return {name: getattr(self, name) for name in COUNTER_NAMES}


class PhysMem:
    """The page allocator and queues.  `cnt` holds the event counts of struct vmmeter (`counters`
    is a snapshot of them by name); the gauges (v_free_count, v_wire_count, ...) are derived from
    the queues so they cannot drift."""

    def __init__(self, npages: int, kernel_wired: int, phys_base: int = 0):
        if kernel_wired >= npages:
            raise ValueError("physmem too small for the kernel's own wired pages")
        self.npages = npages
        self.kernel_wired = kernel_wired        # boot-time wired kernel memory (PAGE-4)
        self.free_count = npages - kernel_wired
        self.phys_base = phys_base              # physical address of frame 0
        self.size = npages * PAGE_SIZE
        # every frame's bytes, frame f at f * PAGE_SIZE: an anonymous host mapping as host_buffer's (never
        # empty: npages > kernel_wired), whose slices are bytes
        self.memory = mmap.mmap(-1, self.size, flags=mmap.MAP_PRIVATE)
        self.view = memoryview(self.memory)     # the same bytes, sliced without a copy
        self._free_frames: list[int] = []       # freed frames, reused first (LIFO: still warm)
        self._next_frame = kernel_wired         # frames from here on were never handed out
        self._host_address: int | None = None
        self.user_wire_count = 0                # managed pages with wire_count > 0
        self.active: dict[VmPage, None] = {}    # page -> None, in LRU order
        # head (first) to tail; the page daemon scans from the head.  Ordered so that
        # _vm_page_deactivate(m, athead) can insert at the head in O(1).
        self.inactive: OrderedDict[VmPage, None] = OrderedDict()
        self.cnt = VmMeter()
        self.free_at_boot = self.free_count
        self.free_low = self.free_count         # the fewest free frames seen (reset by assignment)
        # set by VmSystem.attach_pagedaemon: called with the shortfall when memory runs short
        self.pagedaemon: Callable[[int], None] | None = None
        self.dnweight = 0                       # vm_page_dontneed's static call counter

    # -- gauges -------------------------------------------------------------------------------
    @property
    def v_wire_count(self) -> int:
        return self.kernel_wired + self.user_wire_count

    @property
    def counters(self) -> dict[str, int]:
        """The vmmeter event counters by name (v_vm_faults, v_zfod, ...): a snapshot of `cnt`."""
        return self.cnt.as_dict()

    @property
    def host_address(self) -> int:
        """The host address of frame 0's first byte (see the module comment)."""
        if self._host_address is None:
            self._host_address = buffer_address(self.memory)
        return self._host_address

    # -- allocation -----------------------------------------------------------------------------
    def alloc(self, obj: VmObject, pindex: int) -> VmPage | None:
        """vm_page_alloc: a zero-filled page, or None when no frame can be had even after the
        page daemon ran."""
        if self.free_count == 0 and self.pagedaemon is not None:
            self.pagedaemon(1)
        if self.free_count == 0:
            return None
        self.free_count -= 1
        if self.free_count < self.free_low:
            self.free_low = self.free_count
        if self._free_frames:
            frame = self._free_frames.pop()
            off = frame << PAGE_SHIFT
            self.memory[off:off + PAGE_SIZE] = ZERO_PAGE   # a recycled frame still holds its last page
            if self.on_frame_reuse is not None:
                # a CPU may still hold translated code from this frame (amd64/cpu.py)
                self.on_frame_reuse(self.phys_base + off)
        else:
            frame = self._next_frame
            self._next_frame += 1
            off = frame << PAGE_SHIFT
        m = VmPage(obj, pindex, self.view, off, 0, self.phys_base + off)
        obj.pages[pindex] = m
        obj.resident_page_count += 1
        if self.pagedaemon is not None and self.free_count < self.free_min:
            self.pagedaemon(0)
        return m

    free_min = 0
    # called with a recycled frame's physical address (the kernel's)
    on_frame_reuse: Callable[[int], object] | None = None

    def free(self, m: VmPage) -> None:
        """vm_page_free: the page leaves its object and its frame returns to the free pool.
        Translations must already be gone."""
        obj = m.object
        if obj is not None:
            if obj.pages.get(m.pindex) is m:
                del obj.pages[m.pindex]
                obj.resident_page_count -= 1
            m.object = None
        if m.flags & PG_FICTITIOUS:
            return
        if m.wire_count:
            self.user_wire_count -= 1
            m.wire_count = 0
        self._dequeue(m)
        m.frames = None
        self._free_frames.append((m.phys_addr - self.phys_base) >> PAGE_SHIFT)
        self.free_count += 1
        self.cnt.v_tfree += 1

    # -- queues ---------------------------------------------------------------------------------
    def _dequeue(self, m: VmPage) -> None:
        if m.queue == PQ_ACTIVE:
            del self.active[m]
        elif m.queue == PQ_INACTIVE:
            del self.inactive[m]
        m.queue = PQ_NONE

    def activate(self, m: VmPage) -> None:
        """vm_page_activate: put m on the active queue's tail with act_count at least ACT_INIT.  A
        page already active keeps its place (7.x moves only a page that is on another queue;
        the page daemon's scan, not each use, ages active pages)."""
        if m.flags & PG_FICTITIOUS or m.wire_count:
            return
        if m.queue != PQ_ACTIVE:
            if m.queue == PQ_INACTIVE:
                self.cnt.v_reactivated += 1
            self._dequeue(m)
            m.queue = PQ_ACTIVE
            self.active[m] = None
        if m.act_count < ACT_INIT:
            m.act_count = ACT_INIT

    def deactivate(self, m: VmPage, athead: bool = False) -> None:
        """_vm_page_deactivate: move m to the inactive queue's tail (LRU order), or to its head
        when `athead` ("as if it were placed in the cache": the page daemon reaches it first).
        A page already inactive stays where it is."""
        if m.flags & PG_FICTITIOUS or m.wire_count or m.queue == PQ_INACTIVE:
            return
        self._dequeue(m)
        m.queue = PQ_INACTIVE
        self.inactive[m] = None
        if athead:
            self.inactive.move_to_end(m, last=False)

    def dontneed(self, m: VmPage) -> None:
        """vm_page_dontneed (PAGE-6, 7.x's vm_page.c): never frees, never zeroes.  A call counter
        decides: the calls whose count has bits 4..8 all clear (the first 15, then 16 of every
        512: one in 32), and every call on a page already inactive, leave the page alone but for
        aging it; the others clear its reference bits (PG_REFERENCED and every translation's A
        bit: the page daemon would otherwise reactivate it), fold a set M bit into `dirty`, and
        deactivate it -- a dirty page, and a clean one on the calls whose count has bits 4..6
        clear (3 in 32), at the tail of the inactive queue; the other clean pages (28 in 32) at
        its head, where the page daemon reclaims them first."""
        from .pmap import pmap_clear_reference, pmap_is_modified
        self.dnweight += 1
        dnw = self.dnweight
        if (dnw & 0x01F0) == 0 or m.queue == PQ_INACTIVE:
            if m.act_count >= ACT_INIT:
                m.act_count -= 1
            return
        m.flags &= ~PG_REFERENCED
        pmap_clear_reference(m)
        if not m.dirty and pmap_is_modified(m):
            m.dirty = True
        self.deactivate(m, athead=not m.dirty and (dnw & 0x0070) != 0)

    def wire(self, m: VmPage) -> None:
        """vm_page_wire (PAGE-3)."""
        if m.flags & PG_FICTITIOUS:
            return
        if m.wire_count == 0:
            self._dequeue(m)
            self.user_wire_count += 1
        m.wire_count += 1

    def unwire(self, m: VmPage, activate: bool = True) -> None:
        if m.flags & PG_FICTITIOUS:
            return
        if m.wire_count == 0:
            raise AssertionError("vm_page_unwire: page not wired")
        m.wire_count -= 1
        if m.wire_count == 0:
            self.user_wire_count -= 1
            if activate:
                self.activate(m)
            else:
                self.deactivate(m)

    def rename(self, m: VmPage, new_obj: VmObject, new_pindex: int) -> None:
        """vm_page_rename: move a page to another object; it becomes dirty (PAGE-2)."""
        old = m.object
        if old is not None and old.pages.get(m.pindex) is m:
            del old.pages[m.pindex]
            old.resident_page_count -= 1
        m.object = new_obj
        m.pindex = new_pindex
        new_obj.pages[new_pindex] = m
        new_obj.resident_page_count += 1
        m.dirty = True

    def requeue_strays(self, objects: Iterable[VmObject]) -> int:
        """Put every valid, unwired managed page of `objects` that is on no queue on the active
        queue; returns how many.  Only needed after a Python exception (KeyboardInterrupt)
        stopped a fault between entering a page and queueing it: the queue gauges then add up
        again.  (An invalid page left behind is a placeholder the next fault reuses.)"""
        n = 0
        for obj in objects:
            for m in obj.pages.values():
                if (m.queue == PQ_NONE and m.valid and not m.wire_count
                        and not m.flags & PG_FICTITIOUS):
                    self.activate(m)
                    n += 1
        return n

    # -- statistics -----------------------------------------------------------------------------
    def stats(self) -> dict:
        d: dict = self.cnt.as_dict()
        d.update(
            v_page_size=PAGE_SIZE,
            v_page_count=self.npages,
            v_free_count=self.free_count,
            v_wire_count=self.v_wire_count,
            v_active_count=len(self.active),
            v_inactive_count=len(self.inactive),
            v_cache_count=0,
        )
        return d
