"""vm_map.c: address maps and their entries, vmspaces and fork (spec section 4, MAP-1..45, FORK-1..4).

Entries sit on a doubly linked list in address order (FreeBSD's `header` sentinel closes the ring;
as in FreeBSD, header.start is min_offset and header.end is max_offset) and in FreeBSD 7's splay
tree keyed by address, augmented with `max_free` (the largest `adj_free` gap in the subtree):
lookup, link, unlink and resize splay the entry they touch to the root (vm_map_entry_splay), so
the max_free of only the nodes on the splayed path is recomputed, and first-fit findspace descends
by max_free.  Repeated work near one address (mmap/munmap, mprotect toggles, faults in one
entry) finds its entry at or next to the root.
Invariants: entries are page aligned, start < end, sorted and disjoint; nentries and size match the
list; adj_free(e) = next.start (or max_offset) - e.end; every tree node's max_free is the max of
adj_free over its subtree; timestamp increases on every exclusive lock.

Locking (kern/lock.py): vm/ runs under `Kernel.giant` alone, taken by every Process method; the
map "lock" here models only the timestamp (MAP-1), which mincore's restart logic reads.
The model has no submaps and no system (kernel) map, so vm_map.c's branches for
MAP_ENTRY_IS_SUB_MAP entries and for system maps are left out.
May call: vm.object, vm.pmap, vm.fault (wiring), vm.pager through objects.
"""
from __future__ import annotations

from . import pmap as pmap_mod
from .object import (vm_object_allocate, vm_object_coalesce, vm_object_collapse,
                     vm_object_deallocate, vm_object_madvise, vm_object_page_remove,
                     vm_object_reference, vm_object_shadow, vm_object_split, vm_object_sync)
from .param import (KERN_FAILURE, KERN_INVALID_ADDRESS, KERN_INVALID_ARGUMENT, KERN_NO_SPACE,
                    KERN_PROTECTION_FAILURE, KERN_SUCCESS, MAP_COPY_ON_WRITE,
                    MAP_DISABLE_COREDUMP, MAP_DISABLE_SYNCER, MAP_ENTRY_BEHAV_MASK,
                    MAP_ENTRY_BEHAV_NORMAL, MAP_ENTRY_BEHAV_RANDOM, MAP_ENTRY_BEHAV_SEQUENTIAL,
                    MAP_ENTRY_COW, MAP_ENTRY_GROWS_DOWN, MAP_ENTRY_GROWS_UP,
                    MAP_ENTRY_IN_TRANSITION, MAP_ENTRY_NEEDS_COPY,
                    MAP_ENTRY_NOCOREDUMP, MAP_ENTRY_NOFAULT, MAP_ENTRY_NOSYNC,
                    MAP_ENTRY_USER_WIRED, MAP_NOFAULT, MAP_PREFAULT, MAP_PREFAULT_MADVISE,
                    MAP_PREFAULT_PARTIAL, MAP_STACK_GROWS_DOWN, MAP_STACK_GROWS_UP, MAP_WIREFUTURE,
                    MAX_INIT_PT, OBJ_NOSPLIT, OBJ_ONEMAPPING, OBJT_DEFAULT, OBJT_DEVICE, OBJT_SWAP,
                    OBJT_VNODE, PAGE_SHIFT, PAGE_SIZE, VM_INHERIT_COPY, VM_INHERIT_DEFAULT, VM_INHERIT_NONE,
                    VM_INHERIT_SHARE, VM_MAP_WIRE_HOLESOK, VM_MAP_WIRE_USER, VM_PROT_ALL,
                    VM_PROT_EXECUTE, VM_PROT_NONE, VM_PROT_OVERRIDE_WRITE, VM_PROT_READ,
                    VM_PROT_WRITE, atop, round_page)
from .pmap import Pmap
from ..mman import (MADV_AUTOSYNC, MADV_CORE, MADV_DONTNEED, MADV_FREE, MADV_NOCORE, MADV_NOSYNC,
                    MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED)

from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from .object import VmObject
    from .vm_system import VmSystem

class VmMapEntry:
    __slots__ = ("start", "end", "object", "offset", "eflags", "protection", "max_protection",
                 "inheritance", "wired_count", "avail_ssize", "lastr", "prev", "next",
                 "left", "right", "adj_free", "max_free")

    def __init__(self, start: int = 0, end: int = 0) -> None:
        self.start = start
        self.end = end
        self.object: VmObject | None = None
        self.offset = 0
        self.eflags = 0
        self.protection = VM_PROT_NONE
        self.max_protection = VM_PROT_NONE
        self.inheritance = VM_INHERIT_DEFAULT
        self.wired_count = 0
        self.avail_ssize = 0
        self.lastr = 0
        # An entry on no list is a ring of its own (as the header of an empty map is): prev and
        # next are always entries, which is what the compiled build's attribute types say.
        self.prev: VmMapEntry = self
        self.next: VmMapEntry = self
        self.left: VmMapEntry | None = None
        self.right: VmMapEntry | None = None
        self.adj_free = 0
        self.max_free = 0

    def copy_fields_from(self, other: "VmMapEntry") -> None:
        self.start, self.end = other.start, other.end
        self.object, self.offset = other.object, other.offset
        self.eflags = other.eflags
        self.protection, self.max_protection = other.protection, other.max_protection
        self.inheritance = other.inheritance
        self.wired_count = other.wired_count
        self.avail_ssize = other.avail_ssize
        self.lastr = other.lastr

    def __repr__(self) -> str:
        return (f"<entry {self.start:#x}-{self.end:#x} prot={self.protection}/{self.max_protection}"
                f" eflags={self.eflags:#x} obj={getattr(self.object, 'id', None)}"
                f" off={self.offset:#x} wired={self.wired_count}>")


# -- the splay tree (vm_map_entry_splay, vm_map_entry_set_max_free) ------------------------------

def _set_max_free(e: VmMapEntry) -> None:
    """vm_map_entry_set_max_free: e's max_free from its own gap and its children's."""
    mf = e.adj_free
    if e.left is not None and e.left.max_free > mf:
        mf = e.left.max_free
    if e.right is not None and e.right.max_free > mf:
        mf = e.right.max_free
    e.max_free = mf


