"""bsdvm: FreeBSD 7's virtual-memory mapping layer (sys/vm/vm_mmap.c and what it calls), modelled in
Python.  Public API: Kernel, Process, MapEntry, the fault exceptions and the constant modules."""
from . import mman, resource
from .kernel import Kernel
from .process import (BusError, MapEntry, MemoryFault, Process, ProcessKilled, SegmentationFault)

__all__ = ["Kernel", "Process", "MapEntry", "MemoryFault", "SegmentationFault", "BusError",
           "ProcessKilled", "mman", "resource"]
__version__ = "0.1.0"
