"""Bad input: every public Process and Kernel method called with wrong types, negative, huge, wrapping,
page-crossing and unaligned values, unknown flag bits, and closed, foreign, negative and huge
descriptors.

Each call must either succeed (where the seed, after the C conversion of the arguments that
process.py performs, really accepts the value), or raise OSError carrying the errno the seed computes,
or TypeError for a non-integer — never another exception.  A failing call must leave the system as it
was: the maps of every process, the kernel's page/wire/swap/object counts (event counters excluded),
the descriptor tables, the limits, the bytes readable in memory and the bytes of every host file are
compared before and after.  The only tolerated changes are FreeBSD 7's own (docs/errata.md, spec
section 14): MAP_FIXED removes the old range before a vnode check can fail (VMM-4), a failed
mprotect/mlock/munlock leaves its clips (MAP-21/35) and a failed wiring may leave pages faulted in and
WRITE stripped from a PROT_NONE entry's max_protection (FLT-3), and mlockall(MCL_CURRENT|MCL_FUTURE)
keeps MAP_WIREFUTURE when the wiring fails (MLA-3).

Expected errnos come from an oracle written from the spec (sections 11.1-11.13), evaluated on the
maps as they were before the call — not from the implementation.  The number of bad inputs tried is
kept in BAD_INPUTS and printed at the end of the module.
"""
from __future__ import annotations

import errno
import os
import stat as stat_mod
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bsdvm import Kernel, MemoryFault, mman, resource
from bsdvm.mman import (MAP_ANON, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MAP_STACK, MCL_CURRENT,
                        MCL_FUTURE, MS_ASYNC, MS_INVALIDATE, PROT_EXEC, PROT_NONE, PROT_READ,
                        PROT_WRITE)

PG = 4096
RW = PROT_READ | PROT_WRITE
M64 = (1 << 64) - 1
SIGN64 = 1 << 63
MAXU = 0x0000800000000000           # amd64 vm_maxuser_address (vm_map_max of a user map)
MAXDSIZ = 32 << 30

BAD_INPUTS = {"calls": 0, "failures_checked": 0, "successes": 0, "type_errors": 0}

