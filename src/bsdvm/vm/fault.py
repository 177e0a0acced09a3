"""vm_fault.c: page-fault resolution, wiring faults and the eager copy of wired entries at fork
(spec section 7, FLT-1..13), plus the user-memory access path that plays the MMU (copyin/copyout).

The walk goes down the shadow chain from the entry's object; the first object gets the new page
(zero fill, or the copy for copy-on-write); vnode objects page in from the host file with a
read-ahead cluster; device objects supply fictitious pages over device memory.  Pagers are reached
only through `pagertab[obj.type]` (vm/pager.py).
Invariants: a successful fault leaves a translation for the address whose protection allows the
access (or returns an error and leaves none); pages found in backing objects are never written
through a translation (they are mapped read-only).  May call: vm.map (lookup, growstack),
vm.object, vm.pager, vm.pmap, vm.page; UserAccess (the library's entry to copyin/copyout) also
takes the giant lock and calls the page daemon's OOM killer, both handed in by the kernel.
"""
from __future__ import annotations

import mmap
import operator
from typing import TYPE_CHECKING, Any, Callable, Final, SupportsIndex

from . import pmap as pmap_mod
from .map import vm_map_growstack, vm_map_lookup
from .object import vm_object_allocate
from .param import (KERN_FAILURE, KERN_INVALID_ADDRESS, KERN_PROTECTION_FAILURE,
                    KERN_RESOURCE_SHORTAGE, KERN_SUCCESS, MAP_ENTRY_BEHAV_MASK,
                    MAP_ENTRY_BEHAV_RANDOM, MAP_ENTRY_BEHAV_SEQUENTIAL, MAP_ENTRY_NOSYNC,
                    OBJ_DEAD, OBJ_MIGHTBEDIRTY, OBJ_ONEMAPPING, OBJ_WRITEABLE, OBJT_DEFAULT,
                    OBJT_SWAP, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PG_NOSYNC,
                    PG_REFERENCED, PG_WRITEABLE, VM_FAULT_CHANGE_WIRING, VM_FAULT_DIRTY,
                    VM_FAULT_NORMAL,
                    VM_FAULT_USER_WIRE, VM_FAULT_WIRE_MASK, VM_PAGER_BAD, VM_PAGER_ERROR,
                    VM_PAGER_OK, VM_PROT_EXECUTE, VM_PROT_OVERRIDE_WRITE, VM_PROT_READ,
                    VM_PROT_WRITE, atop)

if TYPE_CHECKING:
    from .map import VmMap, VmMapEntry, Vmspace
    from .object import VmObject
    from .page import PhysMem, VmPage
    from .vm_system import VmSystem

PFBAK: Final = 4
PFFOR: Final = 4


