"""The all-or-none rule of the compiled build (bsdvm._build, issue 10): every module of the VM core
loads from its extension module, or every one from its source file; and _inspect's decision of
which build may run, pinned on fake package trees.

BSDVM_EXPECT_COMPILED=1 makes the first test insist on the compiled build unless BSDVM_PURE_PYTHON
asks for pure Python (.ci/run, which has just built the extensions, sets it for both test runs, so a
build that silently fell back to pure Python fails)."""
from __future__ import annotations

import importlib
import importlib.machinery
import os
import subprocess
import sys

import pytest

from bsdvm import _build

EXT = importlib.machinery.EXTENSION_SUFFIXES[0]
M = len(_build.COMPILED_MODULES)


def _loaded_from_extension(module: str) -> bool:
    path = importlib.import_module(module).__file__ or ""
    return path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def test_every_vm_module_loads_from_the_build_chosen_all_or_none():
    if (os.environ.get("BSDVM_EXPECT_COMPILED") == "1"
            and os.environ.get(_build.PURE_ENV, "") in ("", "0")):
        assert _build.COMPILED, _build.build_description()
    if _build.COMPILED:
        assert all(_loaded_from_extension(m) for m in _build.COMPILED_MODULES)
        assert _build.GROUP_LIBRARY in sys.modules
        assert _build.build_description() == "compiled (mypyc)"
    else:
        for module in _build.COMPILED_MODULES:
            assert importlib.import_module(module).__file__ == _build._paths(module)[0]
        assert _build.build_description() == f"pure Python ({_build.WHY_PURE})"


def test_pure_python_env_loads_every_vm_module_from_its_source():
    """Whatever is built, BSDVM_PURE_PYTHON=1 runs the sources (with no warning: it was asked for)."""
    code = ("import importlib, bsdvm._build as b\n"
            "print(b.COMPILED, b.WHY_PURE)\n"
            "print(all(importlib.import_module(m).__file__ == b._paths(m)[0]"
            " for m in b.COMPILED_MODULES))\n")
    src = os.path.dirname(os.path.dirname(_build.__file__))
    env = dict(os.environ, BSDVM_PURE_PYTHON="1", PYTHONPATH=src)
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.splitlines() == ["False BSDVM_PURE_PYTHON is set", "True"]


# -- _inspect on a fake tree: <root>/bsdvm/vm/*.py, their extension modules, <root>/the library --

@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A package tree with every source, no extension module; BSDVM_PURE_PYTHON unset."""
    monkeypatch.delenv(_build.PURE_ENV, raising=False)
    package = tmp_path / "bsdvm"
    (package / "vm").mkdir(parents=True)
    for module in _build.COMPILED_MODULES:
        source, _ = _build._paths(module, str(package))
        _touch(source, 1000)
    return package


def _touch(path: str, mtime: float) -> None:
    with open(path, "w"):
        pass
    os.utime(path, (mtime, mtime))


def _compile(package, modules=_build.COMPILED_MODULES, stub_time=2000, library_time=2000):
    """Fake a build: an extension module beside each source in modules, and the shared library."""
    for module in modules:
        source, _ = _build._paths(module, str(package))
        _touch(source.removesuffix(".py") + EXT, stub_time)
    if library_time is not None:
        _touch(str(package.parent / (_build.GROUP_LIBRARY + EXT)), library_time)


def test_inspect_a_complete_fresh_build_runs_compiled(tree):
    _compile(tree)
    assert _build._inspect(str(tree)) == (True, "")


def test_inspect_nothing_compiled_is_pure_python(tree):
    ok, why = _build._inspect(str(tree))
    assert not ok and why.startswith("no compiled modules")


def test_inspect_some_modules_missing_is_pure_python(tree):
    _compile(tree, _build.COMPILED_MODULES[:-2])
    ok, why = _build._inspect(str(tree))
    assert not ok and why == f"only {M - 2} of {M} VM modules are compiled"


def test_inspect_missing_shared_library_is_pure_python(tree):
    _compile(tree, library_time=None)
    ok, why = _build._inspect(str(tree))
    assert not ok and why == f"the shared library {_build.GROUP_LIBRARY} is missing"


def test_inspect_a_source_newer_than_the_shared_library_is_pure_python(tree):
    _compile(tree)
    source, _ = _build._paths("bsdvm.vm.map", str(tree))
    os.utime(source, (3000, 3000))
    ok, why = _build._inspect(str(tree))
    assert not ok and why.startswith("sources edited since the build: bsdvm.vm.map ")


def test_inspect_a_rebuild_that_leaves_the_stubs_older_than_the_sources_runs_compiled(tree):
    """A rebuild after an edit relinks the shared library but keeps each stub whose C did not
    change, with the first build's time: the sources are newer than the stubs, yet not stale."""
    _compile(tree, stub_time=500, library_time=2000)
    assert _build._inspect(str(tree)) == (True, "")


@pytest.mark.parametrize("value, compiled", [("1", False), ("yes", False), ("0", True), ("", True)])
def test_inspect_pure_python_env_wins_over_a_complete_build(tree, monkeypatch, value, compiled):
    _compile(tree)
    monkeypatch.setenv(_build.PURE_ENV, value)
    assert _build._inspect(str(tree)) == (
        (True, "") if compiled else (False, f"{_build.PURE_ENV} is set"))
