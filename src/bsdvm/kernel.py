"""Kernel: boots the modelled system — physical memory, swap, the VFS and devices, sysctl, hooks —
and owns the process table.

Invariants: every Process method runs under `giant`; when every process has exited and close() ran,
every page frame but the kernel's own is free, no VM object is left and no swap block is in use.
May call: everything below it.
"""
from __future__ import annotations

import errno as errno_mod
import os
import shutil
import tempfile
import time
import weakref
from typing import Any

from . import arch as arch_mod
from .kern import devices, vfs
from .kern.fail import FailPoints
from .kern.hooks import Hooks
from .kern.lock import mtx
from .kern.priv import PrivPolicy, Ucred
from .kern.proc import Proc, default_limits, exec_image, new_vmspace, proc_exit, proc_fork
from .kern.sysctl import Sysctl
from .kern.sysent import GID_T, UID_T
from .kern.descrip import FileDesc
from .vm.mmap import vmmapentry_rsrc_init
from .vm.page import PhysMem
from .vm.pager import Pagers, SwapSpace
from .vm.vm_system import VmSystem, VmTunables
from .vm.param import PAGE_SIZE, VM_PROT_ALL


def _cleanup(swap, own_root, host_fds) -> None:
    """What a kernel gives back even if it is dropped without close(): the host descriptors of the
    files its vnodes hold open, the swap file and its own temporary root.  Holds no reference to
    the kernel (weakref.finalize would keep it alive)."""
    while host_fds:
        try:
            os.close(host_fds.pop())
        except OSError:
            pass
    if swap is not None:
        swap.close()
    if own_root is not None:
        shutil.rmtree(own_root, ignore_errors=True)


class _VfsVnodeOps:
    """The vnode operations the VM system calls, done by the VFS (vm_system.VnodeOps)."""

    def vref(self, vp: vfs.Vnode) -> None:
        vfs.vref(vp)

    def vrele(self, vp: vfs.Vnode) -> None:
        vfs.vrele(vp)

    def fsync(self, vp: vfs.Vnode) -> None:
        vp.host_fsync()


