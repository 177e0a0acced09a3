"""Differential testing against the host kernel.

Random call sequences on the POSIX-common subset of the mapping calls — anonymous private and shared
mmap with and without MAP_FIXED inside a reserved region, file mappings (shared and private) of a file,
munmap, mprotect, madvise (NORMAL, RANDOM, SEQUENTIAL, WILLNEED, DONTNEED), mincore (residency bit),
msync, mlock/munlock when the tests run as root, memory reads and writes, pread/pwrite of the file — run
both on the host kernel (Linux: libc through ctypes, in a forked child that reports JSON over a pipe,
with Linux's flag values; memory is accessed with process_vm_readv/writev on the child itself, which
answer EFAULT where a load or store would fault) and on bsdvm (FreeBSD values).  Success or errno, the
bytes read back, the residency bits and the file at the end must agree.  Addresses are relocated: each
side's first mmap makes a reservation and every other address is an offset in it.

The differences FreeBSD 7 has by design are listed, with the spec rule behind each, in ONE table:
bsdvm.compat.differences, from which docs/differences.md is generated.  KNOWN below is the set of its
rows this test generates (the test checks the document is not stale); a difference outside it fails the
test.  Where a tolerated difference leaves the two systems in different states, the test brings bsdvm
to the host's state (the table's "resync" column) or stops comparing the bytes concerned.

A small model of the host's state (Shadow) drives the generator (so that, e.g., no mlock is generated
over PROT_NONE memory, see the table's "not generated" note) and predicts the host's errno; the host's
actual answer must equal the prediction, which keeps the classification of differences honest.
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bsdvm import Kernel, MemoryFault, mman
from bsdvm.compat.differences import DIFFERENCES, differential_ids, render_markdown

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the differential test runs against a Linux host kernel")

PG = 4096
NPAGES = 32                         # the reservation
FILE_PAGES = 8                      # the file's size
HINT = 0x200000000000               # where the host child puts its reservation: far below mmap_base,
                                    # so nothing the child's Python allocates can land in its holes
ROOT = os.geteuid() == 0
DOC = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "differences.md")

# Linux (x86-64 / generic) values
L_MAP_SHARED, L_MAP_PRIVATE, L_MAP_FIXED, L_MAP_ANON = 0x01, 0x02, 0x10, 0x20
L_MS = {"sync": 4, "async": 1, "sync_inv": 4 | 2}
# FreeBSD values
F_MS = {"sync": mman.MS_SYNC, "async": mman.MS_ASYNC, "sync_inv": mman.MS_SYNC | mman.MS_INVALIDATE}
PROTS = (mman.PROT_NONE, mman.PROT_READ, mman.PROT_READ | mman.PROT_WRITE)
ADVICE = (mman.MADV_NORMAL, mman.MADV_RANDOM, mman.MADV_SEQUENTIAL, mman.MADV_WILLNEED,
          mman.MADV_DONTNEED)              # the same numbers on Linux
KINDS = ("ap", "as", "fs", "fp")          # anon private/shared, file shared/private

# the differences this test tolerates: the rows of the one rule table that it generates (docs/differences.md
# is generated from the same table; test_differences_table_matches_doc checks it is not stale)
KNOWN = differential_ids()

STATS = {"sequences": 0, "calls": 0, "host_calls": 0, "resync_calls": 0, "tolerated": Counter()}


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    tol = ", ".join(f"{k}={v}" for k, v in sorted(STATS["tolerated"].items()))
    print(f"\n[test_differential] sequences: {STATS['sequences']}, calls: {STATS['calls']} on "
          f"bsdvm and {STATS['host_calls']} on the host (+{STATS['resync_calls']} resync calls); "
          f"tolerated differences: {tol or 'none'}")


def file_bytes() -> bytes:
    return bytes((i * 7 + i // PG * 3) & 0xFF for i in range(FILE_PAGES * PG))


def data_for(seed: int, n: int) -> bytes:
    return bytes((seed * 131 + i * 13 + 1) & 0xFF for i in range(n))


# -- the host side: a forked child driving libc through ctypes -------------------------------------

class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    vp, sz, ci = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int
    libc.mmap.restype = vp
    libc.mmap.argtypes = [vp, sz, ci, ci, ci, ctypes.c_long]
    for name in ("munmap", "mlock", "munlock"):
        getattr(libc, name).argtypes = [vp, sz]
    for name in ("mprotect", "madvise", "msync"):
        getattr(libc, name).argtypes = [vp, sz, ci]
    libc.mincore.argtypes = [vp, sz, vp]
    for name in ("process_vm_readv", "process_vm_writev"):
        fn = getattr(libc, name)
        fn.argtypes = [ci, ctypes.POINTER(_Iovec), ctypes.c_ulong, ctypes.POINTER(_Iovec),
                       ctypes.c_ulong, ctypes.c_ulong]
        fn.restype = ctypes.c_ssize_t
    return libc


def _host_sequence(ops, path):
    """Runs in the child: returns one result per op, then the file's bytes."""
    libc = _libc()
    pid = os.getpid()
    MAP_FAILED = (1 << 64) - 1

    def err(r):
        return 0 if r == 0 else ctypes.get_errno()

    fd = os.open(path, os.O_RDWR)
    base = libc.mmap(HINT, NPAGES * PG, 0, L_MAP_PRIVATE | L_MAP_ANON, -1, 0)
    if base != HINT:
        raise RuntimeError(f"host reservation landed at {base:#x}")
    out = []
    for op in ops:
        name = op[0]
        if name == "mmap":
            _, off, n, prot, kind, fixed, foff = op
            flags = (L_MAP_SHARED if kind in ("as", "fs") else L_MAP_PRIVATE)
            flags |= L_MAP_ANON if kind in ("ap", "as") else 0
            flags |= L_MAP_FIXED if fixed else 0
            filed = kind in ("fs", "fp")
            want = base + off * PG
            r = libc.mmap(want, n * PG, prot, flags, fd if filed else -1, foff * PG if filed else 0)
            if r is None or r == MAP_FAILED:
                out.append({"e": ctypes.get_errno()})
            elif fixed:
                out.append({"e": 0, "at": (r - base) // PG})
            else:
                if r != want:
                    libc.munmap(r, n * PG)
                out.append({"e": 0, "hint": r == want})
        elif name == "munmap":
            out.append({"e": err(libc.munmap(base + op[1] * PG, op[2] * PG))})
        elif name == "mprotect":
            _, off, n, prot, unal = op
            out.append({"e": err(libc.mprotect(base + off * PG + unal, n * PG, prot))})
        elif name == "madvise":
            _, off, n, adv, unal = op
            out.append({"e": err(libc.madvise(base + off * PG + unal, n * PG, adv))})
        elif name == "msync":
            _, off, n, fl, unal = op
            out.append({"e": err(libc.msync(base + off * PG + unal, n * PG, L_MS[fl]))})
        elif name == "mincore":
            _, off, n, unal = op
            vec = (ctypes.c_ubyte * max(n, 1))()
            e = err(libc.mincore(base + off * PG + unal, n * PG, vec))
            out.append({"e": e, "v": [b & 1 for b in vec[:n]] if e == 0 else None})
        elif name in ("mlock", "munlock"):
            out.append({"e": err(getattr(libc, name)(base + op[1] * PG, op[2] * PG))})
        elif name == "read":
            _, boff, n = op
            buf = ctypes.create_string_buffer(n)
            loc, rem = _Iovec(ctypes.addressof(buf), n), _Iovec(base + boff, n)
            r = libc.process_vm_readv(pid, ctypes.byref(loc), 1, ctypes.byref(rem), 1, 0)
            out.append({"e": 0, "v": buf.raw.hex() if r == n else "fault"})
        elif name == "write":
            _, boff, seed, n = op
            buf = ctypes.create_string_buffer(data_for(seed, n), n)
            loc, rem = _Iovec(ctypes.addressof(buf), n), _Iovec(base + boff, n)
            r = libc.process_vm_writev(pid, ctypes.byref(loc), 1, ctypes.byref(rem), 1, 0)
            out.append({"e": 0, "v": "ok" if r == n else "fault"})
        elif name == "pread":
            out.append({"e": 0, "v": os.pread(fd, op[2], op[1]).hex()})
        elif name == "pwrite":
            _, foff, seed, n = op
            out.append({"e": 0, "v": os.pwrite(fd, data_for(seed, n), foff)})
        else:
            raise ValueError(name)
    final = os.pread(fd, FILE_PAGES * PG + PG, 0).hex()
    return out, final


def run_on_host(ops, tmp_dir, timeout=30.0):
    path = os.path.join(tmp_dir, "host.bin")
    with open(path, "wb") as f:
        f.write(file_bytes())
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                    # the child: never returns into pytest
        code = 0
        try:
            os.close(r)
            res = _host_sequence(ops, path)
            payload = json.dumps({"ok": res}).encode()
        except BaseException as e:                  # noqa: BLE001
            payload = json.dumps({"error": repr(e)}).encode()
            code = 1
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(w, view):]
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    deadline = time.monotonic() + timeout
    os.set_blocking(r, False)
    while True:
        try:
            chunk = os.read(r, 1 << 16)
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                os.close(r)
                pytest.fail("host child timed out")
            time.sleep(0.001)
            continue
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    data = b"".join(chunks)
    if not data:
        pytest.fail(f"host child died (status {status:#x}) running {ops!r}")
    msg = json.loads(data)
    if "error" in msg:
        pytest.fail(f"host child failed: {msg['error']}")
    out, final = msg["ok"]
    STATS["host_calls"] += len(ops)
    return out, bytes.fromhex(final)


# -- a model of the host's state: drives generation, predicts the host's errno ---------------------

@dataclass
class Page:
    kind: str
    prot: int
    fpage: int | None = None        # the file page shown here (file kinds)
    locked: bool = False
    wcow: bool = False              # locked while a private file page without WRITE (MAP-45)
    dvg: bool = False               # bytes may legitimately differ (DONTNEED, WIRED-COW-WRITE)
    rdvg: bool = False              # residency may legitimately differ (MLOCK-HOLE)

    @property
    def beyond_eof(self) -> bool:
        return self.fpage is not None and self.fpage >= FILE_PAGES

    @property
    def private(self) -> bool:
        return self.kind in ("ap", "fp")


class Shadow:
    """The host's (Linux's) view of the reservation, one entry per page."""

    def __init__(self):
        self.pages: list[Page | None] = [Page("ap", mman.PROT_NONE) for _ in range(NPAGES)]

    def rng(self, off, n):
        return range(off, min(off + n, NPAGES))

    def holes(self, off, n) -> bool:
        return any(self.pages[i] is None for i in self.rng(off, n)) or off + n > NPAGES

    def prefix(self, off, n):
        """The mapped run at the start of [off, off + n): what Linux changes before ENOMEM."""
        out = []
        for i in self.rng(off, n):
            if self.pages[i] is None:
                break
            out.append(i)
        return out

    def predict(self, op):
        """The host's errno for op, applying its effect to the model."""
        name = op[0]
        P = self.pages
        if name == "mmap":
            _, off, n, prot, kind, fixed, foff = op
            if n == 0:
                return errno.EINVAL
            if fixed or all(P[i] is None for i in self.rng(off, n)):
                for j, i in enumerate(self.rng(off, n)):
                    P[i] = Page(kind, prot, foff + j if kind in ("fs", "fp") else None)
            return 0
        if name == "munmap":
            _, off, n = op
            if n == 0:
                return errno.EINVAL
            for i in self.rng(off, n):
                P[i] = None
            return 0
        if name == "mprotect":
            _, off, n, prot, unal = op
            if unal:
                return errno.EINVAL
            if n == 0:
                return 0
            pre = self.prefix(off, n)
            for i in pre:
                P[i].prot = prot
            return errno.ENOMEM if self.holes(off, n) else 0
        if name == "madvise":
            _, off, n, adv, unal = op
            if unal:
                return errno.EINVAL
            if n == 0:
                return 0
            mapped = [i for i in self.rng(off, n) if P[i] is not None]
            if adv == mman.MADV_DONTNEED:
                for i in mapped:
                    if P[i].private:
                        P[i].dvg = P[i].rdvg = True
                if any(P[i].locked for i in mapped):
                    return errno.EINVAL
            if not mapped:
                return errno.ENOMEM
            return errno.ENOMEM if self.holes(off, n) else 0
        if name == "mincore":
            _, off, n, unal = op
            if unal:
                return errno.EINVAL
            return errno.ENOMEM if n and self.holes(off, n) else 0
        if name == "msync":
            _, off, n, fl, unal = op
            if unal:
                return errno.EINVAL
            if n == 0:
                return 0
            if fl == "sync_inv" and any(P[i] is not None and P[i].locked for i in self.rng(off, n)):
                return None                         # EBUSY or ENOMEM, by VMA order
            return None if self.holes(off, n) else 0  # Linux's hole answers vary (0 or ENOMEM)
        if name in ("mlock", "munlock"):
            _, off, n = op
            if n == 0:
                return 0
            for i in self.prefix(off, n):
                lock = name == "mlock"
                if lock and not P[i].locked and P[i].kind == "fp" \
                        and not P[i].prot & mman.PROT_WRITE:
                    P[i].wcow = True
                if not lock:
                    P[i].wcow = False
                P[i].locked = lock
            return errno.ENOMEM if self.holes(off, n) else 0
        return 0

    def mlock_allowed(self, off, n) -> bool:
        """See docs/differences.md, "not generated"."""
        return all(p is None or (p.prot & mman.PROT_READ and not p.beyond_eof)
                   for p in (self.pages[i] for i in self.rng(off, n)))


def generate(seed: int, length: int):
    r = random.Random(seed)
    sh = Shadow()
    ops = []
    names = ["mmap"] * 10 + ["mmapnf"] * 2 + ["munmap"] * 5 + ["mprotect"] * 6 + ["madvise"] * 5 + \
        ["mincore"] * 5 + ["msync"] * 3 + ["read"] * 7 + ["write"] * 7 + ["pread", "pwrite"] + \
        (["mlock"] * 3 + ["munlock"] * 2 if ROOT else [])
    while len(ops) < length:
        name = r.choice(names)
        n = 0 if r.random() < 0.04 else r.randint(1, 8 if r.random() < 0.8 else 14)
        off = r.randint(0, NPAGES - max(n, 1))
        unal = 1 if r.random() < 0.08 else 0
        if name in ("mmap", "mmapnf"):
            kind = r.choice(KINDS)
            foff = r.randint(0, FILE_PAGES + 1) if kind in ("fs", "fp") else 0
            op = ["mmap", off, n, r.choice(PROTS), kind, name == "mmap", foff]
        elif name == "munmap":
            op = ["munmap", off, n]
        elif name == "mprotect":
            op = ["mprotect", off, n, r.choice(PROTS), unal]
        elif name == "madvise":
            op = ["madvise", off, n, r.choice(ADVICE), unal]
        elif name == "mincore":
            op = ["mincore", off, n, unal]
        elif name == "msync":
            op = ["msync", off, n, r.choice(list(L_MS)), unal]
        elif name in ("mlock", "munlock"):
            if name == "mlock" and not sh.mlock_allowed(off, n):
                continue
            op = [name, off, n]
        elif name == "read":
            boff = r.randint(0, NPAGES * PG - 1)
            op = ["read", boff, r.randint(1, min(2 * PG, NPAGES * PG - boff))]
        elif name == "write":
            page = r.randrange(NPAGES)
            if r.random() < 0.3:
                o, m = 0, PG
            else:
                o = r.randrange(PG)
                m = r.randint(1, PG - o)
            op = ["write", page * PG + o, r.randrange(1 << 16), m]
        elif name == "pread":
            foff = r.randrange(FILE_PAGES * PG)
            op = ["pread", foff, r.randint(1, min(2 * PG, FILE_PAGES * PG - foff))]
        else:
            foff = r.randrange(FILE_PAGES * PG)
            op = ["pwrite", foff, r.randrange(1 << 16), r.randint(1, min(PG, FILE_PAGES * PG - foff))]
        sh.predict(op)
        ops.append(op)
    return ops


# -- the bsdvm side ---------------------------------------------------------------------------------

class BsdSide:
    def __init__(self):
        self.k = Kernel(physmem="64M", swap="64M")
        self.p = self.k.spawn(uid=0 if ROOT else 1000, gid=0 if ROOT else 1000)
        self.fd = self.p.open("/f.bin", os.O_RDWR | os.O_CREAT, 0o644)
        self.p.write(self.fd, file_bytes())
        self.base = self.p.mmap(0, NPAGES * PG, mman.PROT_NONE, mman.MAP_ANON | mman.MAP_PRIVATE)

    def call(self, fn, *args):
        STATS["calls"] += 1
        try:
            return 0, fn(*args)
        except OSError as e:
            return e.errno, None

    def run(self, op):
        p, base = self.p, self.base
        name = op[0]
        if name == "mmap":
            _, off, n, prot, kind, fixed, foff = op
            flags = mman.MAP_SHARED if kind in ("as", "fs") else mman.MAP_PRIVATE
            flags |= mman.MAP_ANON if kind in ("ap", "as") else 0
            flags |= mman.MAP_FIXED if fixed else 0
            filed = kind in ("fs", "fp")
            want = base + off * PG
            e, a = self.call(p.mmap, want, n * PG, prot, flags, self.fd if filed else -1,
                             foff * PG if filed else 0)
            if e:
                return {"e": e}
            if fixed:
                return {"e": 0, "at": (a - base) // PG}
            if a != want and n:
                p.munmap(a, n * PG)
            return {"e": 0, "hint": a == want}
        if name == "munmap":
            return {"e": self.call(p.munmap, base + op[1] * PG, op[2] * PG)[0]}
        if name == "mprotect":
            _, off, n, prot, unal = op
            return {"e": self.call(p.mprotect, base + off * PG + unal, n * PG, prot)[0]}
        if name == "madvise":
            _, off, n, adv, unal = op
            return {"e": self.call(p.madvise, base + off * PG + unal, n * PG, adv)[0]}
        if name == "msync":
            _, off, n, fl, unal = op
            return {"e": self.call(p.msync, base + off * PG + unal, n * PG, F_MS[fl])[0]}
        if name == "mincore":
            _, off, n, unal = op
            e, v = self.call(p.mincore, base + off * PG + unal, n * PG)
            return {"e": e, "v": [b & mman.MINCORE_INCORE for b in v] if e == 0 else None}
        if name in ("mlock", "munlock"):
            return {"e": self.call(getattr(p, name), base + op[1] * PG, op[2] * PG)[0]}
        if name == "read":
            STATS["calls"] += 1
            try:
                return {"e": 0, "v": p.mem_read(base + op[1], op[2]).hex()}
            except MemoryFault:
                return {"e": 0, "v": "fault"}
        if name == "write":
            STATS["calls"] += 1
            try:
                p.mem_write(base + op[1], data_for(op[2], op[3]))
                return {"e": 0, "v": "ok"}
            except MemoryFault:
                return {"e": 0, "v": "fault"}
        if name == "pread":
            STATS["calls"] += 1
            return {"e": 0, "v": p.pread(self.fd, op[2], op[1]).hex()}
        if name == "pwrite":
            STATS["calls"] += 1
            return {"e": 0, "v": p.pwrite(self.fd, data_for(op[2], op[3]), op[1])}
        raise ValueError(name)

    # resync helpers: bring bsdvm to the host's state after a tolerated difference
    def resync(self, name, page, n, *extra):
        STATS["resync_calls"] += 1
        getattr(self.p, name)(self.base + page * PG, n * PG, *extra)

    def finish(self) -> bytes:
        self.p.exit()                               # writes every dirty shared page back
        self.k.check_invariants()
        from bsdvm.vm.invariants import check_quiescent
        check_quiescent(self.k)
        with open(os.path.join(self.k.root, "f.bin"), "rb") as f:
            data = f.read()
        self.k.close()
        return data


def freebsd_mincore_sources(maps, first, n):
    """For each vector index: ("page", i) when FreeBSD 7's mincore stores page i's residency there,
    or "zero" when its MIN-7/8 fill (or bsdvm's fresh vector, for the byte it leaves unwritten)
    leaves 0.  Walks bsdvm's entries exactly as the seed does (MIN-4..8)."""
    src = ["zero"] * n
    end = first + n * PG
    addr = first
    last = -1
    entries = [e for e in maps if e.end > first and e.start < end]
    for e in entries:
        if e.object_type is None:                   # MIN-5: no object, no write of its own
            continue
        addr = max(addr, e.start)
        cend = min(e.end, end)
        while addr < cend:
            vi = (addr - first) // PG
            while last + 1 < vi:
                if last >= 0:
                    src[last] = "zero"
                last += 1
            src[vi] = ("page", vi)
            last = vi
            addr += PG
    vi = n
    while last + 1 < vi:
        if last >= 0:
            src[last] = "zero"
        last += 1
    return src


# -- the comparison -----------------------------------------------------------------------------------

class Mismatch(AssertionError):
    pass


def tolerate(what: str):
    assert what in KNOWN, what
    STATS["tolerated"][what] += 1


def compare_sequence(ops, host, host_final):
    bsd = BsdSide()
    sh = Shadow()
    log = []
    try:
        for op, h in zip(ops, host):  # noqa: B905 (the host log may end early)
            maps_before = bsd.p.maps() if op[0] == "mincore" else None
            before = [replace(p) if p else None for p in sh.pages]
            b = bsd.run(op)
            log.append((op, h, b))
            predicted = sh.predict(op)
            if predicted is not None:
                assert h["e"] == predicted, ("the model of the host is wrong", op, h, predicted)
            _compare_op(op, h, b, before, sh, bsd, maps_before)
        bsd_final = bsd.finish()
    except AssertionError as e:
        steps = "\n".join(f"  {o!r}: host {h} bsdvm {b}" for o, h, b in log[-12:])
        raise Mismatch(f"{e}\nlast steps:\n{steps}") from None
    assert bsd_final == host_final[:len(bsd_final)] and len(bsd_final) == FILE_PAGES * PG, \
        "the file differs at the end"
    STATS["sequences"] += 1


def _eq(h, b, op):
    if h != b and isinstance(h, str) and isinstance(b, str) and len(h) > 80:
        i = next(i for i in range(min(len(h), len(b))) if h[i] != b[i]) if h[:len(b)] != b[:len(h)] \
            else min(len(h), len(b))
        raise AssertionError((op, f"bytes differ from byte {i // 2}", "host", h[i:i + 40],
                              "bsdvm", b[i:i + 40]))
    assert h == b, (op, "host", h, "bsdvm", b)


def _compare_op(op, h, b, before, sh, bsd, maps_before):
    name = op[0]
    he, be = h["e"], b["e"]
    if name == "mmap":
        _, off, n, prot, kind, fixed, foff = op
        if n == 0:
            assert (he, be) == (errno.EINVAL, 0), (op, h, b)
            tolerate("MMAP-LEN0")
            return
        _eq(h, b, op)
        if not fixed and not h["hint"]:
            tolerate("HINT-PLACEMENT")
        return
    if name == "munmap":
        _, off, n = op
        if n and any(p is None for p in before[off:off + n]):
            assert (he, be) == (0, errno.EINVAL), (op, h, b)
            tolerate("MUNMAP-HOLE")
            for i in range(off, off + n):       # resync: unmap what Linux unmapped
                if before[i] is not None:
                    bsd.resync("munmap", i, 1)
            return
        _eq(h, b, op)
        return
    if name == "mprotect":
        _, off, n, prot, unal = op
        if unal:
            assert he == errno.EINVAL and be == 0, (op, h, b)
            tolerate("UNALIGNED")
            keep = range(off, min(off + n + 1, NPAGES))
        elif n and any(p is None for p in before[off:off + n]):
            assert (he, be) == (errno.ENOMEM, 0), (op, h, b)
            tolerate("MPROTECT-HOLE")
            pre = set(Shadow.prefix(_shadow_of(before), off, n))
            keep = [i for i in range(off, off + n) if i not in pre]
        else:
            _eq(h, b, op)
            return
        for i in keep:                          # resync: what Linux left alone
            if before[i] is not None:
                bsd.resync("mprotect", i, 1, before[i].prot)
        return
    if name == "madvise":
        _, off, n, adv, unal = op
        if unal:
            assert he == errno.EINVAL and be == 0, (op, h, b)
            tolerate("UNALIGNED")
            return
        if adv == mman.MADV_DONTNEED and any(p and p.private for p in before[off:off + n]):
            tolerate("DONTNEED")
        if he == errno.EINVAL and adv == mman.MADV_DONTNEED and \
                any(p and p.locked for p in before[off:off + n]):
            assert be == 0, (op, h, b)
            tolerate("DONTNEED-LOCKED")
            return
        if n and any(p is None for p in before[off:off + n]):
            assert (he, be) == (errno.ENOMEM, 0), (op, h, b)
            tolerate("MADVISE-HOLE")
            return
        _eq(h, b, op)
        return
    if name == "msync":
        _, off, n, fl, unal = op
        if unal:
            assert he == errno.EINVAL and be in (0, errno.EINVAL, errno.EBUSY), (op, h, b)
            tolerate("UNALIGNED")
            return
        if n == 0:
            assert he == 0, (op, h)
            if be:
                assert be in (errno.EINVAL, errno.EBUSY), (op, h, b)
                tolerate("MSYNC-LEN0")
            return
        if any(p is None for p in before[off:off + n]):
            assert he in (0, errno.ENOMEM, errno.EBUSY) and be in (errno.EINVAL, errno.EBUSY), \
                (op, h, b)
            if (he, be) != (errno.EBUSY, errno.EBUSY):
                tolerate("MSYNC-HOLE")
            return
        _eq(h, b, op)
        return
    if name == "mincore":
        _, off, n, unal = op
        if unal:
            assert he == errno.EINVAL and be in (0, errno.ENOMEM), (op, h, b)
            tolerate("UNALIGNED")
            return
        if n == 0 and before[off] is None:
            assert (he, be) == (0, errno.ENOMEM), (op, h, b)
            tolerate("MINCORE-LEN0")
            return
        assert he == be, (op, h, b)
        if he:
            return
        first = bsd.base + off * PG
        for vi, src in enumerate(freebsd_mincore_sources(maps_before, first, n)):
            hv, bv = h["v"][vi], b["v"][vi]
            if src == "zero":
                assert bv == 0, (op, vi, h, b)
                if hv:
                    tolerate("MINCORE-FILL")
                continue
            pg = before[off + vi]
            if pg.kind in ("fs", "fp"):
                if hv != bv:
                    tolerate("MINCORE-FILE")
                continue
            if pg.dvg or pg.rdvg:
                continue
            assert hv == bv, ("residency", op, vi, h, b)
        return
    if name in ("mlock", "munlock"):
        _, off, n = op
        if n == 0:
            if before[off] is None:
                assert (he, be) == (0, errno.ENOMEM), (op, h, b)
                tolerate("MLOCK-LEN0")
                return
            _eq(h, b, op)
            return
        _eq(h, b, op)
        if he:                                  # a hole: Linux changed the mapped run before it
            tolerate("MLOCK-HOLE")
            pre = Shadow.prefix(_shadow_of(before), off, n)
            if pre:
                bsd.resync(name, pre[0], len(pre))
            for i in range(off, min(off + n, NPAGES)):
                if sh.pages[i] is not None:
                    sh.pages[i].rdvg = True    # FreeBSD faulted them in, Linux did not
        return
    if name == "read":
        _, boff, n = op
        pages = range(boff // PG, (boff + n - 1) // PG + 1)
        if any(before[i] is not None and before[i].dvg for i in pages):
            return
        if h["v"] != b["v"] and "fault" in (h["v"], b["v"]):
            raise AssertionError(("one side faulted", op, h["v"][:40], b["v"][:40]))
        _eq(h["v"], b["v"], op)
        if h["v"] == "fault" and any(before[i] is not None and before[i].beyond_eof for i in pages):
            tolerate("FAULT-SIGNAL")            # SIGBUS on Linux, SIGSEGV on FreeBSD 7
        if h["v"] != "fault":
            for i in pages:
                if sh.pages[i] is not None:
                    sh.pages[i].rdvg = False
        return
    if name == "write":
        _, boff, seed, n = op
        i = boff // PG
        pg = before[i]
        if pg is not None and pg.wcow and pg.locked and pg.prot & mman.PROT_WRITE:
            assert (h["v"], b["v"]) == ("ok", "fault"), (op, h, b)
            tolerate("WIRED-COW-WRITE")
            sh.pages[i].dvg = True
            return
        _eq(h["v"], b["v"], op)
        if h["v"] == "ok" and sh.pages[i] is not None:
            sh.pages[i].rdvg = False
            if n == PG:
                sh.pages[i].dvg = False
        return
    if name in ("pread", "pwrite"):
        _eq(h["v"], b["v"], op)
        return
    raise ValueError(name)


def _shadow_of(pages):
    s = Shadow.__new__(Shadow)
    s.pages = pages
    return s


# -- the tests ----------------------------------------------------------------------------------------

def test_differences_table_matches_doc():
    with open(DOC) as f:
        text = f.read()
    ids = set(re.findall(r"^\| ([A-Z][A-Z0-9-]+) \|", text, re.M))
    assert ids == {d.id for d in DIFFERENCES}, (ids ^ {d.id for d in DIFFERENCES})
    assert KNOWN <= ids and KNOWN
    assert text == render_markdown(), "docs/differences.md is stale: python -m bsdvm.compat.differences"


N_SEQ = max(400, settings.default.max_examples * 2)


@settings(max_examples=N_SEQ, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2 ** 32 - 1), length=st.integers(5, 40))
def test_random_sequences_agree_with_host(tmp_path_factory, seed, length):
    ops = generate(seed, length)
    host, final = run_on_host(ops, str(tmp_path_factory.mktemp("host")))
    compare_sequence(ops, host, final)


def test_targeted_sequences():
    """Hand-written sequences that pass through every tolerated difference at least once."""
    P = PG
    seqs = [
        [["mmap", 0, 4, 3, "ap", True, 0], ["write", 0, 1, P], ["munmap", 2, 1],
         ["munmap", 1, 3], ["mprotect", 0, 4, 1, 0], ["read", 0, 2 * P], ["munmap", 0, 32]],
        [["mmap", 0, 4, 3, "ap", True, 0], ["munmap", 2, 1], ["madvise", 0, 4, 0, 0],
         ["msync", 0, 4, "sync", 0], ["msync", 2, 0, "sync", 0], ["mincore", 2, 0, 0],
         ["mincore", 0, 2, 1], ["mprotect", 0, 2, 1, 1], ["write", 0, 2, 10], ["read", 0, 10],
         ["madvise", 1, 1, 4, 1]],
        [["mmap", 0, 4, 3, "ap", True, 0], ["write", 0, 3, P], ["madvise", 0, 4, 4, 0],
         ["read", 0, 16], ["mincore", 0, 4, 0], ["write", 0, 4, P], ["read", 0, 16]],
        [["mmap", 0, 0, 3, "ap", True, 0], ["mmap", 5, 2, 3, "ap", False, 0],
         ["mmap", 5, 2, 3, "ap", False, 0]],
        [["mmap", 0, 2, 3, "ap", True, 0], ["mmap", 2, 3, 0, "ap", True, 0],
         ["mmap", 5, 2, 3, "ap", True, 0], ["write", P, 5, 8], ["write", 5 * P, 6, 8],
         ["mincore", 0, 7, 0]],
        [["mmap", 0, 4, 3, "fs", True, 6], ["write", 0, 7, 100], ["read", 2 * P, 8],
         ["read", 2 * P - 4, 8],
         ["mincore", 0, 2, 0], ["pread", 6 * P, 8], ["pwrite", 7 * P, 9, 64], ["read", P, 8],
         ["msync", 0, 2, "sync_inv", 0], ["munmap", 0, 4]],
    ]
    if ROOT:
        seqs += [
            [["mmap", 0, 4, 3, "ap", True, 0], ["munmap", 3, 1], ["mlock", 0, 4],
             ["mincore", 0, 3, 0], ["madvise", 0, 2, 4, 0], ["msync", 0, 2, "sync_inv", 0],
             ["munlock", 0, 4], ["mlock", 3, 0], ["munlock", 3, 0], ["munlock", 0, 3],
             ["madvise", 0, 2, 4, 0]],
            [["mmap", 0, 2, 1, "fp", True, 0], ["mlock", 0, 2], ["mprotect", 0, 2, 3, 0],
             ["write", 0, 8, 4], ["read", P, 8], ["munlock", 0, 2], ["write", 0, 9, 4],
             ["read", 0, 4]],
        ]
    import tempfile
    for ops in seqs:
        with tempfile.TemporaryDirectory() as d:
            host, final = run_on_host(ops, d)
            compare_sequence(ops, host, final)
    for what in ("MUNMAP-HOLE", "MMAP-LEN0", "MPROTECT-HOLE", "MINCORE-FILL", "DONTNEED",
                 "UNALIGNED", "MSYNC-HOLE", "MSYNC-LEN0", "MINCORE-LEN0", "HINT-PLACEMENT",
                 "FAULT-SIGNAL", "MADVISE-HOLE"):
        assert STATS["tolerated"][what], what
