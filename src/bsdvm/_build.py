"""Which build of the VM core runs: compiled or pure Python (issue 10).

setup.py compiles COMPILED_MODULES with mypyc into extension modules that sit beside their sources
(`bsdvm/vm/map.cpython-311-x86_64-linux-gnu.so` beside `map.py`) plus one shared library,
`bsdvm_vm__mypyc`, that holds their code.  Python's import system prefers an extension module to a
source file, so an installed compiled build loads by itself; this module decides whether to let it.
Invariant: the compiled modules call each other's functions and use each other's native classes
directly, so either every one of them loads from its extension module or none does.  The pure-Python
build is chosen when BSDVM_PURE_PYTHON is set (to anything but "" or "0"), when any compiled module
or the shared library is missing, or when any source file is newer than the shared library (an
edit since the last build: running the stale code would ignore the edit), the last three with a
warning (no warning when none is compiled: a pure-Python install).  Staleness is judged by the
shared library, which holds the compiled code, not by the per-module extension modules: those are
stubs that import their module from the shared library, and a rebuild leaves a stub whose C did
not change (every stub, after an edit of a module's body) with the time of the first build.
Must be imported before any bsdvm.vm module (bsdvm/__init__.py does so first).  Imports nothing
from bsdvm, so setup.py can read COMPILED_MODULES from it without importing the package.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from types import ModuleType
from typing import Sequence

# The VM core (sys/vm): the map, pmap, fault, object, page and pager modules and vm_mmap.c itself.
COMPILED_MODULES = tuple(f"bsdvm.vm.{name}" for name in (
    "param", "page", "pmap", "object", "pager", "swap_pager", "vnode_pager", "device_pager",
    "map", "fault", "mmap", "pageout", "vm_system"))
GROUP_LIBRARY = "bsdvm_vm__mypyc"       # mypycify(group_name="bsdvm_vm")
PURE_ENV = "BSDVM_PURE_PYTHON"
# The reasons for pure Python that are a choice, not a broken build: no warning for these.
PURE_BY_REQUEST = f"{PURE_ENV} is set"
NOT_COMPILED = "no compiled modules (built without mypyc, a C compiler or Python headers)"

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _paths(module: str, package_dir: str = _PACKAGE_DIR) -> tuple[str, list[str]]:
    """The source file of a compiled module and the extension-module files it could have."""
    base = os.path.join(package_dir, *module.split(".")[1:])
    return base + ".py", [base + suffix for suffix in importlib.machinery.EXTENSION_SUFFIXES]


def _existing(candidates: list[str]) -> str | None:
    """The first of candidates that exists, or None."""
    return next((c for c in candidates if os.path.exists(c)), None)


def _inspect(package_dir: str = _PACKAGE_DIR) -> tuple[bool, str]:
    """(whether the compiled build of the package in package_dir can run, why not).  The shared
    library is looked for beside the package directory, where setup.py puts it."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return False, PURE_BY_REQUEST
    sources = []
    for module in COMPILED_MODULES:
        source, candidates = _paths(module, package_dir)
        if _existing(candidates) is not None:
            sources.append((module, source))
    if not sources:
        return False, NOT_COMPILED
    if len(sources) < len(COMPILED_MODULES):
        return False, f"only {len(sources)} of {len(COMPILED_MODULES)} VM modules are compiled"
    library = _existing([os.path.join(os.path.dirname(package_dir), GROUP_LIBRARY + suffix)
                         for suffix in importlib.machinery.EXTENSION_SUFFIXES])
    if library is None:
        return False, f"the shared library {GROUP_LIBRARY} is missing"
    built = os.path.getmtime(library)
    stale = [module for module, source in sources if os.path.getmtime(source) > built]
    if stale:
        return False, f"sources edited since the build: {', '.join(stale)} (pip install -e . again)"
    return True, ""


class _SourceOnly(importlib.abc.MetaPathFinder):
    """Loads the compiled modules from their .py files, passing over their extension modules."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in COMPILED_MODULES:
            return None
        source, _ = _paths(fullname)
        return importlib.util.spec_from_file_location(fullname, source)


COMPILED, WHY_PURE = False, "not decided"
"""Whether the VM core runs compiled, and if not why (`bsdvm --version` shows both)."""

if __name__ == "bsdvm._build":          # imported by the package (setup.py only reads the lists)
    COMPILED, WHY_PURE = _inspect()
    if not COMPILED:
        if not any(isinstance(f, _SourceOnly) for f in sys.meta_path):
            sys.meta_path.insert(0, _SourceOnly())
        if WHY_PURE not in (PURE_BY_REQUEST, NOT_COMPILED):
            warnings.warn(f"bsdvm: running the pure-Python VM core: {WHY_PURE}", RuntimeWarning,
                          stacklevel=2)


def build_description() -> str:
    """One line: which build of the VM core this process runs, e.g. "compiled (mypyc)" or
    "pure Python (BSDVM_PURE_PYTHON is set)"."""
    if COMPILED:
        return "compiled (mypyc)"
    return f"pure Python ({WHY_PURE})"