# an example count that follows the loaded profile (ci: 60 -> 150, long: 2000)
N_EX = max(150, settings.default.max_examples)
HSET = settings(max_examples=N_EX, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module", autouse=True)
def _summary():
    yield
    print(f"\n[test_bad_input] bad inputs tried: {BAD_INPUTS['calls']} "
          f"(failures checked for unchanged state: {BAD_INPUTS['failures_checked']}, "
          f"accepted after C conversion: {BAD_INPUTS['successes']}, "
          f"TypeError: {BAD_INPUTS['type_errors']})")


# -- C conversions (the policy process.py documents) ---------------------------------------------
#
# An int argument is taken if it fits the C type as either a signed or an unsigned value of that
# width (so -1 is the all-ones word, 2**64 - 1 and -2**63 are 64-bit words, 2**32 - 1 and -2**31 are
# C ints) and is then the C value of those bits.  Any other int is refused before the kernel sees it:
# OSError EINVAL, or EBADF for a descriptor argument, with nothing changed (close(2**32) must not
# close descriptor 0, mmap(len=2**64) is not a zero-length mapping).  The arguments of a system call
# are converted left to right, so the first one of a wrong type (TypeError) or out of range decides.
# amd64 widths: a word (vm_offset_t, size_t) and a C long are 64 bits, off_t and rlim_t 64, int 32.

WORD_BITS = 64
LONG_BITS = 64


class Refused(Exception):
    """An argument no conversion accepts: `err` is TypeError or the errno of the refusal."""

    def __init__(self, err):
        super().__init__(err)
        self.err = err


def fits(x: int, bits: int) -> bool:
    """Does x fit a `bits`-bit C integer, read as signed or as unsigned?"""
    return -(1 << (bits - 1)) <= x < (1 << bits)


def c_value(x, bits: int, signed: bool, err: int = errno.EINVAL) -> int:
    if not isinstance(x, int):
        raise Refused(TypeError)
    if not fits(x, bits):
        raise Refused(err)
    x &= (1 << bits) - 1
    return x - (1 << bits) if signed and x >> (bits - 1) else x


def cint(x) -> int:
    return c_value(x, 32, True)


def cfd(x) -> int:
    """A descriptor (a C int): out of range is EBADF."""
    return c_value(x, 32, True, errno.EBADF)


def off64(x) -> int:
    return c_value(x, 64, True)


def clong(x) -> int:
    return c_value(x, LONG_BITS, True)


def word(x) -> int:
    """vm_offset_t / size_t: unsigned."""
    return c_value(x, WORD_BITS, False)


def trunc_page(x: int) -> int:
    return x & ~(PG - 1)


def round_page(x: int) -> int:
    return (x + PG - 1) & ~(PG - 1)


# -- the world every call is made in --------------------------------------------------------------

@dataclass
class World:
    k: Kernel
    p: object                       # the process under test
    q: object                       # another process (foreign descriptors, private memory)
    root: bool
    R: int = 0                      # base of the region the pieces below live in
    fds: dict = field(default_factory=dict)     # name -> fd in p
    fdkind: dict = field(default_factory=dict)  # fd -> kind
    mem: dict = field(default_factory=dict)     # addr -> bytes readable there (p)
    qmem: dict = field(default_factory=dict)
    files: tuple = ()
    dirty: bool = False

    def kind(self, fd: int) -> str:
        return self.fdkind.get(fd, "bad")


def pat(tag: int, n: int) -> bytes:
    return bytes((tag * 31 + i * 7) & 0xFF for i in range(n))


def make_world(root: bool) -> World:
    """Layout of p inside a region R (pages):
        0-3 A anon private RW (written)      4   hole
        5-6 B anon shared RW (written)       7-8 C /rw.bin shared RW (written)
        9-10 D /rw.bin private R (read)      11-12 hole
        13-14 E anon PROT_NONE               15-16 F /ro.bin shared R from an O_RDONLY open
        17-19 G /short.bin shared RW, file 1 page long (pages 1-2 lie past EOF)
        20-21 H anon RW, mlocked when root   22-31 hole (unmapped up to R + 32 pages)
    """
    k = Kernel(physmem="32M", swap="32M")
    uid = 0 if root else 1000
    p = k.spawn(uid=uid, gid=uid)
    q = k.spawn(uid=2000, gid=2000)
    w = World(k=k, p=p, q=q, root=root)
    O = os
    fd = p.open("/rw.bin", O.O_RDWR | O.O_CREAT, 0o644)
    p.write(fd, pat(1, 2 * PG))
    w.fds["rw"] = fd
    fd = p.open("/ro.bin", O.O_RDWR | O.O_CREAT, 0o644)
    p.write(fd, pat(2, 2 * PG))
    p.close(fd)
    w.fds["ro"] = p.open("/ro.bin", O.O_RDONLY)
    w.fds["wo"] = p.open("/rw.bin", O.O_WRONLY)
    fd = p.open("/short.bin", O.O_RDWR | O.O_CREAT, 0o644)
    p.write(fd, pat(3, PG))
    w.fds["short"] = fd
    fd = p.open("/imm.bin", O.O_RDWR | O.O_CREAT, 0o644)
    p.write(fd, pat(4, PG))
    w.fds["imm"] = fd
    p.chflags("/imm.bin", stat_mod.UF_IMMUTABLE)
    r, wr = p.pipe()
    w.fds["pipe_r"], w.fds["pipe_w"] = r, wr
    dz = p.open("/dev/zero", O.O_RDWR)
    w.fds["zero"] = dz
    closed = p.open("/rw.bin", O.O_RDONLY)
    p.close(closed)
    w.fds["closed"] = closed        # a closed slot below the highest open descriptor? (see below)
    keep = p.open("/ro.bin", O.O_RDONLY)
    w.fds["ro2"] = keep             # reuses the closed slot: so use another number for "closed"
    extra = p.open("/ro.bin", O.O_RDONLY)
    p.close(extra)
    w.fds["closed"] = extra         # the highest slot, now closed
    for _ in range(20):             # q has many more descriptors: their numbers are foreign to p
        q.open("/ro.bin", O.O_RDONLY)
    kinds = {"rw": "rw", "ro": "ro", "ro2": "ro", "wo": "wo", "short": "rw", "imm": "imm",
             "pipe_r": "pipe", "pipe_w": "pipe", "zero": "zero"}
    for name, kd in kinds.items():
        w.fdkind[w.fds[name]] = kd

    R = p.mmap(0, 32 * PG, PROT_NONE, MAP_ANON | MAP_PRIVATE)
    p.munmap(R, 32 * PG)
    w.R = R
    F = MAP_FIXED
    p.mmap(R, 4 * PG, RW, MAP_ANON | MAP_PRIVATE | F)
    p.mmap(R + 5 * PG, 2 * PG, RW, MAP_ANON | MAP_SHARED | F)
    p.mmap(R + 7 * PG, 2 * PG, RW, MAP_SHARED | F, w.fds["rw"], 0)
    p.mmap(R + 9 * PG, 2 * PG, PROT_READ, MAP_PRIVATE | F, w.fds["rw"], 0)
    p.mmap(R + 13 * PG, 2 * PG, PROT_NONE, MAP_ANON | MAP_PRIVATE | F)
    p.mmap(R + 15 * PG, 2 * PG, PROT_READ, MAP_SHARED | F, w.fds["ro"], 0)
    p.mmap(R + 17 * PG, 3 * PG, RW, MAP_SHARED | F, w.fds["short"], 0)
    p.mmap(R + 20 * PG, 2 * PG, RW, MAP_ANON | MAP_PRIVATE | F)
    p.mem_write(R, pat(5, 4 * PG))
    p.mem_write(R + 5 * PG, pat(6, 2 * PG))
    p.mem_write(R + 7 * PG, pat(7, 100))
    p.mem_write(R + 17 * PG, pat(8, 50))
    p.mem_write(R + 20 * PG, pat(9, 2 * PG))
    if root:
        p.mlock(R + 20 * PG, 2 * PG)
    p.msync(R + 7 * PG, 2 * PG, mman.MS_SYNC)      # host files hold what the mappings show
    p.msync(R + 17 * PG, 3 * PG, mman.MS_SYNC)
    w.mem = {R: p.mem_read(R, 4 * PG), R + 5 * PG: p.mem_read(R + 5 * PG, 2 * PG),
             R + 7 * PG: p.mem_read(R + 7 * PG, 2 * PG), R + 9 * PG: p.mem_read(R + 9 * PG, 2 * PG),
             R + 15 * PG: p.mem_read(R + 15 * PG, 2 * PG), R + 17 * PG: p.mem_read(R + 17 * PG, PG),
             R + 20 * PG: p.mem_read(R + 20 * PG, 2 * PG)}
    # q: private memory at the same address as p's A
    q.mmap(R, 4 * PG, RW, MAP_ANON | MAP_PRIVATE | F)
    q.mem_write(R, pat(10, 4 * PG))
    w.qmem = {R: q.mem_read(R, 4 * PG)}
    w.files = ("rw.bin", "ro.bin", "short.bin", "imm.bin")
    return w


_worlds: dict = {}


def world(root: bool) -> World:
    """A cached world; rebuilt after any call that succeeded (and so may have changed it)."""
    w = _worlds.get(root)
    if w is None or w.dirty:
        if w is not None:
            w.k.close()
        w = _worlds[root] = make_world(root)
    return w


@pytest.fixture(scope="module", autouse=True)
def _close_worlds():
    yield
    for w in _worlds.values():
        w.k.close()
    _worlds.clear()


# -- snapshots ------------------------------------------------------------------------------------

EVENT_COUNTERS = {"v_vm_faults", "v_cow_faults", "v_cow_optim", "v_zfod", "v_ozfod", "v_swapin",
                  "v_swapout", "v_swappgsin", "v_swappgsout", "v_vnodein", "v_vnodeout",
                  "v_vnodepgsin", "v_vnodepgsout", "v_intrans", "v_reactivated", "v_pdwakeups",
                  "v_pdpages", "v_tcached", "v_dfree", "v_pfree", "v_tfree", "v_forks",
                  "v_forkpages", "v_kthreads", "v_prefault", "object_collapses",
                  "object_bypasses"}
RESIDENCY = {"v_free_count", "v_active_count", "v_inactive_count", "v_cache_count"}


def _fdtab(proc):
    fdt = proc.proc.p_fd
    return [(i, id(fdt._files[i]), fdt._files[i].f_flag, fdt._files[i].f_offset,
             fdt._files[i].f_count) for i in fdt.open_fds()]


def _vmsinfo(proc):
    d = proc.vmspace_info()
    d.pop("timestamp")
    return d


def snapshot(w: World) -> dict:
    k = w.k
    vm = {n: v for n, v in k.vmstat().items() if n not in EVENT_COUNTERS}
    files = {}
    for name in w.files:
        with open(os.path.join(k.root, name), "rb") as f:
            files[name] = f.read()
    procs = {}
    for proc in (w.p, w.q):
        procs[proc.pid] = dict(maps=proc.maps(), info=_vmsinfo(proc), fds=_fdtab(proc),
                               limits=[proc.getrlimit(i) for i in range(resource.RLIM_NLIMITS)],
                               protected=proc.protected)
    sysctls = {n: k.sysctl(n) for n in ("vm.max_proc_mmap", "vm.max_wired", "vm.old_msync",
                                         "kern.sgrowsiz", "machdep.prot_fault_translation")}
    return dict(vm=vm, files=files, procs=procs, sysctls=sysctls, nprocs=len(k.processes()),
                devs=sorted(k.devices))


def _rows(maps, loose: bool, cut=None):
    """Entries as (start, end, attributes, file offset - start, resident) rows, optionally with the
    range `cut` taken out.  With `loose`, residency and the WRITE bit of max_prot of non-readable
    entries (FLT-3) are ignored."""
    rows = []
    for e in maps:
        otype = "default" if e.object_type is None else e.object_type
        maxp = e.max_prot
        flags = e.flags
        if loose and not e.prot & PROT_READ:
            maxp &= ~PROT_WRITE
        if loose:       # wiring a writable COW entry makes its shadow at once (FLT-12)
            flags = flags - {"NEEDS_COPY"}
        key = (e.prot, maxp, e.inheritance, e.wired_count, flags, e.behavior, otype, e.path)
        rel = e.offset - e.start if otype in ("vnode", "device") else None
        res = None if (loose or cut) else e.resident
        pieces = [(e.start, e.end)]
        if cut is not None:
            lo, hi = cut
            pieces = [(a, b) for a, b in ((e.start, min(e.end, lo)), (max(e.start, hi), e.end))
                      if a < b]
        for a, b in pieces:
            rows.append([a, b, key, rel, res])
    return rows


def _merge_view(maps, loose: bool, cut=None):
    """The maps with clip boundaries erased: adjacent rows whose attributes agree are merged."""
    out = []
    for a, b, key, rel, res in _rows(maps, loose, cut):
        if out and out[-1][1] == a and out[-1][2] == key and out[-1][3] == rel:
            out[-1][1] = b
            if res is not None:
                out[-1][4] += res
        else:
            out.append([a, b, key, rel, res])
    return out


def assert_unchanged(w: World, before: dict, mode: str = "strict", fixed_range=None):
    """mode: strict | clips (MAP-21/35) | wire (clips + FLT-3 + pages faulted in) | fixed (VMM-4)."""
    after = snapshot(w)
    for pid, b in before["procs"].items():
        a = after["procs"][pid]
        bm, am = b["maps"], a["maps"]
        if mode == "fixed" and pid == w.p.pid:
            lo, hi = fixed_range
            assert not [e for e in am if e.start < hi and e.end > lo], "fixed range not removed"
            assert _merge_view(am, False, fixed_range) == _merge_view(bm, False, fixed_range), \
                (mode, bm, am)
        elif mode in ("clips", "wire") and pid == w.p.pid:
            assert _merge_view(am, mode == "wire") == _merge_view(bm, mode == "wire"), \
                (mode, bm, am)
        else:
            assert am == bm, "maps changed"
        binfo, ainfo = dict(b["info"]), dict(a["info"])
        if mode in ("clips", "wire", "fixed"):
            for key in ("resident", "size", "nentries") if mode != "clips" else ("resident", "nentries"):
                binfo.pop(key)
                ainfo.pop(key)
        if mode == "fixed":
            binfo.pop("wired")
            ainfo.pop("wired")
        if mode == "wire":
            binfo.pop("wirefuture")     # MLA-3: MCL_FUTURE stays when MCL_CURRENT fails
            ainfo.pop("wirefuture")
        assert ainfo == binfo, ("vmspace", binfo, ainfo)
        for key in ("fds", "limits", "protected"):
            assert a[key] == b[key], key
    bvm, avm = dict(before["vm"]), dict(after["vm"])
    if mode in ("wire", "fixed"):
        for key in RESIDENCY | {"v_wire_count"}:
            bvm.pop(key)
            avm.pop(key)
    if mode != "strict":                # a clip gives an object-less entry an object (MAP-13)
        bvm.pop("object_count")
        avm.pop("object_count")
    assert avm == bvm, ("vmstat", bvm, avm)
    assert after["files"] == before["files"], "host file contents changed"
    assert after["sysctls"] == before["sysctls"]
    assert after["nprocs"] == before["nprocs"]
    assert after["devs"] == before["devs"]
    # bytes readable in memory (read after the map comparison: reading may fault pages in)
    for addr, data in w.mem.items():
        if mode == "fixed" and addr < fixed_range[1] and addr + len(data) > fixed_range[0]:
            continue
        assert w.p.mem_read(addr, len(data)) == data, hex(addr)
    for addr, data in w.qmem.items():
        assert w.q.mem_read(addr, len(data)) == data
    w.k.check_invariants()


# -- the oracle: the seed's errno paths (spec section 11) on the maps before the call -------------

class Expect:
    """What a call must do: `err` 0 (success), an errno, or TypeError; `mode` is the state
    comparison to use if it fails; `ret` the return value expected on success (None: any)."""

    def __init__(self, err, mode="strict", fixed_range=None, ret=None):
        self.err, self.mode, self.fixed_range, self.ret = err, mode, fixed_range, ret

    def __repr__(self):
        return f"Expect({self.err!r}, {self.mode})"


OK = 0


def entry_index(maps, a):
    for i, e in enumerate(maps):
        if e.start <= a < e.end:
            return i
    return None


def covered(maps, s, e) -> bool:
    """MAP-19 with VM_PROT_NONE: s inside an entry and [s, e) without holes."""
    i = entry_index(maps, s)
    if i is None:
        return False
    while maps[i].end < e:
        if i + 1 == len(maps) or maps[i + 1].start != maps[i].end:
            return False
        i += 1
    return True


def clamp(s, e):
    """VM_MAP_RANGE_CHECK (MAP-3)."""
    s, e = max(s, 0), min(e, MAXU)
    if s > e:
        s = e
    return s, e


def preprocess(addr, length):
    """Common to msync/munmap/mprotect/minherit: (addr, size, wraps)."""
    pageoff = addr & (PG - 1)
    addr -= pageoff
    size = round_page((length + pageoff) & M64) & M64
    return addr, size, ((addr + size) & M64) < addr


def o_munmap(w, maps, addr, length):
    addr, length = word(addr), word(length)
    if length == 0:
        return Expect(errno.EINVAL)
    a, size, wraps = preprocess(addr, length)
    if wraps or a + size > MAXU:
        return Expect(errno.EINVAL)
    if not covered(maps, a, a + size):
        return Expect(errno.EINVAL)
    return Expect(OK)


def o_mprotect(w, maps, addr, length, prot):
    addr, length, prot = word(addr), word(length), cint(prot) & 7
    a, size, wraps = preprocess(addr, length)
    if wraps:
        return Expect(errno.EINVAL)
    s, e = clamp(a, a + size)
    if s < e:
        for x in maps:
            if x.start < e and x.end > s and (prot & x.max_prot) != prot:
                return Expect(errno.EACCES, "clips")
    return Expect(OK)


def o_minherit(w, maps, addr, length, inherit):
    addr, length, inherit = word(addr), word(length), cint(inherit)
    a, size, wraps = preprocess(addr, length)
    inherit = ((inherit + 0x80) & 0xFF) - 0x80         # vm_inherit_t is a char
    if wraps or inherit not in (0, 1, 2):
        return Expect(errno.EINVAL)
    return Expect(OK)


def o_madvise(w, maps, addr, length, behav):
    a, n, behav = word(addr), word(length), cint(behav)
    if behav == mman.MADV_PROTECT:
        return Expect(OK if w.root else errno.EPERM)
    if behav < 0 or behav > mman.MADV_CORE:
        return Expect(errno.EINVAL)
    if ((a + n) & M64) > MAXU or ((a + n) & M64) < a:
        return Expect(errno.EINVAL)
    return Expect(OK)


def o_mincore(w, maps, addr, length):
    a, n = word(addr), word(length)
    first = trunc_page(a)
    end = (first + (round_page(n) & M64)) & M64
    if end > MAXU or end < first:
        return Expect(errno.ENOMEM)
    i = entry_index(maps, first)
    if i is None:
        return Expect(errno.ENOMEM)
    cur = i
    while cur < len(maps) and maps[cur].start < end:      # MIN-4, with its bug
        c = maps[cur]
        if c.end < end and (i == len(maps) - 1
                            or (cur + 1 < len(maps) and maps[cur + 1].start > c.end)):
            return Expect(errno.ENOMEM)
        cur += 1
    return Expect(OK)


FILE_PAGES = {"/rw.bin": 2, "/ro.bin": 2, "/short.bin": 1, "/imm.bin": 1}


def wireable(e, lo, hi) -> bool:
    """Can vm_fault_wire fault [lo, hi) of entry e (FLT-3, FLT-4)?"""
    if e.wired_count:
        return True
    if not e.prot & PROT_READ:
        if (e.max_prot & RW) != RW:
            return False
        # FLT-3 strips WRITE from the entry's max_protection at its first page, so the retry for
        # a second page of the same entry fails (as vm_fault.c does in FreeBSD 7)
        if hi - lo > PG:
            return False
    if e.object_type == "vnode":
        last = (e.offset + hi - e.start) // PG
        if last > FILE_PAGES[e.path]:
            return False
    return True


def wire_walk(maps, s, e, holesok):
    """vm_map_wire's outcome on [s, e): True or False."""
    i = entry_index(maps, s)
    if i is None:
        if not holesok:
            return False
        i = next((j for j, x in enumerate(maps) if x.start >= s), len(maps))
    while i < len(maps) and maps[i].start < e:
        c = maps[i]
        if not wireable(c, max(s, c.start), min(e, c.end)):
            return False
        if not holesok and c.end < e and (i + 1 == len(maps) or maps[i + 1].start != c.end):
            return False
        i += 1
    return True


def o_mlock(w, maps, addr, length):
    a, n = word(addr), word(length)             # refused before the kernel's privilege check
    if not w.root:
        return Expect(errno.EPERM)
    last = (a + n) & M64
    start, end = trunc_page(a), round_page(last) & M64
    if last < a or end < a:
        return Expect(errno.EINVAL)
    npages = (end - start) // PG
    maxw = w.k.sysctl("vm.max_wired")
    if npages > maxw:
        return Expect(errno.ENOMEM)
    if npages + w.k.vmstat()["v_wire_count"] > maxw:
        return Expect(errno.EAGAIN)
    s, e = clamp(start, end)
    if s == e:                                  # MAP-36 deviation: the later fix
        return Expect(OK if entry_index(maps, s) is not None else errno.ENOMEM)
    if not wire_walk(maps, s, e, False):
        return Expect(errno.ENOMEM, "wire")
    return Expect(OK)


def o_munlock(w, maps, addr, length):
    a, n = word(addr), word(length)
    if not w.root:
        return Expect(errno.EPERM)
    last = (a + n) & M64
    start, end = trunc_page(a), round_page(last) & M64
    if last < a or end < a:
        return Expect(errno.EINVAL)
    s, e = clamp(start, end)
    if s == e:
        return Expect(OK if entry_index(maps, s) is not None else errno.ENOMEM)
    if not covered(maps, s, e):
        return Expect(errno.ENOMEM, "clips")
    return Expect(OK)


def o_mlockall(w, maps, how):
    how = cint(how)
    if how == 0 or how & ~(MCL_CURRENT | MCL_FUTURE):
        return Expect(errno.EINVAL)
    if not w.root:
        return Expect(errno.EPERM)
    if how & MCL_CURRENT and not wire_walk(maps, 0, MAXU, True):
        return Expect(errno.EAGAIN, "wire")
    return Expect(OK)


def o_munlockall(w, maps):
    return Expect(OK if w.root else errno.EPERM)


def o_msync(w, maps, addr, length, flags):
    addr, length, flags = word(addr), word(length), cint(flags)
    a, size, wraps = preprocess(addr, length)
    if wraps:
        return Expect(errno.EINVAL)
    if flags & (MS_ASYNC | MS_INVALIDATE) == MS_ASYNC | MS_INVALIDATE:
        return Expect(errno.EINVAL)
    s, e = clamp(a, a + size)
    i = entry_index(maps, s)
    if i is None:
        return Expect(errno.EINVAL)
    if s == e:
        s, e = maps[i].start, maps[i].end
    while i < len(maps) and maps[i].start < e:
        c = maps[i]
        if flags & MS_INVALIDATE and "USER_WIRED" in c.flags:
            return Expect(errno.EBUSY)
        if e > c.end and (i + 1 == len(maps) or maps[i + 1].start != c.end):
            return Expect(errno.EINVAL)
        i += 1
    return Expect(OK)


def findspace(maps, start, size):
    start = max(start, 0)
    if start + size > MAXU:
        return None
    cands = [start] + [x.end for x in maps if x.end > start]
    for c in sorted(cands):
        if not any(x.start < c + size and x.end > c for x in maps) and c + size <= MAXU:
            return c
    return None


FD_FLAGS = {"rw": 3, "ro": 1, "wo": 2, "imm": 3, "zero": 3, "pipe": 3}


def o_mmap(w, maps, addr, length, prot, flags, fd=-1, pos=0):
    a, n = word(addr), word(length)
    prot, flags, fd, pos = cint(prot) & 7, cint(flags), cfd(fd), off64(pos)
    if n & SIGN64 or (flags & MAP_ANON and fd != -1):
        return Expect(errno.EINVAL)
    if flags & MAP_STACK:
        if fd != -1 or prot & RW != RW:
            return Expect(errno.EINVAL)
        flags |= MAP_ANON
        pos = 0
    pageoff = pos & (PG - 1)
    pos -= pageoff
    size = round_page((n + pageoff) & M64) & M64
    fixed = bool(flags & MAP_FIXED)
    if fixed:
        a = (a - pageoff) & M64
        if a & (PG - 1) or ((a + size) & M64) > MAXU or ((a + size) & M64) < a:
            return Expect(errno.EINVAL)
    else:
        info = w.p.vmspace_info()
        heap_end = round_page(info["daddr"] + MAXDSIZ)
        if a == 0 or round_page(info["taddr"]) <= a < heap_end:
            a = heap_end
    kind = None
    if not flags & MAP_ANON:
        kind = w.kind(fd)
        if kind == "bad":
            return Expect(errno.EBADF)
        if kind == "pipe":
            return Expect(errno.ENODEV)
        ff = FD_FLAGS[kind]
        if not ff & 1 and prot & PROT_READ:
            return Expect(errno.EACCES)
        if flags & MAP_SHARED and not ff & 2 and prot & PROT_WRITE:
            return Expect(errno.EACCES)
    if size == 0:                                       # MMAP-12 / VMM-1
        return Expect(OK, ret=(a + pageoff) & M64)
    fixed_mode = ("fixed", (a, a + size)) if fixed else ("strict", None)
    if fixed:
        maps = [x for x in maps if x.end <= a or x.start >= a + size] + \
            [_Piece(x.start, min(x.end, a)) for x in maps if x.start < a < x.end] + \
            [_Piece(max(x.start, a + size), x.end) for x in maps if x.start < a + size < x.end]
        maps.sort(key=lambda x: x.start)
    if kind == "imm" and flags & MAP_SHARED and prot & PROT_WRITE:
        return Expect(errno.EPERM, *fixed_mode)         # MMV-6
    if flags & MAP_STACK:
        if not fixed:
            a = round_page(a) & M64
        nxt = [x for x in maps if x.start >= a]
        if a > MAXU or entry_index(maps, a) is not None or \
                (nxt and nxt[0].start < a + size) or a + size > MAXU:
            return Expect(errno.ENOMEM, *fixed_mode)
        return Expect(OK, ret=(a + pageoff) & M64)
    if fixed:
        return Expect(OK, ret=(a + pageoff) & M64)
    found = findspace(maps, round_page(a) & M64, size)
    if found is None:
        return Expect(errno.ENOMEM)
    return Expect(OK, ret=(found + pageoff) & M64)


@dataclass
class _Piece:
    start: int
    end: int


CVTBSDPROT = (0, PROT_EXEC, PROT_WRITE, PROT_EXEC | PROT_WRITE, PROT_READ, PROT_EXEC | PROT_READ,
              PROT_WRITE | PROT_READ, PROT_EXEC | PROT_WRITE | PROT_READ)


def o_ommap(w, maps, addr, length, prot, flags, fd=-1, pos=0):
    addr = word(addr)
    n = cint(length) & M64                      # int len, sign-extended into size_t
    prot = CVTBSDPROT[cint(prot) & 7]
    flags = cint(flags)
    fd, pos = cfd(fd), clong(pos)               # long pos
    nflags = 0
    if flags & mman.OMAP_ANON:
        nflags |= MAP_ANON
    if flags & mman.OMAP_COPY:
        nflags |= mman.MAP_COPY
    nflags |= MAP_SHARED if flags & mman.OMAP_SHARED else MAP_PRIVATE
    if flags & mman.OMAP_FIXED:
        nflags |= MAP_FIXED
    return o_mmap(w, maps, addr, n, prot, nflags, fd, pos)


def o_obreak(w, maps, nsize):
    new = round_page(word(nsize)) & M64
    info = w.p.vmspace_info()
    base = round_page(info["daddr"])
    old = base + info["dsize"] * PG
    if new > base:
        if new - base > w.p.getrlimit(resource.RLIMIT_DATA)[0] and new > old:
            return Expect(errno.ENOMEM)
        if new > MAXU:
            return Expect(errno.ENOMEM)
    elif new < base:
        return Expect(errno.EINVAL)
    if new > old and any(x.start < new and x.end > old for x in maps):
        return Expect(errno.ENOMEM)
    return Expect(OK)


def o_brk_stub(incr):
    cint(incr)                                  # int incr: still converted (BRK-0)
    return Expect(errno.EOPNOTSUPP)


ORACLES = {"mmap": o_mmap, "ommap": o_ommap, "munmap": o_munmap, "mprotect": o_mprotect,
           "minherit": o_minherit, "madvise": o_madvise, "mincore": o_mincore, "mlock": o_mlock,
           "munlock": o_munlock, "mlockall": o_mlockall, "munlockall": o_munlockall,
           "msync": o_msync, "obreak": o_obreak,
           "sbrk": lambda w, maps, incr: o_brk_stub(incr),
           "sstk": lambda w, maps, incr: o_brk_stub(incr)}


def oracle(w: World, name: str, args: tuple) -> Expect:
    """The expected outcome of `name(*args)` on p: each oracle converts its arguments first, in
    order, and a refused one (a wrong type or a value out of its C type's range) is the answer,
    with the state unchanged."""
    try:
        return ORACLES[name](w, w.p.maps(), *args)
    except Refused as r:
        return Expect(r.err)


# -- the driver -----------------------------------------------------------------------------------

def attempt(w: World, name: str, args: tuple, expect: Expect | None = None, target=None):
    """Call `name(*args)` on p (or `target`), check the outcome against `expect` (the oracle's if
    not given) and, on failure, that nothing changed."""
    BAD_INPUTS["calls"] += 1
    if expect is None:
        expect = oracle(w, name, args)
    before = snapshot(w)
    fn = getattr(target if target is not None else w.p, name)
    try:
        result = fn(*args)
    except TypeError as e:
        assert expect.err is TypeError, f"{name}{args!r}: TypeError {e}, expected {expect}"
        BAD_INPUTS["type_errors"] += 1
        assert_unchanged(w, before)
        return None
    except OSError as e:
        assert expect.err not in (OK, TypeError) and e.errno == expect.err, \
            f"{name}{args!r}: {errno.errorcode.get(e.errno, e.errno)}, expected {expect}"
        BAD_INPUTS["failures_checked"] += 1
        assert_unchanged(w, before, expect.mode, expect.fixed_range)
        if expect.mode != "strict":
            w.dirty = True
        return e
    except Exception as e:          # noqa: BLE001 -- any other exception is the failure
        pytest.fail(f"{name}{args!r} raised {type(e).__name__}: {e}")
    w.dirty = True
    assert expect.err == OK, f"{name}{args!r} succeeded (returned {result!r}), expected {expect}"
    if expect.ret is not None:
        assert result == expect.ret, (name, args, hex(result), hex(expect.ret))
    BAD_INPUTS["successes"] += 1
    w.k.check_invariants()
    return result


# -- argument strategies --------------------------------------------------------------------------

R0 = 0x800410000        # where make_world puts R (asserted in test_world_layout)
BAD_TYPES = ["1", "0x1000", 1.0, 2.5, float("nan"), None, object(), b"\x01", [1], (1,), 1j]

bad_type = st.sampled_from(BAD_TYPES)

# Words: every int in [-2**63, 2**64) is one (the in-range draws keep the old coverage of all
# 64-bit words); the values outside, down to -2**70 and up to 2**200, must be refused with EINVAL.
WORD_ST = st.integers(-2 ** 63, 2 ** 64 - 1)
SPECIAL_ADDRS = [0, 1, PG - 1, PG, 0x400000, 0x410000, 0x420000, R0 - PG, MAXU - PG, MAXU - 1, MAXU,
                 MAXU + PG, SIGN64, M64, M64 - PG + 1, -1, -PG, -R0, -2 ** 63, -2 ** 63 - 1, 2 ** 64,
                 2 ** 64 + R0, 2 ** 200, 2 ** 200 + R0, -2 ** 64 + R0, 0x7ffffffe0000,
                 0x7fffffffd000]
addr_st = st.one_of(
    st.sampled_from(SPECIAL_ADDRS),
    st.builds(lambda pg, d: R0 + pg * PG + d, st.integers(-3, 35),
              st.sampled_from([0, 0, 0, 1, PG - 1, -1, PG // 2])),
    WORD_ST,
    st.integers(-2 ** 70, 2 ** 70),
)
SPECIAL_LENS = [0, 1, PG - 1, PG, PG + 1, 2 * PG, 3 * PG, 4 * PG, 9 * PG, 32 * PG, -1, -PG, -PG - 1,
                SIGN64, SIGN64 - 1, SIGN64 - PG, SIGN64 + PG, 2 ** 64, 2 ** 64 + PG, 2 ** 64 - 1,
                2 ** 200, 2 ** 200 + PG, M64 - R0 + 1, M64 - R0 - PG + 1, MAXU, MAXU - R0, -2 ** 63,
                -2 ** 63 - 1, -2 ** 64 + PG, 2 ** 32, 2 ** 32 - 1, 2 ** 32 + PG, 2 ** 31,
                2 ** 31 - 1, 2 ** 40, -2 ** 31, -2 ** 31 - 1]
len_st = st.one_of(
    st.sampled_from(SPECIAL_LENS),
    st.builds(lambda n, d: n * PG + d, st.integers(0, 40), st.sampled_from([0, 0, 1, -1, PG // 2])),
    WORD_ST,
    st.integers(-2 ** 70, 2 ** 70),
)
# C ints: [-2**31, 2**32) is in range, everything else (2**32, 2**63, -2**31 - 1, ...) refused
int32ish = st.one_of(st.integers(-8, 16), st.sampled_from([0x7FFFFFFF, -2 ** 31, 2 ** 31, 2 ** 32 - 1,
                                                          2 ** 32, 2 ** 32 + 1, 2 ** 32 + 3,
                                                          -2 ** 31 - 1, 2 ** 63, 2 ** 64 - 1,
                                                          2 ** 200 + 1]),
                     st.integers(-2 ** 31, 2 ** 32 - 1), st.integers(-2 ** 66, 2 ** 66))
prot_st = st.one_of(st.integers(0, 7), int32ish)
KNOWN_FLAGS = [MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANON, MAP_STACK, mman.MAP_NOSYNC,
               mman.MAP_NOCORE, mman.MAP_RENAME, mman.MAP_NORESERVE, mman.MAP_HASSEMAPHORE]
UNKNOWN_BITS = [0, 0, 0, 0x4, 0x8, 0x80, 0x100, 0x2000, 0x4000, 0x10000, 0x40000, 1 << 30, 1 << 31,
                1 << 32, 1 << 40, -1 << 20]
flags_st = st.one_of(
    st.builds(lambda bits, extra: sum(set(bits)) | extra,
              st.lists(st.sampled_from(KNOWN_FLAGS), max_size=4), st.sampled_from(UNKNOWN_BITS)),
    int32ish)
fd_st = st.one_of(st.integers(-3, 22),
                  st.sampled_from([2 ** 31 - 1, -2 ** 31, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1,
                                   2 ** 32 + 3, -2 ** 31 - 1, 2 ** 63, 2 ** 64 - 1, 2 ** 200,
                                   2 ** 200 + 1]))
pos_st = st.one_of(st.sampled_from([0, PG, 1, PG - 1, PG + 1, 2 * PG, 100 * PG, -1, -PG, SIGN64,
                                    SIGN64 - PG, M64, M64 - PG + 1, 2 ** 64, 2 ** 64 + PG, 2 ** 200,
                                    -2 ** 63, -2 ** 63 - 1, 2 ** 62]),
                   st.integers(-2 ** 63, 2 ** 64 - 1), st.integers(-2 ** 66, 2 ** 66))


def maybe_bad(s, p=0.06):
    """Usually an integer from `s`, sometimes a value of the wrong type."""
    return st.one_of(s, bad_type) if p else s


def with_bad_types(*strats):
    """A tuple of arguments where each position may independently be of a wrong type."""
    return st.tuples(*[st.one_of(st.one_of(s, s, s, s, s, s, s, s, s, s),
                                 st.one_of(s, s, s, s, s, s, s, s, s, bad_type))
                       for s in strats])


# -- tests: layout --------------------------------------------------------------------------------

def test_world_layout():
    for root in (False, True):
        w = world(root)
        assert w.R == R0
        assert {w.fds[n] for n in ("rw", "ro", "wo", "short", "imm", "pipe_r", "pipe_w", "zero",
                                   "ro2")} == set(range(9))
        assert w.fds["closed"] == 9
        assert len(w.q.proc.p_fd.open_fds()) == 20
        w.k.check_invariants()


# -- tests: hypothesis over every syscall of the seed ---------------------------------------------

@HSET
@given(root=st.booleans(), args=with_bad_types(addr_st, len_st, prot_st, flags_st, fd_st, pos_st))
def test_mmap_any_arguments(root, args):
    attempt(world(root), "mmap", args)


@HSET
@given(root=st.booleans(), args=with_bad_types(addr_st, len_st, prot_st, flags_st, fd_st, pos_st))
def test_ommap_any_arguments(root, args):
    attempt(world(root), "ommap", args)


@HSET
@given(root=st.booleans(), args=with_bad_types(addr_st, len_st))
def test_munmap_any_arguments(root, args):
    attempt(world(root), "munmap", args)


@HSET
@given(root=st.booleans(), args=with_bad_types(addr_st, len_st, prot_st))
def test_mprotect_any_arguments(root, args):
    attempt(world(root), "mprotect", args)


@HSET
@given(root=st.booleans(), args=with_bad_types(addr_st, len_st, int32ish))
def test_minherit_any_arguments(root, args):
    attempt(world(root), "minherit", args)


@HSET
@given(root=st.booleans(), args=with_bad_types(addr_st, len_st, int32ish))
def test_madvise_any_arguments(root, args):
    attempt(world(root), "madvise", args)


@HSET
@given(root=st.booleans(), args=with_bad_types(addr_st, len_st))
def test_mincore_any_arguments(root, args):
    attempt(world(root), "mincore", args)


@HSET
@given(root=st.booleans(), args=with_bad_types(addr_st, len_st))
def test_mlock_any_arguments(root, args):
    attempt(world(root), "mlock", args)


@HSET
@given(root=st.booleans(), args=with_bad_types(addr_st, len_st))
def test_munlock_any_arguments(root, args):
    attempt(world(root), "munlock", args)


@HSET
@given(root=st.booleans(), args=with_bad_types(addr_st, len_st, int32ish))
def test_msync_any_arguments(root, args):
    attempt(world(root), "msync", args)


@HSET
@given(root=st.booleans(), args=with_bad_types(int32ish))
def test_mlockall_any_arguments(root, args):
    attempt(world(root), "mlockall", args)


@HSET
@given(root=st.booleans(), name=st.sampled_from(["sbrk", "sstk"]), args=with_bad_types(int32ish))
def test_sbrk_sstk_any_arguments(root, name, args):
    attempt(world(root), name, args)


@HSET
@given(root=st.booleans(), args=with_bad_types(st.one_of(
    addr_st, st.integers(0x410000 - 2 * PG, 0x410000 + 64 * PG),
    st.sampled_from([0x410000 + MAXDSIZ, 0x410000 + MAXDSIZ + 1, R0, R0 + PG]))))
def test_obreak_any_arguments(root, args):
    attempt(world(root), "obreak", args)


def test_munlockall_and_ogetpagesize():
    for root in (False, True):
        w = world(root)
        attempt(w, "munlockall", ())
        w = world(root)
        assert w.p.ogetpagesize() == PG
        for bad in BAD_TYPES[:4]:
            attempt(w, "munlockall", (bad,), Expect(TypeError))
            attempt(w, "ogetpagesize", (bad,), Expect(TypeError))


# -- tests: explicit vectors (hand-written expectations, spec rule in the comment) ----------------

R = R0
E = errno


def _vectors(root):
    """(method, args, errno-or-0-or-TypeError) with the values written out by hand."""
    ANONP = MAP_ANON | MAP_PRIVATE
    v = [
        # mmap: MMAP-2 (ssize_t)len < 0, MAP_ANON with fd != -1
        ("mmap", (0, -1, RW, ANONP), E.EINVAL),
        ("mmap", (0, -PG, RW, ANONP), E.EINVAL),
        ("mmap", (0, SIGN64, RW, ANONP), E.EINVAL),
        ("mmap", (0, M64, RW, ANONP), E.EINVAL),                    # the word -1
        ("mmap", (0, PG, RW, ANONP, 0), E.EINVAL),
        ("mmap", (0, PG, RW, ANONP, -2), E.EINVAL),
        ("mmap", (0, PG, RW, ANONP, 2 ** 32 - 1), OK),               # (int)0xffffffff == -1
        ("mmap", (0, 0, RW, ANONP), OK),                             # size 0: MMAP-12
        # out of range for the C type: refused before the kernel, EBADF for a descriptor
        ("mmap", (0, 2 ** 64 + SIGN64, RW, ANONP), E.EINVAL),        # no size_t
        ("mmap", (0, 2 ** 64, RW, ANONP), E.EINVAL),                 # not a zero-length map
        ("mmap", (0, 2 ** 64 + PG, RW, ANONP), E.EINVAL),
        ("mmap", (0, 2 ** 200, RW, ANONP), E.EINVAL),
        ("mmap", (0, -2 ** 64 + PG, RW, ANONP), E.EINVAL),
        ("mmap", (2 ** 64, PG, RW, ANONP), E.EINVAL),
        ("mmap", (-2 ** 63 - 1, PG, RW, ANONP), E.EINVAL),
        ("mmap", (0, PG, RW | 2 ** 32, ANONP), E.EINVAL),
        ("mmap", (0, PG, -2 ** 31 - 1, ANONP), E.EINVAL),
        ("mmap", (0, PG, RW, ANONP | 2 ** 32), E.EINVAL),
        ("mmap", (0, PG, RW, ANONP, -1, 2 ** 64), E.EINVAL),         # off_t
        ("mmap", (0, PG, RW, ANONP, -1, -2 ** 63 - 1), E.EINVAL),
        ("mmap", (0, PG, RW, ANONP, 2 ** 32), E.EBADF),              # before MAP_ANON's check
        ("mmap", (0, PG, RW, ANONP, 2 ** 32, 2 ** 64), E.EBADF),     # fd converted before pos
        ("mmap", (2 ** 64, PG, RW, ANONP, 2 ** 32), E.EINVAL),       # addr before fd
        # in range at the edges of the C types
        ("mmap", (0, PG, RW, ANONP, -1, M64 - PG + 1), OK),           # off_t -PG (MAP_ANON: 0)
        ("mmap", (0, PG, RW, ANONP, -1, -2 ** 63), OK),
        ("mmap", (0, PG, 2 ** 32 - 1, ANONP), OK),                   # (int) -1: all prot bits
        ("mmap", (0, PG, -2 ** 31 | RW, ANONP), OK),
        ("mmap", (-2 ** 63, PG, RW, ANONP), E.ENOMEM),               # a hint of 2**63
        # MMAP-4: MAP_STACK needs fd -1 and READ|WRITE
        ("mmap", (R + 40 * PG, 4 * PG, PROT_READ, MAP_STACK), E.EINVAL),
        ("mmap", (R + 40 * PG, 4 * PG, RW, MAP_STACK, w_fd("rw")), E.EINVAL),
        ("mmap", (0, 4 * PG, RW, MAP_STACK), E.ENOMEM),             # VMM-9: the hint R is taken
        # MMAP-6 MAP_FIXED: alignment of addr vs pos, bounds, wrap
        ("mmap", (R + 40 * PG + 1, PG, RW, ANONP | MAP_FIXED), E.EINVAL),
        ("mmap", (R + 40 * PG, PG, RW, ANONP | MAP_FIXED, -1, 1), E.EINVAL),
        ("mmap", (MAXU - PG, 2 * PG, RW, ANONP | MAP_FIXED), E.EINVAL),
        ("mmap", (MAXU, PG, RW, ANONP | MAP_FIXED), E.EINVAL),
        ("mmap", (-PG, PG, RW, ANONP | MAP_FIXED), E.EINVAL),
        ("mmap", (-PG, 2 * PG, RW, ANONP | MAP_FIXED), E.EINVAL),   # wraps
        ("mmap", (2 ** 64 + R + 40 * PG, PG, RW, ANONP | MAP_FIXED), E.EINVAL),   # no wrapping
        ("mmap", (-2 ** 64 + R + 40 * PG, PG, RW, ANONP | MAP_FIXED), E.EINVAL),
        ("mmap", (R + 40 * PG, PG, RW, ANONP | MAP_FIXED), OK),
        # MMAP-8: descriptors
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, 9), E.EBADF),        # closed
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, 15), E.EBADF),       # q's, not p's
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, -1), E.EBADF),
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, -7), E.EBADF),
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, 2 ** 31), E.EBADF),
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, 1024), E.EBADF),
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, 2 ** 63 + 10), E.EBADF),  # no C int
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, 2 ** 32 + 1), E.EBADF),   # not (int) 1 = /ro.bin
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, 2 ** 32), E.EBADF),
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, -2 ** 31 - 1), E.EBADF),
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, 2 ** 200), E.EBADF),
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, 2 ** 32 - 1), E.EBADF),   # (int) -1
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, 1), OK),                  # /ro.bin
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, 1, 2 ** 64), E.EINVAL),   # off_t
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, w_fd("pipe_r")), E.ENODEV),
        # MMAP-10: access modes
        ("mmap", (0, PG, RW, MAP_SHARED, w_fd("ro")), E.EACCES),
        ("mmap", (0, PG, PROT_READ, MAP_SHARED, w_fd("wo")), E.EACCES),
        ("mmap", (0, PG, RW, MAP_PRIVATE, w_fd("ro")), OK),
        # MMV-6: immutable file, shared writable (after MAP_FIXED removed the range: VMM-4)
        ("mmap", (0, PG, RW, MAP_SHARED, w_fd("imm")), E.EPERM),
        ("mmap", (R, PG, RW, MAP_SHARED | MAP_FIXED, w_fd("imm")), E.EPERM),
        # MMAP-1/3: unknown prot and flag bits are ignored
        ("mmap", (0, PG, RW | 0x70, ANONP | 0x4 | 0x40000 | (1 << 31)), OK),
        ("mmap", (0, PG, RW, MAP_ANON), OK),
        # munmap: UNM-1/2
        ("munmap", (R, 0), E.EINVAL),
        ("munmap", (R, -1), OK),          # round_page(SIZE_MAX) wraps to 0: an empty range
        ("munmap", (R + 4 * PG, -1), E.EINVAL),     # ... which must still start in an entry
        ("munmap", (R, -PG), E.EINVAL),             # addr + size wraps
        ("munmap", (R, 2 ** 64), E.EINVAL),                  # no size_t (nor 0)
        ("munmap", (R, 2 ** 64 + PG), E.EINVAL),             # not PG
        ("munmap", (R - 2 ** 64, PG), E.EINVAL),             # not R
        ("munmap", (R + 2 ** 64, PG), E.EINVAL),
        ("munmap", (R, -2 ** 63 - 1), E.EINVAL),
        ("munmap", (R + 3 * PG, 2 * PG), E.EINVAL),          # the hole at page 4
        ("munmap", (R + 22 * PG, PG), E.EINVAL),             # unmapped
        ("munmap", (MAXU, PG), E.EINVAL),
        ("munmap", (-PG, PG), E.EINVAL),                     # wraps
        ("munmap", (R + 1, PG), OK),                         # unaligned: pageoff is added
        # mprotect: PROT-1/2 and MAP-21/23
        ("mprotect", (R + 15 * PG, PG, RW), E.EACCES),       # O_RDONLY shared file
        ("mprotect", (R + 14 * PG, 2 * PG, RW), E.EACCES),   # starts in E: clips survive
        ("mprotect", (R + 22 * PG, PG, RW), OK),             # unmapped
        ("mprotect", (MAXU + PG, PG, RW), OK),               # clamped to nothing
        ("mprotect", (-PG, 2 * PG, RW), E.EINVAL),
        ("mprotect", (R, PG, RW | 0x100), OK),               # extra bits dropped
        ("mprotect", (R, PG, 2 ** 32 + PROT_READ), E.EINVAL),    # no C int: not (int) READ
        ("mprotect", (R, 2 ** 64 + PG, PROT_READ), E.EINVAL),
        ("mprotect", (R + 22 * PG, 2 ** 64 + PG, PROT_READ), E.EINVAL),   # not an unmapped PG
        ("mprotect", (2 ** 64 + R, PG, PROT_READ), E.EINVAL),
        ("mprotect", (R, PG, 2 ** 32 - 1), OK),              # (int) -1: RWX, A's max is ALL
        ("mprotect", (R + 15 * PG, PG, 2 ** 32 - 1), E.EACCES),
        ("mprotect", (R, PG, -2 ** 31 | PROT_READ), OK),
        # minherit: INH-1
        ("minherit", (R, PG, 3), E.EINVAL),
        ("minherit", (R, PG, -1), E.EINVAL),
        ("minherit", (R, PG, 2 ** 32 + 5), E.EINVAL),
        ("minherit", (R, PG, 2 ** 32 + 2), E.EINVAL),        # not (int) 2 = INHERIT_NONE
        ("minherit", (R, PG, 2 ** 32 - 1), E.EINVAL),        # (int) -1
        ("minherit", (R, 2 ** 64 + PG, 1), E.EINVAL),
        ("minherit", (R, PG, 2), OK),
        ("minherit", (-PG, 2 * PG, 1), E.EINVAL),
        ("minherit", (R + 22 * PG, PG, 1), OK),
        # madvise: ADV-1..4
        ("madvise", (R, PG, 11), E.EINVAL),
        ("madvise", (R, PG, -1), E.EINVAL),
        ("madvise", (R, PG, 2 ** 31), E.EINVAL),
        ("madvise", (R, PG, 2 ** 32 + mman.MADV_PROTECT), E.EINVAL),     # refused, even non-root
        ("madvise", (R, PG, 2 ** 32 + mman.MADV_NORMAL), E.EINVAL),
        ("madvise", (2 ** 64 + R, PG, mman.MADV_NORMAL), E.EINVAL),
        ("madvise", (2 ** 64, 2 ** 64, mman.MADV_PROTECT), E.EINVAL),    # ignored, yet converted
        ("madvise", (M64, M64, mman.MADV_PROTECT), OK if root else E.EPERM),
        ("madvise", (R, PG, mman.MADV_PROTECT), OK if root else E.EPERM),
        ("madvise", (0, 0, mman.MADV_PROTECT), OK if root else E.EPERM),     # addr ignored
        ("madvise", (MAXU, 1, mman.MADV_NORMAL), E.EINVAL),
        ("madvise", (-PG, 2 * PG, mman.MADV_NORMAL), E.EINVAL),
        ("madvise", (R + 22 * PG, PG, mman.MADV_DONTNEED), OK),
        # mincore: MIN-1..4
        ("mincore", (R + 4 * PG, PG), E.ENOMEM),
        ("mincore", (R + 3 * PG, 2 * PG), E.ENOMEM),         # a hole
        ("mincore", (R, -1), OK),                            # round_page(len) wraps to 0
        ("mincore", (R, -PG), E.ENOMEM),                     # end wraps below addr
        ("mincore", (MAXU, PG), E.ENOMEM),
        ("mincore", (R + 4 * PG, 0), E.ENOMEM),              # len 0 but unmapped start
        ("mincore", (R, 0), OK),
        ("mincore", (R, 2 ** 64), E.EINVAL),                 # no size_t: not 0 (OK) either
        ("mincore", (R, 2 ** 64 + PG), E.EINVAL),
        ("mincore", (R + 2 ** 64, PG), E.EINVAL),
        ("mincore", (R - 2 ** 64, PG), E.EINVAL),
        ("mincore", (R, M64), OK),                           # the word -1: rounds to 0
        # mlock / munlock: MLK-1..5, MUL-1
        ("mlock", (R, PG), OK if root else E.EPERM),
        ("mlock", (R, -1), E.EINVAL if root else E.EPERM),
        ("mlock", (-PG, 2 * PG), E.EINVAL if root else E.EPERM),
        ("mlock", (R, 2 ** 40), E.ENOMEM if root else E.EPERM),     # > vm_page_max_wired
        ("mlock", (R + 3 * PG, 2 * PG), E.ENOMEM if root else E.EPERM),    # hole
        ("mlock", (R + 17 * PG, 2 * PG), E.ENOMEM if root else E.EPERM),   # past EOF
        ("mlock", (R + 4 * PG, 0), E.ENOMEM if root else E.EPERM),  # MAP-36 deviation
        ("mlock", (R + PG, 0), OK if root else E.EPERM),
        ("mlock", (R, 2 ** 64 + PG), E.EINVAL),              # refused before the privilege check
        ("mlock", (2 ** 64 + R, PG), E.EINVAL),
        ("mlock", (-2 ** 63 - 1, PG), E.EINVAL),
        ("mlock", (R, M64), E.EINVAL if root else E.EPERM),
        ("munlock", (R + 3 * PG, 2 * PG), E.ENOMEM if root else E.EPERM),
        ("munlock", (-PG, 2 * PG), E.EINVAL if root else E.EPERM),
        ("munlock", (R + 20 * PG, 2 * PG), OK if root else E.EPERM),
        ("munlock", (R + 20 * PG, 2 ** 64 + 2 * PG), E.EINVAL),
        ("munlock", (R + 20 * PG - 2 ** 64, 2 * PG), E.EINVAL),
        # mlockall / munlockall: MLA-1..3, MUA-1
        ("mlockall", (0,), E.EINVAL),
        ("mlockall", (4,), E.EINVAL),
        ("mlockall", (-1,), E.EINVAL),
        ("mlockall", (2 ** 32,), E.EINVAL),                  # no C int (nor (int) 0)
        ("mlockall", (2 ** 32 + MCL_FUTURE,), E.EINVAL),     # not (int) MCL_FUTURE
        ("mlockall", (-2 ** 31 - 1,), E.EINVAL),
        ("mlockall", (2 ** 32 - 1,), E.EINVAL),              # (int) -1: unknown bits
        ("mlockall", (MCL_CURRENT,), E.EAGAIN if root else E.EPERM),   # G runs past EOF
        ("mlockall", (MCL_CURRENT | MCL_FUTURE,), E.EAGAIN if root else E.EPERM),
        ("mlockall", (MCL_FUTURE,), OK if root else E.EPERM),
        ("munlockall", (), OK if root else E.EPERM),
        # msync: SYN-1/2
        ("msync", (R, PG, MS_ASYNC | MS_INVALIDATE), E.EINVAL),
        ("msync", (R + 4 * PG, PG, 0), E.EINVAL),
        ("msync", (R + 3 * PG, 2 * PG, 0), E.EINVAL),
        ("msync", (-PG, 2 * PG, 0), E.EINVAL),
        ("msync", (R + 20 * PG, PG, MS_INVALIDATE), E.EBUSY if root else OK),
        ("msync", (R, PG, 0x7FFFFFF0), OK),                  # other bits ignored
        ("msync", (R, PG, 2 ** 32), E.EINVAL),               # no C int (nor (int) 0)
        ("msync", (R, 2 ** 64 + PG, 0), E.EINVAL),
        ("msync", (R + 2 ** 64, PG, 0), E.EINVAL),
        ("msync", (R, PG, -2 ** 31), OK),                    # only high bits: ignored
        # sbrk, sstk: BRK-0; obreak: BRK-1..3
        ("sbrk", (PG,), E.EOPNOTSUPP), ("sbrk", (-1,), E.EOPNOTSUPP),
        ("sstk", (2 ** 200,), E.EINVAL),                     # int incr: refused first
        ("sbrk", (2 ** 32,), E.EINVAL), ("sbrk", (-2 ** 31 - 1,), E.EINVAL),
        ("sbrk", (2 ** 32 - 1,), E.EOPNOTSUPP), ("sstk", (-2 ** 31,), E.EOPNOTSUPP),
        ("obreak", (0,), E.EINVAL),
        ("obreak", (0x410000 - 1,), OK),                     # rounds up to the base
        ("obreak", (0x410000 + MAXDSIZ + PG,), E.ENOMEM),    # RLIMIT_DATA
        ("obreak", (-1,), E.EINVAL),                         # round_page wraps to 0
        ("obreak", (2 ** 64 + 0x410000 + 16 * PG,), E.EINVAL),   # no word (not the break)
        ("obreak", (-2 ** 63 - 1,), E.EINVAL),
        ("obreak", (0x410000 + 16 * PG,), OK),               # the current break
        ("obreak", (M64,), E.EINVAL),                        # round_page wraps to 0
        # ommap: MMAP-13 (int len is sign-extended, prot 4 is READ in the old encoding)
        ("ommap", (0, -1, 4, mman.OMAP_ANON), E.EINVAL),
        ("ommap", (0, 2 ** 32 + PG, 4, mman.OMAP_ANON), E.EINVAL),   # no C int (not PG)
        ("ommap", (0, 2 ** 32 - 1, 4, mman.OMAP_ANON), E.EINVAL),    # (int) -1
        ("ommap", (0, -2 ** 31 - 1, 4, mman.OMAP_ANON), E.EINVAL),
        ("ommap", (0, 2 ** 31, 4, mman.OMAP_ANON), E.EINVAL),        # (int) -2**31
        ("ommap", (0, PG, 4, mman.OMAP_ANON), OK),
        ("ommap", (0, PG, 4, mman.OMAP_ANON, -1, 2 ** 64), E.EINVAL),    # long pos
        ("ommap", (0, PG, 4, mman.OMAP_ANON, -1, M64 - PG + 1), OK),     # (long) -PG
        ("ommap", (2 ** 64, PG, 4, mman.OMAP_ANON), E.EINVAL),
        ("ommap", (0, PG, 4, mman.OMAP_ANON | 2 ** 32), E.EINVAL),
        ("ommap", (0, PG, 4, 0, 2 ** 32 + w_fd("ro")), E.EBADF),
        ("ommap", (0, PG, 4, mman.OMAP_ANON, 2 ** 32 - 1), OK),        # (int) -1
        ("ommap", (0, PG, 6, 0, w_fd("ro")), OK),            # private: write allowed
        ("ommap", (0, PG, 6, mman.OMAP_SHARED, w_fd("ro")), E.EACCES),
    ]
    return v


