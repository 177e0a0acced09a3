"""kern/sysent.py: C-type conversion from Python callers and from registers, uio, tables."""
from __future__ import annotations

import errno

import pytest

from bsdvm.arch import AMD64, I386
from bsdvm.kern import sysent
from bsdvm.kern.sysent import FD, INT, LONG, OFF_T, SIZE_T, Arg, Sysent, SysentTable


def test_from_python_keeps_c_cast_semantics_and_refuses_what_fits_no_c_integer():
    assert INT.from_python(-1, AMD64) == -1
    assert INT.from_python(0xFFFFFFFF, AMD64) == -1
    assert SIZE_T.from_python(-1, AMD64) == 2**64 - 1
    assert SIZE_T.from_python(-1, I386) == 2**32 - 1
    assert LONG.from_python(2**31, I386) == -2**31
    with pytest.raises(OSError) as e:
        INT.from_python(2**32, AMD64)
    assert e.value.errno == errno.EINVAL
    with pytest.raises(OSError) as e:
        FD.from_python(2**32, AMD64)
    assert e.value.errno == errno.EBADF
    with pytest.raises(TypeError):
        OFF_T.from_python("1", AMD64)


def test_from_register_truncates_and_sign_extends_as_the_abi_does():
    assert INT.from_register(0xFFFFFFFF_FFFFFFFF, AMD64) == -1
    assert INT.from_register(0x1_00000005, AMD64) == 5
    assert SIZE_T.from_register(2**64 - 1, AMD64) == 2**64 - 1
    assert OFF_T.from_register(2**63, AMD64) == -2**63


def test_path_from_python_refuses_nul_and_overlong():
    assert sysent.path_from_python("/a") == (0, b"/a")
    assert sysent.path_from_python(b"/a\0b")[0] == errno.EINVAL
    assert sysent.path_from_python("x" * sysent.MAXPATHLEN)[0] == errno.ENAMETOOLONG


def test_system_space_uio_moves_bytes_both_ways():
    out = sysent.Uio.sys_out(3)
    assert out.uiomove_out(b"hello") == 0
    assert bytes(out.sysbuf) == b"hel" and out.resid == 0
    inn = sysent.Uio.sys_in(b"data")
    assert inn.uiomove_in(2) == (0, b"da")
    assert inn.uiomove_in() == (0, b"ta")


def test_table_dispatch_by_number_and_name_and_unknown_numbers_are_named():
    def body(td, uap):
        td.td_retval[0] = uap.a + 1
        return 0
    e = Sysent(7, "inc", (Arg("a", INT),), body, errnos=())
    t = SysentTable("test", [e], nosys={9: "later"})
    assert t[7] is e and t["inc"] is e and 7 in t and "inc" in t and len(t) == 1
    with pytest.raises(ValueError):
        t.register(e)

    class Td:
        td_retval = [0, 0]
    td = Td()
    assert sysent.dispatch(td, e, e.uap_from_python(AMD64, {"a": 41})) == 0
    assert td.td_retval[0] == 42
    err, uap = e.uap_from_registers(AMD64, None, [0xFFFFFFFF])
    assert err == 0 and uap.a == -1
    assert t.name_of(9) == "later" and t.name_of(10) == "nosys_10"
