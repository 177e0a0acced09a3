"""Per-call replay handlers: one function per memory call, `(replayer, state, record, notes) ->
Comparison`.

Each handler translates the trace's arguments into the model's (addresses through the ties, files
through the descriptor table), makes the call through the process's ABI layer (Linux or native),
compares through `Replayer.compare`, and keeps the model in step with the trace afterwards (ties set
or removed, a resync when one side mapped and the other did not).  `HANDLERS` maps the canonical
call name (`MEMORY_CALLS` maps traced names to canonical ones) to its handler; the engine dispatches
through it.  May call the Replayer's public helpers, the Linux ABI layer and the public Process API.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ... import mman
from ...vm.param import PAGE_MASK, PAGE_SIZE, round_page, trunc_page
from .. import linux as L
from ..trace import Record
from .outcome import Comparison, Reason, hx, rwx
from .state import PState

if TYPE_CHECKING:
    from .engine import Replayer

PROT_ALL = mman.PROT_READ | mman.PROT_WRITE | mman.PROT_EXEC

# traced name -> canonical call, per ABI
MEMORY_CALLS: dict[str, dict[str, str]] = {
    "linux": {"mmap": "mmap", "mmap2": "mmap", "old_mmap": "mmap", "munmap": "munmap",
              "mprotect": "mprotect", "pkey_mprotect": "mprotect", "madvise": "madvise",
              "mincore": "mincore", "mlock": "mlock", "mlock2": "mlock2", "munlock": "munlock",
              "mlockall": "mlockall", "munlockall": "munlockall", "msync": "msync",
              "mremap": "mremap", "brk": "brk"},
    "freebsd": {"mmap": "mmap", "freebsd6_mmap": "mmap", "munmap": "munmap",
                "mprotect": "mprotect", "madvise": "madvise", "mincore": "mincore",
                "mlock": "mlock", "munlock": "munlock", "mlockall": "mlockall",
                "munlockall": "munlockall", "msync": "msync", "minherit": "minherit",
                "break": "break", "obreak": "break"},
}


# -- mmap --------------------------------------------------------------------------------------
def do_mmap(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """mmap (Linux mmap/mmap2 through the Linux layer, FreeBSD mmap natively): placement translated
    (fixed, hint), file opened; afterwards the mapping is tied, or the model resynced."""
    a = rec.args
    lin = rec.abi == "linux"
    addr = a.get("addr") or 0
    length = a.get("length") or 0
    prot = a.get("prot") or 0
    flags = a.get("flags") or 0
    offset = a.get("offset") or 0
    if lin:
        fixed = bool(flags & L.MAP_FIXED)
        noreplace = bool(flags & L.MAP_FIXED_NOREPLACE)
        anon = bool(flags & L.MAP_ANONYMOUS)
        grows = bool(flags & L.MAP_GROWSDOWN)
        fixed_bit = L.MAP_FIXED
    else:
        fixed = bool(flags & mman.MAP_FIXED)
        noreplace = False
        anon = bool(flags & mman.MAP_ANON)
        grows = bool(flags & mman.MAP_STACK)
        fixed_bit = mman.MAP_FIXED
    t_ok = rec.errno is None
    pageoff = offset & PAGE_MASK if not lin else 0
    span = round_page(length + pageoff) if length else 0
    maddr = addr
    if fixed or noreplace or addr:
        maddr, flags = place(rp, st, rec, addr, span, flags, fixed, fixed_bit, t_ok, notes)
    fd = -1 if anon else rp.model_fd(st, rec, offset + length, notes)
    if anon and a.get("fd", -1) != -1 and not lin:
        fd = a.get("fd", -1)
    res = st.abi.mmap(maddr, length, prot, flags, fd, offset)
    cmp = rp.compare(rec, res, "mmap", notes)
    mret = res.ret if res.errno is None else None
    cmp.model_addr = mret
    if cmp.agrees and t_ok:
        cmp.reason = check_mapping(rp, st, rec, res, span, prot, grows, notes)
    # keep the model in step with the trace
    if t_ok and mret is not None:
        tstart = trunc_page(rec.ret)
        st.ties.set(tstart, tstart + span, trunc_page(mret))
        if rp.touch == "all":
            touch_new(rp, st, trunc_page(mret), span, prot)
    elif t_ok and mret is None:
        m = resync_map(rp, st, rec.ret, span, prot, notes)
        if m is not None:
            notes.append(f"resync: anonymous stand-in at {m:#x} for the mapping the model "
                         "refused")
    elif not t_ok and mret is not None and not (flags & fixed_bit):
        try:
            st.proc.munmap(trunc_page(mret), span or PAGE_SIZE)
            notes.append("resync: the model's mapping was unmapped (the trace's call failed)")
        except OSError:
            pass
    return cmp


def place(rp: Replayer, st: PState, rec: Record, addr: int, span: int, flags: int, fixed: bool,
          fixed_bit: int, t_ok: bool, notes: list[str]) -> tuple[int, int]:
    """The model address for a fixed mapping or a hint, and the flags to use."""
    if not fixed:
        m = st.ties.translate(trunc_page(addr))
        if m is not None:
            return m + (addr & PAGE_MASK), flags
        return (addr if rp.hint_ok(st, addr, span) else 0), flags
    if not t_ok:
        m = st.ties.translate(trunc_page(addr))
        return (addr if m is None else m + (addr & PAGE_MASK)), flags
    start = trunc_page(addr)
    end = start + span
    pieces = st.ties.pieces(start, end) if span else []
    tied = [(ps, pe, pm) for ps, pe, pm in pieces if pm is not None]
    consistent: list[tuple[int, int]]
    if tied:
        ps, pe, pm = tied[0]
        mstart = pm - (ps - start)
        consistent = [(tm, tm + (te - ts)) for ts, te, tm in tied if tm - (ts - start) == mstart]
    else:
        mstart = start
        consistent = []
    ok = rp.hint_ok(st, mstart, span)
    if ok:
        for s, e in rp.model_overlaps(st, mstart, mstart + span):
            # every overlapped model byte must belong to this trace range's own ties
            cur = s
            for cs, ce in consistent:
                if cs <= cur < ce:
                    cur = min(ce, e)
            if cur < e:
                ok = False
                break
    if ok:
        if not tied and not rp.model_free(st, mstart, mstart + span):
            ok = False
    if ok:
        return mstart + (addr & PAGE_MASK), flags
    notes.append(f"relocated: MAP_FIXED at {addr:#x}: the model's counterpart range is "
                 "taken by unrelated mappings, so the model places it")
    rp.counts["relocated"] += 1
    return 0, flags & ~fixed_bit


def check_mapping(rp: Replayer, st: PState, rec: Record, res: L.LinuxResult, span: int, prot: int,
                  grows: bool, notes: list[str]) -> Reason | None:
    """For a successful mmap in both: does the model's mapping have the trace's size and
    protection?  None when it does, else the reason."""
    lin = rec.abi == "linux"
    want = prot & 7
    mstart = trunc_page(res.ret or 0)
    if grows:
        bsd_len = res.bsd["args"][1] if res.bsd else span
        if bsd_len != span:
            return Reason.of("growsdown", "mmap",
                             f"{'MAP_GROWSDOWN' if lin else 'MAP_STACK'}: the model's "
                             f"region is {bsd_len:#x} bytes (linux_mmap_common's STACK_SIZE - "
                             f"GUARD_SIZE), the trace mapped {span:#x}")
        return None
    got = rp.model_overlaps(st, mstart, mstart + span)
    covered = sum(e - s for s, e in got)
    if covered < span:
        return Reason.of("mapping-size", "mmap", f"the model mapped {covered:#x} of the {span:#x} "
                         f"bytes at {mstart:#x}")
    m = rp.vm_map(st)
    prots = set()
    found, e = m.lookup_entry(mstart)
    while found and e is not m.header and e.start < mstart + span:
        prots.add(e.protection & 7)
        e = e.next
    if prots and prots != {want}:
        got_text = "/".join(sorted(rwx(p) for p in prots))
        if any("read-implies-exec" in n for n in res.notes):
            return Reason.of("read-implies-exec", "mmap",
                             f"the model mapped {got_text}, the trace asked {rwx(want)}: PROT_EXEC "
                             "added by the Linux/i386 read-implies-exec rule")
        return Reason.of("mapping-prot", "mmap", f"the model mapped {got_text}, the trace asked "
                         f"{rwx(want)}: protection differs")
    return None


def resync_map(rp: Replayer, st: PState, tret: int, span: int, prot: int,
               notes: list[str]) -> int | None:
    """An anonymous stand-in for a mapping the trace made and the model refused."""
    if not span:
        return None
    hint = tret if rp.hint_ok(st, tret, span) else 0
    try:
        m = st.proc.mmap(hint, span, PROT_ALL, mman.MAP_PRIVATE | mman.MAP_ANON)
        st.proc.mprotect(m, span, prot & 7)
    except OSError:
        return None
    st.ties.set(trunc_page(tret), trunc_page(tret) + span, m)
    rp.counts["resyncs"] += 1
    return m


def touch_new(rp: Replayer, st: PState, mstart: int, span: int, prot: int) -> None:
    """--touch all: fault in every accessible page of a new mapping."""
    if not prot & 3:
        return
    write = bool(prot & 2)
    rp.touch_pages(st, mstart, span // PAGE_SIZE, write)


# -- range calls -----------------------------------------------------------------------------

def range_call(rp: Replayer, st: PState, rec: Record, notes: list[str], what: str,
               call: Callable[[int, int], L.LinuxResult]
               ) -> tuple[Comparison, list[tuple[int, int, int, L.LinuxResult]]]:
    """Run `call(model_addr, length)` over the model runs of the trace range.

    Returns:
        the comparison (the first failing run's result decides) and each run's
        (trace start, model start, length, result).
    """
    a = rec.args
    addr = a.get("addr") or 0
    length = a.get("length") or 0
    t_ok = rec.errno is None
    runs = None
    if t_ok and length:
        runs = rp.runs(st, addr, length, notes, fill_gaps=True)
    if not runs:
        runs = [(addr, rp.point(st, addr), length)]
    first = None
    results = []
    for ts, ms, ln in runs:
        r = call(ms, ln)
        results.append((ts, ms, ln, r))
        if first is None and r.errno is not None:
            first = r
    res = first or results[0][3]
    if len(results) > 1 and first is None:
        for _, _, _, r in results[1:]:
            res.notes.extend(n for n in r.notes if n not in res.notes)
    out = rp.compare(rec, res, what, notes)
    out.model_addr = runs[0][1]
    return out, results


def do_munmap(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """munmap over the model runs; the trace's range is untied when it succeeded."""
    out, _ = range_call(rp, st, rec, notes, "munmap", st.abi.munmap)
    if rec.errno is None:
        a = rec.args
        st.ties.remove(trunc_page(a["addr"]), round_page(a["addr"] + a["length"]))
    return out


def do_mprotect(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """mprotect (and pkey_mprotect, the key ignored) over the model runs."""
    prot = rec.args.get("prot") or 0
    if rec.name == "pkey_mprotect":
        notes.append(f"pkey {rec.args.get('pkey')}: ignored (no protection keys in FreeBSD 7)")
    out, _ = range_call(rp, st, rec, notes, "mprotect",
                         lambda m, n: st.abi.mprotect(m, n, prot))
    return out


def do_madvise(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """madvise over the model runs."""
    adv = rec.args.get("advice") or 0
    out, _ = range_call(rp, st, rec, notes, "madvise", lambda m, n: st.abi.madvise(m, n, adv))
    return out


def do_minherit(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """minherit (FreeBSD traces) over the model runs."""
    inh = rec.args.get("inherit") or 0
    out, _ = range_call(rp, st, rec, notes, "minherit",
                         lambda m, n: st.abi.minherit(m, n, inh))
    return out


def do_mincore(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """mincore over the model runs; with --touch, pages the trace shows resident are faulted first;
    residency differences are noted, not counted."""
    vec = rec.args.get("vec")
    if rp.touch != "none" and rec.errno is None and isinstance(vec, list):
        runs = rp.runs(st, rec.args["addr"], rec.args["length"], notes, fill_gaps=True)
        if runs:
            touch_evidence(rp, st, rec, runs, vec)
    out, results = range_call(rp, st, rec, notes, "mincore", st.abi.mincore)
    if isinstance(vec, list) and rec.errno is None and all(r.errno is None
                                                          for *_, r in results):
        got = b"".join((r.bsd or {}).get("vec", b"") for *_, r in results)
        tv = [v & 1 for v in vec]
        mv = [b & 1 for b in got[:len(tv)]]
        if tv != mv:
            diff = sum(1 for x, y in zip(tv, mv, strict=False) if x != y)
            notes.append(f"mincore: residency differs on {diff} of {len(tv)} pages")
    return out


def touch_evidence(rp: Replayer, st: PState, rec: Record, runs: list[tuple[int, int, int]],
                   vec: list[int]) -> None:
    """--touch evidence: fault in the pages a traced mincore showed resident."""
    base = trunc_page(rec.args["addr"])
    for ts, ms, ln in runs:
        first = (trunc_page(ts) - base) // PAGE_SIZE
        for i in range(round_page(ln + (ts & PAGE_MASK)) // PAGE_SIZE):
            j = first + i
            if j < len(vec) and vec[j] & 1:
                rp.touch_pages(st, trunc_page(ms) + i * PAGE_SIZE, 1, False)


def do_mlock(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """mlock over the model runs."""
    out, _ = range_call(rp, st, rec, notes, "mlock", st.abi.mlock)
    return out


def do_mlock2(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """Linux mlock2 over the model runs (flags through the Linux layer)."""
    fl = rec.args.get("flags") or 0
    out, _ = range_call(rp, st, rec, notes, "mlock", lambda m, n: st.abi.mlock2(m, n, fl))
    return out


def do_munlock(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """munlock over the model runs."""
    out, _ = range_call(rp, st, rec, notes, "munlock", st.abi.munlock)
    return out


def do_msync(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """msync over the model runs."""
    fl = rec.args.get("flags") or 0
    out, _ = range_call(rp, st, rec, notes, "msync", lambda m, n: st.abi.msync(m, n, fl))
    return out


def do_mlockall(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """mlockall."""
    res = st.abi.mlockall(rec.args.get("flags") or 0)
    return rp.compare(rec, res, "mlockall", notes)


def do_munlockall(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """munlockall."""
    res = st.abi.munlockall()
    return rp.compare(rec, res, "munlockall", notes)


# -- brk ---------------------------------------------------------------------------------------

def do_brk(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """Linux brk: success is `ret == requested` (a query, brk(0), always succeeds)."""
    want = rec.args.get("addr") or 0
    tret = rec.ret
    if want and st.trace_brk is None:
        # the trace starts after the program's first brk: assume the break was here
        st.trace_brk0 = st.trace_brk = trunc_page(min(want, tret))
        notes.append(f"brk: heap origin assumed at {st.trace_brk0:#x} (no brk(NULL) seen)")
    if not want:
        if st.trace_brk is not None and tret != st.trace_brk and st.origin != "exec":
            # a different break: this pid runs another image the trace did not show
            pid = rec.pid if rec.pid is not None else rp.main_pid
            st = rp.exec_image(st, pid, rec.abi, "brk(NULL) reported a new break")
            notes.append("exec: brk(NULL) reported a break unknown to this process: the "
                         "pid runs a new image (an exec the trace did not record)")
        if st.trace_brk0 is None or st.trace_brk is None:
            st.trace_brk0 = st.trace_brk = tret
        res = st.abi.brk(0)
        st.origin = "running"
        return Comparison(hx(tret), hx(res.ret), None, res.ret)
    st.origin = "running"
    assert st.model_brk0 is not None and st.trace_brk0 is not None and st.trace_brk is not None
    model_want = st.model_brk0 + (want - st.trace_brk0)
    if model_want < 0:
        model_want = 0
    res = st.abi.brk(model_want)
    t_ok = tret == want
    m_ok = res.ret == model_want
    tr, mr = hx(tret), hx(res.ret)
    if t_ok:
        old = st.trace_brk
        st.trace_brk = want
        if want > old:
            st.ties.set(st.trace_brk0, round_page(want), st.model_brk0)
        elif want < old:
            st.ties.remove(round_page(want), round_page(old))
    if t_ok == m_ok:
        return Comparison(tr, mr, None, res.ret)
    if t_ok:
        return Comparison(tr, mr, Reason.of("brk-refused", "brk", f"the trace's break moved to "
                                            f"{want:#x}, the model's obreak refused ({res.why})"),
                          res.ret)
    return Comparison(tr, mr, Reason.of("brk-accepted", "brk", "the trace's brk failed, the "
                                        "model's obreak succeeded"), res.ret)


def do_break(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """FreeBSD break(nsize): 0 or an errno.  The trace has no break query, so the heap origin
    is taken from the first call."""
    want = rec.args.get("addr") or 0
    if st.trace_brk is None:
        st.trace_brk0 = st.trace_brk = trunc_page(want)
        notes.append(f"break: heap origin assumed at {st.trace_brk0:#x} (kdump shows no "
                     "query of the break)")
    assert st.model_brk0 is not None and st.trace_brk0 is not None and st.trace_brk is not None
    model_want = max(0, st.model_brk0 + (want - st.trace_brk0))
    res = st.abi.obreak(model_want)
    out = rp.compare(rec, res, "break", notes)
    if rec.errno is None:
        old = st.trace_brk
        st.trace_brk = round_page(want)
        if st.trace_brk > old:
            st.ties.set(old, st.trace_brk, st.model_brk0 + (old - st.trace_brk0))
        elif st.trace_brk < old:
            st.ties.remove(st.trace_brk, old)
    out.model_addr = model_want
    return out


# -- mremap --------------------------------------------------------------------------------

def do_mremap(rp: Replayer, st: PState, rec: Record, notes: list[str]) -> Comparison:
    """Linux mremap through the Linux layer (which only shrinks); when the trace grew or moved the
    mapping and the model did not, the model follows with a fresh anonymous region."""
    a = rec.args
    addr = a.get("addr") or 0
    old = a.get("old_length") or 0
    new = a.get("new_length") or 0
    flags = a.get("flags") or 0
    new_addr = a.get("new_addr") or 0
    t_ok = rec.errno is None
    maddr = rp.point(st, addr)
    if t_ok and old:
        runs = rp.runs(st, addr, old, notes, fill_gaps=True)
        if runs:
            maddr = runs[0][1]
    mnew = rp.point(st, new_addr) if flags & L.MREMAP_FIXED else new_addr
    res = st.abi.mremap(maddr, old, new, flags, mnew)
    out = rp.compare(rec, res, "mremap", notes)
    r_old, r_new = round_page(old), round_page(new)
    if t_ok and res.errno is None:
        if r_new < r_old:
            st.ties.remove(addr + r_new, addr + r_old)
    elif t_ok:
        # the trace grew or moved it: follow with a fresh anonymous region
        tret = rec.ret
        try:
            m = st.proc.mmap(0, r_new, PROT_ALL, mman.MAP_PRIVATE | mman.MAP_ANON)
            if not flags & L.MREMAP_DONTUNMAP:
                st.proc.munmap(maddr, r_old)
                st.ties.remove(addr, addr + r_old)
            st.ties.set(tret, tret + r_new, m)
            rp.counts["resyncs"] += 1
            notes.append(f"resync: the trace's {'moved' if tret != addr else 'grown'} "
                         f"mapping is followed by a fresh anonymous region at {m:#x} "
                         "(contents not carried over)")
        except OSError:
            pass
    out.model_addr = maddr
    return out


Handler = Callable[["Replayer", PState, Record, list[str]], Comparison]

# canonical call -> its handler
HANDLERS: dict[str, Handler] = {
    "mmap": do_mmap, "munmap": do_munmap, "mprotect": do_mprotect, "madvise": do_madvise,
    "minherit": do_minherit, "mincore": do_mincore, "mlock": do_mlock, "mlock2": do_mlock2,
    "munlock": do_munlock, "msync": do_msync, "mlockall": do_mlockall,
    "munlockall": do_munlockall, "brk": do_brk, "break": do_break, "mremap": do_mremap,
}
