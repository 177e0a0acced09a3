"""vm/vm.h, vm/vm_param.h, vm/vm_map.h, vm/vm_object.h, vm/vm_page.h, vm/vm_pager.h constants
(spec section 2).  Page-size helpers take the page size explicitly only where an arch differs; both
profiles use 4 KiB pages, so the module-level helpers assume it.  Imports nothing.
"""

from typing import Final

PAGE_SIZE: Final = 4096
PAGE_SHIFT: Final = 12
PAGE_MASK: Final = PAGE_SIZE - 1


def trunc_page(x: int) -> int:
    return x & ~PAGE_MASK


def round_page(x: int) -> int:
    return (x + PAGE_MASK) & ~PAGE_MASK


def atop(x: int) -> int:
    return x >> PAGE_SHIFT


def ptoa(n: int) -> int:
    return n << PAGE_SHIFT


OFF_TO_IDX = atop

VM_PROT_NONE: Final = 0x00
VM_PROT_READ: Final = 0x01
VM_PROT_WRITE: Final = 0x02
VM_PROT_EXECUTE: Final = 0x04
VM_PROT_OVERRIDE_WRITE: Final = 0x08
VM_PROT_ALL: Final = 0x07
VM_PROT_DEFAULT: Final = VM_PROT_ALL
VM_PROT_RW: Final = 0x03

VM_INHERIT_SHARE: Final = 0
VM_INHERIT_COPY: Final = 1
VM_INHERIT_NONE: Final = 2
VM_INHERIT_DEFAULT: Final = VM_INHERIT_COPY

KERN_SUCCESS: Final = 0
KERN_INVALID_ADDRESS: Final = 1
KERN_PROTECTION_FAILURE: Final = 2
KERN_NO_SPACE: Final = 3
KERN_INVALID_ARGUMENT: Final = 4
KERN_FAILURE: Final = 5
KERN_RESOURCE_SHORTAGE: Final = 6
KERN_NOT_RECEIVER: Final = 7
KERN_NO_ACCESS: Final = 8

OBJT_DEFAULT: Final = 0
OBJT_SWAP: Final = 1
OBJT_VNODE: Final = 2
OBJT_DEVICE: Final = 3
OBJT_PHYS: Final = 4
OBJT_DEAD: Final = 5
OBJT_NAMES = {0: "default", 1: "swap", 2: "vnode", 3: "device", 4: "phys", 5: "dead"}

# map-entry eflags
MAP_ENTRY_NOSYNC: Final = 0x0001
MAP_ENTRY_IS_SUB_MAP: Final = 0x0002
MAP_ENTRY_COW: Final = 0x0004
MAP_ENTRY_NEEDS_COPY: Final = 0x0008
MAP_ENTRY_NOFAULT: Final = 0x0010
MAP_ENTRY_USER_WIRED: Final = 0x0020
MAP_ENTRY_BEHAV_NORMAL: Final = 0x0000
MAP_ENTRY_BEHAV_SEQUENTIAL: Final = 0x0040
MAP_ENTRY_BEHAV_RANDOM: Final = 0x0080
MAP_ENTRY_BEHAV_RESERVED: Final = 0x00C0
MAP_ENTRY_BEHAV_MASK: Final = 0x00C0
MAP_ENTRY_IN_TRANSITION: Final = 0x0100
MAP_ENTRY_NEEDS_WAKEUP: Final = 0x0200
MAP_ENTRY_NOCOREDUMP: Final = 0x0400
MAP_ENTRY_GROWS_DOWN: Final = 0x1000
MAP_ENTRY_GROWS_UP: Final = 0x2000

EFLAG_NAMES = [
    (MAP_ENTRY_NOSYNC, "NOSYNC"), (MAP_ENTRY_IS_SUB_MAP, "IS_SUB_MAP"), (MAP_ENTRY_COW, "COW"),
    (MAP_ENTRY_NEEDS_COPY, "NEEDS_COPY"), (MAP_ENTRY_NOFAULT, "NOFAULT"),
    (MAP_ENTRY_USER_WIRED, "USER_WIRED"), (MAP_ENTRY_IN_TRANSITION, "IN_TRANSITION"),
    (MAP_ENTRY_NEEDS_WAKEUP, "NEEDS_WAKEUP"), (MAP_ENTRY_NOCOREDUMP, "NOCOREDUMP"),
    (MAP_ENTRY_GROWS_DOWN, "GROWS_DOWN"), (MAP_ENTRY_GROWS_UP, "GROWS_UP"),
]

# map flags
MAP_WIREFUTURE: Final = 0x01

# cow argument of vm_map_insert / vm_map_find / vm_map_stack
MAP_COPY_ON_WRITE: Final = 0x0002
MAP_NOFAULT: Final = 0x0004
MAP_PREFAULT: Final = 0x0008
MAP_PREFAULT_PARTIAL: Final = 0x0010
MAP_DISABLE_SYNCER: Final = 0x0020
MAP_DISABLE_COREDUMP: Final = 0x0100
MAP_PREFAULT_MADVISE: Final = 0x0200
MAP_STACK_GROWS_DOWN: Final = 0x1000
MAP_STACK_GROWS_UP: Final = 0x2000

MAX_INIT_PT: Final = 96

# vm_fault
VM_FAULT_NORMAL: Final = 0
VM_FAULT_CHANGE_WIRING: Final = 1
VM_FAULT_USER_WIRE: Final = 2
VM_FAULT_WIRE_MASK: Final = 3
VM_FAULT_DIRTY: Final = 8

# vm_map_wire / unwire
VM_MAP_WIRE_SYSTEM: Final = 0
VM_MAP_WIRE_USER: Final = 1
VM_MAP_WIRE_NOHOLES: Final = 0
VM_MAP_WIRE_HOLESOK: Final = 2

# object flags
OBJ_ACTIVE: Final = 0x0004
OBJ_DEAD: Final = 0x0008
OBJ_NOSPLIT: Final = 0x0010
OBJ_PIPWNT: Final = 0x0040
OBJ_WRITEABLE: Final = 0x0080
OBJ_MIGHTBEDIRTY: Final = 0x0100
OBJ_CLEANING: Final = 0x0200
OBJ_ONEMAPPING: Final = 0x2000

# page flags
PG_BUSY: Final = 0x0001
PG_FICTITIOUS: Final = 0x0008
PG_WRITEABLE: Final = 0x0010
PG_ZERO: Final = 0x0040
PG_REFERENCED: Final = 0x0080
PG_NOSYNC: Final = 0x0400
PG_UNMANAGED: Final = 0x0800
# model-only: MADV_FREE released this page's contents, so the page daemon may reclaim it unsaved
PG_MADV_FREED: Final = 0x10000

# page queues
PQ_NONE: Final = 0
PQ_FREE: Final = 1
PQ_INACTIVE: Final = 2
PQ_ACTIVE: Final = 3

# vm_object_page_clean flags
OBJPC_SYNC: Final = 0x1
OBJPC_INVAL: Final = 0x2
OBJPC_NOSYNC: Final = 0x4

# pager results
VM_PAGER_OK: Final = 0
VM_PAGER_BAD: Final = 1
VM_PAGER_FAIL: Final = 2
VM_PAGER_PEND: Final = 3
VM_PAGER_ERROR: Final = 4
VM_PAGER_AGAIN: Final = 5
