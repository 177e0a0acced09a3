"""Process: the user-facing face of a modelled process — the seed's system calls, file calls, user
memory access and inspection.

Each syscall method converts its Python arguments to the C types of the call (unsigned words for
pointers and sizes, 32-bit ints, 64-bit off_t — so -1 becomes the all-ones address, as it would in
C), runs the kernel body under the kernel's giant lock, and turns a nonzero errno into OSError.
A non-integer argument raises TypeError, as Python's own os functions do.
May call: vm.mmap (the syscall bodies), vm.fault (copyin/copyout), kern.* through the kernel.
"""
from __future__ import annotations

import errno as errno_mod
import operator
import os
import signal as signal_mod
import stat as stat_mod
from dataclasses import dataclass
from types import SimpleNamespace

from . import mman
from .kern import descrip
from .resource import RLIM_INFINITY, RLIM_NLIMITS, RLIMIT_DATA, RLIMIT_STACK
from .vm import mmap as sys_mmap
from .vm import unix as sys_unix
from .vm.fault import UserFault, copyin, copyout
from .vm.param import (EFLAG_NAMES, KERN_PROTECTION_FAILURE, KERN_RESOURCE_SHORTAGE,
                       MAP_ENTRY_BEHAV_MASK, MAP_ENTRY_BEHAV_RANDOM, MAP_ENTRY_BEHAV_SEQUENTIAL,
                       MAP_WIREFUTURE, OBJT_DEVICE, OBJT_NAMES, OBJT_VNODE, PAGE_SIZE, atop,
                       ptoa)


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
    pass


class BusError(MemoryFault):
    pass


class ProcessKilled(Exception):
    """The process was killed (the out-of-memory killer chose it) while in a call."""


@dataclass(frozen=True)
class MapEntry:
    start: int
    end: int
    prot: int
    max_prot: int
    inheritance: int
    wired_count: int
    flags: frozenset
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
        return self.end - self.start


# amd64's 48-bit virtual addresses: bits 63..47 must all equal bit 47.  Everything between the
# two canonical halves is the non-canonical hole.
_AMD64_HOLE_START = 0x0000800000000000
_AMD64_HOLE_END = 0xFFFF800000000000


def _index(x) -> int:
    return operator.index(x)


def _fit(x, bits: int, err: int = errno_mod.EINVAL) -> int:
    """x as a C integer of `bits` bits, given either as signed or as unsigned (so -1 is the
    all-ones word, as a C caller's cast makes it).  A value no such C integer can hold never
    reaches the kernel: it is refused with `err` rather than silently truncated (close(2**32)
    must not close descriptor 0)."""
    x = operator.index(x)
    if not -(1 << (bits - 1)) <= x < (1 << bits):
        raise OSError(err, os.strerror(err), f"{x} does not fit a {bits}-bit C integer")
    return x & ((1 << bits) - 1)


def _signed(x, bits: int, err: int = errno_mod.EINVAL) -> int:
    """x as a signed C integer of `bits` bits (see _fit)."""
    x = _fit(x, bits, err)
    return x - (1 << bits) if x >> (bits - 1) else x


def _cint(x) -> int:
    return _signed(x, 32)


def _id_t(x) -> int:
    """A uid_t or gid_t (32-bit unsigned): -1 is 0xffffffff (chown's "leave it"), -2 is
    0xfffffffe (nobody), a value no uid_t holds is EINVAL.  The one conversion used for every
    user and group id a caller passes (spawn, chown)."""
    return _fit(x, 32)


INT_MAX = 0x7FFFFFFF


def _cfd(x) -> int:
    """A descriptor argument: out of C int range is EBADF, as for any fd not in the table."""
    return _signed(x, 32, errno_mod.EBADF)


def _off(x) -> int:
    return _signed(x, 64)


def _raise(err: int, what: str):
    raise OSError(err, os.strerror(err), what)