_FD = {}


def w_fd(name):
    return _FD[name]


def test_explicit_vectors():
    n = 0
    for root in (False, True):
        w = world(root)
        _FD.update(w.fds)
        for name, args, want in _vectors(root):
            w = world(root)
            o = oracle(w, name, args)
            assert o.err == want, ("oracle disagrees with the hand-written value", name, args, o,
                                   want)
            attempt(w, name, args, Expect(want, o.mode, o.fixed_range, o.ret))
            n += 1
    assert n > 200


@pytest.mark.parametrize("bad", BAD_TYPES)
def test_every_syscall_rejects_non_integers(bad):
    w = world(False)
    calls = [("mmap", 6), ("ommap", 6), ("munmap", 2), ("mprotect", 3), ("minherit", 3),
             ("madvise", 3), ("mincore", 2), ("mlock", 2), ("munlock", 2), ("mlockall", 1),
             ("msync", 3), ("sbrk", 1), ("sstk", 1), ("obreak", 1)]
    good = {"mmap": (0, PG, RW, MAP_ANON, -1, 0), "ommap": (0, PG, 4, mman.OMAP_ANON, -1, 0),
            "mlockall": (MCL_FUTURE,), "msync": (R0, PG, 0), "madvise": (R0, PG, 0),
            "mprotect": (R0, PG, RW), "minherit": (R0, PG, 1), "sbrk": (0,), "sstk": (0,),
            "obreak": (0x420000,)}
    for name, nargs in calls:
        base = good.get(name, (R0, PG))
        for i in range(nargs):
            args = list(base)
            args[i] = bad
            attempt(w, name, tuple(args), Expect(TypeError))


