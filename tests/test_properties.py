"""Property tests: random programs of the seed's system calls over one to three processes.

A hypothesis state machine drives mmap (anonymous private/shared, file shared/private, /dev/zero
shared/private, the memory-backed device /dev/fb0, MAP_FIXED), munmap, mprotect, minherit, madvise,
mincore, mlock/munlock/mlockall/munlockall, msync, fork, exit, spawn (root and uid 1000), user loads
and stores, and pread/pwrite/ftruncate on the mapped files.  After every step the kernel's own
accounting must hold (`Kernel.check_invariants`), and every load must return what a byte-level
reference model says (and mincore must then report the page resident).  Unprivileged processes get
EPERM from mlock, munlock, mlockall, munlockall and MADV_PROTECT, and nothing changes.  When the
example ends, every process exits, the host files and the device memory must hold the model's bytes
and the kernel must be quiescent (no page, object or swap block left).  The module prints how many
state-machine runs and steps it made.

The reference model keeps, per process, page address -> PageState.  A page's bytes live in a
"cell" that processes may share:
  * AnonCell   anonymous memory (zero until written); shared by MAP_SHARED/INHERIT_SHARE;
  * FilePage   a page of a file seen through MAP_SHARED: stores go to the model file, which
               p.pread must also show; past EOF (after ftruncate) loads and stores fault;
  * DevPage    a page of /dev/fb0: the device's memory itself, shared by every mapping;
  * CowCell    copy-on-write view of another cell: MAP_PRIVATE file mappings, and both sides of
               an INHERIT_COPY fork (FORK-3: the *parent's* view becomes copy-on-write too, so a
               MAP_SHARED region set to INHERIT_COPY stops being shared for the parent as well).
Where FreeBSD 7 itself is not deterministic for a user program (MADV_FREE'd pages the page daemon
may or may not reclaim; the OBJ-9 "bypass" of a backing object that other processes still write,
the XXX in vm_object_backing_scan; bytes a store left past EOF in the last page of a shared file
mapping, once the file grows over them, PGR-3/PGR-4), the model marks the bytes unknown and does
not compare them; where FLT-3's stop depends on entry boundaries (merging, clipping) mlock reads
them from p.maps();
where the spec makes an access's outcome depend on pmap state the model does not track (wired
COW entries, MAP-45; present read-only PTEs of wired PROT_NONE pages; the child's eager copies
mapped with max_protection, FORK-3) the model accepts either outcome and follows the one taken;
when such a copy kept MAP_ENTRY_NEEDS_COPY, its process's next fork shares the writable page with
the child (FORK-3 in 7.x, AUDIT4), and the model stops vouching for that page's bytes.

Expected errnos follow the spec (section 11): munmap over a hole EINVAL (UNM-2), mprotect beyond
max_protection EACCES (PROT-2), minherit(3) EINVAL, madvise(11) EINVAL, msync over a hole EINVAL
and MS_INVALIDATE over wired memory EBUSY (SYN-2), mlock over a hole ENOMEM (MLK-5), and so on.
"""
from __future__ import annotations

import bisect
import errno
import os
import random
from collections import Counter

import pytest
from hypothesis import note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition,
                                 rule)

from bsdvm import Kernel, SegmentationFault, mman
from bsdvm.resource import RLIMIT_DATA
from bsdvm.vm.invariants import check_quiescent

PG = 4096
ZERO = bytes(PG)
R, W, X = mman.PROT_READ, mman.PROT_WRITE, mman.PROT_EXEC
RWX = R | W | X
# Write-only and exec-only protections are left out: on i386/amd64 whether such a page can be read
# depends on whether a translation happens to be present (spec FLT-12/x86 pmap).
PROTS = [0, R, R | W, R | X, RWX]
SHARE, COPY, NONE = mman.INHERIT_SHARE, mman.INHERIT_COPY, mman.INHERIT_NONE
ARENA = 16                              # pages of the mmap arena the generated calls aim at
FILE_PAGES = {"/f0": 3, "/f1": 5}       # initial sizes; ftruncate and pwrite change them
MAX_FILE_PAGES = 8                      # files stay below this size
DEV_PAGES = 16                          # /dev/fb0, k.make_dev("fb0", "64K")
PI = st.integers(0, 2)                  # which live process (modulo how many there are)
USER = 1000                             # the uid of unprivileged processes

# state-machine runs and steps of this module, printed at its teardown
STATS = {"runs": 0, "steps": 0}


@pytest.fixture(scope="module", autouse=True)
def _report_stats(request):
    yield
    line = f"[test_properties] runs: {STATS['runs']} steps: {STATS['steps']}"
    capman = request.config.pluginmanager.getplugin("capturemanager")
    if capman is not None:
        with capman.global_and_fixture_disabled():
            print("\n" + line)
    else:
        print(line)


# -- the reference model -----------------------------------------------------------------------

class EOFAccess(Exception):
    """The page lies at or beyond the end of its file: FLT-4 gives KERN_PROTECTION_FAILURE."""


class FileModel:
    """A file's bytes (any size: ftruncate and pwrite change it).

    `mask` marks bytes whose value the spec leaves to the page daemon (1 = unknown): a store through
    a shared mapping into the last page *past* EOF stays in the resident page only (PGR-4 writes
    back just the bytes inside the file, PGR-3 zeroes the tail on shrink but not on growth), so if
    the file later grows over it those bytes are either the stored ones (page still resident) or
    zero (page was written back and reclaimed).  `tail_dirty` says such a store happened since the
    last shrink."""

    def __init__(self, path: str, data: bytes):
        self.path = path
        self.data = bytearray(data)
        self.mask = bytearray(len(data))
        self.tail_dirty = False

    @property
    def npages(self) -> int:
        return (len(self.data) + PG - 1) // PG

    def page(self, idx: int):
        """(bytes, known prefix length) of page idx < npages, zero past EOF (PGR-4)."""
        lo = idx * PG
        content = bytes(self.data[lo:lo + PG]).ljust(PG, b"\0")
        known = PG
        u = self.mask.find(1, lo, lo + PG)
        if u >= 0:
            known = u - lo
        if self.tail_dirty and lo + PG > len(self.data):
            known = min(known, len(self.data) - lo)
        return content, known

    def store(self, off: int, b: bytes) -> None:
        """A store through a shared mapping (the page is inside the file: idx < npages)."""
        eof = len(self.data)
        end = min(off + len(b), eof)
        if end > off:
            self.data[off:end] = b[:end - off]
            self.mask[off:end] = bytes(end - off)
        if off + len(b) > eof:
            self.tail_dirty = True

    def resize(self, n: int) -> None:
        """ftruncate, or a write past EOF (PGR-3 vnode_pager_setsize)."""
        old = len(self.data)
        if n < old:
            del self.data[n:]
            del self.mask[n:]
            self.tail_dirty = False         # pages past EOF freed, the last page's tail zeroed
        elif n > old:
            self.data.extend(bytes(n - old))
            self.mask.extend(bytes(n - old))
            if self.tail_dirty:
                # the old last page's tail: what the file now covers of it is unknown; past the new
                # EOF it still holds the stored bytes, so the tail stays dirty unless covered whole
                page_end = (old + PG - 1) // PG * PG
                top = min(n, page_end)
                self.mask[old:top] = b"\1" * (top - old)
                if n >= page_end:
                    self.tail_dirty = False

    def write(self, off: int, b: bytes) -> None:
        """write(2) at off: the host file and resident pages take the bytes."""
        if off + len(b) > len(self.data):
            self.resize(off + len(b))
        self.data[off:off + len(b)] = b
        self.mask[off:off + len(b)] = bytes(len(b))

    def masked(self, buf) -> bytes:
        """buf with this file's unknown bytes zeroed (for comparisons)."""
        out = bytearray(buf)
        m = self.mask
        i = m.find(1)
        while i >= 0:
            j = m.find(0, i)
            j = len(m) if j < 0 else j
            out[i:j] = bytes(j - i)
            i = m.find(1, j)
        return bytes(out)

    def same(self, buf) -> bool:
        if len(buf) != len(self.data):
            return False
        if self.mask.find(1) < 0:
            return bytes(buf) == bytes(self.data)
        return self.masked(buf) == self.masked(self.data)


