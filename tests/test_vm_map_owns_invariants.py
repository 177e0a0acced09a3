"""Issue 8 item 6: the map keeps its own invariants.  Entry link/unlink and every change of an
entry's bounds go through VmMap methods that keep the splay tree's adj_free/max_free and the map's
size in step; no free function in vm/ assigns an entry's start/end or the map's size, or calls
the tree's private refresh."""
from __future__ import annotations

import ast
import pathlib
import random

import pytest

from bsdvm import Kernel
from bsdvm.vm.map import (VmMap, vm_map_clip_end, vm_map_clip_start, vm_map_delete,
                          vm_map_insert, vm_map_protect, vm_map_simplify_entry)
from bsdvm.vm.param import VM_PROT_ALL, VM_PROT_READ, VM_PROT_WRITE

PG = 4096
RW = VM_PROT_READ | VM_PROT_WRITE
VM_DIR = pathlib.Path(__file__).resolve().parent.parent / "src" / "bsdvm" / "vm"


@pytest.fixture
def k():
    kern = Kernel(physmem="4M", swap="4M")
    try:
        yield kern
    finally:
        kern.close()


def _functions_outside_vmmap(tree: ast.Module):
    """Every function body in the module that is not a method of VmMap."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node
        elif isinstance(node, ast.ClassDef) and node.name != "VmMap":
            yield from (n for n in node.body if isinstance(n, ast.FunctionDef))


def test_no_free_function_changes_entry_bounds_or_map_size():
    for path in sorted(VM_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        for fn in _functions_outside_vmmap(tree):
            if fn.name in ("__init__", "copy_fields_from"):      # a new or copied entry's own fields
                continue
            for node in ast.walk(fn):
                targets = []
                if isinstance(node, ast.Assign):
                    targets = node.targets
                elif isinstance(node, ast.AugAssign):
                    targets = [node.target]
                for t in targets:
                    for sub in ast.walk(t):
                        if isinstance(sub, ast.Attribute) and sub.attr in ("start", "end"):
                            raise AssertionError(f"{path.name}:{fn.name} sets an entry's {sub.attr}")
                        if (isinstance(sub, ast.Attribute) and sub.attr == "size"
                                and (isinstance(sub.value, ast.Name)
                                     and sub.value.id in ("m", "map", "new_map", "dst_map", "old_map")
                                     or isinstance(sub.value, ast.Attribute)
                                     and sub.value.attr == "vm_map")):
                            raise AssertionError(f"{path.name}:{fn.name} sets the map's size")
                if isinstance(node, ast.Attribute) and node.attr in ("_refresh", "_link", "_unlink"):
                    raise AssertionError(f"{path.name}:{fn.name} calls VmMap.{node.attr}")


def test_clip_and_simplify_keep_size_and_gaps(k):
    m = VmMap(0, 1 << 30, k.vm)
    assert vm_map_insert(m, None, 0, 10 * PG, 20 * PG, RW, VM_PROT_ALL, 0) == 0
    e = m.lookup_entry(10 * PG)[1]
    vm_map_clip_start(m, e, 12 * PG)
    vm_map_clip_end(m, e, 15 * PG)
    m.check_tree()
    assert m.size == 10 * PG and m.nentries == 3
    assert [(x.start // PG, x.end // PG) for x in m.entries()] == [(10, 12), (12, 15), (15, 20)]
    vm_map_simplify_entry(m, e)         # alike on both sides: one entry again
    m.check_tree()
    assert m.size == 10 * PG and m.nentries == 1


def test_coalescing_insert_and_delete_keep_size(k):
    m = VmMap(0, 1 << 30, k.vm)
    assert vm_map_insert(m, None, 0, 0, 4 * PG, RW, VM_PROT_ALL, 0) == 0
    assert vm_map_insert(m, None, 0, 4 * PG, 8 * PG, RW, VM_PROT_ALL, 0) == 0    # extends entry 1
    m.check_tree()
    assert m.nentries == 1 and m.size == 8 * PG
    assert vm_map_delete(m, 2 * PG, 3 * PG) == 0
    m.check_tree()
    assert m.size == 7 * PG and m.nentries == 2


def test_random_map_operations_keep_every_invariant(k):
    rnd = random.Random(8)
    m = VmMap(0, 1 << 24, k.vm)
    for _ in range(400):
        a = rnd.randrange(0, 4000) * PG
        b = a + rnd.randrange(1, 64) * PG
        op = rnd.randrange(3)
        if op == 0:
            vm_map_insert(m, None, 0, a, b, RW, VM_PROT_ALL, 0)
        elif op == 1:
            vm_map_delete(m, a, b)
        else:
            vm_map_protect(m, a, b, rnd.choice([VM_PROT_READ, RW]), False)
        m.check_tree()
    vm_map_delete(m, 0, 1 << 24)
    m.check_tree()
    assert m.size == 0 and m.nentries == 0
