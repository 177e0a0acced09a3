"""vm_pageout.c: the page daemon and the out-of-memory killer.

Targets derive from physmem as in vm_pageout_page_stats/vm_pageout_scan: free_min (v_free_min),
free_target (v_free_target), inactive_target.  The daemon runs synchronously when an allocation
finds free pages below free_min (vm_page_alloc's wakeup).  It scans the inactive queue first, then
ages the active queue into it.  Referenced pages are reactivated; dirty vnode pages are written to
their file; dirty anonymous pages go to swap (a DEFAULT object becomes SWAP at its first page-out);
clean pages are freed with their translations removed.  Wired pages are never on a queue, so they
never move.
Invariants: a page is freed only after its contents are safe (in its file, in swap, or zero/backed
by a lower object); a swap block is written before the page that it saves is freed.  A host write
error never escapes: the page stays dirty and goes back to the active queue (vm_pageout_flush's
VM_PAGER_ERROR case), the scan moves on, and when nothing can be freed the allocation fails and the
OOM rule applies.
May call: vm.page, vm.pmap, vm.object (page clean), vm.pager (pagertab, swap space); an OOM kill
goes through the VM system's injected oom_kill callback, never to the kernel.
"""
from __future__ import annotations

from . import pmap as pmap_mod
from typing import TYPE_CHECKING

from .param import OBJT_DEFAULT, OBJT_SWAP, PG_MADV_FREED, PG_REFERENCED, PQ_ACTIVE, PQ_INACTIVE

if TYPE_CHECKING:
    from .vm_system import VmSystem


class PageDaemon:
    """vm_pageout: the page daemon of one VM system, and its OOM killer (vm_pageout_oom), which
    picks from `vmsys.processes()` and kills through the injected `vmsys.oom_kill`."""

    def __init__(self, vmsys: VmSystem) -> None:
        self.vmsys = vmsys
        phys = vmsys.phys
        usable = phys.free_at_boot
        # vm_pageout.c: v_free_min grows with memory; v_free_target is 4x free_min + reserved
        self.free_reserved = max(4, usable // 200)
        self.free_min = max(8, usable // 100)
        self.free_target = min(usable // 4, 4 * self.free_min + self.free_reserved)
        self.inactive_target = self.free_target * 3 // 2
        self.running = False
        self.oom_kills: list[int] = []

    def wakeup(self, need: int) -> None:
        """vm_page_alloc's pagedaemon_wakeup; runs a scan unless one is in progress."""
        if self.running:
            return
        self.running = True
        try:
            self.vmsys.phys.cnt.v_pdwakeups += 1
            self.scan()
        finally:
            self.running = False

    def _launder(self, m) -> bool:
        """Try to make page m freeable and free it.  Returns True when the frame came back."""
        vmsys = self.vmsys
        phys = vmsys.phys
        obj = m.object
        if obj is None or m.wire_count or m.hold_count or m.fictitious:
            return False
        if (obj.type in (OBJT_DEFAULT, OBJT_SWAP) and m.pindex not in obj.swblocks
                and (m.dirty or pmap_mod.pmap_is_modified(m))):
            # Reserve the swap block before touching the translations: a page that cannot be
            # saved stays mapped (vm_pageout_flush only write-protects), so the process keeps
            # its resident size for vm_pageout_oom and does not refault every page.
            blk = vmsys.swap.alloc(obj, m.pindex)
            if blk is None:
                phys.activate(m)            # swap is full: keep it
                return False
            obj.swblocks[m.pindex] = blk
        pmap_mod.pmap_remove_all(m)         # folds M into dirty, A into PG_REFERENCED
        # MADV_FREE left the page clean (and its swap freed); if it is dirty now it was written
        # again afterwards and must be saved like any other page (FreeBSD tests the M bit).
        m.flags &= ~PG_MADV_FREED
        if m.dirty and vmsys.pager.vm_pager_put_pages(obj, [m], False):
            # vm_pageout_flush, VM_PAGER_ERROR or swap full: the page stays dirty and is
            # reactivated "so it doesn't clog the inactive list"; the scan goes on to other pages
            phys.activate(m)
            return False
        phys.cnt.v_dfree += 1
        phys.free(m)
        return True

    def scan(self) -> None:
        """vm_pageout_scan: free pages until free_target is met or nothing more can be freed."""
        phys = self.vmsys.phys
        target = self.free_target
        cnt = phys.cnt
        # pass 1: the inactive queue
        for m in list(phys.inactive):
            if phys.free_count >= target:
                return
            if m.queue != PQ_INACTIVE:  # moved meanwhile
                continue
            cnt.v_pdpages += 1
            if m.flags & PG_REFERENCED or pmap_mod.pmap_ts_referenced(m):
                m.flags &= ~PG_REFERENCED
                phys.activate(m)
                continue
            self._launder(m)
        # pass 2: age the active queue; pages not referenced since the last look go inactive,
        # and are laundered at once if memory is still short.
        for m in list(phys.active):
            if phys.free_count >= target:
                return
            if m.queue != PQ_ACTIVE:
                continue
            cnt.v_pdpages += 1
            referenced = bool(m.flags & PG_REFERENCED) | bool(pmap_mod.pmap_ts_referenced(m))
            m.flags &= ~PG_REFERENCED
            if referenced and m.act_count > 0:
                m.act_count -= 1
                phys.activate(m)
                continue
            phys.deactivate(m)
            self._launder(m)
        # pass 3: still short — take referenced pages too (the second lap of the clock)
        if phys.free_count < phys.free_min:
            for m in list(phys.inactive) + list(phys.active):
                if phys.free_count >= target:
                    return
                if m.object is None or m.wire_count:
                    continue
                m.flags &= ~PG_REFERENCED
                self._launder(m)

    # -- vm_pageout_oom ---------------------------------------------------------------------------
    def oom_victim(self, exclude=None):
        """The process with the most resident+swapped pages that is not P_PROTECTED/P_SYSTEM
        (nor `exclude`, a process the caller is in the middle of working on, e.g. forking)."""
        from ..kern.proc import P_PROTECTED, P_SYSTEM
        best = None
        best_size = -1
        for p in self.vmsys.processes():
            if p.p_flag & (P_PROTECTED | P_SYSTEM) or p.p_vmspace is None or p is exclude:
                continue
            size = vmspace_swap_and_resident(p.p_vmspace)
            if size > best_size:
                best, best_size = p, size
        return best

    def oom_kill(self, exclude=None):
        victim = self.oom_victim(exclude)
        if victim is None:
            return None
        self.oom_kills.append(victim.p_pid)
        victim.p_killed = "SIGKILL (out of swap space)"
        self.vmsys.oom_kill(victim)
        return victim


def vmspace_swap_and_resident(vms) -> int:
    """vmspace_resident_count + swap_pager_swapped_pages over the map's top objects."""
    total = vms.vm_map.pmap.resident_count
    seen = set()
    for e in vms.vm_map.entries():
        obj = e.object
        if obj is not None and obj.id not in seen:
            seen.add(obj.id)
            total += len(obj.swblocks)
    return total
