"""Process: the user-facing face of a modelled process -- the system calls, user memory access and
inspection.

The system-call methods are generated from the native table (kern/init_sysent.py ->
bsdvm/syscalls.py, by kern/makesyscalls.py); arguments are converted once, by C type, in
kern/sysent.py, and the bodies run under the kernel's giant lock.  What is written here by hand is
what is not one C call: mincore's bytes-returning form, shm_open, user memory, fork/exit, resource
limits and inspection.
May call: kern.sysent and kern.init_sysent (conversion and the bodies), vm.fault (UserAccess:
copyin/copyout under giant), vm.mmap (mincore's host vector), kern.* through the kernel.
"""
from __future__ import annotations

import errno as errno_mod
import os
import signal as signal_mod
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NoReturn

from . import mman
from .kern import descrip
from .kern.init_sysent import freebsd_sysent
from .kern.sysent import CADDR_T, FD, INT, RLIM_T, SIZE_T, U_INT, Result, Sysent, python_builders
from .resource import RLIM_INFINITY, RLIM_NLIMITS, RLIMIT_DATA, RLIMIT_STACK
from .syscalls import StrOrBytesPath, SyscallMethods
from .vm import mmap as sys_mmap
from .vm.fault import UserAccess, UserFault
from .vm.param import (EFLAG_NAMES, KERN_PROTECTION_FAILURE,
                       MAP_ENTRY_BEHAV_MASK, MAP_ENTRY_BEHAV_RANDOM, MAP_ENTRY_BEHAV_SEQUENTIAL,
                       MAP_WIREFUTURE, OBJT_DEVICE, OBJT_NAMES, OBJT_VNODE, PAGE_SIZE, atop,
                       ptoa)

if TYPE_CHECKING:
    from .kern.proc import Proc
    from .kernel import Kernel


class MemoryFault(Exception):
    """A user access the kernel answered with a signal."""

    def __init__(self, addr: int, signo: int, code: str, write: bool):
        super().__init__(f"{signal_mod.Signals(signo).name} ({code}) at {addr:#x}"
                         f" on {'write' if write else 'read'}")
        self.addr = addr
        self.signal = signo
        self.code = code
        self.write = write


class SegmentationFault(MemoryFault):
    """SIGSEGV: an access to unmapped memory (SEGV_MAPERR) or against its protection (SEGV_ACCERR)."""


class BusError(MemoryFault):
    """SIGBUS: an access past the end of a mapped file or device (BUS_ADRERR, BUS_OBJERR), or a
    protection fault under machdep.prot_fault_translation=1 (BUS_PAGE_FAULT)."""


class ProcessKilled(Exception):
    """The process was killed (the out-of-memory killer chose it) while in a call."""


@dataclass(frozen=True)
class MapEntry:
    """One map entry as `Process.maps()` reports it: the range [start, end), prot and max_prot
    (PROT_* masks), inheritance (INHERIT_*), wired_count, flags (MAP_ENTRY_* names without the
    prefix), behavior (MADV_*), the bottom object's type ("default", "swap", "vnode", "device" or
    None) and path, offset, resident pages (private_resident: in this entry's own unshared object),
    and the top object's ref_count and shadow_count."""

    start: int
    end: int
    prot: int
    max_prot: int
    inheritance: int
    wired_count: int
    flags: frozenset[str]
    behavior: int
    object_type: str | None
    offset: int
    path: str | None
    resident: int
    private_resident: int
    ref_count: int
    shadow_count: int

    @property
    def size(self) -> int:
        """end - start, in bytes."""
        return self.end - self.start


# amd64's 48-bit virtual addresses: bits 63..47 must all equal bit 47.  Everything between the
# two canonical halves is the non-canonical hole.
_AMD64_HOLE_START = 0x0000800000000000
_AMD64_HOLE_END = 0xFFFF800000000000


def _raise(err: int, what: str) -> NoReturn:
    raise OSError(err, os.strerror(err), what)


