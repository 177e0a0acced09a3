"""THE SEED: FreeBSD 7's sys/vm/vm_mmap.c, function by function, in the seed's order.

Read it beside ../shared/seed/vm_mmap.c: same names, same branches, same errnos.  Each system call
takes (td, uap) and returns an errno (0 on success, result in td.td_retval[0]); uap carries the
arguments already converted to the C types of the call (unsigned vm_offset_t/size_t wrapped to the
machine word, C ints sign-converted to 32 bits) by the Process layer.  vm_mmap and friends return
their out-parameters as tuples instead of writing through pointers.
Invariants: everything the seed leaves unchanged on an error path is unchanged here; the few
FreeBSD 7 side effects on failure (MAP_FIXED removes first, clips survive, partial mincore vectors)
are reproduced on purpose (docs/errata.md).
May call: vm.map, vm.object, vm.pager, vm.pmap, kern.* (priv, descriptors, vnodes, hooks).
"""
from __future__ import annotations

from errno import (EACCES, EAGAIN, EBUSY, EFAULT, EINVAL, EIO, ENODEV, ENOMEM, EOPNOTSUPP, EPERM)
from types import SimpleNamespace
from typing import TYPE_CHECKING

from ..kern import descrip, devices, priv, vfs
from ..mman import (MADV_CORE, MADV_PROTECT, MAP_ANON, MAP_COPY, MAP_FIXED, MAP_NOCORE,
                    MAP_NOSYNC, MAP_PRIVATE, MAP_SHARED, MAP_STACK, MCL_CURRENT, MCL_FUTURE,
                    MINCORE_INCORE, MINCORE_MODIFIED_OTHER, MINCORE_REFERENCED_OTHER, MS_ASYNC,
                    MS_INVALIDATE, OMAP_ANON, OMAP_COPY, OMAP_FIXED, OMAP_SHARED, PROT_EXEC,
                    PROT_READ, PROT_WRITE)
from ..resource import RLIMIT_DATA, RLIMIT_MEMLOCK, RLIMIT_VMEM
from . import pmap as pmap_mod
from .fault import UserFault, copyout
from .map import (vm_map_check_protection, vm_map_delete, vm_map_find, vm_map_inherit,
                  vm_map_madvise, vm_map_modflags, vm_map_protect, vm_map_remove, vm_map_stack,
                  vm_map_sync, vm_map_unwire, vm_map_wire)
from .object import pages_in, vm_object_deallocate
from .param import (KERN_FAILURE, KERN_INVALID_ADDRESS, KERN_INVALID_ARGUMENT, KERN_NO_SPACE,
                    KERN_PROTECTION_FAILURE, KERN_SUCCESS, MAP_COPY_ON_WRITE,
                    MAP_DISABLE_COREDUMP, MAP_DISABLE_SYNCER, MAP_ENTRY_IS_SUB_MAP,
                    MAP_PREFAULT_PARTIAL, MAP_STACK_GROWS_DOWN, MAP_WIREFUTURE, OBJT_DEFAULT,
                    OBJT_DEVICE, OBJT_VNODE, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PG_REFERENCED,
                    VM_INHERIT_SHARE,
                    VM_MAP_WIRE_HOLESOK, VM_MAP_WIRE_NOHOLES, VM_MAP_WIRE_USER, VM_PROT_ALL,
                    VM_PROT_EXECUTE, VM_PROT_NONE, VM_PROT_READ, VM_PROT_WRITE, OFF_TO_IDX, atop,
                    ptoa, round_page, trunc_page)

if TYPE_CHECKING:
    from .map import VmMap, VmMapEntry, Vmspace
    from .pmap import Pmap

LK_EXCLUSIVE = 0x00080000      # sys/lockmgr.h

# struct vm_map_entry is 68 bytes on i386 and 112 on amd64 (spec section 1).


def vmmapentry_rsrc_init(vm_kmem_size: int, sizeof_vm_map_entry: int) -> int:
    """SYSINIT vmmersrc: max_proc_mmap = vm_kmem_size / sizeof(struct vm_map_entry) / 100."""
    max_proc_mmap = vm_kmem_size // sizeof_vm_map_entry
    max_proc_mmap //= 100
    return max_proc_mmap


def _args(**kw) -> SimpleNamespace:
    return SimpleNamespace(**kw)


# ------------------------------------------------------------------------------------------------

def sbrk(td, uap) -> int:
    # Not yet implemented
    return EOPNOTSUPP


