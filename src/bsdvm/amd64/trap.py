"""amd64/trap.c for a Unicorn CPU: page faults (trap_pfault), exceptions (#DE, #UD, int3...), and
the system-call entry (syscall()) dispatching through the process's personality table.

trap_pfault runs inside the CPU's TLB-fill hook: vm_fault (which grows the stack) with
VM_FAULT_DIRTY for a write, the out-of-memory rule when memory and swap are exhausted (the page
daemon's vm_pageout_oom picks a victim, then the fault is retried), and otherwise a signal:
KERN_PROTECTION_FAILURE is SIGSEGV/SEGV_ACCERR for a 7.x binary (SIGBUS/BUS_PAGE_FAULT when
machdep.prot_fault_translation asks for it, FLT-14), anything else SIGSEGV/SEGV_MAPERR.  Addresses at
or above VM_MAXUSER_ADDRESS never reach vm_fault: a canonical kernel address is SEGV_MAPERR, a
non-canonical one is a general-protection fault (SIGSEGV, SI_KERNEL, address 0 as Linux reports it).

Unicorn hands the fill hook only the page of the access; the exact faulting address (si_addr) is
recovered once the fill was declined, by replaying the one faulting instruction over a scratch
frame with a memory hook (`exact_fault_address`).

Signal numbers and si_codes here are Linux x86-64's (they are also the host's): the personality
translates when it delivers.  May call: vm.fault, kern.kern_sig, kern.sysent.
"""
from __future__ import annotations

import errno as E
import signal as S
from typing import TYPE_CHECKING, Any

from unicorn import (UC_CTL_TLB_FLUSH, UC_CTL_IO_WRITE, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE,
                     UC_MEM_FETCH, UC_MEM_WRITE, UcError)
from unicorn import x86_const as X

from ..kern.kern_exit import EJUSTRETURN, ERESTART
from ..kern.kern_sig import deliverable
from ..vm.fault import vm_fault
from ..vm.pmap import pmap_pte
from ..vm.param import (KERN_PROTECTION_FAILURE, KERN_RESOURCE_SHORTAGE, KERN_SUCCESS,
                        VM_FAULT_DIRTY, VM_FAULT_NORMAL, VM_PROT_EXECUTE, VM_PROT_READ,
                        VM_PROT_WRITE)
from .cpu import STOP_SYSCALL, SYSCALL_REGS

if TYPE_CHECKING:
    from .cpu import Cpu

# Linux si_code values (include/uapi/asm-generic/siginfo.h)
SI_USER = 0
SI_KERNEL = 0x80
SI_TKILL = -6
SEGV_MAPERR = 1
SEGV_ACCERR = 2
BUS_ADRERR = 2
BUS_OBJERR = 3
ILL_ILLOPN = 2
FPE_INTDIV = 1
TRAP_BRKPT = 1
CLD_EXITED = 1
CLD_KILLED = 2
CLD_DUMPED = 3

USER_TOP = 0x0000800000000000           # VM_MAXUSER_ADDRESS
KERNEL_BOTTOM = 0xFFFF800000000000      # the first canonical address of the upper half


SIGNAL_CODES: dict[tuple[int, int], str] = {
    (S.SIGSEGV, SEGV_MAPERR): "SEGV_MAPERR", (S.SIGSEGV, SEGV_ACCERR): "SEGV_ACCERR",
    (S.SIGSEGV, SI_KERNEL): "SI_KERNEL", (S.SIGBUS, BUS_ADRERR): "BUS_ADRERR",
    (S.SIGBUS, BUS_OBJERR): "BUS_OBJERR", (S.SIGILL, ILL_ILLOPN): "ILL_ILLOPN",
    (S.SIGFPE, FPE_INTDIV): "FPE_INTDIV", (S.SIGTRAP, TRAP_BRKPT): "TRAP_BRKPT",
}


def code_name(signo: int, code: int) -> str:
    """The symbolic si_code of a synchronous signal (SEGV_MAPERR...), for messages."""
    if code == SI_USER:
        return "SI_USER"
    if code == SI_TKILL:
        return "SI_TKILL"
    return SIGNAL_CODES.get((signo, code), str(code))