# -- descriptors through the file calls -----------------------------------------------------------

# the last ones fit no C int: refused with EBADF (close(2**32) must not close descriptor 0, nor
# read(2**32 + 1, n) read descriptor 1)
BAD_FDS = [9, 10, 15, 19, 1024, -1, -2, -2 ** 31, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
           2 ** 32 + 1, 2 ** 32 + 9, 2 ** 63 + 10, 2 ** 64 - 1, 2 ** 64, -2 ** 31 - 1, -2 ** 64,
           2 ** 200]


def _fd_calls(fd):
    return [("read", (fd, 10)), ("pread", (fd, 10, 0)), ("write", (fd, b"x")),
            ("pwrite", (fd, b"x", 0)), ("ftruncate", (fd, 0)), ("fstat", (fd,)),
            ("lseek", (fd, 0)), ("fcntl_setfl", (fd, 0)), ("close", (fd,)),
            ("mmap", (0, PG, PROT_READ, MAP_SHARED, fd, 0)),
            ("ommap", (0, PG, 4, mman.OMAP_SHARED, fd, 0))]


@pytest.mark.parametrize("fd", BAD_FDS)
def test_bad_descriptors_give_ebadf(fd):
    """Closed, foreign (open in q only), negative and huge descriptors: EBADF, nothing changes."""
    w = world(False)
    for name, args in _fd_calls(fd):
        attempt(w, name, args, Expect(errno.EBADF))


