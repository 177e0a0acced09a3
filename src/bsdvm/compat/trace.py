"""Trace parsers: strace output (Linux) and kdump output (FreeBSD ktrace) -> normalised records.

strace: what `strace -f -y -e trace=%memory,openat,open,close PROG` prints, to the terminal or with
`-o FILE`: lines with or without pids (`[pid N] ` or `N  `), with optional timestamps (-t/-tt/-ttt/
-r) and call times (-T); `-y`/`-yy` descriptor decorations (`3</usr/lib/libc.so.6>`); calls split
into `... <unfinished ...>` and `<... NAME resumed>...` halves; signals (`--- SIGSEGV {...} ---`);
exits (`+++ exited with 0 +++`, `+++ killed by SIGKILL +++`); `strace:` diagnostics.  Calls outside
the memory set (clone, fork, vfork, execve, exit_group, ...) are parsed too when present.

kdump: `kdump` and `kdump -n` lines (`PID [TID] COMM [TIME] TYPE DATA`) of CALL, RET, NAMI and PSIG
records for mmap, munmap, mprotect, madvise, mincore, mlock, munlock, msync, minherit, break, open,
openat, close, fork, vfork, execve and exit, numbers or symbolic names (FreeBSD values), including
the 7.x mmap with its `pad` argument (7 arguments on amd64, 8 on i386).

A `Record` is either a system call (kind "call": name, decoded `args`, `ret`, `errno` name) or an
event (kind "signal", "exit", "killed").  Numbers are the trace's own ABI values (`abi` "linux" or
"freebsd"); the replay engine translates them.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from .. import mman
from . import linux as L

__all__ = ["Record", "ParsedTrace", "FORMATS", "parse_strace", "parse_kdump", "parse_text", "parse_file",
           "read_trace", "detect_format"]


class Record:
    __slots__ = ("kind", "pid", "name", "args", "ret", "errno", "abi", "lineno", "raw", "info")

    def __init__(self, kind, pid, name, args=None, ret=None, errno=None, abi="linux", lineno=0,
                 raw="", info=None):
        self.kind = kind          # "call" | "signal" | "exit" | "killed" | "forking"
        self.pid = pid            # int, or None when the trace has no pids
        self.name = name          # syscall name as traced ("mmap", "break", ...) or signal name
        self.args = args if args is not None else {}
        self.ret = ret            # int; None when unknown ("= ?")
        self.errno = errno        # errno name when the call failed
        self.abi = abi            # "linux" | "freebsd"
        self.lineno = lineno      # line of the trace that completed the record (1-based)
        self.raw = raw
        self.info = info if info is not None else {}   # extra: "resumed", "unparsed", "status"...

    @property
    def ok(self) -> bool:
        return self.errno is None and self.ret is not None

    def as_dict(self) -> dict:
        return {s: getattr(self, s) for s in self.__slots__}

    def __repr__(self):
        a = ", ".join(f"{k}={v:#x}" if isinstance(v, int) and k in ("addr", "new_addr") else
                      f"{k}={v!r}" for k, v in self.args.items())
        r = f" = {self.ret:#x}" if isinstance(self.ret, int) and self.ret > 4096 else \
            f" = {self.ret}"
        if self.errno:
            r += f" {self.errno}"
        return f"<{self.kind} pid={self.pid} {self.name}({a}){r} @{self.lineno}>"


# -- lexical helpers ------------------------------------------------------------------------------

def _split_args(s: str) -> tuple[list[str], int]:
    """Split a strace argument list at top-level commas.  Returns (tokens, index just after the
    closing parenthesis, or -1 when the list is not closed)."""
    out: list[str] = []
    depth = 0
    i = 0
    n = len(s)
    start = 0
    while i < n:
        c = s[i]
        if c == '"':
            i += 1
            while i < n and s[i] != '"':
                i += 2 if s[i] == "\\" else 1
            i += 1
            if i < n and s.startswith("...", i):
                i += 3
            continue
        if c == "<" and s.startswith("<<", i):          # a shift: 21<<MAP_HUGE_SHIFT
            i += 2
            continue
        if c == "<" and i > 0 and (s[i - 1].isalnum() or s[i - 1] in "]_"):
            j = s.find(">", i)
            if j < 0:
                i = n
                break
            # a decoration may itself hold '>' (rare): take the one followed by a delimiter
            while j + 1 < n and s[j + 1] not in ",)]} " and s.find(">", j + 1) >= 0:
                j = s.find(">", j + 1)
            i = j + 1
            continue
        if c == "/" and s.startswith("/*", i):
            j = s.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                tok = s[start:i].strip()
                if tok or out:
                    out.append(tok)
                return out, i + 1
            depth -= 1
        elif c == "," and depth == 0:
            out.append(s[start:i].strip())
            start = i + 1
        i += 1
    tok = s[start:].strip()
    if tok:
        out.append(tok)
    return out, -1


_ESC = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "f": "\f", "a": "\a", "b": "\b", "\\": "\\",
        '"': '"', "'": "'", "?": "?", "e": "\x1b"}


def _cstring(tok: str) -> str | None:
    tok = tok.strip()
    if tok.endswith("..."):
        tok = tok[:-3]
    if len(tok) < 2 or tok[0] != '"' or tok[-1] != '"':
        return None
    s = tok[1:-1]
    if "\\" not in s:
        return s
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= len(s):
            break
        c = s[i]
        if c == "x":
            m = re.match(r"[0-9a-fA-F]{1,2}", s[i + 1:])
            out.append(chr(int(m.group(0), 16)) if m else "x")
            i += 1 + (len(m.group(0)) if m else 0)
        elif c in "01234567":
            m = re.match(r"[0-7]{1,3}", s[i:])
            assert m is not None             # c is an octal digit
            out.append(chr(int(m.group(0), 8)))
            i += len(m.group(0))
        else:
            out.append(_ESC.get(c, c))
            i += 1
    return "".join(out)


_NUM = re.compile(r"^-?(?:0x[0-9a-fA-F]+|\d+)$")


def _int(tok: str) -> int:
    """C literal: 0x1f, 017 (octal, as strace prints modes), 42, -1."""
    neg = tok.startswith("-")
    t = tok[1:] if neg else tok
    if len(t) > 1 and t[0] == "0" and t[1] not in "xX":
        v = int(t, 8)
    else:
        v = int(t, 0)
    return -v if neg else v


def _number(tok: str, symbols: dict, unknown: list | None = None) -> int | None:
    """A strace/kdump integer: decimal, hex, NULL, symbolic names joined with '|', `N<<NAME`,
    `~(...)`, or kdump's `0x3<PROT_READ|PROT_WRITE>` (the number wins)."""
    tok = tok.strip()
    if not tok:
        return None
    if "=" in tok and not tok.startswith("~"):          # keyword argument: flags=...
        tok = tok.split("=", 1)[1]
    if tok.startswith("<unused>"):
        tok = tok[len("<unused>"):]
    m = re.match(r"^(-?(?:0x[0-9a-fA-F]+|\d+))<.*>$", tok)
    if m:
        tok = m.group(1)
    if _NUM.match(tok):
        return _int(tok)
    if tok.startswith("~(") and tok.endswith(")"):
        v = _number(tok[2:-1], symbols, unknown)
        return None if v is None else ~v
    if tok.startswith("[") and tok.endswith("]"):       # [MCL_CURRENT] style sets
        tok = tok[1:-1].replace(" ", "|")
    total = 0
    for part in tok.split("|"):
        part = part.strip()
        if not part:
            continue
        if _NUM.match(part):
            total |= _int(part)
            continue
        if "<<" in part:
            a, b = part.split("<<", 1)
            va, vb = _number(a, symbols, unknown), _number(b, symbols, unknown)
            if va is None or vb is None:
                return None
            total |= va << vb
            continue
        v = symbols.get(part)
        if v is None:
            if unknown is not None:
                unknown.append(part)
            continue
        total |= v
    return total


