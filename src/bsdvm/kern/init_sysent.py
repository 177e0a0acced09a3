"""kern/init_sysent.c (from syscalls.master): the native FreeBSD 7 system-call table.

Every system call the model serves is declared here once: its FreeBSD 7.x number (syscalls.master;
the COMPAT_43 calls keep their old numbers: 64 ogetpagesize, 71 ommap), its arguments with their C
types, its body `(td, uap) -> errno`, the errnos it can return and when, and the spec rule ids it
implements.  `freebsd_sysent` is what the CPU runner dispatches by number and what `Process` methods
(generated from it by kern/makesyscalls.py into bsdvm/syscalls.py) and docs/syscalls.md derive from.
Numbers the model knows but does not serve are in `nosys` (ENOSYS, named in statistics).

Invariants: numbers and names are unique (SysentTable refuses duplicates); the bodies are the
kernel's own (vm/mmap.py for the seed, vm/unix.py for obreak, kern/* for files), never wrappers of
the public API.
May call: nothing at import time but the modules whose bodies it names.
"""
from __future__ import annotations

from errno import (EACCES, EAGAIN, EBADF, EBUSY, EEXIST, EFAULT, EINVAL, EIO, EISDIR, ELOOP,
                   EMFILE, ENAMETOOLONG, ENODEV, ENOENT, ENOMEM, ENOTDIR, ENXIO, EOPNOTSUPP, EPIPE,
                   EPERM, EROFS, ESPIPE)

from ..vm import mmap as vm_mmap
from ..vm import unix as vm_unix
from . import descrip, sys_generic, sys_pipe, vfs_syscalls
from .sysent import (BUF_IN, BUF_OUT, CADDR_T, FD, GID_T, INT, LONG, OFF_T, PATH, SIZE_T, UID_T, Arg,
                     CType, Result, Sysent, SysentTable)
from .vfs_syscalls import STAT_OUT

UFD = CType("u_int fd", 32, False, EBADF)       # dup/dup2 take their descriptors as u_int

# -- argument shorthands ---------------------------------------------------------------------------
_ADDR = Arg("addr", CADDR_T, doc="the start address (a pointer: -1 is the all-ones address)")
_LEN = Arg("len", SIZE_T, py="length", doc="the length in bytes (a size_t)")
_FD = Arg("fd", FD, doc="an open descriptor")
_PATHA = Arg("path", PATH, doc="a path in the model's name space (str, bytes or PathLike)")

# -- errno explanations shared by several calls ------------------------------------------------------
_E_WRAP = (EINVAL, "the page-rounded range wraps around the end of the address space")
_E_BADF = (EBADF, "fd is not an open descriptor (or fits no C int)")
_E_PATH = ((ENOENT, "a component of the path does not exist, or the path is empty"),
           (ENOTDIR, "a component of the path prefix is not a directory"),
           (ENAMETOOLONG, "the path is MAXPATHLEN (1024) bytes or longer, or a component is longer "
                          "than NAME_MAX (255)"),
           (ELOOP, "more than MAXSYMLINKS (32) symbolic links in the path"),
           (EACCES, "search permission is denied on a component of the path prefix"),
           (EINVAL, "the path contains a NUL byte"))
_E_HOST = (EIO, "the host file system failed (the host's errno is passed on)")

