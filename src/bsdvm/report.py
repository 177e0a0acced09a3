"""Text renderings of the model's state: `procstat -v` and vmstat tables.  Reads only; calls the
Process/Kernel inspection methods."""
from __future__ import annotations

from . import mman

TP_NAMES = {"default": "df", "swap": "sw", "vnode": "vn", "device": "dv", "phys": "ph", "dead": "dd",
       None: "--"}


def prot_str(prot: int) -> str:
    return ("r" if prot & mman.PROT_READ else "-") + ("w" if prot & mman.PROT_WRITE else "-") + \
        ("x" if prot & mman.PROT_EXEC else "-")


def flags_str(e) -> str:
    return ("C" if "COW" in e.flags else "-") + ("N" if "NEEDS_COPY" in e.flags else "-") + \
        ("W" if e.wired_count else "-") + ("D" if "GROWS_DOWN" in e.flags else "-")


def procstat_text(proc) -> str:
    """The columns of FreeBSD's `procstat -v` (PID START END PRT RES PRES REF SHD FL TP PATH)."""
    w = 18 if proc.kernel.arch.word_bits == 64 else 10
    lines = [f"{'PID':>5} {'START':>{w}} {'END':>{w}} PRT {'RES':>5} {'PRES':>5} {'REF':>4} "
             f"{'SHD':>4} FL   TP PATH"]
    for e in proc.maps():
        lines.append(
            f"{proc.pid:>5} {e.start:#{w}x} {e.end:#{w}x} {prot_str(e.prot)} {e.resident:>5} "
            f"{e.private_resident:>5} {e.ref_count:>4} {e.shadow_count:>4} {flags_str(e)} "
            f"{TP_NAMES.get(e.object_type, '--')} {e.path or ''}".rstrip())
    return "\n".join(lines)


def vmstat_diff(before: dict, after: dict) -> dict:
    return {k: (before.get(k, 0), v) for k, v in after.items()
            if isinstance(v, int) and before.get(k) != v}
