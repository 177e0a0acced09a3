"""Explanations of disagreements: for a call on which the trace and the model differ, the Reason --
a class, a sentence, and (through the rule table bsdvm.compat.differences) the by-design difference
it is, when it is one.  A class that names no row for the call leaves the disagreement unexplained.
May read the replayer's state and the process's model map; changes nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import mman
from ...vm.param import PAGE_MASK, round_page, trunc_page
from .. import linux as L
from ..trace import Record
from .outcome import Reason

if TYPE_CHECKING:
    from .engine import Replayer


def explain_errno(rec: Record, res: L.LinuxResult, what: str, trace_errno: str,
                  model_errno: str) -> Reason:
    """Why both failed, with errnos of different classes.

    Args:
        rec: the trace's record.
        res: the model's result (its `why` when the Linux layer failed it).
        what: the canonical call name.
        trace_errno: the trace's errno name.
        model_errno: the model's errno name, in the trace's ABI.

    Returns:
        the Reason.
    """
    if what == "msync" and trace_errno == "ENOMEM" and model_errno == "EINVAL" and not res.why:
        return Reason.of("msync-hole", what, "msync: Linux fails with ENOMEM on a range with "
                         "unmapped pages; FreeBSD 7 maps KERN_INVALID_ADDRESS to EINVAL")
    why = res.why or (f"trace {trace_errno} ({L.errno_class(trace_errno)}), model {model_errno} "
                      f"({L.errno_class(model_errno)})")
    return Reason.of("errno-class", what, f"{what}: {why}")


def explain_acceptance(rp: Replayer, rec: Record, res: L.LinuxResult, what: str) -> Reason:
    """Why the trace's call failed and the model's succeeded.

    Args:
        rp: the replayer (for the process's model map).
        rec: the trace's record.
        res: the model's result.
        what: the canonical call name.

    Returns:
        the Reason; by design when its class names a rule-table row for `what`.
    """
    te = L.errno_name(rec.errno)
    addr = rec.args.get("addr")
    if te == "EINVAL" and isinstance(addr, int) and addr & PAGE_MASK:
        return Reason.of("alignment", what, f"{what}: Linux rejects an address that is not "
                         "page-aligned (EINVAL); FreeBSD 7 rounds it down and succeeds")
    if te == "EINVAL" and what == "mmap" and rec.args.get("length") == 0:
        return Reason.of("mmap-len0", what, "mmap: Linux rejects a zero length (EINVAL); "
                         "FreeBSD 7 accepts it and maps nothing")
    if te == "EPERM" and what == "mmap" and isinstance(addr, int) and addr < 0x10000:
        return Reason.of("mmap-min-addr", what, "mmap: Linux refuses mappings below "
                         "vm.mmap_min_addr (EPERM); FreeBSD 7 has no such floor")
    length = rec.args.get("length")
    if te == "ENOMEM" and isinstance(addr, int) and length and res.bsd:
        st = rp.states.get(rec.pid if rec.pid is not None else rp.main_pid)
        margs = res.bsd.get("args") or ()
        if st is not None and not st.dead and margs:
            ms = trunc_page(margs[0])
            me = round_page(margs[0] + length)
            if sum(e - s for s, e in rp.model_overlaps(st, ms, me)) < me - ms:
                return Reason.of("holes", what, f"{what}: Linux fails with ENOMEM on a range "
                                 f"that is not fully mapped; FreeBSD 7's {what} ignores the "
                                 "unmapped parts")
    if te in ("EPERM", "EAGAIN", "ENOMEM") and what in ("mlock", "mlockall"):
        who = "Linux" if rec.abi == "linux" else "the traced kernel"
        return Reason.of("wire-limit", what, f"{what}: {who} refused it ({te}: privilege or "
                         f"RLIMIT_MEMLOCK); the model's process (uid {rp.uid}) was allowed "
                         "(see --uid)")
    return Reason.of("model-accepted", what, f"{what}: the trace failed with {te}, the model "
                     "succeeded")

def explain_refusal(rp: Replayer, rec: Record, res: L.LinuxResult, what: str) -> Reason:
    """Why the trace's call succeeded and the model's failed (arguments as explain_acceptance).

    Returns:
        the Reason; by design when its class names a rule-table row for `what`.
    """
    e = res.errno
    if res.why:
        cls = "mremap-grow" if "cannot grow" in res.why else "linux-layer"
        return Reason.of(cls, what, f"{what}: {res.why}")
    if e == "EPERM" and what in ("mlock", "mlockall", "munlock", "munlockall") and rp.uid:
        return Reason.of("privilege", what, f"{what}: FreeBSD 7 needs "
                         f"PRIV_VM_{what.upper().replace('ALL', '')} for any user; Linux allows "
                         "unprivileged locking within RLIMIT_MEMLOCK")
    if e == "EAGAIN" and what in ("mlock", "mlockall"):
        return Reason.of("wire-limit", what, f"{what}: over vm.max_wired / RLIMIT_MEMLOCK in the "
                         "model (EAGAIN)")
    if e == "ENOMEM" and what == "mlock":
        return Reason.of("wire-limit", what, "mlock: the model could not wire the range (ENOMEM)")
    if what == "mmap" and e == "ENOMEM":
        st = rp.states.get(rec.pid if rec.pid is not None else rp.main_pid)
        if st is not None and not st.dead:
            m = rp.vm_map(st)
            lim = rp.k.max_proc_mmap
            if lim and m.nentries >= lim:
                return Reason.of("max-proc-mmap", what, f"mmap: the model's map has "
                                 f"{m.nentries} entries, at FreeBSD 7's vm.max_proc_mmap limit "
                                 f"({lim}); Linux allows vm.max_map_count (65530)")
    bsd: tuple[Any, ...] = tuple((res.bsd or {}).get("args") or ())
    if what == "msync" and e == "EINVAL" and len(bsd) > 2 and (bsd[2] & 3) == 3:
        return Reason.of("msync-flags", what, "msync: FreeBSD 7's msync rejects "
                         "MS_ASYNC|MS_INVALIDATE (EINVAL); Linux accepts the pair")
    if what == "mmap" and len(bsd) > 3 and bsd[3] & mman.MAP_STACK and rec.abi == "linux":
        return Reason.of("growsdown", what, f"mmap: linux_mmap_common turned MAP_GROWSDOWN into "
                         f"a FreeBSD MAP_STACK region of {bsd[1]:#x} bytes at {bsd[0]:#x} (addr - "
                         f"(STACK_SIZE - GUARD_SIZE - len)), which vm_map_stack refused ({e})")
    if what == "munmap" and e == "EINVAL":
        return Reason.of("munmap-hole", what, "munmap: FreeBSD 7's munmap requires the whole "
                         "range to be mapped (EINVAL on a hole); Linux unmaps whatever is there")
    return Reason.of("model-refused", what, f"{what}: the trace succeeded, the model failed "
                     f"with {e}")
