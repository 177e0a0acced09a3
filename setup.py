"""Build script.  The package itself is described in pyproject.toml; this file adds only the compiled
build of the VM core: the modules in COMPILED are compiled to C extension modules with mypyc (which
comes with mypy, a build requirement), so that every system call, fault and user-memory copy runs
as native code.  The Python sources stay the reference: the same files are the pure-Python build.

The compiled build is optional in every way:
  * BSDVM_NO_COMPILE=1 at install time builds the pure-Python package only;
  * when mypyc cannot translate the modules (an unsupported mypy version) or no C compiler or
    Python headers are present, the install still succeeds, pure Python, with a warning;
  * BSDVM_PURE_PYTHON=1 at run time ignores installed extension modules (src/bsdvm/_build.py).
"""
from __future__ import annotations

import os
import runpy
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

# The modules to compile and the name of their one extension group are declared once, in
# src/bsdvm/_build.py (which decides at run time whether the compiled build loads).
_BUILD = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "src", "bsdvm",
                                     "_build.py"))
COMPILED = [os.path.join("src", *module.split(".")) + ".py" for module in _BUILD["COMPILED_MODULES"]]
GROUP = _BUILD["GROUP_LIBRARY"].removesuffix("__mypyc")


def compiled_extensions() -> list:
    if os.environ.get("BSDVM_NO_COMPILE"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("bsdvm: mypyc (mypy) is not installed: building pure Python only", file=sys.stderr)
        return []
    try:
        extensions = mypycify(COMPILED, opt_level="3", group_name=GROUP)
    except (SystemExit, Exception) as e:     # mypy reported errors: this mypy cannot compile them
        print(f"bsdvm: mypyc could not translate the VM core ({e!r}): building pure Python only",
              file=sys.stderr)
        return []
    for ext in extensions:
        ext.optional = True                  # no compiler or headers: setuptools skips, warns
    return extensions


class build_ext_stamped(build_ext):
    """build_ext that marks every extension module it produced as built now.  bsdvm/_build.py runs
    the compiled build only when no VM source is newer than the shared library; setuptools skips
    relinking an extension whose C did not change (an edit to a comment), which would leave the
    library older than the edited source and the fresh build judged stale."""

    def run(self) -> None:
        super().run()
        built = set(self.get_outputs())
        if self.inplace:                     # the copies beside the sources keep the copied times
            built |= set(self.get_output_mapping().values())
        for path in built:
            if os.path.exists(path):
                os.utime(path)


setup(ext_modules=compiled_extensions(), cmdclass={"build_ext": build_ext_stamped})
