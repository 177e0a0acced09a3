"""Trace replay: runs a real program's memory system calls (strace or kdump output) on the model and
says, per call, whether FreeBSD 7 agrees with the traced kernel, differs by design (a row of the rule
table bsdvm.compat.differences, i.e. docs/differences.md) or differs without explanation.

Modules:

* `ties`     -- relocation: trace address ranges tied to model addresses.
* `state`    -- per-process state (the model process, its ABI layer, ties, descriptors, break).
* `outcome`  -- the typed outcome: `Status`, `Reason` (class, detail, difference), `Outcome`.
* `engine`   -- the `Replayer`: processes, files, stand-ins, comparison, the summary.
* `handlers` -- one function per memory call (`HANDLERS`), the engine's dispatch.
* `explain`  -- the reasons for disagreements.
* `command`  -- the body of `bsdvm replay` (tables, JSON, HTML report).

Relocation.  The traced kernel and the model place mappings differently, so every mapping the trace
created is tied to the one the model created.  Later calls (munmap, mprotect, madvise, msync, mlock,
mincore, mremap, and MAP_FIXED mmaps inside a reservation made earlier, as ld.so does) have their
addresses translated through the ties; a range that spans ties whose model counterparts are not
contiguous is split into one model call per run.  A call that succeeded in the trace on memory the
trace never mapped (the exec image, ld.so, the stack, the vdso) first gets an anonymous stand-in region
in the model.  A MAP_FIXED mmap outside every tie keeps its address when that range is free in the
model, else it is placed by the model (reported as relocated).

Files.  A file mapping opens, in the model, the file the trace names (strace -y, or the open/openat the
trace recorded): a host file that exists is copied (read from the host, never written) into the model's
root under the same path; otherwise a stand-in file of the needed size is created there.  /dev/zero maps
the model's /dev/zero.

Processes.  The first pid is spawned; a clone/fork/vfork the trace recorded forks (or, for CLONE_VM
threads and vfork, shares) the model process; a pid that appears without one is forked from the process
that was active last.  An execve, or a brk(NULL) that reports a break other than the process's known
one, gives the pid a fresh image.  `+++ exited` / `+++ killed` end the model process.

Comparison.  Per call: success vs failure and, for failures, the errno class (linux.errno_class); for a
successful mmap also the size and protection of what the model mapped.  After a disagreement on mmap or
mremap the model is brought back in step with the trace, and that is noted.
"""
from .engine import NO_COUNTERPART, Replayer, ReplayResult, replay
from .handlers import HANDLERS, MEMORY_CALLS
from .outcome import Comparison, Outcome, Reason, Status, format_call
from .state import FdInfo, PState
from .ties import Ties

__all__ = ["HANDLERS", "MEMORY_CALLS", "NO_COUNTERPART", "Comparison", "FdInfo", "Outcome", "PState",
           "Reason", "ReplayResult", "Replayer", "Status", "Ties", "format_call", "replay"]