_SEED: list[Sysent] = [
    Sysent(17, "obreak", (Arg("nsize", CADDR_T, doc="the new end of the data segment (the break)"),),
           vm_unix.obreak, rules=("BRK-1", "BRK-2", "BRK-3", "BRK-4", "BRK-5"),
           doc="Move the end of the data segment (the `break` system call behind brk/sbrk): grow it "
               "by inserting [old, new) read/write/execute, shrink it by deleting [new, old).",
           raises=((ENOMEM, "growing past RLIMIT_DATA, past the map's end, past RLIMIT_VMEM, or "
                            "onto something already mapped"),
                   (EINVAL, "the new break is below the start of the data segment"))),
    Sysent(64, "ogetpagesize", (), vm_mmap.ogetpagesize, rules=("BRK-0",),
           returns=Result.RETVAL, returns_doc="PAGE_SIZE (4096)",
           doc="COMPAT_43 getpagesize(): the page size."),
    Sysent(65, "msync", (_ADDR, _LEN, Arg("flags", INT, default=0,
                                          doc="MS_SYNC (default), MS_ASYNC, MS_INVALIDATE")),
           vm_mmap.msync, rules=("SYN-1", "SYN-2", "SYN-3", "SYN-4"),
           doc="Write the dirty pages of the range back to their files; MS_INVALIDATE also drops the "
               "clean file pages so the next access re-reads the file.  A zero length at an aligned "
               "address syncs the whole entry holding it.",
           raises=(_E_WRAP, (EINVAL, "both MS_ASYNC and MS_INVALIDATE, or the start is unmapped, or "
                                     "the range has a hole"),
                   (EBUSY, "MS_INVALIDATE over user-wired (mlocked) memory"))),
    Sysent(69, "sbrk", (Arg("incr", INT, doc="the increment (ignored)"),), vm_mmap.sbrk,
           rules=("BRK-0",), returns=Result.RETVAL, returns_doc="never returns: always fails",
           doc="sbrk(2) as a system call: not implemented in FreeBSD 7 (libc builds sbrk on obreak).",
           raises=((EOPNOTSUPP, "always"),)),
    Sysent(70, "sstk", (Arg("incr", INT, doc="the increment (ignored)"),), vm_mmap.sstk,
           rules=("BRK-0",), returns=Result.RETVAL, returns_doc="never returns: always fails",
           doc="sstk(2): not implemented in FreeBSD 7.",
           raises=((EOPNOTSUPP, "always"),)),
    Sysent(71, "ommap", (_ADDR, Arg("len", INT, py="length", doc="the length (a C int, sign-extended)"),
                         Arg("prot", INT, doc="old encoding: 4 read, 2 write, 1 exec"),
                         Arg("flags", INT, doc="OMAP_ANON, OMAP_COPY, OMAP_SHARED, OMAP_FIXED"),
                         Arg("fd", FD, default=-1, doc="the descriptor to map, -1 for anonymous"),
                         Arg("pos", LONG, default=0, doc="the file offset (a C long)")),
           vm_mmap.ommap, rules=("MMAP-13",), returns=Result.RETVAL,
           returns_doc="the address of the mapping",
           doc="COMPAT_43 mmap: translate the old protection and flag encodings, then mmap.",
           raises=((EINVAL, "as mmap"), (ENOMEM, "as mmap"), (EACCES, "as mmap"),
                   (EBADF, "as mmap"), (ENODEV, "as mmap"), (EPERM, "as mmap"))),
    Sysent(73, "munmap", (_ADDR, _LEN), vm_mmap.munmap, rules=("UNM-1", "UNM-2", "UNM-3"),
           doc="Remove the mappings of the page-rounded range (wired pages are unwired).",
           raises=((EINVAL, "a zero length, a range outside the user address space or wrapping, or a "
                            "range that is not entirely mapped (FreeBSD 7 refuses holes; nothing is "
                            "removed)"),)),
    Sysent(74, "mprotect", (_ADDR, _LEN, Arg("prot", INT, doc="PROT_READ | PROT_WRITE | PROT_EXEC")),
           vm_mmap.mprotect, rules=("PROT-1", "PROT-2"),
           doc="Set the protection of the mapped parts of the range (unmapped parts are ignored; on "
               "i386 READ implies EXEC).",
           raises=(_E_WRAP, (EACCES, "the new protection exceeds an entry's maximum protection (the "
                                     "entries clipped before the failure stay clipped)"))),
    Sysent(75, "madvise", (_ADDR, _LEN, Arg("behav", INT, doc="an MADV_* advice")),
           vm_mmap.madvise, rules=("ADV-1", "ADV-2", "ADV-3", "ADV-4"),
           doc="Advise the VM about the range: MADV_NORMAL/RANDOM/SEQUENTIAL set the entry behaviour, "
               "WILLNEED prefaults, DONTNEED deactivates, FREE discards, NOSYNC/AUTOSYNC/NOCORE/CORE "
               "set entry flags; MADV_PROTECT protects the process from the OOM killer.",
           raises=((EPERM, "MADV_PROTECT without privilege"),
                   (EINVAL, "an unknown advice, or a range outside the user address space or "
                            "wrapping"))),
    Sysent(78, "mincore", (_ADDR, _LEN, Arg("vec", CADDR_T, doc="the user address of the vector")),
           vm_mmap.mincore, method="mincore_into",
           rules=("MIN-1", "MIN-2", "MIN-3", "MIN-4", "MIN-5", "MIN-6", "MIN-7", "MIN-8", "MIN-9",
                  "MIN-10"),
           doc="Write one MINCORE_* byte per page of the range into the vector at user address `vec` "
               "in this process's memory, exactly as the kernel does (including FreeBSD 7's "
               "off-by-one fill, MIN-7/8, and the restart when a write changes the map, MIN-9).  "
               "`Process.mincore` is the form that returns the vector as bytes.",
           raises=((ENOMEM, "the range ends past the user address space or wraps, starts outside "
                            "every mapping, or has a hole"),
                   (EFAULT, "a byte of the vector cannot be written (earlier bytes stay written)"))),
    Sysent(203, "mlock", (_ADDR, _LEN), vm_mmap.mlock,
           rules=("MLK-1", "MLK-2", "MLK-3", "MLK-4", "MLK-5"),
           doc="Wire the pages of the range (fault them in and keep them resident).",
           raises=((EPERM, "not privileged (PRIV_VM_MLOCK)"), (EINVAL, "the range wraps"),
                   (ENOMEM, "more pages than vm.max_wired, over RLIMIT_MEMLOCK, or a hole, an "
                            "unmapped start or a page that cannot be faulted in"),
                   (EAGAIN, "the system-wide wired page count would exceed vm.max_wired"))),
    Sysent(204, "munlock", (_ADDR, _LEN), vm_mmap.munlock, rules=("MUL-1",),
           doc="Unwire the pages of the range.",
           raises=((EPERM, "not privileged (PRIV_VM_MUNLOCK)"), (EINVAL, "the range wraps"),
                   (ENOMEM, "the range has a hole or an unmapped start"))),
    Sysent(250, "minherit", (_ADDR, _LEN, Arg("inherit", INT, doc="INHERIT_SHARE, INHERIT_COPY or "
                                                                  "INHERIT_NONE")),
           vm_mmap.minherit, rules=("INH-1",),
           doc="Set what fork() does with the mapped parts of the range.",
           raises=(_E_WRAP, (EINVAL, "an unknown inheritance value"))),
    Sysent(324, "mlockall", (Arg("how", INT, doc="MCL_CURRENT and/or MCL_FUTURE"),),
           vm_mmap.mlockall, rules=("MLA-1", "MLA-2", "MLA-3"),
           doc="Wire every current mapping (MCL_CURRENT) and/or every future one (MCL_FUTURE).",
           raises=((EINVAL, "how is 0 or has other bits"), (EPERM, "not privileged"),
                   (EAGAIN, "MCL_CURRENT could not wire some entry (everything is unwired again)"))),
    Sysent(325, "munlockall", (), vm_mmap.munlockall, rules=("MUA-1",),
           doc="Unwire every mapping and clear MCL_FUTURE.",
           raises=((EPERM, "not privileged"),)),
    Sysent(477, "mmap", (_ADDR, _LEN, Arg("prot", INT, doc="PROT_READ | PROT_WRITE | PROT_EXEC"),
                         Arg("flags", INT, doc="MAP_SHARED or MAP_PRIVATE, with MAP_ANON, MAP_FIXED, "
                                               "MAP_STACK, MAP_NOSYNC, MAP_NOCORE, ..."),
                         Arg("fd", FD, default=-1, doc="the descriptor to map, -1 for anonymous"),
                         Arg("pos", OFF_T, py="offset", default=0, doc="the file offset (an off_t)")),
           vm_mmap.mmap, returns=Result.RETVAL,
           returns_doc="the address of the mapping (plus the offset's page offset)",
           rules=("MMAP-1", "MMAP-2", "MMAP-3", "MMAP-4", "MMAP-5", "MMAP-6", "MMAP-7", "MMAP-8",
                  "MMAP-9", "MMAP-10", "MMAP-11", "MMAP-12", "VMM-1", "VMM-2", "VMM-4", "VMM-5",
                  "VMM-9", "VMM-12", "MMV-1", "MMV-2", "MMV-3", "MMV-4", "MMV-5", "MMV-6",
                  "MMV-7", "MMV-8"),
           doc="Map anonymous memory, a file or a device into the address space.  Without MAP_FIXED "
               "the address is a hint (0 or one inside the heap means after the largest heap); with "
               "MAP_FIXED whatever was mapped there is removed first (even if the call then fails).",
           raises=((EINVAL, "a negative (ssize_t) length, MAP_ANON with fd != -1, a bad MAP_STACK "
                            "request, a MAP_FIXED address misaligned with the offset or outside the "
                            "user space, a private mapping of a device, a vnode that is not a regular "
                            "file or character device"),
                   (EBADF, "fd is not open (for a file mapping)"),
                   (ENODEV, "fd is not a vnode (a pipe)"),
                   (EACCES, "PROT_READ of a file not opened for reading, or PROT_WRITE of a shared "
                            "mapping of a file not opened for writing"),
                   (EPERM, "PROT_WRITE shared mapping of an immutable, append-only or snapshot file"),
                   (ENOMEM, "no room (MAP_STACK not free at the hint), RLIMIT_VMEM, or "
                            "vm.max_proc_mmap entries reached"),
                   (ENOENT, "the file's vnode was revoked"))),
]