def vm_fault(m: VmMap, vaddr: int, fault_type: int, fault_flags: int) -> int:
    """Resolve a fault at vaddr in map m.  Returns a KERN_* code."""
    vmsys = m.vmsys
    phys = vmsys.phys
    pagertab = vmsys.pager.pagertab
    cnt = phys.cnt
    cnt.v_vm_faults += 1
    vaddr &= ~(PAGE_SIZE - 1)
    growstack = True
    while True:
        rv, entry, first_object, first_pindex, prot, wired = vm_map_lookup(m, vaddr, fault_type)
        if rv != KERN_SUCCESS:
            if rv == KERN_PROTECTION_FAILURE and fault_flags == VM_FAULT_USER_WIRE:
                # FLT-3: a user wiring may go through max_protection
                rv, entry, first_object, first_pindex, prot, wired = vm_map_lookup(
                    m, vaddr, VM_PROT_READ | VM_PROT_WRITE | VM_PROT_OVERRIDE_WRITE)
                if rv != KERN_SUCCESS:
                    return rv
                assert entry is not None        # KERN_SUCCESS: the entry holding vaddr
                if not entry.protection & VM_PROT_WRITE:
                    entry.max_protection &= ~VM_PROT_WRITE
            elif rv == KERN_INVALID_ADDRESS and growstack and m.vmspace is not None \
                    and getattr(m.vmspace, "proc", None) is not None:
                r = vm_map_growstack(m.vmspace.proc, vaddr)
                if r != KERN_SUCCESS:
                    return KERN_FAILURE
                growstack = False
                continue
            else:
                return rv
        break

    # KERN_SUCCESS: vm_map_lookup found the entry holding vaddr and gave it an object
    assert entry is not None and first_object is not None
    if wired:
        fault_type = prot
    obj: VmObject = first_object
    pindex = first_pindex
    first_m: VmPage | None = None
    first_m_zero = False        # first_m came zeroed from vm_page_alloc (PG_ZERO), no pager saw it
    page: VmPage | None = None
    while True:
        if obj.flags & OBJ_DEAD:
            _release(phys, first_m)
            return KERN_PROTECTION_FAILURE
        page = obj.pages.get(pindex)
        if page is not None and page.valid:
            break
        if obj.type != OBJT_DEFAULT or obj is first_object:
            # vm_pindex_t is unsigned: an index below 0 (a file mapping made with a negative
            # off_t) is a huge index, beyond any object -- as past EOF (FLT-4).
            if pindex >= obj.size or pindex < 0:
                _release(phys, first_m)
                return KERN_PROTECTION_FAILURE
            ops = pagertab[obj.type]
            if ops.fictitious:
                # the device pager enters its own page over device memory: no frame to allocate
                if ops.getpages(obj, pindex, None) != VM_PAGER_OK:
                    _release(phys, first_m)
                    return KERN_PROTECTION_FAILURE
                page = obj.pages[pindex]
                break
            if page is None:
                page = phys.alloc(obj, pindex)
                if page is None:
                    _release(phys, first_m)
                    return KERN_RESOURCE_SHORTAGE
                first_m_zero = obj.type == OBJT_DEFAULT
            if obj.type != OBJT_DEFAULT:                # TRYPAGER: the default pager has nothing
                try:
                    if ops.clustered:
                        behind, ahead = _cluster(entry, pindex)
                        if behind == 0 and ahead and obj is first_object:
                            _cache_behind(phys, obj, pindex)
                        # the cluster stays inside the entry, in this object's page indices
                        lo = pindex - ((vaddr - entry.start) >> PAGE_SHIFT)
                        hi = pindex + ((entry.end - vaddr) >> PAGE_SHIFT) - 1
                        r = ops.getpages(obj, pindex, page, behind, ahead, lo, hi)
                    else:
                        r = ops.getpages(obj, pindex, page)
                except BaseException:
                    # A Python exception (KeyboardInterrupt) in the middle of the host I/O: free
                    # the pages this fault allocated and never filled, so that no frame is left
                    # on no queue (the page gauges must keep adding up), then let it propagate.
                    if not page.valid and page.object is not None and page is not first_m:
                        phys.free(page)
                    _release(phys, first_m)
                    raise
                if r == VM_PAGER_OK:
                    if ops.clustered:
                        entry.lastr = pindex + ahead
                    break
                if r in (VM_PAGER_ERROR, VM_PAGER_BAD):
                    if obj is not first_object:
                        phys.free(page)
                    elif page is not first_m:
                        phys.free(page)
                    _release(phys, first_m)
                    return KERN_FAILURE if r == VM_PAGER_ERROR else KERN_PROTECTION_FAILURE
                # VM_PAGER_FAIL: not there; keep only the first object's page
                if obj is not first_object:
                    phys.free(page)
            if obj is first_object:
                first_m = page
        nxt = obj.backing_object
        if nxt is None:
            if obj is not first_object:
                obj = first_object
                pindex = first_pindex
            page = first_m
            assert page is not None             # the first object's step made or found one
            if not first_m_zero:        # as FreeBSD: pmap_zero_page unless the page is PG_ZERO
                pmap_mod.pmap_zero_page(page)
            page.valid = True
            page.dirty = False
            # v_ozfod counts only fills served by a pre-zeroed (PG_ZERO) page; the model has
            # no idle zeroing and no freed page-table pages, so every fill zeroes its page.
            cnt.v_zfod += 1
            break
        pindex += atop(obj.backing_object_offset)
        obj = nxt

    if obj is not first_object:
        if fault_type & VM_PROT_WRITE:
            backing = first_object.backing_object
            if (obj is backing and obj.shadow_count == 1 and obj.ref_count == 1
                    and obj.handle is None and obj.type in (OBJT_DEFAULT, OBJT_SWAP)
                    and not page.wire_count):
                # FLT-5 optimisation: nobody else can see this page; move it up.
                if first_m is not None:
                    phys.free(first_m)
                pmap_mod.pmap_remove_all(page)
                if page.swapblk is not None:
                    _drop_swap(vmsys, obj, page)
                phys.rename(page, first_object, first_pindex)
                cnt.v_cow_optim += 1
            else:
                assert first_m is not None      # the walk passed the first object: it has one
                pmap_mod.pmap_copy_page(page, first_m)
                first_m.valid = True
                # The copy is this object's own version: were it left clean (a wiring fault
                # passes no VM_FAULT_DIRTY), the daemon could discard it after a collapse or
                # bypass took the original away, and the process would read zeros.
                first_m.dirty = True
                if not first_object.flags & OBJ_ONEMAPPING:
                    # The first object is shared (FORK-2: "writes through either are seen by
                    # both"): another address space may still map the backing page read-only
                    # and would keep reading the old bytes.  Shoot those mappings down -- the
                    # later FreeBSD fix for CVE-2021-29626 (shared_shadow_inval); FreeBSD 7
                    # left them stale.  docs/errata.md.
                    pmap_mod.pmap_remove_all(page)
                phys.activate(page)
                page = first_m
            cnt.v_cow_faults += 1
            obj = first_object
            pindex = first_pindex
        else:
            prot &= ~VM_PROT_WRITE
            if first_m is not None:
                phys.free(first_m)

    if prot & VM_PROT_WRITE:
        page.flags |= PG_WRITEABLE
        obj.flags |= OBJ_WRITEABLE | OBJ_MIGHTBEDIRTY
        if entry.eflags & MAP_ENTRY_NOSYNC:
            if not page.dirty:
                page.flags |= PG_NOSYNC
        else:
            page.flags &= ~PG_NOSYNC
        if fault_flags & VM_FAULT_DIRTY:
            page.dirty = True
            if page.swapblk is not None:
                _drop_swap(vmsys, obj, page)

    wiring = bool(fault_flags & VM_FAULT_WIRE_MASK)
    # The translation is wired when the entry is (vm_map_lookup's `wired`), whatever the fault
    # flags: an ordinary fault on a wired entry (after mprotect took the translation away)
    # enters a wired translation of the still-wired page, which munlock then unwires.
    pmap_mod.pmap_enter(m.pmap, vaddr, page, prot, wired)
    if not wiring and not wired:
        _prefault(m, entry, vaddr)
    page.flags |= PG_REFERENCED
    if wiring:
        phys.wire(page)
    else:
        phys.activate(page)
    return KERN_SUCCESS