def _fd(tok: str) -> tuple[int | None, str | None]:
    """`3</path>` -> (3, "/path");  `-1` -> (-1, None);  `AT_FDCWD</cwd>` -> (-100, "/cwd")."""
    tok = tok.strip()
    path = None
    i = tok.find("<")
    if i > 0 and tok.endswith(">"):
        path = tok[i + 1:-1]
        tok = tok[:i]
    if tok == "AT_FDCWD":
        return L.AT_FDCWD, path
    if _NUM.match(tok):
        v = _int(tok)
        if v == 0xFFFFFFFF:
            v = -1
        return v, path
    return None, path


def _vector(tok: str) -> tuple[list[int] | None, bool]:
    tok = tok.strip()
    if not (tok.startswith("[") and tok.endswith("]")):
        return None, False
    body = tok[1:-1].strip()
    if not body:
        return [], False
    out = []
    truncated = False
    for part in body.split(","):
        part = part.strip()
        if part == "...":
            truncated = True
            continue
        m = re.match(r"^(\d+)(?:\s*<repeats (\d+) times>)?$", part)
        if m:
            out.extend([int(m.group(1))] * int(m.group(2) or 1))
        else:
            truncated = True
    return out, truncated


# -- decoding table -------------------------------------------------------------------------------
# per syscall: argument names and kinds; "n" number, "f:<table>" flags, "fd", "s" string, "v" vector
_ANY = "n"
_LINUX_SIGS = {
    "mmap": [("addr", "n"), ("length", "n"), ("prot", "f"), ("flags", "f"), ("fd", "fd"),
             ("offset", "n")],
    "munmap": [("addr", "n"), ("length", "n")],
    "mprotect": [("addr", "n"), ("length", "n"), ("prot", "f")],
    "pkey_mprotect": [("addr", "n"), ("length", "n"), ("prot", "f"), ("pkey", "n")],
    "madvise": [("addr", "n"), ("length", "n"), ("advice", "f")],
    "mincore": [("addr", "n"), ("length", "n"), ("vec", "v")],
    "mlock": [("addr", "n"), ("length", "n")],
    "munlock": [("addr", "n"), ("length", "n")],
    "mlock2": [("addr", "n"), ("length", "n"), ("flags", "f")],
    "mlockall": [("flags", "f")],
    "munlockall": [],
    "msync": [("addr", "n"), ("length", "n"), ("flags", "f")],
    "mremap": [("addr", "n"), ("old_length", "n"), ("new_length", "n"), ("flags", "f"),
               ("new_addr", "n")],
    "brk": [("addr", "n")],
    "open": [("path", "s"), ("oflags", "f"), ("mode", "n")],
    "openat": [("dirfd", "fd"), ("path", "s"), ("oflags", "f"), ("mode", "n")],
    "creat": [("path", "s"), ("mode", "n")],
    "close": [("fd", "fd")],
    "execve": [("path", "s")],
    "execveat": [("dirfd", "fd"), ("path", "s")],
    "exit": [("status", "n")],
    "exit_group": [("status", "n")],
    "fork": [],
    "vfork": [],
}
_LINUX_SIGS["mmap2"] = _LINUX_SIGS["mmap"]
_LINUX_SIGS["old_mmap"] = _LINUX_SIGS["mmap"]