def test_wrong_descriptor_kinds():
    w = world(False)
    f = w.fds
    cases = [("read", (f["wo"], 1), errno.EBADF), ("write", (f["ro"], b"x"), errno.EBADF),
             ("pwrite", (f["ro"], b"x", 0), errno.EBADF), ("ftruncate", (f["ro"], 0), errno.EINVAL),
             ("ftruncate", (f["pipe_r"], 0), errno.EINVAL), ("lseek", (f["pipe_r"], 0), errno.ESPIPE),
             ("read", (f["rw"], -1), errno.EINVAL), ("pread", (f["rw"], 1, -1), errno.EINVAL),
             ("pwrite", (f["rw"], b"x", -1), errno.EINVAL), ("ftruncate", (f["rw"], -1), errno.EINVAL),
             ("lseek", (f["rw"], -1), errno.EINVAL), ("lseek", (f["rw"], 0, 99), errno.EINVAL),
             ("lseek", (f["rw"], 0, -1), errno.EINVAL), ("read", (f["pipe_r"], 5), errno.EAGAIN)]
    for name, args, want in cases:
        attempt(w, name, args, Expect(want))


def test_file_calls_refuse_out_of_range_values():
    """Offsets, sizes, whence and flags that fit no off_t / C int: EINVAL before the kernel, with
    nothing changed (pwrite at 2**64 is not a write at 0, ftruncate(fd, 2**64 + 5) does not cut the
    file to 5 bytes, open(path, 2**32 | O_CREAT) creates nothing)."""
    w = world(False)
    f = w.fds["rw"]
    O = os
    E = errno.EINVAL
    cases = [("pread", (f, 1, 2 ** 64)), ("pread", (f, 1, -2 ** 63 - 1)), ("pread", (f, 1, M64)),
             ("pwrite", (f, b"x", 2 ** 64)), ("pwrite", (f, b"x", 2 ** 64 + 5)),
             ("pwrite", (f, b"x", 2 ** 200)), ("ftruncate", (f, 2 ** 64 + 5)),
             ("ftruncate", (f, 2 ** 64)), ("ftruncate", (f, -2 ** 64 + PG)), ("ftruncate", (f, M64)),
             ("lseek", (f, 2 ** 64 + 5)), ("lseek", (f, -2 ** 63 - 1)),
             ("lseek", (f, 0, 2 ** 32 + os.SEEK_END)), ("lseek", (f, 0, 2 ** 32 - 1)),
             ("lseek", (f, 0, -2 ** 31 - 1)),
             ("fcntl_setfl", (f, 2 ** 32 + O.O_NONBLOCK)), ("fcntl_setfl", (f, -2 ** 31 - 1)),
             ("open", ("/rw.bin", 2 ** 32 + O.O_RDWR)),
             ("open", ("/new.bin", 2 ** 32 | O.O_CREAT | O.O_RDWR)),
             ("open", ("/new.bin", -2 ** 31 - 1))]
    for name, args in cases:
        attempt(w, name, args, Expect(E))
    assert not os.path.exists(os.path.join(w.k.root, "new.bin"))
    # in range at the edges: lseek to INT64_MAX is allowed, (int) 2**32 - 1 is whence -1
    w.dirty = True
    assert w.p.lseek(f, 2 ** 63 - 1) == 2 ** 63 - 1
    assert w.p.pread(f, 1, 2 ** 63 - 1) == b""


