"""sys/compat/linux/linux_xattr.c, for file systems without extended attributes: the Linux xattr
calls find their file (so a bad path or descriptor fails as it would: ENOENT, ENOTDIR, EBADF...)
and then answer EOPNOTSUPP, as FreeBSD's layer does over a file system without extattr support.
(FreeBSD 7's linux_dummy.c answered ENOSYS; later releases translate to extattr and answer
EOPNOTSUPP -- the answer programs such as `ls -l` expect: docs/differences.md.)
Invariants: bodies return FreeBSD errnos; nothing is changed.  May call: kern.vfs_syscalls.
"""
from __future__ import annotations

import errno
from typing import Any

from ...kern.sysent import CADDR_T, FD, INT, PATH, SIZE_T, Arg, Sysent
from ...kern.vfs_syscalls import AT_FDCWD, AT_SYMLINK_NOFOLLOW, kern_statat

_OPS = ("set", "get", "list", "remove")


def _path_body(follow: bool) -> Any:
    def body(td: Any, uap: Any) -> int:
        err, _st = kern_statat(td, 0 if follow else AT_SYMLINK_NOFOLLOW, AT_FDCWD, uap.path)
        return err or errno.EOPNOTSUPP
    return body


def _fd_body(td: Any, uap: Any) -> int:
    err, fp = td.td_proc.p_fd.fget(uap.fd)
    if err:
        return err
    td.td_proc.p_fd.fdrop(fp)
    return errno.EOPNOTSUPP


_ARGS = {"set": (Arg("name", CADDR_T), Arg("value", CADDR_T), Arg("size", SIZE_T),
                 Arg("flags", INT)),
         "get": (Arg("name", CADDR_T), Arg("value", CADDR_T), Arg("size", SIZE_T)),
         "list": (Arg("list", CADDR_T), Arg("size", SIZE_T)),
         "remove": (Arg("name", CADDR_T),)}

SYSENTS: list[Sysent] = []
for _i, _op in enumerate(_OPS):
    for _j, (_prefix, _first, _body) in enumerate((("", Arg("path", PATH), _path_body(True)),
                                                   ("l", Arg("path", PATH), _path_body(False)),
                                                   ("f", Arg("fd", FD), _fd_body))):
        SYSENTS.append(Sysent(188 + 3 * _i + _j, f"{_prefix}{_op}xattr",
                              (_first,) + _ARGS[_op], _body,
                              (errno.EOPNOTSUPP, errno.ENOENT, errno.EBADF),
                              doc=f"{_prefix}{_op}xattr: no extended attributes (EOPNOTSUPP)"))
