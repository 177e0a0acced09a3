"""imgact_elf.c (with imgact_shell.c's #! handling): reading an x86-64 ELF executable and laying
out a new address space for it, as FreeBSD's image activator does.

* The header must be a little-endian ELFCLASS64 EM_X86_64 ET_EXEC or ET_DYN file with 56-byte
  program headers inside the first page; anything malformed or truncated is ENOEXEC.
* Each PT_LOAD is mapped from the executable's vnode object, private and copy-on-write
  (MAP_COPY_ON_WRITE | MAP_PREFAULT_PARTIAL), up to the last whole file page; the rest of the
  segment is anonymous memory, the file's bytes of the partial page copied into it
  (elf_load_section).  ET_DYN programs are loaded at ET_DYN_LOAD_ADDR, the interpreter (PT_INTERP,
  e.g. ld-linux-x86-64.so.2 from the host tree) at round_page(vm_daddr + maxdsiz) as 7.x does.
* The stack is the grow-down region below USRSTACK (vm_map_stack, RLIMIT_STACK), holding argc,
  argv, envp and the auxiliary vector (AT_PHDR ... AT_EXECFN), the strings, 16 random bytes and
  the platform name, laid out as Linux's create_elf_tables does (FreeBSD's layout carries the same
  items; ld.so and libc read only the vectors).
* vm_taddr/vm_tsize are the executable segment, vm_daddr/vm_dsize the writable one (bss
  included), so obreak(2)/brk(2) grow the data segment from its end as in FreeBSD.
* The brand picks the personality: EI_OSABI 9 (ELFOSABI_FREEBSD) the native FreeBSD table,
  anything else (Linux, SysV/unbranded) the Linux table.

Invariants: every check that can fail with an errno is made before the old address space is
destroyed (the point of no return); a failure after it kills the process (SIGABRT, as 7.x's
exec_fail_dealloc does).  May call: kern.vfs, vm.map, vm.mmap, vm.fault (copyout), vm.pager.
"""
from __future__ import annotations

import errno
import os
import struct
from dataclasses import dataclass, field
from typing import Any

from ..vm.fault import UserFault, copyout
from ..vm.map import vm_map_insert, vm_map_protect, vm_map_stack
from ..vm.object import vm_object_deallocate
from ..vm.param import (KERN_SUCCESS, MAP_COPY_ON_WRITE, MAP_PREFAULT_PARTIAL,
                        MAP_STACK_GROWS_DOWN, OBJT_VNODE, PAGE_SIZE, VM_PROT_ALL,
                        VM_PROT_EXECUTE, VM_PROT_READ, VM_PROT_WRITE, round_page, trunc_page)
from . import vfs as vfs_mod

ELFOSABI_SYSV = 0
ELFOSABI_LINUX = 3
ELFOSABI_FREEBSD = 9
ET_EXEC = 2
ET_DYN = 3
EM_X86_64 = 62
PT_LOAD = 1
PT_INTERP = 3
PT_PHDR = 6
PF_X, PF_W, PF_R = 1, 2, 4

ET_DYN_LOAD_ADDR = 0x01021000       # amd64: where a position-independent program is loaded

AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE = 0, 3, 4, 5, 6, 7
AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID = 8, 9, 11, 12, 13, 14
AT_PLATFORM, AT_HWCAP, AT_CLKTCK, AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN = \
    15, 16, 17, 23, 25, 26, 31

# cpuid(1).edx of Unicorn's default x86-64 CPU model (qemu64): what AT_HWCAP reports on x86
HWCAP_X86_64 = 0x078BFBFF
PLATFORM = b"x86_64"
MAX_SHELL_LINE = 128                # imgact_shell: the #! line the kernel looks at
ARG_MAX = 262144                    # the total size of argument and environment strings


@dataclass
class Phdr:
    p_type: int
    p_flags: int
    p_offset: int
    p_vaddr: int
    p_filesz: int
    p_memsz: int


@dataclass
class ElfFile:
    """A parsed executable: the header fields the activator needs, its program headers, and the
    referenced vnode it was read from."""

    vp: Any
    size: int
    e_type: int
    e_entry: int
    e_phoff: int
    osabi: int
    phdrs: list[Phdr] = field(default_factory=list)
    interp: bytes | None = None


def _read(kernel: Any, vp: Any, off: int, n: int) -> bytes:
    err, data = vp.v_mount.vfs.read(vp, off, n)
    return b"" if err else data


