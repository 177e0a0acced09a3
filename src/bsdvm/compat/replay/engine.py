"""The replay engine: runs a parsed trace's calls against a Kernel, one model process per traced
process, and records a typed Outcome per memory call.

The engine keeps the per-process state (spawn, fork, vfork/thread sharing, exec, exit), translates
addresses through the ties (relocation: stand-in regions for memory the trace never mapped, runs
split where the model's counterparts are not contiguous), gives mappings the files the trace names
(host files copied into the model's root, or stand-ins), touches pages as asked, and compares each
call (`compare`).  Per-call work is in `handlers` (one function per call), explanations of
disagreements in `explain`.  May call the public Process/Kernel API, the Linux ABI layer and, to
inspect placements, the process's vm_map read-only.
"""
from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ... import mman
from ...kern.init_sysent import freebsd_sysent
from ...process import ProcessKilled
from ...vm.param import PAGE_MASK, PAGE_SIZE, round_page, trunc_page
from .. import linux as L
from ..trace import Record
from .explain import explain_acceptance, explain_errno, explain_refusal
from .handlers import HANDLERS, MEMORY_CALLS
from .outcome import Comparison, Outcome, Reason, Status, hx
from .state import FdInfo, PState
from .ties import Ties

# memory calls the model has no counterpart for (strace's %memory class has them)
NO_COUNTERPART = {"shmat", "shmdt", "mbind", "set_mempolicy", "get_mempolicy", "migrate_pages",
                  "move_pages", "remap_file_pages", "process_madvise", "process_mrelease",
                  "memfd_secret", "mseal", "map_shadow_stack", "pkey_alloc", "pkey_free",
                  "set_mempolicy_home_node", "cachestat", "sbrk", "sstk", "subpage_prot"}
OPEN_CALLS = {"open", "openat", "creat", "openat2"}
FORK_CALLS = {"clone", "clone3", "fork", "vfork", "rfork"}
EXEC_CALLS = {"execve", "execveat"}

PROT_ALL = mman.PROT_READ | mman.PROT_WRITE | mman.PROT_EXEC


@dataclass
class ReplayResult:
    """A finished replay: every call's outcome, the summary (see `Replayer.summary`), samples for
    the report's plots (seq, mapped, resident, faults, pageouts), the final maps and procstat of
    each traced pid, the main traced pid and the process events (spawn, fork, exec, exit)."""

    outcomes: list[Outcome]
    summary: dict[str, Any]
    samples: list[tuple[int, int, int, int, int]]
    final_maps: dict[Any, list[Any]]
    final_procstat: dict[Any, str]
    main_pid: int | None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def disagreements(self) -> list[Outcome]:
        """Calls that differ, by design or not."""
        return [o for o in self.outcomes if o.disagrees]

    @property
    def by_design(self) -> list[Outcome]:
        """Calls that differ because FreeBSD 7 behaves so on purpose (a rule-table row)."""
        return [o for o in self.outcomes if o.status is Status.DIFFER_BY_DESIGN]

    @property
    def unexplained(self) -> list[Outcome]:
        """Calls that differ without explanation: a model bug or an unknown."""
        return [o for o in self.outcomes if o.status is Status.DIFFER_UNEXPLAINED]

    def to_json(self, all_calls: bool = True) -> dict[str, Any]:
        """The summary, the calls (all, or only those that differ or were skipped), the final
        procstat, the samples and the events, for --json."""
        d = dict(self.summary)
        d["calls"] = [o.as_dict() for o in self.outcomes
                      if all_calls or o.status is not Status.AGREE]
        d["final_procstat"] = {str(k): v for k, v in self.final_procstat.items()}
        d["samples"] = [list(x) for x in self.samples]
        d["events"] = self.events
        return d


