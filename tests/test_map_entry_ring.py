"""An entry on no map's list is a ring of its own (vm/map.py): its prev and next are the entry
itself, never None, so the compiled build can declare them as entries.  vm_map_wire/unwire use
"next is the entry itself" to skip the entries an earlier simplify merged away (simplify of such
an entry would find no neighbour anyway: its only neighbour is itself).
"""
from __future__ import annotations


from bsdvm import mman
from bsdvm.vm.map import VmMapEntry

PG = 4096
RW = mman.PROT_READ | mman.PROT_WRITE


def _entry_at(p, addr):
    m = p.proc.p_vmspace.vm_map
    found, e = m.lookup_entry(addr)
    assert found
    return m, e


def test_a_new_entry_is_a_ring_of_its_own():
    e = VmMapEntry(0, PG)
    assert e.prev is e and e.next is e
    assert e.left is None and e.right is None


def test_an_unmapped_entry_leaves_the_list_as_a_ring_of_its_own(k):
    p = k.spawn()
    a = p.mmap(0, 3 * PG, RW, mman.MAP_ANON | mman.MAP_PRIVATE)
    p.mprotect(a + PG, PG, mman.PROT_READ)          # three entries
    m, middle = _entry_at(p, a + PG)
    before, after = middle.prev, middle.next
    p.munmap(a + PG, PG)
    assert middle.prev is middle and middle.next is middle
    assert middle.left is None and middle.right is None
    assert before.next is after and after.prev is before
    m.check_tree()
    p.exit()


def test_munlock_merges_back_the_pieces_mlock_split(k):
    p = k.spawn()
    a = p.mmap(0, 3 * PG, RW, mman.MAP_ANON | mman.MAP_PRIVATE)
    p.mem_write(a, b"x" * (3 * PG))
    n = p.vmspace_info()["nentries"]
    p.mlock(a + PG, PG)
    assert p.vmspace_info()["nentries"] == n + 2
    p.munlock(a, 3 * PG)                            # simplify merges the pieces back one by one
    assert p.vmspace_info()["nentries"] == n
    m, e = _entry_at(p, a)
    assert (e.start, e.end, e.wired_count) == (a, a + 3 * PG, 0)
    m.check_tree()
    p.exit()
