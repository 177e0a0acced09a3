"""struct sysentvec for amd64: the two personalities a program can run under (elf64_freebsd_sysvec
in amd64/elf_machdep.c, elf_linux_sysvec in amd64/linux/linux_sysvec.c): the system-call table,
how a result reaches the registers (sv_errtbl and the ABI), exec_setregs, and the Linux signal
frame (linux_rt_sendsig / linux_rt_sigreturn).

Result conventions: Linux puts the result in rax, or -errno (Linux numbering, through
`bsd_to_linux_errno`); FreeBSD puts the result in rax (and rdx) with the carry flag clear, or the
FreeBSD errno number in rax with the carry flag set.

The Linux signal frame (struct rt_sigframe) is: the restorer's address (the handler returns to
it), a struct ucontext (uc_flags, uc_link, uc_stack, the sigcontext with the general registers,
trap number, error code, old mask and cr2, the fpstate pointer, and the 64-bit blocked mask), then
the struct siginfo.  The handler gets rdi = signo, rsi = &info, rdx = &uc, rsp = the frame, 16-byte
aligned as after a call.  The SSE state is kept by the kernel beside the frame (fpstate is NULL)
and restored by rt_sigreturn, so an interrupted computation resumes intact.
May call: amd64.cpu (registers), vm.fault (copyin/copyout), kern.kern_sig.
"""
from __future__ import annotations

import signal as S
import struct
from functools import cached_property
from typing import Any

from unicorn import x86_const as X

from ..kern.sysent import SysentTable
from ..vm.fault import UserFault, copyin, copyout

EFLAGS_CF = 0x1
EFLAGS_USER_MASK = 0x3F7FD5     # the flags a user may set through sigreturn (PSL_USERCHANGE)
EFLAGS_INITIAL = 0x202          # IF and the reserved bit 1

UCONTEXT_SIZE = 304             # uc_flags, uc_link, uc_stack(24), sigcontext(256), sigmask(8)
SIGINFO_SIZE = 128
FRAME_SIZE = 8 + UCONTEXT_SIZE + SIGINFO_SIZE
REDZONE = 128
SS_ONSTACK = 1
SS_DISABLE = 2

# gregs order of struct sigcontext (= cpu.GREGS) then cs/gs/fs/ss, err, trapno, oldmask, cr2
NGREG_HEAD = 18


class Sysvec:
    """One personality (struct sysentvec)."""

    name = ""

    @property
    def table(self) -> SysentTable:
        raise NotImplementedError

    def set_return(self, cpu: Any, err: int, retval: list[int]) -> None:
        raise NotImplementedError

    def fork_child_return(self, cpu: Any) -> None:
        raise NotImplementedError

    def sendsig(self, proc: Any, info: Any, action: Any, oldmask: int) -> bool:
        raise NotImplementedError