def sstk(td, uap) -> int:
    # Not yet implemented
    return EOPNOTSUPP


def ogetpagesize(td, uap) -> int:
    td.td_retval[0] = PAGE_SIZE
    return 0


def mmap(td, uap) -> int:
    p = td.td_proc
    kernel = p.p_kernel
    mask: int = kernel.arch.word_mask
    sign = 1 << (kernel.arch.word_bits - 1)
    vms: Vmspace = p.p_vmspace
    fp = None

    addr: int = uap.addr
    size: int = uap.len
    prot: int = uap.prot & VM_PROT_ALL
    flags: int = uap.flags
    pos: int = uap.pos

    # make sure mapping fits into numeric range etc
    if (uap.len & sign) or ((flags & MAP_ANON) and uap.fd != -1):
        return EINVAL

    if flags & MAP_STACK:
        if (uap.fd != -1) or ((prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE)):
            return EINVAL
        flags |= MAP_ANON
        pos = 0

    # Align the file position to a page boundary, and save its page offset component.
    pageoff = pos & PAGE_MASK
    pos -= pageoff

    # Adjust size for rounding (on both ends).
    size = (size + pageoff) & mask
    size = round_page(size) & mask

    # Check for illegal addresses.  Watch out for address wrap...
    if flags & MAP_FIXED:
        addr = (addr - pageoff) & mask
        if addr & PAGE_MASK:
            return EINVAL
        # Address range must be all in user VM space.  (vm_offset_t arithmetic: the sum
        # wraps, so a wrapping range passes this test and is caught by the next one.)
        if addr < vms.vm_map.min_offset or ((addr + size) & mask) > vms.vm_map.max_offset:
            return EINVAL
        if ((addr + size) & mask) < addr:
            return EINVAL
    else:
        # XXX for non-fixed mappings where no hint is provided or the hint would fall in the
        # potential heap space, place it after the end of the largest possible heap.
        heap_end = round_page((vms.vm_daddr + p.lim_max(RLIMIT_DATA)) & mask) & mask
        if addr == 0 or (addr >= round_page(vms.vm_taddr) and addr < heap_end):
            addr = heap_end

    error = 0
    if flags & MAP_ANON:
        # Mapping blank space is trivial.
        handle = None
        handle_type = OBJT_DEFAULT
        maxprot = VM_PROT_ALL
        pos = 0
    else:
        # Mapping file, get fp for validation.  Obtain vnode and make sure it is of
        # appropriate type.  Don't let the descriptor disappear on us if we block.
        error, fp = p.p_fd.fget(uap.fd)
        if error != 0:
            return _done(p, fp, error)
        if fp.f_type != descrip.DTYPE_VNODE:
            return _done(p, fp, ENODEV)
        # POSIX shared-memory objects trade on-disk coherence for speed.
        if fp.f_flag & descrip.FPOSIXSHM:
            flags |= MAP_NOSYNC
        vp = fp.f_vnode
        # Ensure that file and memory protections are compatible.
        if vp.v_mount is not None and vp.v_mount.mnt_flag & vfs.MNT_NOEXEC:
            maxprot = VM_PROT_NONE
        else:
            maxprot = VM_PROT_EXECUTE
        if fp.f_flag & descrip.FREAD:
            maxprot |= VM_PROT_READ
        elif prot & PROT_READ:
            return _done(p, fp, EACCES)
        # If we are sharing potential changes and we are trying to get write permission
        # although we opened it without asking for it, bail out.
        if (flags & MAP_SHARED) != 0:
            if (fp.f_flag & descrip.FWRITE) != 0:
                maxprot |= VM_PROT_WRITE
            elif (prot & PROT_WRITE) != 0:
                return _done(p, fp, EACCES)
        elif vp.v_type != vfs.VCHR or (fp.f_flag & descrip.FWRITE) != 0:
            maxprot |= VM_PROT_WRITE
        handle = vp
        handle_type = OBJT_VNODE

    # Do not allow more than a certain number of vm_map_entry structures per process.
    max_proc_mmap = vms.vm_map.vmsys.tunables.max_proc_mmap
    if max_proc_mmap and vms.vm_map.nentries >= max_proc_mmap * vms.vm_refcnt:
        return _done(p, fp, ENOMEM)

    error, addr = vm_mmap(vms.vm_map, addr, size, prot, maxprot, flags, handle_type, handle, pos,
                          td)
    # inform hwpmc(4) if an executable is being mapped
    if error == 0 and handle_type == OBJT_VNODE and (prot & PROT_EXEC):
        kernel.hooks.pmc_call_hook("mmap", pm_file=handle, pm_address=addr,
                                   path=getattr(handle, "path", None), pid=p.p_pid)
    if error == 0:
        td.td_retval[0] = (addr + pageoff) & mask
    return _done(p, fp, error)