_FREEBSD_O = {"O_RDONLY": 0, "O_WRONLY": 1, "O_RDWR": 2, "O_NONBLOCK": 4, "O_APPEND": 8,
              "O_SHLOCK": 0x10, "O_EXLOCK": 0x20, "O_ASYNC": 0x40, "O_FSYNC": 0x80,
              "O_SYNC": 0x80, "O_NOFOLLOW": 0x100, "O_CREAT": 0x200, "O_TRUNC": 0x400,
              "O_EXCL": 0x800, "O_NOCTTY": 0x8000, "O_DIRECT": 0x10000, "O_DIRECTORY": 0x20000,
              "O_EXEC": 0x40000, "O_CLOEXEC": 0x100000}
FREEBSD_SYMBOLS: dict[str, int] = {n: v for n, v in vars(mman).items()
                                   if n.isupper() and isinstance(v, int)}
FREEBSD_SYMBOLS.update(_FREEBSD_O)
FREEBSD_SYMBOLS.update({"AT_FDCWD": -100, "NULL": 0})

_FREEBSD_SIGS = {
    "mmap": [("addr", "n"), ("length", "n"), ("prot", "f"), ("flags", "f"), ("fd", "fd")],
    "freebsd6_mmap": [("addr", "n"), ("length", "n"), ("prot", "f"), ("flags", "f"),
                      ("fd", "fd")],
    "munmap": [("addr", "n"), ("length", "n")],
    "mprotect": [("addr", "n"), ("length", "n"), ("prot", "f")],
    "madvise": [("addr", "n"), ("length", "n"), ("advice", "f")],
    "mincore": [("addr", "n"), ("length", "n"), ("vec", "n")],
    "mlock": [("addr", "n"), ("length", "n")],
    "munlock": [("addr", "n"), ("length", "n")],
    "mlockall": [("flags", "f")],
    "munlockall": [],
    "msync": [("addr", "n"), ("length", "n"), ("flags", "f")],
    "minherit": [("addr", "n"), ("length", "n"), ("inherit", "f")],
    "break": [("addr", "n")],
    "obreak": [("addr", "n")],
    "sbrk": [("incr", "n")],
    "open": [("path_ptr", "n"), ("oflags", "f"), ("mode", "n")],
    "openat": [("dirfd", "fd"), ("path_ptr", "n"), ("oflags", "f"), ("mode", "n")],
    "close": [("fd", "fd")],
    "execve": [("path_ptr", "n")],
    "exit": [("status", "n")],
    "sys_exit": [("status", "n")],
    "fork": [],
    "vfork": [],
    "rfork": [("flags", "n")],
}


