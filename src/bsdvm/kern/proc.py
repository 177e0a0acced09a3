"""kern_proc.c / kern_fork.c / kern_exit.c / kern_exec.c, reduced to what the VM needs: processes,
their single thread, credentials, resource limits, the exec image, fork and exit.

Invariants: a live process has a vmspace and a descriptor table; an exited one has neither and is
gone from the kernel's process table; limits satisfy cur <= max.  May call: vm.map (vmspace
creation, fork, free), vm.mmap's vm_mmap for the exec image, kern.descrip, kern.priv.
"""
from __future__ import annotations

import copy
import errno
from typing import Any

from ..resource import (RLIM_INFINITY, RLIM_NLIMITS, RLIMIT_DATA, RLIMIT_MEMLOCK, RLIMIT_NOFILE,
                        RLIMIT_STACK, RLIMIT_VMEM)
from ..vm.map import (Vmspace, vm_map_insert, vm_map_stack, vmspace_fork, vmspace_free)
from ..vm.param import (MAP_COPY_ON_WRITE, MAP_STACK_GROWS_DOWN, VM_PROT_ALL, VM_PROT_EXECUTE,
                        VM_PROT_READ, VM_PROT_WRITE, KERN_SUCCESS, atop, ptoa)

P_SYSTEM = 0x00200
P_WEXIT = 0x02000
P_PROTECTED = 0x100000


class Thread:
    def __init__(self, proc):
        self.td_proc = proc
        self.td_retval = [0, 0]
        self.td_syscall_rip = 0         # where the current system call's instruction is

    @property
    def td_ucred(self):
        return self.td_proc.p_ucred


class Proc:
    P_PROTECTED = P_PROTECTED

    def __init__(self, kernel, pid: int, cred, limits, vmspace, fd, osrel: int):
        self.p_kernel = kernel
        self.p_pid = pid
        self.p_ucred = cred
        self.p_limit = limits               # list of [cur, max] per RLIMIT_*
        self.p_vmspace = vmspace
        self.p_fd = fd
        self.p_flag = 0
        self.p_osrel = osrel
        self.p_pptr: Proc | None = None
        self.td = Thread(self)
        vmspace.proc = self
        # running programs (kern_exec, kern_sig, kern_exit): the CPU, the personality, signals
        from .kern_sig import SigState
        self.p_cpu: Any = None          # amd64.cpu.Cpu once the process runs a program
        self.p_sysvec: Any = None       # amd64.sysvec personality of the program
        self.p_sig = SigState()
        self.p_sigframes: list = []     # (ucontext address, saved SSE state) per handler frame
        self.p_sleeping = False         # waiting in a call that is run again when rescheduled
        self.p_restart_rip = 0
        self.p_xstat = 0                # wait status once exited
        self.p_cleartid = 0             # CLONE_CHILD_CLEARTID address
        self.p_comm = b""
        self.p_pgid = pid                # process group and session (kern_prot.c)
        self.p_sid = pid
        self.p_killinfo: Any = None     # the siginfo of the signal that killed it
        self.p_final_maps: list = []    # its map entries at exit (kept for bsdvm exec --report)
        self.p_final_procstat = ""

    def lim_cur(self, which: int) -> int:
        return self.p_limit[which][0]

    def lim_max(self, which: int) -> int:
        return self.p_limit[which][1]

    @property
    def alive(self) -> bool:
        return self.p_vmspace is not None


def default_limits(kernel) -> list:
    """LIM-2's recommendation: what a 7.x login class 'default' gives a process."""
    arch = kernel.arch
    lim = [[RLIM_INFINITY, RLIM_INFINITY] for _ in range(RLIM_NLIMITS)]
    lim[RLIMIT_DATA] = [arch.maxdsiz, arch.maxdsiz]
    lim[RLIMIT_STACK] = [arch.maxssiz, arch.maxssiz]
    lim[RLIMIT_VMEM] = [RLIM_INFINITY, RLIM_INFINITY]
    lim[RLIMIT_MEMLOCK] = [RLIM_INFINITY, RLIM_INFINITY]
    lim[RLIMIT_NOFILE] = [1024, 1024]
    return lim


def exec_image(p: Proc, text_pages: int = 16, data_pages: int = 16) -> int:
    """VMS-1/VMS-2: a text segment (r-x), a data segment (rw-) right after it, and the grow-down
    main stack reservation under USRSTACK.  Text and data are private (COW) like an ELF image's.
    Returns 0, or ENOMEM when the image does not fit the address space."""
    kernel = p.p_kernel
    arch = kernel.arch
    vms = p.p_vmspace
    m = vms.vm_map
    taddr = arch.text_base
    tsize = ptoa(text_pages)
    daddr = taddr + tsize
    dsize = ptoa(data_pages)
    rv = vm_map_insert(m, None, 0, taddr, taddr + tsize, VM_PROT_READ | VM_PROT_EXECUTE,
                       VM_PROT_ALL, MAP_COPY_ON_WRITE)
    if rv != KERN_SUCCESS:
        return errno.ENOMEM
    rv = vm_map_insert(m, None, 0, daddr, daddr + dsize, VM_PROT_READ | VM_PROT_WRITE,
                       VM_PROT_ALL, MAP_COPY_ON_WRITE)
    if rv != KERN_SUCCESS:
        return errno.ENOMEM
    vms.vm_taddr, vms.vm_tsize = taddr, text_pages
    vms.vm_daddr, vms.vm_dsize = daddr, data_pages
    stack_bottom = arch.usrstack - arch.maxssiz
    rv = vm_map_stack(m, stack_bottom, arch.maxssiz, kernel.sv_stackprot, VM_PROT_ALL,
                      MAP_STACK_GROWS_DOWN, p)
    if rv != KERN_SUCCESS:
        return errno.ENOMEM
    vms.vm_ssize = atop(kernel.sgrowsiz)
    vms.vm_maxsaddr = stack_bottom
    return 0


def proc_fork(parent: Proc, pid: int) -> tuple[int, Proc | None]:
    """fork1's process half: (0, child) with a copy of the parent's address space, or (ENOMEM,
    None) when vmspace_fork cannot copy it."""
    kernel = parent.p_kernel
    vm2 = vmspace_fork(parent.p_vmspace)
    if vm2 is None:
        return errno.ENOMEM, None
    child = Proc(kernel, pid, copy.copy(parent.p_ucred), [list(x) for x in parent.p_limit], vm2,
                 parent.p_fd.fork_copy(), parent.p_osrel)
    child.p_flag = parent.p_flag & ~P_PROTECTED     # P_PROTECTED is not inherited
    child.p_pptr = parent
    child.p_pgid, child.p_sid = parent.p_pgid, parent.p_sid
    kernel.phys.cnt.v_forks += 1
    # fork1: PCPU_ADD(cnt.v_forkpages, vm_dsize + vm_ssize) -- the data and stack segments
    # only, not the whole address space
    kernel.phys.cnt.v_forkpages += vm2.vm_dsize + vm2.vm_ssize
    return 0, child


def proc_exit(p: Proc) -> None:
    p.p_flag |= P_WEXIT
    p.p_fd.close_all()
    vms = p.p_vmspace
    p.p_vmspace = None
    vmspace_free(vms)
    vms.proc = None


def new_vmspace(kernel) -> Vmspace:
    arch = kernel.arch
    return Vmspace(kernel.vm, arch.vm_min_address, arch.vm_maxuser_address)