def _release(phys: PhysMem, first_m: VmPage | None) -> None:
    if first_m is not None and not first_m.valid and first_m.object is not None:
        phys.free(first_m)


def _drop_swap(vmsys: VmSystem, obj: VmObject, page: VmPage) -> None:
    """A dirtied page's swap copy is stale: give the block back (FLT-9)."""
    blk = obj.swblocks.pop(page.pindex, None)
    if blk is not None:
        vmsys.swap.release(blk)
    page.swapblk = None


def _cluster(entry: VmMapEntry, pindex: int) -> tuple[int, int]:
    """FLT-6 read-ahead sizes (behind, ahead) for a vnode page-in, for whichever object of the
    chain is asked (a private mapping's file object reads ahead too)."""
    behav = entry.eflags & MAP_ENTRY_BEHAV_MASK
    if behav == MAP_ENTRY_BEHAV_RANDOM:
        return 0, 0
    if behav == MAP_ENTRY_BEHAV_SEQUENTIAL or (entry.lastr <= pindex < entry.lastr + 16):
        return 0, 15
    return 7, 8


def _cache_behind(phys: PhysMem, obj: VmObject, pindex: int) -> None:
    """FLT-6's sequential case: the fully valid, idle pages right behind the fault (up to
    2 * VM_FAULT_READ = 32, stopping at the first missing one) lose their translations and head
    for reclamation: dirty ones to the inactive queue, clean ones to the cache.  7.0's cached pages
    are invisible to vm_page_lookup (PAGE-7), so a clean page is simply freed — its bytes are in
    the file."""
    first = pindex - 32 if pindex >= 32 else 0
    for i in range(pindex - 1, first - 1, -1):
        mt = obj.pages.get(i)
        if mt is None or not mt.valid:
            break
        if mt.fictitious or mt.hold_count or mt.wire_count:
            continue
        pmap_mod.pmap_remove_all(mt)          # folds M into dirty
        if mt.dirty:
            phys.deactivate(mt)
        else:
            phys.cnt.v_tcached += 1
            phys.free(mt)