def _splay(addr: int, root: VmMapEntry) -> VmMapEntry:
    """vm_map_entry_splay: top-down splay of the tree at root for addr; returns the new root, which
    is the entry containing addr, else its predecessor or successor.  Pass one walks down, rotating
    in pairs and peeling nodes onto a left list (linked through `right`) and a right list (linked
    through `left`); pass two walks back up both spines, restoring the pointers and recomputing
    max_free bottom-up -- only nodes on the search path change.  The tree must not be empty."""
    llist: VmMapEntry | None = None
    rlist: VmMapEntry | None = None
    while True:
        if addr < root.start:
            y = root.left
            if y is None:
                break
            if addr < y.start and y.left is not None:
                # rotate right and put y on rlist
                root.left = y.right
                y.right = root
                _set_max_free(root)
                root = y.left
                y.left = rlist
                rlist = y
            else:
                # put root on rlist
                root.left = rlist
                rlist = root
                root = y
        elif addr >= root.end:
            y = root.right
            if y is None:
                break
            if addr >= y.end and y.right is not None:
                # rotate left and put y on llist
                root.right = y.left
                y.left = root
                _set_max_free(root)
                root = y.right
                y.right = llist
                llist = y
            else:
                # put root on llist
                root.right = llist
                llist = root
                root = y
        else:
            break
    ltree = root.left
    while llist is not None:
        y = llist.right
        llist.right = ltree
        _set_max_free(llist)
        ltree = llist
        llist = y
    rtree = root.right
    while rlist is not None:
        y = rlist.left
        rlist.left = rtree
        _set_max_free(rlist)
        rtree = rlist
        rlist = y
    root.left = ltree
    root.right = rtree
    _set_max_free(root)
    return root


class VmMap:
    def __init__(self, min_offset: int, max_offset: int, vmsys: VmSystem) -> None:
        self.min_offset = min_offset
        self.max_offset = max_offset
        # FreeBSD: #define min_offset header.start, #define max_offset header.end
        h = VmMapEntry(min_offset, max_offset)
        h.prev = h.next = h
        self.header = h
        self.root: VmMapEntry | None = None
        self.nentries = 0
        self.size = 0
        self.timestamp = 0
        self.flags = 0
        self.pmap = Pmap(vmsys.pv_zone)
        self.vmsys = vmsys
        self.vmspace: Vmspace | None = None

    # -- locking (timestamp only, MAP-1) -------------------------------------------------------
    def lock(self) -> None:
        self.timestamp = (self.timestamp + 1) & 0xFFFFFFFF

    def unlock(self) -> None:
        pass

    # -- iteration -----------------------------------------------------------------------------
    def entries(self) -> Iterator[VmMapEntry]:
        e = self.header.next
        while e is not self.header:
            yield e
            e = e.next

    # -- treap maintenance ---------------------------------------------------------------------
    def _adj(self, e: VmMapEntry) -> int:
        nxt = e.next
        return (nxt.start if nxt is not self.header else self.max_offset) - e.end

    def _refresh(self, e: VmMapEntry) -> None:
        """vm_map_entry_resize_free: e's gap changed (its end or its successor moved); splay it to
        the root and recompute its adj_free and max_free."""
        if e is self.header:
            return
        if e is not self.root and self.root is not None:
            self.root = _splay(e.start, self.root)
        e.adj_free = self._adj(e)
        _set_max_free(e)

    def entry_link(self, after: VmMapEntry, e: VmMapEntry) -> None:
        """vm_map_entry_link: put e after `after` on the list and in the tree, as the new root;
        the map's size grows by e's length."""
        self._link(after, e)
        self.size += e.end - e.start

    def entry_unlink(self, e: VmMapEntry) -> None:
        """vm_map_entry_unlink: take e off the list and out of the tree; the map's size shrinks
        by e's length."""
        self._unlink(e)
        self.size -= e.end - e.start

    def entry_set_end(self, e: VmMapEntry, end: int) -> None:
        """Move a linked entry's end (a coalescing insert or an upward stack growth): the map's
        size follows, and e's gap is recomputed (vm_map_entry_resize_free)."""
        self.size += end - e.end
        e.end = end
        self._refresh(e)

    def entry_split(self, e: VmMapEntry, a: int, new: VmMapEntry, low: bool) -> None:
        """The bounds half of vm_map_clip_start/_end: `new` (a copy of e) takes [e.start, a) when
        `low`, else [a, e.end), and e keeps the rest; the map's size does not change.  Offsets and
        object references are the caller's."""
        if low:
            new.start, new.end = e.start, a
            e.start = a                 # e keeps its tree position: its key stays below its successor's
            self._link(e.prev, new)
        else:
            new.start, new.end = a, e.end
            e.end = a
            self._link(e, new)

    def entry_merge(self, e: VmMapEntry, other: VmMapEntry) -> None:
        """The bounds half of vm_map_simplify_entry: e absorbs its neighbour `other` (which is
        unlinked); the map's size does not change.  e's offset and other's object are the caller's."""
        self._unlink(other)
        if other.end == e.start:
            e.start = other.start
            self._refresh(e.prev)
        else:
            e.end = other.end
            self._refresh(e)

    def _link(self, after: VmMapEntry, e: VmMapEntry) -> None:
        self.nentries += 1
        e.prev = after
        e.next = after.next
        after.next.prev = e
        after.next = e
        if after is not self.header:
            if after is not self.root and self.root is not None:
                self.root = _splay(after.start, self.root)
            e.right = after.right
            e.left = after
            after.right = None
            after.adj_free = e.start - after.end
            _set_max_free(after)
        else:
            e.right = self.root
            e.left = None
        e.adj_free = self._adj(e)
        _set_max_free(e)
        self.root = e

    def _unlink(self, e: VmMapEntry) -> None:
        # e's predecessor (the largest entry of its left subtree) takes its place as root and
        # inherits its gap
        if e is not self.root and self.root is not None:
            self.root = _splay(e.start, self.root)
        if e.left is None:
            root = e.right
        else:
            root = _splay(e.start, e.left)
            root.right = e.right
            nxt = e.next
            root.adj_free = (nxt.start if nxt is not self.header else self.max_offset) - root.end
            _set_max_free(root)
        self.root = root
        prev, nxt = e.prev, e.next
        prev.next = nxt
        nxt.prev = prev
        e.prev = e.next = e             # marks it unlinked for walks that hold a reference
        e.left = e.right = None
        self.nentries -= 1

    # -- lookup --------------------------------------------------------------------------------
    def lookup_entry(self, addr: int) -> tuple[bool, VmMapEntry]:
        """MAP-2 (vm_map_lookup_entry): (True, entry containing addr) or (False, the entry before
        addr / header).  The root is checked first; otherwise addr is splayed to the root."""
        cur = self.root
        if cur is None:
            return False, self.header
        if cur.start <= addr < cur.end:
            return True, cur
        cur = self.root = _splay(addr, cur)
        if addr >= cur.start:
            return addr < cur.end, cur
        return False, cur.prev

    def check_tree(self) -> None:
        """Debug invariant check: list order, tree contents, gaps, counters."""
        prev_end = self.min_offset
        count = size = 0
        for e in self.entries():
            assert e.start < e.end, e
            assert e.start >= prev_end, ("overlap", e)
            assert e.start % PAGE_SIZE == 0 and e.end % PAGE_SIZE == 0, e
            assert e.adj_free == self._adj(e), ("adj_free", e)
            prev_end = e.end
            count += 1
            size += e.end - e.start
        assert prev_end <= self.max_offset
        assert count == self.nentries, (count, self.nentries)
        assert size == self.size, (size, self.size)

        def check(n: VmMapEntry | None, lo: int, hi: int) -> tuple[int, int]:
            if n is None:
                return 0, 0
            assert lo <= n.start < hi
            c1, m1 = check(n.left, lo, n.start)
            c2, m2 = check(n.right, n.start + 1, hi)
            assert n.max_free == max(n.adj_free, m1, m2)
            return c1 + c2 + 1, n.max_free

        c, _ = check(self.root, -1, 1 << 80)
        assert c == count


