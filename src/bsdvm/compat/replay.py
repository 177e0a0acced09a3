"""The replay engine: runs a parsed trace's memory calls against a Kernel and compares results.

Relocation.  The traced kernel and the model place mappings differently, so every mapping the trace
created is *tied* to the one the model created (`Ties`: trace range -> model start).  Later calls
(munmap, mprotect, madvise, msync, mlock, mincore, mremap, and MAP_FIXED mmaps inside a reservation
made earlier, as ld.so does) have their addresses translated through the ties; a range that spans
ties whose model counterparts are not contiguous is split into one model call per run.  A call that
succeeded in the trace on memory the trace never mapped (the program's exec image, ld.so, the
stack, the vdso) first gets an anonymous *stand-in* region in the model, tied like any mapping and
reported.  A MAP_FIXED mmap outside every tie keeps its address when that range is free in the model,
else it is placed by the model (reported as relocated).  Hints are translated the same way.

Files.  A file mapping opens, in the model, the file the trace names (strace -y, or the open/openat
the trace recorded): a host file that exists is copied (read from the host, never written) into the
model's root under the same path; otherwise a stand-in file of the needed size is created there.
/dev/zero maps the model's /dev/zero.

Processes.  The first pid is spawned; a clone/fork/vfork the trace recorded forks (or, for CLONE_VM
threads and vfork, shares) the model process; a pid that appears without one is forked from the
process that was active last (reported).  An execve, or a brk(NULL) that reports a break other than
the process's known one (an exec the trace did not record), gives the pid a fresh image.
`+++ exited` / `+++ killed` end the model process (its final procstat is kept).

Comparison.  Per call: the trace's result, the model's result, and agreement -- success vs failure
and, for failures, the errno class (linux.errno_class); for a successful mmap also the size and
protection of what the model mapped.  Every disagreement carries a reason "class: detail".  After a
disagreement on mmap or mremap the model is brought back in step with the trace (a stand-in for a
mapping the model refused, an unmap of one the trace did not make) and that is noted.
"""
from __future__ import annotations

import bisect
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .. import mman
from ..vm.param import PAGE_MASK, PAGE_SIZE
from . import linux as L
from .trace import Record

