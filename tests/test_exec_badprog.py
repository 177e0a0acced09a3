"""bsdvm exec: bad programs get the errno execve gives (ENOENT, EACCES, ENOEXEC) or the signal
the CPU raises (SIGILL, SIGSEGV, SIGFPE, SIGABRT), and the model stays consistent with every frame
free after close()."""
from __future__ import annotations

import errno
import os
import signal

import pytest

from executil import build, run_guest


def _execve_errno(path: str) -> int:
    from bsdvm import Kernel
    k = Kernel(physmem="32M", swap="32M", host_root=True)
    try:
        p = k.spawn(uid=os.getuid())
        with pytest.raises(OSError) as ei:
            p.execve(path, [path])
        assert p.alive and p.maps()         # the old image is intact
        k.check_invariants()
        return ei.value.errno
    finally:
        k.close()
        assert k.phys.free_count == k.phys.npages - k.phys.kernel_wired


def test_execve_of_a_non_elf_file_is_enoexec(tmp_path):
    f = tmp_path / "text"
    f.write_bytes(b"just some text\n" * 10)
    f.chmod(0o755)
    assert _execve_errno(str(f)) == errno.ENOEXEC


def test_execve_of_a_truncated_elf_is_enoexec(tmp_path):
    data = open(build("hello", static=True), "rb").read()
    for cut in (20, 64, 200, 4096):
        f = tmp_path / f"cut{cut}"
        f.write_bytes(data[:cut])
        f.chmod(0o755)
        assert _execve_errno(str(f)) == errno.ENOEXEC, cut


def test_execve_of_an_elf_with_a_segment_past_eof_is_enoexec(tmp_path):
    data = bytearray(open(build("hello", static=True), "rb").read())
    f = tmp_path / "short"
    f.write_bytes(data[:len(data) // 2])      # PT_LOADs now reach past the end of the file
    f.chmod(0o755)
    assert _execve_errno(str(f)) == errno.ENOEXEC


def test_execve_of_a_directory_or_non_executable_is_eacces(tmp_path):
    assert _execve_errno(str(tmp_path)) == errno.EACCES
    f = tmp_path / "noexec"
    f.write_bytes(open(build("hello", static=True), "rb").read())
    f.chmod(0o644)
    if os.getuid() != 0:
        assert _execve_errno(str(f)) == errno.EACCES


def test_execve_of_a_missing_file_is_enoent(tmp_path):
    assert _execve_errno(str(tmp_path / "missing")) == errno.ENOENT


@pytest.mark.parametrize("how,signo", [("ill", signal.SIGILL), ("jump", signal.SIGSEGV),
                                       ("div", signal.SIGFPE), ("abort", signal.SIGABRT),
                                       ("null", signal.SIGSEGV)])
def test_crashing_program_dies_of_the_signal_the_cpu_raises(how, signo):
    r = run_guest([build("crash"), how])
    assert r.signal == signo
    info = r.process.proc.p_killinfo
    assert info is not None and info.signo == signo
    if how == "jump":
        assert info.addr == 0x7000000 and info.code == 1       # SEGV_MAPERR at the target
    if how == "null":
        assert info.addr == 0 and info.code == 1