# vm_fault_prefault's visiting order (prefault_pageorder[]): behind first, then ahead, widening,
# in bytes as the C table is.  A tuple object, as the C array is one static table: a fixed-shape
# tuple type would be rebuilt and iterated generically at each call in the compiled build.
_PREFAULT_ORDER: Final[tuple[int, ...]] = (-1 * PAGE_SIZE, 1 * PAGE_SIZE,
                                            -2 * PAGE_SIZE, 2 * PAGE_SIZE,
                                            -3 * PAGE_SIZE, 3 * PAGE_SIZE,
                                            -4 * PAGE_SIZE, 4 * PAGE_SIZE)


def _prefault(m: VmMap, entry: VmMapEntry, vaddr: int) -> None:
    """FLT-10 (vm_fault_prefault): map resident, valid neighbours read-only, visiting -1, +1, -2,
    +2 ... pages.  Addresses outside the entry or not prefaultable (already mapped, or no
    page-table page yet) are skipped; the first neighbour whose page is not resident anywhere in
    the chain ends the whole walk."""
    pmap = m.pmap
    obj0 = entry.object
    if obj0 is None:
        return
    prot = entry.protection
    starta = vaddr - PFBAK * PAGE_SIZE
    if starta < entry.start:
        starta = entry.start
    enda = entry.end
    for offset in _PREFAULT_ORDER:
        addr = vaddr + offset
        if addr < starta or addr >= enda:
            continue
        if not pmap_mod.pmap_is_prefaultable(pmap, addr):
            continue
        obj = obj0
        pindex = atop(addr - entry.start + entry.offset)
        page = obj.pages.get(pindex)
        while page is None and obj.type == OBJT_DEFAULT and obj.backing_object is not None:
            if obj.backing_object_offset & (PAGE_SIZE - 1):
                break
            pindex += atop(obj.backing_object_offset)
            obj = obj.backing_object
            page = obj.pages.get(pindex)
        if page is None:
            break                               # give up when a page is not in memory
        if page.valid and not page.fictitious:
            pmap_mod.pmap_enter_quick(pmap, addr, page, prot & (VM_PROT_READ | VM_PROT_EXECUTE))


def vm_fault_wire(m: VmMap, start: int, end: int, user: bool, fictitious: bool) -> int:
    """FLT-12."""
    fault_type = VM_PROT_READ if user else VM_PROT_READ | VM_PROT_WRITE
    flags = VM_FAULT_USER_WIRE if user else VM_FAULT_CHANGE_WIRING
    va = start
    while va < end:
        rv = vm_fault(m, va, fault_type, flags)
        if rv != KERN_SUCCESS:
            if va > start:
                vm_fault_unwire(m, start, va, fictitious)
            return rv
        va += PAGE_SIZE
    return KERN_SUCCESS


def vm_fault_unwire(m: VmMap, start: int, end: int, fictitious: bool) -> None:
    """FLT-13: every page pmap_extract finds in the range loses its translation's wiring and
    one page wiring -- whether or not that translation was wired."""
    phys = m.vmsys.phys
    pmap = m.pmap
    for vpn in pmap.vpns(start, end):
        pte = pmap_mod.pmap_pte(pmap, vpn << PAGE_SHIFT)
        assert pte is not None
        pmap_mod.pmap_change_wiring(pmap, vpn << PAGE_SHIFT, False)
        # FreeBSD panics on a page that is not wired; the model leaves it be
        if not fictitious and not pte.page.fictitious and pte.page.wire_count:
            phys.unwire(pte.page, True)