def test_i386_word_and_long_are_32_bits():
    """On i386 a word (vm_offset_t, size_t) and a C long (ommap's pos) are 32 bits: 2**32 and
    -2**31 - 1 are refused with EINVAL, 2**32 - 1 and -2**31 are words; off_t stays 64 bits and a
    descriptor is a C int on both."""
    with Kernel(arch="i386", physmem="32M", swap="32M") as k:
        p = k.spawn(uid=0)
        a = p.mmap(0, 2 * PG, RW, MAP_ANON | MAP_PRIVATE)
        p.mem_write(a, b"abc")
        cases = [("mmap", (0, 2 ** 32, RW, MAP_ANON), errno.EINVAL),       # not a zero length
                 ("mmap", (0, 2 ** 32 + PG, RW, MAP_ANON), errno.EINVAL),
                 ("mmap", (2 ** 32 + a, PG, RW, MAP_ANON | MAP_FIXED), errno.EINVAL),
                 ("mmap", (-2 ** 31 - 1, PG, RW, MAP_ANON), errno.EINVAL),
                 ("mmap", (0, 2 ** 32 - PG, RW, MAP_ANON), errno.EINVAL),    # (ssize_t) -PG
                 ("mmap", (0, PG, RW, MAP_ANON, -1, 2 ** 64), errno.EINVAL),  # off_t
                 ("mmap", (0, PG, RW, MAP_ANON, 2 ** 32), errno.EBADF),
                 ("ommap", (0, PG, 4, mman.OMAP_ANON, -1, 2 ** 32), errno.EINVAL),     # long pos
                 ("ommap", (0, PG, 4, mman.OMAP_ANON, -1, -2 ** 31 - 1), errno.EINVAL),
                 ("munmap", (a, 2 ** 32 + PG), errno.EINVAL),                # not PG
                 ("munmap", (a + 2 ** 32, PG), errno.EINVAL),
                 ("mprotect", (a, 2 ** 32 + PG, PROT_READ), errno.EINVAL),
                 ("madvise", (a, 2 ** 32, 0), errno.EINVAL),
                 ("mincore", (a, 2 ** 32 + PG), errno.EINVAL),
                 ("mlock", (a + 2 ** 32, PG), errno.EINVAL),
                 ("msync", (a, 2 ** 32 + PG, 0), errno.EINVAL),
                 ("obreak", (2 ** 32,), errno.EINVAL),
                 ("mem_read", (a + 2 ** 32, 1), errno.EINVAL),               # not a's bytes
                 ("mem_write", (a + 2 ** 32, b"x"), errno.EINVAL),
                 ("close", (2 ** 32,), errno.EBADF)]
        for name, args, want in cases:
            BAD_INPUTS["calls"] += 1
            before = (p.maps(), p.vmspace_info()["size"], k.vmstat()["v_wire_count"])
            with pytest.raises(OSError) as ei:
                getattr(p, name)(*args)
            assert ei.value.errno == want, (name, args, ei.value)
            assert (p.maps(), p.vmspace_info()["size"], k.vmstat()["v_wire_count"]) == before, \
                (name, args)
            BAD_INPUTS["failures_checked"] += 1
        assert p.mem_read(a, 3) == b"abc"
        # in range: the all-ones word and INT32_MIN as a word, (long) -PG, (int) -1
        assert isinstance(p.mincore(a, 2 ** 32 - 1), bytes)      # round_page wraps to 0: fine
        b = p.mmap(0, PG, RW, MAP_ANON, 2 ** 32 - 1)
        p.munmap(b, PG)
        b = p.ommap(0, PG, 4, mman.OMAP_ANON, -1, 2 ** 32 - PG)
        p.munmap(b, PG)
        with pytest.raises(OSError) as ei:
            p.munmap(-2 ** 31, PG)                                # 0x80000000: unmapped
        assert ei.value.errno == errno.EINVAL
        k.check_invariants()


