"""sys/compat/linux/linux_mmap.c (and linux_misc.c's brk, mremap, msync, mlock*): the Linux memory
system calls as kernel-side bodies `(td, uap) -> errno` that translate the Linux arguments and call the
native FreeBSD 7 bodies of vm/mmap.py and vm/unix.py, as FreeBSD's Linux emulation does.

The rules, call by call, are those listed in linux.py's module docstring (mmap's flag translation and
MAP_GROWSDOWN stack handling, linux_mmap_check_fp, mprotect's PROT_GROWS* bits, linux_madvise_common's
table, msync, mlock2, mlockall's MCL_ONFAULT, linux_brk, linux_mremap).  Everything the layer could
not honour is reported through the call's emulation record (linux_emul), never dropped silently.

Invariants: bodies return FreeBSD errnos (the caller translates them to Linux numbers at the
boundary); a body the layer refuses leaves the address space untouched.
May call: vm.mmap and vm.unix (the native bodies), kern.descrip (the fd check of mmap), resource.
"""
from __future__ import annotations

import errno
from types import SimpleNamespace
from typing import Any

from ... import mman
from ...kern import descrip
from ...kern.sysent import CADDR_T, FD, INT, OFF_T, SIZE_T, Arg, Sysent
from ...resource import RLIMIT_STACK
from ...vm import mmap as sys_mmap
from ...vm import unix as sys_unix
from ...vm.fault import UserFault, copyin, copyout
from .linux import (_DROPPED_MAP_BITS, _KNOWN_MAP_BITS, GUARD_SIZE, MADV_DODUMP, MADV_DOFORK,
                    MADV_DONTDUMP, MADV_DONTFORK, MADV_DONTNEED, MADV_FREE, MADV_HUGEPAGE,
                    MADV_HWPOISON, MADV_KEEPONFORK, MADV_MERGEABLE, MADV_NAMES, MADV_NOHUGEPAGE,
                    MADV_NORMAL, MADV_RANDOM, MADV_REMOVE, MADV_SEQUENTIAL, MADV_SOFT_OFFLINE,
                    MADV_UNMERGEABLE, MADV_WILLNEED, MADV_WIPEONFORK, MAP_ANONYMOUS, MAP_FIXED,
                    MAP_GROWSDOWN, MAP_HUGE_MASK, MAP_HUGE_SHIFT, MAP_PRIVATE, MAP_SHARED, MAP_TYPE,
                    MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT, MREMAP_FIXED,
                    MREMAP_MAYMOVE, MS_ASYNC, MS_INVALIDATE, MS_SYNC, PAGE_MASK, PAGE_SIZE,
                    PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_WRITE, STACK_SIZE,
                    prot_str)
from .linux_emul import emul_record, layer_error, native_call, note

_RWX = PROT_READ | PROT_WRITE | PROT_EXEC


def _read_implies_exec(td: Any) -> bool:
    rec = emul_record(td)
    if rec is not None and rec.read_implies_exec is not None:
        return rec.read_implies_exec
    return bool(td.td_proc.p_kernel.arch.name == "i386")


def _fixup_prot(td: Any, prot: int) -> int:
    """linux_fixup_prot: Linux/i386 (7.x linux.ko) makes any access imply READ|EXEC."""
    if _read_implies_exec(td) and prot & _RWX:
        if (prot & (PROT_READ | PROT_EXEC)) != (PROT_READ | PROT_EXEC):
            note(td, "PROT_EXEC: added (Linux/i386 read-implies-exec, linux_mmap_common)")
        prot |= PROT_READ | PROT_EXEC
    return prot


