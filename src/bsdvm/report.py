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


def entry_dict(e) -> dict:
    """A map entry (Process.maps()) as plain data, for --json."""
    return dict(start=e.start, end=e.end, prot=e.prot, max_prot=e.max_prot,
                inheritance=e.inheritance, wired_count=e.wired_count, flags=sorted(e.flags),
                object_type=e.object_type, offset=e.offset, path=e.path, resident=e.resident,
                private_resident=e.private_resident, ref_count=e.ref_count,
                shadow_count=e.shadow_count)


# `vmstat -s` lines, in the order and wording of FreeBSD 7's vmstat(8) (dosum), for the counters the
# model keeps; FreeBSD's other lines (context switches, interrupts, ...) have no counterpart here.
VMSTAT_S_LINES = (
    ("v_forks", " fork() calls"), ("v_swapin", "swap pager pageins"),
    ("v_swappgsin", "swap pager pages paged in"), ("v_swapout", "swap pager pageouts"),
    ("v_swappgsout", "swap pager pages paged out"), ("v_vnodein", "vnode pager pageins"),
    ("v_vnodepgsin", "vnode pager pages paged in"), ("v_vnodeout", "vnode pager pageouts"),
    ("v_vnodepgsout", "vnode pager pages paged out"), ("v_pdwakeups", "page daemon wakeups"),
    ("v_pdpages", "pages examined by the page daemon"), ("v_reactivated", "pages reactivated"),
    ("v_cow_faults", "copy-on-write faults"), ("v_cow_optim", "copy-on-write optimized faults"),
    ("v_zfod", "zero fill pages zeroed"), ("v_ozfod", "zero fill pages prezeroed"),
    ("v_intrans", "intransit blocking page faults"), ("v_vm_faults", "total VM faults taken"),
    ("v_kthreads", "kernel threads created"), ("v_forkpages", "pages affected by  fork()"),
    ("v_tcached", "pages cached"), ("v_tfree", "pages freed"), ("v_dfree", "pages freed by daemon"),
    ("v_pfree", "pages freed by exiting processes"), ("v_active_count", "pages active"),
    ("v_inactive_count", "pages inactive"), ("v_cache_count", "pages in VM cache"),
    ("v_wire_count", "pages wired down"), ("v_free_count", "pages free"),
    ("v_page_size", "bytes per page"),
)


def vmstat_s_text(vmstat: dict) -> str:
    """FreeBSD's `vmstat -s`: one '%9u description' line per counter of `vmstat` (Kernel.vmstat())
    that FreeBSD's vmstat -s prints."""
    return "\n".join(f"{vmstat[name]:9d} {text}" for name, text in VMSTAT_S_LINES if name in vmstat)


def sysctl_text(values: dict, descriptions: dict | None = None) -> str:
    """`sysctl` output: 'name: value' per node of `values` (name -> int), or with `descriptions`
    (name -> text) `sysctl -d`'s 'name: description'."""
    if descriptions is not None:
        return "\n".join(f"{n}: {descriptions.get(n, '')}".rstrip() for n in values)
    return "\n".join(f"{n}: {v}" for n, v in values.items())