class Process:
    def __init__(self, kernel, proc):
        self.kernel = kernel
        self.proc = proc

    # -- identity ------------------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.proc.p_pid

    @property
    def uid(self) -> int:
        return self.proc.p_ucred.cr_uid

    @property
    def gid(self) -> int:
        return self.proc.p_ucred.cr_gid

    @property
    def alive(self) -> bool:
        return self.proc.p_vmspace is not None

    @property
    def protected(self) -> bool:
        return bool(self.proc.p_flag & self.proc.P_PROTECTED)

    def __repr__(self):
        return f"<Process pid={self.pid} uid={self.uid}{'' if self.alive else ' exited'}>"

    def __eq__(self, other):
        return isinstance(other, Process) and other.proc is self.proc

    def __hash__(self):
        return hash(id(self.proc))

    # -- plumbing ------------------------------------------------------------------------------
    def _word(self, x) -> int:
        return _fit(x, self.kernel.arch.word_bits)

    def _long(self, x) -> int:
        return _signed(x, self.kernel.arch.c_long_bits)

    def _live(self):
        if self.proc.p_vmspace is None:
            why = getattr(self.proc, "p_killed", None)
            if why:
                raise ProcessKilled(f"process {self.pid} was killed: {why}")
            raise ProcessLookupError(errno_mod.ESRCH, f"process {self.pid} has exited")

    def _syscall(self, fn, name: str, **args) -> int:
        k = self.kernel
        with k.giant:
            self._live()
            td = self.proc.td
            td.td_retval[0] = 0
            err = fn(td, SimpleNamespace(**args))
            if err:
                _raise(err, name)
            return td.td_retval[0]

    # -- the seed's system calls ---------------------------------------------------------------
    def mmap(self, addr, length, prot, flags, fd=-1, offset=0) -> int:
        return self._syscall(sys_mmap.mmap, "mmap", addr=self._word(addr), len=self._word(length),
                             prot=_cint(prot), flags=_cint(flags), fd=_cfd(fd), pos=_off(offset))

    def ommap(self, addr, length, prot, flags, fd=-1, pos=0) -> int:
        # COMPAT_43: int len (sign-extended into size_t), long pos
        return self._syscall(sys_mmap.ommap, "ommap", addr=self._word(addr),
                             len=self._word(_cint(length)), prot=_cint(prot), flags=_cint(flags),
                             fd=_cfd(fd), pos=self._long(pos))

    def munmap(self, addr, length) -> None:
        self._syscall(sys_mmap.munmap, "munmap", addr=self._word(addr), len=self._word(length))

    def mprotect(self, addr, length, prot) -> None:
        self._syscall(sys_mmap.mprotect, "mprotect", addr=self._word(addr),
                      len=self._word(length), prot=_cint(prot))

    def minherit(self, addr, length, inherit) -> None:
        self._syscall(sys_mmap.minherit, "minherit", addr=self._word(addr),
                      len=self._word(length), inherit=_cint(inherit))

    def madvise(self, addr, length, behav) -> None:
        self._syscall(sys_mmap.madvise, "madvise", addr=self._word(addr), len=self._word(length),
                      behav=_cint(behav))

    def mincore(self, addr, length, vec=None, fill: int = 0):
        """Returns one byte per page.  With `vec` (a user address) the kernel writes the vector
        into this process's memory, as the real call does, and the method returns None."""
        addr = self._word(addr)
        length = self._word(length)
        if vec is not None:
            self._syscall(sys_mmap.mincore, "mincore", addr=addr, len=length,
                          vec=self._word(vec))
            return None
        # the pages the kernel covers: round_page(len) wraps at the word size, as in C
        n = ((length + PAGE_SIZE - 1) & self.kernel.arch.word_mask) // PAGE_SIZE
        with self.kernel.giant:
            self._live()
            mapped = self.proc.p_vmspace.vm_map.size
            # Most of a vector larger than the mapped memory is never written (the call fails
            # with ENOMEM first), so only that much is allocated up front; a range running past
            # the last entry (MIN-4) succeeds and still gets one byte per page.
            hv = sys_mmap.ByteVector(n, fill, preallocate=atop(mapped) + 1)
            self._syscall(sys_mmap.mincore, "mincore", addr=addr, len=length, vec=hv)
            self.last_mincore_outside = hv.outside
            return hv.contents()

    def mlock(self, addr, length) -> None:
        self._syscall(sys_mmap.mlock, "mlock", addr=self._word(addr), len=self._word(length))

    def munlock(self, addr, length) -> None:
        self._syscall(sys_mmap.munlock, "munlock", addr=self._word(addr), len=self._word(length))

    def mlockall(self, how) -> None:
        self._syscall(sys_mmap.mlockall, "mlockall", how=_cint(how))

    def munlockall(self) -> None:
        self._syscall(sys_mmap.munlockall, "munlockall")

    def msync(self, addr, length, flags=mman.MS_SYNC) -> None:
        self._syscall(sys_mmap.msync, "msync", addr=self._word(addr), len=self._word(length),
                      flags=_cint(flags))

    def sbrk(self, incr) -> int:
        return self._syscall(sys_mmap.sbrk, "sbrk", incr=_cint(incr))

    def sstk(self, incr) -> int:
        return self._syscall(sys_mmap.sstk, "sstk", incr=_cint(incr))

    def ogetpagesize(self) -> int:
        return self._syscall(sys_mmap.ogetpagesize, "ogetpagesize")

    def obreak(self, nsize) -> None:
        self._syscall(sys_unix.obreak, "obreak", nsize=self._word(nsize))

    def brk_base(self) -> int:
        """Where the data segment (and so the break) begins: vm_daddr.  ProcessLookupError
        (ESRCH) once the process has exited."""
        with self.kernel.giant:
            self._live()
            return self.proc.p_vmspace.vm_daddr

    def brk_current(self) -> int:
        """The current break: vm_daddr + vm_dsize pages.  ProcessLookupError once exited."""
        with self.kernel.giant:
            self._live()
            vms = self.proc.p_vmspace
            return vms.vm_daddr + ptoa(vms.vm_dsize)

    # -- user memory ---------------------------------------------------------------------------
    def _fault(self, uf: UserFault):
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

    def _access(self, fn, addr, arg):
        k = self.kernel
        with k.giant:
            while True:
                self._live()
                try:
                    return fn(self.proc.p_vmspace.vm_map, addr, arg)
                except UserFault as uf:
                    if uf.rv != KERN_RESOURCE_SHORTAGE:
                        raise self._fault(uf) from None
                    # out of memory and swap: vm_pageout_oom picks a victim, then we retry.  Each
                    # round kills a process, so this ends: in success, in ProcessKilled (this
                    # process was the victim) or in a fault when no victim is left.  (It used to
                    # give up after three kills with a Python MemoryError.)
                    if k.pagedaemon is None or k.pagedaemon.oom_kill() is None:
                        raise self._fault(uf) from None
                except BaseException:
                    # a Python exception mid-fault (KeyboardInterrupt): requeue a page entered
                    # but not yet queued, so the gauges add up (docs/errata.md)
                    k.phys.requeue_strays(k.objects.values())
                    raise

    def mem_read(self, addr, size) -> bytes:
        addr = self._word(addr)
        size = _index(size)
        if size < 0:
            raise ValueError("negative size")
        if size == 0:
            return b""
        return self._access(copyin, addr, size)

    def mem_write(self, addr, data) -> None:
        addr = self._word(addr)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("data must be bytes-like")
        if len(data) == 0:
            return
        self._access(copyout, addr, data)

    # -- processes -----------------------------------------------------------------------------
    def fork(self) -> "Process":
        k = self.kernel
        with k.giant:
            self._live()
            err, child = k.fork_proc(self.proc)
            if child is None:
                _raise(err, "fork")
            return Process(k, child)

    def exit(self) -> None:
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

    def getrlimit(self, which) -> tuple[int, int]:
        which = _fit(which, 32)                     # u_int which
        if not 0 <= which < RLIM_NLIMITS:
            _raise(errno_mod.EINVAL, "getrlimit")
        with self.kernel.giant:
            self._live()
            cur, mx = self.proc.p_limit[which]
            return cur, mx

    def setrlimit(self, which, limits) -> None:
        """kern_setrlimit: EINVAL for cur > max or a bad resource; raising max needs privilege;
        DATA and STACK are clamped to maxdsiz/maxssiz."""
        from .kern import priv
        which = _fit(which, 32)                     # u_int which
        cur, mx = limits                            # a pair, as resource.setrlimit wants
        cur, mx = _off(cur), _off(mx)               # rlim_t is a signed 64-bit integer
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
        with self.kernel.giant:
            self._live()
            m = self.proc.p_vmspace.vm_map
            return [_describe(m, e) for e in m.entries()]

    def procstat(self) -> str:
        from .report import procstat_text
        return procstat_text(self)

    def vmspace_info(self) -> dict:
        with self.kernel.giant:
            self._live()
            vms = self.proc.p_vmspace
            m = vms.vm_map
            return dict(size=m.size, nentries=m.nentries, timestamp=m.timestamp,
                        resident=m.pmap.resident_count, wired=m.pmap.wired_count,
                        taddr=vms.vm_taddr, tsize=vms.vm_tsize, daddr=vms.vm_daddr,
                        dsize=vms.vm_dsize, ssize=vms.vm_ssize, maxsaddr=vms.vm_maxsaddr,
                        refcnt=vms.vm_refcnt, wirefuture=bool(m.flags & MAP_WIREFUTURE))

    # -- file system calls ----------------------------------------------------------------------
    def _vfs_call(self, name, fn):
        k = self.kernel
        with k.giant:
            self._live()
            err, val = fn(k, self.proc.p_ucred)
            if err:
                _raise(err, name)
            return val

    def _vfs_errno_call(self, name, fn):
        """A file call whose kernel side returns only an errno (close, unlink, chmod, ...)."""
        return self._vfs_call(name, lambda k, cred: (fn(k, cred), None))

    def open(self, path, flags=os.O_RDONLY, mode=0o666):
        flags = _cint(flags)
        mode = _index(mode)

        def do(k, cred):
            err, vp = k.vfs.open(cred, os.fspath(path), flags, mode)
            if err:
                return err, None
            fp = descrip.File(descrip.DTYPE_VNODE, descrip.fflags(flags), f_vnode=vp)
            if flags & os.O_APPEND:
                fp.f_flag |= descrip.FAPPEND
            err, fd = self.proc.p_fd.falloc(fp)
            if err:
                descrip.fhold(fp)
                descrip.fdrop(fp)
            return err, fd
        return self._vfs_call("open", do)

    def shm_open(self, path, flags=os.O_RDWR | os.O_CREAT, mode=0o600):
        """7.x libc shm_open(3): open(2) a regular file, then fcntl(F_SETFL, FPOSIXSHM)."""
        fd = self.open(path, flags, mode)
        with self.kernel.giant:
            err = self.proc.p_fd.fcntl_setfl(fd, descrip.FPOSIXSHM | (
                descrip.FAPPEND if flags & os.O_APPEND else 0))
            if err:
                _raise(err, "shm_open")
        return fd

    def close(self, fd):
        fd = _cfd(fd)
        return self._vfs_errno_call("close", lambda k, cred: self.proc.p_fd.close(fd))

    def _rw(self, name, fd, fn):
        fd = _cfd(fd)

        def do(k, cred):
            err, fp = self.proc.p_fd.fget(fd)
            if err:
                return err, None
            try:
                return fn(fp)
            finally:
                self.proc.p_fd.fdrop(fp)
        return self._vfs_call(name, do)

    def read(self, fd, n):
        # size_t nbyte; FreeBSD 7's read(2) refuses nbyte > INT_MAX with EINVAL
        n = self._word(n)
        if n > INT_MAX:
            _raise(errno_mod.EINVAL, "read")
        return self._rw("read", fd, lambda fp: descrip.fo_read(fp, n))

    def pread(self, fd, n, offset):
        n, offset = self._word(n), _off(offset)
        if n > INT_MAX or offset < 0:
            _raise(errno_mod.EINVAL, "pread")
        return self._rw("pread", fd, lambda fp: descrip.fo_read(fp, n, offset))

    def write(self, fd, data):
        data = bytes(memoryview(data))      # bytes-like only, as os.write (bytes(5) is not data)
        return self._rw("write", fd, lambda fp: descrip.fo_write(fp, data))

    def pwrite(self, fd, data, offset):
        data = bytes(memoryview(data))
        offset = _off(offset)
        if offset < 0:
            _raise(errno_mod.EINVAL, "pwrite")
        return self._rw("pwrite", fd, lambda fp: descrip.fo_write(fp, data, offset))

    def ftruncate(self, fd, size):
        size = _off(size)

        def do(fp):
            if fp.f_vnode is None:
                return errno_mod.EINVAL, None
            if not fp.f_flag & descrip.FWRITE:
                return errno_mod.EINVAL, None
            return self.kernel.vfs.truncate(fp.f_vnode, size), None
        return self._rw("ftruncate", fd, do)

    def fstat(self, fd):
        def do(fp):
            if fp.f_vnode is None:
                # pipe_stat: a FIFO owned by the caller, st_size the bytes waiting to be read
                cred = self.proc.p_ucred
                pipe = fp.f_data
                return 0, SimpleNamespace(
                    st_mode=stat_mod.S_IFIFO | 0o600, st_ino=id(pipe) & 0xFFFFFFFF, st_dev=0,
                    st_nlink=1, st_uid=cred.cr_uid, st_gid=cred.cr_gid,
                    st_size=len(getattr(pipe, "buf", b"")), st_atime=0.0, st_mtime=0.0,
                    st_ctime=0.0, st_flags=0, st_blksize=4096, st_blocks=0, st_rdev=0)
            return 0, self.kernel.vfs.getattr_stat(fp.f_vnode)
        return self._rw("fstat", fd, do)

    def lseek(self, fd, offset, whence=os.SEEK_SET):
        offset = _off(offset)
        whence = _cint(whence)

        def do(fp):
            if fp.f_vnode is None:
                return errno_mod.ESPIPE, None
            if whence == os.SEEK_SET:
                new = offset
            elif whence == os.SEEK_CUR:
                new = fp.f_offset + offset
            elif whence == os.SEEK_END:
                new = self.kernel.vfs.getattr_stat(fp.f_vnode).st_size + offset
            else:
                return errno_mod.EINVAL, None
            if new < 0:
                return errno_mod.EINVAL, None
            fp.f_offset = new
            return 0, new
        return self._rw("lseek", fd, do)

    def fcntl_setfl(self, fd, flags):
        fd, flags = _cfd(fd), _cint(flags)
        return self._vfs_errno_call("fcntl", lambda k, cred: self.proc.p_fd.fcntl_setfl(fd, flags))

    def pipe(self):
        def do(k, cred):
            r, w = descrip.make_pipe()
            err, rfd = self.proc.p_fd.falloc(r)
            if err:
                return err, None
            err, wfd = self.proc.p_fd.falloc(w)
            if err:
                self.proc.p_fd.close(rfd)
                return err, None
            return 0, (rfd, wfd)
        return self._vfs_call("pipe", do)

    def unlink(self, path):
        return self._vfs_errno_call("unlink", lambda k, cred: k.vfs.unlink(cred, os.fspath(path)))

    def chmod(self, path, mode):
        mode = _index(mode)
        return self._vfs_errno_call("chmod", lambda k, cred: k.vfs.chmod(cred, os.fspath(path), mode))

    def chown(self, path, uid, gid):
        uid, gid = _id_t(uid), _id_t(gid)
        return self._vfs_errno_call("chown",
                         lambda k, cred: k.vfs.chown(cred, os.fspath(path), uid, gid))

    def chflags(self, path, flags):
        flags = _index(flags)
        return self._vfs_errno_call("chflags",
                         lambda k, cred: k.vfs.chflags(cred, os.fspath(path), flags))

    def mkdir(self, path, mode=0o777):
        mode = _index(mode)
        return self._vfs_errno_call("mkdir", lambda k, cred: k.vfs.mkdir(cred, os.fspath(path), mode))

    def symlink(self, target, path):
        return self._vfs_errno_call("symlink",
                         lambda k, cred: k.vfs.symlink(cred, os.fspath(target), os.fspath(path)))

    def stat(self, path):
        return self._vfs_call("stat", lambda k, cred: k.vfs.stat(cred, os.fspath(path)))

    def revoke(self, path):
        return self._vfs_errno_call("revoke", lambda k, cred: k.vfs.revoke(cred, os.fspath(path)))


def _describe(m, e) -> MapEntry:
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