_NONE, _RETVAL, _UIO_OUT, _STRUCT_OUT = Result.NONE, Result.RETVAL, Result.UIO_OUT, Result.STRUCT_OUT
_MINCORE = freebsd_sysent.by_name["mincore"]
_FCNTL = freebsd_sysent.by_name["fcntl"]


class Process(SyscallMethods):
    """A modelled FreeBSD 7 process, as its owner sees it.

    Made by `Kernel.spawn()` or `fork()`.  The system-call methods (mmap, munmap, ..., open, read,
    ...) come from the native system-call table (kern/init_sysent.py, generated into
    bsdvm/syscalls.py): each converts its arguments by their C types -- a C caller's values: -1 is
    the all-ones address, an int that fits no C integer of the argument's type is refused with
    EINVAL (EBADF for a descriptor) and a non-integer raises TypeError -- runs the kernel body under
    the kernel's lock and raises OSError with the kernel's errno on failure, leaving the system as
    it was (except where FreeBSD 7 itself does not, docs/errata.md).  Beside them: user memory
    access (`mem_read`, `mem_write`, which fault as the hardware would), `fork`, `exit`, resource
    limits and inspection (`maps`, `procstat`, `vmspace_info`).  After `exit()` (or an OOM kill)
    every method raises ProcessLookupError (ESRCH), or ProcessKilled for a killed process.
    """

    def __init__(self, kernel: Kernel, proc: Proc) -> None:
        self.kernel = kernel
        self.proc = proc
        self.last_mincore_outside: list[tuple[int, int]] = []
        # mem_read/mem_write: an int in [lo, hi] is its own caddr_t and skips the converter, as
        # the generated system-call stubs do (kern/sysent.py python_builder)
        lo, hi = CADDR_T.identity_range(kernel.arch)
        self._user = UserAccess(proc, kernel.vm, kernel.giant, lo, hi,
                                CADDR_T.python_converter(kernel.arch), self._live, self._fault)
        self._builders = python_builders(freebsd_sysent, kernel.arch)   # the table's uap builders

    # -- identity ------------------------------------------------------------------------------
    @property
    def pid(self) -> int:
        """The process id."""
        return self.proc.p_pid

    @property
    def uid(self) -> int:
        """The effective user id (0 holds every privilege)."""
        return self.proc.p_ucred.cr_uid

    @property
    def gid(self) -> int:
        """The effective group id."""
        return self.proc.p_ucred.cr_gid

    @property
    def alive(self) -> bool:
        """False once the process has exited or was killed."""
        return self.proc.p_vmspace is not None

    @property
    def protected(self) -> bool:
        """True once madvise(MADV_PROTECT) made it immune to the out-of-memory killer."""
        return bool(self.proc.p_flag & self.proc.P_PROTECTED)

    def __repr__(self) -> str:
        return f"<Process pid={self.pid} uid={self.uid}{'' if self.alive else ' exited'}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Process) and other.proc is self.proc

    def __hash__(self) -> int:
        return hash(id(self.proc))

    # -- plumbing ------------------------------------------------------------------------------
    def _live(self) -> None:
        if self.proc.p_vmspace is None:
            why = getattr(self.proc, "p_killed", None)
            if why:
                raise ProcessKilled(f"process {self.pid} was killed: {why}")
            raise ProcessLookupError(errno_mod.ESRCH, f"process {self.pid} has exited")

    def _syscall(self, entry: Sysent, *values: Any) -> Any:
        """Convert a Python caller's values by the entry's C types (before taking the lock: a bad
        argument changes nothing), then run the body as `_run` does."""
        return self._run(entry, self._builders[entry.number](*values))

    def _run(self, entry: Sysent, uap: Any) -> Any:
        """Run one system call body for this process under the kernel's lock: its result for a
        Python caller, or OSError with its errno."""
        giant = self.kernel.giant
        giant.acquire()                 # not `with`: see _access
        try:
            if self.proc.p_vmspace is None:
                self._live()
            td = self.proc.td
            retval = td.td_retval
            retval[0] = 0
            retval[1] = 0
            err = entry.body(td, uap)
            if err:
                raise OSError(err, os.strerror(err), entry.name)
            returns = entry.returns             # the common results without another call
            if returns is _NONE:
                return None
            if returns is _RETVAL:
                return retval[0]
            if returns is _UIO_OUT:
                return bytes(getattr(uap, entry.result_arg).sysbuf)
            if returns is _STRUCT_OUT:
                return getattr(uap, entry.result_arg).value
            return entry.python_result(td, uap)
        finally:
            giant.release()

    # -- calls whose Python form differs from the C one ------------------------------------------
    def mincore(self, addr: int, length: int, vec: int | None = None, fill: int = 0) -> bytes | None:
        """mincore(2): which pages of [addr, addr + length) are resident, one byte per page.

        Without `vec` the vector is returned as bytes (one MINCORE_* byte per page; bytes the kernel
        did not write hold `fill`, which exposes FreeBSD 7's off-by-one fill, MIN-7/8; a write
        outside the vector is recorded in `last_mincore_outside` as (index, value)).  With `vec` (a
        user address) this is `mincore_into`: the kernel writes the vector into this process's
        memory and the method returns None.

        Raises:
            OSError: ENOMEM when the range ends past the user address space or wraps, starts outside
                every mapping or has a hole; EFAULT (with `vec`) when the vector is not writable;
                EINVAL when an argument fits no C integer of its type.
            TypeError: a non-integer argument.
            ProcessLookupError: the process has exited (ESRCH).

        Spec rules: MIN-1 .. MIN-10.
        """
        if vec is not None:
            self.mincore_into(addr, length, vec)
            return None
        arch = self.kernel.arch
        addr = CADDR_T.from_python(addr, arch)
        length = SIZE_T.from_python(length, arch)
        # the pages the kernel covers: round_page(len) wraps at the word size, as in C
        n = ((length + PAGE_SIZE - 1) & arch.word_mask) // PAGE_SIZE
        with self.kernel.giant:
            self._live()
            mapped = self.proc.p_vmspace.vm_map.size
            # Most of a vector larger than the mapped memory is never written (the call fails
            # with ENOMEM first), so only that much is allocated up front; a range running past
            # the last entry (MIN-4) succeeds and still gets one byte per page.
            hv = sys_mmap.ByteVector(n, fill, preallocate=atop(mapped) + 1)
            self._run(_MINCORE, SimpleNamespace(addr=addr, len=length, vec=hv))
            self.last_mincore_outside = hv.outside
            return hv.contents()

    def fcntl_setfl(self, fd: int, flags: int) -> None:
        """fcntl(fd, F_SETFL, flags): replace the descriptor's settable status flags (O_NONBLOCK
        0x4, O_APPEND 0x8, O_ASYNC 0x40, FPOSIXSHM 0x100 -- FreeBSD's values).

        Raises:
            OSError: EBADF when fd is not open (or fits no C int); EINVAL when flags fits no C int.
            TypeError: a non-integer argument.
            ProcessLookupError: the process has exited (ESRCH).
        """
        arch = self.kernel.arch
        fd = FD.from_python(fd, arch)
        flags = INT.from_python(flags, arch)            # libc passes F_SETFL's argument as an int
        self._syscall(_FCNTL, fd, descrip.F_SETFL, flags)

    def shm_open(self, path: StrOrBytesPath, flags: int = os.O_RDWR | os.O_CREAT,
                 mode: int = 0o600) -> int:
        """7.x libc shm_open(3): open(2) a regular file, then fcntl(F_SETFL, FPOSIXSHM), so that
        mappings of it trade file-system coherence for speed (MAP_NOSYNC, FD-2).

        Returns the descriptor.  Raises what `open` raises.
        """
        fd = self.open(path, flags, mode)
        self.fcntl_setfl(fd, descrip.FPOSIXSHM | (descrip.FAPPEND if flags & os.O_APPEND else 0))
        return fd

    def brk_base(self) -> int:
        """Where the data segment (and so the break) begins: vm_daddr.  ProcessLookupError
        (ESRCH) once the process has exited."""
        with self.kernel.giant:
            self._live()
            return self.proc.p_vmspace.vm_daddr

    def brk_current(self) -> int:
        """The current break: vm_daddr + ctob(vm_dsize).  ProcessLookupError once exited."""
        with self.kernel.giant:
            self._live()
            vms = self.proc.p_vmspace
            return vms.vm_daddr + ptoa(vms.vm_dsize)

    # -- user memory ---------------------------------------------------------------------------
    def _fault(self, uf: UserFault) -> MemoryFault:
        k = self.kernel
        if uf.rv == KERN_PROTECTION_FAILURE:
            # FLT-14: 7.0's trap() rewrites it to SIGSEGV/SEGV_ACCERR for a 7.x binary; the
            # machdep.prot_fault_translation knob (7.1 on) can ask for SIGBUS/BUS_PAGE_FAULT.
            knob = k.prot_fault_translation
            if knob == 1 or (knob == 0 and self.proc.p_osrel < 700004):
                return BusError(uf.addr, signal_mod.SIGBUS, "BUS_PAGE_FAULT", uf.write)
            return SegmentationFault(uf.addr, signal_mod.SIGSEGV, "SEGV_ACCERR", uf.write)
        if k.arch.name == "amd64" and _AMD64_HOLE_START <= uf.addr < _AMD64_HOLE_END:
            # A non-canonical address raises #GP, not #PF: trap() (amd64 trap.c, T_PROTFLT in
            # user mode) sends SIGBUS/BUS_OBJERR.  FreeBSD's si_addr is then the instruction
            # pointer; the model has none and reports the data address.
            return BusError(uf.addr, signal_mod.SIGBUS, "BUS_OBJERR", uf.write)
        return SegmentationFault(uf.addr, signal_mod.SIGSEGV, "SEGV_MAPERR", uf.write)

    def mem_read(self, addr: int, size: int) -> bytes:
        """Read `size` bytes of this process's memory at `addr`, as a user load would: pages are
        faulted in (zero fill, copy-on-write, file and swap page-ins).

        Raises:
            SegmentationFault, BusError: the access faults (.addr, .signal, .code as FreeBSD 7
                delivers them: SEGV_MAPERR unmapped, SEGV_ACCERR protection, BUS_* past EOF).
            OSError: EINVAL when addr fits no address.
            TypeError: a non-integer argument; ValueError: a negative size.
            ProcessLookupError: the process has exited; ProcessKilled: the OOM killer chose it.
        """
        return self._user.read(addr, size)     # vm/fault.py: one native call when compiled

    def mem_write(self, addr: int, data: bytes | bytearray | memoryview) -> None:
        """Write `data` into this process's memory at `addr`, as user stores would (faulting,
        copying on write, dirtying pages).  Raises as `mem_read` does (TypeError for data that is
        not bytes-like)."""
        self._user.write(addr, data)

    # -- processes -----------------------------------------------------------------------------
    def fork(self) -> Process:
        """fork(2): a child with a copy of this address space (vmspace_fork: each entry shared,
        copied on write or left out by its inheritance) and of the descriptor table.

        Raises OSError ENOMEM when a wired entry cannot be copied, ProcessLookupError after exit.
        """
        k = self.kernel
        with k.giant:
            self._live()
            err, child = k.fork_proc(self.proc)
            if child is None:
                _raise(err, "fork")
            return Process(k, child)

    def exit(self) -> None:
        """exit(2): close every descriptor and free the address space.  Idempotent."""
        with self.kernel.giant:
            self.kernel.exit_proc(self.proc)

    def execve(self, path, argv=None, envp=None) -> None:
        """execve(2): replace this process's image with the x86-64 ELF program at `path` (in the
        model's file tree), with `argv` (default [path]) and `envp` (default empty).  The program
        runs when `Kernel.run()` is called.  Raises OSError: ENOENT, ENOTDIR, EACCES (not a
        regular file, noexec, no execute permission), ENOEXEC (not a valid x86-64 ELF), E2BIG.
        Needs the `unicorn` module."""
        from .kern.kern_exec import do_execve
        from .kern.sysent import path_from_python
        err, raw = path_from_python(path)
        if err:
            _raise(err, "execve")
        args = [os.fsencode(a) for a in (argv if argv is not None else [path])]
        env = [os.fsencode(e) for e in (envp if envp is not None else [])]
        with self.kernel.giant:
            self._live()
            err = do_execve(self.proc, raw, args, env)
            if err:
                _raise(err, "execve")

    def maps_at_exit(self) -> list[MapEntry]:
        """The map entries the process had when it exited (kept when `kernel.exec_keep_maps` was
        set before it exited; empty otherwise)."""
        return list(getattr(self.proc, "p_final_maps", []))

    @property
    def wait_status(self) -> int | None:
        """The wait(2) status word once the process has exited (None while it lives)."""
        return self.kernel.exit_status.get(self.pid)

    @property
    def exit_status(self) -> int | None:
        """The exit status as a shell reports it once the process has exited: the exit code, or
        128+N when signal N killed it (None while it lives)."""
        from .kern.kern_exit import status_exit_code
        ws = self.kernel.exit_status.get(self.pid)
        return None if ws is None else status_exit_code(ws)

    def getrlimit(self, which: int) -> tuple[int, int]:
        """getrlimit(2): the (soft, hard) limits of resource `which` (a resource.RLIMIT_*).

        Raises OSError EINVAL for an unknown resource (which is a u_int), TypeError for a
        non-integer.
        """
        which = U_INT.from_python(which, self.kernel.arch)
        if not 0 <= which < RLIM_NLIMITS:
            _raise(errno_mod.EINVAL, "getrlimit")
        with self.kernel.giant:
            self._live()
            cur, mx = self.proc.p_limit[which]
            return cur, mx

    def setrlimit(self, which: int, limits: tuple[int, int]) -> None:
        """setrlimit(2) (kern_setrlimit): set resource `which` to `limits` = (soft, hard).

        Values are rlim_t (signed 64-bit): a negative one is RLIM_INFINITY.  DATA and STACK are
        clamped to maxdsiz/maxssiz.

        Raises:
            OSError: EINVAL for an unknown resource, soft > hard, or a value that fits no rlim_t;
                EPERM when raising the hard limit without privilege (PRIV_PROC_SETRLIMIT).
            ValueError: limits is not a pair; TypeError: a non-integer.
            ProcessLookupError: the process has exited (ESRCH).
        """
        from .kern import priv
        arch = self.kernel.arch
        which = U_INT.from_python(which, arch)
        cur, mx = limits                            # a pair, as resource.setrlimit wants
        cur, mx = RLIM_T.from_python(cur, arch), RLIM_T.from_python(mx, arch)
        if not 0 <= which < RLIM_NLIMITS:
            _raise(errno_mod.EINVAL, "setrlimit")
        k = self.kernel
        with k.giant:
            self._live()
            if cur < 0 or cur > RLIM_INFINITY:
                cur = RLIM_INFINITY
            if mx < 0 or mx > RLIM_INFINITY:
                mx = RLIM_INFINITY
            old = self.proc.p_limit[which]
            if cur > mx:
                _raise(errno_mod.EINVAL, "setrlimit")
            if mx > old[1]:
                err = priv.priv_check(self.proc.td, priv.PRIV_PROC_SETRLIMIT)
                if err:
                    _raise(err, "setrlimit")
            if which == RLIMIT_DATA:
                cur = min(cur, k.arch.maxdsiz)
                mx = min(mx, k.arch.maxdsiz)
            elif which == RLIMIT_STACK:
                cur = min(cur, k.arch.maxssiz)
                mx = min(mx, k.arch.maxssiz)
            self.proc.p_limit[which] = [cur, mx]

    # -- inspection ----------------------------------------------------------------------------
    def maps(self) -> list[MapEntry]:
        """The address space as a list of MapEntry, in address order (what `procstat -v` reads)."""
        with self.kernel.giant:
            self._live()
            m = self.proc.p_vmspace.vm_map
            return [_describe(m, e) for e in m.entries()]

    def procstat(self) -> str:
        """The address space as text, in the columns of FreeBSD's `procstat -v`."""
        from .report import procstat_text
        return procstat_text(self)

    def vmspace_info(self) -> dict[str, Any]:
        """The vmspace's sizes and counters: size, nentries, timestamp, resident, wired, taddr,
        tsize, daddr, dsize, ssize, maxsaddr, refcnt, wirefuture."""
        with self.kernel.giant:
            self._live()
            vms = self.proc.p_vmspace
            m = vms.vm_map
            return dict(size=m.size, nentries=m.nentries, timestamp=m.timestamp,
                        resident=m.pmap.resident_count, wired=m.pmap.wired_count,
                        taddr=vms.vm_taddr, tsize=vms.vm_tsize, daddr=vms.vm_daddr,
                        dsize=vms.vm_dsize, ssize=vms.vm_ssize, maxsaddr=vms.vm_maxsaddr,
                        refcnt=vms.vm_refcnt, wirefuture=bool(m.flags & MAP_WIREFUTURE))