# -- range helpers ---------------------------------------------------------------------------------

def _range_check(m: VmMap, start: int, end: int) -> tuple[int, int]:
    """VM_MAP_RANGE_CHECK (MAP-3)."""
    if start < m.min_offset:
        start = m.min_offset
    if end > m.max_offset:
        end = m.max_offset
    if start > end:
        start = end
    return start, end


def _new_entry(m: VmMap, start: int, end: int) -> VmMapEntry:
    return VmMapEntry(start, end)


def vm_map_entry_pages(e: VmMapEntry) -> int:
    return (e.end - e.start) >> PAGE_SHIFT


# -- simplify and clip (MAP-13..15) ----------------------------------------------------------------

def vm_map_simplify_entry(m: VmMap, e: VmMapEntry) -> None:
    if e.eflags & MAP_ENTRY_IN_TRANSITION:
        return
    prev = e.prev
    if prev is not m.header:
        psize = prev.end - prev.start
        if (prev.end == e.start and prev.object is e.object
                and (prev.object is None or prev.offset + psize == e.offset)
                and prev.eflags == e.eflags and prev.protection == e.protection
                and prev.max_protection == e.max_protection
                and prev.inheritance == e.inheritance and prev.wired_count == e.wired_count):
            m.entry_merge(e, prev)
            e.offset = prev.offset
            if prev.object is not None:
                vm_object_deallocate(prev.object)
    nxt = e.next
    if nxt is not m.header:
        esize = e.end - e.start
        if (e.end == nxt.start and nxt.object is e.object
                and (e.object is None or e.offset + esize == nxt.offset)
                and nxt.eflags == e.eflags and nxt.protection == e.protection
                and nxt.max_protection == e.max_protection
                and nxt.inheritance == e.inheritance and nxt.wired_count == e.wired_count):
            m.entry_merge(e, nxt)
            if nxt.object is not None:
                vm_object_deallocate(nxt.object)


def _ensure_object(m: VmMap, e: VmMapEntry) -> None:
    """Clipping an object-less user entry first gives it one object both halves share."""
    if e.object is None:
        e.object = vm_object_allocate(m.vmsys, OBJT_DEFAULT, atop(e.end - e.start))
        e.offset = 0


def vm_map_clip_start(m: VmMap, e: VmMapEntry, a: int) -> None:
    if not (e.start < a < e.end):
        return
    vm_map_simplify_entry(m, e)
    if not (e.start < a < e.end):       # simplify may have changed e's bounds; still inside
        return
    _ensure_object(m, e)
    new = VmMapEntry()
    new.copy_fields_from(e)
    e.offset += a - e.start
    m.entry_split(e, a, new, low=True)
    if new.object is not None:
        vm_object_reference(new.object)


def vm_map_clip_end(m: VmMap, e: VmMapEntry, a: int) -> None:
    if not (e.start < a < e.end):
        return
    _ensure_object(m, e)
    new = VmMapEntry()
    new.copy_fields_from(e)
    new.offset = e.offset + (a - e.start)
    m.entry_split(e, a, new, low=False)
    if new.object is not None:
        vm_object_reference(new.object)


# -- insert, findspace, find (MAP-4..12) -----------------------------------------------------------

def vm_map_insert(m: VmMap, obj: VmObject | None, offset: int, start: int, end: int, prot: int,
                  max_prot: int, cow: int) -> int:
    if start < m.min_offset or end > m.max_offset or start >= end:
        return KERN_INVALID_ADDRESS
    found, prev = m.lookup_entry(start)
    if found:
        return KERN_NO_SPACE
    nxt = prev.next
    if nxt is not m.header and nxt.start < end:
        return KERN_NO_SPACE
    protoeflags = 0
    if cow & MAP_COPY_ON_WRITE:
        protoeflags |= MAP_ENTRY_COW | MAP_ENTRY_NEEDS_COPY
    if cow & MAP_NOFAULT:
        protoeflags |= MAP_ENTRY_NOFAULT
    if cow & MAP_DISABLE_SYNCER:
        protoeflags |= MAP_ENTRY_NOSYNC
    if cow & MAP_DISABLE_COREDUMP:
        protoeflags |= MAP_ENTRY_NOCOREDUMP

    if obj is not None:
        if obj.ref_count > 1 or obj.shadow_count != 0:
            obj.flags &= ~OBJ_ONEMAPPING
    elif (prev is not m.header and prev.eflags == protoeflags and prev.end == start
          and prev.wired_count == 0
          and vm_object_coalesce(prev.object, prev.offset, prev.end - prev.start, end - prev.end)):
        if (prev.inheritance == VM_INHERIT_DEFAULT and prev.protection == prot
                and prev.max_protection == max_prot):
            m.entry_set_end(prev, end)
            vm_map_simplify_entry(m, prev)
            return KERN_SUCCESS
        obj = prev.object
        offset = prev.offset + (prev.end - prev.start)
        vm_object_reference(obj)

    e = VmMapEntry(start, end)
    e.object = obj
    e.offset = offset
    e.eflags = protoeflags
    e.inheritance = VM_INHERIT_DEFAULT
    e.protection = prot
    e.max_protection = max_prot
    m.entry_link(prev, e)
    if cow & (MAP_PREFAULT | MAP_PREFAULT_PARTIAL):
        vm_map_pmap_enter(m, start, prot, obj, atop(offset), end - start, cow & MAP_PREFAULT_PARTIAL)
    return KERN_SUCCESS


