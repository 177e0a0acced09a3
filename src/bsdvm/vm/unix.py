"""vm_unix.c: obreak(2), the `break` system call behind libc's brk/sbrk (spec BRK-1..5).

Invariants: the break is vm_daddr + ctob(vm_dsize); growing inserts [old, new) with VM_PROT_ALL
(coalescing with the data segment when it can); shrinking deletes [new, old).
May call: vm.map.
"""
from __future__ import annotations

from errno import EINVAL, ENOMEM

from ..resource import RLIMIT_DATA, RLIMIT_VMEM
from .map import vm_map_delete, vm_map_insert, vm_map_wire
from .param import (KERN_SUCCESS, MAP_WIREFUTURE, VM_MAP_WIRE_NOHOLES, VM_MAP_WIRE_USER,
                    VM_PROT_ALL, atop, ptoa, round_page)


def obreak(td, uap) -> int:
    p = td.td_proc
    vm = p.p_vmspace
    m = vm.vm_map
    mask = p.p_kernel.arch.word_mask
    do_map_wirefuture = False

    new = round_page(uap.nsize) & mask
    m.lock()
    base = round_page(vm.vm_daddr)
    old = base + ptoa(vm.vm_dsize)
    if new > base:
        # Check the resource limit, but allow a process to reduce its usage, even if it
        # remains over the limit.
        if new - base > p.lim_cur(RLIMIT_DATA) and new > old:
            return ENOMEM
        if new > m.max_offset:
            return ENOMEM
    elif new < base:
        # This is simply an invalid value.  If someone wants to do fancy address space
        # manipulations, mmap and munmap can do most of what the user would want.
        return EINVAL
    if new > old:
        if m.size + (new - old) > p.lim_cur(RLIMIT_VMEM):
            return ENOMEM
        rv = vm_map_insert(m, None, 0, old, new, VM_PROT_ALL, VM_PROT_ALL, 0)
        if rv != KERN_SUCCESS:
            return ENOMEM
        vm.vm_dsize += atop(new - old)
        # Handle the MAP_WIREFUTURE case for legacy applications, by marking the newly mapped
        # range of pages as wired.
        if m.flags & MAP_WIREFUTURE:
            do_map_wirefuture = True
    elif new < old:
        vm_map_delete(m, new, old)
        vm.vm_dsize -= atop(old - new)
    m.unlock()
    if do_map_wirefuture:
        vm_map_wire(m, old, new, VM_MAP_WIRE_USER | VM_MAP_WIRE_NOHOLES)
    return 0