def _done(p, fp, error: int) -> int:
    if fp is not None:
        p.p_fd.fdrop(fp)
    return error


_cvtbsdprot = (
    0,
    PROT_EXEC,
    PROT_WRITE,
    PROT_EXEC | PROT_WRITE,
    PROT_READ,
    PROT_EXEC | PROT_READ,
    PROT_WRITE | PROT_READ,
    PROT_EXEC | PROT_WRITE | PROT_READ,
)


def ommap(td, uap) -> int:
    nargs = _args(addr=uap.addr, len=uap.len, prot=_cvtbsdprot[uap.prot & 0x7], flags=0,
                  fd=uap.fd, pos=uap.pos)
    if uap.flags & OMAP_ANON:
        nargs.flags |= MAP_ANON
    if uap.flags & OMAP_COPY:
        nargs.flags |= MAP_COPY
    if uap.flags & OMAP_SHARED:
        nargs.flags |= MAP_SHARED
    else:
        nargs.flags |= MAP_PRIVATE
    if uap.flags & OMAP_FIXED:
        nargs.flags |= MAP_FIXED
    return mmap(td, nargs)


def _preprocess(td, uap) -> tuple[int, int, bool]:
    """The addr/size rounding msync, munmap, mprotect and minherit share."""
    mask: int = td.td_proc.p_kernel.arch.word_mask
    addr: int = uap.addr
    size: int = uap.len
    pageoff = addr & PAGE_MASK
    addr -= pageoff
    size = (size + pageoff) & mask
    size = round_page(size) & mask
    return addr, size, ((addr + size) & mask) < addr


def msync(td, uap) -> int:
    addr, size, wraps = _preprocess(td, uap)
    flags = uap.flags
    if wraps:
        return EINVAL

    if (flags & (MS_ASYNC | MS_INVALIDATE)) == (MS_ASYNC | MS_INVALIDATE):
        return EINVAL

    m: VmMap = td.td_proc.p_vmspace.vm_map

    # Clean the pages and interpret the return value.
    rv = vm_map_sync(m, addr, addr + size, (flags & MS_ASYNC) == 0, (flags & MS_INVALIDATE) != 0)
    if rv == KERN_SUCCESS:
        return 0
    if rv == KERN_INVALID_ADDRESS:
        return EINVAL       # Sun returns ENOMEM?
    if rv == KERN_INVALID_ARGUMENT:
        return EBUSY
    # Deviation (docs/errata.md): 7.x's vm_map_sync cannot fail on I/O; the model's reports a
    # write-back error as KERN_FAILURE, which later FreeBSD turns into EIO -- a msync that
    # returns 0 has put every byte in the file.
    if rv == KERN_FAILURE:
        return EIO
    return EINVAL


def munmap(td, uap) -> int:
    if uap.len == 0:
        return EINVAL
    addr, size, wraps = _preprocess(td, uap)
    if wraps:
        return EINVAL

    # Check for illegal addresses.  Watch out for address wrap...
    m: VmMap = td.td_proc.p_vmspace.vm_map
    if addr < m.min_offset or addr + size > m.max_offset:
        return EINVAL
    m.lock()
    # Make sure entire range is allocated.
    if not vm_map_check_protection(m, addr, addr + size, VM_PROT_NONE):
        m.unlock()
        return EINVAL
    # Inform hwpmc if the address range being unmapped contains an executable region.
    found, entry = m.lookup_entry(addr)
    if found:
        while entry is not m.header and entry.start < addr + size:
            if vm_map_check_protection(m, entry.start, entry.end, VM_PROT_EXECUTE):
                td.td_proc.p_kernel.hooks.pmc_call_hook("munmap", pm_address=addr, pm_size=size,
                                                        pid=td.td_proc.p_pid)
                break
            entry = entry.next
    # returns nothing but KERN_SUCCESS anyway
    vm_map_delete(m, addr, addr + size)
    m.unlock()
    return 0


def mprotect(td, uap) -> int:
    prot: int = uap.prot & VM_PROT_ALL
    if td.td_proc.p_kernel.arch.read_is_exec:
        if prot & VM_PROT_READ:
            prot |= VM_PROT_EXECUTE
    addr, size, wraps = _preprocess(td, uap)
    if wraps:
        return EINVAL

    rv = vm_map_protect(td.td_proc.p_vmspace.vm_map, addr, addr + size, prot, False)
    if rv == KERN_SUCCESS:
        return 0
    if rv == KERN_PROTECTION_FAILURE:
        return EACCES
    return EINVAL