MEMORY_CALLS = {
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
# memory calls the model has no counterpart for (strace's %memory class has them)
NO_COUNTERPART = {"shmat", "shmdt", "mbind", "set_mempolicy", "get_mempolicy", "migrate_pages",
                  "move_pages", "remap_file_pages", "process_madvise", "process_mrelease",
                  "memfd_secret", "mseal", "map_shadow_stack", "pkey_alloc", "pkey_free",
                  "set_mempolicy_home_node", "cachestat", "sbrk", "sstk", "subpage_prot"}
OPEN_CALLS = {"open", "openat", "creat", "openat2"}
FORK_CALLS = {"clone", "clone3", "fork", "vfork", "rfork"}
EXEC_CALLS = {"execve", "execveat"}

PROT_ALL = mman.PROT_READ | mman.PROT_WRITE | mman.PROT_EXEC


def _trunc(x):
    return x & ~PAGE_MASK


def _round(x):
    return (x + PAGE_MASK) & ~PAGE_MASK


# -- ties ---------------------------------------------------------------------------------------

class Ties:
    """Sorted, disjoint trace ranges [start, end) each tied to a model start address."""

    __slots__ = ("starts", "ends", "ms")

    def __init__(self):
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.ms: list[int] = []

    def copy(self) -> "Ties":
        t = Ties()
        t.starts, t.ends, t.ms = self.starts[:], self.ends[:], self.ms[:]
        return t

    def __len__(self):
        return len(self.starts)

    def __iter__(self):
        return iter(zip(self.starts, self.ends, self.ms, strict=False))

    def translate(self, a: int) -> int | None:
        i = bisect.bisect_right(self.starts, a) - 1
        if i >= 0 and a < self.ends[i]:
            return self.ms[i] + (a - self.starts[i])
        return None

    def _first(self, a: int) -> int:
        i = bisect.bisect_right(self.starts, a) - 1
        if i < 0 or self.ends[i] <= a:
            i += 1
        return i

    def pieces(self, a: int, b: int) -> list[tuple[int, int, int | None]]:
        """[a, b) cut at tie boundaries: (start, end, model start or None for a gap)."""
        out: list[tuple[int, int, int | None]] = []
        i = self._first(a)
        n = len(self.starts)
        cur = a
        while cur < b:
            if i < n and self.starts[i] <= cur < self.ends[i]:
                e = min(self.ends[i], b)
                out.append((cur, e, self.ms[i] + (cur - self.starts[i])))
                cur = e
                i += 1
            else:
                nxt = self.starts[i] if i < n else b
                e = min(max(nxt, cur), b)
                if e == cur:
                    e = b
                out.append((cur, e, None))
                cur = e
        return out

    def remove(self, a: int, b: int) -> None:
        i = self._first(a)
        j = i
        n = len(self.starts)
        keep = []
        while j < n and self.starts[j] < b:
            s, e, m = self.starts[j], self.ends[j], self.ms[j]
            if s < a:
                keep.append((s, a, m))
            if e > b:
                keep.append((b, e, m + (b - s)))
            j += 1
        if i == j:
            return
        self.starts[i:j] = [k[0] for k in keep]
        self.ends[i:j] = [k[1] for k in keep]
        self.ms[i:j] = [k[2] for k in keep]

    def set(self, a: int, b: int, m: int) -> None:
        if b <= a:
            return
        self.remove(a, b)
        i = bisect.bisect_left(self.starts, a)
        # merge with neighbours that continue the same translation
        if i > 0 and self.ends[i - 1] == a and self.ms[i - 1] + (a - self.starts[i - 1]) == m:
            i -= 1
            a, m = self.starts[i], self.ms[i]
            del self.starts[i], self.ends[i], self.ms[i]
        if i < len(self.starts) and self.starts[i] == b and self.ms[i] == m + (b - a):
            b = self.ends[i]
            del self.starts[i], self.ends[i], self.ms[i]
        self.starts.insert(i, a)
        self.ends.insert(i, b)
        self.ms.insert(i, m)


# -- per-process state ---------------------------------------------------------------------------

@dataclass
class FdInfo:
    path: str | None
    access: int | None = None       # 0/1/2 when the trace showed the open
    model_fd: int | None = None
    model_path: str | None = None
    model_size: int = 0             # for stand-in files: their size


@dataclass
class PState:
    proc: Any                       # bsdvm Process
    abi: Any                        # LinuxABI or NativeABI
    ties: Ties
    fds: dict
    pids: set
    origin: str = "spawn"
    trace_brk0: int | None = None
    trace_brk: int | None = None
    model_brk0: int | None = None
    dead: str | None = None


class Outcome:
    __slots__ = ("seq", "rec", "status", "trace", "model", "reason", "notes", "model_addr")

    def __init__(self, seq, rec, status, trace, model, reason=None, notes=None, model_addr=None):
        self.seq = seq
        self.rec = rec
        self.status = status        # "agree" | "disagree" | "skipped"
        self.trace = trace          # text: "0x7f..." / "0" / "ENOMEM"
        self.model = model
        self.reason = reason        # "class: detail"
        self.notes = notes or []
        self.model_addr = model_addr

    @property
    def reason_class(self) -> str | None:
        return self.reason.split(":", 1)[0] if self.reason else None

    def call_text(self) -> str:
        return format_call(self.rec)

    def as_dict(self) -> dict:
        r = self.rec
        return dict(seq=self.seq, line=r.lineno, pid=r.pid, call=self.call_text(),
                    status=self.status, trace=self.trace, model=self.model, reason=self.reason,
                    notes=list(self.notes),
                    model_addr=None if self.model_addr is None else hex(self.model_addr))


def _hx(v) -> str:
    return "NULL" if v == 0 else (f"{v:#x}" if isinstance(v, int) else str(v))


def format_call(rec: Record) -> str:
    a = rec.args
    n = rec.name
    lin = rec.abi == "linux"
    try:
        if n in ("mmap", "mmap2", "old_mmap", "freebsd6_mmap"):
            prot = L.prot_str(a["prot"]) if lin else _bsd_prot(a["prot"])
            flags = L.map_flags_str(a["flags"]) if lin else f"{a['flags']:#x}"
            fd = a.get("fd")
            fds = f"{fd}<{a['path']}>" if a.get("path") else str(fd)
            return f"{n}({_hx(a['addr'])}, {a['length']}, {prot}, {flags}, {fds}, " \
                   f"{a.get('offset', 0):#x})"
        if "addr" in a and "length" in a:
            extra = ""
            for k in ("prot", "advice", "flags", "inherit"):
                if k in a:
                    v = a[k]
                    if k == "prot":
                        v = L.prot_str(v) if lin else _bsd_prot(v)
                    elif k == "advice" and lin:
                        v = L.MADV_NAMES.get(v, v)
                    elif k == "flags" and lin and isinstance(v, int):
                        v = _names(v, _LINUX_FLAG_NAMES.get(n, ()))
                    extra += f", {v}"
            return f"{n}({_hx(a['addr'])}, {a['length']}{extra})"
        if n == "mremap":
            fl = _names(a.get("flags") or 0, ((L.MREMAP_MAYMOVE, "MREMAP_MAYMOVE"),
                                              (L.MREMAP_FIXED, "MREMAP_FIXED"),
                                              (L.MREMAP_DONTUNMAP, "MREMAP_DONTUNMAP")))
            return f"mremap({_hx(a['addr'])}, {a['old_length']}, {a['new_length']}, {fl})"
        if n in ("mlockall",):
            return f"{n}({_names(a.get('flags') or 0, ((1, 'MCL_CURRENT'), (2, 'MCL_FUTURE'), (4, 'MCL_ONFAULT')))})"
        if n in ("brk", "break", "obreak"):
            return f"{n}({_hx(a.get('addr', 0))})"
    except (KeyError, TypeError):
        pass
    return f"{n}(...)"


_LINUX_FLAG_NAMES = {
    "msync": ((L.MS_ASYNC, "MS_ASYNC"), (L.MS_INVALIDATE, "MS_INVALIDATE"), (L.MS_SYNC, "MS_SYNC")),
    "mlock2": ((L.MLOCK_ONFAULT, "MLOCK_ONFAULT"),),
}


def _names(v: int, table) -> str:
    parts = [nm for bit, nm in table if v & bit]
    rest = v & ~sum(bit for bit, _ in table)
    if rest or not parts:
        parts.append(hex(rest) if rest else "0")
    return "|".join(parts)


def _bsd_prot(p) -> str:
    if not isinstance(p, int):
        return str(p)
    return "|".join(nm for bit, nm in ((1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC"))
                    if p & bit) or "PROT_NONE"


def _rwx(p: int) -> str:
    return ("r" if p & 1 else "-") + ("w" if p & 2 else "-") + ("x" if p & 4 else "-")


# -- the engine ---------------------------------------------------------------------------------

@dataclass
class ReplayResult:
    outcomes: list
    summary: dict
    samples: list                   # (seq, mapped, resident, faults, pageouts)
    final_maps: dict                # pid -> list of MapEntry
    final_procstat: dict            # pid -> text
    main_pid: int | None
    events: list = field(default_factory=list)

    @property
    def disagreements(self):
        return [o for o in self.outcomes if o.status == "disagree"]

    def to_json(self, all_calls: bool = True) -> dict:
        d = dict(self.summary)
        d["calls"] = [o.as_dict() for o in self.outcomes
                      if all_calls or o.status != "agree"]
        d["final_procstat"] = {str(k): v for k, v in self.final_procstat.items()}
        d["samples"] = [list(s) for s in self.samples]
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
        self.states: dict = {}
        self.main_pid: int | None = None
        self.last_pid = None
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
        return L.NativeABI(proc)

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

    def _state(self, rec: Record) -> PState:
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

    def _exec(self, st: PState, pid, abi, why: str) -> PState:
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
    def _vm_map(self, st):
        return st.proc.proc.p_vmspace.vm_map

    def _model_free(self, st, a: int, b: int) -> bool:
        m = self._vm_map(st)
        if a < m.min_offset or b > m.max_offset or b <= a:
            return False
        found, e = m.lookup_entry(a)
        if found:
            return False
        nxt = e.next if e is not m.header else m.header.next
        return nxt is m.header or nxt.start >= b

    def _model_overlaps(self, st, a: int, b: int):
        """(start, end) of model entries overlapping [a, b), clipped."""
        m = self._vm_map(st)
        found, e = m.lookup_entry(a)
        if not found:
            e = e.next if e is not m.header else m.header.next
        out = []
        while e is not m.header and e.start < b:
            out.append((max(e.start, a), min(e.end, b)))
            e = e.next
        return out

    def _hint_ok(self, st, a: int, length: int) -> bool:
        m = self._vm_map(st)
        return m.min_offset <= a and a + length <= m.max_offset

    def _standin(self, st, a: int, b: int, notes: list) -> int | None:
        """An anonymous region for trace memory [a, b) the trace never mapped."""
        hint = a if self._hint_ok(st, a, b - a) else 0
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

    def _runs(self, st, a: int, length: int, notes: list, fill_gaps: bool):
        """Translate trace range [a, a+length) into model runs [(trace_start, model_start,
        length)], mapping stand-ins for gaps when `fill_gaps`.  None when a gap stays."""
        start, end = _trunc(a), _round(a + length)
        if end <= start:
            m = st.ties.translate(start)
            return [(a, (m if m is not None else start) + (a - start), length)]
        pieces = st.ties.pieces(start, end)
        if any(p[2] is None for p in pieces):
            if not fill_gaps:
                return None
            for ps, pe, pm in pieces:
                if pm is None and self._standin(st, ps, pe, notes) is None:
                    return None
            pieces = st.ties.pieces(start, end)
        runs: list[Any] = []
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

    def _point(self, st, a: int) -> int:
        m = st.ties.translate(_trunc(a))
        return a if m is None else m + (a & PAGE_MASK)

    # -- files -------------------------------------------------------------------------------
    _SAFE = re.compile(r"[^A-Za-z0-9._-]+")

    def _model_fd(self, st: PState, rec: Record, need: int, notes: list) -> int:
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
    def _touch(self, st, start: int, npages: int, write: bool) -> None:
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
            self.outcomes.append(Outcome(0, rec, "skipped", self._trace_res(rec), "-",
                                         f"no-counterpart: {name} has no FreeBSD 7 counterpart "
                                         "in the model"))
            return
        if name in OPEN_CALLS:
            self.counts["opens"] += 1
            st = self._state(rec)
            self.last_pid = rec.pid
            if rec.errno is None and rec.ret is not None and rec.ret >= 0:
                self._drop_fd(st, rec.ret)
                path = rec.args.get("ret_path") or rec.args.get("path")
                of = rec.args.get("oflags") or 0
                st.fds[rec.ret] = FdInfo(path, of & 3)
            return
        if name == "close":
            self.counts["closes"] += 1
            closer = self.states.get(rec.pid if rec.pid is not None else self.main_pid)
            if closer is not None and rec.errno is None:
                self._drop_fd(closer, rec.args.get("fd"))
            return
        if name in FORK_CALLS:
            self.counts["forks"] += 1
            parent = self._state(rec)
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
                st = self._state(rec)
                self._exec(st, rec.pid, rec.abi, "execve")
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
    def _trace_res(rec: Record) -> str:
        if rec.errno:
            return rec.errno
        if rec.ret is None:
            return "?"
        return _hx(rec.ret) if rec.ret > 0xFFFF else str(rec.ret)

    def _call(self, seq: int, rec: Record, canon: str) -> None:
        if rec.info.get("unparsed"):
            self._skip(seq, rec, f"unparsed: {rec.info['unparsed']}")
            return
        if rec.ret is None and rec.errno is None:
            self._skip(seq, rec, "result-unknown: the trace has no result for this call "
                                 "(= ? or never resumed)")
            return
        st = self._state(rec)
        self.last_pid = rec.pid
        if st.dead:
            self._skip(seq, rec, f"process-gone: the model process {st.dead}")
            return
        notes: list = []
        try:
            out = getattr(self, "_do_" + canon)(st, rec, notes)
        except Exception as e:  # noqa: BLE001
            from ..process import ProcessKilled
            if isinstance(e, ProcessKilled):
                st.dead = "was killed by the model's out-of-memory killer"
                self.outcomes.append(Outcome(seq, rec, "disagree", self._trace_res(rec),
                                             "killed", "oom-killed: the model's page daemon "
                                             "killed the process", notes))
                self.counts["disagree"] += 1
                return
            self.outcomes.append(Outcome(seq, rec, "disagree", self._trace_res(rec), "error",
                                         f"model-error: {type(e).__name__}: {e}", notes))
            self.counts["disagree"] += 1
            return
        o = Outcome(seq, rec, *out)
        self.outcomes.append(o)
        self.counts[o.status] += 1
        for nt in o.notes:
            self.note_counts[nt.split(":", 1)[0]] += 1

    def _skip(self, seq, rec, reason):
        self.outcomes.append(Outcome(seq, rec, "skipped", self._trace_res(rec), "-", reason))
        self.counts["skipped"] += 1

    def _compare(self, rec: Record, res, what: str, notes: list, mstr=None):
        """(status, trace, model, reason) for a call's success/errno."""
        t_ok = rec.errno is None
        m_ok = res.errno is None
        tr = self._trace_res(rec)
        mr = mstr if mstr is not None else (res.errno if not m_ok else
                                            (_hx(res.ret) if isinstance(res.ret, int)
                                             and res.ret > 0xFFFF else str(res.ret)))
        if res.notes:
            notes.extend(res.notes)
        if t_ok and m_ok:
            return "agree", tr, mr, None
        if not t_ok and not m_ok:
            te = L.errno_name(rec.errno)
            me = res.errno
            if rec.abi == "linux":
                me = L.bsd_to_linux_errno(me) if me else me
            if L.errno_class(te) == L.errno_class(me):
                if te != me:
                    notes.append(f"errno: trace {te}, model {me} (same class "
                                 f"{L.errno_class(te)})")
                return "agree", tr, mr, None
            why = res.why or f"trace {te} ({L.errno_class(te)}), model {me} " \
                              f"({L.errno_class(me)})"
            return "disagree", tr, mr, f"errno-class: {what}: {why}"
        if t_ok:
            return "disagree", tr, mr, self._explain_refusal(rec, res, what)
        return "disagree", tr, mr, self._explain_acceptance(rec, res, what)

    def _explain_acceptance(self, rec, res, what) -> str:
        te = L.errno_name(rec.errno)
        addr = rec.args.get("addr")
        if te == "EINVAL" and isinstance(addr, int) and addr & PAGE_MASK:
            return (f"alignment: {what}: Linux rejects an address that is not page-aligned "
                    "(EINVAL); FreeBSD 7 rounds it down and succeeds")
        if te == "EPERM" and what == "mmap" and isinstance(addr, int) and addr < 0x10000:
            return ("mmap-min-addr: mmap: Linux refuses mappings below vm.mmap_min_addr (EPERM); "
                    "FreeBSD 7 has no such floor")
        length = rec.args.get("length")
        if te == "ENOMEM" and isinstance(addr, int) and length and res.bsd:
            st = self.states.get(rec.pid if rec.pid is not None else self.main_pid)
            margs = res.bsd.get("args") or ()
            if st is not None and not st.dead and margs:
                ms = _trunc(margs[0])
                me = _round(margs[0] + length)
                if sum(e - s for s, e in self._model_overlaps(st, ms, me)) < me - ms:
                    return (f"holes: {what}: Linux fails with ENOMEM on a range that is not "
                            f"fully mapped; FreeBSD 7's {what} ignores the unmapped parts")
        if te in ("EPERM", "EAGAIN", "ENOMEM") and what in ("mlock", "mlockall"):
            who = "Linux" if rec.abi == "linux" else "the traced kernel"
            return (f"wire-limit: {what}: {who} refused it ({te}: privilege or RLIMIT_MEMLOCK); "
                    f"the model's process (uid {self.uid}) was allowed (see --uid)")
        return f"model-accepted: {what}: the trace failed with {te}, the model succeeded"

    def _explain_refusal(self, rec, res, what) -> str:
        e = res.errno
        if res.why:
            cls = "mremap-grow" if "cannot grow" in res.why else "linux-layer"
            return f"{cls}: {what}: {res.why}"
        if e == "EPERM" and what in ("mlock", "mlockall", "munlock", "munlockall") and self.uid:
            return (f"privilege: {what}: FreeBSD 7 needs PRIV_VM_{what.upper().replace('ALL', '')}"
                    " for any user; Linux allows unprivileged locking within RLIMIT_MEMLOCK")
        if e == "EAGAIN" and what in ("mlock", "mlockall"):
            return f"wire-limit: {what}: over vm.max_wired / RLIMIT_MEMLOCK in the model (EAGAIN)"
        if e == "ENOMEM" and what == "mlock":
            return "wire-limit: mlock: the model could not wire the range (ENOMEM)"
        if what == "mmap" and e == "ENOMEM":
            st = self.states.get(rec.pid if rec.pid is not None else self.main_pid)
            if st is not None and not st.dead:
                m = self._vm_map(st)
                lim = self.k.max_proc_mmap
                if lim and m.nentries >= lim:
                    return (f"max-proc-mmap: mmap: the model's map has {m.nentries} entries, "
                            f"at FreeBSD 7's vm.max_proc_mmap limit ({lim}); Linux allows "
                            "vm.max_map_count (65530)")
        bsd: Any = (res.bsd or {}).get("args") or ()
        if what == "msync" and e == "EINVAL" and len(bsd) > 2 and (bsd[2] & 3) == 3:
            return ("msync-flags: msync: FreeBSD 7's msync rejects MS_ASYNC|MS_INVALIDATE "
                    "(EINVAL); Linux accepts the pair")
        if what == "mmap" and len(bsd) > 3 and bsd[3] & mman.MAP_STACK and rec.abi == "linux":
            return (f"growsdown: mmap: linux_mmap_common turned MAP_GROWSDOWN into a FreeBSD "
                    f"MAP_STACK region of {bsd[1]:#x} bytes at {bsd[0]:#x} (addr - (STACK_SIZE - "
                    f"GUARD_SIZE - len)), which vm_map_stack refused ({e})")
        if what == "munmap" and e == "EINVAL":
            return ("munmap-hole: munmap: FreeBSD 7's munmap requires the whole range to be "
                    "mapped (EINVAL on a hole); Linux unmaps whatever is there")
        return f"model-refused: {what}: the trace succeeded, the model failed with {e}"

    # -- mmap ----------------------------------------------------------------------------------
    def _do_mmap(self, st: PState, rec: Record, notes: list):
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
        span = _round(length + pageoff) if length else 0
        maddr = addr
        if fixed or noreplace or addr:
            maddr, flags = self._place(st, rec, addr, span, flags, fixed, fixed_bit, t_ok, notes)
        fd = -1 if anon else self._model_fd(st, rec, offset + length, notes)
        if anon and a.get("fd", -1) != -1 and not lin:
            fd = a.get("fd")
        res = st.abi.mmap(maddr, length, prot, flags, fd, offset)
        status, tr, mr, reason = self._compare(rec, res, "mmap", notes)
        mret = res.ret if res.errno is None else None
        if status == "agree" and t_ok:
            reason = self._check_mapping(st, rec, res, span, prot, grows, notes)
            if reason:
                status = "disagree"
        # keep the model in step with the trace
        if t_ok and mret is not None:
            tstart = _trunc(rec.ret)
            st.ties.set(tstart, tstart + span, _trunc(mret))
            if self.touch == "all":
                self._touch_new(st, _trunc(mret), span, prot, flags, lin)
        elif t_ok and mret is None:
            m = self._resync_map(st, rec.ret, span, prot, notes)
            if m is not None:
                notes.append(f"resync: anonymous stand-in at {m:#x} for the mapping the model "
                             "refused")
        elif not t_ok and mret is not None and not (flags & fixed_bit):
            try:
                st.proc.munmap(_trunc(mret), span or PAGE_SIZE)
                notes.append("resync: the model's mapping was unmapped (the trace's call failed)")
            except OSError:
                pass
        return status, tr, mr, reason, notes, mret

    def _place(self, st, rec, addr, span, flags, fixed, fixed_bit, t_ok, notes):
        """The model address for a fixed mapping or a hint, and the flags to use."""
        if not fixed:
            m = st.ties.translate(_trunc(addr))
            if m is not None:
                return m + (addr & PAGE_MASK), flags
            return (addr if self._hint_ok(st, addr, span) else 0), flags
        if not t_ok:
            m = st.ties.translate(_trunc(addr))
            return (addr if m is None else m + (addr & PAGE_MASK)), flags
        start = _trunc(addr)
        end = start + span
        pieces = st.ties.pieces(start, end) if span else []
        tied = [p for p in pieces if p[2] is not None]
        if tied:
            ps, pe, pm = tied[0]
            mstart = pm - (ps - start)
            consistent = [(p[2], p[2] + (p[1] - p[0])) for p in tied
                          if p[2] - (p[0] - start) == mstart]
        else:
            mstart = start
            consistent = []
        ok = self._hint_ok(st, mstart, span)
        if ok:
            for s, e in self._model_overlaps(st, mstart, mstart + span):
                # every overlapped model byte must belong to this trace range's own ties
                cur = s
                for cs, ce in consistent:
                    if cs <= cur < ce:
                        cur = min(ce, e)
                if cur < e:
                    ok = False
                    break
        if ok:
            if not tied and not self._model_free(st, mstart, mstart + span):
                ok = False
        if ok:
            return mstart + (addr & PAGE_MASK), flags
        notes.append(f"relocated: MAP_FIXED at {addr:#x}: the model's counterpart range is "
                     "taken by unrelated mappings, so the model places it")
        self.counts["relocated"] += 1
        return 0, flags & ~fixed_bit

    def _check_mapping(self, st, rec, res, span, prot, grows, notes):
        lin = rec.abi == "linux"
        want = prot & 7
        mstart = _trunc(res.ret)
        if grows:
            bsd_len = res.bsd["args"][1] if res.bsd else span
            if bsd_len != span:
                return (f"mapping-size: {'MAP_GROWSDOWN' if lin else 'MAP_STACK'}: the model's "
                        f"region is {bsd_len:#x} bytes (linux_mmap_common's STACK_SIZE - "
                        f"GUARD_SIZE), the trace mapped {span:#x}")
            return None
        got = self._model_overlaps(st, mstart, mstart + span)
        covered = sum(e - s for s, e in got)
        if covered < span:
            return f"mapping-size: the model mapped {covered:#x} of the {span:#x} bytes at " \
                   f"{mstart:#x}"
        m = self._vm_map(st)
        prots = set()
        found, e = m.lookup_entry(mstart)
        while found and e is not m.header and e.start < mstart + span:
            prots.add(e.protection & 7)
            e = e.next
        if prots and prots != {want}:
            why = "PROT_EXEC added by the Linux/i386 read-implies-exec rule" \
                if any("read-implies-exec" in n for n in res.notes) else "protection differs"
            return (f"mapping-prot: the model mapped {'/'.join(sorted(_rwx(p) for p in prots))},"
                    f" the trace asked {_rwx(want)}: {why}")
        return None

    def _resync_map(self, st, tret, span, prot, notes):
        if not span:
            return None
        hint = tret if self._hint_ok(st, tret, span) else 0
        try:
            m = st.proc.mmap(hint, span, PROT_ALL, mman.MAP_PRIVATE | mman.MAP_ANON)
            st.proc.mprotect(m, span, prot & 7)
        except OSError:
            return None
        st.ties.set(_trunc(tret), _trunc(tret) + span, m)
        self.counts["resyncs"] += 1
        return m

    def _touch_new(self, st, mstart, span, prot, flags, lin):
        if not prot & 3:
            return
        write = bool(prot & 2)
        self._touch(st, mstart, span // PAGE_SIZE, write)

    # -- range calls -----------------------------------------------------------------------------
    def _range(self, st, rec, notes, what, call):
        """Run `call(model_addr, length)` over the model runs of the trace range; returns the
        comparison tuple.  `call` returns a LinuxResult."""
        a = rec.args
        addr = a.get("addr") or 0
        length = a.get("length") or 0
        t_ok = rec.errno is None
        runs = None
        if t_ok and length:
            runs = self._runs(st, addr, length, notes, fill_gaps=True)
        if not runs:
            runs = [(addr, self._point(st, addr), length)]
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
        out = self._compare(rec, res, what, notes)
        return out + (notes, runs[0][1]), results

    def _do_munmap(self, st, rec, notes):
        out, _ = self._range(st, rec, notes, "munmap", st.abi.munmap)
        if rec.errno is None:
            a = rec.args
            st.ties.remove(_trunc(a["addr"]), _round(a["addr"] + a["length"]))
        return out

    def _do_mprotect(self, st, rec, notes):
        prot = rec.args.get("prot") or 0
        if rec.name == "pkey_mprotect":
            notes.append(f"pkey {rec.args.get('pkey')}: ignored (no protection keys in FreeBSD 7)")
        out, _ = self._range(st, rec, notes, "mprotect",
                             lambda m, n: st.abi.mprotect(m, n, prot))
        return out

    def _do_madvise(self, st, rec, notes):
        adv = rec.args.get("advice") or 0
        out, _ = self._range(st, rec, notes, "madvise", lambda m, n: st.abi.madvise(m, n, adv))
        return out

    def _do_minherit(self, st, rec, notes):
        inh = rec.args.get("inherit") or 0
        out, _ = self._range(st, rec, notes, "minherit",
                             lambda m, n: st.abi.minherit(m, n, inh))
        return out

    def _do_mincore(self, st, rec, notes):
        vec = rec.args.get("vec")
        if self.touch != "none" and rec.errno is None and isinstance(vec, list):
            runs = self._runs(st, rec.args["addr"], rec.args["length"], notes, fill_gaps=True)
            if runs:
                self._touch_evidence(st, rec, runs, vec)
        out, results = self._range(st, rec, notes, "mincore", st.abi.mincore)
        if isinstance(vec, list) and rec.errno is None and all(r.errno is None
                                                              for *_, r in results):
            got = b"".join((r.bsd or {}).get("vec", b"") for *_, r in results)
            tv = [v & 1 for v in vec]
            mv = [b & 1 for b in got[:len(tv)]]
            if tv != mv:
                diff = sum(1 for x, y in zip(tv, mv, strict=False) if x != y)
                notes.append(f"mincore: residency differs on {diff} of {len(tv)} pages")
        return out

    def _touch_evidence(self, st, rec, runs, vec):
        base = _trunc(rec.args["addr"])
        for ts, ms, ln in runs:
            first = (_trunc(ts) - base) // PAGE_SIZE
            for i in range(_round(ln + (ts & PAGE_MASK)) // PAGE_SIZE):
                j = first + i
                if j < len(vec) and vec[j] & 1:
                    self._touch(st, _trunc(ms) + i * PAGE_SIZE, 1, False)

    def _do_mlock(self, st, rec, notes):
        out, _ = self._range(st, rec, notes, "mlock", st.abi.mlock)
        return out

    def _do_mlock2(self, st, rec, notes):
        fl = rec.args.get("flags") or 0
        out, _ = self._range(st, rec, notes, "mlock", lambda m, n: st.abi.mlock2(m, n, fl))
        return out

    def _do_munlock(self, st, rec, notes):
        out, _ = self._range(st, rec, notes, "munlock", st.abi.munlock)
        return out

    def _do_msync(self, st, rec, notes):
        fl = rec.args.get("flags") or 0
        out, _ = self._range(st, rec, notes, "msync", lambda m, n: st.abi.msync(m, n, fl))
        return out

    def _do_mlockall(self, st, rec, notes):
        res = st.abi.mlockall(rec.args.get("flags") or 0)
        return self._compare(rec, res, "mlockall", notes) + (notes, None)

    def _do_munlockall(self, st, rec, notes):
        res = st.abi.munlockall()
        return self._compare(rec, res, "munlockall", notes) + (notes, None)

    # -- brk ---------------------------------------------------------------------------------------
    def _do_brk(self, st, rec, notes):
        """Linux brk: success is `ret == requested` (a query, brk(0), always succeeds)."""
        want = rec.args.get("addr") or 0
        tret = rec.ret
        if want and st.trace_brk is None:
            # the trace starts after the program's first brk: assume the break was here
            st.trace_brk0 = st.trace_brk = _trunc(min(want, tret))
            notes.append(f"brk: heap origin assumed at {st.trace_brk0:#x} (no brk(NULL) seen)")
        if not want:
            if st.trace_brk is not None and tret != st.trace_brk and st.origin != "exec":
                # a different break: this pid runs another image the trace did not show
                pid = rec.pid if rec.pid is not None else self.main_pid
                st = self._exec(st, pid, rec.abi, "brk(NULL) reported a new break")
                notes.append("exec: brk(NULL) reported a break unknown to this process: the "
                             "pid runs a new image (an exec the trace did not record)")
            if st.trace_brk0 is None or st.trace_brk is None:
                st.trace_brk0 = st.trace_brk = tret
            res = st.abi.brk(0)
            st.origin = "running"
            return "agree", _hx(tret), _hx(res.ret), None, notes, res.ret
        st.origin = "running"
        model_want = st.model_brk0 + (want - st.trace_brk0)
        if model_want < 0:
            model_want = 0
        res = st.abi.brk(model_want)
        t_ok = tret == want
        m_ok = res.ret == model_want
        tr, mr = _hx(tret), _hx(res.ret)
        if t_ok:
            old = st.trace_brk
            st.trace_brk = want
            if want > old:
                st.ties.set(st.trace_brk0, _round(want), st.model_brk0)
            elif want < old:
                st.ties.remove(_round(want), _round(old))
        if t_ok == m_ok:
            return "agree", tr, mr, None, notes, res.ret
        if t_ok:
            return ("disagree", tr, mr, f"brk-refused: brk: the trace's break moved to "
                    f"{want:#x}, the model's obreak refused ({res.why})", notes, res.ret)
        return ("disagree", tr, mr, "brk-accepted: brk: the trace's brk failed, the model's "
                "obreak succeeded", notes, res.ret)

    def _do_break(self, st, rec, notes):
        """FreeBSD break(nsize): 0 or an errno.  The trace has no break query, so the heap origin
        is taken from the first call."""
        want = rec.args.get("addr") or 0
        if st.trace_brk is None:
            st.trace_brk0 = st.trace_brk = _trunc(want)
            notes.append(f"break: heap origin assumed at {st.trace_brk0:#x} (kdump shows no "
                         "query of the break)")
        model_want = max(0, st.model_brk0 + (want - st.trace_brk0))
        res = st.abi.obreak(model_want)
        out = self._compare(rec, res, "break", notes)
        if rec.errno is None:
            old = st.trace_brk
            st.trace_brk = _round(want)
            if st.trace_brk > old:
                st.ties.set(old, st.trace_brk, st.model_brk0 + (old - st.trace_brk0))
            elif st.trace_brk < old:
                st.ties.remove(st.trace_brk, old)
        return out + (notes, model_want)

    # -- mremap --------------------------------------------------------------------------------
    def _do_mremap(self, st, rec, notes):
        a = rec.args
        addr = a.get("addr") or 0
        old = a.get("old_length") or 0
        new = a.get("new_length") or 0
        flags = a.get("flags") or 0
        new_addr = a.get("new_addr") or 0
        t_ok = rec.errno is None
        maddr = self._point(st, addr)
        if t_ok and old:
            runs = self._runs(st, addr, old, notes, fill_gaps=True)
            if runs:
                maddr = runs[0][1]
        mnew = self._point(st, new_addr) if flags & L.MREMAP_FIXED else new_addr
        res = st.abi.mremap(maddr, old, new, flags, mnew)
        out = self._compare(rec, res, "mremap", notes)
        r_old, r_new = _round(old), _round(new)
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
                self.counts["resyncs"] += 1
                notes.append(f"resync: the trace's {'moved' if tret != addr else 'grown'} "
                             f"mapping is followed by a fresh anonymous region at {m:#x} "
                             "(contents not carried over)")
            except OSError:
                pass
        return out + (notes, maddr)

    # -- summary -------------------------------------------------------------------------------
    def _summary(self, seq: int) -> dict:
        replayed = [o for o in self.outcomes if o.seq and o.status != "skipped"]
        agree = sum(1 for o in replayed if o.status == "agree")
        dis = [o for o in replayed if o.status == "disagree"]
        by_reason = Counter(o.reason_class for o in dis)
        examples: dict = {}
        for o in dis:
            ex = examples.setdefault(o.reason_class, [])
            if len(ex) < 3:
                ex.append(dict(line=o.rec.lineno, call=o.call_text(), reason=o.reason))
        skipped = Counter(o.reason.split(":", 1)[0] for o in self.outcomes
                          if o.status == "skipped")
        by_call: Counter[str] = Counter()
        by_call_agree: Counter[str] = Counter()
        for o in replayed:
            by_call[o.rec.name] += 1
            if o.status == "agree":
                by_call_agree[o.rec.name] += 1
        vs = self.k.vmstat()
        return dict(
            calls_replayed=len(replayed), agreements=agree, disagreements=len(dis),
            agreement_rate=(agree / len(replayed)) if replayed else 1.0,
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


def replay(kernel, records, **kw) -> ReplayResult:
    return Replayer(kernel, records, **kw).run()


# -- the `bsdvm replay` command's body ------------------------------------------------------------

def _entry_dict(e) -> dict:
    return dict(start=e.start, end=e.end, prot=e.prot, max_prot=e.max_prot,
                inheritance=e.inheritance, wired_count=e.wired_count, flags=sorted(e.flags),
                object_type=e.object_type, offset=e.offset, path=e.path, resident=e.resident,
                private_resident=e.private_resident, ref_count=e.ref_count,
                shadow_count=e.shadow_count)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def run_cli(trace_path, *, arch, physmem, swap, root, as_json, fmt="auto", uid=0,
            touch="evidence", report_path=None, limit=40, all_calls=False, console=None) -> int:
    """Parse, replay, print (text or JSON) and optionally write the HTML report.  Returns the exit
    status."""
    import json as json_mod

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
        TimeElapsedColumn
    from rich.table import Table

    from .. import Kernel
    from ..report import vmstat_diff
    from .trace import parse_file

    con = console or Console()
    err = Console(stderr=True)
    records = parse_file(trace_path, fmt)
    with Kernel(arch=arch, physmem=physmem, swap=swap, root=root) as k:
        before = k.vmstat()
        show = not as_json and len(records) >= 5000
        if show:
            with Progress(TextColumn("replaying"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err, transient=True) as prog:
                task = prog.add_task("replay", total=len(records))
                res = Replayer(k, records, uid=uid, touch=touch,
                               progress=lambda i, n: prog.update(task, completed=i)).run()
        else:
            res = Replayer(k, records, uid=uid, touch=touch).run()
        after = k.vmstat()
        moved = vmstat_diff(before, after)
        s = res.summary
        s["trace"] = os.fspath(trace_path)
        s["records"] = len(records)
        s["arch"] = k.arch.name
        if report_path:
            from .report import write_report
            write_report(res, report_path, title=os.path.basename(os.fspath(trace_path)),
                         arch=k.arch.name)
        if as_json:
            out = res.to_json(all_calls=True)
            out["final_maps"] = {str(pid): [_entry_dict(e) for e in ents]
                                 for pid, ents in res.final_maps.items()}
            out["vmstat_moved"] = {n: list(v) for n, v in moved.items()}
            if report_path:
                out["report"] = os.fspath(report_path)
            print(json_mod.dumps(out, indent=1, default=str))
            return 0
        t = Table(title=f"replay of {os.fspath(trace_path)}", show_header=False)
        t.add_column("what")
        t.add_column("value", justify="right")
        rows = [
            ("records parsed", s["records"]),
            ("memory calls replayed", s["calls_replayed"]),
            ("agreements", s["agreements"]),
            ("disagreements", s["disagreements"]),
            ("agreement rate", f"{100 * s['agreement_rate']:.2f} %"),
            ("skipped", sum(s["skipped"].values())),
            ("model processes (spawn/fork/exec)", s["model_processes"]),
            ("forks inferred / execs", f"{s['inferred_forks']} / {s['execs']}"),
            ("stand-in regions / stand-in files", f"{s['standins']} / {s['standin_files']}"),
            ("host files copied", s["files_copied"]),
            ("relocated MAP_FIXED / split calls / resyncs",
             f"{s['relocated']} / {s['split_calls']} / {s['resyncs']}"),
            ("peak mapped", _size(s["peak_mapped"])),
            ("peak resident", _size(s["peak_resident"])),
            ("peak wired", _size(s["peak_wired"])),
        ]
        for a, b in rows:
            t.add_row(a, str(b))
        con.print(t)
        if s["disagreements_by_reason"]:
            t = Table(title="disagreements by reason")
            t.add_column("reason")
            t.add_column("calls", justify="right")
            t.add_column("example")
            for cls, n in s["disagreements_by_reason"].items():
                ex = s["disagreement_examples"].get(cls, [{}])[0]
                t.add_row(cls, str(n), f"line {ex.get('line')}: {ex.get('reason', '')}")
            con.print(t)
        if s["skipped"]:
            t = Table(title="skipped")
            t.add_column("reason")
            t.add_column("calls", justify="right")
            for cls, n in s["skipped"].items():
                t.add_row(cls, str(n))
            con.print(t)
        call_rows = [o for o in res.outcomes if all_calls or o.status == "disagree"]
        if call_rows:
            t = Table(title="calls" if all_calls else
                      f"disagreements (first {min(limit, len(call_rows))} of {len(call_rows)})")
            for col in ("line", "pid", "call", "trace", "model", "status", "reason"):
                t.add_column(col, overflow="fold")
            for o in call_rows if all_calls else call_rows[:limit]:
                t.add_row(str(o.rec.lineno), str(o.rec.pid), o.call_text(), o.trace, o.model,
                          o.status, o.reason or "; ".join(o.notes[:2]))
            con.print(t)
        if s["notes_by_kind"]:
            t = Table(title="Linux bits not honoured, emulations and stand-ins (notes)")
            t.add_column("note")
            t.add_column("calls", justify="right")
            for nm, n in s["notes_by_kind"].items():
                t.add_row(nm, str(n))
            con.print(t)
        main = res.main_pid
        if main in res.final_procstat:
            con.print(f"[bold]final procstat -v of traced pid {main}[/]")
            con.print(res.final_procstat[main], highlight=False, markup=False)
        t = Table(title="vmstat counters that moved")
        t.add_column("counter")
        t.add_column("before", justify="right")
        t.add_column("after", justify="right")
        for name, (old, new) in sorted(moved.items()):
            t.add_row(name, str(old), str(new))
        con.print(t)
        if report_path:
            con.print(f"report written to {report_path}")
    return 0