def _decode(name: str, toks: list[str], sigs: dict, symbols: dict, rec_info: dict) -> dict:
    sig = sigs.get(name)
    if sig is None:
        return {"raw_args": toks}
    args: dict[str, Any] = {}
    unknown: list = []
    for (aname, kind), tok in zip(sig, toks, strict=False):
        if kind == "s":
            s = _cstring(tok)
            args[aname] = s if s is not None else tok
        elif kind == "fd":
            fd, path = _fd(tok)
            args[aname] = fd
            if path is not None:
                args["path" if aname == "fd" else aname + "_path"] = path
        elif kind == "v":
            vec, trunc = _vector(tok)
            args[aname] = vec
            if trunc:
                rec_info["vec_truncated"] = True
        else:
            args[aname] = _number(tok, symbols, unknown)
    if unknown:
        rec_info["unknown_symbols"] = unknown
    return args


# -- strace ---------------------------------------------------------------------------------------
_ST_PREFIX = re.compile(r"^\s*(?:\[pid\s+(\d+)\]\s*|(\d+)\s+)?"
                        r"(?:(?:\d\d:\d\d:\d\d(?:\.\d+)?|\d+\.\d+)\s+)?")
_ST_RET = re.compile(r"^\s*=\s*(?P<val>-?\d+|0x[0-9a-fA-F]+|\?)(?:<(?P<deco>.*?)>)?"
                     r"(?:\s+(?P<err>E[A-Z0-9_]+)(?:\s+\([^)]*\))?)?"
                     r"(?:\s+\([^)]*\))?(?:\s+<unavailable>)?(?:\s+<\d+\.\d+>)?\s*$")
_ST_CALL = re.compile(r"^([a-z_][a-z0-9_]*)\((.*)$", re.S)
_ST_RESUMED = re.compile(r"^<\.\.\. ([a-z_][a-z0-9_]*) resumed>\s?(.*)$", re.S)
_ST_SIGNAL = re.compile(r"^--- (SIG[A-Z0-9]+|stopped by (SIG[A-Z0-9]+))(?: (\{.*\}))? ---$")
_ST_EXIT = re.compile(r"^\+\+\+ exited with (-?\d+) \+\+\+$")
_ST_KILLED = re.compile(r"^\+\+\+ killed by (SIG[A-Z0-9]+)( \(core dumped\))? \+\+\+$")
_ST_SUPERSEDED = re.compile(r"^\+\+\+ superseded by execve in pid (\d+) \+\+\+$")
_UNFINISHED = " <unfinished ...>"
_FORKING = ("clone", "clone3", "fork", "vfork")


def _strace_complete(pid, name, body, lineno, raw, info) -> Record:
    """`body` is everything after `name(`: arguments, `)`, ` = result`."""
    toks, end = _split_args(body)
    rec = Record("call", pid, name, abi="linux", lineno=lineno, raw=raw, info=info)
    if name in ("clone", "clone3"):
        text = body[:end] if end > 0 else body
        m = re.search(r"flags=([A-Za-z0-9_|<>]+)", text)
        rec.args["flags"] = _number(m.group(1), L.SYMBOLS) if m else 0
    else:
        rec.args = _decode(name, toks, _LINUX_SIGS, L.SYMBOLS, info)
    if end < 0:
        info["unparsed"] = "no closing parenthesis"
        return rec
    m = _ST_RET.match(body[end:])
    if not m:
        info["unparsed"] = f"result {body[end:].strip()!r}"
        return rec
    val = m.group("val")
    if val == "?":
        rec.ret = None
        info["result_unknown"] = True
    else:
        rec.ret = int(val, 0)
    if m.group("err"):
        rec.errno = m.group("err")
    elif rec.ret is not None and rec.ret < 0:
        rec.errno = f"E#{-rec.ret}"
    if m.group("deco") is not None:
        rec.args["ret_path"] = m.group("deco")
    return rec