def minherit(td, uap) -> int:
    addr, size, wraps = _preprocess(td, uap)
    # vm_inherit_t is a (signed) char: the int is truncated before vm_map_inherit checks it,
    # so 256 is VM_INHERIT_SHARE and 258 or -254 VM_INHERIT_NONE.
    inherit = ((uap.inherit + 0x80) & 0xFF) - 0x80
    if wraps:
        return EINVAL

    rv = vm_map_inherit(td.td_proc.p_vmspace.vm_map, addr, addr + size, inherit)
    if rv == KERN_SUCCESS:
        return 0
    if rv == KERN_PROTECTION_FAILURE:
        return EACCES
    return EINVAL


def madvise(td, uap) -> int:
    # Check for our special case, advising the swap pager we are "immortal."
    if uap.behav == MADV_PROTECT:
        error = priv.priv_check(td, priv.PRIV_VM_MADV_PROTECT)
        if error == 0:
            p = td.td_proc
            p.p_flag |= p.P_PROTECTED
        return error
    # Check for illegal behavior
    if uap.behav < 0 or uap.behav > MADV_CORE:
        return EINVAL
    # Check for illegal addresses.  Watch out for address wrap...
    mask: int = td.td_proc.p_kernel.arch.word_mask
    m: VmMap = td.td_proc.p_vmspace.vm_map
    if uap.addr < m.min_offset or ((uap.addr + uap.len) & mask) > m.max_offset:
        return EINVAL
    if ((uap.addr + uap.len) & mask) < uap.addr:
        return EINVAL

    # Since this routine is only advisory, we default to conservative behavior.
    start = trunc_page(uap.addr)
    end = round_page(uap.addr + uap.len) & mask

    if vm_map_madvise(m, start, end, uap.behav):
        return EINVAL
    return 0


def _subyte(td, vec, index: int, value: int) -> int:
    """subyte(9) into the caller's vector: 0, or -1 when the byte cannot be written."""
    if isinstance(vec, int):
        kernel = td.td_proc.p_kernel
        try:
            copyout(td.td_proc.p_vmspace.vm_map, (vec + index) & kernel.arch.word_mask,
                    bytes((value & 0xFF,)))
        except UserFault:
            return -1
        return 0
    return vec.subyte(index, value)


def _subyte_zeros(td, vec, index: int, count: int) -> int:
    """`count` subyte(vec, index + i, 0) calls in one go (the zero-fill loops over a long run of
    non-resident pages): 0, or -1 when a byte cannot be written (the bytes before it are)."""
    if count <= 0:
        return 0
    if not isinstance(vec, int):
        return vec.zero_run(index, count)
    kernel = td.td_proc.p_kernel
    chunk = 1 << 20
    while count > 0:
        n = min(count, chunk)
        try:
            copyout(td.td_proc.p_vmspace.vm_map, (vec + index) & kernel.arch.word_mask, bytes(n))
        except UserFault:
            return -1
        index += n
        count -= n
    return 0


def _mincore_candidates(pmap: Pmap, entry: VmMapEntry, addr: int, cend: int) -> list[int]:
    """The addresses in [addr, cend) of `entry` whose mincore byte can be nonzero: those with a
    translation in `pmap` or a page in the entry's object, ascending.  Every other page reports 0
    and is left to the zero-fill, so the scan costs what is resident, not the range (issue 9)."""
    found = {v << PAGE_SHIFT for v in pmap.vpns(addr, cend)}
    obj = entry.object
    if obj is not None and obj.pages:
        first = OFF_TO_IDX(entry.offset + (addr - entry.start))
        last = OFF_TO_IDX(entry.offset + (cend - entry.start) + PAGE_MASK)
        for pindex, _ in pages_in(obj, first, last):
            found.add(entry.start + (pindex << PAGE_SHIFT) - entry.offset)
    return sorted(a for a in found if addr <= a < cend)


