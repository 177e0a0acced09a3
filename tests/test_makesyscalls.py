"""The generated Process methods and API reference are current, and every method is documented."""
from __future__ import annotations

import inspect
import pydoc
import typing

import bsdvm
from bsdvm import Process
from bsdvm.kern import makesyscalls
from bsdvm.kern.init_sysent import freebsd_sysent
from bsdvm.kern.sysent import Result


def test_generated_methods_and_reference_are_not_stale():
    """Regenerate with `PYTHONPATH=src python -m bsdvm.kern.makesyscalls` when this fails."""
    for path, text in makesyscalls._targets().items():
        assert path.read_text() == text, f"{path} is stale: run python -m bsdvm.kern.makesyscalls"


def test_every_table_entry_is_a_typed_documented_method():
    for e in freebsd_sysent:
        name = e.method_name
        assert name, e.name
        fn = getattr(Process, name)
        doc = inspect.getdoc(fn)
        assert doc and f"system call {e.number}" in doc, name
        for err, _ in e.raises:
            import errno
            assert errno.errorcode[err] in doc, (name, err)
        hints = typing.get_type_hints(fn)
        assert "return" in hints
        params = list(inspect.signature(fn).parameters)[1:]
        assert params == [a.py_name for a in e.python_args()], name
        assert all(p in hints for p in params), name


def test_help_of_mmap_shows_signature_errnos_and_rules():
    text = pydoc.render_doc(bsdvm.Process.mmap, renderer=pydoc.plaintext)
    assert "mmap(self, addr: int, length: int, prot: int, flags: int, fd: int = -1, offset: int = 0)" \
        in text
    assert "EACCES" in text and "MMAP-2" in text and "system call 477" in text


def test_public_names_have_docstrings():
    names = [n for n in dir(Process) if not n.startswith("_")]
    missing = [n for n in names if not inspect.getdoc(getattr(Process, n))]
    assert not missing
    for cls in (bsdvm.Kernel, bsdvm.Process, bsdvm.MapEntry, bsdvm.MemoryFault,
                bsdvm.SegmentationFault, bsdvm.BusError, bsdvm.ProcessKilled):
        assert cls.__doc__, cls
    missing = [n for n in dir(bsdvm.Kernel) if not n.startswith("_")
               and not inspect.getdoc(getattr(bsdvm.Kernel, n))]
    assert not missing


def test_table_numbers_are_freebsd_7s():
    """syscalls.master of FreeBSD 7.x (the COMPAT_43 calls keep their old slots)."""
    want = {"read": 3, "write": 4, "open": 5, "close": 6, "unlink": 10, "chmod": 15, "chown": 16,
            "obreak": 17, "chflags": 34, "dup": 41, "pipe": 42, "revoke": 56, "symlink": 57,
            "ogetpagesize": 64, "msync": 65, "sbrk": 69, "sstk": 70, "ommap": 71, "munmap": 73,
            "mprotect": 74, "madvise": 75, "mincore": 78, "dup2": 90, "fcntl": 92, "mkdir": 136,
            "stat": 188, "fstat": 189, "mlock": 203, "munlock": 204, "minherit": 250,
            "mlockall": 324, "munlockall": 325, "pread": 475, "pwrite": 476, "mmap": 477,
            "lseek": 478, "ftruncate": 480}
    assert {e.name: e.number for e in freebsd_sysent} == want


def test_pipe_returns_both_descriptors_from_td_retval():
    assert freebsd_sysent["pipe"].returns is Result.RETVAL_PAIR
    with bsdvm.Kernel(physmem="8M", swap="8M") as k:
        p = k.spawn()
        r, w = p.pipe()
        assert p.write(w, b"abc") == 3 and p.read(r, 10) == b"abc"