def parse_strace(lines, keep_raw: bool = True,
                 unparsed: list[tuple[int, str]] | None = None) -> list[Record]:
    """Parse strace output (an iterable of lines) into records, in trace order.  Lines that are no
    strace record (program output, garbage) are skipped; with `unparsed`, each is appended to it as
    (line number, text)."""
    out: list[Record] = []
    pending: dict = {}          # pid -> (name, text after '(', first lineno)
    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        m = _ST_PREFIX.match(line)
        assert m is not None                # every group of the prefix is optional
        pid = m.group(1) or m.group(2)
        pid = int(pid) if pid else None
        body = line[m.end():]
        keep = line if keep_raw else ""
        if not body:
            continue
        c = body[0]
        if c == "+":
            m2 = _ST_EXIT.match(body)
            if m2:
                out.append(Record("exit", pid, "exit", abi="linux", lineno=lineno, raw=keep,
                                  info={"status": int(m2.group(1))}))
                pending.pop(pid, None)
                continue
            m2 = _ST_KILLED.match(body)
            if m2:
                out.append(Record("killed", pid, m2.group(1), abi="linux", lineno=lineno,
                                  raw=keep, info={"core": bool(m2.group(2))}))
                pending.pop(pid, None)
                continue
            m2 = _ST_SUPERSEDED.match(body)
            if m2:
                out.append(Record("exit", pid, "superseded", abi="linux", lineno=lineno, raw=keep,
                                  info={"by": int(m2.group(1))}))
                continue
        elif c == "-":
            m2 = _ST_SIGNAL.match(body)
            if m2:
                info = {}
                if m2.group(3):
                    for k, v in re.findall(r"(si_\w+)=([^,}]+)", m2.group(3)):
                        info[k] = v.strip()
                if m2.group(2):
                    info["stopped"] = True
                out.append(Record("signal", pid, m2.group(2) or m2.group(1), abi="linux",
                                  lineno=lineno, raw=keep, info=info))
                continue
        elif c == "<":
            m2 = _ST_RESUMED.match(body)
            if m2:
                name, rest = m2.group(1), m2.group(2)
                start = pending.pop(pid, None)
                info = {"resumed": True}
                if start is not None and start[0] == name:
                    text = start[1] + rest
                    info["started_at"] = start[2]
                else:
                    # the first half was not seen: results only
                    info["unparsed"] = "resumed without its start"
                    text = rest if rest.lstrip().startswith(")") else ")" + rest
                    text = text.lstrip()
                if rest.endswith(_UNFINISHED):     # resumed then interrupted again
                    pending[pid] = (name, text[:-len(_UNFINISHED)], lineno)
                    continue
                rec = _strace_complete(pid, name, text, lineno, keep, info)
                if "unparsed" in info and info["unparsed"] == "resumed without its start":
                    rec.args = {}
                out.append(rec)
                continue
        elif body.startswith("strace:") or body.startswith("[ Process"):
            continue
        m2 = _ST_CALL.match(body)
        if not m2:
            if unparsed is not None:                  # program output or unknown noise
                unparsed.append((lineno, line))
            continue
        name, rest = m2.group(1), m2.group(2)
        if rest.endswith(_UNFINISHED):
            pending[pid] = (name, rest[:-len(_UNFINISHED)], lineno)
            if name in _FORKING:
                # the child may run before the parent's call returns: say who is forking
                fm = re.search(r"flags=([A-Za-z0-9_|<>]+)", rest)
                out.append(Record("forking", pid, name, abi="linux", lineno=lineno, raw=keep,
                                  args={"flags": (_number(fm.group(1), L.SYMBOLS) if fm else
                                                  (L.CLONE_VM | L.CLONE_VFORK
                                                   if name == "vfork" else 0))}))
            continue
        if rest.endswith("<unfinished ...>)"):      # strace >= 6: "... <unfinished ...>)"
            pending[pid] = (name, rest[:-len("<unfinished ...>)")].rstrip(), lineno)
            continue
        out.append(_strace_complete(pid, name, rest, lineno, keep, {}))
    for pid, (name, text, lineno) in pending.items():
        rec = _strace_complete(pid, name, text + ") = ?", lineno, "", {"never_resumed": True})
        out.append(rec)
    return out


