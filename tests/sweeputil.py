"""Shared inputs of the sweep tests: small scenario scripts and a hand-made strace trace, written
into a test's directory, and a small plan over them (physmem small enough that the touch scenario
pages out at the low end)."""
from __future__ import annotations

from pathlib import Path

# 2 MiB of anonymous memory written twice: pages out to swap below ~2 MiB of physmem
TOUCH = """\
n = 512
a = p.mmap(0, n * 4096, mman.PROT_READ | mman.PROT_WRITE, mman.MAP_ANON | mman.MAP_PRIVATE)
for _ in range(2):
    for i in range(n):
        p.mem_write(a + i * 4096, b"x")
"""

RAISES = """\
p.mmap(0, 4096, mman.PROT_READ, mman.MAP_ANON | mman.MAP_PRIVATE)
1 / 0
"""

SPINS = """\
a = p.mmap(0, 4096, mman.PROT_READ, mman.MAP_ANON | mman.MAP_PRIVATE)
while True:
    try:
        p.mem_read(a, 1)
    except Exception:          # the timeout must not be swallowed by a scenario's except
        pass
"""

SEGV = """\
p.mem_read(0x1000, 1)
"""

# one disagreement (msync-flags), the rest agree; addresses above 4 GiB (a 64-bit trace)
TRACE = """\
mmap(NULL, 1048576, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000
mprotect(0x7f0000000000, 4096, PROT_READ) = 0
madvise(0x7f0000010000, 65536, MADV_DONTNEED) = 0
msync(0x7f0000000000, 4096, MS_ASYNC|MS_INVALIDATE) = 0
mmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000200000
munmap(0x7f0000200000, 8192) = 0
munmap(0x7f0000000000, 1048576) = 0
"""


def write_inputs(d: Path) -> dict[str, Path]:
    """Write the scenarios and the trace into `d`; return their paths by name."""
    files = {"touch.py": TOUCH, "raises.py": RAISES, "spins.py": SPINS, "segv.py": SEGV,
             "small.trace": TRACE}
    out = {}
    for name, text in files.items():
        out[name] = d / name
        out[name].write_text(text)
    return out
