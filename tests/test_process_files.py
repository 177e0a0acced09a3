"""File system calls of the public Process API."""
from __future__ import annotations


import stat

from bsdvm import Kernel


def test_fstat_of_a_pipe_is_a_fifo():
    with Kernel(physmem="16M", swap="16M") as k:
        p = k.spawn(uid=1000, gid=1000)
        r, w = p.pipe()
        p.write(w, b"abc")
        st = p.fstat(r)
        assert stat.S_ISFIFO(st.st_mode) and st.st_size == 3 and st.st_uid == 1000


def test_spawn_refuses_ids_that_fit_no_uid_t():
    import errno

    import pytest
    with Kernel(physmem="16M", swap="16M") as k:
        with pytest.raises(OSError) as ei:
            k.spawn(uid=2**32)                  # would truncate to uid 0: root
        assert ei.value.errno == errno.EINVAL and not k.procs
        assert k.spawn(uid=-1).uid == 0xFFFFFFFF
