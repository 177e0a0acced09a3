"""kern_exec.c: execve -- replacing a process's image with a program from the (host) file tree,
and the accounting of programs run on the model (`ExecStats`).

do_execve checks the file and its interpreter (imgact_shell for '#!', imgact_elf for ELF, the
PT_INTERP loader) before the point of no return, then builds a new vmspace (the old one is freed,
its last reference dropped), a new CPU over it, maps the image and the stack, resets caught
signals, closes close-on-exec descriptors and sets the registers: RIP at the interpreter's (or the
program's) entry, RSP at argc, everything else zero.
Errnos before the point of no return: ENOENT/ENOTDIR/ELOOP/ENAMETOOLONG (lookup), EACCES (not a
regular file, noexec mount, no execute permission), ENOEXEC (not a valid x86-64 ELF, a truncated
or malformed one, a '#!' whose interpreter is itself a script), E2BIG (arguments over ARG_MAX),
EFAULT (a bad argv/envp pointer).  After it: the process dies of SIGABRT.
May call: kern.imgact_elf, kern.proc, vm.map, amd64.cpu (imported lazily: unicorn is needed only
when a program runs).
"""
from __future__ import annotations

import errno
import os
import struct
import time
from collections import Counter
from typing import Any

from ..vm.fault import UserFault, copyin
from ..vm.map import vmspace_free
from ..vm.param import KERN_SUCCESS
from . import imgact_elf as elf
from . import vfs as vfs_mod
from .kern_sig import SigInfo
from .sysent import copyinstr


class ExecStats:
    """What running programs did: system calls by name (count and errors), TLB fills, faults,
    and resident-memory samples over time (for --stats and --report)."""

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel
        self.calls: Counter[str] = Counter()
        self.errors: dict[str, Counter[str]] = {}
        self.faults = 0
        self.t0 = time.perf_counter()
        self.peak_resident = 0
        self.samples: list[tuple[float, int, int]] = []      # (seconds, resident pages, faults)
        self._next_sample = 0
        self.counters0 = dict(kernel.phys.counters)
        self.fills_of_exited = 0

    def resident(self) -> int:
        phys = self.kernel.phys
        return phys.npages - phys.free_count - phys.kernel_wired

    def note_fault(self) -> None:
        self.faults += 1
        if self.faults >= self._next_sample:
            self._next_sample = self.faults + 64
            self.sample()

    def sample(self) -> None:
        r = self.resident()
        if r > self.peak_resident:
            self.peak_resident = r
        self.samples.append((time.perf_counter() - self.t0, r, self.faults))

    def note_syscall(self, name: str, err: int) -> None:
        self.calls[name] += 1
        if err > 0:
            from ..compat.linux.linux import errno_name
            self.errors.setdefault(name, Counter())[errno_name(err) or str(err)] += 1
        if err or self.calls[name] & 63 == 0:
            r = self.resident()
            if r > self.peak_resident:
                self.peak_resident = r


def fetch_ptr_array(m: Any, addr: int, limit: int = 65536) -> tuple[int, list[bytes]]:
    """argv/envp: the strings of a NULL-terminated array of user pointers (EFAULT, E2BIG)."""
    out: list[bytes] = []
    if addr == 0:
        return 0, out
    total = 0
    for i in range(limit):
        try:
            (ptr,) = struct.unpack("<Q", copyin(m, addr + 8 * i, 8))
        except UserFault:
            return errno.EFAULT, []
        if ptr == 0:
            return 0, out
        err, s = copyinstr(m, ptr, elf.ARG_MAX)
        if err:
            return (errno.E2BIG if err == errno.ENAMETOOLONG else err), []
        total += len(s) + 1
        if total > elf.ARG_MAX:
            return errno.E2BIG, []
        out.append(s)
    return errno.E2BIG, []


def _brand_sysvec(ef: elf.ElfFile) -> Any:
    from ..amd64 import sysvec
    if ef.osabi == elf.ELFOSABI_FREEBSD:
        return sysvec.FREEBSD
    return sysvec.LINUX


def _open_at(p: Any, path: bytes) -> tuple[int, Any, bytes]:
    """open_exec for a path relative to the process's current directory."""
    from .vfs_syscalls import AT_FDCWD, lookup_at
    err, full = lookup_at(p.td, AT_FDCWD, path)
    if err:
        return err, None, b""
    return elf.open_exec(p.p_kernel, p.p_ucred, os.fsencode(full))