def elf_parse(kernel: Any, vp: Any, head: bytes) -> tuple[int, ElfFile | None]:
    """Check an ELF header and its program headers: (0, ElfFile) or (ENOEXEC, None)."""
    if len(head) < 64 or head[:4] != b"\x7fELF":
        return errno.ENOEXEC, None
    if head[4] != 2 or head[5] != 1 or head[6] != 1:       # ELFCLASS64, ELFDATA2LSB, EV_CURRENT
        return errno.ENOEXEC, None
    (e_type, e_machine, _ver, e_entry, e_phoff, _shoff, _flags, _ehsize, e_phentsize,
     e_phnum) = struct.unpack_from("<HHIQQQIHHH", head, 16)
    if e_machine != EM_X86_64 or e_type not in (ET_EXEC, ET_DYN):
        return errno.ENOEXEC, None
    if e_phentsize != 56 or e_phnum == 0 or e_phoff + e_phnum * 56 > PAGE_SIZE \
            or e_phoff + e_phnum * 56 > len(head):
        return errno.ENOEXEC, None
    err, va = vp.v_mount.vfs.getattr(vp)
    if err:
        return err, None
    ef = ElfFile(vp, va.va_size, e_type, e_entry, e_phoff, head[7])
    for i in range(e_phnum):
        (p_type, p_flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz,
         p_align) = struct.unpack_from("<IIQQQQQQ", head, e_phoff + i * 56)
        ph = Phdr(p_type, p_flags, p_offset, p_vaddr, p_filesz, p_memsz)
        if p_type == PT_LOAD:
            if (p_filesz > p_memsz or p_offset + p_filesz > ef.size
                    or (p_vaddr - p_offset) & (PAGE_SIZE - 1)
                    or p_vaddr + p_memsz > 0x0000800000000000 or p_vaddr + p_memsz < p_vaddr):
                return errno.ENOEXEC, None
        elif p_type == PT_INTERP:
            if p_filesz == 0 or p_filesz > 1024 or p_offset + p_filesz > ef.size:
                return errno.ENOEXEC, None
            raw = _read(kernel, vp, p_offset, p_filesz)
            if len(raw) != p_filesz or not raw.endswith(b"\0"):
                return errno.ENOEXEC, None
            ef.interp = raw[:-1]
        ef.phdrs.append(ph)
    if not any(p.p_type == PT_LOAD for p in ef.phdrs):
        return errno.ENOEXEC, None
    return 0, ef


def open_exec(kernel: Any, cred: Any, path: bytes) -> tuple[int, Any, bytes]:
    """exec_check_permissions + the first page: (0, referenced vnode, first page) or an errno
    (ENOENT, ENOTDIR, ELOOP, EACCES for a non-regular file, a noexec mount or no x bit)."""
    vfs = kernel.vfs
    err, vp = vfs.open(cred, os.fsdecode(path), os.O_RDONLY)
    if err:
        return err, None, b""
    if vp.v_type != vfs_mod.VREG or vp.v_mount.mnt_flag & vfs_mod.MNT_NOEXEC:
        vfs_mod.vrele(vp)
        return errno.EACCES, None, b""
    err = vfs._vaccess(vp.v_type, vp.meta, vfs_mod.VEXEC, cred)
    if err:
        vfs_mod.vrele(vp)
        return err, None, b""
    err, head = vfs.read(vp, 0, PAGE_SIZE)
    if err:
        vfs_mod.vrele(vp)
        return err, None, b""
    return 0, vp, head


def shell_args(head: bytes, path: bytes, argv: list[bytes]) -> tuple[int, bytes, list[bytes]]:
    """imgact_shell: '#!interpreter [arg]' -> (0, interpreter, new argv) or ENOEXEC."""
    line = head[2:MAX_SHELL_LINE]
    nl = line.find(b"\n")
    if nl < 0:
        return errno.ENOEXEC, b"", []
    line = line[:nl].strip(b" \t")
    if not line:
        return errno.ENOEXEC, b"", []
    parts = line.split(None, 1)
    interp = parts[0]
    new = [interp] + parts[1:2] + [path] + argv[1:]
    return 0, interp, new


@dataclass
class Loaded:
    base: int
    entry: int
    phdr: int
    phnum: int
    text: tuple[int, int]
    data: tuple[int, int]


def _load_section(td: Any, m: Any, vp: Any, ph: Phdr, base: int) -> int:
    """elf_load_section: returns a KERN_* code."""
    pager = td.td_proc.p_kernel.pager
    prot = 0
    if ph.p_flags & PF_R:
        prot |= VM_PROT_READ
    if ph.p_flags & PF_W:
        prot |= VM_PROT_WRITE
    if ph.p_flags & PF_X:
        prot |= VM_PROT_EXECUTE
    vaddr = base + ph.p_vaddr
    map_addr = trunc_page(vaddr)
    file_addr = trunc_page(ph.p_offset)
    if ph.p_memsz > ph.p_filesz:
        map_len = trunc_page(ph.p_offset + ph.p_filesz) - file_addr
    else:
        map_len = round_page(ph.p_offset + ph.p_filesz) - file_addr
    if map_len:
        obj = pager.vm_pager_allocate(OBJT_VNODE, vp, round_page(vp.host_size()), prot, 0)
        if obj is None:
            return 1
        rv = vm_map_insert(m, obj, file_addr, map_addr, map_addr + map_len, prot, VM_PROT_ALL,
                           MAP_COPY_ON_WRITE | MAP_PREFAULT_PARTIAL)
        if rv != KERN_SUCCESS:
            vm_object_deallocate(obj)
            return rv
    if ph.p_memsz == ph.p_filesz:
        return KERN_SUCCESS
    bss_addr = trunc_page(vaddr + ph.p_filesz)
    bss_end = round_page(vaddr + ph.p_memsz)
    if bss_end > bss_addr:
        rv = vm_map_insert(m, None, 0, bss_addr, bss_end, VM_PROT_ALL, VM_PROT_ALL, 0)
        if rv != KERN_SUCCESS:
            return rv
    copy_len = (ph.p_offset + ph.p_filesz) - trunc_page(ph.p_offset + ph.p_filesz)
    if copy_len:
        data = _read(None, vp, trunc_page(ph.p_offset + ph.p_filesz), copy_len)
        try:
            copyout(m, bss_addr, data.ljust(copy_len, b"\0"))
        except UserFault:
            return 1
    return vm_map_protect(m, map_addr, bss_end, prot, False)


