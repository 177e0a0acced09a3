"""Machine profiles (spec section 1): the machine-dependent constants of i386 and amd64.

A profile is immutable; the Kernel picks one at boot.  Address arithmetic in the VM wraps at
`word_bits`, as C's unsigned vm_offset_t does, so every profile carries its masks.  Imports nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True)
class Arch:
    name: str
    word_bits: int
    page_size: int
    nbpdr: int                      # superpage span, used by pmap_addr_hint
    vm_min_address: int
    vm_maxuser_address: int         # also USRSTACK
    maxtsiz: int
    dfldsiz: int
    maxdsiz: int
    dflssiz: int
    maxssiz: int
    sgrowsiz: int
    vm_kmem_size: int
    vm_kmem_size_scale: int
    vm_kmem_size_max: int
    read_is_exec: bool              # VM_PROT_READ_IS_EXEC
    sizeof_vm_map_entry: int
    text_base: int                  # where spawn() puts the exec image's text
    c_long_bits: int

    @cached_property                # read by every address computation of every system call
    def word_mask(self) -> int:
        return (1 << self.word_bits) - 1

    @property
    def page_shift(self) -> int:
        return self.page_size.bit_length() - 1

    @property
    def page_mask(self) -> int:
        return self.page_size - 1

    @property
    def usrstack(self) -> int:
        return self.vm_maxuser_address


AMD64 = Arch(
    name="amd64", word_bits=64, page_size=4096, nbpdr=2 * MiB,
    vm_min_address=0, vm_maxuser_address=0x0000800000000000,
    maxtsiz=128 * MiB, dfldsiz=128 * MiB, maxdsiz=32 * GiB, dflssiz=8 * MiB, maxssiz=512 * MiB,
    sgrowsiz=128 * KiB, vm_kmem_size=12 * MiB, vm_kmem_size_scale=3, vm_kmem_size_max=400 * MiB,
    read_is_exec=False, sizeof_vm_map_entry=112, text_base=0x400000, c_long_bits=64,
)

I386 = Arch(
    name="i386", word_bits=32, page_size=4096, nbpdr=4 * MiB,
    vm_min_address=0, vm_maxuser_address=0xBFC00000,
    maxtsiz=128 * MiB, dfldsiz=128 * MiB, maxdsiz=512 * MiB, dflssiz=8 * MiB, maxssiz=64 * MiB,
    sgrowsiz=128 * KiB, vm_kmem_size=12 * MiB, vm_kmem_size_scale=3, vm_kmem_size_max=320 * MiB,
    read_is_exec=True, sizeof_vm_map_entry=68, text_base=0x08048000, c_long_bits=32,
)

PROFILES = {"amd64": AMD64, "i386": I386}


def get(name: str) -> Arch:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown arch {name!r}; choose one of {sorted(PROFILES)}") from None


def parse_size(value) -> int:
    """Accept an int (bytes) or a string such as '64M', '1G', '512K', '4096'."""
    if isinstance(value, bool):
        raise TypeError("size must be an int or a string like '64M'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("size must not be negative")
        return value
    if isinstance(value, str):
        s = value.strip().upper().removesuffix("B").removesuffix("I")
        mult = 1
        if s and s[-1] in "KMGT":
            mult = {"K": KiB, "M": MiB, "G": GiB, "T": 1024 * GiB}[s[-1]]
            s = s[:-1]
        try:
            n = float(s) if "." in s else int(s, 0)
        except ValueError:
            raise ValueError(f"bad size {value!r}") from None
        if n < 0:
            raise ValueError("size must not be negative")
        return int(n * mult)
    raise TypeError("size must be an int or a string like '64M'")