def trap_pfault(cpu: Cpu, vaddr: int, access: int) -> Any:
    """Resolve a TLB miss the pmap cannot answer.  Returns the translation (a Pte) that now
    allows the access, or None after recording the signal in cpu.fault_info."""
    proc = cpu.proc
    kernel = cpu.kernel
    if vaddr >= USER_TOP:
        if vaddr < KERNEL_BOTTOM:
            cpu.fault_info = (S.SIGSEGV, SI_KERNEL, 0)
        else:
            cpu.fault_info = (S.SIGSEGV, SEGV_MAPERR, vaddr)
        cpu.fault_access = access
        return None
    if access == UC_MEM_WRITE:
        ftype, flags = VM_PROT_WRITE, VM_FAULT_DIRTY
    elif access == UC_MEM_FETCH:
        ftype, flags = VM_PROT_EXECUTE, VM_FAULT_NORMAL
    else:
        ftype, flags = VM_PROT_READ, VM_FAULT_NORMAL
    m = proc.p_vmspace.vm_map
    while True:
        rv = vm_fault(m, vaddr, ftype, flags)
        if rv == KERN_SUCCESS:
            pte = pmap_pte(cpu.pmap, vaddr)
            if pte is not None and (ftype == VM_PROT_READ or pte.prot & ftype):
                kernel.exec_note_fault()
                return pte
            rv = KERN_PROTECTION_FAILURE
            break
        if rv != KERN_RESOURCE_SHORTAGE:
            break
        # out of memory and swap: vm_pageout_oom kills the largest process, then we retry.
        pd = kernel.pagedaemon
        victim = pd.oom_kill() if pd is not None else None
        if victim is None or proc.p_vmspace is None:
            # nobody left to kill, or we were the victim: the process dies of SIGKILL
            cpu.fault_info = (S.SIGKILL, SI_KERNEL, vaddr)
            cpu.fault_access = access
            return None
    if rv == KERN_PROTECTION_FAILURE:
        knob = kernel.prot_fault_translation
        if knob == 1 or (knob == 0 and proc.p_osrel < 700004):
            cpu.fault_info = (S.SIGBUS, BUS_ADRERR, vaddr)
        else:
            cpu.fault_info = (S.SIGSEGV, SEGV_ACCERR, vaddr)
    else:
        cpu.fault_info = (S.SIGSEGV, SEGV_MAPERR, vaddr)
    cpu.fault_access = access
    return None


def exact_fault_address(cpu: Cpu) -> None:
    """Refine cpu.fault_info's page address to the exact faulting byte (si_addr).

    The faulting instruction is replayed once with the faulting page translated to a scratch
    frame (one of the kernel's own, which no process uses) and a memory hook that reports the
    access; then the registers are put back.  An instruction fetch needs no replay: the address
    is RIP (or the page, for an instruction that straddles into it).
    """
    info = cpu.fault_info
    if info is None or info[0] == S.SIGKILL:
        return
    signo, code, page = info
    if code == SI_KERNEL:
        return
    uc = cpu.uc
    rip = uc.reg_read(X.UC_X86_REG_RIP)
    if getattr(cpu, "fault_access", None) == UC_MEM_FETCH:
        cpu.fault_info = (signo, code, rip if rip >> 12 == page >> 12 else page)
        return
    scratch = cpu.kernel.phys.phys_base
    found: list[int] = []

    def memhook(uc_: Any, access: int, paddr: int, size: int, value: int, _d: Any) -> bool:
        if not found:
            found.append(paddr)
        uc_.emu_stop()
        return True

    ctx = uc.context_save()
    cpu.scratch_page = (page >> 12, scratch)
    h = uc.hook_add(UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, memhook)
    try:
        uc.ctl(UC_CTL_TLB_FLUSH, UC_CTL_IO_WRITE)
        uc.ctl_remove_cache(rip, rip + 1)
        try:
            uc.emu_start(rip, 0, 0, 1)
        except UcError:
            pass
    finally:
        uc.hook_del(h)
        cpu.scratch_page = None
        uc.ctl_remove_cache(rip, rip + 1)
        uc.ctl(UC_CTL_TLB_FLUSH, UC_CTL_IO_WRITE)
        uc.context_restore(ctx)
    if found and found[0] >> 12 == scratch >> 12:
        cpu.fault_info = (signo, code, (page & ~0xFFF) | (found[0] & 0xFFF))


def trap_exception(cpu: Cpu, intno: int) -> tuple[int, int, int]:
    """A CPU exception or software interrupt as the signal trap() sends: (signo, code, addr)."""
    rip = cpu.uc.reg_read(X.UC_X86_REG_RIP)
    if intno == 0:
        return (S.SIGFPE, FPE_INTDIV, rip)
    if intno in (1, 3):
        return (S.SIGTRAP, TRAP_BRKPT if intno == 3 else SI_KERNEL, rip)
    if intno == 6:
        return (S.SIGILL, ILL_ILLOPN, rip)
    # #GP, #SS, int $n and the rest: a general protection fault
    return (S.SIGSEGV, SI_KERNEL, 0)


def trap_emulation_error(cpu: Cpu, invalid_instruction: bool) -> tuple[int, int, int]:
    """Unicorn refused to go on without a declined fill: an undecodable instruction is #UD
    (SIGILL); anything else (a physical address outside every region) is SIGBUS."""
    rip = cpu.uc.reg_read(X.UC_X86_REG_RIP)
    if invalid_instruction:
        return (S.SIGILL, ILL_ILLOPN, rip)
    return (S.SIGBUS, BUS_OBJERR, rip)


