"""bsdvm exec, priority 1: a static glibc program runs on the model byte-identical to native with
the right exit status; its page faults go through vm_fault and its TLB fills come from the pmap;
afterwards the kernel's invariants hold and every frame is free."""
from __future__ import annotations

import os

import executil
from executil import build, run_guest, run_native


def test_static_hello_prints_what_it_prints_natively_and_exits_3():
    prog = build("hello", static=True)
    argv = [prog, "one", "two words"]
    env = {"BSDVM_TEST": "value=with=equals", "PATH": "/usr/bin:/bin"}
    r = run_guest(argv, env=env)
    n = run_native(argv, env=env)
    assert r.stdout == n.stdout
    assert r.exit_code == n.returncode == 3


def test_static_program_faults_through_vm_fault_and_fills_tlb_from_pmap():
    prog = build("hello", static=True)
    r = run_guest([prog])
    k = r.kernel
    assert r.stats.faults > 10
    assert k.phys.counters["v_zfod"] > 0            # bss/heap/stack demand-zero faults
    assert k.phys.counters["v_vm_faults"] >= r.stats.faults
    assert k.exec_tlb_fills >= r.stats.faults      # every fault was a fill first
    assert r.stats.calls["exit_group"] == 1
    assert r.stats.calls["write"] >= 1


def test_every_fill_is_answered_from_the_pmap_with_the_modified_bit_on_first_store():
    """The fill hook gives write permission only to a page already modified or being written: a
    read fill of a writable page leaves the store to come back (the x86 D bit)."""
    from bsdvm.amd64 import cpu as cpumod
    from bsdvm.vm.pmap import pmap_pte
    seen: list[tuple[int, int, int]] = []
    orig = cpumod.Cpu._tlb_fill

    def spy(self, uc, vaddr, access, entry, data):
        ok = orig(self, uc, vaddr, access, entry, data)
        if ok and self.scratch_page is None:
            pte = pmap_pte(self.pmap, vaddr)
            assert entry.paddr == pte.page.phys_addr
            seen.append((access, entry.perms, int(pte.mod)))
        return ok
    cpumod.Cpu._tlb_fill = spy
    try:
        run_guest([build("hello", static=True)])
    finally:
        cpumod.Cpu._tlb_fill = orig
    assert seen
    for access, perms, mod in seen:
        if perms & 2:                               # UC_PROT_WRITE
            assert mod
        if access == 17:                            # a write fill sets M
            assert mod and perms & 2


def test_exec_of_a_missing_file_is_enoent_and_leaves_the_kernel_clean(tmp_path):
    from bsdvm import Kernel
    k = Kernel(physmem="32M", swap="32M", host_root=True)
    p = k.spawn(uid=os.getuid())
    try:
        try:
            p.execve(str(tmp_path / "nope"), ["nope"])
            raise AssertionError("execve succeeded")
        except OSError as e:
            assert e.errno == 2
        assert p.alive
    finally:
        k.close()
    assert k.phys.free_count == k.phys.npages - k.phys.kernel_wired


assert executil


def test_processes_can_be_inspected_during_and_after_the_run():
    from bsdvm import Kernel
    from bsdvm.kern.host_stdio import attach_stdio
    prog = build("fork_mem")
    k = Kernel(physmem="64M", swap="64M", host_root=True)
    k.exec_keep_maps = True
    seen = []
    with open(os.devnull, "wb") as null:
        p = k.spawn(uid=os.getuid())
        attach_stdio(p.proc, (null.fileno(), null.fileno(), null.fileno()))
        p.execve(prog, [prog])

        calls = []

        def look(kernel):
            calls.append(1)
            for q in kernel.processes():
                seen.append((q.pid, len(q.maps()), q.procstat().count("\n")))
            return len(calls) == 1          # pause once, after the first slice
        assert k.run(on_slice=look) is None
        assert p.alive and p.maps()
        status = k.run(on_slice=look)
    k.close()
    assert status == 0 and p.exit_status == 0
    assert seen and all(n > 3 for _, n, _ in seen)
    assert any(e.path == prog for e in p.maps_at_exit())


def test_closing_the_kernel_mid_run_kills_the_programs_and_frees_every_frame():
    from bsdvm import Kernel
    from bsdvm.kern.host_stdio import attach_stdio
    prog = build("fork_mem")
    k = Kernel(physmem="64M", swap="64M", host_root=True)
    with open(os.devnull, "wb") as null:
        p = k.spawn(uid=os.getuid())
        attach_stdio(p.proc, (null.fileno(), null.fileno(), null.fileno()))
        p.execve(prog, [prog])
        slices = []
        assert k.run(on_slice=lambda kernel: slices.append(1) or len(slices) == 3) is None
        assert len(k.processes()) >= 1
        k.check_invariants()
        k.close()
    assert p.wait_status == 9 and p.exit_status == 128 + 9      # SIGKILL
    assert k.phys.free_count == k.phys.npages - k.phys.kernel_wired
