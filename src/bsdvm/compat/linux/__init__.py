"""sys/compat/linux: the Linux personality.

* `linux`       -- Linux constants, errno numberings and linux_errtbl (`bsd_to_linux_errno`), flag names;
* `sysent`      -- `linux_sysent`, the Linux x86-64 system-call table, assembled from the area modules
  `linux_mmap` (memory), `linux_file` (descriptors, paths, directories), `linux_stats` (stat,
  newfstatat, statx) and `linux_misc` (uname, time, limits, identity, start-up calls);
* `linux_emul`  -- the per-call emulation record (notes, why, the native call made);
* `linux_abi`   -- `LinuxABI` and `TableABI`, the per-process Python faces replay uses (kdump traces
  go through `TableABI(proc, freebsd_sysent)`; `NativeABI` is the hand-written form it replaced).

Every name importable from the former `bsdvm.compat.linux` module is importable from here.
"""
from .linux import *  # noqa: F403 -- the former module's public names
from .linux import (_ALIASES, _BSD_ONLY_TO_LINUX, _DROPPED_MAP_BITS, _FREEBSD_BY_NAME,  # noqa: F401
                    _KNOWN_MAP_BITS, _LINUX_BY_NAME, _LINUX_ONLY_TO_BSD, _MAP_NAMES, _PROT_NAMES)
from .linux_abi import LinuxABI, LinuxResult, NativeABI, TableABI, open_flags_to_host  # noqa: F401
from .sysent import linux_sysent  # noqa: F401
