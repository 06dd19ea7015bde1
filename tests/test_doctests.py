"""The ``>>>`` examples of every module of the installed ``lcne`` package run and pass.

One test parameter per module that holds at least one doctest; its id is the module name
(``lcne.gilzenrat``, ``lcne.models.resnet``, ``lcne.analysis.metrics``, ...), so a layer can
be selected with ``-k``, e.g. ``-k "lcne and not analysis and not experiments"``.

The package is walked from the four package roots explicitly: in the editable install
``lcne.__path__`` holds only the ``lcne/`` folder, while ``lcne.models``,
``lcne.analysis`` and ``lcne.experiments`` live in the repository's ``models/``,
``analysis/`` and ``experiments/`` folders (``package_dir`` in ``setup.cfg``). In a wheel
install the walk of ``lcne`` already finds the three layers; names are de-duplicated.

A module whose import needs a missing optional dependency (``brian2``, ``pynwb``, ...) is
skipped with the reason; any other import error fails its parameter. Examples run with
``ELLIPSIS | NORMALIZE_WHITESPACE``, with matplotlib on the Agg backend and in a
temporary working directory, so an example that writes a file cannot litter the
repository.
"""
from __future__ import annotations

import doctest
import importlib
import io
import os
import pkgutil
import traceback
from typing import Dict, List, Optional, Tuple

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
try:  # before any module under test imports pyplot
    import matplotlib

    matplotlib.use("Agg", force=True)
except ImportError:  # pragma: no cover - matplotlib is a hard dependency of lcne
    pass

#: package roots that are walked (see the module docstring for why all four)
ROOTS = ("lcne", "lcne.models", "lcne.analysis", "lcne.experiments")
#: optional dependencies (extras in setup.cfg); an import that fails on one of them skips
OPTIONAL = frozenset({"brian2", "pynwb", "hdmf", "dask", "distributed", "sphinx", "myst_parser"})
OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

_FINDER = doctest.DocTestFinder()


def _walk() -> Tuple[List[str], Dict[str, str]]:
    """All module names under the four roots, sorted, and the packages the walk could not import."""
    names = set()
    walk_errors: Dict[str, str] = {}

    def onerror(name: str) -> None:
        walk_errors[name] = traceback.format_exc(limit=3)

    for root in ROOTS:
        package = importlib.import_module(root)
        names.add(root)
        for info in pkgutil.walk_packages(package.__path__, prefix=root + ".", onerror=onerror):
            names.add(info.name)
    return sorted(names | set(walk_errors)), walk_errors


def _missing_optional(exc: BaseException) -> Optional[str]:
    """The optional dependency whose absence caused ``exc``, if any.

    Follows the exception chain: ``lcne.spiking`` re-raises a missing ``brian2`` as an
    ``ImportError`` with an install hint, ``from`` the original ``ModuleNotFoundError``.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ImportError):
            root = (exc.name or "").split(".")[0]
            if root in OPTIONAL:
                return root
        exc = exc.__cause__ or exc.__context__
    return None


def _import(name: str):
    """``(module, None)``, or ``(None, (kind, message))`` with kind "skip" or "error"."""
    try:
        return importlib.import_module(name), None
    except Exception as exc:  # noqa: BLE001 - any import failure is reported by the test
        missing = _missing_optional(exc)
        if missing is not None:
            return None, ("skip", f"{name} needs the optional dependency {missing!r}, which is not installed")
        return None, ("error", traceback.format_exc())


def _doctests(module) -> List[doctest.DocTest]:
    """The module's doctests (objects defined in the module only), in a stable order."""
    tests = _FINDER.find(module, module.__name__)
    return sorted((t for t in tests if t.examples), key=lambda t: (t.name, t.lineno or 0))


def _collect():
    """All module names, those that hold doctests (or could not be imported), and import problems."""
    names, walk_errors = _walk()
    selected: List[str] = []
    problems: Dict[str, Tuple[str, str]] = {}
    for name in names:
        module, problem = _import(name)
        if problem is not None:
            selected.append(name)
            problems[name] = problem
        elif _doctests(module):
            selected.append(name)
    for name, text in walk_errors.items():
        problems.setdefault(name, ("error", text))
    return names, selected, problems


ALL_MODULES, MODULES, PROBLEMS = _collect()


def _layer(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 and parts[1] in ("models", "analysis", "experiments") else "lcne"


@pytest.mark.parametrize("name", MODULES, ids=MODULES)
def test_module_examples(name: str, monkeypatch, tmp_path) -> None:
    problem: Optional[Tuple[str, str]] = PROBLEMS.get(name)
    if problem is not None:
        kind, text = problem
        if kind == "skip":
            pytest.skip(text)
        pytest.fail(f"importing {name} failed:\n{text}", pytrace=False)
    module = importlib.import_module(name)
    monkeypatch.chdir(tmp_path)
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    report = io.StringIO()
    for test in _doctests(module):
        runner.run(test, out=report.write)
    result = runner.summarize(verbose=False)
    if result.failed:
        pytest.fail(f"{result.failed} of {result.attempted} examples of {name} failed:\n{report.getvalue()}",
                    pytrace=False)


def test_examples_are_found(record_property) -> None:
    """Guard against a walker that silently finds nothing: the package has doctest examples."""
    per_layer: Dict[str, int] = {}
    skipped: Dict[str, int] = {}
    for name in MODULES:
        if name in PROBLEMS:
            continue
        examples = [e for t in _doctests(importlib.import_module(name)) for e in t.examples]
        layer = _layer(name)
        per_layer[layer] = per_layer.get(layer, 0) + len(examples)
        skipped[layer] = skipped.get(layer, 0) + sum(bool(e.options.get(doctest.SKIP)) for e in examples)
    total, n_skipped = sum(per_layer.values()), sum(skipped.values())
    record_property("doctest_examples", total)
    record_property("doctest_examples_skipped", n_skipped)
    for layer in sorted(per_layer):
        record_property(f"doctest_examples[{layer}]", per_layer[layer])
    print(f"\ndoctest examples: {total} in {len(MODULES) - len(PROBLEMS)} modules, {n_skipped} marked +SKIP; "
          + "; ".join(f"{layer}: {per_layer[layer]} ({skipped[layer]} skipped)" for layer in sorted(per_layer)))
    assert total > 0, "no doctest examples found in the lcne package: the module walk is broken"
    assert total > n_skipped, "every doctest example of the lcne package is marked +SKIP"
    # each of the four roots was walked into (a broken package_dir mapping would lose a layer)
    for root in ROOTS:
        assert any(n.startswith(root + ".") for n in ALL_MODULES), f"the walk found no module under {root}"
