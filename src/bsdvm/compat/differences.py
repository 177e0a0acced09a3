"""The catalogue of differences between FreeBSD 7 (bsdvm) and Linux, declared once.

Every difference a user can meet when comparing the model with Linux -- in the differential test
against the host kernel (tests/test_differential.py) or in the replay of a real program's trace
(`bsdvm replay`) -- is one `Difference` row of `DIFFERENCES`, with the FreeBSD 7 rule behind it (the
IDs of ../shared/spec/freebsd7-vm.md, or the sys/compat/linux function for the Linux layer).  Three
readers, one table:

* docs/differences.md is generated from it (`python -m bsdvm.compat.differences > docs/differences.md`;
  a test fails when the file is stale);
* the differential test tolerates exactly the rows with `differential=True`;
* the replay engine's disagreement classes name rows through `replay_class` (and the calls it covers):
  a disagreement whose class and call match a row differs *by design*; any other is unexplained.

Imports nothing from bsdvm: a pure table.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Difference:
    """One by-design difference between FreeBSD 7 and Linux.

    Attributes:
        id: the stable identifier (docs/differences.md's `id` column), e.g. "MUNMAP-HOLE".
        situation: when it happens (Markdown).
        freebsd: what FreeBSD 7, and so bsdvm, does.
        linux: what Linux does.
        rule: the spec rule IDs (or FreeBSD source function) that make FreeBSD behave so.
        resync: what the differential test does on the bsdvm side to bring both systems back into
            the same state ("none" when nothing is needed); empty for rows it does not generate.
        differential: whether the differential test generates and tolerates this difference.
        replay_class: the replay engine's disagreement class for it, or None when replay never
            reports it as a disagreement (it cannot see it: residency, bytes, signals).
        replay_calls: the canonical call names the replay class covers here (empty: any call).
    """

    id: str
    situation: str
    freebsd: str
    linux: str
    rule: str
    resync: str = ""
    differential: bool = True
    replay_class: str | None = None
    replay_calls: tuple[str, ...] = ()


DIFFERENCES: tuple[Difference, ...] = (
    Difference(
        'MMAP-LEN0',
        situation='`mmap(addr, 0, ...)`',
        freebsd='success, nothing mapped, returns the hint',
        linux='EINVAL',
        rule='MMAP-12, VMM-1',
        resync='none',
        replay_class='mmap-len0', replay_calls=('mmap',)),
    Difference(
        'MUNMAP-HOLE',
        situation='`munmap` of a range that is not entirely mapped',
        freebsd='EINVAL, nothing unmapped',
        linux='0, the mapped parts are unmapped',
        rule='UNM-2, MAP-19',
        resync='unmap the mapped parts in bsdvm',
        replay_class='munmap-hole', replay_calls=('munmap',)),
    Difference(
        'MPROTECT-HOLE',
        situation='`mprotect` of a range with unmapped pages',
        freebsd='0, every mapped part changed; holes ignored',
        linux='ENOMEM; only the mapped run at the start of the range is changed',
        rule='PROT-2, MAP-21/23',
        resync='restore the old protection of the pages Linux left alone',
        replay_class='holes', replay_calls=('mprotect',)),
    Difference(
        'MADVISE-HOLE',
        situation='`madvise` of a range with unmapped pages',
        freebsd='0, holes ignored',
        linux='ENOMEM (the advice is still applied to the mapped parts)',
        rule='ADV-4, MAP-26',
        resync='none',
        replay_class='holes', replay_calls=('madvise',)),
    Difference(
        'MSYNC-HOLE',
        situation='`msync` of a range with unmapped pages',
        freebsd='EINVAL',
        linux='ENOMEM',
        rule='SYN-2, MAP-27/28 (7.x maps KERN_INVALID_ADDRESS to EINVAL; ENOMEM came later)',
        resync='none',
        replay_class='msync-hole', replay_calls=('msync',)),
    Difference(
        'MSYNC-LEN0',
        situation='`msync(addr, 0, ...)`',
        freebsd='syncs the whole entry containing `addr`; EINVAL if `addr` is unmapped',
        linux='0 whatever `addr` is',
        rule='SYN-3, MAP-27',
        resync='none'),
    Difference(
        'MINCORE-LEN0',
        situation='`mincore(addr, 0, vec)` at an unmapped `addr`',
        freebsd='ENOMEM',
        linux='0',
        rule='MIN-3, MIN-10',
        resync='none'),
    Difference(
        'MLOCK-LEN0',
        situation='`mlock(addr, 0)` at an unmapped `addr` (root)',
        freebsd='ENOMEM',
        linux='0',
        rule='MAP-36 (bsdvm takes the later `start == end` fix: KERN_INVALID_ADDRESS in a hole)',
        resync='none'),
    Difference(
        'MLOCK-HOLE',
        situation='`mlock`/`munlock` of a range with unmapped pages (root)',
        freebsd='ENOMEM, all or nothing: nothing locked or unlocked (pages faulted before the hole stay resident)',
        linux='ENOMEM, but the mapped run at the start of the range is locked/unlocked (not faulted in)',
        rule='MLK-5, MUL-1, MAP-31..35',
        resync='lock/unlock that run in bsdvm; its residency is not compared until touched'),
    Difference(
        'UNALIGNED',
        situation='an address that is not page aligned given to `mprotect`, `madvise`, `msync`, `mincore`',
        freebsd='rounded: `addr` truncated and the page offset added to the length '
                '(`mincore`: the length alone is rounded)',
        linux='EINVAL',
        rule='section 11 preamble, ADV-4, MIN-1',
        resync='restore the old protection (`mprotect`)',
        replay_class='alignment', replay_calls=('mprotect', 'madvise', 'msync', 'mincore')),
    Difference(
        'DONTNEED',
        situation='`madvise(MADV_DONTNEED)` on private mappings',
        freebsd='the pages keep their data and stay resident (they are only deactivated)',
        linux='private anonymous pages read as zeros again, private file pages re-read the file; not resident',
        rule='ADV-4, MAP-25, OBJ-15, PAGE-6',
        resync="the pages' bytes and residency are not compared until a whole-page write, munmap or a new mapping"),
    Difference(
        'DONTNEED-LOCKED',
        situation='`madvise(MADV_DONTNEED)` over mlocked pages (root)',
        freebsd='0',
        linux='EINVAL',
        rule='MAP-25 (7.x has no such restriction)',
        resync='as DONTNEED'),
    Difference(
        'WIRED-COW-WRITE',
        situation='root `mlock` of a private file mapping without PROT_WRITE, then `mprotect` adding WRITE, '
                  'then a write',
        freebsd='the write faults (SIGSEGV/SEGV_ACCERR) while the pages stay wired',
        linux='the write succeeds (Linux breaks COW when write-enabling a locked mapping)',
        rule='FLT-12, MAP-45 (erratum, docs/errata.md)',
        resync="the page's bytes are not compared afterwards"),
    Difference(
        'MINCORE-FILE',
        situation='`mincore` residency of file-backed pages',
        freebsd="the pages in the entry's own object, i.e. faulted in through a mapping",
        linux='the page cache, filled by `write(2)` and read-ahead too',
        rule='MIN-6, PGR-4',
        resync='the bit is not compared for file pages'),
    Difference(
        'MINCORE-FILL',
        situation='`mincore` vector bytes after an entry without an object (never touched) and at the end of the range',
        freebsd='the MIN-7/8 index arithmetic: the byte before each skipped run is zeroed'
                " and the last byte left unwritten (0 in bsdvm's fresh vector)",
        linux='one exact byte per page',
        rule='MIN-7, MIN-8 (erratum)',
        resync="the test computes the FreeBSD vector from Linux's residency and bsdvm's entries"),
    Difference(
        'HINT-PLACEMENT',
        situation='non-fixed `mmap` whose hint range is taken',
        freebsd='first fit at or above the hint',
        linux='top-down search elsewhere',
        rule='MAP-11, VMM-8',
        resync='only "placed at the hint or not" is compared; a mapping placed elsewhere is unmapped on both'),
    Difference(
        'FAULT-SIGNAL',
        situation='access beyond EOF of a file mapping, or to PROT_NONE / read-only memory',
        freebsd='SIGSEGV (SEGV_ACCERR for a 7.x binary)',
        linux='SIGBUS beyond EOF, SIGSEGV otherwise',
        rule='FLT-14',
        resync='only "faulted" is compared'),
    # -- seen in replays of real programs; the differential test does not generate them ---------
    Difference(
        'MUNMAP-UNALIGNED',
        situation='`munmap` at an address that is not page aligned',
        freebsd='the address is truncated, the page offset added to the length, and the range unmapped',
        linux='EINVAL',
        rule='UNM-1, section 11 preamble',
        differential=False, replay_class='alignment', replay_calls=('munmap',)),
    Difference(
        'MSYNC-ASYNC-INVALIDATE',
        situation='`msync(..., MS_ASYNC|MS_INVALIDATE)`',
        freebsd='EINVAL',
        linux='0',
        rule='SYN-1',
        differential=False, replay_class='msync-flags', replay_calls=('msync',)),
    Difference(
        'MLOCK-PRIV',
        situation='`mlock`, `munlock`, `mlockall`, `munlockall` by a process that is not root',
        freebsd='EPERM: PRIV_VM_MLOCK / PRIV_VM_MUNLOCK are needed whatever the limits',
        linux='allowed within RLIMIT_MEMLOCK (munlock always)',
        rule='MLK-1, MUL-1, MLA-1, PRIV-1',
        differential=False, replay_class='privilege',
        replay_calls=('mlock', 'munlock', 'mlockall', 'munlockall')),
    Difference(
        'MLOCK-LIMITS',
        situation='`mlock`/`mlockall` near the wiring limits',
        freebsd='RLIMIT_MEMLOCK per process (ENOMEM) and vm.max_wired for the whole system (EAGAIN); '
                'root (the default replaying user) passes the privilege check',
        linux='RLIMIT_MEMLOCK only, unless CAP_IPC_LOCK; the traced user may have been refused',
        rule='MLK-1, MLK-3, MLK-4, MLA-2',
        differential=False, replay_class='wire-limit', replay_calls=('mlock', 'mlockall')),
    Difference(
        'MAX-PROC-MMAP',
        situation='a process with many map entries calls `mmap`',
        freebsd='ENOMEM once the map has vm.max_proc_mmap entries (set at boot from the kernel map size)',
        linux='allowed up to vm.max_map_count (65530 by default)',
        rule='MMAP-9, PAGE-9',
        differential=False, replay_class='max-proc-mmap', replay_calls=('mmap',)),
    Difference(
        'MMAP-MIN-ADDR',
        situation='`mmap` of a fixed address below 64 KiB',
        freebsd='allowed: only the map\'s bounds limit the address',
        linux='EPERM below vm.mmap_min_addr',
        rule='MMAP-6, MAP-2',
        differential=False, replay_class='mmap-min-addr', replay_calls=('mmap',)),
    Difference(
        'MREMAP-GROW',
        situation='Linux `mremap` growing a mapping (in place or with MREMAP_MAYMOVE)',
        freebsd='ENOMEM: FreeBSD 7\'s Linux layer only shrinks (it unmaps the tail)',
        linux='grows in place or moves the mapping',
        rule='linux_mremap (sys/compat/linux/linux_misc.c)',
        differential=False, replay_class='mremap-grow', replay_calls=('mremap',)),
    Difference(
        'LINUX-LAYER',
        situation='a Linux flag or form that FreeBSD 7\'s Linux layer does not implement (unknown '
                  'madvise advice, MADV_WIPEONFORK, mremap flags, mlock2 flags, msync on an unaligned '
                  'address, an inconsistent MAP_SHARED/MAP_PRIVATE pair)',
        freebsd='EINVAL from the Linux layer before the FreeBSD call',
        linux='accepted',
        rule='linux_mmap_common, linux_mprotect, linux_madvise, linux_msync, linux_mremap, linux_mlock2 '
             '(sys/compat/linux)',
        differential=False, replay_class='linux-layer'),
    Difference(
        'GROWSDOWN',
        situation='Linux `mmap(..., MAP_GROWSDOWN)`',
        freebsd='the Linux layer maps a FreeBSD MAP_STACK region of STACK_SIZE - GUARD_SIZE bytes ending '
                'at the requested top, which vm_map_stack may refuse',
        linux='a mapping of the requested size that grows down on faults below it',
        rule='linux_mmap_common, VMM-9, MAP-38, MAP-39',
        differential=False, replay_class='growsdown', replay_calls=('mmap',)),
    Difference(
        'READ-IMPLIES-EXEC',
        situation='a Linux/i386 program maps memory readable',
        freebsd='the Linux/i386 layer adds PROT_EXEC (READ_IMPLIES_EXEC of the 7.x linux.ko)',
        linux='PROT_EXEC only when asked (or with the READ_IMPLIES_EXEC personality)',
        rule='VMM-7, linux_mmap_common',
        differential=False, replay_class='read-implies-exec', replay_calls=('mmap', 'mprotect')),
)

BY_ID: dict[str, Difference] = {d.id: d for d in DIFFERENCES}


def differential_ids() -> frozenset[str]:
    """The ids of the differences the differential test generates and tolerates.

    Returns:
        a frozenset of `Difference.id` strings.
    """
    return frozenset(d.id for d in DIFFERENCES if d.differential)


def replay_classes() -> frozenset[str]:
    """The replay disagreement classes that name a by-design difference.

    Returns:
        a frozenset of class names ("holes", "mremap-grow", ...).
    """
    return frozenset(d.replay_class for d in DIFFERENCES if d.replay_class)


def for_replay(replay_class: str, call: str) -> Difference | None:
    """The difference a replay disagreement of `replay_class` on `call` is, if any.

    Args:
        replay_class: the class of the replay engine's reason ("holes", "alignment", ...).
        call: the canonical memory call it happened on ("mprotect", "munmap", ...).

    Returns:
        the matching `Difference`, or None when the class names no by-design difference for that
        call (the disagreement is then unexplained).
    """
    for d in DIFFERENCES:
        if d.replay_class == replay_class and (not d.replay_calls or call in d.replay_calls):
            return d
    return None


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_INTRO = """\
# FreeBSD 7 (bsdvm) versus Linux: differences by design

<!-- Generated from src/bsdvm/compat/differences.py by
     `python -m bsdvm.compat.differences > docs/differences.md`; edit the table there. -->

Every difference between FreeBSD 7 (and so bsdvm) and Linux that bsdvm knows of is one row below, with the
FreeBSD 7 rule behind it (`../shared/spec/freebsd7-vm.md`, or the `sys/compat/linux` function for the
Linux layer).  The rows are declared once, in `src/bsdvm/compat/differences.py`, and read by three users:

* `tests/test_differential.py` runs random call sequences on the POSIX-common subset of the mapping calls
  both on the host kernel (Linux, through ctypes in a forked child) and on bsdvm, and compares success or
  errno, the bytes read back, the residency bit of `mincore` and the file contents at the end. It
  tolerates exactly the differences of the first table and treats any other as a bug. "Resync" says what
  the test does on the bsdvm side so that both systems are in the same state again afterwards.
* `bsdvm replay` classifies each call of a real program's trace as agreeing, differing *by design* (its
  disagreement class and call match a row's "replay class": the row's id and rule are reported) or
  differing *without explanation* (a model bug or an unknown).