def test_file_calls_reject_wrong_types():
    w = world(False)
    f = w.fds["rw"]
    cases = [("read", (f, "1")), ("read", ("0", 1)), ("read", (f, 1.0)), ("pread", (f, 1, None)),
             ("write", (f, "text")), ("write", (f, 5)), ("write", (f, [1, 2])), ("write", (f, None)),
             ("write", (None, b"x")), ("pwrite", (f, 7, 0)), ("pwrite", (f, b"x", 1.5)),
             ("ftruncate", (f, "0")), ("lseek", (f, 0, "x")), ("lseek", (f, None)),
             ("close", ("0",)), ("close", (None,)), ("fcntl_setfl", (f, "x")),
             ("open", (None,)), ("open", (5,)), ("open", ("/rw.bin", "r")), ("open", ("/x", 0, "644")),
             ("unlink", (None,)), ("chmod", ("/rw.bin", "644")), ("chmod", (None, 0o644)),
             ("chown", ("/rw.bin", "0", 0)), ("chflags", ("/rw.bin", None)), ("mkdir", (1,)),
             ("symlink", (None, "/l")), ("stat", (object(),)), ("revoke", (3.0,)),
             ("getrlimit", ("6",)), ("setrlimit", (6, 5)), ("setrlimit", (6, None)),
             ("setrlimit", (6, ("1", 2))), ("setrlimit", (6, (1.0, 2))), ("setrlimit", ("6", (1, 2))),
             ("mem_read", ("x", 1)), ("mem_read", (R0, 1.0)), ("mem_write", (R0, "abc")),
             ("mem_write", (R0, 5)), ("mem_write", (R0, [1])), ("mem_write", (None, b"x")),
             ("mincore", (R0, PG, "vec"))]
    for name, args in cases:
        attempt(w, name, args, Expect(TypeError))


def test_path_calls_bad_values():
    w = world(False)
    O = os
    cases = [("open", ("/nonexistent",), errno.ENOENT), ("open", ("",), errno.ENOENT),
             ("open", ("/rw\0.bin",), errno.EINVAL), ("open", ("/rw.bin", 3), errno.EINVAL),
             ("open", ("/" + "a" * 300, O.O_CREAT | O.O_RDWR), errno.ENAMETOOLONG),
             ("open", ("/a" * 3000,), errno.ENAMETOOLONG), ("open", ("/", O.O_RDWR), errno.EISDIR),
             ("open", ("/rw.bin/x",), errno.ENOTDIR),
             ("unlink", ("/nonexistent",), errno.ENOENT), ("unlink", ("/",), errno.EPERM),
             ("chmod", ("/nonexistent", 0o644), errno.ENOENT), ("mkdir", ("/",), errno.EEXIST),
             ("chown", ("/rw.bin", 0, 0), errno.EPERM), ("chflags", ("/rw.bin", 2 ** 40), errno.EINVAL),
             ("chflags", ("/rw.bin", -1), errno.EINVAL), ("getrlimit", (-1,), errno.EINVAL),
             ("getrlimit", (resource.RLIM_NLIMITS,), errno.EINVAL),
             ("setrlimit", (-1, (1, 1)), errno.EINVAL),
             ("setrlimit", (resource.RLIMIT_MEMLOCK, (2, 1)), errno.EINVAL)]
    for name, args, want in cases:
        attempt(w, name, args, Expect(want))
    # a pair of the wrong length: ValueError, as resource.setrlimit raises
    for limits in ((1,), (1, 2, 3), ()):
        BAD_INPUTS["calls"] += 1
        before = snapshot(w)
        with pytest.raises(ValueError):
            w.p.setrlimit(resource.RLIMIT_MEMLOCK, limits)
        assert_unchanged(w, before)


def test_rlimit_values_are_c_converted():
    """rlim_t is int64 and `which` a u_int (kern_setrlimit); a negative value is RLIM_INFINITY.
    Values that fit neither type are refused with EINVAL and leave the limits as they were."""
    w = world(True)
    w.dirty = True
    p = w.p
    ML = resource.RLIMIT_MEMLOCK
    INF = resource.RLIM_INFINITY
    BAD_INPUTS["calls"] += 6
    p.setrlimit(ML, (-1, -1))
    assert p.getrlimit(ML) == (INF,) * 2
    p.setrlimit(ML, (3 * PG, 4 * PG))
    p.setrlimit(ML, (2 ** 64 - 1, -2 ** 63))        # (rlim_t) -1 and INT64_MIN: both negative
    assert p.getrlimit(ML) == (INF,) * 2
    p.setrlimit(ML, (3 * PG, 4 * PG))
    p.setrlimit(ML, (2 ** 63, 2 ** 63 - 1))         # (rlim_t) INT64_MIN, and INT64_MAX
    assert p.getrlimit(ML) == (INF,) * 2
    p.setrlimit(ML, (3 * PG, 4 * PG))
    for which, limits in ((ML, (2 ** 64 + PG, 2 ** 64 + 2 * PG)), (ML, (PG, 2 ** 64)),
                          (ML, (-2 ** 63 - 1, PG)), (ML, (PG, 2 ** 200)),
                          (2 ** 32 + ML, (PG, PG)), (-2 ** 31 - 1, (PG, PG))):
        attempt(w, "setrlimit", (which, limits), Expect(errno.EINVAL))     # limits unchanged
    for which in (2 ** 32 + ML, -2 ** 31 - 1, 2 ** 200, 2 ** 32 - 1):
        attempt(w, "getrlimit", (which,), Expect(errno.EINVAL))
    assert p.getrlimit(ML) == (3 * PG, 4 * PG)
    p.setrlimit(ML, (PG, 2 * PG))
    assert p.getrlimit(ML) == (PG, 2 * PG)
    with pytest.raises(OSError) as ei:
        p.mlock(R0, 2 * PG)             # RLIMIT_MEMLOCK of one page now (MLK-3)
    assert ei.value.errno == errno.ENOMEM


def test_non_root_cannot_raise_a_hard_limit():
    w = world(False)
    p = w.p
    w.dirty = True
    p.setrlimit(resource.RLIMIT_MEMLOCK, (PG, 2 * PG))
    attempt(w, "setrlimit", (resource.RLIMIT_MEMLOCK, (PG, 4 * PG)), Expect(errno.EPERM))
    attempt(w, "setrlimit", (resource.RLIMIT_MEMLOCK, (PG, -1)), Expect(errno.EPERM))


# -- user memory ----------------------------------------------------------------------------------

@pytest.mark.parametrize("addr", [0, PG, R0 + 4 * PG, R0 + 13 * PG, R0 + 22 * PG, MAXU, MAXU + 1,
                                  -1, 2 ** 63, 2 ** 200, R0 + 4 * PG - 1, R0 + 18 * PG,
                                  2 ** 64 + R0, R0 - 2 ** 64, -2 ** 63 - 1])
@pytest.mark.parametrize("size", [1, 2, PG, 10 * PG, 2 ** 40, 2 ** 200])
def test_mem_access_faults_cleanly(addr, size):
    """Unmapped, PROT_NONE, past-EOF, wrapping and huge accesses: a MemoryFault, never another
    exception and never a giant allocation; the maps are unchanged (only residency may differ).
    An address that fits no word is refused with EINVAL before any access (2**64 + R0 is not R0)."""
    w = world(False)
    BAD_INPUTS["calls"] += 2
    if not fits(addr, WORD_BITS):
        before = snapshot(w)
        for call in (lambda: w.p.mem_read(addr, size),
                     lambda: w.p.mem_write(addr, b"\x5a" * min(size, 3 * PG))):
            with pytest.raises(OSError) as ei:
                call()
            assert ei.value.errno == errno.EINVAL
            BAD_INPUTS["failures_checked"] += 1
            assert_unchanged(w, before)
        return
    before = [(e.start, e.end, e.prot, e.max_prot, e.flags) for e in w.p.maps()]
    if addr == R0 + 4 * PG - 1 and size == 1:
        assert w.p.mem_read(addr, size) == w.mem[R0][-1:]      # the last byte of A: fine
        return
    with pytest.raises(MemoryFault) as ei:
        w.p.mem_read(addr, size)
    assert ei.value.addr >= (addr & M64) or (addr & M64) + size > M64
    w.dirty = True
    data = b"\x5a" * min(size, 3 * PG)
    if (addr & M64) < R0 + 4 * PG <= (addr & M64) + len(data) and addr & M64 >= R0:
        pass                            # a write that starts in A would change A's bytes
    else:
        with pytest.raises(MemoryFault):
            w.p.mem_write(addr, data)
    after = [(e.start, e.end, e.prot, e.max_prot, e.flags) for e in w.p.maps()]
    assert after == before
    w.k.check_invariants()