class LinuxSysvec(Sysvec):
    """elf_linux_sysvec: the Linux x86-64 table, -errno results, the rt signal frame."""

    name = "linux"

    @cached_property
    def table(self) -> SysentTable:
        from ..compat.linux.sysent import linux_sysent
        return linux_sysent

    @cached_property
    def _errtbl(self) -> Any:
        from ..compat.linux.linux import bsd_to_linux_errno
        return bsd_to_linux_errno

    def set_return(self, cpu: Any, err: int, retval: list[int]) -> None:
        if err:
            cpu.uc.reg_write(X.UC_X86_REG_RAX, (-self._errtbl(err)) & 0xFFFFFFFFFFFFFFFF)
        else:
            cpu.uc.reg_write(X.UC_X86_REG_RAX, retval[0] & 0xFFFFFFFFFFFFFFFF)

    def fork_child_return(self, cpu: Any) -> None:
        cpu.uc.reg_write(X.UC_X86_REG_RAX, 0)

    def sendsig(self, proc: Any, info: Any, action: Any, oldmask: int) -> bool:
        """linux_rt_sendsig: build the frame on the user (or alternate) stack and point the CPU at
        the handler.  False when the frame cannot be written."""
        cpu = proc.p_cpu
        m = proc.p_vmspace.vm_map
        gregs = cpu.get_gregs()
        rsp = gregs[15]
        st = proc.p_sig
        ss_sp, ss_flags, ss_size = st.altstack
        onstack = ss_size and ss_sp <= rsp < ss_sp + ss_size
        if action.flags & 0x08000000 and not ss_flags & SS_DISABLE and not onstack:
            sp = ss_sp + ss_size
        else:
            sp = rsp - REDZONE
        frame = ((sp - FRAME_SIZE) & ~0xF) - 8
        uc_addr = frame + 8
        info_addr = uc_addr + UCONTEXT_SIZE
        is_fault = info.signo in (S.SIGSEGV, S.SIGBUS, S.SIGILL, S.SIGFPE, S.SIGTRAP)
        trapno = 14 if info.signo in (S.SIGSEGV, S.SIGBUS) else 0
        err_code = 4 | (2 if getattr(cpu, "fault_access", 0) == 17 else 0)
        uc = struct.pack("<QQQiiQ", 0, 0, ss_sp, ss_flags | (SS_ONSTACK if onstack else 0), 0,
                         ss_size)
        uc += struct.pack("<18QHHHHQQQQ", *(v & 0xFFFFFFFFFFFFFFFF for v in gregs),
                          0x33, 0, 0, 0x2B, err_code if trapno else 0, trapno,
                          oldmask & 0xFFFFFFFFFFFFFFFF, info.addr if is_fault else 0)
        uc += bytes(8 + 64)                 # fpstate (NULL: kept by the kernel) and reserved
        uc += struct.pack("<Q", oldmask & 0xFFFFFFFFFFFFFFFF)
        assert len(uc) == UCONTEXT_SIZE
        si = bytearray(SIGINFO_SIZE)
        struct.pack_into("<iii", si, 0, info.signo, 0, info.code)
        if is_fault:
            struct.pack_into("<Q", si, 16, info.addr)
        elif info.signo == S.SIGCHLD:
            struct.pack_into("<iIi", si, 16, info.pid, info.uid, info.status)
        else:
            struct.pack_into("<iI", si, 16, info.pid, info.uid)
        data = struct.pack("<Q", action.restorer) + uc + bytes(si)
        try:
            copyout(m, frame, data)
        except UserFault:
            return False
        proc.p_sigframes.append((uc_addr, cpu.get_fpstate()))
        cpu.uc.reg_write_batch([(X.UC_X86_REG_RSP, frame), (X.UC_X86_REG_RIP, action.handler),
                                (X.UC_X86_REG_RDI, info.signo), (X.UC_X86_REG_RSI, info_addr),
                                (X.UC_X86_REG_RDX, uc_addr), (X.UC_X86_REG_RAX, 0)])
        eflags = cpu.uc.reg_read(X.UC_X86_REG_EFLAGS)
        cpu.uc.reg_write(X.UC_X86_REG_EFLAGS, eflags & ~0x400)       # DF clear for the handler
        return True

    def sigreturn(self, proc: Any) -> int:
        """linux_rt_sigreturn: restore the registers and the mask from the ucontext the frame's
        handler returned past (rsp points just above the restorer's address).  Returns 0, or
        EFAULT when the frame cannot be read (the process then gets SIGSEGV)."""
        cpu = proc.p_cpu
        m = proc.p_vmspace.vm_map
        uc_addr = cpu.uc.reg_read(X.UC_X86_REG_RSP)
        try:
            raw = copyin(m, uc_addr, UCONTEXT_SIZE)
        except UserFault:
            return 14
        gregs = list(struct.unpack_from("<18Q", raw, 40))
        (mask,) = struct.unpack_from("<Q", raw, UCONTEXT_SIZE - 8)
        old_flags = cpu.uc.reg_read(X.UC_X86_REG_EFLAGS)
        gregs[17] = (old_flags & ~EFLAGS_USER_MASK) | (gregs[17] & EFLAGS_USER_MASK)
        cpu.set_gregs(gregs)
        from ..kern.kern_sig import CANTMASK
        proc.p_sig.mask = mask & ~CANTMASK
        frames = proc.p_sigframes
        while frames:
            addr, fp = frames.pop()
            if addr == uc_addr:
                cpu.set_fpstate(fp)
                break
        return 0