def do_execve(p: Any, path: bytes, argv: list[bytes], envp: list[bytes]) -> int:
    """execve(2) for process p; returns 0 (the process now runs the new image) or an errno."""
    kernel = p.p_kernel
    if sum(len(a) + 1 for a in argv) + sum(len(e) + 1 for e in envp) > elf.ARG_MAX:
        return errno.E2BIG
    if not path:
        return errno.ENOENT
    err, vp, head = _open_at(p, path)
    if err:
        return err
    execfn = path
    if head[:2] == b"#!":
        err, interp, argv = elf.shell_args(head, path, argv)
        vfs_mod.vrele(vp)
        if err:
            return err
        err, vp, head = _open_at(p, interp)
        if err:
            return err
        if head[:2] == b"#!":
            vfs_mod.vrele(vp)
            return errno.ENOEXEC
    err, ef = elf.elf_parse(kernel, vp, head)
    if err or ef is None:
        vfs_mod.vrele(vp)
        return err or errno.ENOEXEC
    interp_ef = None
    if ef.interp is not None:
        err, ivp, ihead = _open_at(p, ef.interp)
        if err:
            vfs_mod.vrele(vp)
            return err
        err, interp_ef = elf.elf_parse(kernel, ivp, ihead)
        if err or interp_ef is None or interp_ef.interp is not None:
            vfs_mod.vrele(ivp)
            vfs_mod.vrele(vp)
            return err or errno.ENOEXEC
    try:
        return _activate(p, ef, interp_ef, execfn, argv, envp)
    finally:
        vfs_mod.vrele(vp)
        if interp_ef is not None:
            vfs_mod.vrele(interp_ef.vp)


def _activate(p: Any, ef: elf.ElfFile, interp_ef: elf.ElfFile | None, execfn: bytes,
              argv: list[bytes], envp: list[bytes]) -> int:
    """Past the point of no return: the new vmspace, image, stack, CPU and registers."""
    from ..amd64.cpu import Cpu
    from ..amd64 import sysvec
    from .kern_exit import W_SIGNALED, exit1
    from .proc import new_vmspace
    import signal as S
    kernel = p.p_kernel
    old_cpu = p.p_cpu
    if old_cpu is not None:
        old_cpu.close()
        p.p_cpu = None
    old = p.p_vmspace
    vms = new_vmspace(kernel)
    vms.proc = p
    p.p_vmspace = vms
    old.proc = None
    vmspace_free(old)
    m = vms.vm_map
    td = p.td

    def fail() -> int:
        p.p_killinfo = SigInfo(S.SIGABRT)
        exit1(p, W_SIGNALED(S.SIGABRT))
        return 0

    base = elf.ET_DYN_LOAD_ADDR if ef.e_type == elf.ET_DYN else 0
    rv, main = elf.load_image(td, m, ef, base)
    if rv != KERN_SUCCESS or main is None:
        return fail()
    vms.vm_taddr, vms.vm_tsize = main.text[0], (main.text[1] - main.text[0]) >> 12
    vms.vm_daddr, vms.vm_dsize = main.data[0], (main.data[1] - main.data[0]) >> 12
    entry = main.entry
    interp_base = 0
    if interp_ef is not None:
        interp_base = elf.round_page(vms.vm_daddr + kernel.arch.maxdsiz)
        if interp_ef.e_type == elf.ET_EXEC:
            interp_base = 0
        rv, il = elf.load_image(td, m, interp_ef, interp_base)
        if rv != KERN_SUCCESS or il is None:
            return fail()
        entry = il.entry
    if elf.exec_map_stack(p) != KERN_SUCCESS:
        return fail()
    cred = p.p_ucred
    secure = int(cred.cr_uid != getattr(cred, "cr_ruid", cred.cr_uid))
    auxv = [(elf.AT_HWCAP, elf.HWCAP_X86_64), (elf.AT_PAGESZ, elf.PAGE_SIZE),
            (elf.AT_CLKTCK, 100), (elf.AT_PHDR, main.phdr), (elf.AT_PHENT, 56),
            (elf.AT_PHNUM, main.phnum), (elf.AT_BASE, interp_base), (elf.AT_FLAGS, 0),
            (elf.AT_ENTRY, main.entry), (elf.AT_UID, cred.cr_uid),
            (elf.AT_EUID, cred.cr_uid), (elf.AT_GID, cred.cr_gid),
            (elf.AT_EGID, cred.cr_gid), (elf.AT_SECURE, secure)]
    try:
        sp = elf.build_stack(p, execfn, argv, envp, auxv)
    except UserFault:
        return fail()
    p.p_sysvec = _brand_sysvec(ef)
    p.p_sig.exec_reset()
    p.p_comm = (argv[0] if argv else execfn).rsplit(b"/", 1)[-1][:19]
    p.p_fd.closeexec()
    cpu = Cpu(kernel, p)
    p.p_cpu = cpu
    sysvec.exec_setregs(cpu, entry, sp)
    p.p_sleeping = False
    kernel.need_resched = True
    return 0


def execve_body(td: Any, uap: Any) -> int:
    """The execve system call body shared by both personalities: path, argv, envp."""
    from .kern_exit import EJUSTRETURN
    p = td.td_proc
    m = p.p_vmspace.vm_map
    err, argv = fetch_ptr_array(m, uap.argv)
    if err:
        return err
    err, envp = fetch_ptr_array(m, uap.envp)
    if err:
        return err
    err = do_execve(p, uap.path, argv, envp)
    if err:
        return err
    return EJUSTRETURN


def native_sysents() -> list[Any]:
    """The native FreeBSD 7 declaration of execve (59)."""
    from .sysent import CADDR_T, PATH, Arg, Sysent
    return [Sysent(59, "execve", (Arg("path", PATH), Arg("argv", CADDR_T), Arg("envp", CADDR_T)),
                   execve_body, (errno.ENOENT, errno.EACCES, errno.ENOEXEC, errno.E2BIG,
                                 errno.EFAULT), doc="execve: a new image")]
