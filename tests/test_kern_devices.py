"""Unit tests for kern/devices.py: cdevsw flags, d_mmap ranges, device read/write."""
import errno

import pytest

from bsdvm.kern import devices as D


def test_zero():
    z = D.make_zero()
    assert z.si_name == "zero" and z.si_devsw.d_flags & D.D_MMAP_ANON
    assert D.dev_read(z, 123, 5) == (0, b"\0" * 5)
    assert D.dev_write(z, 0, b"abc") == (0, 3)
    assert D.dev_mmap(z, 0, 1) == (errno.ENODEV, 0)


def test_null():
    n = D.make_null()
    assert not n.si_devsw.d_flags & D.D_MMAP_ANON
    assert D.dev_read(n, 0, 10) == (0, b"")
    assert D.dev_write(n, 0, b"xyz") == (0, 3)
    assert D.dev_mmap(n, 0, 1) == (errno.ENODEV, 0)
    assert n.si_object is None and n.si_refcount == 0


def test_mem_dev_rounds_to_pages_and_maps_in_range():
    fb = D.make_mem_dev("fb0", 5000)
    assert len(fb.si_memory) == 8192
    assert D.dev_mmap(fb, 0, 3) == (0, 0)
    assert D.dev_mmap(fb, 4096, 3) == (0, 4096)
    assert D.dev_mmap(fb, 8191, 3) == (0, 8191)
    assert D.dev_mmap(fb, 8192, 3) == (errno.EINVAL, 0)
    assert D.dev_mmap(fb, -4096, 3) == (errno.EINVAL, 0)
    assert len(D.make_mem_dev("e", 0).si_memory) == 0
    assert len(D.make_mem_dev("p", 4096).si_memory) == 4096


def test_mem_dev_read_write():
    fb = D.make_mem_dev("fb0", 4096)
    assert D.dev_write(fb, 10, b"pixels") == (0, 6)
    assert fb.si_memory[10:16] == b"pixels"
    assert D.dev_read(fb, 8, 10) == (0, b"\0\0pixels\0\0")
    assert D.dev_write(fb, 4094, b"abcd") == (0, 2)           # short write at the end
    assert D.dev_write(fb, 4096, b"x") == (errno.ENOSPC, 0)
    assert D.dev_read(fb, 4096, 5) == (0, b"")
    assert D.dev_read(fb, -1, 5) == (errno.EINVAL, b"")
    assert D.dev_write(fb, -1, b"x") == (errno.EINVAL, 0)


def test_custom_devsw_without_io():
    sw = D.Cdevsw("raw", D.D_MEM)
    dev = D.Cdev("raw0", sw, si_drv1={"unit": 0})
    assert D.dev_read(dev, 0, 1) == (errno.ENODEV, b"")
    assert D.dev_write(dev, 0, b"x") == (errno.ENODEV, 0)
    assert dev.si_drv1 == {"unit": 0}


def test_bad_mem_dev_args():
    with pytest.raises(ValueError):
        D.make_mem_dev("a/b", 10)
    with pytest.raises(ValueError):
        D.make_mem_dev("x", -1)
