"""The CPU of a guest process: one Unicorn x86-64 instance whose only memory region is the model's
physical memory, with bsdvm's pmap as its MMU (amd64's pmap.c + the hardware page walk).

Unicorn runs in virtual-TLB mode: every TLB miss calls `_tlb_fill`, which is the page-table walk.
It looks the page up in the process's pmap; where there is no translation, or the translation
lacks the access, it resolves the fault right there as trap_pfault() does (`trap.trap_pfault`:
vm_fault, which also grows the stack), and only a fault vm_fault cannot resolve declines the fill
and becomes a signal.  The referenced bit is set on every fill; a read fill of a writable page
that is not yet modified is entered without write, so the first store comes back here and sets
the modified bit, as the x86 D bit does.  Execute permission is given only on instruction-fetch
fills, so every frame the CPU executes from is known (`Kernel.exec_frames`): translated code is
cached by (virtual PC, physical page), and a frame that held executed code must have that cache
dropped before it is reused.

Invalidation: every pmap change that removes or reduces a translation (remove, protect, page
removal, clear_modify, ts_referenced, a replaced page) calls `Pmap.on_invalidate`, which marks the
CPU's TLB stale; a stale TLB is flushed before the CPU runs again, or at the end of the hook that
is running when the change happens.  Unicorn only grows its TLB during a full flush, so the CPU
also flushes after geometrically spaced numbers of fills (1K, 2K, 4K...): working sets larger than
the initial 256 entries then stop paying a fill per access.

Invariants: outside a hook, a CPU whose TLB is not stale holds no translation its pmap does not
have with at least the same rights; `fills` counts TLB fills.  May call: vm.fault (through trap),
kern (the system-call path through trap.syscall).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from unicorn import (UC_ARCH_X86, UC_CTL_IO_WRITE, UC_CTL_TLB_FLUSH, UC_ERR_INSN_INVALID,
                     UC_HOOK_INSN, UC_HOOK_INTR, UC_HOOK_TLB_FILL, UC_MEM_FETCH, UC_MEM_WRITE,
                     UC_MODE_64, UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_READ, UC_PROT_WRITE,
                     UC_TLB_VIRTUAL, Uc, UcError)
from unicorn import x86_const as X

from ..vm.param import PG_FICTITIOUS, VM_PROT_EXECUTE, VM_PROT_WRITE
from ..vm.pmap import pmap_pte

if TYPE_CHECKING:
    from ..kern.proc import Proc

# Translated-code buffer per instance: Unicorn reserves 1 GiB of address space otherwise.
TCG_BUFFER_SIZE = 64 << 20
# Device memory (a memory device's si_memory) is mapped into the CPU's physical address space above
# RAM, one slot per device: a fictitious page's phys_addr is an offset into its device's memory.
DEVICE_BASE = 1 << 44
DEVICE_SLOT = 1 << 36
FIRST_GROW_FILLS = 1024         # the first fill count at which the TLB is flushed to let it grow
MAX_GROW_FILLS = 1 << 24

# argument registers of the syscall instruction (rax = number), in ABI order
SYSCALL_REGS = (X.UC_X86_REG_RAX, X.UC_X86_REG_RDI, X.UC_X86_REG_RSI, X.UC_X86_REG_RDX,
                X.UC_X86_REG_R10, X.UC_X86_REG_R8, X.UC_X86_REG_R9)

# the general registers, in the order of Linux's struct sigcontext (r8..r15, rdi, rsi, rbp, rbx,
# rdx, rax, rcx, rsp, rip, eflags)
GREGS = (X.UC_X86_REG_R8, X.UC_X86_REG_R9, X.UC_X86_REG_R10, X.UC_X86_REG_R11,
         X.UC_X86_REG_R12, X.UC_X86_REG_R13, X.UC_X86_REG_R14, X.UC_X86_REG_R15,
         X.UC_X86_REG_RDI, X.UC_X86_REG_RSI, X.UC_X86_REG_RBP, X.UC_X86_REG_RBX,
         X.UC_X86_REG_RDX, X.UC_X86_REG_RAX, X.UC_X86_REG_RCX, X.UC_X86_REG_RSP,
         X.UC_X86_REG_RIP, X.UC_X86_REG_EFLAGS)
XMM_REGS = tuple(getattr(X, f"UC_X86_REG_XMM{i}") for i in range(16))

# why a run slice ended
STOP_NONE = 0           # nothing asked for a stop (a jump to 0, or the time slice ran out)
STOP_SYSCALL = 1        # a system call wants the scheduler (exit, exec, block, yield)
STOP_FAULT = 2          # a memory access became a signal (fault_info says which)
STOP_TRAP = 3           # an exception (#DE, #UD, int3...) became a signal
STOP_RESUME = 4         # only internal work to do (a translated-code flush): resume at RIP
STOP_ERROR = 5          # a Python exception inside a hook (a bug): reported, process killed
STOP_PREEMPT = 6        # the time slice ended at a system call or a page fault


class Cpu:
    """A Unicorn x86-64 instance running one process over the kernel's physical memory.

    Created by image activation (exec) and fork; `proc.p_cpu` is the CPU of a process.  `run()`
    executes until a hook asks the scheduler to step in and returns the stop reason.
    """

    def __init__(self, kernel: Any, proc: Proc) -> None:
        self.kernel = kernel
        self.proc = proc
        phys = kernel.phys
        # the instance is the x86 subclass (UcIntel): typed loosely, as the binding's stubs are
        uc: Any = Uc(UC_ARCH_X86, UC_MODE_64)
        uc.ctl_set_tcg_buffer_size(TCG_BUFFER_SIZE)
        uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
        uc.mem_map_ptr(phys.phys_base, phys.size, UC_PROT_ALL, phys.host_address)
        self.uc: Any = uc
        self.fills = 0
        self.faults = 0
        self._grow_at = FIRST_GROW_FILLS
        self.tlb_stale = False
        self.tlb_vpns: set[int] = set()     # pages filled since the last flush
        self.stale_vpns: set[int] = set()   # of those, the ones whose translation changed
        self.flushes = 0
        self.tb_stale = False
        self.running = False
        self.slice_end = float("inf")
        self.in_fill = False
        self.stop_reason = STOP_NONE
        self.fault_info: tuple[int, int, int] | None = None     # (signo, si_code, addr)
        self.hook_error: BaseException | None = None
        self.fault_access = 0
        self.scratch_page: tuple[int, int] | None = None
        self.exec_frames: set[int] = set()
        self.pmap: Any = None
        self.dev_base: dict[int, int] = {}          # id(cdev) -> where its memory is mapped
        for cdev in list(kernel.devices.values()):
            self.map_device(cdev)
        self.attach_vmspace()
        uc.hook_add(UC_HOOK_TLB_FILL, self._tlb_fill)
        uc.hook_add(UC_HOOK_INSN, self._syscall_hook, None, 1, 0, X.UC_X86_INS_SYSCALL)
        uc.hook_add(UC_HOOK_INTR, self._intr_hook)

    # -- the MMU ----------------------------------------------------------------------------------
    def attach_vmspace(self) -> None:
        """Make the process's current pmap this CPU's page tables (at creation and after exec)."""
        if self.pmap is not None and self.pmap.on_invalidate == self.invalidate:
            self.pmap.on_invalidate = None
        self.pmap = self.proc.p_vmspace.vm_map.pmap
        self.pmap.on_invalidate = self.invalidate
        self.tlb_stale = True

    def map_device(self, cdev: Any) -> int | None:
        """Map a memory device's buffer into this CPU (once); its base address, or None for a
        device without memory."""
        base = self.dev_base.get(id(cdev))
        if base is not None:
            return base
        mem = getattr(cdev, "si_memory", None)
        if mem is None or len(mem) == 0:
            return None
        from ..vm.page import buffer_address
        base = DEVICE_BASE + len(self.dev_base) * DEVICE_SLOT
        self.uc.mem_map_ptr(base, len(mem), UC_PROT_ALL, buffer_address(mem))
        self.dev_base[id(cdev)] = base
        self.dev_keep = getattr(self, "dev_keep", []) + [cdev]      # the buffer must outlive us
        return base

    def invalidate(self, vpn: int) -> None:
        """pmap_invalidate_page: the translation of page vpn was removed or reduced.  Only a page
        filled since the last flush can be in the TLB."""
        if vpn in self.tlb_vpns:
            self.stale_vpns.add(vpn)
            self.tlb_stale = True

    def flush_tlb(self) -> None:
        """Drop every cached translation (the TLB refills from the pmap on demand)."""
        self.tlb_stale = False
        self.stale_vpns.clear()
        self.tlb_vpns.clear()
        self.flushes += 1
        self.uc.ctl(UC_CTL_TLB_FLUSH, UC_CTL_IO_WRITE)

    def code_changed(self) -> None:
        """A frame this CPU executed from is being reused or rewritten by the kernel: its translated
        code must go.  Inside the TLB-fill hook (a fault recycled the frame) the cache is flushed
        at once -- stopping the CPU from a fill hook is not safe: an instruction can be cut after
        part of its effects; inside a system call the CPU stops and the cache is flushed before it
        resumes; a CPU that is not running flushes before it next runs."""
        if self.in_fill:
            self.uc.ctl_flush_tb()
            return
        self.tb_stale = True
        if self.running:
            if self.stop_reason == STOP_NONE:
                self.stop_reason = STOP_RESUME
            self.uc.emu_stop()

    def _tlb_fill(self, uc: Uc, vaddr: int, access: int, entry: Any, _data: Any) -> bool:
        try:
            if self.scratch_page is not None and vaddr >> 12 == self.scratch_page[0]:
                entry.paddr = self.scratch_page[1]      # exact_fault_address's replay
                entry.perms = UC_PROT_READ | UC_PROT_WRITE
                return True
            pte = pmap_pte(self.pmap, vaddr)
            self.in_fill = True
            if (pte is None or (access == UC_MEM_WRITE and not pte.prot & VM_PROT_WRITE)
                    or (access == UC_MEM_FETCH and not pte.prot & VM_PROT_EXECUTE)):
                self.faults += 1
                pte = _trap.trap_pfault(self, vaddr, access)
                if pte is None:
                    self.in_fill = False
                    return False
            pte.ref = True
            perms = UC_PROT_READ
            if pte.prot & VM_PROT_WRITE and (access == UC_MEM_WRITE or pte.mod):
                perms |= UC_PROT_WRITE
                pte.mod = True
            page = pte.page
            paddr = page.phys_addr
            if page.flags & PG_FICTITIOUS:
                base = self.dev_base.get(id(page.object.handle)) if page.object else None
                if base is None:
                    # a device made after this CPU: its memory is not in the CPU (SIGBUS)
                    self.fault_info = (7, 2, vaddr)
                    self.in_fill = False
                    return False
                paddr += base
            elif access == UC_MEM_FETCH:
                if paddr not in self.exec_frames:
                    self.exec_frames.add(paddr)
                    self.kernel.exec_frames.setdefault(paddr, set()).add(self)
            if access == UC_MEM_FETCH:
                perms |= UC_PROT_EXEC
            self.fills += 1
            vpn = vaddr >> 12
            if self.fills >= self._grow_at:
                # let Unicorn resize its TLB (it only does so during a full flush)
                self._grow_at = min(self._grow_at * 2, self._grow_at + MAX_GROW_FILLS)
                self.flush_tlb()
            elif self.tlb_stale:
                stale = self.stale_vpns
                if len(stale) == 1 and vpn in stale:
                    # only this page's old translation is stale, and the entry returned now
                    # replaces it (Unicorn also drops it from its victim TLB)
                    stale.clear()
                    self.tlb_stale = False
                else:
                    self.flush_tlb()
            self.tlb_vpns.add(vpn)
            entry.paddr = paddr
            entry.perms = perms
            self.in_fill = False
            return True
        except BaseException as e:     # a hook must never let an exception reach Unicorn
            self.in_fill = False
            self.hook_error = e
            self.stop_reason = STOP_ERROR
            uc.emu_stop()
            return False

    # -- system calls and exceptions ------------------------------------------------------------
    def _syscall_hook(self, uc: Uc, _data: Any) -> None:
        try:
            _trap.syscall(self)
            if time.perf_counter() > self.slice_end:
                self.stop(STOP_PREEMPT)
            if self.tlb_stale:
                self.flush_tlb()
        except BaseException as e:
            self.hook_error = e
            self.stop_reason = STOP_ERROR
            uc.emu_stop()

    def _intr_hook(self, uc: Uc, intno: int, _data: Any) -> None:
        try:
            self.fault_info = _trap.trap_exception(self, intno)
            self.stop_reason = STOP_TRAP
            uc.emu_stop()
        except BaseException as e:
            self.hook_error = e
            self.stop_reason = STOP_ERROR
            uc.emu_stop()

    def stop(self, reason: int = STOP_SYSCALL) -> None:
        """Ask the running instance to return to the scheduler after the current instruction."""
        if self.stop_reason in (STOP_NONE, STOP_RESUME):
            self.stop_reason = reason
        self.uc.emu_stop()

    # -- registers ------------------------------------------------------------------------------
    def reg(self, r: int) -> int:
        return self.uc.reg_read(r)

    def set_reg(self, r: int, value: int) -> None:
        self.uc.reg_write(r, value & 0xFFFFFFFFFFFFFFFF)

    @property
    def rip(self) -> int:
        return self.uc.reg_read(X.UC_X86_REG_RIP)

    def get_gregs(self) -> list[int]:
        return list(self.uc.reg_read_batch(GREGS))

    def set_gregs(self, values: list[int]) -> None:
        self.uc.reg_write_batch(list(zip(GREGS, values, strict=True)))

    def get_fpstate(self) -> tuple[Any, ...]:
        return tuple(self.uc.reg_read_batch(XMM_REGS + (X.UC_X86_REG_MXCSR,
                                                        X.UC_X86_REG_FPCW)))

    def set_fpstate(self, state: tuple[Any, ...]) -> None:
        self.uc.reg_write_batch(list(zip(XMM_REGS + (X.UC_X86_REG_MXCSR, X.UC_X86_REG_FPCW),
                                         state, strict=True)))

    def copy_from(self, other: Cpu) -> None:
        """The whole register state of another CPU (fork)."""
        self.uc.context_restore(other.uc.context_save())

    # -- running --------------------------------------------------------------------------------
    def run(self, timeslice_us: int = 0) -> int:
        """Execute from the current RIP until a hook stops the CPU.  With a nonzero time slice the
        CPU also stops at the first system call after the slice has run out: the scheduler preempts
        only there.  Never from a TLB-fill hook and never asynchronously (Unicorn's timeout stops
        the CPU from another thread, possibly during a fill): such a stop can cut an instruction
        after part of its effects, and programs preempted that way were measured to crash.  Returns a
        STOP_* reason; for STOP_FAULT/STOP_TRAP `fault_info` has the signal, its si_code and
        address."""
        uc = self.uc
        while True:
            if self.tb_stale:
                self.tb_stale = False
                uc.ctl_flush_tb()
            if self.tlb_stale:
                self.flush_tlb()
            self.stop_reason = STOP_NONE
            self.fault_info = None
            rip = uc.reg_read(X.UC_X86_REG_RIP)
            self.running = True
            t0 = time.perf_counter()
            self.slice_end = t0 + timeslice_us / 1e6 if timeslice_us else float("inf")
            try:
                uc.emu_start(rip, 0, 0, 0)
                err = None
            except UcError as e:
                err = e
            finally:
                self.running = False
                self.kernel.exec_cpu_time += time.perf_counter() - t0
            reason = self.stop_reason
            if reason == STOP_ERROR:
                return reason
            if self.fault_info is not None and reason in (STOP_NONE, STOP_RESUME, STOP_FAULT):
                return STOP_FAULT
            if reason == STOP_TRAP:
                return reason
            if err is not None:
                from .trap import trap_emulation_error
                self.fault_info = trap_emulation_error(self, err.errno == UC_ERR_INSN_INVALID)
                return STOP_TRAP
            if reason == STOP_RESUME:
                continue
            if reason == STOP_NONE and uc.reg_read(X.UC_X86_REG_RIP) == 0:
                # emu_start's `until` is 0: a jump to address 0 looks like a finished run
                from .trap import trap_null_jump
                self.fault_info = trap_null_jump(self)
                return STOP_FAULT
            return reason

    def close(self) -> None:
        """Forget this CPU: its pmap no longer calls it and no frame remembers it."""
        self.kernel.exec_tlb_fills += self.fills
        self.fills = 0
        if self.pmap is not None and self.pmap.on_invalidate == self.invalidate:
            self.pmap.on_invalidate = None
        frames = self.kernel.exec_frames
        for paddr in self.exec_frames:
            users = frames.get(paddr)
            if users is not None:
                users.discard(self)
                if not users:
                    del frames[paddr]
        self.exec_frames.clear()
        self.pmap = None


from . import trap as _trap  # noqa: E402  (trap imports this module's constants)