def vm_map_findspace(m: VmMap, start: int, length: int) -> tuple[int, int | None]:
    """MAP-11: (0, address) or (1, None)."""
    if start < m.min_offset:
        start = m.min_offset
    if start + length > m.max_offset or start + length < start:
        return 1, None
    if m.root is None:
        return 0, start
    # After the splay, the root is the entry containing start or its neighbour: if start comes
    # before the root, the gap from start up to the root is the first candidate.
    root = m.root = _splay(start, m.root)
    if start + length <= root.start:
        return 0, start
    # The root is the last entry whose gap may begin before start.
    st = start if start > root.end else root.end
    if length <= root.end + root.adj_free - st:
        return 0, st
    # First fit in the right subtree, in address order, pruned by max_free.
    e = root.right
    if e is None or length > e.max_free:
        return 1, None
    while e is not None:
        if e.left is not None and e.left.max_free >= length:
            e = e.left
        elif e.adj_free >= length:
            return 0, e.end
        else:
            e = e.right
    return 1, None


def vm_map_find(m: VmMap, obj: VmObject | None, offset: int, addr: int, length: int,
                find_space: bool, prot: int, max_prot: int, cow: int) -> tuple[int, int]:
    """Returns (KERN_*, address)."""
    m.lock()
    start = addr
    if find_space:
        err, found = vm_map_findspace(m, start, length)
        if err or found is None:
            return KERN_NO_SPACE, addr
        start = found
    rv = vm_map_insert(m, obj, offset, start, start + length, prot, max_prot, cow)
    return rv, start


def vm_map_pmap_enter(m: VmMap, addr: int, prot: int, obj: VmObject | None, pindex: int,
                      size: int, flags: int) -> None:
    """MAP-12: read-only prefault of resident pages of vnode objects."""
    if not prot & (VM_PROT_READ | VM_PROT_EXECUTE) or obj is None:
        return
    if obj.type != OBJT_VNODE:
        return
    psize = atop(size)
    if flags & MAP_PREFAULT_PARTIAL and psize > MAX_INIT_PT and obj.resident_page_count > MAX_INIT_PT:
        return
    if psize + pindex > obj.size:
        psize = max(0, obj.size - pindex)
    if psize <= 0 or not obj.pages:
        return
    vmsys = m.vmsys
    phys = vmsys.phys
    pages = obj.pages
    rng = range(pindex, pindex + psize) if psize <= len(pages) else sorted(
        i for i in pages if pindex <= i < pindex + psize)
    for i in rng:
        p = pages.get(i)
        if p is None or not p.valid or p.fictitious:
            continue
        if flags & MAP_PREFAULT_MADVISE and phys.free_count < phys.free_min:
            break
        pmap_mod.pmap_enter_quick(m.pmap, addr + ((i - pindex) << PAGE_SHIFT), p,
                                  prot & (VM_PROT_READ | VM_PROT_EXECUTE))
        phys.cnt.v_prefault += 1


# -- delete / remove / check_protection (MAP-16..19) -----------------------------------------------

def vm_map_entry_delete(m: VmMap, e: VmMapEntry) -> None:
    m.entry_unlink(e)
    obj = e.object
    if obj is not None:
        if (obj.ref_count != 1 and obj.flags & OBJ_ONEMAPPING and not obj.flags & OBJ_NOSPLIT
                and obj.type in (OBJT_DEFAULT, OBJT_SWAP)):
            vm_object_collapse(obj)
            offidx = atop(e.offset)
            count = atop(e.end - e.start)
            vm_object_page_remove(obj, offidx, offidx + count, False)
            if obj.swblocks:
                obj.vm.swap.free_range(obj, offidx, count)
            if offidx + count >= obj.size and offidx < obj.size:
                obj.size = offidx
        vm_object_deallocate(obj)


def vm_map_delete(m: VmMap, start: int, end: int) -> int:
    found, e = m.lookup_entry(start)
    if found:
        vm_map_clip_start(m, e, start)
    else:
        e = e.next
    while e is not m.header and e.start < end:
        vm_map_clip_end(m, e, end)
        nxt = e.next
        if e.wired_count != 0:
            from .fault import vm_fault_unwire      # vm.fault imports this module
            vm_fault_unwire(m, e.start, e.end, e.object is not None and e.object.type == OBJT_DEVICE)
            e.wired_count = 0
            e.eflags &= ~MAP_ENTRY_USER_WIRED
        pmap_mod.pmap_remove(m.pmap, e.start, e.end)
        vm_map_entry_delete(m, e)
        e = nxt
    return KERN_SUCCESS


def vm_map_remove(m: VmMap, start: int, end: int) -> int:
    m.lock()
    start, end = _range_check(m, start, end)
    vm_map_delete(m, start, end)
    return KERN_SUCCESS


def vm_map_check_protection(m: VmMap, start: int, end: int, prot: int) -> bool:
    found, e = m.lookup_entry(start)
    if not found:
        return False
    while start < end:
        if e is m.header:
            return False
        if start < e.start:
            return False
        if (e.protection & prot) != prot:
            return False
        start = e.end
        e = e.next
    return True


# -- protect / inherit / madvise (MAP-20..26) ------------------------------------------------------