_FILES: list[Sysent] = [
    Sysent(3, "read", (_FD, Arg("buf", BUF_OUT, length_arg="nbyte"),
                       Arg("nbyte", SIZE_T, py="n", doc="the most bytes to read")),
           sys_generic.read, returns=Result.UIO_OUT,
           returns_doc="the bytes read (fewer at end of file; b'' at end of file or a closed pipe)",
           rules=("FD-1",), doc="Read from the descriptor at its file offset, advancing it.",
           raises=((EINVAL, "nbyte is larger than INT_MAX (so a negative count)"), _E_BADF,
                   (EBADF, "fd is not open for reading, or its vnode was revoked"),
                   (EISDIR, "fd is a directory"), (EAGAIN, "an empty pipe whose writer is open"),
                   (ENXIO, "a device node without its device"), _E_HOST)),
    Sysent(4, "write", (_FD, Arg("buf", BUF_IN, length_arg="nbyte", py="data",
                                 doc="the bytes to write (any bytes-like object)"),
                        Arg("nbyte", SIZE_T)),
           sys_generic.write, returns=Result.RETVAL, returns_doc="the number of bytes written",
           rules=("FD-1",),
           doc="Write to the descriptor at its file offset (at the end with O_APPEND), advancing it.",
           raises=(_E_BADF, (EBADF, "fd is not open for writing, or its vnode was revoked"),
                   (EISDIR, "fd is a directory"), (EPIPE, "the pipe's read end is closed"),
                   (EPERM, "an append-only file written elsewhere than at its end"),
                   (EROFS, "a read-only file system"), (EFAULT, "the buffer is not readable user "
                                                                "memory (a CPU's call)"), _E_HOST)),
    Sysent(5, "open", (_PATHA, Arg("flags", INT, default=0, from_host=vfs_syscalls.oflags_from_host,
                                   doc="os.O_* flags, the host's values (O_RDONLY, O_RDWR, O_CREAT, "
                                       "...); the kernel takes FreeBSD's, translated from them"),
                       Arg("mode", INT, default=0o666, doc="the permission bits of a created file")),
           vfs_syscalls.open, returns=Result.RETVAL, returns_doc="the new descriptor (the lowest free)",
           rules=("FD-2",),
           doc="Open (with O_CREAT: create) a file; files created carry the caller's uid and gid.",
           raises=_E_PATH + ((EINVAL, "the access mode is O_ACCMODE"),
                             (EEXIST, "O_CREAT | O_EXCL and the file exists"),
                             (EISDIR, "a directory opened for writing"),
                             (EACCES, "the file's mode denies the access"),
                             (EPERM, "writing an immutable or append-only (without O_APPEND) file"),
                             (EROFS, "writing on a read-only file system"),
                             (ENXIO, "a device node without its device"),
                             (EMFILE, "the descriptor table is full (RLIMIT_NOFILE)"), _E_HOST)),
    Sysent(6, "close", (_FD,), descrip.close, rules=("FD-1",),
           doc="Close the descriptor; its file is released when no descriptor or mapping holds it.",
           raises=(_E_BADF,)),
    Sysent(10, "unlink", (_PATHA,), vfs_syscalls.unlink,
           doc="Remove a directory entry (an open or mapped file's bytes stay until released).",
           raises=_E_PATH + ((EPERM, "a directory, or an immutable/append-only/no-unlink file"),
                             (EACCES, "the directory is not writable (or sticky and not yours)"),
                             (EROFS, "a read-only file system"), _E_HOST)),
    Sysent(15, "chmod", (_PATHA, Arg("mode", INT, doc="the permission bits")), vfs_syscalls.chmod,
           doc="Change a file's permission bits.",
           raises=_E_PATH + ((EPERM, "not the owner and not privileged, an immutable or append-only "
                                     "file, or setgid for a group the caller is not in"),
                             (EROFS, "a read-only file system"))),
    # syscalls.master says int; the ids are uid_t/gid_t to the kernel (VNOVAL is (uid_t)-1), so
    # they are converted as such: -1 and 0xffffffff both leave the id as it is
    Sysent(16, "chown", (_PATHA, Arg("uid", UID_T, doc="the new owner, -1 to keep"),
                         Arg("gid", GID_T, doc="the new group, -1 to keep")), vfs_syscalls.chown,
           doc="Change a file's owner and group (set-id bits are cleared for the unprivileged).",
           raises=_E_PATH + ((EPERM, "giving the file away or choosing a group the caller is not "
                                     "in without privilege, or an immutable/append-only file"),
                             (EROFS, "a read-only file system"))),
    Sysent(34, "chflags", (_PATHA, Arg("flags", INT, doc="UF_* and (privileged) SF_* file flags")),
           vfs_syscalls.chflags,
           doc="Set a file's flags (UF_IMMUTABLE, UF_APPEND, SF_IMMUTABLE, SF_SNAPSHOT, ...).",
           raises=_E_PATH + ((EINVAL, "negative flags"),
                             (EPERM, "not the owner, or SF_* flags (or a file with SF_* flags set) "
                                     "without privilege"),
                             (EROFS, "a read-only file system"))),
    Sysent(41, "dup", (Arg("fd", UFD, doc="an open descriptor"),), descrip.dup,
           returns=Result.RETVAL, returns_doc="the new descriptor (the lowest free)",
           doc="A second descriptor for fd's file.",
           raises=(_E_BADF, (EMFILE, "the descriptor table is full"))),
    Sysent(42, "pipe", (), sys_pipe.pipe, returns=Result.RETVAL_PAIR,
           returns_doc="(read end, write end)",
           doc="A pipe: bytes written to the write end are read from the read end (never blocks: "
               "an empty pipe reads EAGAIN while its writer is open, end of file after).",
           raises=((EMFILE, "the descriptor table is full"),)),
    Sysent(56, "revoke", (_PATHA,), vfs_syscalls.revoke,
           doc="Revoke access to a file (FreeBSD 7 takes only character devices; the model takes any "
               "vnode): its open descriptors fail with EBADF from now on and it can no longer be "
               "mapped (ENOENT from mmap); a new open gets a new vnode.",
           raises=_E_PATH + ((EPERM, "not the owner and not privileged"),)),
    Sysent(57, "symlink", (Arg("path", PATH, py="target", doc="the link's contents"),
                           Arg("link", PATH, py="path", doc="the name of the new link")),
           vfs_syscalls.symlink, doc="Create a symbolic link `path` pointing to `target`.",
           raises=_E_PATH + ((EEXIST, "path exists"), (EROFS, "a read-only file system"),
                             _E_HOST)),
    Sysent(90, "dup2", (Arg("from_", UFD, py="fd", doc="an open descriptor"),
                        Arg("to", UFD, py="fd2", doc="the descriptor to (re)use")), descrip.dup2,
           returns=Result.RETVAL, returns_doc="fd2",
           doc="Make fd2 refer to fd's file, closing what fd2 referred to.",
           raises=((EBADF, "fd is not open, or fd2 is beyond the descriptor limit"),)),
    Sysent(92, "fcntl", (_FD, Arg("cmd", INT, doc="F_DUPFD (0), F_GETFL (3) or F_SETFL (4)"),
                         Arg("arg", LONG, default=0, doc="the command's argument")),
           descrip.fcntl, returns=Result.RETVAL,
           returns_doc="F_DUPFD: the new descriptor; F_GETFL: the status flags; F_SETFL: 0",
           rules=("FD-2",),
           doc="Descriptor control: duplicate (F_DUPFD), read (F_GETFL) or set (F_SETFL: "
               "O_NONBLOCK, O_APPEND, O_ASYNC and 7.x libc's FPOSIXSHM, in FreeBSD's values) the "
               "status flags.",
           raises=(_E_BADF, (EINVAL, "another command, or F_DUPFD's minimum beyond the limit"),
                   (EMFILE, "F_DUPFD with no free descriptor"))),
    Sysent(136, "mkdir", (_PATHA, Arg("mode", INT, default=0o777, doc="the permission bits")),
           vfs_syscalls.mkdir, doc="Create a directory owned by the caller.",
           raises=_E_PATH + ((EEXIST, "path exists"), (EROFS, "a read-only file system"),
                             _E_HOST)),
    Sysent(188, "stat", (_PATHA, Arg("ub", STAT_OUT)), vfs_syscalls.stat,
           returns=Result.STRUCT_OUT, returns_type="SimpleNamespace",
           returns_doc="an os.stat_result-like object: st_mode, st_ino, st_dev, st_nlink, st_uid, "
                       "st_gid, st_size, st_atime, st_mtime, st_ctime, st_flags, st_blksize, "
                       "st_blocks, st_rdev",
           doc="A file's attributes (following symbolic links).",
           raises=_E_PATH + (_E_HOST,)),
    Sysent(189, "fstat", (_FD, Arg("sb", STAT_OUT)), descrip.fstat,
           returns=Result.STRUCT_OUT, returns_type="SimpleNamespace",
           returns_doc="an os.stat_result-like object (see stat); a pipe is a FIFO owned by the "
                       "caller whose st_size is the bytes waiting",
           doc="The attributes of an open descriptor's file.", raises=(_E_BADF, _E_HOST)),
    Sysent(475, "pread", (_FD, Arg("buf", BUF_OUT, length_arg="nbyte"),
                          Arg("nbyte", SIZE_T, py="n", doc="the most bytes to read"),
                          Arg("offset", OFF_T, doc="the file offset to read at")),
           sys_generic.pread, returns=Result.UIO_OUT, returns_doc="the bytes read",
           doc="Read at a given offset (the descriptor's offset is unchanged).",
           raises=((EINVAL, "nbyte larger than INT_MAX, or a negative offset"), _E_BADF,
                   (EBADF, "fd is not open for reading"), (ESPIPE, "fd is a pipe"),
                   (EISDIR, "fd is a directory"), _E_HOST)),
    Sysent(476, "pwrite", (_FD, Arg("buf", BUF_IN, length_arg="nbyte", py="data",
                                    doc="the bytes to write (any bytes-like object)"),
                           Arg("nbyte", SIZE_T), Arg("offset", OFF_T, doc="the file offset")),
           sys_generic.pwrite, returns=Result.RETVAL, returns_doc="the number of bytes written",
           doc="Write at a given offset (the descriptor's offset is unchanged; O_APPEND still "
               "appends).",
           raises=((EINVAL, "a negative offset"), _E_BADF, (EBADF, "fd is not open for writing"),
                   (ESPIPE, "fd is a pipe"), (EPERM, "an append-only file written elsewhere than "
                                                    "at its end"),
                   (EROFS, "a read-only file system"), _E_HOST)),
    Sysent(478, "lseek", (_FD, Arg("offset", OFF_T, doc="the offset"),
                          Arg("whence", INT, default=0, doc="SEEK_SET (default), SEEK_CUR or SEEK_END")),
           vfs_syscalls.lseek, returns=Result.RETVAL, returns_doc="the new file offset",
           doc="Set the descriptor's file offset.",
           raises=(_E_BADF, (ESPIPE, "fd is a pipe"),
                   (EINVAL, "an unknown whence, or a resulting offset below 0"))),
    Sysent(480, "ftruncate", (_FD, Arg("length", OFF_T, py="size", doc="the new size in bytes")),
           vfs_syscalls.ftruncate,
           doc="Set the size of an open file (pages past the new end leave every mapping).",
           raises=((EINVAL, "a negative size, fd not open for writing, or not a file"), _E_BADF,
                   (EISDIR, "a directory"), (EPERM, "an immutable or append-only file"),
                   (EROFS, "a read-only file system"), _E_HOST)),
]

# Numbers the model knows by name but does not serve (ENOSYS), for statistics and error messages.
_NOSYS = {1: "exit", 2: "fork", 7: "wait4", 12: "chdir", 20: "getpid", 33: "access",
          54: "ioctl", 58: "readlink", 59: "execve", 66: "vfork", 190: "lstat",
          194: "getrlimit", 195: "setrlimit", 479: "truncate"}

freebsd_sysent = SysentTable("freebsd", _SEED + _FILES, nosys=_NOSYS)