def vm_fault_copy_entry(dst_map: VmMap, src_map: VmMap, dst_entry: VmMapEntry,
                        src_entry: VmMapEntry) -> int:
    """FORK-3 for wired entries: the child gets its own copy of every page now.  Returns
    KERN_RESOURCE_SHORTAGE when memory cannot be had even by killing another process."""
    vmsys = dst_map.vmsys
    phys = vmsys.phys
    src_object = src_entry.object
    npages = atop(dst_entry.end - dst_entry.start)
    dst_object = vm_object_allocate(vmsys, OBJT_DEFAULT, npages)
    dst_entry.object = dst_object
    dst_entry.offset = 0
    # 7.0 leaves the entry's eflags alone: the child's entry keeps MAP_ENTRY_COW, and
    # MAP_ENTRY_NEEDS_COPY if the parent's had it, over its private, writably mapped copy
    # (docs/errata.md, FORK-3).
    prot = dst_entry.max_protection
    look_down = not src_entry.protection & VM_PROT_WRITE
    for i in range(npages):
        dst_m = phys.alloc(dst_object, i)      # before the lookup: allocation may run the daemon
        if dst_m is None:
            # VM_WAIT: FreeBSD sleeps until the page daemon (vm_pageout_oom) frees memory; a
            # skipped page would read as zeros in the child.  Never kill the forking process.
            pd = vmsys.pagedaemon
            src_proc = getattr(src_map.vmspace, "proc", None)
            while dst_m is None and pd is not None and pd.oom_kill(exclude=src_proc) is not None:
                dst_m = phys.alloc(dst_object, i)
        if dst_m is None:
            # nobody left to kill: the fork fails (fork1's ENOMEM) instead of handing the child
            # pages of zeros
            return KERN_RESOURCE_SHORTAGE
        src_m = None
        if src_object is not None:
            obj = src_object
            idx = atop(src_entry.offset) + i
            src_m = obj.pages.get(idx)
            while (src_m is None or not src_m.valid) and look_down and obj.backing_object is not None:
                idx += atop(obj.backing_object_offset)
                obj = obj.backing_object
                src_m = obj.pages.get(idx)
        if src_m is None and src_object is not None and look_down is False:
            src_m = _find_anywhere(src_object, atop(src_entry.offset) + i)
            if src_m is _SWAP_READ_ERROR:
                return KERN_FAILURE         # a swap read error fails the fork, never zeros
        if src_m is not None and src_m.valid:
            dst_m.data[:] = src_m.data
        dst_m.valid = True
        # FreeBSD 7 left the copy clean; a clean anonymous page may be reclaimed without being
        # saved, so we mark it dirty (the later FreeBSD fix; docs/errata.md).
        dst_m.dirty = True
        pmap_mod.pmap_enter(dst_map.pmap, dst_entry.start + (i << PAGE_SHIFT), dst_m, prot, False)
        phys.activate(dst_m)
    return KERN_SUCCESS


def _find_anywhere(obj, idx):
    """The page a read fault would find for idx: down the chain, swap included."""
    while obj is not None:
        m = obj.pages.get(idx)
        if m is not None and m.valid:
            return m
        if idx in obj.swblocks:
            err, data = obj.vm.swap.read(obj.swblocks[idx])
            return _SwapPeek(data) if not err else _SWAP_READ_ERROR
        idx += atop(obj.backing_object_offset)
        obj = obj.backing_object
    return None


class _SwapPeek:
    __slots__ = ("data",)
    valid = True

    def __init__(self, data):
        self.data = data


class _SwapReadError:
    """What _find_anywhere returns when the swap read failed: the copy cannot be made."""
    __slots__ = ()
    valid = False


_SWAP_READ_ERROR = _SwapReadError()


# -- the MMU: user-memory access ------------------------------------------------------------------

class UserFault(Exception):
    """A user access that vm_fault could not resolve."""

    def __init__(self, addr: int, rv: int, write: bool):
        super().__init__(addr, rv)
        self.addr = addr
        self.rv = rv
        self.write = write