def _describe(m: Any, e: Any) -> MapEntry:
    obj = e.object
    flags = frozenset(name for bit, name in EFLAG_NAMES if e.eflags & bit)
    behav = e.eflags & MAP_ENTRY_BEHAV_MASK
    behavior = (mman.MADV_SEQUENTIAL if behav == MAP_ENTRY_BEHAV_SEQUENTIAL else
                mman.MADV_RANDOM if behav == MAP_ENTRY_BEHAV_RANDOM else mman.MADV_NORMAL)
    resident = private = 0
    path = None
    otype = None
    ref = shadow = 0
    if obj is not None:
        # the type reported is the bottom of the chain's, as procstat does
        bottom = obj
        while bottom.backing_object is not None:
            bottom = bottom.backing_object
        otype = OBJT_NAMES.get(bottom.type)
        if bottom.type == OBJT_VNODE and bottom.handle is not None:
            path = getattr(bottom.handle, "path", None)
        elif bottom.type == OBJT_DEVICE and bottom.handle is not None:
            path = "/dev/" + bottom.handle.si_name
        ref, shadow = obj.ref_count, obj.shadow_count
        first = atop(e.offset)
        npages = atop(e.end - e.start)
        candidates = set()
        tobj, shift = obj, 0
        while tobj is not None:         # indices (in obj's terms) resident anywhere down the chain
            for pi in tobj.pages:
                i = pi - shift
                if first <= i < first + npages:
                    candidates.add(i)
            shift += atop(tobj.backing_object_offset)
            tobj = tobj.backing_object
        for i in candidates:
            tobj, ti = obj, i
            while tobj is not None:
                pg = tobj.pages.get(ti)
                if pg is not None and pg.valid:
                    resident += 1
                    if tobj is obj and obj.anonymous and obj.ref_count == 1:
                        private += 1
                    break
                ti += atop(tobj.backing_object_offset)
                tobj = tobj.backing_object
    return MapEntry(start=e.start, end=e.end, prot=e.protection, max_prot=e.max_protection,
                    inheritance=e.inheritance, wired_count=e.wired_count, flags=flags,
                    behavior=behavior, object_type=otype, offset=e.offset, path=path,
                    resident=resident, private_resident=private, ref_count=ref,
                    shadow_count=shadow)