class FreeBSDSysvec(Sysvec):
    """elf64_freebsd_sysvec: the native FreeBSD 7 table, carry-flag results."""

    name = "freebsd"

    @cached_property
    def table(self) -> SysentTable:
        return native_table()

    @cached_property
    def _errnum(self) -> Any:
        from ..compat.linux.linux import errno_name, freebsd_errno_number

        def conv(err: int) -> int:
            name = errno_name(err)
            n = freebsd_errno_number(name) if name else None
            return n if n is not None else err
        return conv

    def set_return(self, cpu: Any, err: int, retval: list[int]) -> None:
        uc = cpu.uc
        eflags = uc.reg_read(X.UC_X86_REG_EFLAGS)
        if err:
            uc.reg_write_batch([(X.UC_X86_REG_RAX, self._errnum(err)),
                                (X.UC_X86_REG_EFLAGS, eflags | EFLAGS_CF)])
        else:
            uc.reg_write_batch([(X.UC_X86_REG_RAX, retval[0] & 0xFFFFFFFFFFFFFFFF),
                                (X.UC_X86_REG_RDX, retval[1] & 0xFFFFFFFFFFFFFFFF),
                                (X.UC_X86_REG_EFLAGS, eflags & ~EFLAGS_CF)])

    def fork_child_return(self, cpu: Any) -> None:
        uc = cpu.uc
        eflags = uc.reg_read(X.UC_X86_REG_EFLAGS)
        uc.reg_write_batch([(X.UC_X86_REG_RAX, 0), (X.UC_X86_REG_RDX, 1),
                            (X.UC_X86_REG_EFLAGS, eflags & ~EFLAGS_CF)])

    def sendsig(self, proc: Any, info: Any, action: Any, oldmask: int) -> bool:
        # the native sigaction is not served, so no native handler can be installed
        return False


def native_table() -> SysentTable:
    """The native FreeBSD 7 table for programs on a CPU: kern/init_sysent.py's freebsd_sysent with
    its process calls replaced by those of kern_exit/kern_fork/kern_exec/kern_sig (which know the
    process's CPU; the table's own versions serve Python callers of processes without one)."""
    from ..kern import kern_exec, kern_exit, kern_fork, kern_sig
    from ..kern.init_sysent import freebsd_sysent
    procs = (kern_exit.native_sysents() + kern_fork.native_sysents()
             + kern_exec.native_sysents() + kern_sig.native_sysents())
    mine = {e.number for e in procs} | {e.name for e in procs}
    table = SysentTable("freebsd7", [e for e in freebsd_sysent
                                     if e.number not in mine and e.name not in mine])
    for e in procs:
        table.register(e)
    return table


LINUX = LinuxSysvec()
FREEBSD = FreeBSDSysvec()


def exec_setregs(cpu: Any, entry: int, sp: int) -> None:
    """exec_setregs: every general register zero, RSP at argc, RIP at the entry point."""
    from .cpu import GREGS
    regs = [0] * len(GREGS)
    regs[15] = sp
    regs[16] = entry
    regs[17] = EFLAGS_INITIAL
    cpu.set_gregs(regs)
    cpu.uc.reg_write_batch([(X.UC_X86_REG_FS_BASE, 0), (X.UC_X86_REG_GS_BASE, 0)])