def copyin(m: VmMap, addr: int, n: int) -> bytes:
    """Read n bytes of user memory, faulting pages in; raises UserFault.  The bytes are copied
    once: each stretch of pages in consecutive frames of physical memory (pmap_mmu_run) is taken
    as one slice of it, and the slices are joined straight into the result."""
    pmap = m.pmap
    phys = m.vmsys.phys
    mem = phys.view
    base = phys.phys_base
    end = addr + n
    parts: list[bytes | memoryview] = []
    viewed = 0                  # parts[viewed:] are still views of page frames
    pos = 0
    retried = -1
    while pos < n:
        va = addr + pos
        pa, run = pmap_mod.pmap_mmu_run(pmap, va, end, False)
        if run:
            lo = pa - base
            if run == n:                        # all in one run: slice the buffer itself, one copy
                return phys.memory[lo:lo + run]
            parts.append(mem[lo:lo + run])
            pos += run
            continue
        if pa < 0:                              # device memory: not in the physical buffer
            pte = pmap_mod.pmap_pte(pmap, va)
            assert pte is not None
            off = va & PAGE_MASK
            chunk = min(PAGE_SIZE - off, n - pos)
            pte.ref = True
            parts.append(pte.page.data[off:off + chunk])
            pos += chunk
            continue
        vpn = va >> PAGE_SHIFT
        if retried == vpn:
            raise UserFault(va, KERN_PROTECTION_FAILURE, False)
        # A fault may free pages already viewed (the sequential cache-behind, the page daemon)
        # and hand their frames to other pages: copy what was viewed first.
        if viewed < len(parts):
            parts[viewed:] = [b"".join(parts[viewed:])]
            viewed = len(parts)
        rv = vm_fault(m, va, VM_PROT_READ, VM_FAULT_NORMAL)
        if rv != KERN_SUCCESS:
            raise UserFault(va, rv, False)
        retried = vpn
    return b"".join(parts)


def copyout(m: VmMap, addr: int, data: bytes | bytearray | memoryview) -> None:
    """Write bytes to user memory, faulting (and copying on write) as needed; raises UserFault.
    Each stretch of pages in consecutive frames of physical memory (pmap_mmu_run) takes its bytes
    in one slice assignment, before any later fault, which may free and reuse frames."""
    pmap = m.pmap
    phys = m.vmsys.phys
    mem = phys.memory          # an mmap: a slice store copies with no temporary view
    base = phys.phys_base
    src: bytes | bytearray | memoryview = data
    if type(data) is not bytes and isinstance(data, memoryview) and (data.format != "B"
                                                                      or data.ndim != 1):
        src = data.cast("B")
    n = len(src)
    end = addr + n
    pos = 0
    retried = -1
    while pos < n:
        va = addr + pos
        pa, run = pmap_mod.pmap_mmu_run(pmap, va, end, True)
        if run:
            _write_run(mem, pa - base, pa - base + run, src, pos)
            pos += run
            continue
        if pa < 0:                              # device memory, as in copyin
            pte = pmap_mod.pmap_pte(pmap, va)
            assert pte is not None
            off = va & PAGE_MASK
            chunk = min(PAGE_SIZE - off, n - pos)
            pte.ref = True
            pte.mod = True
            pte.page.data[off:off + chunk] = memoryview(src)[pos:pos + chunk]
            pos += chunk
            continue
        vpn = va >> PAGE_SHIFT
        if retried == vpn:
            raise UserFault(va, KERN_PROTECTION_FAILURE, True)
        rv = vm_fault(m, va, VM_PROT_WRITE, VM_FAULT_DIRTY)
        if rv != KERN_SUCCESS:
            raise UserFault(va, rv, True)
        retried = vpn


def _write_run(mem: mmap.mmap, lo: int, hi: int, src: bytes | bytearray | memoryview,
               pos: int) -> None:
    """Store src[pos:pos + hi - lo] in physical memory [lo, hi): the source is sliced (through a
    view, never copied) only when the run takes part of it."""
    if pos == 0 and hi - lo == len(src):
        mem[lo:hi] = src
    else:
        mem[lo:hi] = memoryview(src)[pos:pos + hi - lo]


# -- the library's user-memory entry ---------------------------------------------------------------