# -- mmap ------------------------------------------------------------------------------------------
def translate_mmap_flags(td: Any, flags: int) -> tuple[int, int]:
    """The flag part of linux_mmap_common: (0, FreeBSD flags) or (EINVAL, 0)."""
    t = flags & MAP_TYPE
    if t not in (MAP_SHARED, MAP_PRIVATE):
        return layer_error(td, errno.EINVAL, "linux_mmap_common: exactly one of MAP_SHARED and "
                                             f"MAP_PRIVATE is required (type {t:#x})"), 0
    bsd = mman.MAP_SHARED if t == MAP_SHARED else mman.MAP_PRIVATE
    if flags & MAP_FIXED:
        bsd |= mman.MAP_FIXED
    if flags & MAP_ANONYMOUS:
        bsd |= mman.MAP_ANON
    else:
        bsd |= mman.MAP_NOSYNC
    if flags & MAP_GROWSDOWN:
        bsd |= mman.MAP_STACK
    if emul_record(td) is not None:
        for bit, name, what in _DROPPED_MAP_BITS:
            if flags & bit:
                note(td, f"{name}: {what}")
        huge = (flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK
        if huge:
            note(td, f"MAP_HUGE_{1 << huge}: cannot honour: no huge pages in the model")
        unknown = flags & ~_KNOWN_MAP_BITS
        if unknown:
            note(td, f"{unknown:#x}: unknown Linux mmap flag bits dropped")
    return 0, bsd


def _check_fp(td: Any, fd: int) -> int:
    """linux_mmap_check_fp: a descriptor without FREAD is EACCES (Linux mmap needs read access).
    A bad descriptor is left to the native mmap, which reports EBADF itself."""
    fdp = td.td_proc.p_fd
    err, fp = fdp.fget(fd)
    if err:
        return 0
    try:
        if not fp.f_flag & descrip.FREAD:
            return layer_error(td, errno.EACCES, "linux_mmap_check_fp: Linux mmap fails for "
                                                 "O_WRONLY files")
    finally:
        fdp.fdrop(fp)
    return 0


def _growsdown(td: Any, addr: int, length: int) -> tuple[int, int]:
    """MAP_GROWSDOWN: lower vm_maxsaddr to USRSTACK - RLIMIT_STACK when the region reaches above
    it, and widen a small region to STACK_SIZE - GUARD_SIZE below its top."""
    p = td.td_proc
    vms = p.p_vmspace
    arch = p.p_kernel.arch
    mask = arch.word_mask
    if addr + length > vms.vm_maxsaddr:
        new = (arch.usrstack - p.lim_cur(RLIMIT_STACK)) & mask
        if new != vms.vm_maxsaddr:
            note(td, f"MAP_GROWSDOWN: vm_maxsaddr moved to {new:#x} "
                     "(USRSTACK - RLIMIT_STACK), as linux_mmap_common does")
            vms.vm_maxsaddr = new
    if length <= STACK_SIZE - GUARD_SIZE:
        note(td, f"MAP_GROWSDOWN: FreeBSD MAP_STACK region of {STACK_SIZE - GUARD_SIZE:#x} bytes "
                 f"below the top (Linux asked {length:#x})")
        addr = (addr - (STACK_SIZE - GUARD_SIZE - length)) & mask
        length = STACK_SIZE - GUARD_SIZE
    return addr, length


def linux_mmap(td: Any, uap: Any) -> int:
    """linux_mmap2 on amd64 (linux_mmap_common): the offset is in bytes."""
    addr, length, prot, flags, fd, pos = uap.addr, uap.len, uap.prot, uap.flags, uap.fd, uap.pgoff
    err, bsd_flags = translate_mmap_flags(td, flags)
    if err:
        return err
    if flags & MAP_ANONYMOUS:
        if pos & PAGE_MASK:
            return layer_error(td, errno.EINVAL, "linux_mmap_common: MAP_ANONYMOUS with an "
                                                 "unaligned offset")
        pos = 0
        fd = -1
    else:
        err = _check_fp(td, fd)
        if err:
            return err
    if prot & ~_RWX:
        note(td, f"{prot_str(prot & ~_RWX)}: dropped (mmap keeps only "
                 "PROT_READ|PROT_WRITE|PROT_EXEC)")
    prot = _fixup_prot(td, prot & _RWX)
    if flags & MAP_GROWSDOWN:
        addr, length = _growsdown(td, addr, length)
    nargs = SimpleNamespace(addr=addr, len=length, prot=prot, flags=bsd_flags, fd=fd, pos=pos)
    return native_call(td, "mmap", sys_mmap.mmap, nargs, addr, length, prot, bsd_flags, fd, pos)


# -- simple range calls ----------------------------------------------------------------------------
def linux_munmap(td: Any, uap: Any) -> int:
    """munmap(2): the native call."""
    return native_call(td, "munmap", sys_mmap.munmap, SimpleNamespace(addr=uap.addr, len=uap.len),
                       uap.addr, uap.len)


def linux_mprotect(td: Any, uap: Any) -> int:
    """linux_mprotect_common: PROT_GROWSDOWN/UP dropped (reported), other unknown bits EINVAL."""
    prot = uap.prot
    grows = PROT_GROWSDOWN | PROT_GROWSUP
    if prot & grows:
        note(td, f"{prot_str(prot & grows)}: ignored by linux_mprotect_common (the change is not "
                 "extended to the whole grow-down/up region)")
        prot &= ~grows
    if prot & ~_RWX:
        return layer_error(td, errno.EINVAL, f"linux_mprotect_common: unknown prot bits "
                                             f"{prot & ~_RWX:#x}")
    prot = _fixup_prot(td, prot)
    return native_call(td, "mprotect", sys_mmap.mprotect,
                       SimpleNamespace(addr=uap.addr, len=uap.len, prot=prot),
                       uap.addr, uap.len, prot)


_MADV_NATIVE = {MADV_NORMAL: mman.MADV_NORMAL, MADV_RANDOM: mman.MADV_RANDOM,
                MADV_SEQUENTIAL: mman.MADV_SEQUENTIAL, MADV_WILLNEED: mman.MADV_WILLNEED,
                MADV_FREE: mman.MADV_FREE, MADV_DONTDUMP: mman.MADV_NOCORE,
                MADV_DODUMP: mman.MADV_CORE, MADV_DONTNEED: mman.MADV_DONTNEED}
_MADV_INHERIT = {MADV_DONTFORK: mman.INHERIT_NONE, MADV_DOFORK: mman.INHERIT_COPY,
                 MADV_KEEPONFORK: mman.INHERIT_COPY}


def linux_madvise(td: Any, uap: Any) -> int:
    """linux_madvise_common's table (see linux.py)."""
    addr, length, advice = uap.addr, uap.len, uap.behav
    name = MADV_NAMES.get(advice, str(advice))
    if advice in _MADV_NATIVE:
        if advice == MADV_DONTNEED:
            note(td, "MADV_DONTNEED: approximated by FreeBSD 7's MADV_DONTNEED (pages deactivated, "
                     "not discarded as Linux and linux_madvise_dontneed do)")
        behav = _MADV_NATIVE[advice]
        return native_call(td, "madvise", sys_mmap.madvise,
                           SimpleNamespace(addr=addr, len=length, behav=behav), addr, length, behav)
    if advice in _MADV_INHERIT:
        inh = _MADV_INHERIT[advice]
        return native_call(td, "minherit", sys_mmap.minherit,
                           SimpleNamespace(addr=addr, len=length, inherit=inh), addr, length, inh)
    if advice in (MADV_UNMERGEABLE, MADV_HUGEPAGE):
        note(td, f"{name}: accepted and ignored, as linux_madvise_common does")
        td.td_retval[0] = 0
        return 0
    if advice == MADV_WIPEONFORK:
        return layer_error(td, errno.EINVAL, "MADV_WIPEONFORK needs INHERIT_ZERO, which FreeBSD 7 "
                                             "lacks")
    if advice in (MADV_REMOVE, MADV_MERGEABLE, MADV_NOHUGEPAGE, MADV_HWPOISON, MADV_SOFT_OFFLINE,
                  -1):
        return layer_error(td, errno.EINVAL, f"linux_madvise_common: {name} unsupported")
    return layer_error(td, errno.EINVAL, f"linux_madvise_common: unsupported madvise behav {name}")


def linux_mincore(td: Any, uap: Any) -> int:
    """mincore(2) through the native call; Linux reports residency in bit 0 only, so the vector's
    other FreeBSD bits (referenced, modified) are cleared afterwards."""
    vec = uap.vec           # a user address, or a Python caller's ByteVector
    err = native_call(td, "mincore", sys_mmap.mincore,
                      SimpleNamespace(addr=uap.addr, len=uap.len, vec=vec), uap.addr, uap.len)
    if err:
        return err
    if isinstance(vec, int):
        p = td.td_proc
        m = p.p_vmspace.vm_map
        first = sys_mmap.trunc_page(uap.addr)
        end = (first + (sys_mmap.round_page(uap.len) & p.p_kernel.arch.word_mask))
        n = (end - first) // PAGE_SIZE
        if n:
            try:
                raw = copyin(m, vec, n)
                copyout(m, vec, bytes(b & mman.MINCORE_INCORE for b in raw))
            except UserFault:
                return errno.EFAULT
    else:
        buf = vec.buf
        buf[:] = bytes(b & mman.MINCORE_INCORE for b in buf)
    td.td_retval[0] = 0
    return 0


def linux_mlock(td: Any, uap: Any) -> int:
    """mlock(2): the native call."""
    return native_call(td, "mlock", sys_mmap.mlock, SimpleNamespace(addr=uap.addr, len=uap.len),
                       uap.addr, uap.len)


def linux_mlock2(td: Any, uap: Any) -> int:
    """linux_mlock2: flags other than MLOCK_ONFAULT EINVAL; ONFAULT wires eagerly (reported)."""
    if uap.flags & ~MLOCK_ONFAULT:
        return layer_error(td, errno.EINVAL, f"linux_mlock2: unknown flags {uap.flags:#x}")
    if uap.flags & MLOCK_ONFAULT:
        note(td, "MLOCK_ONFAULT: pages wired eagerly (a superset of on-fault)")
    return linux_mlock(td, uap)


def linux_munlock(td: Any, uap: Any) -> int:
    """munlock(2): the native call."""
    return native_call(td, "munlock", sys_mmap.munlock, SimpleNamespace(addr=uap.addr, len=uap.len),
                       uap.addr, uap.len)


def linux_mlockall(td: Any, uap: Any) -> int:
    """mlockall(2): MCL_CURRENT/MCL_FUTURE as FreeBSD's; MCL_ONFAULT dropped (reported); anything
    else is handed to the native call untranslated, which rejects it (EINVAL)."""
    flags = uap.flags
    bsd = 0
    if flags & MCL_CURRENT:
        bsd |= mman.MCL_CURRENT
    if flags & MCL_FUTURE:
        bsd |= mman.MCL_FUTURE
    if flags & MCL_ONFAULT:
        note(td, "MCL_ONFAULT: cannot honour: FreeBSD 7 wires eagerly")
    if flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) or not flags & (MCL_CURRENT | MCL_FUTURE):
        bsd = flags
    return native_call(td, "mlockall", sys_mmap.mlockall, SimpleNamespace(how=bsd), bsd)