def trap_null_jump(cpu: Cpu) -> tuple[int, int, int]:
    """A jump to address 0: the instruction fetch at 0 faults (nothing is ever mapped there)."""
    return (S.SIGSEGV, SEGV_MAPERR, 0)


BLOCKING_IO = frozenset({"read", "readv", "write", "writev"})
WRITES = frozenset({"write", "writev", "pwrite64", "pwritev"})


_OUT_BUFFER: dict[int, bool] = {}


def _writes_user_buffer(entry: Any) -> bool:
    """Whether a call declares a kernel-to-user buffer (cached per declaration)."""
    r = _OUT_BUFFER.get(id(entry))
    if r is None:
        from ..kern.sysent import Kind
        r = _OUT_BUFFER[id(entry)] = any(a.ctype.kind is Kind.UIO_OUT for a in entry.args)
    return r


def _code_written(cpu: Cpu, entry: Any, uap: Any) -> None:
    """The kernel wrote a user buffer (read(2) and the like) behind the CPU's back: if any of its
    pages is a frame the CPU has executed code from, that translated code must go."""
    from ..kern.sysent import Kind, UioSeg
    pmap = cpu.pmap
    frames = cpu.exec_frames
    for a in entry.args:
        if a.ctype.kind is not Kind.UIO_OUT:
            continue
        uio = getattr(uap, a.name, None)
        if uio is None or uio.segflg is not UioSeg.UIO_USERSPACE or uio.offset <= 0:
            continue
        for vpn in range(uio.base >> 12, (uio.base + uio.offset - 1 >> 12) + 1):
            pte = pmap_pte(pmap, vpn << 12)
            if pte is not None and pte.page.phys_addr in frames:
                cpu.code_changed()
                return


def _would_sleep(proc: Any, fd_reg: int) -> bool:
    """Whether an EAGAIN from fd means "sleep": a pipe opened without FNONBLOCK."""
    from ..kern import descrip
    fd = fd_reg & 0xFFFFFFFF
    fd = fd - (1 << 32) if fd >> 31 else fd
    err, fp = proc.p_fd.fget(fd)
    if err or fp is None:
        return False
    try:
        return fp.f_type == descrip.DTYPE_PIPE and not fp.f_flag & descrip.FNONBLOCK
    finally:
        proc.p_fd.fdrop(fp)


def syscall(cpu: Cpu) -> None:
    """amd64 syscall(): decode the call from the registers, run its body through the process's
    table, and put the result in the registers as the personality's ABI wants."""
    uc = cpu.uc
    proc = cpu.proc
    kernel = cpu.kernel
    sv = proc.p_sysvec
    regs = uc.reg_read_batch(SYSCALL_REGS)
    nr = regs[0]
    table = sv.table
    entry = table.by_number.get(nr)
    td = proc.td
    if entry is None:
        name = table.name_of(nr)
        err = E.ENOSYS
    else:
        name = entry.name
        rip = uc.reg_read(X.UC_X86_REG_RIP)
        td.td_syscall_rip = rip
        err, uap = entry.uap_from_registers(kernel.arch, proc.p_vmspace.vm_map, regs[1:])
        if not err:
            td.td_retval[0] = 0
            td.td_retval[1] = 0
            err = entry.body(td, uap)
            if _writes_user_buffer(entry):
                _code_written(cpu, entry, uap)
    if err == E.EAGAIN and name in BLOCKING_IO and _would_sleep(proc, regs[1]):
        # pipe_read/pipe_write sleep on a descriptor without FNONBLOCK (the pipe code answers
        # EAGAIN; the sleep is here, where the process can yield)
        err = ERESTART
    elif err == E.EPIPE and name in WRITES:
        # dofilewrite: a write to a pipe without readers also sends SIGPIPE
        from ..kern.kern_sig import SigInfo, psignal
        psignal(proc, SigInfo(S.SIGPIPE, SI_KERNEL, 0, proc.p_pid, proc.p_ucred.cr_uid))
    if err == ERESTART:
        # the call must wait (an empty pipe, a child still running): sleep, then run it again
        proc.p_restart_rip = td.td_syscall_rip
        proc.p_sleeping = True
        cpu.stop(STOP_SYSCALL)
        return
    kernel.exec_note_syscall(name, err)
    if err != EJUSTRETURN:
        sv.set_return(cpu, err, td.td_retval)
    elif proc.p_cpu is cpu:
        # the body set RIP (sigreturn): Unicorn adds the syscall instruction's length to
        # whatever RIP is when the hook returns, so step back by it
        uc.reg_write(X.UC_X86_REG_RIP, uc.reg_read(X.UC_X86_REG_RIP) - 2)
    if proc.p_cpu is not cpu or proc.p_vmspace is None or kernel.need_resched \
            or (proc.p_sig.pending and deliverable(proc)):
        cpu.stop(STOP_SYSCALL)