def _int_arg(name: str, value, lo: int, hi: int | None = None) -> int:
    """A constructor argument that must be an integer in [lo, hi]: TypeError or ValueError."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    if value < lo or (hi is not None and value > hi):
        raise ValueError(f"{name}={value} is out of range [{lo}, {'inf' if hi is None else hi}]")
    return value


# sysctl -d descriptions of the vm.stats.vm counters (what each counts in this model)
VM_STATS_DESCRIPTIONS = {
    "v_vm_faults": "address memory faults", "v_cow_faults": "copy-on-write faults",
    "v_cow_optim": "optimized copy-on-write faults (the page moved, not copied)",
    "v_zfod": "pages zero-filled on demand", "v_ozfod": "optimized zero-fill pages",
    "v_swapin": "swap pager pageins", "v_swapout": "swap pager pageouts",
    "v_swappgsin": "swap pages swapped in", "v_swappgsout": "swap pages swapped out",
    "v_vnodein": "vnode pager pageins", "v_vnodeout": "vnode pager pageouts",
    "v_vnodepgsin": "vnode pages paged in", "v_vnodepgsout": "vnode pages paged out",
    "v_intrans": "in-transit page blocking", "v_reactivated": "pages reactivated from the inactive queue",
    "v_pdwakeups": "page daemon wakeups", "v_pdpages": "pages examined by the page daemon",
    "v_tcached": "total pages cached", "v_dfree": "pages freed by the page daemon",
    "v_pfree": "pages freed by exiting processes", "v_tfree": "total pages freed",
    "v_forks": "fork() calls", "v_forkpages": "VM pages affected by fork()",
    "v_kthreads": "kernel threads created", "v_prefault": "pages entered at map time (prefault)",
    "v_page_size": "page size in bytes", "v_page_count": "total number of pages in the system",
    "v_free_count": "free pages", "v_wire_count": "wired pages", "v_active_count": "active pages",
    "v_inactive_count": "inactive pages", "v_cache_count": "pages in the cache queue",
}

# the smallest physical memory the model boots with (the page daemon's and the kernel's reserves)
MIN_PHYSMEM = 256 * 1024


def compute_vm_kmem_size(a: arch_mod.Arch, physpages: int) -> int:
    """PAGE-8, with FreeBSD 7's maxusers/nmbclusters autosizing."""
    maxusers = max(32, min(384, physpages // (2 * 1024 * 1024 // PAGE_SIZE)))
    nmbclusters = 1024 + maxusers * 64
    size = a.vm_kmem_size + nmbclusters * PAGE_SIZE
    scaled = (physpages // a.vm_kmem_size_scale) * PAGE_SIZE
    if scaled > size:
        size = scaled
    if size > a.vm_kmem_size_max:
        size = a.vm_kmem_size_max
    if size > 2 * physpages * PAGE_SIZE:
        size = 2 * physpages * PAGE_SIZE
    return size


def _tunable(name: str, doc: str) -> property:
    """A Kernel attribute that reads and writes the VM system's tunable `name` (its one owner)."""
    def get(self: "Kernel") -> int:
        return getattr(self.vm.tunables, name)

    def set_(self: "Kernel", value: int) -> None:
        setattr(self.vm.tunables, name, value)
    return property(get, set_, doc=doc)


class Kernel:
    """A booted model of a FreeBSD 7 system: physical memory, swap, pagers, the page daemon, the
    VFS with devices and mounts, sysctl, MAC/hwpmc hooks, fail points and the process table.

    Args:
        arch: "amd64" (default) or "i386": the machine profile (word size, user address space,
            maxdsiz/maxssiz, READ_IS_EXEC).
        physmem, swap: sizes ("256M", "1G" or bytes) of physical memory and of the swap file.
        root: the host directory behind the model's "/" (default: a fresh temporary directory,
            removed by close()).
        kernel_wired_pages: pages the kernel itself holds wired; swap_path: where the sparse swap
            file lives; max_wired: vm.max_wired; pagedaemon: False to run without one.
        host_root, rw: the VFS shows the host's / read-only, each host directory of `rw` writable
            at its own path (`bsdvm exec`'s view).

    Use as a context manager (or call close()): every process exits, dirty file pages are written
    back and temporary files removed.  `spawn()` makes processes; every method is thread-safe
    (one kernel lock, `giant`).
    """

    vm_kmem_size = _tunable("vm_kmem_size", "vm.kmem_size: size of the kernel map")
    max_proc_mmap = _tunable("max_proc_mmap", "vm.max_proc_mmap: max entries per map")
    vm_page_max_wired = _tunable("vm_page_max_wired", "vm.max_wired: system-wide wired limit")
    sgrowsiz = _tunable("sgrowsiz", "kern.sgrowsiz: bytes a stack grows by at a time")
    old_msync = _tunable("old_msync", "vm.old_msync: pre-4.0 msync(MS_INVALIDATE)")
    sv_stackprot = _tunable("sv_stackprot", "the protection of a new stack")

    def __init__(self, arch: str = "amd64", physmem="256M", swap="512M", root: str | None = None,
                 kernel_wired_pages: int | None = None, swap_path: str | None = None,
                 max_wired: int | None = None, pagedaemon: bool = True, host_root: bool = False,
                 rw: tuple[str, ...] | list[str] = ()):
        """Boot a model system.

        Every argument is checked before anything is created on the host: a bad value raises
        TypeError or ValueError (NotADirectoryError for a `root` that is not a directory,
        FileExistsError for a `swap_path` that exists), and a failure part-way through boot gives
        back the swap file and temporary directories it had made.

        host_root: the VFS shows the host's / read-only (`bsdvm exec`'s view; `root` must then be
        None or "/"), with each host directory of `rw` writable at its own path.
        """
        # -- validate everything first: nothing on the host exists yet --------------------------
        arch_profile = arch_mod.get(arch)
        if host_root:
            if root not in (None, "/"):
                raise ValueError("host_root shows the host's / itself: give no other root")
            root = "/"
        rw = [os.path.realpath(os.fspath(d)) for d in rw]
        for d in rw:
            if not os.path.isdir(d):
                raise NotADirectoryError(errno_mod.ENOTDIR, "an rw directory is not a directory", d)
        npages = arch_mod.parse_size(physmem) // PAGE_SIZE
        if npages < MIN_PHYSMEM // PAGE_SIZE:
            raise ValueError("physmem must be at least 256 KiB")
        swap_bytes = arch_mod.parse_size(swap)
        if kernel_wired_pages is None:
            kernel_wired_pages = min(4096, npages // 16)
        # the kernel must leave at least the page daemon's reserve to user processes
        kernel_wired_pages = _int_arg("kernel_wired_pages", kernel_wired_pages, 0, npages - 16)
        if max_wired is not None:
            max_wired = _int_arg("max_wired", max_wired, 0)
        if not isinstance(pagedaemon, bool):
            raise TypeError("pagedaemon must be a bool")
        if root is not None:
            root = os.fspath(root)
            if not isinstance(root, str) or root == "":
                raise ValueError("root must name a directory (an empty path is refused)")
            if not os.path.isdir(root):
                raise NotADirectoryError(errno_mod.ENOTDIR, "root is not a directory", root)
        if swap_path is not None:
            swap_path = os.fspath(swap_path)
            if not isinstance(swap_path, str) or swap_path == "":
                raise ValueError("swap_path must name a file to create")

        self.giant = mtx("giant", recursive=True)
        self.boottime = time.monotonic()
        self.arch = arch_profile
        self.phys = PhysMem(npages, kernel_wired_pages)
        self.phys.on_frame_reuse = self._frame_reused
        self._own_root = None
        self._host_fds: set[int] = set()
        self.fail = FailPoints()
        swap_space: SwapSpace | None = None
        try:
            swap_space = SwapSpace(swap_bytes, swap_path, self.fail)
            self.swap = swap_space
            if root is None:
                root = self._own_root = tempfile.mkdtemp(prefix="bsdvm-root-")
            self._boot(root, npages, max_wired, pagedaemon, host_root, rw)
        except BaseException:
            _cleanup(swap_space, self._own_root, self._host_fds)
            raise
        # a kernel dropped without close() still gives back its host files and descriptors
        self._finalizer = weakref.finalize(self, _cleanup, self.swap, self._own_root,
                                           self._host_fds)

    def _boot(self, root: str, npages: int, max_wired: int | None, pagedaemon: bool,
              host_root: bool = False, rw: list[str] | None = None) -> None:
        # The VM system first, from what it owns (memory, swap, fail points, tunables); the kernel
        # then attaches the services it needs from above (vnode ops, the OOM kill callback).
        vm_kmem_size = compute_vm_kmem_size(self.arch, npages)
        tunables = VmTunables(
            vm_kmem_size=vm_kmem_size,
            max_proc_mmap=vmmapentry_rsrc_init(vm_kmem_size, self.arch.sizeof_vm_map_entry),
            # PAGE-5: a third of the pages free when the page daemon starts
            vm_page_max_wired=self.phys.free_count // 3 if max_wired is None else max_wired,
            sgrowsiz=self.arch.sgrowsiz, old_msync=0, sv_stackprot=VM_PROT_ALL)
        self.vm = VmSystem(self.arch, self.phys, self.swap, self.fail, tunables)
        self.vm.attach_pagers(Pagers(self.vm))
        self.hooks = Hooks()
        self.prot_fault_translation = 0
        # security.bsd.suser_enabled has one owner, the privilege policy the VFS shares
        self.priv_policy = PrivPolicy(self.hooks)
        self.root = os.path.abspath(root)
        self.devices = {"zero": devices.make_zero(), "null": devices.make_null()}
        self.vfs = vfs.VFS(self.root, self.devices, self.fail, self.pager, host_fds=self._host_fds,
                           priv_policy=self.priv_policy, rdonly=host_root)
        self.vm.attach_vnode_ops(_VfsVnodeOps())
        for d in rw or ():
            err = self.vfs.mount(d, d, hostattrs=True)
            if err:
                raise OSError(err, os.strerror(err), d)
        self.procs: dict[int, Proc] = {}
        self._next_pid = 100
        # running programs (kern_exec, amd64): zombies, exit statuses, frames executed by CPUs
        self.zombies: dict[int, Proc] = {}
        self.exit_status: dict[int, int] = {}
        self.exec_frames: dict[int, set] = {}
        self.exec_cpu_time = 0.0
        self.exec_tlb_fills = 0
        self.exec_first_pid: int | None = None
        self.exec_keep_maps = False     # keep each exiting program's maps (bsdvm exec --report)
        self.need_resched = False
        self.exec_stats = None
        self._closed = False
        self.vm.attach_oom(self.procs.values, self.exit_proc)
        if pagedaemon:
            from .vm.pageout import PageDaemon
            self.vm.attach_pagedaemon(PageDaemon(self.vm))
        self.sysctl_tree = Sysctl()
        self._register_sysctls()

    # -- the VM system's parts, as the kernel's inspection and tests name them -------------------
    @property
    def pager(self) -> Pagers:
        """The pager table of the VM system."""
        return self.vm.pager

    @property
    def pagedaemon(self):
        """The page daemon, or None when the kernel booted without one."""
        return self.vm.pagedaemon

    @property
    def objects(self) -> dict:
        """Every live VM object, by id (the VM system's registry)."""
        return self.vm.objects

    @property
    def stats(self) -> dict:
        """The VM system's object collapse/bypass counters."""
        return self.vm.stats

    @property
    def suser_enabled(self) -> bool:
        """security.bsd.suser_enabled: uid 0 has privilege (owned by the privilege policy)."""
        return self.priv_policy.suser_enabled

    @suser_enabled.setter
    def suser_enabled(self, value: bool) -> None:
        self.priv_policy.suser_enabled = bool(value)

    # -- sysctl --------------------------------------------------------------------------------
    def _register_sysctls(self) -> None:
        s = self.sysctl_tree

        def attr(name: str) -> tuple[Any, Any]:
            def get() -> Any:
                return getattr(self, name)

            def set_(v: Any) -> None:
                setattr(self, name, v)
            return get, set_

        s.register("vm.max_proc_mmap", *attr("max_proc_mmap"),
                   description="max entries per map (mmap fails with ENOMEM at this many)")
        s.register("vm.max_wired", *attr("vm_page_max_wired"),
                   description="system-wide limit on wired pages (vm_page_max_wired)")
        s.register("vm.old_msync", *attr("old_msync"),
                   description="use the old (pre-4.0) msync behaviour, invalidating on MS_INVALIDATE")
        s.register("vm.kmem_size", lambda: self.vm_kmem_size, description="size of the kernel memory map")
        s.register("kern.sgrowsiz", *attr("sgrowsiz"), description="amount a stack grows by at a time")
        s.register("machdep.prot_fault_translation", *attr("prot_fault_translation"),
                   description="signal for a protection fault: 0 by binary age, 1 SIGBUS, 2 SIGSEGV")
        def set_suser(v):
            self.suser_enabled = bool(v)
        s.register("security.bsd.suser_enabled", lambda: int(self.suser_enabled), set_suser,
                   description="processes with uid 0 have privilege")
        s.register("hw.pagesize", lambda: PAGE_SIZE, description="system memory page size")
        s.register("hw.physmem", lambda: self.phys.npages * PAGE_SIZE, description="physical memory")
        s.register("vm.swap_total", lambda: self.swap.nblocks * PAGE_SIZE,
                   description="total swap space, in bytes")
        s.register("vm.swap_reserved", lambda: self.swap.used * PAGE_SIZE,
                   description="swap space in use, in bytes")
        s.register("vm.stats.vm.v_swap_used", lambda: self.swap.used,
                   description="swap blocks (pages) in use")
        for name in self.phys.stats():
            s.register("vm.stats.vm." + name, (lambda n=name: self.phys.stats()[n]),
                       description=VM_STATS_DESCRIPTIONS.get(name, ""))

    def sysctl(self, name: str, value=None):
        """Read sysctl `name` (value None) or set it to `value` (returns None).

        Raises OSError ENOENT for an unknown name, EPERM for a read-only one, EINVAL for a value
        of the wrong type.
        """
        with self.giant:
            if value is None:
                err, v = self.sysctl_tree.get(name)
                if err:
                    raise OSError(err, os.strerror(err), name)
                return v
            err = self.sysctl_tree.set(name, value)
            if err:
                raise OSError(err, os.strerror(err), name)
            return None

    # -- processes -----------------------------------------------------------------------------
    def _alloc_pid(self) -> int:
        pid = self._next_pid
        self._next_pid += 1
        return pid

    def spawn(self, uid: int = 0, gid: int = 0, groups=(), jail: str | None = None,
              osrel: int = 700055, text_pages: int = 16, data_pages: int = 16):
        """A new process running a fresh exec image: text (r-x), data (rw-) and the grow-down main
        stack reservation under USRSTACK.

        Args:
            uid, gid, groups: its credential (uid_t/gid_t: -1 is 0xffffffff; uid 0 is root).
            jail: a prison name (jailed root lacks some privileges); osrel: the binary's
                __FreeBSD_version (below 700004 a protection fault is SIGBUS).
            text_pages, data_pages: the image's segment sizes in pages.

        Returns the Process.  Raises OSError EINVAL for an id that fits no uid_t/gid_t, ENOMEM when
        the image does not fit, TypeError for a non-integer id, RuntimeError after close().
        """
        from .process import Process
        with self.giant:
            self._check_open()
            # uid_t and gid_t are 32-bit unsigned: a non-integer is a TypeError, -1 is 0xffffffff,
            # and 2**32 is refused (EINVAL) rather than truncated to uid 0
            uid = UID_T.from_python(uid, self.arch)
            gid = GID_T.from_python(gid, self.arch)
            groups = tuple(GID_T.from_python(g, self.arch) for g in groups)
            cred = Ucred.for_user(uid, gid, groups, jail)
            vms = new_vmspace(self)
            p = Proc(self, self._alloc_pid(), cred, default_limits(self), vms, FileDesc(), osrel)
            err = exec_image(p, text_pages, data_pages)
            if err:
                proc_exit(p)
                raise OSError(err, "exec image does not fit")
            self.procs[p.p_pid] = p
            return Process(self, p)

    def fork_proc(self, parent: Proc) -> tuple[int, Proc | None]:
        """fork1's process half: (0, child) with a copy of `parent`'s address space, entered in
        the process table; (ENOMEM, None) when the address space cannot be copied."""
        err, child = proc_fork(parent, self._alloc_pid())
        if child is not None:
            self.procs[child.p_pid] = child
        return err, child

    def exit_proc(self, p: Proc) -> None:
        """exit1: tear `p` down and take it out of the process table (also the OOM kill)."""
        if p.p_vmspace is None:
            return
        if p.p_cpu is not None:
            # a process running a program dies as by SIGKILL (the OOM killer, close())
            import signal
            from .kern.kern_exit import W_SIGNALED, exit1
            exit1(p, W_SIGNALED(signal.SIGKILL))
            return
        try:
            proc_exit(p)
        finally:
            # never a half-exited process: whatever happened, it leaves the process table
            self.procs.pop(p.p_pid, None)

    def _frame_reused(self, paddr: int) -> None:
        """PhysMem reuses a frame: CPUs that executed code from it must drop their translations."""
        for cpu in self.exec_frames.pop(paddr, ()):
            cpu.exec_frames.discard(paddr)
            cpu.code_changed()

    def exec_note_fault(self) -> None:
        """Count one page fault taken by a running program in `exec_stats` (when collecting)."""
        if self.exec_stats is not None:
            self.exec_stats.note_fault()

    def exec_note_syscall(self, name: str, err: int) -> None:
        """Count one system call `name` that returned errno `err` (0: success) in `exec_stats`
        (when collecting)."""
        if self.exec_stats is not None:
            self.exec_stats.note_syscall(name, err)

    def run(self, on_slice=None) -> int | None:
        """Run every process that executes a program until all have exited (kern/sched_run.py).
        Returns the first program's exit status as a shell reports it (0-255, or 128+N when signal
        N killed it); `Process.wait_status` has the wait(2) status word.
        `on_slice(kernel)`, if given, is called after every time slice with the processes
        inspectable (`processes()`, `maps()`, `procstat()`...); when it returns True the run
        pauses and returns None (call run() again to go on).  Needs the `unicorn` module."""
        from .kern.sched_run import run
        return run(self, on_slice)

    def processes(self):
        """The live processes, as Process objects."""
        from .process import Process
        with self.giant:
            return [Process(self, p) for p in self.procs.values()]

    # -- devices, mounts, policies -------------------------------------------------------------
    def make_dev(self, name: str, size, mode: int = 0o666):
        """Create /dev/<name>: a memory-backed character device of `size` bytes whose d_mmap maps
        its pages (OBJT_DEVICE).  Raises OSError EEXIST if the name is taken."""
        with self.giant:
            nbytes = arch_mod.parse_size(size)
            dev = devices.make_mem_dev(name, nbytes, mode)
            err = self.vfs.add_device(dev)      # publishes it in the shared devices dict too
            if err:
                raise OSError(err, os.strerror(err), "/dev/" + name)
            return dev

    def mount(self, path: str, host_dir: str, noexec: bool = False, rdonly: bool = False,
              noatime: bool = False) -> None:
        """Mount host directory `host_dir` on model directory `path` (MNT_NOEXEC, MNT_RDONLY,
        MNT_NOATIME as asked).  Raises OSError (ENOENT, ENOTDIR, EBUSY) when it cannot."""
        with self.giant:
            err = self.vfs.mount(path, host_dir, noexec=noexec, rdonly=rdonly, noatime=noatime)
            if err:
                raise OSError(err, os.strerror(err), path)

    def mount_nullfs(self, path: str, lower: str, noexec: bool = False) -> None:
        """Mount the model directory `lower` again on `path` through nullfs (stacked vnodes,
        VFS-4).  Raises OSError when it cannot."""
        with self.giant:
            err = self.vfs.mount_nullfs(path, lower, noexec=noexec)
            if err:
                raise OSError(err, os.strerror(err), path)

    def mount_pseudofs(self, path: str, files: dict) -> None:
        """Mount a read-only pseudofs on `path` holding `files` (name -> bytes): regular files
        without VM objects (MMV-1's EINVAL).  Raises OSError when it cannot, TypeError when
        `files` is no dict."""
        if not isinstance(files, dict):
            raise TypeError(f"files must be a dict of name -> bytes, not {type(files).__name__}")
        with self.giant:
            err = self.vfs.mount_pseudofs(path, files)
            if err:
                raise OSError(err, os.strerror(err), path)

    def add_mac_policy(self, policy) -> None:
        """Add a MAC policy: its check_vnode_mmap(cred, vp, prot, flags), if any, may deny an mmap
        with a nonzero errno."""
        self.hooks.add_mac_policy(policy)

    def remove_mac_policy(self, policy) -> None:
        """Remove a MAC policy added with add_mac_policy."""
        self.hooks.remove_mac_policy(policy)

    def on_pmc(self, callback) -> None:
        """Call callback(event, **info) for hwpmc's "mmap" (executable vnode mappings) and "munmap"
        (ranges holding executable entries) events.  TypeError for a non-callable."""
        self.hooks.on_pmc(callback)

    # -- inspection ----------------------------------------------------------------------------
    def vmstat(self) -> dict:
        """The VM counters, named as in sysctl vm.stats.vm (v_vm_faults, v_cow_faults, v_zfod,
        v_swapin, v_swapout, v_vnodein, v_vnodeout, v_wire_count, v_free_count, ...), plus swap
        use, the object count and collapse/bypass statistics."""
        with self.giant:
            d = self.phys.stats()
            d["v_swap_total"] = self.swap.nblocks
            d["v_swap_used"] = self.swap.used
            d["object_count"] = len(self.objects)
            d.update(self.stats)
            return d

    def check_invariants(self) -> None:
        """Assert the global accounting invariants (for tests and debugging)."""
        from .vm.invariants import check_kernel
        with self.giant:
            check_kernel(self)

    # -- shutdown ------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("kernel is closed")

    def sync(self) -> None:
        """sync(2), or what the syncer does every few seconds: write every dirty shared file page
        back to its host file and reclaim the unreferenced vnodes whose earlier write-back failed.
        Raises OSError (EIO, ENOSPC, ...) when some dirty data still cannot be written; it stays
        dirty in memory for the next try."""
        from .vm.object import vm_object_page_clean
        from .vm.param import OBJ_MIGHTBEDIRTY, OBJPC_SYNC, OBJT_VNODE
        with self.giant:
            self._check_open()
            err = 0
            for obj in list(self.objects.values()):
                if obj.type == OBJT_VNODE and obj.flags & OBJ_MIGHTBEDIRTY:
                    err = vm_object_page_clean(obj, 0, 0, OBJPC_SYNC) or err
            err = err or self.vfs.sync()
            if err:
                raise OSError(err, os.strerror(err), "sync: dirty pages could not be written back")

    def close(self) -> None:
        """Exit every process, write dirty file pages back, close every host file and remove the
        swap file.  The kernel is closed afterwards even if the write-back failed; that failure
        is then raised as OSError (the unwritten data is lost, and the caller should know)."""
        with self.giant:
            if self._closed:
                return
            err = 0
            try:
                for p in list(self.procs.values()):
                    self.exit_proc(p)
                try:
                    self.sync()
                except OSError as e:
                    err = e.errno or errno_mod.EIO
            finally:
                self.vfs.close()
                self._closed = True
                self._finalizer()
            if err:
                raise OSError(err, os.strerror(err), "close: dirty pages were lost")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