def load_image(td: Any, m: Any, ef: ElfFile, base: int) -> tuple[int, Loaded | None]:
    """Map every PT_LOAD of ef at `base`; (KERN_SUCCESS, Loaded) or (rv, None)."""
    text = data = (0, 0)
    phdr = 0
    first_load = None
    for ph in ef.phdrs:
        if ph.p_type == PT_PHDR:
            phdr = base + ph.p_vaddr
        if ph.p_type != PT_LOAD:
            continue
        rv = _load_section(td, m, ef.vp, ph, base)
        if rv != KERN_SUCCESS:
            return rv, None
        if first_load is None:
            first_load = ph
        seg = (trunc_page(base + ph.p_vaddr), round_page(base + ph.p_vaddr + ph.p_memsz))
        if ph.p_flags & PF_X and text == (0, 0):
            text = seg
        elif ph.p_flags & PF_W:
            if data == (0, 0):
                data = seg
            else:
                data = (min(data[0], seg[0]), max(data[1], seg[1]))
    if not phdr and first_load is not None and first_load.p_offset == 0:
        phdr = base + first_load.p_vaddr + ef.e_phoff
    if data == (0, 0):
        data = (text[1], text[1])
    return KERN_SUCCESS, Loaded(base, base + ef.e_entry, phdr, len(ef.phdrs), text, data)


def build_stack(p: Any, path: bytes, argv: list[bytes], envp: list[bytes],
                auxv: list[tuple[int, int]]) -> int:
    """Write the strings, argv, envp and auxv under USRSTACK; returns the initial stack pointer
    (pointing at argc).  Raises UserFault if the stack cannot be written."""
    m = p.p_vmspace.vm_map
    top = p.p_kernel.arch.usrstack
    # strings go top-down: execfn highest, then envp, then argv (as Linux's copy_strings does)
    sp = top - 8                            # a null word at the very top
    items: list[tuple[str, int]] = []
    for kind, s in ([("execfn", path)] + [("env", e) for e in reversed(envp)]
                    + [("arg", a) for a in reversed(argv)]):
        sp -= len(s) + 1
        items.append((kind, sp))
    strings = []
    for (_kind, addr), s in zip(items, [path] + list(reversed(envp)) + list(reversed(argv)),
                               strict=True):
        strings.append((addr, s + b"\0"))
    sp -= len(PLATFORM) + 1
    platform = sp
    strings.append((platform, PLATFORM + b"\0"))
    sp -= 16
    random_addr = sp
    strings.append((random_addr, os.urandom(16)))
    sp &= ~0xF
    execfn = items[0][1]
    env_addrs = [a for k, a in items if k == "env"][::-1]
    arg_addrs = [a for k, a in items if k == "arg"][::-1]
    aux = list(auxv) + [(AT_RANDOM, random_addr), (AT_EXECFN, execfn), (AT_PLATFORM, platform),
                        (AT_NULL, 0)]
    words = [len(argv)] + arg_addrs + [0] + env_addrs + [0]
    for k, v in aux:
        words += [k, v]
    sp -= len(words) * 8
    sp &= ~0xF
    low = sp
    image = bytearray(top - low)
    struct.pack_into(f"<{len(words)}Q", image, 0, *words)
    for addr, s in strings:
        image[addr - low:addr - low + len(s)] = s
    copyout(m, low, image)
    return sp


def exec_map_stack(p: Any) -> int:
    """exec_new_vmspace's stack: the grow-down region [USRSTACK - maxssiz, USRSTACK)."""
    kernel = p.p_kernel
    arch = kernel.arch
    vms = p.p_vmspace
    bottom = arch.usrstack - arch.maxssiz
    rv = vm_map_stack(vms.vm_map, bottom, arch.maxssiz, kernel.sv_stackprot, VM_PROT_ALL,
                      MAP_STACK_GROWS_DOWN, p)
    if rv == KERN_SUCCESS:
        vms.vm_ssize = kernel.sgrowsiz >> 12
        vms.vm_maxsaddr = bottom
    return rv
