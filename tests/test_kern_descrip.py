"""Unit tests for kern/descrip.py: descriptor table, struct file references, pipes, file I/O."""
import errno
import os

import pytest

from bsdvm.kern import descrip as F
from bsdvm.kern import vfs as V
from bsdvm.kern.priv import Ucred

ROOT = Ucred()


@pytest.fixture
def fs(tmp_path):
    return V.VFS(str(tmp_path))


def vnode_file(fs, path, oflags=os.O_RDWR | os.O_CREAT):
    e, vp = fs.open(ROOT, path, oflags, 0o644)
    assert e == 0
    return F.File(F.DTYPE_VNODE, F.fflags(oflags), f_vnode=vp)


def test_fflags():
    assert F.fflags(os.O_RDONLY) == F.FREAD
    assert F.fflags(os.O_WRONLY) == F.FWRITE
    assert F.fflags(os.O_RDWR | os.O_CREAT) == F.FREAD | F.FWRITE
    assert F.fflags(os.O_WRONLY | os.O_APPEND) == F.FWRITE | F.FAPPEND


def test_falloc_lowest_free_and_emfile():
    fdp = F.FileDesc(maxfiles=3)
    files = [F.make_pipe()[0] for _ in range(3)]
    assert [fdp.falloc(f) for f in files] == [(0, 0), (0, 1), (0, 2)]
    assert fdp.falloc(F.make_pipe()[0]) == (errno.EMFILE, -1)
    assert fdp.close(1) == 0
    assert fdp.falloc(files[1]) == (0, 1)
    assert fdp.open_fds() == [0, 1, 2]


@pytest.mark.parametrize("bad", [-1, 3, 99, None, "0", 1.0, True])
def test_fget_ebadf(bad):
    fdp = F.FileDesc()
    fdp.falloc(F.make_pipe()[0])
    fdp.falloc(F.make_pipe()[0])
    fdp.falloc(F.make_pipe()[0])
    assert fdp.fget(bad) == (errno.EBADF, None)
    assert fdp.close(bad) == errno.EBADF


def test_fget_closed_slot_and_double_close():
    fdp = F.FileDesc()
    r, w = F.make_pipe()
    fdp.falloc(r)
    fdp.falloc(w)
    assert fdp.close(0) == 0
    assert fdp.fget(0)[0] == errno.EBADF
    assert fdp.close(0) == errno.EBADF
    assert fdp.fcntl_setfl(0, 0) == errno.EBADF


def test_hold_outlives_close(fs):
    fdp = F.FileDesc()
    fp = vnode_file(fs, "/f")
    vp = fp.f_vnode
    assert fdp.falloc(fp) == (0, 0) and fp.f_count == 1
    e, held = fdp.fget(0)
    assert held is fp and fp.f_count == 2
    assert fdp.close(0) == 0
    assert not fp.f_closed and vp.v_usecount == 1          # the hold keeps the file and its vnode
    fdp.fdrop(fp)
    assert fp.f_closed and vp.v_usecount == 0 and vp.host_fd is None
    with pytest.raises(RuntimeError):
        F.fdrop(fp)


def test_revoked_vnode_fget_succeeds_but_io_ebadf(fs):
    # FD-1: fget does not look at the vnode; the doomed vnode's I/O fails instead
    fdp = F.FileDesc()
    fp = vnode_file(fs, "/f")
    fdp.falloc(fp)
    assert fs.revoke(ROOT, "/f") == 0
    err, got = fdp.fget(0)
    assert err == 0 and got is fp and got.f_vnode.v_doomed
    fdp.fdrop(got)
    assert F.fo_read(fp, 1) == (errno.EBADF, b"")
    assert fdp.close(0) == 0
    assert fs.active_vnodes() == []


def test_fork_copy_shares_files(fs):
    fdp = F.FileDesc()
    fp = vnode_file(fs, "/f")
    r, w = F.make_pipe()
    fdp.falloc(fp)
    fdp.falloc(r)
    fdp.falloc(w)
    child = fdp.fork_copy()
    assert child.open_fds() == [0, 1, 2] and child.fget(0)[1] is fp
    child.fdrop(fp)
    assert fp.f_count == 2 and r.f_count == 2
    fdp.close_all()
    assert not fp.f_closed and fp.f_vnode.v_usecount == 1
    assert len(fdp) == 0 and len(child) == 3
    child.close_all()
    assert fp.f_closed and r.f_closed and w.f_closed
    assert fs.active_vnodes() == []


def test_pipe_semantics():
    fdp = F.FileDesc()
    r, w = F.make_pipe()
    _, rfd = fdp.falloc(r)
    _, wfd = fdp.falloc(w)
    assert r.f_type == F.DTYPE_PIPE and r.f_data is w.f_data
    assert F.fo_read(r, 10) == (errno.EAGAIN, b"")          # empty, writer open: no blocking
    assert F.fo_write(w, b"hello") == (0, 5)
    assert F.fo_read(r, 2) == (0, b"he")
    assert F.fo_read(w, 1) == (errno.EBADF, b"")            # write end is not readable
    assert F.fo_write(r, b"x") == (errno.EBADF, 0)
    assert F.fo_read(r, 10, offset=0) == (errno.ESPIPE, b"")
    fdp.close(wfd)
    assert F.fo_read(r, 10) == (0, b"llo")
    assert F.fo_read(r, 10) == (0, b"")                     # EOF once the writer is gone
    r2, w2 = F.make_pipe()
    fdp.falloc(r2)
    _, w2fd = fdp.falloc(w2)
    fdp.close(fdp.open_fds()[-2])
    assert F.fo_write(w2, b"x") == (errno.EPIPE, 0)


def test_fcntl_setfl():
    fdp = F.FileDesc()
    fp = F.File(F.DTYPE_VNODE, F.FREAD | F.FWRITE | F.FAPPEND)
    fdp.falloc(fp)
    assert fdp.fcntl_setfl(0, F.FPOSIXSHM) == 0
    assert fp.f_flag == F.FREAD | F.FWRITE | F.FPOSIXSHM     # replaces FAPPEND, keeps access mode
    assert fdp.fcntl_setfl(0, F.FAPPEND | F.FREAD) == 0
    assert fp.f_flag == F.FREAD | F.FWRITE | F.FAPPEND
    assert fdp.fcntl_getfl(0) == (0, fp.f_flag)


def test_vnode_file_io_offsets(fs):
    fp = vnode_file(fs, "/f")
    assert F.fo_write(fp, b"abcdef") == (0, 6) and fp.f_offset == 6
    assert F.fo_write(fp, b"Z", offset=0) == (0, 1) and fp.f_offset == 6
    fp.f_offset = 1
    assert F.fo_read(fp, 3) == (0, b"bcd") and fp.f_offset == 4
    assert F.fo_read(fp, 2, offset=0) == (0, b"Zb") and fp.f_offset == 4
    ro = vnode_file(fs, "/f", os.O_RDONLY)
    assert F.fo_write(ro, b"x") == (errno.EBADF, 0)
    ap = vnode_file(fs, "/f", os.O_WRONLY | os.O_APPEND)
    assert F.fo_write(ap, b"!!") == (0, 2) and ap.f_offset == 8
    assert F.fo_read(fp, 10, offset=0) == (0, b"Zbcdef!!")
    for f in (fp, ro, ap):
        F.fhold(f)
        F.fdrop(f)
    assert fs.active_vnodes() == []
