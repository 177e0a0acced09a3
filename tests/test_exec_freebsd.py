"""bsdvm exec, priority 6: a FreeBSD-branded (EI_OSABI 9) freestanding program calls the native
FreeBSD 7 table by number, with the carry flag reporting errors."""
from __future__ import annotations

import os

from executil import GCC, PROGS, need_gcc, run_guest


def test_freebsd_branded_program_uses_the_native_table(tmp_path):
    import subprocess
    need_gcc()
    out = tmp_path / "fb"
    subprocess.run([GCC, "-O1", "-static", "-nostdlib", "-fno-pie", "-no-pie",
                    "-fno-stack-protector", "-o", str(out), os.path.join(PROGS, "freebsd.c")],
                   check=True)
    data = bytearray(out.read_bytes())
    data[7] = 9                                   # ELFOSABI_FREEBSD
    out.write_bytes(bytes(data))
    r = run_guest([str(out)])
    assert r.stdout == b"hello from FreeBSD\nEFAULT ok\nchild 7\n"
    assert r.exit_code == 0
    assert r.process.proc.p_sysvec.name == "freebsd"
    assert r.stats.calls["write"] == 4 and r.stats.calls["fork"] == 1