class DevModel:
    """The memory of the memory-backed device /dev/fb0."""

    def __init__(self, npages: int):
        self.data = bytearray(npages * PG)


class Backing:
    """A page of a pager-backed object as user loads see it (the bottom of a cell chain)."""
    __slots__ = ()


class FilePage(Backing):
    __slots__ = ("f", "idx")

    def __init__(self, f: FileModel, idx: int):
        self.f = f
        self.idx = idx

    def read(self):
        if self.idx >= self.f.npages:
            raise EOFAccess
        return self.f.page(self.idx)

    def store(self, off: int, b: bytes) -> None:
        self.f.store(self.idx * PG + off, b)


class DevPage(Backing):
    """DEV-1/PGR-5: a device page is the device's memory itself, whoever maps it."""
    __slots__ = ("d", "idx")

    def __init__(self, d: DevModel, idx: int):
        self.d = d
        self.idx = idx

    def read(self):
        return bytes(self.d.data[self.idx * PG:(self.idx + 1) * PG]), PG

    def store(self, off: int, b: bytes) -> None:
        base = self.idx * PG + off
        self.d.data[base:base + len(b)] = b


class AnonCell:
    __slots__ = ("data", "known")

    def __init__(self, data=None):
        self.data = data
        self.known = PG             # bytes [0, known) of data are known


class SharedPteCell(AnonCell):
    """FORK-3 in 7.x (docs/errata.md, AUDIT4): the eager copy of a wired page whose entry kept
    MAP_ENTRY_NEEDS_COPY is mapped with max_protection; when its process forks again,
    vm_map_copy_entry skips the write-protect of the NEEDS_COPY entry and pmap_copy hands the
    child the *writable* translation.  Parent and child then share the page until one of them
    faults on it, which depends on pmap state the model does not follow: its bytes stay unknown
    (`known` 0) to every process that has it, whoever stores to it."""
    __slots__ = ()


class CowCell:
    __slots__ = ("data", "known", "backing", "risky")

    def __init__(self, backing, risky: bool = False):
        self.data = None
        self.known = PG
        self.backing = backing
        self.risky = risky


def resolve(cell):
    """(bytes, known) of the page as a load sees it: `known` is how many leading bytes the model
    can vouch for (PG: all, 0: none); EOFAccess past the end of the file."""
    known = PG
    c = cell
    while True:
        if isinstance(c, Backing):
            content, k = c.read()
            return content, min(known, k)
        if c.data is not None:
            return bytes(c.data), min(known, c.known)
        if isinstance(c, CowCell):
            if c.risky:
                known = 0
            c = c.backing
            continue
        return ZERO, known


def beyond_eof(cell) -> bool:
    try:
        resolve(cell)
    except EOFAccess:
        return True
    return False


def materialize(cell) -> None:
    """The copy a write fault (or a wiring fault with WRITE) makes for a copy-on-write page."""
    if isinstance(cell, CowCell) and cell.data is None:
        content, known = resolve(cell)
        cell.data = bytearray(content)
        cell.known = known
    elif isinstance(cell, AnonCell) and cell.data is None:
        cell.data = bytearray(PG)


def store(cell, off: int, b: bytes) -> None:
    if isinstance(cell, Backing):
        cell.store(off, b)
        return
    materialize(cell)
    cell.data[off:off + len(b)] = b
    if off <= cell.known and not isinstance(cell, SharedPteCell):
        cell.known = max(cell.known, off + len(b))


def bottom(cell):
    """The cell at the bottom of a copy-on-write chain."""
    while isinstance(cell, CowCell):
        cell = cell.backing
    return cell


def bottom_file_page(cell):
    """The file page at the bottom of the object chain (what vm_object_sync cleans), if any."""
    c = bottom(cell)
    return c if isinstance(c, FilePage) else None


class PageState:
    __slots__ = ("cell", "prot", "maxp", "inh", "wired", "cow", "pte_maybe", "max_unsure",
                 "wired_nopte", "wired_nc", "shares_pte")

    def __init__(self, cell, prot, maxp, inh, cow):
        self.cell = cell
        self.prot = prot
        self.maxp = maxp
        self.inh = inh
        self.wired = False
        self.cow = cow              # the entry may carry MAP_ENTRY_COW (only leniency uses it)
        self.pte_maybe = False      # a translation granting more than `prot` may be present
        self.max_unsure = False     # FLT-3 may have stripped WRITE from max_protection
        # a wired page whose translation is gone (mprotect(PROT_NONE), or the file page was
        # truncated away or invalidated): the next load faults on a wired entry, and
        # vm_map_lookup then faults for the entry's protection (FLT-10, `fault_type = prot`):
        # with WRITE in it, a copy-on-write page is copied right then (see check_read)
        self.wired_nopte = False
        # the wiring fault was a read on a copy-on-write entry: the entry may keep
        # MAP_ENTRY_NEEDS_COPY, and vmspace_fork copies it to the child of an eager copy (FORK-3)
        self.wired_nc = False
        # an eager copy (FORK-3) whose entry may keep NEEDS_COPY over a writable translation: the
        # next fork shares the page instead of making it copy-on-write (SharedPteCell)
        self.shares_pte = False

    def clone(self) -> "PageState":
        c = PageState(self.cell, self.prot, self.maxp, self.inh, self.cow)
        c.wired, c.pte_maybe, c.max_unsure = self.wired, self.pte_maybe, self.max_unsure
        c.wired_nopte = self.wired_nopte
        c.wired_nc, c.shares_pte = self.wired_nc, self.shares_pte
        return c


class ProcModel:
    def __init__(self, p, fds: dict):
        self.p = p
        self.fds = fds
        self.pages: dict[int, PageState] = {}

    @property
    def root(self) -> bool:
        return self.p.uid == 0


def open_fds(p) -> dict:
    """Descriptors every process holds: each file and device read-write and read-only."""
    fds = {}
    for path in list(FILE_PAGES) + ["/dev/zero", "/dev/fb0"]:
        fds[path] = p.open(path, os.O_RDWR)
        fds[path + ":ro"] = p.open(path, os.O_RDONLY)
    return fds


def payload(seed: int, n: int) -> bytes:
    return random.Random(seed).randbytes(n)


def expect_errno(fn, err: int) -> None:
    with pytest.raises(OSError) as ei:
        fn()
    assert ei.value.errno == err, (ei.value, errno.errorcode.get(err))


