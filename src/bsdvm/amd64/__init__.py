"""amd64/: the machine-dependent layer for running real x86-64 programs (sys/amd64/amd64): the CPU
(Unicorn, `cpu.py`), the trap handler that turns its memory faults into vm_fault calls or signals
(`trap.py`), and the machine-dependent pieces of the personalities (`machdep.py`).

Importing this package needs the `unicorn` module; the rest of bsdvm never imports it at module
level, so `import bsdvm` works without it.
"""
