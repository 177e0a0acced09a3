"""bsdvm exec, priority 4: SIGSEGV handlers see SEGV_ACCERR for a protection fault and SEGV_MAPERR
for no mapping with the exact si_addr, and recover with siglongjmp; a signal that kills is
reported as a shell would."""
from __future__ import annotations

import signal

from executil import build, run_guest


def test_sigsegv_handler_sees_si_code_and_exact_address_and_siglongjmps():
    for static in (False, True):
        r = run_guest([build("segv", static=static)])
        assert r.exit_code == 0, r.stderr
        assert r.stdout == (b"write to read-only: sig=11 code=SEGV_ACCERR addr_ok=1\n"
                            b"read of unmapped: sig=11 code=SEGV_MAPERR addr_ok=1\n"
                            b"again after siglongjmp: sig=11 code=SEGV_ACCERR\n")
        assert r.stats.calls["rt_sigaction"] >= 1


def test_unhandled_segv_kills_with_status_11_and_the_address():
    r = run_guest([build("crash"), "null"])
    assert r.signal == signal.SIGSEGV
    assert r.process.wait_status == signal.SIGSEGV
    assert r.process.exit_status == 128 + signal.SIGSEGV


def test_cli_reports_the_killing_signal_like_a_shell(capfd):
    import pytest

    from bsdvm.cli import main
    with pytest.raises(SystemExit) as ei:
        main(["exec", build("crash"), "jump"], standalone_mode=False)
    assert ei.value.code == 128 + signal.SIGSEGV
    err = capfd.readouterr().err
    assert "SIGSEGV" in err and "SEGV_MAPERR" in err and "0x7000000" in err