# -- kdump ----------------------------------------------------------------------------------------
_KD_LINE = re.compile(r"^\s*(?P<pid>\d+)(?:\s+(?P<tid>\d+))?\s+(?P<comm>\S+)\s+"
                      r"(?:(?P<ts>\d+\.\d+)\s+)?"
                      r"(?P<type>CALL|RET|NAMI|PSIG|GIO|STRU|SCTL|CSW|USER|EMUL|CAP|SIGN|ERR|"
                      r"PFLT|PRET|FAULT|FAULTEND|STRUCT|ARGS|ENV)\s+(?P<rest>.*)$")
_KD_RET = re.compile(r"^(?P<name>\w+)\s+(?:(?P<val>-?\d+)(?:/(?P<hex>0x[0-9a-fA-F]+))?"
                     r"(?:\s+errno\s+(?P<errno>\d+)(?:\s+.*)?)?|(?P<word>[A-Z]+))\s*$")


def _kd_args(text: str) -> tuple[str, list[str]]:
    m = re.match(r"^(\w+)(?:\((.*)\))?\s*$", text)
    if not m:
        return text.strip(), []
    name = m.group(1)
    body = m.group(2)
    if body is None or not body.strip():
        return name, []
    toks, _ = _split_args(body + ")")
    return name, toks


def _kd_finish(rec: Record, toks: list[str]) -> None:
    """Argument fixups: the mmap offset (pad, i386 halves) and fds as 32-bit ints."""
    if rec.name in ("mmap", "freebsd6_mmap"):
        nums = [_number(t, FREEBSD_SYMBOLS) or 0 for t in toks]
        if len(nums) >= 8:                      # i386 7.x: fd, pad, pos lo, pos hi
            rec.args["offset"] = nums[6] | (nums[7] << 32)
            rec.info["pad"] = True
        elif len(nums) == 7:                    # amd64 7.x: fd, pad, pos (or i386 8+: lo, hi)
            rec.args["offset"] = nums[6] if nums[5] == 0 else nums[5] | (nums[6] << 32)
            rec.info["pad"] = nums[5] == 0
        elif len(nums) == 6:
            rec.args["offset"] = nums[5]
        else:
            rec.args["offset"] = 0
    for k in ("fd", "dirfd"):
        v = rec.args.get(k)
        if isinstance(v, int) and v >= 0x80000000 and v <= 0xFFFFFFFF:
            rec.args[k] = v - (1 << 32)


def parse_kdump(lines, keep_raw: bool = True,
                unparsed: list[tuple[int, str]] | None = None) -> list[Record]:
    """Parse kdump output into records.  A line that is no kdump record and not an indented
    continuation of a NAMI/GIO dump is skipped; with `unparsed`, it is appended to it as (line
    number, text)."""
    out: list[Record] = []
    pending: dict = {}          # (pid, tid) -> Record awaiting its RET
    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        m = _KD_LINE.match(line)
        if not m:
            # continuation of a NAMI/GIO dump (indented), or noise
            if unparsed is not None and line.strip() and not line[:1].isspace():
                unparsed.append((lineno, line))
            continue
        pid = int(m.group("pid"))
        key = (pid, m.group("tid"))
        typ = m.group("type")
        rest = m.group("rest")
        keep = line if keep_raw else ""
        if typ == "CALL":
            name, toks = _kd_args(rest)
            info: dict = {}
            args = _decode(name, toks, _FREEBSD_SIGS, FREEBSD_SYMBOLS, info)
            rec = Record("call", pid, name, args=args, abi="freebsd", lineno=lineno, raw=keep,
                         info=info)
            _kd_finish(rec, toks)
            if name in ("exit", "sys_exit"):
                out.append(Record("exit", pid, "exit", abi="freebsd", lineno=lineno, raw=keep,
                                  info={"status": args.get("status")}))
                pending.pop(key, None)
                continue
            old = pending.pop(key, None)
            if old is not None:
                old.info["never_returned"] = True
                out.append(old)
            pending[key] = rec
        elif typ == "NAMI":
            named = pending.get(key)
            s = _cstring(rest)
            if named is not None and s is not None and "path" not in named.args:
                named.args["path"] = s
        elif typ == "RET":
            m2 = _KD_RET.match(rest.strip())
            rec = pending.pop(key, None)
            if m2 is None:
                if rec is not None:
                    rec.info["unparsed"] = f"RET {rest!r}"
                    rec.lineno = lineno
                    out.append(rec)
                continue
            name = m2.group("name")
            if rec is None or rec.name != name:
                if rec is not None:
                    rec.info["never_returned"] = True
                    out.append(rec)
                if name in ("fork", "vfork", "rfork") and m2.group("val") == "0":
                    continue                    # the child's side of fork
                rec = Record("call", pid, name, abi="freebsd", lineno=lineno, raw=keep,
                             info={"unparsed": "RET without its CALL"})
            rec.lineno = lineno
            if keep:
                rec.raw = (rec.raw + "\n" + keep) if rec.raw else keep
            if m2.group("word"):
                rec.ret = None
                rec.info["result_word"] = m2.group("word")
            elif m2.group("errno") is not None:
                rec.ret = -1
                rec.errno = L.freebsd_errno_name(int(m2.group("errno")))
            elif m2.group("hex"):
                rec.ret = int(m2.group("hex"), 16)
            else:
                rec.ret = int(m2.group("val"))
            if rec.name in ("fork", "vfork", "rfork") and rec.ret == 0:
                continue
            out.append(rec)
        elif typ == "PSIG":
            parts = rest.split()
            info = {"disposition": parts[1] if len(parts) > 1 else None}
            for p in parts[2:]:
                if "=" in p:
                    k, v = p.split("=", 1)
                    info[k] = v
            out.append(Record("signal", pid, parts[0] if parts else "?", abi="freebsd",
                              lineno=lineno, raw=keep, info=info))
    for rec in pending.values():
        rec.info["never_returned"] = True
        out.append(rec)
    return out