def vm_map_protect(m: VmMap, start: int, end: int, new_prot: int, set_max: bool) -> int:
    m.lock()
    start, end = _range_check(m, start, end)
    found, e = m.lookup_entry(start)
    if found:
        vm_map_clip_start(m, e, start)
    else:
        e = e.next
    cur = e
    while cur is not m.header and cur.start < end:
        if (new_prot & cur.max_protection) != new_prot:
            return KERN_PROTECTION_FAILURE
        cur = cur.next
    cur = e
    while cur is not m.header and cur.start < end:
        vm_map_clip_end(m, cur, end)
        old = cur.protection
        if set_max:
            cur.max_protection = new_prot
            cur.protection = new_prot & old
        else:
            cur.protection = new_prot
        if cur.protection != old:
            mask = ~VM_PROT_WRITE if cur.eflags & MAP_ENTRY_COW else VM_PROT_ALL
            pmap_mod.pmap_protect(m.pmap, cur.start, cur.end, cur.protection & mask)
        vm_map_simplify_entry(m, cur)
        cur = cur.next
    return KERN_SUCCESS


def vm_map_inherit(m: VmMap, start: int, end: int, new_inheritance: int) -> int:
    if new_inheritance not in (VM_INHERIT_NONE, VM_INHERIT_COPY, VM_INHERIT_SHARE):
        return KERN_INVALID_ARGUMENT
    if m.vmsys is not None and m.vmsys.fail.check("vm_map_inherit"):
        return KERN_FAILURE
    m.lock()
    start, end = _range_check(m, start, end)
    found, e = m.lookup_entry(start)
    if found:
        vm_map_clip_start(m, e, start)
    else:
        e = e.next
    while e is not m.header and e.start < end:
        vm_map_clip_end(m, e, end)
        e.inheritance = new_inheritance
        vm_map_simplify_entry(m, e)
        e = e.next
    return KERN_SUCCESS


def vm_map_madvise(m: VmMap, start: int, end: int, behav: int) -> int:
    if behav in (MADV_NORMAL, MADV_SEQUENTIAL, MADV_RANDOM, MADV_NOSYNC, MADV_AUTOSYNC,
                 MADV_NOCORE, MADV_CORE):
        modify = True
        m.lock()
    elif behav in (MADV_WILLNEED, MADV_DONTNEED, MADV_FREE):
        modify = False
    else:
        return KERN_INVALID_ARGUMENT
    start, end = _range_check(m, start, end)
    found, e = m.lookup_entry(start)
    if found:
        if modify:
            vm_map_clip_start(m, e, start)
    else:
        e = e.next
    if modify:
        while e is not m.header and e.start < end:
            vm_map_clip_end(m, e, end)
            if behav == MADV_NORMAL:
                e.eflags = (e.eflags & ~MAP_ENTRY_BEHAV_MASK) | MAP_ENTRY_BEHAV_NORMAL
            elif behav == MADV_SEQUENTIAL:
                e.eflags = (e.eflags & ~MAP_ENTRY_BEHAV_MASK) | MAP_ENTRY_BEHAV_SEQUENTIAL
            elif behav == MADV_RANDOM:
                e.eflags = (e.eflags & ~MAP_ENTRY_BEHAV_MASK) | MAP_ENTRY_BEHAV_RANDOM
            elif behav == MADV_NOSYNC:
                e.eflags |= MAP_ENTRY_NOSYNC
            elif behav == MADV_AUTOSYNC:
                e.eflags &= ~MAP_ENTRY_NOSYNC
            elif behav == MADV_NOCORE:
                e.eflags |= MAP_ENTRY_NOCOREDUMP
            else:
                e.eflags &= ~MAP_ENTRY_NOCOREDUMP
            vm_map_simplify_entry(m, e)
            e = e.next
    else:
        while e is not m.header and e.start < end:
            pindex = atop(e.offset)
            count = atop(e.end - e.start)
            useStart = e.start
            if e.start < start:
                pindex += atop(start - e.start)
                count -= atop(start - e.start)
                useStart = start
            if e.end > end:
                count -= atop(e.end - end)
            if count > 0:
                vm_object_madvise(e.object, pindex, count, behav)
                if behav == MADV_WILLNEED:
                    vm_map_pmap_enter(m, useStart, e.protection, e.object, pindex,
                                      count << PAGE_SHIFT,
                                      MAP_PREFAULT_MADVISE)
            e = e.next
    return KERN_SUCCESS


# -- sync (MAP-27..30) -----------------------------------------------------------------------------

def vm_map_sync(m: VmMap, start: int, end: int, syncio: bool, invalidate: bool) -> int:
    start, end = _range_check(m, start, end)
    found, e = m.lookup_entry(start)
    if not found:
        return KERN_INVALID_ADDRESS
    if start == end:
        start = e.start
        end = e.end
    cur = e
    while cur is not m.header and cur.start < end:
        if invalidate and cur.eflags & MAP_ENTRY_USER_WIRED:
            return KERN_INVALID_ARGUMENT
        if end > cur.end and (cur.next is m.header or cur.end != cur.next.start):
            return KERN_INVALID_ADDRESS
        cur = cur.next
    if invalidate:
        pmap_mod.pmap_remove(m.pmap, start, end)
    cur = e
    failed = False
    while cur is not m.header and cur.start < end:
        offset = cur.offset + (start - cur.start)
        size = (cur.end if end > cur.end else end) - start
        # a write-back error (the pages stay dirty) does not stop the other entries' write-back
        if vm_object_sync(cur.object, offset, size, syncio, invalidate):
            failed = True
        start += size
        cur = cur.next
    return KERN_FAILURE if failed else KERN_SUCCESS


# -- wire / unwire (MAP-31..36) --------------------------------------------------------------------

def _wire_begin(m: VmMap, start: int, end: int,
                holesok: bool) -> tuple[int, VmMapEntry | None, int, int]:
    """The common start of vm_map_wire/unwire (MAP-31): lock, clamp, find the first entry.
    Returns (rv, first entry or None when the call is already over, start, end)."""
    m.lock()
    start, end = _range_check(m, start, end)
    if start == end:
        # MAP-36: FreeBSD 7 would leave a zero-length IN_TRANSITION entry and later hang; we take
        # the later FreeBSD fix (early return).  docs/errata.md.
        found, _ = m.lookup_entry(start)
        return (KERN_SUCCESS if (found or holesok) else KERN_INVALID_ADDRESS), None, start, end
    found, first = m.lookup_entry(start)
    if not found:
        if not holesok:
            return KERN_INVALID_ADDRESS, None, start, end
        first = first.next
    return KERN_SUCCESS, first, start, end


