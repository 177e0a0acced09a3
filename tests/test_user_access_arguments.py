"""mem_read / mem_write arguments and locking (process.py, issue 10).

An int already in caddr_t's own range is its own address and skips the converter (the pattern of
the generated system-call stubs, kern/sysent.py); every other value goes through
CADDR_T.python_converter.  The two paths must give the same address, result and error for every
input, on both arches.  The access runs under the kernel's giant lock, which is taken by
acquire()/release() rather than `with`: it must be held during the fault and free again however
the access ends (success, fault, bad argument, exited process, a Python exception mid-fault).
"""
from __future__ import annotations

import array
import errno
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bsdvm import Kernel, mman
from bsdvm.kern.sysent import CADDR_T
from bsdvm.kern.vfs import Vnode
from bsdvm.process import MemoryFault
from bsdvm.vm.invariants import check_quiescent
from kernutil import quiescent_kernel

PG = 4096
RW = mman.PROT_READ | mman.PROT_WRITE
ANON = mman.MAP_ANON | mman.MAP_PRIVATE


class Index:
    """A numpy-like integer: not an int, but has __index__."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


class Address(int):
    """An int subclass: `type(x) is int` is false, so it takes the converter."""


@pytest.fixture(params=["amd64", "i386"])
def kern(request: pytest.FixtureRequest) -> Iterator[Kernel]:
    with quiescent_kernel(arch=request.param) as k:
        yield k


def outcome(method: Callable[..., Any], *args: Any) -> tuple[Any, ...]:
    """What a call did, comparable between the two paths."""
    try:
        return ("returned", method(*args))
    except MemoryFault as e:
        return (type(e), e.addr, e.signal, e.code, e.write)
    except OSError as e:
        return (type(e), e.errno)
    except (TypeError, ValueError) as e:
        return (type(e), str(e))


def interesting_addresses(k: Kernel, mapped: int) -> list[int]:
    """Mapped, unmapped, both ends of the fast path's range and just past them, the signed range
    the converter accepts (negative: two's complement) and just past it."""
    bits = k.arch.word_bits
    top = (1 << bits) - 1
    lo = -(1 << (bits - 1))
    return [mapped, mapped + PG - 1, 0, 1, PG, k.arch.vm_maxuser_address - 1,
            k.arch.vm_maxuser_address, 0x0000800000000000 & top, top - 1, top, top + 1, 1 << 64,
            -1, -2, -PG, lo + 1, lo, lo - 1]


def test_an_address_gives_the_same_result_on_the_int_fast_path_and_through_the_converter(kern):
    p = kern.spawn()
    a = p.mmap(0, 2 * PG, RW, ANON)
    bits = kern.arch.word_bits
    for v in interesting_addresses(kern, a):
        fast_w = outcome(p.mem_write, v, b"fa")
        fast_r = outcome(p.mem_read, v, 2)
        for slow in (Index(v), Address(v)):
            assert outcome(p.mem_write, slow, b"fa") == fast_w, hex(v)
            assert outcome(p.mem_read, slow, 2) == fast_r, hex(v)
        if not -(1 << (bits - 1)) <= v < (1 << bits):
            assert fast_w == fast_r == (OSError, errno.EINVAL), hex(v)
        elif fast_w[0] != "returned":
            # a fault reports the C address: the value as caddr_t (negative: two's complement),
            # or the byte after it when only the second byte faults
            assert issubclass(fast_w[0], MemoryFault), hex(v)
            assert fast_w[1] - CADDR_T.from_python(v, kern.arch) in (0, 1), hex(v)
    assert p.mem_read(a, 2) == b"fa" and p.mem_read(a + PG - 1, 2) == b"fa"


def test_a_bool_address_is_its_int_value(kern):
    p = kern.spawn()
    for b in (False, True):
        assert outcome(p.mem_write, b, b"x") == outcome(p.mem_write, int(b), b"x")
        assert outcome(p.mem_read, b, 1) == outcome(p.mem_read, int(b), 1)


@pytest.mark.parametrize("bad", [1.5, "4096", None, b"\x00\x10", [PG]])
def test_a_non_integer_address_raises_type_error_and_writes_nothing(kern, bad):
    p = kern.spawn()
    a = p.mmap(0, PG, RW, ANON)
    with pytest.raises(TypeError):
        p.mem_write(bad, b"nope")
    with pytest.raises(TypeError):
        p.mem_read(bad, 1)
    assert p.mem_read(a, 4) == bytes(4)


def test_the_converter_is_called_only_for_a_value_that_is_not_already_its_own_address(kern):
    p = kern.spawn()
    a = p.mmap(0, PG, RW, ANON)
    real = p._user.convert
    calls: list[Any] = []

    def counting(value: Any) -> int:
        calls.append(value)
        return real(value)
    p._user.convert = counting
    top = (1 << kern.arch.word_bits) - 1
    # the fast path's bound: the top of the word, or below 2**62 where the compiled build's ints
    # stop being native (amd64's upper addresses take the converter, to the same result)
    fast_top = min(top, (1 << 62) - 1)
    p.mem_write(a, b"own")
    assert p.mem_read(a, 3) == b"own"
    outcome(p.mem_read, 0, 1)
    outcome(p.mem_read, fast_top, 1)
    assert calls == []
    for v in (Index(a), Address(a), True, -1, top + 1):
        outcome(p.mem_read, v, 1)
    assert len(calls) == 5


def test_mem_read_size_takes_any_integer_and_refuses_a_negative_one(kern):
    p = kern.spawn()
    a = p.mmap(0, PG, RW, ANON)
    p.mem_write(a, b"abc")
    assert p.mem_read(a, True) == b"a"
    assert p.mem_read(a, Index(3)) == b"abc"
    assert p.mem_read(a, 0) == b""
    assert p.mem_read(0, 0) == b""                  # nothing to read: no fault
    with pytest.raises(ValueError, match="negative size"):
        p.mem_read(a, -1)
    with pytest.raises(TypeError):
        p.mem_read(a, 1.0)
    with pytest.raises(OSError) as ei:
        p.mem_read(1 << 64, 0)                      # the address is checked first
    assert ei.value.errno == errno.EINVAL


def test_mem_write_takes_any_bytes_like_data_and_refuses_anything_else(kern):
    p = kern.spawn()
    a = p.mmap(0, PG, RW, ANON)
    p.mem_write(a, bytearray(b"ba"))
    p.mem_write(a + 2, memoryview(b"xxmvxx")[2:4])
    p.mem_write(a + 4, memoryview(array.array("I", [int.from_bytes(b"abcd", sys.byteorder)])))
    p.mem_write(a + 8, b"")
    p.mem_write(0, b"")                             # nothing to write: no fault
    assert p.mem_read(a, 9) == b"bamvabcd\x00"
    for bad in ("str", [1, 2], 7, None, array.array("B", b"ab")):     # buffers: bytes-like only
        with pytest.raises(TypeError, match="bytes-like"):
            p.mem_write(a, bad)
    assert p.mem_read(a, 2) == b"ba"


def giant_taken_elsewhere(k: Kernel) -> bool:
    """Whether another thread finds the giant lock held."""
    got: list[bool] = []

    def probe() -> None:
        took = k.giant.acquire(blocking=False)
        if took:
            k.giant.release()
        got.append(took)
    t = threading.Thread(target=probe)
    t.start()
    t.join()
    return not got[0]


def test_giant_is_held_during_the_access_and_released_however_it_ends(monkeypatch):
    k = Kernel()
    try:
        p = k.spawn()
        fd = p.open("/giant", os.O_RDWR | os.O_CREAT, 0o644)
        p.write(fd, b"g" * 4 * PG)
        f = p.mmap(0, 4 * PG, RW, mman.MAP_SHARED, fd, 0)
        a = p.mmap(0, PG, RW, ANON)
        real = Vnode.host_pread
        held: list[bool] = []

        def observed(self: Vnode, offset: int, n: int) -> bytes:
            held.append(giant_taken_elsewhere(k))
            return real(self, offset, n)
        monkeypatch.setattr(Vnode, "host_pread", observed)
        assert p.mem_read(f, 1) == b"g"                     # a file page-in under the lock
        assert held and all(held)
        assert not giant_taken_elsewhere(k)

        p.mem_write(a, b"ok")                               # success
        assert not giant_taken_elsewhere(k)
        for call in (lambda: p.mem_write(0, b"x"),          # a fault
                     lambda: p.mem_read(0, 1),
                     lambda: p.mem_write(1 << 64, b"x"),    # a bad argument
                     lambda: p.mem_read(a, -1)):
            assert outcome(call)[0] != "returned"
            assert not giant_taken_elsewhere(k)

        def interrupted(self: Vnode, offset: int, n: int) -> bytes:
            raise KeyboardInterrupt
        monkeypatch.setattr(Vnode, "host_pread", interrupted)
        fd2 = p.open("/giant2", os.O_RDWR | os.O_CREAT, 0o644)
        p.write(fd2, b"h" * PG)
        f2 = p.mmap(0, PG, RW, mman.MAP_SHARED, fd2, 0)
        with pytest.raises(KeyboardInterrupt):              # a Python exception mid-fault
            p.mem_read(f2, 1)
        assert not giant_taken_elsewhere(k)
        monkeypatch.setattr(Vnode, "host_pread", real)
        k.check_invariants()
        assert p.mem_read(f2, 2) == b"hh"

        p.close(fd)
        p.close(fd2)
        p.exit()
        with pytest.raises(ProcessLookupError):             # an exited process
            p.mem_write(a, b"x")
        with pytest.raises(ProcessLookupError):
            p.mem_read(a, 1)
        assert not giant_taken_elsewhere(k)
        check_quiescent(k)
    finally:
        k.close()


def test_the_access_may_take_giant_again_when_the_caller_holds_it(k):
    """giant is recursive: a caller already holding it (a Kernel method, a test) may still read
    and write user memory, and the lock is still held by it afterwards."""
    p = k.spawn()
    a = p.mmap(0, PG, RW, ANON)
    with k.giant:
        p.mem_write(a, b"nested")
        assert p.mem_read(a, 6) == b"nested"
        assert giant_taken_elsewhere(k)
    assert not giant_taken_elsewhere(k)

