"""sys/resource.h of FreeBSD 7: resource-limit numbers.  Imports nothing."""

from typing import Final

RLIMIT_CPU: Final = 0
RLIMIT_FSIZE: Final = 1
RLIMIT_DATA: Final = 2
RLIMIT_STACK: Final = 3
RLIMIT_CORE: Final = 4
RLIMIT_RSS: Final = 5
RLIMIT_MEMLOCK: Final = 6
RLIMIT_NPROC: Final = 7
RLIMIT_NOFILE: Final = 8
RLIMIT_SBSIZE: Final = 9
RLIMIT_VMEM: Final = 10
RLIMIT_AS: Final = RLIMIT_VMEM
RLIM_NLIMITS: Final = 11
RLIM_INFINITY: Final = 2**63 - 1

NAMES = {
    RLIMIT_CPU: "cpu", RLIMIT_FSIZE: "fsize", RLIMIT_DATA: "data", RLIMIT_STACK: "stack",
    RLIMIT_CORE: "core", RLIMIT_RSS: "rss", RLIMIT_MEMLOCK: "memlock", RLIMIT_NPROC: "nproc",
    RLIMIT_NOFILE: "nofile", RLIMIT_SBSIZE: "sbsize", RLIMIT_VMEM: "vmem",
}