def linux_munlockall(td: Any, uap: Any) -> int:
    """munlockall(2): the native call."""
    return native_call(td, "munlockall", sys_mmap.munlockall, SimpleNamespace())


def linux_msync(td: Any, uap: Any) -> int:
    """linux_msync: unknown bits, MS_SYNC|MS_ASYNC or an unaligned address EINVAL; then MS_ASYNC
    and MS_INVALIDATE map to FreeBSD's and MS_SYNC to 0."""
    addr, length, flags = uap.addr, uap.len, uap.flags
    if flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC):
        return layer_error(td, errno.EINVAL, f"linux_msync: unknown flags {flags:#x}")
    if (flags & (MS_SYNC | MS_ASYNC)) == (MS_SYNC | MS_ASYNC):
        return layer_error(td, errno.EINVAL, "linux_msync: MS_SYNC together with MS_ASYNC")
    if addr & PAGE_MASK:
        return layer_error(td, errno.EINVAL, "linux_msync: unaligned address")
    bsd = 0
    if flags & MS_ASYNC:
        bsd |= mman.MS_ASYNC
    if flags & MS_INVALIDATE:
        bsd |= mman.MS_INVALIDATE
    return native_call(td, "msync", sys_mmap.msync,
                       SimpleNamespace(addr=addr, len=length, flags=bsd), addr, length, bsd)


