"""bsdvm exec: file mappings (MAP_SHARED coherent with read/write and msync; MAP_PRIVATE never
writes back), heap growth through brk and large mmap'd blocks, stack growth, and memory pressure
(a program touching 4x physmem completes, pages going to swap and back)."""
from __future__ import annotations

from executil import build, run_guest, run_native


def test_shared_file_mapping_reaches_the_file_and_private_never_does(tmp_path):
    target = tmp_path / "data.bin"
    r = run_guest([build("shared_file"), str(target)], rw=(str(tmp_path),))
    assert r.exit_code == 0, r.stderr
    assert r.stdout == (b"read sees: through-the-mapping\n"
                        b"mapping sees: through-write\n"
                        b"private sees: through-the-mapping\n"
                        b"file at 200: []\n")
    data = target.read_bytes()
    assert data[100:119] == b"through-the-mapping" and data[5000:5013] == b"through-write"
    assert data[200:213] == bytes(13)


def test_writes_outside_rw_dirs_are_erofs(tmp_path):
    r = run_guest([build("shared_file"), str(tmp_path / "x")])
    assert r.exit_code == 90
    assert b"Read-only file system" in r.stderr
    assert not (tmp_path / "x").exists()


def test_heap_grows_through_brk_and_mmap_and_the_stack_by_recursion():
    r = run_guest([build("heap_stack")], physmem="256M")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith(b"brk grew: 1\nsum=")
    assert r.stdout == run_native([build("heap_stack")]).stdout
    assert r.kernel.exit_status and r.process.proc.p_vmspace is None
    assert r.stats.calls["brk"] > 2 and r.stats.calls["mmap"] >= 1


def test_touching_four_times_physmem_completes_through_swap():
    r = run_guest([build("touch"), "96"], physmem="24M", swap="256M")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == b"pages=24576 bad=0\n"
    c = r.kernel.phys.counters
    assert c["v_swapout"] > 0 and c["v_swapin"] > 0


def test_exhausting_memory_and_swap_ends_in_the_oom_kill():
    r = run_guest([build("touch"), "64"], physmem="16M", swap="16M")
    assert r.signal == 9
    assert r.kernel.pagedaemon.oom_kills


def test_translated_code_is_dropped_when_its_frame_is_reused(tmp_path):
    code = tmp_path / "two.bin"
    code.write_bytes(bytes([0xB8, 0x02, 0, 0, 0, 0xC3]).ljust(4096, b"\x90"))
    r = run_guest([build("recycle_code"), str(code)])
    assert r.exit_code == 0, r.stderr
    assert r.stdout == b"first=1 second=2\n"


def test_a_memory_device_mapping_reaches_the_device_memory(tmp_path):
    import os

    from bsdvm import Kernel
    from bsdvm.kern.host_stdio import attach_stdio
    prog = build("devmem", static=True)
    k = Kernel(physmem="32M", swap="32M", root=str(tmp_path))
    k.mount("/prog", os.path.dirname(prog), rdonly=True)
    dev = k.make_dev("membench", "64K")
    dev.si_memory[4096:4096 + 6] = b"hello\0"
    out = tmp_path / "out"
    with open(out, "wb") as f, open(os.devnull, "rb") as null:
        p = k.spawn(uid=0)
        attach_stdio(p.proc, (null.fileno(), f.fileno(), f.fileno()))
        p.execve("/prog/" + os.path.basename(prog), ["devmem", "/dev/membench"])
        status = k.run()
    k.close()
    assert status == 0, out.read_bytes()
    assert out.read_bytes() == b"device says: hello\n"
    assert bytes(dev.si_memory[100:122]) == b"written by the program"


def test_translated_code_is_dropped_when_the_kernel_writes_its_frame(tmp_path):
    code = tmp_path / "two.bin"
    code.write_bytes(bytes([0xB8, 0x02, 0, 0, 0, 0xC3]))
    r = run_guest([build("read_code"), str(code)])
    assert r.exit_code == 0, r.stderr
    assert r.stdout == b"first=1 second=2\n"