def vm_map_wire(m: VmMap, start: int, end: int, flags: int) -> int:
    from .fault import vm_fault_unwire, vm_fault_wire
    user = bool(flags & VM_MAP_WIRE_USER)
    holesok = bool(flags & VM_MAP_WIRE_HOLESOK)
    rv, first, start, end = _wire_begin(m, start, end, holesok)
    if first is None:
        return rv
    rv = KERN_SUCCESS
    processed = []
    failed: VmMapEntry | None = None
    e = first
    while e is not m.header and e.start < end:
        vm_map_clip_start(m, e, start)
        vm_map_clip_end(m, e, end)
        e.eflags |= MAP_ENTRY_IN_TRANSITION
        processed.append(e)
        if e.wired_count == 0:
            e.wired_count = 1
            m.lock()
            r = vm_fault_wire(m, e.start, e.end, user,
                              e.object is not None and e.object.type == OBJT_DEVICE)
            if r != KERN_SUCCESS:
                failed = e
                rv = r
                break
        elif not (user and e.eflags & MAP_ENTRY_USER_WIRED):
            e.wired_count += 1
        if (not holesok and e.end < end and (e.next is m.header or e.next.start != e.end)):
            rv = KERN_INVALID_ADDRESS
            break
        e = e.next
    for e in processed:
        if rv == KERN_SUCCESS:
            if user:
                e.eflags |= MAP_ENTRY_USER_WIRED
        elif e is failed:
            e.wired_count = 0
        elif not (user and e.eflags & MAP_ENTRY_USER_WIRED):
            e.wired_count -= 1
            if e.wired_count == 0:
                vm_fault_unwire(m, e.start, e.end,
                                e.object is not None and e.object.type == OBJT_DEVICE)
        e.eflags &= ~MAP_ENTRY_IN_TRANSITION
    for e in processed:
        if e.next is not e:              # still linked (simplify may have merged it away)
            vm_map_simplify_entry(m, e)
    return rv


def vm_map_unwire(m: VmMap, start: int, end: int, flags: int) -> int:
    from .fault import vm_fault_unwire
    user = bool(flags & VM_MAP_WIRE_USER)
    holesok = bool(flags & VM_MAP_WIRE_HOLESOK)
    rv, first, start, end = _wire_begin(m, start, end, holesok)
    if first is None:
        return rv
    rv = KERN_SUCCESS
    processed = []
    e = first
    while e is not m.header and e.start < end:
        vm_map_clip_start(m, e, start)
        vm_map_clip_end(m, e, end)
        e.eflags |= MAP_ENTRY_IN_TRANSITION
        processed.append(e)
        if (not holesok and e.end < end and (e.next is m.header or e.next.start != e.end)):
            rv = KERN_INVALID_ADDRESS
            break
        syswired = e.wired_count - (1 if e.eflags & MAP_ENTRY_USER_WIRED else 0)
        if not user and syswired <= 0:
            rv = KERN_INVALID_ARGUMENT
            break
        e = e.next
    for e in processed:
        if rv == KERN_SUCCESS and (not user or e.eflags & MAP_ENTRY_USER_WIRED):
            if user:
                e.eflags &= ~MAP_ENTRY_USER_WIRED
            e.wired_count -= 1
            if e.wired_count == 0:
                vm_fault_unwire(m, e.start, e.end,
                                e.object is not None and e.object.type == OBJT_DEVICE)
        e.eflags &= ~MAP_ENTRY_IN_TRANSITION
    for e in processed:
        if e.next is not e:
            vm_map_simplify_entry(m, e)
    return rv


# -- stacks (MAP-37..44) ---------------------------------------------------------------------------