def mincore(td, uap) -> int:
    mask: int = td.td_proc.p_kernel.arch.word_mask
    # Make sure that the addresses presented are valid for user mode.
    first_addr = addr = trunc_page(uap.addr)
    end = (addr + (round_page(uap.len) & mask)) & mask
    m: VmMap = td.td_proc.p_vmspace.vm_map
    if end > m.max_offset or end < addr:
        return ENOMEM

    # Address of byte vector
    vec = uap.vec
    pmap = m.pmap

    # vm_map_lock_read(map)
    while True:                                     # RestartScan:
        timestamp = m.timestamp
        found, entry = m.lookup_entry(addr)
        if not found:
            return ENOMEM

        # Do this on a map entry basis so that if the pages are not in the current processes
        # address space, we can easily look up the pages elsewhere.
        lastvecindex = -1
        restart = False
        current = entry
        while current is not m.header and current.start < end:
            # check for contiguity.  (header.start is vm_map_min, never > current.end: a range
            # running past the map's last entry is not rejected — the MIN-4 bug.)
            if current.end < end and (entry.next is m.header
                                      or current.next.start > current.end):
                return ENOMEM

            # ignore submaps (for now) or null objects
            if (current.eflags & MAP_ENTRY_IS_SUB_MAP) or current.object is None:
                current = current.next
                continue

            # limit this scan to the current map entry and the limits for the mincore call
            if addr < current.start:
                addr = current.start
            cend = current.end
            if cend > end:
                cend = end

            # scan this entry one page at a time.  (The model visits only the pages that can be
            # resident -- a translation or a page of the entry's object; a run of the others
            # gets its zero bytes in one go, exactly as the per-page loop would write them
            # (mincoreinfo 0 each), so the cost follows what is resident, not the range.)
            candidates = iter(_mincore_candidates(pmap, current, addr, cend) + [cend])
            while addr < cend:
                nxt = next(candidates)
                if addr < nxt:
                    vecindex = OFF_TO_IDX(addr - first_addr)
                    if (lastvecindex + 1) < vecindex:
                        if _subyte_zeros(td, vec, lastvecindex, vecindex - 1 - lastvecindex):
                            return EFAULT
                        lastvecindex = vecindex - 1
                    if _subyte_zeros(td, vec, vecindex, OFF_TO_IDX(nxt - addr)):
                        return EFAULT
                    if timestamp != m.timestamp:
                        restart = True
                        break
                    lastvecindex = OFF_TO_IDX(nxt - first_addr) - 1
                    addr = nxt
                    if addr >= cend:
                        break
                # Check pmap first, it is likely faster, also it can provide info as to
                # whether we are the one referencing or modifying the page.
                mincoreinfo = pmap_mod.pmap_mincore(pmap, addr)
                if not mincoreinfo:
                    # calculate the page index into the object
                    offset = current.offset + (addr - current.start)
                    pindex = OFF_TO_IDX(offset)
                    mpage = current.object.pages.get(pindex)
                    # if the page is resident, then gather information about it.
                    if mpage is not None and mpage.valid:
                        mincoreinfo = MINCORE_INCORE
                        if mpage.dirty or pmap_mod.pmap_is_modified(mpage):
                            mincoreinfo |= MINCORE_MODIFIED_OTHER
                        if (mpage.flags & PG_REFERENCED) or pmap_mod.pmap_ts_referenced(mpage):
                            mpage.flags |= PG_REFERENCED
                            mincoreinfo |= MINCORE_REFERENCED_OTHER

                # subyte may page fault.  In case it needs to modify the map, we release the
                # lock.  (vm_map_unlock_read)

                # calculate index into user supplied byte vector
                vecindex = OFF_TO_IDX(addr - first_addr)

                # If we have skipped map entries, we need to make sure that the byte vector is
                # zeroed for those skipped entries.  (One run: while (lastvecindex + 1) <
                # vecindex, subyte(vec + lastvecindex, 0) and lastvecindex++.)
                if (lastvecindex + 1) < vecindex:
                    if _subyte_zeros(td, vec, lastvecindex, vecindex - 1 - lastvecindex):
                        return EFAULT
                    lastvecindex = vecindex - 1

                # Pass the page information to the user
                if _subyte(td, vec, vecindex, mincoreinfo):
                    return EFAULT

                # If the map has changed, due to the subyte, the previous output may be
                # invalid.  (vm_map_lock_read)
                if timestamp != m.timestamp:
                    restart = True
                    break

                lastvecindex = vecindex
                addr += PAGE_SIZE
            if restart:
                break
            current = current.next
        if restart:
            continue

        # subyte may page fault.  In case it needs to modify the map, we release the lock.

        # Zero the last entries in the byte vector.
        vecindex = OFF_TO_IDX(end - first_addr)
        if (lastvecindex + 1) < vecindex:
            if _subyte_zeros(td, vec, lastvecindex, vecindex - 1 - lastvecindex):
                return EFAULT
            lastvecindex = vecindex - 1

        # If the map has changed, due to the subyte, the previous output may be invalid.
        if timestamp != m.timestamp:
            continue
        return 0