# -- brk and mremap --------------------------------------------------------------------------------
def linux_brk(td: Any, uap: Any) -> int:
    """linux_brk: obreak(new) when new is above vm_daddr; the result is the new break on success,
    the old one otherwise -- never an errno."""
    vms = td.td_proc.p_vmspace
    old = vms.vm_daddr + (vms.vm_dsize << 12)
    new = uap.dsend
    if new > vms.vm_daddr:
        err = native_call(td, "obreak", sys_unix.obreak, SimpleNamespace(nsize=new), new)
        if not err:
            td.td_retval[0] = new
            return 0
        rec = emul_record(td)
        if rec is not None:
            rec.why = f"obreak: {errno.errorcode.get(err, err)}"
    td.td_retval[0] = old
    return 0


def linux_mremap(td: Any, uap: Any) -> int:
    """linux_mremap: flags other than FIXED|MAYMOVE or an unaligned address EINVAL; lengths rounded
    to pages; growing is ENOMEM (FreeBSD's layer never grows or moves); shrinking unmaps the tail.
    Returns the address."""
    addr, flags = uap.addr, uap.flags
    if flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE):
        return layer_error(td, errno.EINVAL, f"linux_mremap: flags {flags:#x} unsupported")
    if addr & PAGE_MASK:
        return layer_error(td, errno.EINVAL, "linux_mremap: unaligned address")
    new_len = (uap.new_len + PAGE_MASK) & ~PAGE_MASK
    old_len = (uap.old_len + PAGE_MASK) & ~PAGE_MASK
    if new_len > old_len:
        return layer_error(td, errno.ENOMEM, "linux_mremap: FreeBSD's Linux layer cannot grow "
                                             "or move a mapping")
    if new_len < old_len:
        tail = addr + new_len
        if tail > td.td_proc.p_kernel.arch.word_mask:
            return errno.EINVAL
        err = native_call(td, "munmap", sys_mmap.munmap,
                          SimpleNamespace(addr=tail, len=old_len - new_len), tail, old_len - new_len)
        if err:
            return err
    td.td_retval[0] = addr
    return 0