_BYTES_LIKE: Final = (bytes, bytearray, memoryview)
_NATIVE_INT_MAX: Final = (1 << 62) - 1        # mypyc's short (unboxed) ints end here


class UserAccess:
    """One process's user memory as the library's caller reaches it (Process.mem_read and
    mem_write): argument checks, then copyin / copyout under the kernel's giant lock, retried after
    the out-of-memory killer when memory and swap ran out.  It lives here, in the compiled VM core,
    so that a resident access is one native call from Process: checks, Giant and copy together
    (a Python frame, its argument tests and the lock calls cost twice the copy of 4 KiB).

    What stays Python policy is handed in: `convert` (an address that is not already an int in
    [lo, hi]: the caddr_t converter, raising OSError EINVAL or TypeError), `live` (raises for an
    exited or killed process) and `signal` (the exception a UserFault becomes: SIGSEGV or SIGBUS).
    """

    def __init__(self, proc: Any, vmsys: VmSystem, giant: Any, lo: int, hi: int,
                 convert: Callable[[object], int], live: Callable[[], None],
                 signal: Callable[[UserFault], BaseException]) -> None:
        self.proc = proc
        self.vmsys = vmsys
        # Giant's two methods, bound once: a method call by name looks the method up in its type
        # at every access
        self.acquire: Callable[[], object] = giant.acquire
        self.release: Callable[[], object] = giant.release
        self.lo = lo
        # the fast path's upper bound stays below 2**62, a native int in the compiled build (a
        # larger one is a heap int, compared in ~100 instructions); an address above it still
        # takes the converter's way, to the same result
        self.hi = min(hi, _NATIVE_INT_MAX)
        self.convert = convert
        self.live = live
        self.signal = signal

    def read(self, addr: object, size: SupportsIndex) -> bytes:
        """`size` bytes at `addr`: the bytes, or raises `signal(fault)`, TypeError (a non-integer),
        ValueError (a negative size), OSError EINVAL (an address that fits no caddr_t) or what
        `live` raises."""
        va = addr if type(addr) is int and self.lo <= addr <= self.hi else self.convert(addr)
        n = size if type(size) is int else operator.index(size)
        if n < 0:
            raise ValueError("negative size")
        if n == 0:
            return b""
        got = self._access(False, va, n)
        assert isinstance(got, bytes)
        return got

    def write(self, addr: object, data: object) -> None:
        """Store `data` (bytes-like) at `addr`; raises as `read` does (TypeError for data that is
        not bytes-like)."""
        va = addr if type(addr) is int and self.lo <= addr <= self.hi else self.convert(addr)
        if type(data) is not bytes and not isinstance(data, _BYTES_LIKE):
            raise TypeError("data must be bytes-like")
        if not data:                            # len(data) == 0 without boxing the length
            return
        self._access(True, va, data)

    def _access(self, write: bool, addr: int, arg: Any) -> bytes | None:
        # mtx_lock(&Giant) / mtx_unlock(&Giant) as calls, not `with`: a `with` statement makes two
        # bound methods and parses three arguments per access
        self.acquire()
        try:
            while True:
                vms: Vmspace | None = self.proc.p_vmspace
                if vms is None:
                    self.live()                 # raises: exited or killed
                    assert vms is not None
                try:
                    if write:
                        copyout(vms.vm_map, addr, arg)
                        return None
                    return copyin(vms.vm_map, addr, arg)
                except UserFault as uf:
                    if uf.rv != KERN_RESOURCE_SHORTAGE:
                        raise self.signal(uf) from None
                    # out of memory and swap: vm_pageout_oom picks a victim, then we retry.  Each
                    # round kills a process, so this ends: in success, in the caller's exception
                    # for a killed process (`live`: this one was the victim) or in a fault when
                    # no victim is left.
                    daemon = self.vmsys.pagedaemon
                    if daemon is None or daemon.oom_kill() is None:
                        raise self.signal(uf) from None
                except BaseException:
                    # a Python exception mid-fault (KeyboardInterrupt): requeue a page entered
                    # but not yet queued, so the gauges add up (docs/errata.md)
                    self.vmsys.phys.requeue_strays(self.vmsys.objects.values())
                    raise
        finally:
            self.release()