def mlock(td, uap) -> int:
    error = priv.priv_check(td, priv.PRIV_VM_MLOCK)
    if error:
        return error
    kernel = td.td_proc.p_kernel
    mask: int = kernel.arch.word_mask
    addr = uap.addr
    size = uap.len
    last = (addr + size) & mask
    start = trunc_page(addr)
    end = round_page(last) & mask
    if last < addr or end < addr:
        return EINVAL
    npages = atop(end - start)
    vmsys = td.td_proc.p_vmspace.vm_map.vmsys
    if npages > vmsys.tunables.vm_page_max_wired:
        return ENOMEM
    proc = td.td_proc
    if ptoa(npages + pmap_mod.pmap_wired_count(proc.p_vmspace.vm_map.pmap)) > \
            proc.lim_cur(RLIMIT_MEMLOCK):
        return ENOMEM
    if npages + vmsys.phys.v_wire_count > vmsys.tunables.vm_page_max_wired:
        return EAGAIN
    error = vm_map_wire(proc.p_vmspace.vm_map, start, end,
                        VM_MAP_WIRE_USER | VM_MAP_WIRE_NOHOLES)
    return 0 if error == KERN_SUCCESS else ENOMEM


def mlockall(td, uap) -> int:
    m: VmMap = td.td_proc.p_vmspace.vm_map
    error = 0

    if (uap.how == 0) or ((uap.how & ~(MCL_CURRENT | MCL_FUTURE)) != 0):
        return EINVAL

    # (#if 0: the RLIMIT_MEMLOCK check is compiled out in FreeBSD 7)
    error = priv.priv_check(td, priv.PRIV_VM_MLOCK)
    if error:
        return error

    if uap.how & MCL_FUTURE:
        m.lock()
        vm_map_modflags(m, MAP_WIREFUTURE, 0)
        m.unlock()
        error = 0

    if uap.how & MCL_CURRENT:
        # P1003.1-2001 mandates that all currently mapped pages will be memory resident and
        # locked (wired) upon return from mlockall().
        error = vm_map_wire(m, m.min_offset, m.max_offset, VM_MAP_WIRE_USER | VM_MAP_WIRE_HOLESOK)
        error = 0 if error == KERN_SUCCESS else EAGAIN

    return error


def munlockall(td, uap) -> int:
    m: VmMap = td.td_proc.p_vmspace.vm_map
    error = priv.priv_check(td, priv.PRIV_VM_MUNLOCK)
    if error:
        return error

    # Clear the MAP_WIREFUTURE flag from this vm_map.
    m.lock()
    vm_map_modflags(m, 0, MAP_WIREFUTURE)
    m.unlock()

    # Forcibly unwire all pages.  (The KERN_* value is returned as the errno, as in FreeBSD 7.)
    error = vm_map_unwire(m, m.min_offset, m.max_offset, VM_MAP_WIRE_USER | VM_MAP_WIRE_HOLESOK)
    return error


def munlock(td, uap) -> int:
    error = priv.priv_check(td, priv.PRIV_VM_MUNLOCK)
    if error:
        return error
    mask: int = td.td_proc.p_kernel.arch.word_mask
    addr = uap.addr
    size = uap.len
    last = (addr + size) & mask
    start = trunc_page(addr)
    end = round_page(last) & mask
    if last < addr or end < addr:
        return EINVAL
    error = vm_map_unwire(td.td_proc.p_vmspace.vm_map, start, end,
                          VM_MAP_WIRE_USER | VM_MAP_WIRE_NOHOLES)
    return 0 if error == KERN_SUCCESS else ENOMEM