def test_mem_read_negative_size_is_value_error():
    """Not a system call: a negative byte count is a Python ValueError (as bytes(-1) is)."""
    w = world(False)
    BAD_INPUTS["calls"] += 1
    with pytest.raises(ValueError):
        w.p.mem_read(R0, -1)


# -- dead processes and the kernel's own methods --------------------------------------------------

def test_exited_process_gives_esrch():
    k = Kernel(physmem="16M", swap="16M")
    try:
        p = k.spawn(uid=1000, gid=1000)
        a = p.mmap(0, PG, RW, MAP_ANON)
        p.exit()
        p.exit()                        # idempotent
        calls = [("mmap", (0, PG, RW, MAP_ANON)), ("munmap", (a, PG)), ("mprotect", (a, PG, RW)),
                 ("madvise", (a, PG, 0)), ("mincore", (a, PG)), ("mlock", (a, PG)),
                 ("msync", (a, PG)), ("mem_read", (a, 1)), ("mem_write", (a, b"x")),
                 ("fork", ()), ("maps", ()), ("open", ("/x", os.O_CREAT | os.O_RDWR)),
                 ("setrlimit", (6, (1, 1))), ("obreak", (0,)), ("mlockall", (1,))]
        for name, args in calls:
            BAD_INPUTS["calls"] += 1
            with pytest.raises(ProcessLookupError) as ei:
                getattr(p, name)(*args)
            assert ei.value.errno == errno.ESRCH, name
        from bsdvm.vm.invariants import check_quiescent
        check_quiescent(k)
    finally:
        k.close()


def test_kernel_methods_bad_input():
    k = Kernel(physmem="16M", swap="16M")
    try:
        before = k.vmstat()
        cases = [
            (lambda: k.sysctl("vm.nope"), OSError, errno.ENOENT),
            (lambda: k.sysctl("vm.nope", 1), OSError, errno.ENOENT),
            (lambda: k.sysctl(None), OSError, errno.ENOENT),
            (lambda: k.sysctl("hw.pagesize", 8192), OSError, errno.EPERM),
            (lambda: k.sysctl("vm.max_wired", "5"), OSError, errno.EINVAL),
            (lambda: k.sysctl("vm.max_wired", 5.0), OSError, errno.EINVAL),
            (lambda: k.sysctl("vm.max_wired", True), OSError, errno.EINVAL),
            (lambda: k.sysctl([], 1), TypeError, None),
            (lambda: k.spawn(uid="x"), TypeError, None),
            (lambda: k.spawn(uid=None), TypeError, None),
            (lambda: k.spawn(uid=0, gid=1.5), TypeError, None),
            (lambda: k.spawn(groups=["a"]), TypeError, None),
            (lambda: k.spawn(text_pages=2 ** 40), OSError, errno.ENOMEM),
            (lambda: k.spawn(text_pages=-1), OSError, errno.ENOMEM),
            (lambda: k.make_dev("zero", PG), OSError, errno.EEXIST),
            (lambda: k.make_dev("fb9", None), TypeError, None),
            (lambda: k.mount("/mnt", None), TypeError, None),
            (lambda: k.mount("/nonexistent/mnt", k.root), OSError, errno.ENOENT),
            (lambda: k.on_pmc(None), TypeError, None),
            (lambda: k.on_pmc(5), TypeError, None),
        ]
        for fn, exc, want in cases:
            BAD_INPUTS["calls"] += 1
            with pytest.raises(exc) as ei:
                fn()
            if want is not None:
                assert ei.value.errno == want
        assert not k.processes()
        after = k.vmstat()
        assert {n: v for n, v in after.items() if n not in EVENT_COUNTERS} == \
            {n: v for n, v in before.items() if n not in EVENT_COUNTERS}
        # configuration values (not system calls) are ValueError, like int("x")
        for fn in (lambda: k.make_dev("a/b", PG), lambda: k.make_dev("fb9", "abc"),
                   lambda: k.make_dev("fb9", -1), lambda: k.remove_mac_policy(object())):
            BAD_INPUTS["calls"] += 1
            with pytest.raises(ValueError):
                fn()
        # uid_t conversion: -1 is 0xffffffff, an ordinary unprivileged user
        p = k.spawn(uid=-1, gid=-1)
        assert p.uid == 0xFFFFFFFF
        with pytest.raises(PermissionError):
            p.mlock(p.maps()[0].start, PG)
    finally:
        k.close()
    with pytest.raises(RuntimeError):
        k.spawn()


def test_kernel_constructor_bad_values():
    for kw, exc in [(dict(arch="vax"), ValueError), (dict(physmem="abc"), ValueError),
                    (dict(physmem=None), TypeError), (dict(physmem=-1), ValueError),
                    (dict(physmem="100K"), ValueError), (dict(swap="1x"), ValueError),
                    (dict(root="/nonexistent/x/y"), OSError)]:
        BAD_INPUTS["calls"] += 1
        with pytest.raises(exc):
            Kernel(**kw).close()


# -- regressions for the bugs this file found ------------------------------------------------------

def test_negative_file_offset_faults_like_eof():
    """mmap's pos is a signed off_t and nothing in the seed rejects a negative one; the pages before
    offset 0 have a huge (unsigned) vm_pindex_t, beyond EOF: SIGSEGV/SEGV_ACCERR (FLT-4, FLT-14),
    and the pages at offset >= 0 read the file.  (Was: a page at index -1 in the vnode object, a
    pread at a negative offset, SEGV_MAPERR, and an invariant failure.)"""
    from bsdvm import SegmentationFault
    k = Kernel(physmem="16M", swap="16M")
    try:
        p = k.spawn()
        fd = p.open("/f", os.O_RDWR | os.O_CREAT)
        p.write(fd, b"abcd" * 2048)
        for flags in (MAP_SHARED, MAP_PRIVATE):
            a = p.mmap(0, 3 * PG, RW, flags, fd, -PG)
            for off, write in ((0, False), (0, True)):
                with pytest.raises(SegmentationFault) as ei:
                    (p.mem_write(a + off, b"z") if write else p.mem_read(a + off, 1))
                assert ei.value.code == "SEGV_ACCERR"
            assert p.mem_read(a + PG + 1, 3) == b"bcd"      # file offset 1
            p.mem_write(a + PG, b"Z")
            k.check_invariants()
            with pytest.raises(OSError) as ei:
                p.mlock(a, 2 * PG)
            assert ei.value.errno == errno.ENOMEM
            p.msync(a, 3 * PG)
            p.munmap(a, 3 * PG)
            k.check_invariants()
        p.exit()
        from bsdvm.vm.invariants import check_quiescent
        check_quiescent(k)
        with open(os.path.join(k.root, "f"), "rb") as f:
            assert f.read(4) == b"Zbcd"          # the shared write, not the private one
    finally:
        k.close()


def test_write_takes_bytes_like_only():
    """write(fd, 5) used to write five zero bytes (bytes(5)); os.write raises TypeError."""
    w = world(False)
    for data in (5, [1, 2], "str", None, 2 ** 200):
        attempt(w, "write", (w.fds["rw"], data), Expect(TypeError))
        attempt(w, "pwrite", (w.fds["rw"], data, 0), Expect(TypeError))
    w.dirty = True
    assert w.p.write(w.fds["rw"], memoryview(b"ok")) == 2
    assert w.p.write(w.fds["rw"], bytearray(b"ok")) == 2


def test_on_pmc_rejects_a_non_callable():
    """k.on_pmc(None) used to be accepted; the next executable file mmap then raised TypeError
    after the mapping was made."""
    k = Kernel(physmem="16M", swap="16M")
    try:
        with pytest.raises(TypeError):
            k.on_pmc(None)
        p = k.spawn()
        fd = p.open("/x", os.O_RDWR | os.O_CREAT)
        p.write(fd, b"x" * PG)
        p.mmap(0, PG, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0)
    finally:
        k.close()


def test_spawn_rejects_non_integer_ids():
    """spawn(uid="x") used to make a process whose uid was the string "x"."""
    k = Kernel(physmem="16M", swap="16M")
    try:
        for kw in (dict(uid="x"), dict(gid=b"1"), dict(uid=1.0), dict(groups=[None])):
            with pytest.raises(TypeError):
                k.spawn(**kw)
        assert not k.processes()
        with pytest.raises(OSError) as ei:      # fits no uid_t: refused, never truncated
            k.spawn(uid=2 ** 32 + 5)
        assert ei.value.errno == errno.EINVAL and not k.processes()
    finally:
        k.close()


def test_zz_enough_bad_inputs_were_tried():
    """Runs last (file order): the whole module must have tried a good number of bad inputs."""
    if BAD_INPUTS["calls"] < 500:
        pytest.skip("only part of the module ran")
    assert BAD_INPUTS["calls"] > 1500
    assert BAD_INPUTS["failures_checked"] > 500


def test_mincore_vector_in_bad_user_memory():
    """mincore(addr, len, vec) with `vec` a user address: unmapped or read-only → EFAULT with
    nothing written; a vector running from writable memory into a hole → EFAULT after the bytes
    that fitted (MIN-7: partial vectors are FreeBSD 7's, spec section 14)."""
    w = world(False)
    cases = [(R0 + 4 * PG, errno.EFAULT), (R0 + 15 * PG, errno.EFAULT), (0, errno.EFAULT),
             (MAXU, errno.EFAULT), (-1, errno.EFAULT), (R0 + 9 * PG, errno.EFAULT)]
    for vec, want in cases:
        attempt(w, "mincore", (R0, 4 * PG, vec), Expect(want))
    attempt(w, "mincore", (R0, 0, 0), Expect(OK))                  # nothing to write
    attempt(w, "mincore", (R0 + 4 * PG, PG, R0), Expect(errno.ENOMEM))   # range checked first
    # a vector that starts 2 bytes before the hole at page 4: two bytes land, then EFAULT
    w = world(False)
    BAD_INPUTS["calls"] += 1
    before = snapshot(w)
    last = w.p.mem_read(R0 + 4 * PG - 2, 2)
    with pytest.raises(OSError) as ei:
        w.p.mincore(R0, 4 * PG, R0 + 4 * PG - 2)
    assert ei.value.errno == errno.EFAULT
    assert w.p.mem_read(R0 + 4 * PG - 2, 2) == bytes([1 | mman.MINCORE_REFERENCED |
                                                      mman.MINCORE_MODIFIED] * 2) or \
        w.p.mem_read(R0 + 4 * PG - 2, 2) != last
    w.mem[R0] = w.p.mem_read(R0, 4 * PG)        # the two bytes are the documented side effect
    assert_unchanged(w, before)
    w.dirty = True