_ADDR_LEN = (Arg("addr", CADDR_T), Arg("len", SIZE_T))

SYSENTS: list[Sysent] = [
    Sysent(9, "mmap", _ADDR_LEN + (Arg("prot", INT), Arg("flags", INT), Arg("fd", FD),
                                   Arg("pgoff", OFF_T)), linux_mmap,
           (errno.EINVAL, errno.EACCES, errno.EBADF, errno.ENODEV, errno.ENOMEM, errno.EPERM),
           doc="Map files or anonymous memory (linux_mmap2: translated flags, Linux checks)."),
    Sysent(10, "mprotect", _ADDR_LEN + (Arg("prot", INT),), linux_mprotect,
           (errno.EINVAL, errno.EACCES, errno.ENOMEM),
           doc="Change the protection of a range (PROT_GROWS* dropped)."),
    Sysent(11, "munmap", _ADDR_LEN, linux_munmap, (errno.EINVAL,), doc="Unmap a range."),
    Sysent(12, "brk", (Arg("dsend", CADDR_T),), linux_brk, (),
           doc="Set the break; returns the new break, or the old one when it cannot move."),
    Sysent(25, "mremap", _ADDR_LEN[:1] + (Arg("old_len", SIZE_T), Arg("new_len", SIZE_T),
                                          Arg("flags", INT), Arg("new_addr", CADDR_T)),
           linux_mremap, (errno.EINVAL, errno.ENOMEM),
           doc="Shrink a mapping in place (growing or moving is ENOMEM, as FreeBSD's layer)."),
    Sysent(26, "msync", _ADDR_LEN + (Arg("flags", INT),), linux_msync,
           (errno.EINVAL, errno.ENOMEM, errno.EBUSY, errno.EIO), doc="Write back a range."),
    Sysent(27, "mincore", _ADDR_LEN + (Arg("vec", CADDR_T),), linux_mincore,
           (errno.EINVAL, errno.ENOMEM, errno.EFAULT),
           doc="Residency of each page of a range (bit 0 of each vector byte)."),
    Sysent(28, "madvise", _ADDR_LEN + (Arg("behav", INT),), linux_madvise,
           (errno.EINVAL, errno.ENOMEM), doc="Advise on a range (linux_madvise_common's table)."),
    Sysent(149, "mlock", _ADDR_LEN, linux_mlock, (errno.EINVAL, errno.ENOMEM, errno.EPERM,
                                                   errno.EAGAIN), doc="Wire a range."),
    Sysent(150, "munlock", _ADDR_LEN, linux_munlock, (errno.EINVAL, errno.ENOMEM, errno.EPERM),
           doc="Unwire a range."),
    Sysent(151, "mlockall", (Arg("flags", INT),), linux_mlockall,
           (errno.EINVAL, errno.ENOMEM, errno.EPERM, errno.EAGAIN),
           doc="Wire the whole address space (MCL_ONFAULT wires eagerly)."),
    Sysent(152, "munlockall", (), linux_munlockall, (errno.EPERM,), doc="Unwire everything."),
    Sysent(325, "mlock2", _ADDR_LEN + (Arg("flags", INT),), linux_mlock2,
           (errno.EINVAL, errno.ENOMEM, errno.EPERM, errno.EAGAIN),
           doc="mlock with flags (MLOCK_ONFAULT wires eagerly)."),
]
