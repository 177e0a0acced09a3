"""Compatibility layers and trace replay.

* `linux`  -- the Linux ABI layer: Linux mmap/mprotect/madvise/msync/mlock/brk/mremap arguments
  translated to FreeBSD 7's calls the way FreeBSD's Linux emulation (sys/compat/linux) does, with
  every Linux bit it cannot honour reported.
* `trace`  -- parsers for strace output (Linux) and kdump output (FreeBSD ktrace) into normalised
  records.
* `replay` -- replays parsed records against a Kernel, relocating addresses, and compares results.
* `report` -- the self-contained HTML report of a replay.
"""
from .trace import Record, parse_file, parse_kdump, parse_strace, parse_text

__all__ = ["Record", "parse_file", "parse_kdump", "parse_strace", "parse_text"]