def vm_mmap_vnode(td, objsize: int, prot: int, maxprot: int, flags: int, vp, foff: int):
    """Sanity checks specific to mmap of vnodes.  Returns (error, maxprot, flags, object)."""
    error = vfs.vget(vp, LK_EXCLUSIVE, td)
    if error != 0:
        return error, maxprot, flags, None
    outflags = flags
    obj = vp.v_object
    handle = None
    objtype = None
    done = False
    if vp.v_type == vfs.VREG:
        # Get the proper underlying object
        if obj is None:
            error = EINVAL
            done = True
        else:
            if obj.handle is not vp:
                vfs.vput(vp)
                vp = obj.handle
                vfs.vget(vp, LK_EXCLUSIVE, td)
            objtype = OBJT_VNODE
            handle = vp
    elif vp.v_type == vfs.VCHR:
        objtype = OBJT_DEVICE
        handle = vp.v_rdev

        # XXX: lack thredref on device
        if vp.v_rdev.si_devsw.d_flags & devices.D_MMAP_ANON:
            maxprot = VM_PROT_ALL
            outflags |= MAP_ANON
            error = 0
            done = True
        # cdevs does not provide private mappings of any kind.
        elif (maxprot & VM_PROT_WRITE) == 0 and (prot & PROT_WRITE) != 0:
            error = EACCES
            done = True
        elif flags & (MAP_PRIVATE | MAP_COPY):
            error = EINVAL
            done = True
        else:
            # Force device mappings to be shared.
            flags |= MAP_SHARED
    else:
        error = EINVAL
        done = True
    if done:
        vfs.vput(vp)
        return error, maxprot, outflags, None

    error, va = vfs.VOP_GETATTR(vp, td.td_ucred, td)
    if error:
        vfs.vput(vp)
        return error, maxprot, outflags, None
    error = td.td_proc.p_kernel.hooks.mac_check_vnode_mmap(td.td_ucred, vp, prot, flags)
    if error != 0:
        vfs.vput(vp)
        return error, maxprot, outflags, None
    if (flags & MAP_SHARED) != 0:
        if (va.va_flags & (vfs.SF_SNAPSHOT | vfs.IMMUTABLE | vfs.APPEND)) != 0:
            if prot & PROT_WRITE:
                vfs.vput(vp)
                return EPERM, maxprot, outflags, None
            maxprot &= ~VM_PROT_WRITE
    # If it is a regular file without any references we do not need to sync it.
    # Adjust object size to be the size of actual file.
    if vp.v_type == vfs.VREG:
        objsize = round_page(va.va_size)
        if va.va_nlink == 0:
            flags |= MAP_NOSYNC
    obj = td.td_proc.p_vmspace.vm_map.vmsys.pager.vm_pager_allocate(objtype, handle, objsize, prot, foff)
    if obj is None:
        error = EINVAL if objtype == OBJT_DEVICE else ENOMEM
        vfs.vput(vp)
        return error, maxprot, outflags, None
    outflags = flags
    vfs.vfs_mark_atime(vp, td)
    vfs.vput(vp)
    return 0, maxprot, outflags, obj


def vm_mmap_cdev(td, objsize: int, prot: int, maxprot: int, flags: int, cdev, foff: int):
    """Sanity checks specific to mmap of cdevs.  Returns (error, maxprot, flags, object)."""
    # XXX: lack thredref on device
    if cdev.si_devsw.d_flags & devices.D_MMAP_ANON:
        return 0, VM_PROT_ALL, flags | MAP_ANON, None
    # cdevs does not provide private mappings of any kind.
    if (maxprot & VM_PROT_WRITE) == 0 and (prot & PROT_WRITE) != 0:
        return EACCES, maxprot, flags, None
    if flags & (MAP_PRIVATE | MAP_COPY):
        return EINVAL, maxprot, flags, None
    # Force device mappings to be shared.
    flags |= MAP_SHARED
    # (MAC_XXX: mac_check_cdev_mmap is compiled out)
    obj = td.td_proc.p_vmspace.vm_map.vmsys.pager.vm_pager_allocate(OBJT_DEVICE, cdev, objsize, prot, foff)
    if obj is None:
        return EINVAL, maxprot, flags, None
    return 0, maxprot, flags, obj