def wiring_entries(p, start: int) -> list:
    """p.maps() as vm_map_wire(start, ...) walks it.  Its first step, vm_map_clip_start of the
    entry containing `start` when `start` is strictly inside it, begins with
    vm_map_simplify_entry: that entry absorbs its predecessor and its successor when they match
    it (same object -- two object-less anonymous entries match -- contiguous offsets, same
    eflags, protection, max_protection, inheritance and wiring), even when they lie outside the
    range.  The FLT-3 strip then covers the merged entry's pages in the range, so a PROT_NONE
    page of a neighbouring mapping is "the same entry" (MAP-13, FLT-3 multi-page in
    docs/errata.md).  maps() does not show object identity: the merge test reads the map."""
    import dataclasses
    m = p.proc.p_vmspace.vm_map
    raw = list(m.entries())
    desc = p.maps()
    assert [e.start for e in raw] == [d.start for d in desc]
    i = next((j for j, e in enumerate(raw) if e.start <= start < e.end), None)
    if i is None or raw[i].start == start:
        return desc

    def mergeable(a, b):
        return (a.end == b.start and a.object is b.object
                and (a.object is None or a.offset + (a.end - a.start) == b.offset)
                and a.eflags == b.eflags and a.protection == b.protection
                and a.max_protection == b.max_protection
                and a.inheritance == b.inheritance and a.wired_count == b.wired_count)
    lo = i - 1 if i > 0 and mergeable(raw[i - 1], raw[i]) else i
    hi = i + 1 if i + 1 < len(raw) and mergeable(raw[i], raw[i + 1]) else i
    merged = dataclasses.replace(desc[i], start=desc[lo].start, end=desc[hi].end)
    return desc[:lo] + [merged] + desc[hi + 1:]


# -- the state machine -------------------------------------------------------------------------