* this document.
"""

_NOT_GENERATED = """\
Not generated by the differential test (the state could not be brought back together, or the test runs
as one user): unaligned `munmap` (MUNMAP-UNALIGNED below), `mlock` of PROT_NONE memory (FLT-3 strips
WRITE from `max_protection` in FreeBSD 7; Linux allows a later `mprotect(PROT_WRITE)`), `mlock` of file
pages beyond EOF (FreeBSD ENOMEM all or nothing; Linux locks the range then reports ENOMEM), and non-root
`mlock` (MLOCK-PRIV below).
"""


def render_markdown() -> str:
    """docs/differences.md, generated from `DIFFERENCES`.

    Returns:
        the Markdown text of the document.
    """
    out = [_INTRO, "## Tested against the host kernel (the differential test)\n",
           "| id | situation | FreeBSD 7 / bsdvm | Linux | rule | resync | replay class |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for d in DIFFERENCES:
        if d.differential:
            out.append(f"| {d.id} | {_cell(d.situation)} | {_cell(d.freebsd)} | {_cell(d.linux)} | "
                       f"{_cell(d.rule)} | {_cell(d.resync)} | {d.replay_class or '-'} |")
    out += ["", _NOT_GENERATED, "## Seen in replays of real programs\n",
            "| id | situation | FreeBSD 7 / bsdvm | Linux | rule | replay class |",
            "| --- | --- | --- | --- | --- | --- |"]
    for d in DIFFERENCES:
        if not d.differential:
            out.append(f"| {d.id} | {_cell(d.situation)} | {_cell(d.freebsd)} | {_cell(d.linux)} | "
                       f"{_cell(d.rule)} | {d.replay_class or '-'} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import sys
    sys.stdout.write(render_markdown())