class Replayer:
    """Replays `records` against `kernel`.  `uid`: the replaying processes' user; `touch`: "none"
    (only what the calls fault), "evidence" (also pages a traced mincore showed resident), "all"
    (also every accessible page of every new mapping, up to `touch_limit` pages each)."""

    def __init__(self, kernel, records, uid: int = 0, touch: str = "evidence",
                 read_implies_exec: bool | None = None, progress=None,
                 copy_limit: int = 256 * 1024 * 1024, touch_limit: int = 4096,
                 max_samples: int = 2000):
        if touch not in ("none", "evidence", "all"):
            raise ValueError("touch must be none, evidence or all")
        self.k = kernel
        self.records = records
        self.uid = uid
        self.touch = touch
        self.read_implies_exec = read_implies_exec
        self.progress = progress
        self.copy_limit = copy_limit
        self.touch_limit = touch_limit
        self.max_samples = max_samples
        self.states: dict[Any, PState] = {}
        self.main_pid: Any = None
        self.last_pid: Any = None
        self.forking: dict = {}      # pid -> clone flags of an unfinished clone/fork
        self.outcomes: list = []
        self.events: list = []
        self.counts: Counter[str] = Counter()
        self.note_counts: Counter[str] = Counter()
        self.copied: dict = {}       # host path -> model path
        self.standin_files = 0
        self.final_maps: dict = {}
        self.final_procstat: dict = {}
        self.samples: list = []
        self.peak_mapped = 0
        self.peak_resident = 0
        self.peak_wired = 0

    # -- processes ---------------------------------------------------------------------------
    def _new_abi(self, proc, abi):
        if abi == "linux":
            return L.LinuxABI(proc, self.read_implies_exec)
        return L.TableABI(proc, freebsd_sysent)

    def _spawn(self, pid, abi, origin="spawn") -> PState:
        proc = self.k.spawn(uid=self.uid, gid=self.uid)
        self.counts["model_processes"] += 1
        st = PState(proc, self._new_abi(proc, abi), Ties(), {}, {pid}, origin=origin)
        st.model_brk0 = proc.brk_current()
        return st

    def _fork(self, parent: PState, child_pid, abi, how: str) -> PState:
        if how in ("thread", "vfork"):
            parent.pids.add(child_pid)
            self.states[child_pid] = parent
            self.events.append(dict(event=how, pid=child_pid,
                                    parent=min(parent.pids), model_pid=parent.proc.pid))
            return parent
        proc = parent.proc.fork()
        self.counts["model_processes"] += 1
        fds = {fd: FdInfo(i.path, i.access, i.model_fd, i.model_path, i.model_size)
               for fd, i in parent.fds.items()}
        st = PState(proc, self._new_abi(proc, abi), parent.ties.copy(), fds, {child_pid},
                    origin=how, trace_brk0=parent.trace_brk0, trace_brk=parent.trace_brk,
                    model_brk0=parent.model_brk0)
        self.states[child_pid] = st
        self.events.append(dict(event="fork", pid=child_pid, model_pid=proc.pid, how=how))
        return st

    def state_of(self, rec: Record) -> PState:
        """The state of the record's process, creating it (spawn, or a fork inferred from the process
        that was forking or active last) when the pid is new."""
        pid = rec.pid if rec.pid is not None else (self.main_pid or 0)
        st = self.states.get(pid)
        if st is not None:
            return st
        if self.main_pid is None:
            self.main_pid = pid
            st = self._spawn(pid, rec.abi)
            self.states[pid] = st
            self.events.append(dict(event="spawn", pid=pid, model_pid=st.proc.pid))
            return st
        # a pid the trace did not show being created: fork it from a process that was forking,
        # else from the one active last
        parent_pid = None
        how = "fork (parent inferred)"
        if self.forking:
            parent_pid = next(reversed(self.forking))
            flags = self.forking.pop(parent_pid)
            how = self._clone_kind(flags)
        if parent_pid is None or parent_pid not in self.states:
            parent_pid = self.last_pid if self.last_pid in self.states else self.main_pid
        parent = self.states.get(parent_pid)
        if parent is None or parent.dead:
            st = self._spawn(pid, rec.abi, origin="spawn (no live parent)")
            self.states[pid] = st
            self.events.append(dict(event="spawn", pid=pid, model_pid=st.proc.pid))
            return st
        self.counts["inferred_forks"] += 1
        return self._fork(parent, pid, rec.abi, how)

    @staticmethod
    def _clone_kind(flags) -> str:
        flags = flags or 0
        if flags & L.CLONE_VM:
            return "thread" if flags & L.CLONE_THREAD else "vfork"
        return "fork"

    def exec_image(self, st: PState, pid, abi, why: str) -> PState:
        """The pid runs a new image: a fresh model process (the old one ends if no other pid
        shares it)."""
        st.pids.discard(pid)
        if not st.pids:
            self._finish(st, pid)
        new = self._spawn(pid, abi, origin="exec")
        self.states[pid] = new
        self.events.append(dict(event="exec", pid=pid, model_pid=new.proc.pid, why=why))
        self.counts["execs"] += 1
        return new

    def _finish(self, st: PState, pid) -> None:
        if st.proc.alive:
            try:
                self.final_maps[pid] = st.proc.maps()
                self.final_procstat[pid] = st.proc.procstat()
            except Exception:   # noqa: BLE001 -- killed meanwhile
                pass
            try:
                st.proc.exit()
            except Exception:   # noqa: BLE001
                pass
        st.dead = st.dead or "exited"

    def _exit_pid(self, pid) -> None:
        st = self.states.pop(pid, None)
        self.forking.pop(pid, None)
        if st is None:
            return
        st.pids.discard(pid)
        if not st.pids:
            self._finish(st, pid)

    # -- model helpers -----------------------------------------------------------------------
    def vm_map(self, st):
        """The model process's vm_map (read-only use: placements and overlaps)."""
        return st.proc.proc.p_vmspace.vm_map

    def model_free(self, st, a: int, b: int) -> bool:
        """True when model range [a, b) is inside the map and entirely unmapped."""
        m = self.vm_map(st)
        if a < m.min_offset or b > m.max_offset or b <= a:
            return False
        found, e = m.lookup_entry(a)
        if found:
            return False
        nxt = e.next if e is not m.header else m.header.next
        return nxt is m.header or nxt.start >= b

    def model_overlaps(self, st, a: int, b: int):
        """(start, end) of model entries overlapping [a, b), clipped."""
        m = self.vm_map(st)
        found, e = m.lookup_entry(a)
        if not found:
            e = e.next if e is not m.header else m.header.next
        out = []
        while e is not m.header and e.start < b:
            out.append((max(e.start, a), min(e.end, b)))
            e = e.next
        return out

    def hint_ok(self, st, a: int, length: int) -> bool:
        """True when [a, a + length) lies within the model map's bounds."""
        m = self.vm_map(st)
        return m.min_offset <= a and a + length <= m.max_offset

    def standin(self, st, a: int, b: int, notes: list) -> int | None:
        """An anonymous region for trace memory [a, b) the trace never mapped."""
        hint = a if self.hint_ok(st, a, b - a) else 0
        try:
            m = st.proc.mmap(hint, b - a, PROT_ALL, mman.MAP_PRIVATE | mman.MAP_ANON)
        except OSError as e:
            notes.append(f"stand-in: could not map {b - a:#x} bytes for [{a:#x}, {b:#x}): "
                         f"{L.errno_name(e.errno)}")
            return None
        st.ties.set(a, b, m)
        self.counts["standins"] += 1
        notes.append(f"stand-in: [{a:#x}, {b:#x}) was never mapped in the trace (exec image, "
                     f"ld.so, stack or vdso): anonymous region at {m:#x} mapped first")
        return m

    def runs(self, st, a: int, length: int, notes: list, fill_gaps: bool):
        """Translate trace range [a, a+length) into model runs [(trace_start, model_start,
        length)], mapping stand-ins for gaps when `fill_gaps`.  None when a gap stays."""
        start, end = trunc_page(a), round_page(a + length)
        if end <= start:
            m = st.ties.translate(start)
            return [(a, (m if m is not None else start) + (a - start), length)]
        pieces = st.ties.pieces(start, end)
        if any(p[2] is None for p in pieces):
            if not fill_gaps:
                return None
            for ps, pe, pm in pieces:
                if pm is None and self.standin(st, ps, pe, notes) is None:
                    return None
            pieces = st.ties.pieces(start, end)
        runs: list[tuple[int, int, int]] = []
        for ps, pe, pm in pieces:
            if runs and runs[-1][1] + runs[-1][2] == pm:
                ts, ms, ln = runs[-1]
                runs[-1] = (ts, ms, ln + (pe - ps))
            else:
                runs.append((ps, pm, pe - ps))
        # cut back to the exact byte range of the call
        out = []
        for ts, ms, ln in runs:
            s = max(ts, a)
            e = min(ts + ln, a + length)
            out.append((s, ms + (s - ts), e - s))
        if len(out) > 1:
            notes.append(f"split: {len(out)} model calls, the model's counterparts of this "
                         "range are not contiguous")
            self.counts["split_calls"] += 1
        return out

    def point(self, st, a: int) -> int:
        """Trace address `a` translated through the ties (unchanged when untied)."""
        m = st.ties.translate(trunc_page(a))
        return a if m is None else m + (a & PAGE_MASK)

    # -- files -------------------------------------------------------------------------------
    _SAFE = re.compile(r"[^A-Za-z0-9._-]+")

    def model_fd(self, st: PState, rec: Record, need: int, notes: list) -> int:
        """The model descriptor standing for the record's `fd`, opened on demand on the trace's file
        (copied from the host) or on a stand-in of at least `need` bytes; a descriptor the
        model lacks (EBADF) when the trace failed on an unknown one."""
        a = rec.args
        fd = a.get("fd")
        if fd is None or fd < 0:
            return -1 if fd is None else fd
        info = st.fds.get(fd)
        path = a.get("path")
        if info is None and path is None and rec.errno is not None:
            # the trace failed on a descriptor it never showed: give the model a bad one too
            notes.append(f"file: fd {fd} is unknown to the trace: the model gets a descriptor it "
                         "does not have")
            return 10_000 + fd
        if info is None:
            info = FdInfo(path)
            st.fds[fd] = info
        elif path and not info.path:
            info.path = path
        if info.model_fd is not None and (info.model_size == 0 or info.model_size >= need):
            return info.model_fd
        access = info.access
        if access is None:
            shared = self._is_shared(rec)
            access = 2 if (shared and a.get("prot", 0) & 2 and rec.errno is None) else 0
        p = st.proc
        if info.model_fd is not None:
            try:
                p.close(info.model_fd)
            except OSError:
                pass
            info.model_fd = None
        model_path = None
        src = info.path
        if src == "/dev/zero":
            model_path = "/dev/zero"
        elif src and src.startswith("/") and not src.startswith(("/dev/", "/proc/", "/sys/")) \
                and " (deleted)" not in src and os.path.isfile(src):
            model_path = self._copy_in(src, notes)
        if model_path is None:
            model_path = self._standin_file(st, fd, src, need, notes)
            info.model_size = need
        flags = L.open_flags_to_host(access)
        try:
            mfd = p.open(model_path, flags)
        except OSError as e:
            notes.append(f"file: model open({model_path}) failed: {L.errno_name(e.errno)}")
            return 10_000 + fd      # a descriptor the model does not have: EBADF
        info.model_fd = mfd
        info.model_path = model_path
        return mfd

    @staticmethod
    def _is_shared(rec: Record) -> bool:
        f = rec.args.get("flags", 0) or 0
        if rec.abi == "linux":
            return (f & L.MAP_TYPE) == L.MAP_SHARED
        return bool(f & mman.MAP_SHARED)

    def _copy_in(self, src: str, notes: list) -> str | None:
        if src in self.copied:
            return self.copied[src]
        try:
            size = os.path.getsize(src)
        except OSError:
            return None
        if size > self.copy_limit:
            notes.append(f"file: {src} is {size} bytes, over the copy limit: stand-in used")
            return None
        dst = os.path.join(self.k.root, src.lstrip("/"))
        try:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o644)
        except OSError as e:
            notes.append(f"file: copying {src} failed ({e.strerror}): stand-in used")
            return None
        self.copied[src] = src
        self.counts["files_copied"] += 1
        return src

    def _standin_file(self, st, fd, src, need, notes) -> str:
        self.standin_files += 1
        name = self._SAFE.sub("_", src or f"fd{fd}").strip("_")[-80:] or "anon"
        model_path = f"/.bsdvm-standin/{self.standin_files}-{name}"
        host = os.path.join(self.k.root, model_path.lstrip("/"))
        os.makedirs(os.path.dirname(host), exist_ok=True)
        with open(host, "wb") as f:
            f.truncate(max(need, PAGE_SIZE))
        os.chmod(host, 0o666)
        notes.append(f"file: {src or f'fd {fd}'} is not a readable host file: stand-in "
                     f"{model_path} of {max(need, PAGE_SIZE)} bytes")
        self.counts["standin_files"] += 1
        return model_path

    # -- touching ----------------------------------------------------------------------------
    def touch_pages(self, st, start: int, npages: int, write: bool) -> None:
        """Fault in up to touch_limit pages from `start` (read, or write); stops at the first fault."""
        p = st.proc
        for i in range(min(npages, self.touch_limit)):
            a = start + i * PAGE_SIZE
            try:
                if write:
                    p.mem_write(a, b"\0")
                else:
                    p.mem_read(a, 1)
            except Exception:   # noqa: BLE001 -- SIGSEGV/SIGBUS/OOM: stop touching
                return

    # -- running -----------------------------------------------------------------------------
    def run(self) -> ReplayResult:
        """Replay every record in order; returns the ReplayResult."""
        recs = self.records
        n = len(recs)
        ncalls = sum(1 for r in recs if r.kind == "call") or 1
        every = max(1, ncalls // self.max_samples)
        seq = 0
        for i, rec in enumerate(recs):
            if self.progress is not None and i % 500 == 0:
                self.progress(i, n)
            kind = rec.kind
            if kind != "call":
                self._event(rec)
                continue
            name = rec.name
            canon = MEMORY_CALLS[rec.abi].get(name)
            if canon is None:
                self._bookkeeping(rec)
                continue
            seq += 1
            self._call(seq, rec, canon)
            if seq % every == 0:
                self._sample(seq)
            else:
                self._peaks()
        if self.progress is not None:
            self.progress(n, n)
        self._sample(seq)
        for pid, st in list(self.states.items()):
            if not st.dead and st.proc.alive and pid not in self.final_maps:
                self.final_maps[pid] = st.proc.maps()
                self.final_procstat[pid] = st.proc.procstat()
        return ReplayResult(self.outcomes, self._summary(seq), self.samples, self.final_maps,
                            self.final_procstat, self.main_pid, self.events)

    def _live_states(self):
        seen = set()
        for st in self.states.values():
            if id(st) not in seen and not st.dead and st.proc.alive:
                seen.add(id(st))
                yield st

    def _peaks(self):
        mapped = resident = wired = 0
        for st in self._live_states():
            m = st.proc.proc.p_vmspace.vm_map
            mapped += m.size
            resident += m.pmap.resident_count
            wired += m.pmap.wired_count
        self.peak_mapped = max(self.peak_mapped, mapped)
        self.peak_resident = max(self.peak_resident, resident * PAGE_SIZE)
        self.peak_wired = max(self.peak_wired, wired * PAGE_SIZE)
        return mapped, resident * PAGE_SIZE

    def _sample(self, seq):
        mapped, resident = self._peaks()
        vs = self.k.vmstat()
        self.samples.append((seq, mapped, resident, vs.get("v_vm_faults", 0),
                             vs.get("v_swappgsout", 0) + vs.get("v_vnodepgsout", 0)))

    # -- events and bookkeeping ----------------------------------------------------------------
    def _event(self, rec: Record) -> None:
        if rec.kind == "signal":
            self.counts["signals"] += 1
            self.events.append(dict(event="signal", pid=rec.pid, signal=rec.name,
                                    line=rec.lineno, **{k: v for k, v in rec.info.items()
                                                        if k in ("si_code", "si_addr")}))
            return
        if rec.kind == "forking":
            self.forking[rec.pid] = rec.args.get("flags")
            return
        if rec.kind in ("exit", "killed"):
            self.counts["exits"] += 1
            pid = rec.pid if rec.pid is not None else self.main_pid
            if rec.name == "superseded":
                return
            self.events.append(dict(event=rec.kind, pid=pid, line=rec.lineno,
                                    detail=rec.info.get("status", rec.name)))
            self._exit_pid(pid)

    def _bookkeeping(self, rec: Record) -> None:
        name = rec.name
        if name in NO_COUNTERPART:
            self.counts["calls_no_counterpart"] += 1
            self.outcomes.append(Outcome(0, rec, Status.SKIPPED, self.trace_result(rec), "-",
                                         Reason("no-counterpart", f"{name} has no FreeBSD 7 "
                                                "counterpart in the model")))
            return
        if name in OPEN_CALLS:
            self.counts["opens"] += 1
            st = self.state_of(rec)
            self.last_pid = rec.pid
            if rec.errno is None and rec.ret is not None and rec.ret >= 0:
                self._drop_fd(st, rec.ret)
                path = rec.args.get("ret_path") or rec.args.get("path")
                of = rec.args.get("oflags") or 0
                st.fds[rec.ret] = FdInfo(path, of & 3)
            return
        if name == "close":
            self.counts["closes"] += 1
            cur = self.states.get(rec.pid if rec.pid is not None else self.main_pid)
            if cur is not None and rec.errno is None:
                self._drop_fd(cur, rec.args.get("fd"))
            return
        if name in FORK_CALLS:
            self.counts["forks"] += 1
            parent = self.state_of(rec)
            self.forking.pop(rec.pid, None)
            if rec.errno is None and rec.ret and rec.ret > 0 and rec.ret not in self.states:
                if name == "vfork":
                    how = "vfork"
                elif name in ("clone", "clone3"):
                    how = self._clone_kind(rec.args.get("flags"))
                elif name == "rfork":
                    how = "fork" if (rec.args.get("flags") or 0) & 0x20 else "vfork"  # RFMEM
                else:
                    how = "fork"
                self._fork(parent, rec.ret, rec.abi, how)
            return
        if name in EXEC_CALLS:
            if rec.errno is None and (rec.ret == 0 or rec.ret is None):
                st = self.state_of(rec)
                self.exec_image(st, rec.pid, rec.abi, "execve")
            return
        self.counts["other_calls"] += 1

    def _drop_fd(self, st, fd) -> None:
        info = st.fds.pop(fd, None)
        if info is not None and info.model_fd is not None:
            # a model fd shared with a fork's copy of the table is the child's own copy
            try:
                st.proc.close(info.model_fd)
            except OSError:
                pass

    # -- calls ----------------------------------------------------------------------------------
    @staticmethod
    def trace_result(rec: Record) -> str:
        """The trace's result as text: the errno name, '?', a hex address or a number."""
        if rec.errno:
            return rec.errno
        if rec.ret is None:
            return "?"
        return hx(rec.ret) if rec.ret > 0xFFFF else str(rec.ret)

    def _call(self, seq: int, rec: Record, canon: str) -> None:
        if rec.info.get("unparsed"):
            self._skip(seq, rec, Reason("unparsed", str(rec.info["unparsed"])))
            return
        if rec.ret is None and rec.errno is None:
            self._skip(seq, rec, Reason("result-unknown", "the trace has no result for this call "
                                        "(= ? or never resumed)"))
            return
        st = self.state_of(rec)
        self.last_pid = rec.pid
        if st.dead:
            self._skip(seq, rec, Reason("process-gone", f"the model process {st.dead}"))
            return
        notes: list[str] = []
        try:
            cmp = HANDLERS[canon](self, st, rec, notes)
        except ProcessKilled:
            st.dead = "was killed by the model's out-of-memory killer"
            cmp = Comparison(self.trace_result(rec), "killed", Reason(
                "oom-killed", "the model's page daemon killed the process (more --physmem or "
                "--swap may be needed)"))
        except Exception as e:  # noqa: BLE001 -- a model bug: reported as such, the replay goes on
            cmp = Comparison(self.trace_result(rec), "error",
                             Reason("model-error", f"{type(e).__name__}: {e}"))
        if cmp.reason is None:
            status = Status.AGREE
        elif cmp.reason.difference is not None:
            status = Status.DIFFER_BY_DESIGN
        else:
            status = Status.DIFFER_UNEXPLAINED
        o = Outcome(seq, rec, status, cmp.trace, cmp.model, cmp.reason, notes, cmp.model_addr)
        self.outcomes.append(o)
        self.counts[str(status)] += 1
        for nt in o.notes:
            self.note_counts[nt.split(":", 1)[0]] += 1

    def _skip(self, seq: int, rec: Record, reason: Reason) -> None:
        self.outcomes.append(Outcome(seq, rec, Status.SKIPPED, self.trace_result(rec), "-", reason))
        self.counts[str(Status.SKIPPED)] += 1

    def compare(self, rec: Record, res: L.LinuxResult, what: str, notes: list[str],
                mstr: str | None = None) -> Comparison:
        """Compare a call's success or errno in the trace with the model's `res`.

        Args:
            rec: the trace's record.
            res: what the model's call returned (through the Linux or native ABI layer).
            what: the canonical call name (the rule table's rows name calls).
            notes: the call's notes; the layer's notes are added to them.
            mstr: the model's result as text, when not `res`'s own.

        Returns:
            a Comparison whose reason is None when both succeeded, or both failed with errnos of
            the same class (linux.errno_class); otherwise the explained reason.
        """
        t_ok = rec.errno is None
        m_ok = res.errno is None
        tr = self.trace_result(rec)
        mr = mstr if mstr is not None else (res.errno if not m_ok else
                                            (hx(res.ret) if isinstance(res.ret, int)
                                             and res.ret > 0xFFFF else str(res.ret)))
        if res.notes:
            notes.extend(res.notes)
        if t_ok and m_ok:
            return Comparison(tr, mr or "")
        if not t_ok and not m_ok:
            te = L.errno_name(rec.errno)
            me = res.errno
            if rec.abi == "linux":
                me = L.bsd_to_linux_errno(me) if me else me
            if L.errno_class(te) == L.errno_class(me):
                if te != me:
                    notes.append(f"errno: trace {te}, model {me} (same class "
                                 f"{L.errno_class(te)})")
                return Comparison(tr, mr or "")
            return Comparison(tr, mr or "", explain_errno(rec, res, what, te or "?", me or ""))
        if t_ok:
            return Comparison(tr, mr or "", explain_refusal(self, rec, res, what))
        return Comparison(tr, mr or "", explain_acceptance(self, rec, res, what))

    # -- summary -------------------------------------------------------------------------------
    def _summary(self, seq: int) -> dict[str, Any]:
        """The replay's figures.  It leads with the three verdicts: `unexplained` (calls that differ
        without explanation), `by_design` (calls that differ as FreeBSD 7 means to, each counted
        under its rule-table id in `by_design_by_difference`) and `agreements`."""
        replayed = [o for o in self.outcomes if o.seq and o.status is not Status.SKIPPED]
        agree = sum(1 for o in replayed if o.status is Status.AGREE)
        dis = [o for o in replayed if o.disagrees]
        unexplained = [o for o in dis if o.status is Status.DIFFER_UNEXPLAINED]
        by_design = [o for o in dis if o.status is Status.DIFFER_BY_DESIGN]
        by_reason = Counter(o.reason_class for o in dis)
        examples: dict[str | None, list[dict[str, Any]]] = {}
        for o in dis:
            ex = examples.setdefault(o.reason_class, [])
            if len(ex) < 3:
                ex.append(dict(line=o.rec.lineno, call=o.call_text(), reason=str(o.reason)))
        by_difference: dict[str, dict[str, Any]] = {}
        for o in by_design:
            d = o.reason.difference if o.reason else None
            if d is not None:
                row = by_difference.setdefault(d.id, dict(calls=0, rule=d.rule,
                                                          replay_class=d.replay_class,
                                                          example=str(o.reason)))
                row["calls"] += 1
        skipped = Counter(o.reason_class for o in self.outcomes if o.status is Status.SKIPPED)
        by_call: Counter[str] = Counter()
        by_call_agree: Counter[str] = Counter()
        for o in replayed:
            by_call[o.rec.name] += 1
            if o.status is Status.AGREE:
                by_call_agree[o.rec.name] += 1
        vs = self.k.vmstat()
        return dict(
            unexplained=len(unexplained), by_design=len(by_design), agreements=agree,
            calls_replayed=len(replayed), disagreements=len(dis),
            agreement_rate=(agree / len(replayed)) if replayed else 1.0,
            unexplained_by_reason=dict(Counter(o.reason_class for o in unexplained).most_common()),
            by_design_by_difference=dict(sorted(by_difference.items(),
                                                key=lambda kv: -kv[1]["calls"])),
            disagreements_by_reason=dict(by_reason.most_common()),
            disagreement_examples=examples,
            skipped=dict(skipped.most_common()),
            by_call={c: dict(replayed=n, agree=by_call_agree[c]) for c, n in by_call.items()},
            notes_by_kind=dict(self.note_counts.most_common()),
            standins=self.counts["standins"], standin_files=self.counts["standin_files"],
            files_copied=self.counts["files_copied"], relocated=self.counts["relocated"],
            split_calls=self.counts["split_calls"], resyncs=self.counts["resyncs"],
            model_processes=self.counts["model_processes"],
            inferred_forks=self.counts["inferred_forks"], execs=self.counts["execs"],
            opens=self.counts["opens"], closes=self.counts["closes"],
            forks=self.counts["forks"], signals=self.counts["signals"],
            exits=self.counts["exits"], other_calls=self.counts["other_calls"],
            peak_mapped=self.peak_mapped, peak_resident=self.peak_resident,
            peak_wired=self.peak_wired, main_pid=self.main_pid, vmstat=vs,
        )


def replay(kernel: Any, records: list[Record], **kw: Any) -> ReplayResult:
    """Replay `records` on `kernel` (see Replayer for the keyword arguments).

    Returns:
        the ReplayResult.
    """
    return Replayer(kernel, records, **kw).run()
