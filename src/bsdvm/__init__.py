"""bsdvm: FreeBSD 7's virtual-memory mapping layer (sys/vm/vm_mmap.c and what it calls), modelled in
Python.  Public API: Kernel, Process, MapEntry, the fault exceptions and the constant modules.

Locking (the one hierarchy, stated in full in bsdvm.kern.lock): giant -> sysctl -> vfs -> filedesc ->
leaves (pipe, file refs, failpoints, hooks).  Every Process/Kernel method runs under Kernel.giant,
which alone protects all VM state; a thread takes a lock only while holding earlier ones."""
from . import _build  # noqa: F401  -- first: it chooses the compiled or pure-Python VM core
from . import mman, resource
from .kernel import Kernel
from .process import (BusError, MapEntry, MemoryFault, Process, ProcessKilled, SegmentationFault)

__all__ = ["Kernel", "Process", "MapEntry", "MemoryFault", "SegmentationFault", "BusError",
           "ProcessKilled", "mman", "resource"]
__version__ = "0.1.0"