# -- format detection -----------------------------------------------------------------------------

def detect_format(lines: list[str]) -> str:
    kd = st = 0
    for line in lines[:200]:
        if _KD_LINE.match(line):
            kd += 1
        else:
            m = _ST_PREFIX.match(line)
            assert m is not None            # every group of the prefix is optional
            body = line[m.end():]
            if _ST_CALL.match(body) or body.startswith(("+++", "---", "<...")):
                st += 1
    return "kdump" if kd > st else "strace"


def parse_text(text: str, fmt: str = "auto") -> list[Record]:
    lines = text.splitlines()
    if fmt == "auto":
        fmt = detect_format(lines)
    return parse_kdump(lines) if fmt == "kdump" else parse_strace(lines)


def parse_file(path, fmt: str = "auto", keep_raw: bool = True) -> list[Record]:
    """The records of the trace file at `path` (see read_trace for what else is known)."""
    return read_trace(path, fmt, keep_raw).records


@dataclass
class ParsedTrace:
    """A trace file read: its records, the format that read it, the formats tried, its number of
    lines, and the lines no parser recognised (line number, text)."""

    records: list[Record]
    format: str
    formats_tried: tuple[str, ...]
    lines: int
    unparsed: list[tuple[int, str]] = field(default_factory=list)


FORMATS = ("strace", "kdump")


def read_trace(path, fmt: str = "auto", keep_raw: bool = True) -> ParsedTrace:
    """Read the trace file at `path` as `fmt` ("strace", "kdump", or "auto": the detected format,
    then the other one when the detected one finds no record).

    Returns:
        a ParsedTrace; its `records` is empty when no format recognised any record.

    Raises:
        OSError: the file cannot be read.
        ValueError: `fmt` is not a known format.
    """
    if fmt not in ("auto", *FORMATS):
        raise ValueError(f"unknown trace format {fmt!r}; choose auto, {', '.join(FORMATS)}")
    with open(os.fspath(path), encoding="utf-8", errors="replace") as f:
        lines = f.readlines()
    order = [fmt] if fmt != "auto" else [detect_format(lines)]
    if fmt == "auto":
        order += [x for x in FORMATS if x not in order]
    tried: list[str] = []
    best: ParsedTrace | None = None
    for name in order:
        tried.append(name)
        unparsed: list[tuple[int, str]] = []
        parser = parse_kdump if name == "kdump" else parse_strace
        recs = parser(lines, keep_raw, unparsed)
        got = ParsedTrace(recs, name, (), len(lines), unparsed)
        if best is None:
            best = got
        if recs:
            best = got
            break
    assert best is not None
    best.formats_tried = tuple(tried)
    return best