class VMMachine(RuleBasedStateMachine):
    KERNEL_ARGS: dict = {}
    BALLOON = 0             # pages of a big private region per process, to create memory pressure

    def __init__(self):
        super().__init__()
        STATS["runs"] += 1
        self._counted_start = False
        self.k = Kernel(**self.KERNEL_ARGS)
        self.dev = self.k.make_dev("fb0", "64K")
        assert len(self.dev.si_memory) == DEV_PAGES * PG
        self.devm = DevModel(DEV_PAGES)
        p = self.k.spawn(uid=0, gid=0)
        rnd = random.Random(7)
        self.files: dict[str, FileModel] = {}
        for path, n in FILE_PAGES.items():
            fd = p.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            data = rnd.randbytes(n * PG)
            assert p.write(fd, data) == len(data)
            p.close(fd)
            p.chmod(path, 0o666)            # unprivileged processes open them read-write too
            self.files[path] = FileModel(path, data)
        fds = open_fds(p)
        # MMAP-6: the default hint is the end of the largest possible heap
        self.H = (p.brk_base() + p.getrlimit(RLIMIT_DATA)[1] + PG - 1) & ~(PG - 1)
        self.procs = [ProcModel(p, fds)]
        self.B = self.H + 1024 * PG
        if self.BALLOON:
            pm = self.procs[0]
            a = p.mmap(self.B, self.BALLOON * PG, R | W,
                       mman.MAP_ANON | mman.MAP_PRIVATE | mman.MAP_FIXED)
            assert a == self.B
            for i in range(self.BALLOON):
                pm.pages[a + i * PG] = PageState(AnonCell(), R | W, RWX, COPY, False)
            for i in range(self.BALLOON):        # most of memory is in use from the start
                self.do_write(pm, a + i * PG, 8 * (i % 500), i.to_bytes(4, "little"))

    # -- helpers ---------------------------------------------------------------------------------
    def proc(self, pi: int) -> ProcModel:
        return self.procs[pi % len(self.procs)]

    def draw_at(self, pm: ProcModel, data) -> int:
        """A page index (relative to the hint) for a range operation: mostly where something is
        mapped, sometimes anywhere in the arena."""
        mapped = sorted((a - self.H) // PG for a in pm.pages)
        anywhere = st.integers(0, ARENA + 4)
        if not mapped:
            return data.draw(anywhere)
        return data.draw(st.one_of(st.sampled_from(mapped), anywhere))

    def addrs(self, at: int, n: int) -> list[int]:
        return [self.H + (at + i) * PG for i in range(n)]

    def first_fit(self, pm: ProcModel, n: int) -> int:
        a = self.H
        while any(a + i * PG in pm.pages for i in range(n)):
            a += PG
        return a

    def host_file(self, path: str) -> bytes:
        with open(os.path.join(self.k.root, path.lstrip("/")), "rb") as f:
            return f.read()

    def place(self, pm: ProcModel, addr: int, states: list[PageState]) -> None:
        for i, ps in enumerate(states):
            pm.pages[addr + i * PG] = ps

    def check_read(self, pm: ProcModel, addr: int) -> None:
        ps = pm.pages.get(addr)
        if ps is None:
            with pytest.raises(SegmentationFault) as ei:
                pm.p.mem_read(addr, PG)
            assert ei.value.code == "SEGV_MAPERR"
            return
        allowed = bool(ps.prot & R)
        eof = beyond_eof(ps.cell)
        if not allowed or eof:
            # a present translation (pte_maybe) cannot survive the truncation that put the page
            # past EOF: OBJ-10 removes every translation of the pages it drops or invalidates
            may_succeed = not allowed and ps.pte_maybe and not eof
            try:
                got = pm.p.mem_read(addr, PG)
            except SegmentationFault as e:
                assert e.code == "SEGV_ACCERR", e
                return
            assert may_succeed, f"read of {addr:#x} should fault (prot {ps.prot}, eof {eof})"
        else:
            got = pm.p.mem_read(addr, PG)
        if ps.wired and ps.wired_nopte:
            # The load faulted on a wired entry: vm_map_lookup set fault_type to the entry's
            # protection, so with WRITE in it the fault was a write fault -- a copy-on-write
            # page was copied (MAP_ENTRY_NEEDS_COPY or not) and is mapped writable and wired.
            # The user-wired COW check (MAP-45) only refuses a *store* fault.
            if ps.prot & W:
                materialize(ps.cell)
            ps.wired_nopte = False
        # MIN-5/PMAP-7: right after a successful load the page has a translation, so mincore
        # reports it resident (later it may be paged out again)
        vec = pm.p.mincore(addr, PG)
        assert len(vec) == 1 and vec[0] & mman.MINCORE_INCORE, \
            f"pid {pm.p.pid} page {addr:#x} read but mincore says {vec!r}"
        want, known = resolve(ps.cell)
        if known:
            assert got[:known] == want[:known], \
                f"pid {pm.p.pid} page {addr:#x}: contents differ from the model"

    def do_write(self, pm: ProcModel, addr: int, off: int, b: bytes) -> None:
        ps = pm.pages.get(addr)
        if ps is None:
            with pytest.raises(SegmentationFault) as ei:
                pm.p.mem_write(addr + off, b)
            assert ei.value.code == "SEGV_MAPERR"
            return
        if not ps.prot & W or beyond_eof(ps.cell):
            may_succeed = not ps.prot & W and ps.pte_maybe and not beyond_eof(ps.cell)
        elif ps.wired and ps.cow:
            may_succeed = True      # MAP-45: a write *fault* on a user-wired COW entry fails
        else:
            pm.p.mem_write(addr + off, b)
            store(ps.cell, off, b)
            return
        try:
            pm.p.mem_write(addr + off, b)
        except SegmentationFault as e:
            assert e.code == "SEGV_ACCERR", e
            return
        assert may_succeed, f"write to {addr:#x} should fault (prot {ps.prot})"
        store(ps.cell, off, b)

    def refused(self, pm: ProcModel, call, err: int) -> None:
        """The call fails with err and changes nothing (DESIGN.md: a failed call changes
        nothing; PRIV-1/MLK-1/MUL-1/MLA-1/ADV-1 refuse before touching the map)."""
        before = (pm.p.maps(), self.k.vmstat()["v_wire_count"], pm.p.protected)
        expect_errno(call, err)
        after = (pm.p.maps(), self.k.vmstat()["v_wire_count"], pm.p.protected)
        assert before == after, "a refused call changed the address space"

    def drop_file_translations(self, pages) -> None:
        """vm_object_page_remove over vnode pages (ftruncate's shrink, msync(MS_INVALIDATE)):
        pmap_remove_all takes every translation of each page away, wired ones included (OBJ-10);
        `pages` is a set of (FileModel, index).  A process maps the vnode page itself while its
        cell has no copy of its own above the file page."""
        for q in self.procs:
            for ps in q.pages.values():
                if not ps.wired:
                    continue
                c = ps.cell
                while isinstance(c, CowCell) and c.data is None:
                    c = c.backing
                if isinstance(c, FilePage) and (c.f, c.idx) in pages:
                    ps.wired_nopte = True

    def check_synced(self, synced) -> None:
        for f, idx in synced:
            host = f.masked(self.host_file(f.path))
            assert host[idx * PG:(idx + 1) * PG] == f.masked(f.data)[idx * PG:(idx + 1) * PG], \
                f"{f.path} page {idx} not in the host file after msync"

    # -- mappings ----------------------------------------------------------------------------------
    @rule(pi=PI, shared=st.booleans(), npages=st.integers(1, 6), prot=st.sampled_from(PROTS),
          fixed=st.booleans(), at=st.integers(0, ARENA - 1))
    def mmap_anon(self, pi, shared, npages, prot, fixed, at):
        self.do_mmap_anon(self.proc(pi), shared, npages, prot, fixed, at)

    @rule(pi=PI, shared=st.booleans(), ro=st.booleans(), off=st.integers(0, 3),
          npages=st.integers(1, 6), prot=st.sampled_from(PROTS), fixed=st.booleans(),
          at=st.integers(0, ARENA - 1))
    def mmap_zero(self, pi, shared, ro, off, npages, prot, fixed, at):
        """MMV-2: /dev/zero (D_MMAP_ANON) maps anonymous memory, shared if MAP_SHARED (and then
        inherited shared, VMM-10), with max_protection ALL even through a read-only descriptor;
        only MMAP-10's check of a read-only descriptor against shared PROT_WRITE comes first."""
        pm = self.proc(pi)
        fd = pm.fds["/dev/zero" + (":ro" if ro else "")]
        if shared and ro and prot & W:
            flags = mman.MAP_SHARED | (mman.MAP_FIXED if fixed else 0)
            addr = self.H + at * PG if fixed else 0
            note(f"pid {pm.p.pid}: mmap /dev/zero ro shared prot {prot}: EACCES")
            expect_errno(lambda: pm.p.mmap(addr, npages * PG, prot, flags, fd, off * PG),
                         errno.EACCES)
            return
        self.do_mmap_anon(pm, shared, npages, prot, fixed, at, fd=fd, off=off)

    def do_mmap_anon(self, pm, shared, npages, prot, fixed, at, fd=-1, off=0):
        flags = mman.MAP_SHARED if shared else mman.MAP_PRIVATE
        if fd == -1:
            flags |= mman.MAP_ANON
        addr = 0
        if fixed:
            flags |= mman.MAP_FIXED
            addr = self.H + at * PG
        expect = addr if fixed else self.first_fit(pm, npages)
        note(f"pid {pm.p.pid}: mmap {'anon' if fd == -1 else '/dev/zero'} "
             f"{'shared' if shared else 'private'} {npages}p prot {prot} at {expect:#x}")
        got = pm.p.mmap(addr, npages * PG, prot, flags, fd, off * PG)
        assert got == expect, "MAP-11: first fit at or above the hint"
        for a in range(got, got + npages * PG, PG):
            pm.pages.pop(a, None)
        self.place(pm, got, [PageState(AnonCell(), prot, RWX, SHARE if shared else COPY, False)
                             for _ in range(npages)])

    @rule(pi=PI, path=st.sampled_from(sorted(FILE_PAGES)), shared=st.booleans(),
          ro=st.sampled_from([False, False, True]), off=st.integers(0, 5), npages=st.integers(1, 4),
          prot=st.sampled_from(PROTS), fixed=st.booleans(), at=st.integers(0, ARENA - 1))
    def mmap_file(self, pi, path, shared, ro, off, npages, prot, fixed, at):
        self.do_mmap_file(self.proc(pi), path, shared, ro, off, npages, prot, fixed, at)

    def do_mmap_file(self, pm, path, shared, ro, off, npages, prot, fixed, at):
        f = self.files[path]
        fd = pm.fds[path + (":ro" if ro else "")]
        flags = mman.MAP_SHARED if shared else mman.MAP_PRIVATE
        addr = 0
        if fixed:
            flags |= mman.MAP_FIXED
            addr = self.H + at * PG
        note(f"pid {pm.p.pid}: mmap {path}{' ro' if ro else ''} "
             f"{'shared' if shared else 'private'} off {off}p {npages}p prot {prot} "
             f"{'fixed ' + hex(addr) if fixed else ''}")
        if shared and ro and prot & W:
            # MMAP-10: EACCES before vm_mmap, so even MAP_FIXED removes nothing
            expect_errno(lambda: pm.p.mmap(addr, npages * PG, prot, flags, fd, off * PG),
                         errno.EACCES)
            return
        expect = addr if fixed else self.first_fit(pm, npages)
        got = pm.p.mmap(addr, npages * PG, prot, flags, fd, off * PG)
        assert got == expect
        for a in range(got, got + npages * PG, PG):
            pm.pages.pop(a, None)
        maxp = (R | X) if (shared and ro) else RWX
        states = []
        for i in range(npages):
            cell = FilePage(f, off + i)
            states.append(PageState(cell if shared else CowCell(cell), prot, maxp,
                                    SHARE if shared else COPY, not shared))
        self.place(pm, got, states)

    @rule(pi=PI, private=st.sampled_from([False, False, False, True]), ro=st.booleans(),
          off=st.integers(0, DEV_PAGES + 1), npages=st.integers(1, 6),
          prot=st.sampled_from(PROTS), fixed=st.booleans(), at=st.integers(0, ARENA - 1))
    def mmap_dev(self, pi, private, ro, off, npages, prot, fixed, at):
        """A memory-backed device (MMV-3, PGR-5): MAP_SHARED only; its pages are the device's
        memory, seen by every process that maps it."""
        pm = self.proc(pi)
        fd = pm.fds["/dev/fb0" + (":ro" if ro else "")]
        flags = mman.MAP_PRIVATE if private else mman.MAP_SHARED
        addr = 0
        if fixed:
            flags |= mman.MAP_FIXED
            addr = self.H + at * PG
        note(f"pid {pm.p.pid}: mmap /dev/fb0{' ro' if ro else ''} "
             f"{'private' if private else 'shared'} off {off}p {npages}p prot {prot} "
             f"{'fixed ' + hex(addr) if fixed else ''}")
        call = lambda: pm.p.mmap(addr, npages * PG, prot, flags, fd, off * PG)  # noqa: E731
        if not private and ro and prot & W:
            expect_errno(call, errno.EACCES)        # MMAP-10, before vm_mmap: nothing removed
            return
        if ro and prot & W:
            err = errno.EACCES                      # MMV-3: maxprot lacks WRITE (VCHR, no FWRITE)
        elif private:
            err = errno.EINVAL                      # MMV-3: MAP_PRIVATE
        elif off + npages > DEV_PAGES:
            err = errno.EINVAL                      # PGR-5: d_mmap refuses a page -> MMV-8
        else:
            err = 0
        if err:
            expect_errno(call, err)
            if fixed:                               # VMM-4: MAP_FIXED removed the range first
                for a in range(addr, addr + npages * PG, PG):
                    pm.pages.pop(a, None)
            return
        expect = addr if fixed else self.first_fit(pm, npages)
        got = call()
        assert got == expect
        for a in range(got, got + npages * PG, PG):
            pm.pages.pop(a, None)
        maxp = (R | X) if ro else RWX
        self.place(pm, got, [PageState(DevPage(self.devm, off + i), prot, maxp, SHARE, False)
                             for i in range(npages)])

    @rule(pi=PI, data=st.data(), npages=st.integers(1, 8),
          sub=st.sampled_from([0, 0, 0, 1, PG - 1]))
    def munmap(self, pi, data, npages, sub):
        pm = self.proc(pi)
        at = self.draw_at(pm, data)
        rng = self.addrs(at, npages)
        length = npages * PG - sub
        note(f"pid {pm.p.pid}: munmap {rng[0] + sub:#x} {length:#x}")
        if all(a in pm.pages for a in rng):
            pm.p.munmap(rng[0] + sub, length)
            for a in rng:
                del pm.pages[a]
        else:
            expect_errno(lambda: pm.p.munmap(rng[0] + sub, length), errno.EINVAL)   # UNM-2

    @rule(pi=PI, data=st.data(), npages=st.integers(1, 8),
          prot=st.sampled_from(PROTS), sub=st.sampled_from([0, 0, 1]))
    def mprotect(self, pi, data, npages, prot, sub):
        pm = self.proc(pi)
        at = self.draw_at(pm, data)
        rng = [a for a in self.addrs(at, npages) if a in pm.pages]
        note(f"pid {pm.p.pid}: mprotect {self.H + at * PG:#x} {npages}p {prot}")
        verdict = "ok"
        for a in rng:
            ps = pm.pages[a]
            if prot & ~ps.maxp:
                verdict = "fail"
                break
            if prot & W and ps.max_unsure:
                verdict = "maybe"
        call = lambda: pm.p.mprotect(self.H + at * PG + sub, npages * PG - sub, prot)  # noqa: E731
        if verdict == "fail":
            expect_errno(call, errno.EACCES)                # MAP-21
            return
        try:
            call()
        except OSError as e:
            assert verdict == "maybe" and e.errno == errno.EACCES, e
            return
        for a in rng:
            ps = pm.pages[a]
            ps.prot = prot
            if prot & W:
                ps.max_unsure = False
            if not prot & R and ps.wired:
                ps.wired_nopte = True       # pmap_protect(VM_PROT_NONE) is pmap_remove

    @rule(pi=PI, data=st.data(), npages=st.integers(1, 8),
          inh=st.sampled_from([SHARE, COPY, NONE, SHARE, COPY, NONE, 3]))
    def minherit(self, pi, data, npages, inh):
        pm = self.proc(pi)
        at = self.draw_at(pm, data)
        note(f"pid {pm.p.pid}: minherit {self.H + at * PG:#x} {npages}p {inh}")
        call = lambda: pm.p.minherit(self.H + at * PG, npages * PG, inh)  # noqa: E731
        if inh == 3:
            expect_errno(call, errno.EINVAL)                # INH-1
            return
        call()
        for a in self.addrs(at, npages):
            if a in pm.pages:
                pm.pages[a].inh = inh

    @rule(pi=PI, data=st.data(), npages=st.integers(1, 8),
          behav=st.integers(0, 11))
    def madvise(self, pi, data, npages, behav):
        pm = self.proc(pi)
        at = self.draw_at(pm, data)
        note(f"pid {pm.p.pid}: madvise {self.H + at * PG:#x} {npages}p {behav}")
        call = lambda: pm.p.madvise(self.H + at * PG, npages * PG, behav)  # noqa: E731
        if behav > mman.MADV_PROTECT:
            expect_errno(call, errno.EINVAL)                # ADV-2
            return
        if behav == mman.MADV_PROTECT:                      # ADV-1, PRIV-3
            if pm.root:
                call()
                assert pm.p.protected
            else:
                self.refused(pm, call, errno.EPERM)
            return
        call()
        if behav == mman.MADV_FREE:
            self.forget_freed(pm, self.addrs(at, npages))
        if behav == mman.MADV_WILLNEED:
            # vm_map_pmap_enter maps the resident valid pages of each entry's *first* object
            # read-only: a wired page without a translation gets one back when that object (the
            # file's, while the entry still NEEDS_COPY; a shadow otherwise) holds it.  Which
            # object the entry has is not in the model: follow the translation the call left.
            pmap = pm.p.proc.p_vmspace.vm_map.pmap
            for a in self.addrs(at, npages):
                ps = pm.pages.get(a)
                if ps is not None and ps.wired_nopte:
                    ps.wired_nopte = (a >> 12) not in pmap.ptes

    def forget_freed(self, pm: ProcModel, rng) -> None:
        """OBJ-15: MADV_FREE lets the page daemon drop private anonymous pages; whether it did is
        not observable in advance, so those bytes become unknown until fully rewritten."""
        direct = Counter(id(ps.cell) for q in self.procs for ps in q.pages.values())
        for a in rng:
            ps = pm.pages.get(a)
            if ps is None:
                continue
            c = ps.cell
            while c is not None and not isinstance(c, Backing):
                if direct[id(c)] > 1:
                    break                   # shared with another process: not ONEMAPPING
                if c.data is not None:
                    c.known = 0
                c = c.backing if isinstance(c, CowCell) else None

    # -- wiring ------------------------------------------------------------------------------------
    @rule(pi=PI, data=st.data(), npages=st.integers(1, 8))
    def mlock(self, pi, data, npages):
        pm = self.proc(pi)
        at = self.draw_at(pm, data)
        rng = self.addrs(at, npages)
        note(f"pid {pm.p.pid}: mlock {rng[0]:#x} {npages}p")
        if not pm.root:
            self.refused(pm, lambda: pm.p.mlock(rng[0], npages * PG), errno.EPERM)   # MLK-1
            return
        if npages + self.k.vmstat()["v_wire_count"] > self.k.vm_page_max_wired:
            expect_errno(lambda: pm.p.mlock(rng[0], npages * PG), errno.EAGAIN)   # MLK-4
            return
        # Where FLT-3 stops the wiring depends on entry boundaries (which pages the map merged
        # or clipped), which the model does not follow: read them from the map before the call,
        # merged as vm_map_wire's first vm_map_clip_start will merge them (wiring_entries).
        entries = wiring_entries(pm.p, rng[0])
        starts = [e.start for e in entries]

        def entry_of(a):
            e = entries[bisect.bisect_right(starts, a) - 1]
            assert e.start <= a < e.end
            return e
        fail_at = None
        stripped = set()                    # entries whose max_protection lost WRITE (FLT-3)
        for i, a in enumerate(rng):
            ps = pm.pages.get(a)
            if ps is None:
                fail_at = i
                break
            if ps.wired:
                continue
            if not ps.prot & R:
                # FLT-3: the retry against max_protection needs READ and WRITE; it strips WRITE
                # from the *entry's* max_protection at its first page, so the retry for a
                # second page of the same PROT_NONE entry fails (as in FreeBSD 7's vm_fault)
                e = entry_of(a)
                maxp = e.max_prot & ~W if e.start in stripped else e.max_prot
                assert e.max_prot == ps.maxp or (ps.max_unsure and e.max_prot == ps.maxp & ~W), \
                    (e, ps.maxp)
                if (maxp & (R | W)) != (R | W):
                    fail_at = i
                    break
                stripped.add(e.start)
            if beyond_eof(ps.cell):
                fail_at = i                 # FLT-4: wiring a page past EOF fails
                break
        try:
            pm.p.mlock(rng[0], npages * PG)
            ok = True
        except OSError as e:
            assert e.errno == errno.ENOMEM, e
            ok = False
        assert ok == (fail_at is None), "MLK-5: mlock is all-or-nothing"
        if ok:
            self.wired_some(pm, rng, len(rng), True)
        else:
            self.wired_some(pm, rng, fail_at, False)
        for a in rng:                       # the strip is entry-wide, failure or not
            ps = pm.pages.get(a)
            if ps is not None and not ps.wired and entry_of(a).start in stripped:
                ps.maxp &= ~W
                ps.max_unsure = False

    def wired_some(self, pm: ProcModel, rng, upto: int, wired: bool) -> None:
        """Apply the effects of vm_fault_wire to rng[:upto] (on failure they are unwired again,
        but the copies, translations and the FLT-3 strip stay)."""
        for a in rng[:upto]:
            ps = pm.pages.get(a)
            if ps is None or ps.wired:
                continue
            if ps.prot & W:
                materialize(ps.cell)            # FLT-12: the COW copy is made at once
            elif ps.cow:
                ps.wired_nc = True              # a read fault leaves NEEDS_COPY in place
            # the wiring fault replaced any writable translation an eager copy had
            ps.shares_pte = False
            if not ps.prot & R:
                ps.maxp &= ~W                   # FLT-3
                ps.max_unsure = False
                ps.pte_maybe = True             # a present, read-only translation
            ps.wired = wired
            ps.wired_nopte = False              # the wiring fault entered a translation

    @rule(pi=PI, data=st.data(), npages=st.integers(1, 8))
    def munlock(self, pi, data, npages):
        pm = self.proc(pi)
        at = self.draw_at(pm, data)
        rng = self.addrs(at, npages)
        note(f"pid {pm.p.pid}: munlock {rng[0]:#x} {npages}p")
        if not pm.root:
            self.refused(pm, lambda: pm.p.munlock(rng[0], npages * PG), errno.EPERM)  # MUL-1
            return
        if all(a in pm.pages for a in rng):
            pm.p.munlock(rng[0], npages * PG)
            for a in rng:
                pm.pages[a].wired = False
                pm.pages[a].wired_nopte = False
        else:
            expect_errno(lambda: pm.p.munlock(rng[0], npages * PG), errno.ENOMEM)  # MUL-1

    @rule(pi=PI, how=st.sampled_from([mman.MCL_CURRENT, mman.MCL_FUTURE,
                                      mman.MCL_CURRENT | mman.MCL_FUTURE, 0, 4]))
    def mlockall(self, pi, how):
        """MLA-1: bad `how` is EINVAL before the privilege check; then EPERM for non-root.
        (Root's mlockall is left to the scenario tests: MCL_FUTURE wires later mappings.)"""
        pm = self.proc(pi)
        note(f"pid {pm.p.pid}: mlockall {how}")
        if how == 0 or how & ~(mman.MCL_CURRENT | mman.MCL_FUTURE):
            self.refused(pm, lambda: pm.p.mlockall(how), errno.EINVAL)
        elif not pm.root:
            self.refused(pm, lambda: pm.p.mlockall(how), errno.EPERM)

    @rule(pi=PI)
    def munlockall(self, pi):
        """MUA-1: root unwires everything (munlock of the whole map); others get EPERM."""
        pm = self.proc(pi)
        note(f"pid {pm.p.pid}: munlockall")
        if not pm.root:
            self.refused(pm, pm.p.munlockall, errno.EPERM)
            return
        pm.p.munlockall()
        for ps in pm.pages.values():
            ps.wired = False
            ps.wired_nopte = False
        assert all(e.wired_count == 0 for e in pm.p.maps())

    @rule(pi=PI, data=st.data(), npages=st.integers(1, 8))
    def mincore(self, pi, data, npages):
        """MIN-3/4: ENOMEM unless every page of the range is mapped; one byte per page of
        MINCORE_* bits."""
        pm = self.proc(pi)
        at = self.draw_at(pm, data)
        rng = self.addrs(at, npages)
        note(f"pid {pm.p.pid}: mincore {rng[0]:#x} {npages}p")
        if all(a in pm.pages for a in rng):
            vec = pm.p.mincore(rng[0], npages * PG)
            assert len(vec) == npages and not any(b & ~0x1F for b in vec), vec
        else:
            expect_errno(lambda: pm.p.mincore(rng[0], npages * PG), errno.ENOMEM)

    # -- msync, files -----------------------------------------------------------------------------
    @rule(pi=PI, data=st.data(), npages=st.integers(1, 8),
          flags=st.sampled_from([mman.MS_SYNC, mman.MS_ASYNC, mman.MS_INVALIDATE,
                                 mman.MS_ASYNC | mman.MS_INVALIDATE]))
    def msync(self, pi, data, npages, flags):
        pm = self.proc(pi)
        at = self.draw_at(pm, data)
        rng = self.addrs(at, npages)
        note(f"pid {pm.p.pid}: msync {rng[0]:#x} {npages}p flags {flags}")
        call = lambda: pm.p.msync(rng[0], npages * PG, flags)  # noqa: E731
        if flags == mman.MS_ASYNC | mman.MS_INVALIDATE:
            expect_errno(call, errno.EINVAL)                # SYN-1
            return
        for a in rng:
            ps = pm.pages.get(a)
            if ps is None:
                expect_errno(call, errno.EINVAL)            # SYN-2: a hole
                return
            if flags & mman.MS_INVALIDATE and ps.wired:
                expect_errno(call, errno.EBUSY)             # SYN-2: wired
                return
        call()
        synced = set()
        for a in rng:
            fp = bottom_file_page(pm.pages[a].cell)
            if fp is not None and fp.idx < fp.f.npages:
                synced.add((fp.f, fp.idx))
        self.check_synced(synced)
        if flags & mman.MS_INVALIDATE:
            # vm_object_sync: vm_object_page_remove(clean_only) of the vnode object's range
            self.drop_file_translations({(fp.f, fp.idx) for a in rng
                                         if (fp := bottom_file_page(pm.pages[a].cell))})

    @rule(pi=PI, path=st.sampled_from(sorted(FILE_PAGES)), data=st.data())
    def file_pwrite(self, pi, path, data):
        pm = self.proc(pi)
        f = self.files[path]
        # mostly inside the file, sometimes extending it (up to MAX_FILE_PAGES)
        room = MAX_FILE_PAGES * PG - len(f.data)
        off = data.draw(st.integers(0, max(0, len(f.data) - 1 + min(room, PG) // 2)))
        n = data.draw(st.integers(1, min(2 * PG, max(1, MAX_FILE_PAGES * PG - off))))
        b = payload(data.draw(st.integers(0, 2 ** 32)), n)
        note(f"pid {pm.p.pid}: pwrite {path} {off:#x} +{n:#x}")
        assert pm.p.pwrite(pm.fds[path], b, off) == n
        f.write(off, b)

    @rule(pi=PI, path=st.sampled_from(sorted(FILE_PAGES)))
    def file_pread(self, pi, path):
        pm = self.proc(pi)
        f = self.files[path]
        assert f.same(pm.p.pread(pm.fds[path + ":ro"], len(f.data) + 100, 0))

    @rule(pi=PI, path=st.sampled_from(sorted(FILE_PAGES)),
          size=st.one_of(st.integers(2, MAX_FILE_PAGES).map(lambda n: n * PG),
                         st.integers(PG, MAX_FILE_PAGES * PG), st.integers(0, PG)))
    def file_ftruncate(self, pi, path, size):
        """PGR-3: shrinking frees the pages past the new EOF (shared mappings of them then fault,
        FLT-4/FLT-14: SEGV_ACCERR) and zeroes the tail of the last page; private copies already
        made keep their bytes; growing reads as zeros."""
        pm = self.proc(pi)
        f = self.files[path]
        note(f"pid {pm.p.pid}: ftruncate {path} {size:#x} (was {len(f.data):#x})")
        old_pages = f.npages
        pm.p.ftruncate(pm.fds[path], size)
        f.resize(size)
        if f.npages < old_pages:
            # vnode_pager_setsize: vm_object_page_remove of the pages past the new EOF
            self.drop_file_translations({(f, i) for i in range(f.npages, old_pages)})
        assert pm.p.fstat(pm.fds[path]).st_size == size

    @rule(pi=PI, data=st.data())
    def dev_pwrite(self, pi, data):
        """write(2) to the device goes to the memory every mapping shows (DEV-1)."""
        pm = self.proc(pi)
        n = len(self.devm.data)
        off = data.draw(st.integers(0, n - 1))
        b = payload(data.draw(st.integers(0, 2 ** 32)), data.draw(st.integers(1, min(PG, n - off))))
        note(f"pid {pm.p.pid}: pwrite /dev/fb0 {off:#x} +{len(b):#x}")
        assert pm.p.pwrite(pm.fds["/dev/fb0"], b, off) == len(b)
        self.devm.data[off:off + len(b)] = b
        assert pm.p.pread(pm.fds["/dev/fb0:ro"], n, 0) == bytes(self.devm.data)

    # -- processes -------------------------------------------------------------------------------
    @precondition(lambda self: len(self.procs) < 3)
    @rule(pi=PI)
    def fork(self, pi):
        parent = self.proc(pi)
        direct = Counter(id(ps.cell) for q in self.procs for ps in q.pages.values())
        cp = parent.p.fork()
        note(f"pid {parent.p.pid}: fork -> {cp.pid}")
        child = ProcModel(cp, dict(parent.fds))
        for a, ps in parent.pages.items():
            if ps.inh == NONE:
                continue                                    # FORK-1: a hole in the child
            c = ps.clone()
            c.wired = False
            c.wired_nopte = False
            # PMAP-10: pmap_copy hands the child the parent's translations (a read-only one over
            # a PROT_NONE page included) for shared and copied entries alike
            c.pte_maybe = ps.pte_maybe
            if ps.inh == COPY:
                if ps.wired:
                    # FORK-3: eager copy, mapped in the child with max_protection; the
                    # child's entry keeps the parent's eflags (COW, NEEDS_COPY: AUDIT4)
                    try:
                        content, known = resolve(ps.cell)
                    except EOFAccess:
                        # the wired page was truncated away (OBJ-10 keeps it, invalid): what
                        # vm_fault_copy_entry copies from it is not the file's business
                        content, known = ZERO, 0
                    cell = AnonCell(bytearray(content))
                    cell.known = known
                    c.cell = cell
                    c.pte_maybe = ps.prot != ps.maxp or ps.max_unsure
                    c.shares_pte = ps.wired_nc and bool(ps.maxp & W)
                elif ps.shares_pte:
                    # FORK-3 (AUDIT4): NEEDS_COPY skips pmap_protect, pmap_copy copies the
                    # writable translation: both may store to one page from now on
                    old = ps.cell
                    if not isinstance(old, SharedPteCell):
                        content, _ = resolve(old)
                        old = SharedPteCell(bytearray(content))
                        old.known = 0
                    ps.cell = c.cell = old
                    c.shares_pte = True
                else:
                    old = ps.cell
                    risky = direct[id(old)] > 1
                    ps.cell = CowCell(old, risky)
                    ps.cow = True
                    c.cell = CowCell(old, risky)
                    c.cow = True
            child.pages[a] = c                              # FORK-2: SHARE keeps the cell
        self.procs.append(child)

    @precondition(lambda self: len(self.procs) < 3)
    @rule(uid=st.sampled_from([USER, USER, 0]))
    def spawn(self, uid):
        """A fresh process (exec image, empty arena), mostly unprivileged."""
        p = self.k.spawn(uid=uid, gid=uid)
        note(f"spawn uid {uid} -> {p.pid}")
        assert (p.brk_base() + p.getrlimit(RLIMIT_DATA)[1] + PG - 1) & ~(PG - 1) == self.H
        self.procs.append(ProcModel(p, open_fds(p)))

    @precondition(lambda self: len(self.procs) > 1)
    @rule(pi=PI)
    def exit(self, pi):
        pm = self.proc(pi)
        note(f"pid {pm.p.pid}: exit")
        pm.p.exit()
        self.procs.remove(pm)

    # -- user memory -------------------------------------------------------------------------------
    def draw_addr(self, pm: ProcModel, data) -> int:
        arena = st.integers(0, ARENA + 4).map(lambda i: self.H + i * PG)
        if not pm.pages:
            return data.draw(arena)
        mapped = st.sampled_from(sorted(pm.pages))
        # pages of files and devices (directly or under copy-on-write) get extra attention:
        # that is where EOF, truncation and sharing between unrelated processes show
        backed = sorted(a for a, ps in pm.pages.items() if isinstance(bottom(ps.cell), Backing))
        if backed:
            return data.draw(st.one_of(mapped, st.sampled_from(backed), arena))
        return data.draw(st.one_of(mapped, mapped, arena))

    @rule(pi=PI, data=st.data())
    def mem_write(self, pi, data):
        pm = self.proc(pi)
        addr = self.draw_addr(pm, data)
        if data.draw(st.booleans()):
            off, n = 0, PG
        else:
            off = data.draw(st.integers(0, PG - 1))
            n = data.draw(st.integers(1, PG - off))
        note(f"pid {pm.p.pid}: store {addr + off:#x} +{n:#x}")
        self.do_write(pm, addr, off, payload(data.draw(st.integers(0, 2 ** 32)), n))

    def file_backed(self):
        return [(pm, a) for pm in self.procs for a, ps in sorted(pm.pages.items())
                if isinstance(bottom(ps.cell), FilePage)]

    @precondition(lambda self: self.file_backed())
    @rule(data=st.data(), near_eof=st.booleans())
    def file_page_store(self, data, near_eof):
        """A store to a page of a file mapping (shared or copy-on-write), often straddling the
        end of the file: the bytes inside the file reach it, those past EOF stay in the page
        (PGR-4), and loads past EOF in the last page read zero until then."""
        pm, addr = data.draw(st.sampled_from(self.file_backed()))
        fp = bottom(pm.pages[addr].cell)
        eof = len(fp.f.data) - fp.idx * PG
        if near_eof and 0 < eof < PG:
            off = data.draw(st.integers(max(0, eof - 64), eof))
            n = data.draw(st.integers(1, min(PG - off, 128)))
        else:
            off = data.draw(st.integers(0, PG - 1))
            n = data.draw(st.integers(1, PG - off))
        note(f"pid {pm.p.pid}: store {addr + off:#x} +{n:#x} ({fp.f.path} page {fp.idx})")
        self.check_read(pm, addr)
        self.do_write(pm, addr, off, payload(data.draw(st.integers(0, 2 ** 32)), n))
        self.check_read(pm, addr)

    @rule(pi=PI, data=st.data())
    def mem_read(self, pi, data):
        pm = self.proc(pi)
        addr = self.draw_addr(pm, data)
        note(f"pid {pm.p.pid}: load {addr:#x}")
        self.check_read(pm, addr)

    @precondition(lambda self: self.BALLOON)
    @rule(pi=PI, start=st.integers(0, 400), count=st.integers(1, 400), seed=st.integers(0, 255))
    def balloon(self, pi, start, count, seed):
        """Touch many pages of the big region (memory pressure), then check a few."""
        pm = self.proc(pi)
        start %= self.BALLOON
        idx = list(range(start, min(self.BALLOON, start + count)))
        note(f"pid {pm.p.pid}: balloon {start}..{idx[-1]}")
        for i in idx:
            a = self.B + i * PG
            if a in pm.pages:
                self.do_write(pm, a, (i * 64) % PG, bytes([seed, i & 0xFF]) * 8)
        for i in idx[::7]:
            self.check_read(pm, self.B + i * PG)

    # -- checks ----------------------------------------------------------------------------------
    @invariant()
    def kernel_consistent(self):
        # hypothesis checks invariants once before the first step and then after every step
        if self._counted_start:
            STATS["steps"] += 1
        self._counted_start = True
        self.k.check_invariants()

    def teardown(self):
        try:
            for pm in self.procs:
                for a in sorted(pm.pages):
                    self.check_read(pm, a)
            for pm in list(self.procs):
                pm.p.exit()
                self.procs.remove(pm)
            for path, f in self.files.items():
                assert f.same(self.host_file(path)), f"{path}: host file differs"
            assert bytes(self.dev.si_memory) == bytes(self.devm.data), "/dev/fb0 differs"
            check_quiescent(self.k)
        finally:
            self.k.close()


class BigMachine(VMMachine):
    KERNEL_ARGS = {}


class SmallMachine(VMMachine):
    """(c): 2 MiB of RAM, so the page daemon pages anonymous memory out to swap and writes file
    pages back while the same data properties must hold."""
    KERNEL_ARGS = dict(physmem="2M", swap="16M")
    BALLOON = 520           # more than the 480 frames users get: paging from the first step


class SharingMachine(BigMachine):
    """One small region and many forks: the copy-on-write / INHERIT_* / wiring interleavings
    (FORK-1..3, FLT-5, FLT-12) get far more attention than in the general machine."""
    mmap_anon = mmap_file = munmap = minherit = madvise = msync = file_pread = None
    mmap_zero = mmap_dev = spawn = file_ftruncate = dev_pwrite = mlockall = munlockall = None
    mincore = file_page_store = None

    @initialize(kind=st.sampled_from(["anon", "shared anon", "file", "shared file"]),
                npages=st.integers(1, 3), prot=st.sampled_from([R | W, R | W, R]))
    def region(self, kind, npages, prot):
        pm = self.procs[0]
        if kind.endswith("anon"):
            self.do_mmap_anon(pm, kind.startswith("shared"), npages, prot, True, 0)
        else:
            self.do_mmap_file(pm, "/f1", kind.startswith("shared"), False, 1, npages, prot,
                              True, 0)

    @precondition(lambda self: len(self.procs) < 3)
    @rule(pi=PI, inh=st.sampled_from([SHARE, COPY, NONE]))
    def minherit_then_fork(self, pi, inh):
        pm = self.proc(pi)
        pm.p.minherit(self.H, 3 * PG, inh)
        for a in self.addrs(0, 3):
            if a in pm.pages:
                pm.pages[a].inh = inh
        self.fork(pi)

    @invariant()
    def every_page_reads_as_the_model_says(self):
        # Loads map pages everywhere, which is what lets a stale translation (a copy-on-write
        # into a shared shadow that left another space mapping the old page) show up at all.
        for pm in self.procs:
            for a in sorted(pm.pages):
                self.check_read(pm, a)


TestVMProperties = BigMachine.TestCase
TestVMProperties.settings = settings(stateful_step_count=100)

TestVMPropertiesUnderPressure = SmallMachine.TestCase
TestVMPropertiesUnderPressure.settings = settings(stateful_step_count=80)

TestSharingProperties = SharingMachine.TestCase
TestSharingProperties.settings = settings(stateful_step_count=60)


def test_pressure_really_pages_out():
    """The small configuration does exercise the swap pager: one fixed program, checked."""
    k = Kernel(physmem="2M", swap="16M")
    try:
        p = k.spawn(uid=0)
        n = 700                                  # more than the 480 frames users can get
        a = p.mmap(0, n * PG, R | W, mman.MAP_ANON | mman.MAP_PRIVATE)
        for i in range(n):
            p.mem_write(a + i * PG, i.to_bytes(4, "little") * 4)
        c = p.fork()
        for i in range(0, n, 3):
            c.mem_write(a + i * PG + 100, b"child")
        k.check_invariants()
        st_ = k.vmstat()
        assert st_["v_swapout"] > 0 and st_["v_swap_used"] > 0
        for i in range(n):
            assert p.mem_read(a + i * PG, 16) == i.to_bytes(4, "little") * 4
            got = c.mem_read(a + i * PG, 105)
            assert got[:16] == i.to_bytes(4, "little") * 4
            assert got[100:105] == (b"child" if i % 3 == 0 else bytes(5))
        assert k.vmstat()["v_swapin"] > 0
        p.exit()
        c.exit()
        check_quiescent(k)
    finally:
        k.close()