def vm_mmap(m: VmMap, addr: int, size: int, prot: int, maxprot: int, flags: int, handle_type: int,
            handle, foff: int, td) -> tuple[int, int]:
    """Internal version of mmap.  Returns (error, addr)."""
    rv = KERN_SUCCESS
    proc = td.td_proc
    kernel = proc.p_kernel

    if size == 0:
        return 0, addr

    size = round_page(size)

    if proc.p_vmspace.vm_map.size + size > proc.lim_cur(RLIMIT_VMEM):
        return ENOMEM, addr

    # We currently can only deal with page aligned file offsets.
    if foff & PAGE_MASK:
        return EINVAL, addr

    if (flags & MAP_FIXED) == 0:
        fitit = True
        addr = round_page(addr) & kernel.arch.word_mask
    else:
        if addr != trunc_page(addr):
            return EINVAL, addr
        fitit = False
        vm_map_remove(m, addr, addr + size)

    # Lookup/allocate object.
    obj = None
    if handle_type == OBJT_DEVICE:
        error, maxprot, flags, obj = vm_mmap_cdev(td, size, prot, maxprot, flags, handle, foff)
    elif handle_type == OBJT_VNODE:
        error, maxprot, flags, obj = vm_mmap_vnode(td, size, prot, maxprot, flags, handle, foff)
    elif handle_type == OBJT_DEFAULT and handle is None:
        error = 0
    else:
        error = EINVAL
    if error:
        return error, addr
    if flags & MAP_ANON:
        obj = None
        docow = 0
        # Unnamed anonymous regions always start at 0.
        if handle is None:
            foff = 0
    else:
        docow = MAP_PREFAULT_PARTIAL

    if (flags & (MAP_ANON | MAP_SHARED)) == 0:
        docow |= MAP_COPY_ON_WRITE
    if flags & MAP_NOSYNC:
        docow |= MAP_DISABLE_SYNCER
    if flags & MAP_NOCORE:
        docow |= MAP_DISABLE_COREDUMP

    if kernel.arch.read_is_exec:
        if prot & VM_PROT_READ:
            prot |= VM_PROT_EXECUTE
        if maxprot & VM_PROT_READ:
            maxprot |= VM_PROT_EXECUTE

    if fitit:
        addr = pmap_mod.pmap_addr_hint(obj, addr, size, kernel.arch.nbpdr)

    if flags & MAP_STACK:
        rv = vm_map_stack(m, addr, size, prot, maxprot, docow | MAP_STACK_GROWS_DOWN, proc)
    else:
        rv, addr = vm_map_find(m, obj, foff, addr, size, fitit, prot, maxprot, docow)

    if rv != KERN_SUCCESS:
        # Lose the object reference.  Will destroy the object if it's an unnamed anonymous
        # mapping or named anonymous without other references.
        vm_object_deallocate(obj)
    elif flags & MAP_SHARED:
        # Shared memory is also shared with children.
        rv = vm_map_inherit(m, addr, addr + size, VM_INHERIT_SHARE)
        if rv != KERN_SUCCESS:
            vm_map_remove(m, addr, addr + size)

    # If the process has requested that all future mappings be wired, then heed this.
    if rv == KERN_SUCCESS and (m.flags & MAP_WIREFUTURE):
        vm_map_wire(m, addr, addr + size, VM_MAP_WIRE_USER | VM_MAP_WIRE_NOHOLES)

    if rv == KERN_SUCCESS:
        return 0, addr
    if rv in (KERN_INVALID_ADDRESS, KERN_NO_SPACE):
        return ENOMEM, addr
    if rv == KERN_PROTECTION_FAILURE:
        return EACCES, addr
    return EINVAL, addr


class ByteVector:
    """A host-side mincore vector of `n` bytes: subyte() stores in range and records what falls
    outside (FreeBSD 7's MIN-7 loop writes one byte before the vector).  Storage grows as bytes
    are written (`preallocate` bytes at first), so a vector over a huge unmapped range costs
    nothing until the MIN-4 zero-fill loop reaches it."""

    def __init__(self, n: int, fill: int = 0, preallocate: int | None = None):
        self.n = n
        self.fill = fill & 0xFF
        self.buf = bytearray([self.fill]) * (n if preallocate is None else min(n, preallocate))
        self.outside: list[tuple[int, int]] = []

    def subyte(self, index: int, value: int) -> int:
        if 0 <= index < self.n:
            buf = self.buf
            if index >= len(buf):
                buf.extend(bytes([self.fill]) * (index + 1 - len(buf)))
            buf[index] = value & 0xFF
        else:
            self.outside.append((index, value & 0xFF))
        return 0

    def zero_run(self, index: int, count: int) -> int:
        """`count` subyte(index + i, 0) calls at once."""
        end = index + count
        self.outside.extend((i, 0) for i in range(index, min(end, 0)))
        lo, hi = max(index, 0), min(end, self.n)
        if lo < hi:
            buf = self.buf
            if hi > len(buf):
                buf.extend(bytes([self.fill]) * (hi - len(buf)))
            buf[lo:hi] = bytes(hi - lo)
        self.outside.extend((i, 0) for i in range(max(index, self.n), end))
        return 0

    def contents(self) -> bytes:
        """All n bytes: those never written keep the fill value."""
        return bytes(self.buf) + bytes([self.fill]) * (self.n - len(self.buf))