def vm_map_stack(m: VmMap, addrbos: int, max_ssize: int, prot: int, max_prot: int, cow: int,
                 proc) -> int:
    vmsys = m.vmsys
    orient = cow & (MAP_STACK_GROWS_DOWN | MAP_STACK_GROWS_UP)
    cow &= ~orient
    if addrbos < m.min_offset or addrbos > m.max_offset or addrbos + max_ssize < addrbos:
        return KERN_NO_SPACE
    sgrowsiz = vmsys.tunables.sgrowsiz
    init_ssize = max_ssize if max_ssize < sgrowsiz else sgrowsiz
    from ..resource import RLIMIT_VMEM
    vmemlim = proc.lim_cur(RLIMIT_VMEM)
    m.lock()
    found, prev = m.lookup_entry(addrbos)
    if found:
        return KERN_NO_SPACE
    if m.size + init_ssize > vmemlim:
        return KERN_NO_SPACE
    if prev.next is not m.header and prev.next.start < addrbos + max_ssize:
        return KERN_NO_SPACE
    if orient == MAP_STACK_GROWS_DOWN:
        bot = addrbos + max_ssize - init_ssize
        top = bot + init_ssize
    elif orient == MAP_STACK_GROWS_UP:
        bot = addrbos
        top = bot + init_ssize
    else:
        bot = round_page(addrbos + max_ssize // 2 - init_ssize // 2)
        top = bot + init_ssize
    rv = vm_map_insert(m, None, 0, bot, top, prot, max_prot, cow)
    if rv == KERN_SUCCESS:
        if prev is not m.header:
            # the insert may have extended prev; split the stack piece back off
            if prev.end > bot:
                vm_map_clip_end(m, prev, bot)
            new_entry = prev.next
        else:
            new_entry = m.header.next
        if new_entry.end != top or new_entry.start != bot:
            raise AssertionError("vm_map_stack: bad entry after insert")
        new_entry.avail_ssize = max_ssize - init_ssize
        if orient & MAP_STACK_GROWS_DOWN:
            new_entry.eflags |= MAP_ENTRY_GROWS_DOWN
        if orient & MAP_STACK_GROWS_UP:
            new_entry.eflags |= MAP_ENTRY_GROWS_UP
    return rv


def vm_map_growstack(proc, addr: int) -> int:
    from ..resource import RLIMIT_STACK, RLIMIT_VMEM
    vm: Vmspace = proc.p_vmspace
    m = vm.vm_map
    vmsys = m.vmsys
    sgrowsiz = vmsys.tunables.sgrowsiz
    stacklim = proc.lim_cur(RLIMIT_STACK)
    vmemlim = proc.lim_cur(RLIMIT_VMEM)
    found, prev = m.lookup_entry(addr)
    if found:
        return KERN_SUCCESS
    nxt = prev.next
    if prev is not m.header and prev.eflags & MAP_ENTRY_GROWS_UP:
        stack = prev
        grow_down = False
        limit_end = nxt.start if nxt is not m.header else m.max_offset
    elif nxt is not m.header and nxt.eflags & MAP_ENTRY_GROWS_DOWN:
        stack = nxt
        grow_down = True
        if prev is m.header:
            limit_end = stack.start - stack.avail_ssize
        else:
            limit_end = prev.end
    else:
        return KERN_SUCCESS
    if grow_down:
        grow = round_page(stack.start - addr)
        max_grow = stack.start - limit_end
    else:
        grow = round_page(addr + 1 - stack.end)
        max_grow = limit_end - stack.end
    if grow > stack.avail_ssize:
        return KERN_NO_SPACE
    if grow > max_grow:
        m.lock()
        stack.avail_ssize = max_grow
        return KERN_NO_SPACE
    is_procstack = addr >= vm.vm_maxsaddr
    if is_procstack and (vm.vm_ssize << PAGE_SHIFT) + grow > stacklim:
        return KERN_NO_SPACE
    grow = ((grow + sgrowsiz - 1) // sgrowsiz) * sgrowsiz
    if grow > stack.avail_ssize:
        grow = stack.avail_ssize
    if is_procstack and (vm.vm_ssize << PAGE_SHIFT) + grow > stacklim:
        grow = stacklim - (vm.vm_ssize << PAGE_SHIFT)
    if m.size + grow > vmemlim:
        return KERN_NO_SPACE
    m.lock()
    if grow_down:
        new_start = stack.start - grow
        if new_start < limit_end:
            new_start = limit_end
            stack.avail_ssize = max_grow
        rv = vm_map_insert(m, None, 0, new_start, stack.start, vmsys.tunables.sv_stackprot,
                           VM_PROT_ALL, 0)
        if rv == KERN_SUCCESS:
            if prev is not m.header and prev.end > new_start:
                vm_map_clip_end(m, prev, new_start)
            new_entry = stack.prev
            if new_entry.start != new_start or new_entry.end != stack.start:
                raise AssertionError("vm_map_growstack: bad entry")
            new_entry.avail_ssize = stack.avail_ssize - (new_entry.end - new_entry.start)
            stack.eflags &= ~MAP_ENTRY_GROWS_DOWN
            new_entry.eflags |= MAP_ENTRY_GROWS_DOWN
            # the old piece and the new one may now be alike: only simplify merges them, and
            # FreeBSD does not call it here, so they stay separate entries.
            grown_start, grown_end = new_start, stack.start
    else:
        new_end = stack.end + grow
        if new_end > limit_end:
            new_end = limit_end
        if not vm_object_coalesce(stack.object, stack.offset, stack.end - stack.start,
                                  new_end - stack.end):
            return KERN_FAILURE
        grown_start, grown_end = stack.end, new_end
        stack.avail_ssize -= new_end - stack.end
        m.entry_set_end(stack, new_end)
        rv = KERN_SUCCESS
    if rv == KERN_SUCCESS and is_procstack:
        vm.vm_ssize += atop(grown_end - grown_start)
    if rv == KERN_SUCCESS and m.flags & MAP_WIREFUTURE:
        vm_map_wire(m, grown_start, grown_end, VM_MAP_WIRE_USER)
    return rv


# -- fault-time lookup (MAP-45..49) ----------------------------------------------------------------

def vm_map_lookup(m: VmMap, vaddr: int, fault_typea: int
                  ) -> tuple[int, VmMapEntry | None, VmObject | None, int, int, bool]:
    """Returns (rv, entry, object, pindex, prot, wired); the entry is None when no entry holds
    vaddr (KERN_INVALID_ADDRESS), the object None on failure.  On KERN_SUCCESS neither is None:
    an entry without an object gets one here."""
    found, e = m.lookup_entry(vaddr)
    if not found:
        return KERN_INVALID_ADDRESS, None, None, 0, 0, False
    fault_type = fault_typea
    prot = e.max_protection if fault_typea & VM_PROT_OVERRIDE_WRITE else e.protection
    fault_type &= VM_PROT_ALL
    if (fault_type & prot) != fault_type:
        return KERN_PROTECTION_FAILURE, e, None, 0, 0, False
    if (e.eflags & MAP_ENTRY_USER_WIRED and e.eflags & MAP_ENTRY_COW
            and fault_type & VM_PROT_WRITE and not fault_typea & VM_PROT_OVERRIDE_WRITE):
        return KERN_PROTECTION_FAILURE, e, None, 0, 0, False
    wired = e.wired_count != 0
    if wired:
        prot = fault_type = e.protection
    if e.eflags & MAP_ENTRY_NEEDS_COPY:
        if fault_type & VM_PROT_WRITE:
            m.lock()
            e.object, e.offset = vm_object_shadow(e.object, e.offset, atop(e.end - e.start),
                                                 m.vmsys)
            e.eflags &= ~MAP_ENTRY_NEEDS_COPY
        else:
            prot &= ~VM_PROT_WRITE
    if e.object is None:
        m.lock()
        e.object = vm_object_allocate(m.vmsys, OBJT_DEFAULT, atop(e.end - e.start))
        e.offset = 0
    pindex = atop(vaddr - e.start + e.offset)
    return KERN_SUCCESS, e, e.object, pindex, prot, wired


def vm_map_modflags(m: VmMap, set_: int, clear: int) -> None:
    m.flags = (m.flags | set_) & ~clear


# -- vmspace and fork (FORK-1..4) ------------------------------------------------------------------

class Vmspace:
    def __init__(self, vmsys: VmSystem, min_offset: int, max_offset: int) -> None:
        self.vm_map = VmMap(min_offset, max_offset, vmsys)
        self.vm_map.vmspace = self
        self.vm_refcnt = 1
        self.vm_tsize = self.vm_dsize = self.vm_ssize = 0
        self.vm_taddr = self.vm_daddr = self.vm_maxsaddr = 0
        self.vm_swrss = 0
        self.proc: Any = None           # the process using this vmspace (kern/proc.py sets it)

    @property
    def vm_pmap(self) -> Pmap:
        return self.vm_map.pmap


def vmspace_free(vm: Vmspace) -> None:
    vm.vm_refcnt -= 1
    if vm.vm_refcnt > 0:
        return
    m = vm.vm_map
    m.lock()
    vm_map_delete(m, m.min_offset, m.max_offset)


def _copy_entry(src_map: VmMap, dst_map: VmMap, src: VmMapEntry, dst: VmMapEntry) -> int:
    """vm_map_copy_entry (FORK-3)."""
    from .fault import vm_fault_copy_entry
    if src.wired_count == 0:
        if not src.eflags & MAP_ENTRY_NEEDS_COPY:
            pmap_mod.pmap_protect(src_map.pmap, src.start, src.end, src.protection & ~VM_PROT_WRITE)
        obj = src.object
        if obj is not None:
            if obj.handle is None and obj.type in (OBJT_DEFAULT, OBJT_SWAP):
                vm_object_collapse(obj)
                if obj.flags & OBJ_ONEMAPPING and not obj.flags & OBJ_NOSPLIT:
                    vm_object_split(src)
                    obj = src.object
                    assert obj is not None      # src keeps an object, split or not
            vm_object_reference(obj)
            obj.flags &= ~OBJ_ONEMAPPING
            dst.object = obj
            dst.offset = src.offset
            src.eflags |= MAP_ENTRY_COW | MAP_ENTRY_NEEDS_COPY
            dst.eflags |= MAP_ENTRY_COW | MAP_ENTRY_NEEDS_COPY
        else:
            dst.object = None
            dst.offset = 0
        _pmap_copy(dst_map, src_map, dst.start, dst.end - dst.start, src.start)
    else:
        return vm_fault_copy_entry(dst_map, src_map, dst, src)
    return KERN_SUCCESS


def _pmap_copy(dst_map: VmMap, src_map: VmMap, dst_addr: int, length: int, src_addr: int) -> None:
    """vmspace_fork's and vm_map_copy_entry's pmap_copy (PMAP-10)."""
    vmsys = dst_map.vmsys
    pd = vmsys.pagedaemon
    pmap_mod.pmap_copy(dst_map.pmap, src_map.pmap, dst_addr, length, src_addr,
                       vmsys.phys.free_count, pd.free_reserved if pd is not None else 0)


def _vmspace_map_entry_forked(vm1: Vmspace, vm2: Vmspace, entry: VmMapEntry) -> None:
    """vmspace_map_entry_forked (FORK-4): account an entry the child received (the map's size
    grew when it was linked); a GROWS_DOWN/GROWS_UP entry adds its pages to vm_ssize (after the stack grew
    down only the newest piece carries the flag); one starting inside the parent's data segment
    adds its pages within that segment to vm_dsize, inside the text segment to vm_tsize.
    Entries are page-aligned, so btoc() is atop()."""
    size = entry.end - entry.start          # entry_link already added it to the map's size
    data_end = vm1.vm_daddr + vm1.vm_dsize * PAGE_SIZE
    text_end = vm1.vm_taddr + vm1.vm_tsize * PAGE_SIZE
    if entry.eflags & (MAP_ENTRY_GROWS_DOWN | MAP_ENTRY_GROWS_UP):
        vm2.vm_ssize += atop(size)
    elif vm1.vm_daddr <= entry.start < data_end:
        vm2.vm_dsize += atop(min(entry.end, data_end) - entry.start)
    elif vm1.vm_taddr <= entry.start < text_end:
        vm2.vm_tsize += atop(min(entry.end, text_end) - entry.start)


def vmspace_fork(vm1: Vmspace) -> Vmspace | None:
    old_map = vm1.vm_map
    vmsys = old_map.vmsys
    old_map.lock()
    vm2 = Vmspace(vmsys, old_map.min_offset, old_map.max_offset)
    # 7.x copies only the segment addresses; the sizes start at 0 (vmspace_alloc) and are
    # recomputed from the entries the child receives (vmspace_map_entry_forked, FORK-4)
    vm2.vm_taddr = vm1.vm_taddr
    vm2.vm_daddr = vm1.vm_daddr
    vm2.vm_maxsaddr = vm1.vm_maxsaddr
    new_map = vm2.vm_map
    new_map.timestamp = 1
    for old in list(old_map.entries()):
        inh = old.inheritance
        if inh == VM_INHERIT_NONE:
            continue
        new = VmMapEntry()
        new.copy_fields_from(old)
        new.eflags &= ~(MAP_ENTRY_USER_WIRED | MAP_ENTRY_IN_TRANSITION)
        new.wired_count = 0
        if inh == VM_INHERIT_SHARE:
            obj = old.object
            if obj is None:
                obj = vm_object_allocate(vmsys, OBJT_DEFAULT, atop(old.end - old.start))
                old.object = obj
                old.offset = 0
            # Add the reference before shadowing so that a shadow is surely made.
            vm_object_reference(obj)
            if old.eflags & MAP_ENTRY_NEEDS_COPY:
                old.object, old.offset = vm_object_shadow(old.object, old.offset,
                                                         atop(old.end - old.start))
                old.eflags &= ~MAP_ENTRY_NEEDS_COPY
                # Transfer the second reference too.
                vm_object_reference(old.object)
                vm_object_deallocate(obj)
                obj = old.object
            obj.flags &= ~OBJ_ONEMAPPING
            new.object = obj
            new.offset = old.offset
            new.eflags = old.eflags & ~(MAP_ENTRY_USER_WIRED | MAP_ENTRY_IN_TRANSITION)
            new_map.entry_link(new_map.header.prev, new)
            _vmspace_map_entry_forked(vm1, vm2, new)
            _pmap_copy(new_map, old_map, new.start, old.end - old.start, old.start)
        else:
            new.object = None
            new_map.entry_link(new_map.header.prev, new)
            _vmspace_map_entry_forked(vm1, vm2, new)
            if _copy_entry(old_map, new_map, old, new) != KERN_SUCCESS:
                vmspace_free(vm2)           # fork1: vmspace_fork failed -> ENOMEM
                return None
    return vm2


