"""One-way imports between lcne's four layers, checked on the source (AST, nothing imported).

The rules (docs/architecture.md shows the same table):

    importer            | may import (besides the standard library and third-party packages)
    --------------------|---------------------------------------------------------------------
    lcne (core)         | lcne (core)
    lcne.models         | lcne (core), lcne.models
    lcne.analysis       | lcne (core), lcne.analysis
    lcne.experiments    | lcne (core), lcne.models, lcne.experiments,
                        |   and lcne.analysis only from its front ends:
                        |   lcne.experiments.cli, lcne.experiments.cli_*, lcne.experiments.sweep
                        |   (any analysis module) and lcne.experiments.results (lcne.analysis.schema,
                        |   the results contract, only)

"lcne (core)" is every ``lcne.*`` module outside the three layers, ``lcne.spiking`` included.
Always forbidden, in every layer:

* the bare top-level names ``models``, ``analysis``, ``experiments``;
* ``from M import _name`` where M is another module of the package (private names stay
  private; importing a private *module*, ``from . import _impl``, is fine);
* a cycle of imports that run at import time (module level; imports inside functions do
  not count).

Imports inside functions, methods and ``try`` blocks count for the arrows. The walk and
the graph live in ``docs/scripts/import_graph.py`` (``python docs/scripts/import_graph.py``
prints the graph); this file holds the rules.
"""
from __future__ import annotations

import configparser
import fnmatch
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

_spec = importlib.util.spec_from_file_location("lcne_import_graph", REPO / "docs" / "scripts" / "import_graph.py")
graph = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = graph  # dataclasses look their module up while the file executes
_spec.loader.exec_module(graph)

CORE, MODELS, ANALYSIS, EXPERIMENTS = graph.CORE, graph.MODELS, graph.ANALYSIS, graph.EXPERIMENTS

# ---------------------------------------------------------------------------------------
# The rule table. importer layer -> layers it may import.
ALLOWED = {
    CORE: {CORE},
    MODELS: {CORE, MODELS},
    ANALYSIS: {CORE, ANALYSIS},
    EXPERIMENTS: {CORE, MODELS, EXPERIMENTS},
}
# The exceptions for lcne.experiments -> lcne.analysis:
# importing experiments module (fnmatch pattern) -> analysis modules it may import.
EXPERIMENTS_MAY_IMPORT_ANALYSIS = {
    "lcne.experiments.cli": ("lcne.analysis", "lcne.analysis.*"),  # front end
    "lcne.experiments.cli_*": ("lcne.analysis", "lcne.analysis.*"),  # front-end subcommands
    "lcne.experiments.sweep": ("lcne.analysis", "lcne.analysis.*"),  # orchestration
    "lcne.experiments.results": ("lcne.analysis.schema",),  # the results contract only
}
# ---------------------------------------------------------------------------------------


def _matches(name: str, patterns) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _arrow_allowed(importer: str, target: str) -> str | None:
    """None if ``importer -> target`` is allowed, else the reason."""
    src, dst = graph.layer_of(importer), graph.layer_of(target)
    if dst is None:  # standard library, third party
        return None
    if dst == graph.BARE:
        return f"bare top-level name {target.split('.')[0]!r}: use lcne.{target}"
    if dst == graph.UNRESOLVED:
        return "relative import beyond the top-level package"
    if dst in ALLOWED[src]:
        return None
    if src == EXPERIMENTS and dst == ANALYSIS:
        for pattern, allowed in EXPERIMENTS_MAY_IMPORT_ANALYSIS.items():
            if fnmatch.fnmatchcase(importer, pattern):
                if _matches(target, allowed):
                    return None
                return f"{importer} may import only {', '.join(allowed)} from lcne.analysis"
        return "only the front ends (cli, cli_*, sweep) and results (schema only) may import lcne.analysis"
    return f"{src} may not import {dst}"


def _is_private(name: str | None) -> bool:
    return bool(name) and name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def check(root: Path = REPO) -> dict[str, list[str]]:
    """Violations in the tree at ``root``, by kind ("arrow", "private", "cycle"), each one
    line ``file:line importer -> imported (reason)``."""
    records = graph.collect_imports(root)
    known = set(graph.module_files(root))
    found: dict[str, list[str]] = {"arrow": [], "private": [], "cycle": []}
    for rec in records:
        where = f"{rec.path}:{rec.line} {rec.importer} -> {rec.target}"
        reason = _arrow_allowed(rec.importer, rec.target)
        if reason and f"{where} ({reason})" not in found["arrow"]:  # one line per statement
            found["arrow"].append(f"{where} ({reason})")
        if (
            _is_private(rec.name)
            and graph.layer_of(rec.target) in ALLOWED
            and rec.target != rec.importer
        ):
            found["private"].append(f"{where} (private name {rec.name!r})")
    for component in graph.module_cycles(records, known):
        members = set(component)
        found["cycle"].append("import-time cycle among " + ", ".join(component) + ":")
        for rec in records:
            line = f"    {rec.path}:{rec.line} {rec.importer} -> {rec.target}"
            if rec.import_time and rec.importer in members and rec.target in members and rec.target != rec.importer:
                if line not in found["cycle"]:
                    found["cycle"].append(line)
    return found


def _fail_if_any(lines: list[str], what: str) -> None:
    if lines:
        pytest.fail(f"{what} ({sum(not l.startswith('    ') for l in lines)}):\n" + "\n".join(lines), pytrace=False)


# --- the real tree ----------------------------------------------------------------------


def test_the_tree_is_found():
    files = graph.module_files(REPO)
    for name in ("lcne", "lcne.models", "lcne.analysis", "lcne.experiments", "lcne.experiments.cli"):
        assert name in files, name
    assert len(graph.collect_imports(REPO)) > 100


def test_no_forbidden_arrows():
    _fail_if_any(check(REPO)["arrow"], "forbidden imports between layers")


def test_no_private_names_imported_from_other_modules():
    _fail_if_any(check(REPO)["private"], "private names imported from another module")


def test_no_import_time_cycles():
    _fail_if_any(check(REPO)["cycle"], "import cycles at module level")


def test_the_rule_table_itself_has_no_cycle():
    table = {src: dsts - {src} for src, dsts in ALLOWED.items()}
    table[EXPERIMENTS] |= {ANALYSIS}  # the front-end exception
    assert graph.strongly_connected(table) == []


# --- the checker can fail ---------------------------------------------------------------


def _write(root: Path, rel: str, text: str = "") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def test_checker_reports_each_violation_in_a_synthetic_tree(tmp_path):
    for pkg in ("lcne", "models", "analysis", "experiments"):
        _write(tmp_path, f"{pkg}/__init__.py")
    # violations
    _write(tmp_path, "lcne/errors.py", "import lcne.experiments.runner\n")
    _write(tmp_path, "lcne/spiking/__init__.py", "")
    _write(tmp_path, "lcne/spiking/figures.py", "from lcne.analysis.style import COLOURS\n")
    _write(tmp_path, "analysis/metrics.py", """\
        import numpy as np

        def table(ds):
            try:
                from lcne.experiments.x import helper
            except ImportError:
                helper = None
            return helper
        """)
    _write(tmp_path, "analysis/figures.py", "from lcne.models.mlp import GainMLP\n")
    _write(tmp_path, "models/mlp.py", """\
        class GainMLP:
            def fit(self):
                from ..experiments import runner
        """)
    _write(tmp_path, "experiments/runner.py", "from models import GainMLP\nfrom lcne.analysis.metrics import table\n")
    _write(tmp_path, "experiments/cli_report.py", "from lcne.experiments.cli import _positive\n")
    _write(tmp_path, "experiments/results.py", "from lcne.analysis.schema import SCHEMA_VERSION\nfrom lcne.analysis import metrics\n")
    _write(tmp_path, "experiments/a.py", "from . import b\n")
    _write(tmp_path, "experiments/b.py", "from lcne.experiments.a import thing\n")
    # allowed
    _write(tmp_path, "analysis/schema.py", "SCHEMA_VERSION = 2\n")
    _write(tmp_path, "experiments/cli.py", """\
        import argparse
        from lcne import __version__
        from lcne.analysis.metrics import table
        from lcne.experiments import runner
        from . import _impl

        def main():
            from lcne.experiments import bench
        """)
    _write(tmp_path, "experiments/_impl.py", "from ._helpers import go\n")
    _write(tmp_path, "experiments/_helpers.py", "def go(): pass\n")
    _write(tmp_path, "experiments/bench.py", """\
        from lcne.models.mlp import GainMLP

        def run():
            from lcne.experiments.cli import main  # function level: no import-time cycle
        """)
    _write(tmp_path, "experiments/sweep.py", "import lcne.analysis.metrics\n")

    found = check(tmp_path)
    arrows, private, cycles = "\n".join(found["arrow"]), "\n".join(found["private"]), "\n".join(found["cycle"])
    assert "lcne/errors.py:1 lcne.errors -> lcne.experiments.runner (lcne (core) may not import lcne.experiments)" in arrows
    assert "lcne/spiking/figures.py:1 lcne.spiking.figures -> lcne.analysis.style (lcne (core) may not import lcne.analysis)" in arrows
    assert "analysis/metrics.py:5 lcne.analysis.metrics -> lcne.experiments.x" in arrows
    assert "analysis/figures.py:1 lcne.analysis.figures -> lcne.models.mlp" in arrows
    assert "models/mlp.py:3 lcne.models.mlp -> lcne.experiments.runner" in arrows
    assert "experiments/runner.py:1 lcne.experiments.runner -> models (bare top-level name 'models'" in arrows
    assert "experiments/runner.py:2 lcne.experiments.runner -> lcne.analysis.metrics (only the front ends" in arrows
    assert "experiments/results.py:2 lcne.experiments.results -> lcne.analysis.metrics (lcne.experiments.results may import only lcne.analysis.schema" in arrows
    assert len(found["arrow"]) == 8, arrows
    assert found["private"] == [
        "experiments/cli_report.py:1 lcne.experiments.cli_report -> lcne.experiments.cli (private name '_positive')"
    ]
    assert found["cycle"] == [
        "import-time cycle among lcne.experiments.a, lcne.experiments.b:",
        "    experiments/a.py:1 lcne.experiments.a -> lcne.experiments.b",
        "    experiments/b.py:1 lcne.experiments.b -> lcne.experiments.a",
    ], cycles
    # the script sees the same tree
    text = graph.report(tmp_path)
    assert "Layer-level cycles (any import): 1\n  lcne (core) <-> lcne.analysis <-> lcne.experiments <-> lcne.models" in text
    assert "lcne.experiments.a <-> lcne.experiments.b" in text


def test_import_records_module_names_and_levels(tmp_path):
    _write(tmp_path, "analysis/__init__.py", "from .gap import stats\n")
    _write(tmp_path, "analysis/gap/__init__.py", "from .stats import f\nfrom .. import style\n")
    _write(tmp_path, "analysis/gap/stats.py", "def f():\n    import lcne.analysis.style as s\n")
    _write(tmp_path, "analysis/style.py", "import importlib\nm = importlib.import_module('lcne.analysis.gap')\n")
    got = {(r.importer, r.target, r.name, r.import_time, r.statement) for r in graph.collect_imports(tmp_path)}
    assert got == {
        ("lcne.analysis", "lcne.analysis.gap.stats", None, True, "from"),
        ("lcne.analysis.gap", "lcne.analysis.gap.stats", "f", True, "from"),
        ("lcne.analysis.gap", "lcne.analysis.style", None, True, "from"),
        ("lcne.analysis.gap.stats", "lcne.analysis.style", None, False, "import"),
        ("lcne.analysis.style", "importlib", None, True, "import"),
        ("lcne.analysis.style", "lcne.analysis.gap", None, True, "dynamic"),
    }


# --- packaging ----------------------------------------------------------------------------


def _setup_cfg() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    return cfg


def test_every_package_folder_is_listed_in_setup_cfg():
    listed = set(_setup_cfg()["options"]["packages"].split())
    on_disk = {
        graph.module_name(init, REPO)
        for folder in graph.SOURCE_FOLDERS
        for init in (REPO / folder).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk - listed == set(), f"package folders missing from setup.cfg [options] packages: {sorted(on_disk - listed)}"
    assert listed - on_disk == set(), f"setup.cfg lists packages with no folder: {sorted(listed - on_disk)}"


def test_package_dir_matches_the_folders():
    lines = [l.split("=") for l in _setup_cfg()["options"]["package_dir"].strip().splitlines()]
    mapping = {name.strip(): folder.strip() for name, folder in lines}
    assert mapping == {name: folder for folder, name in graph.SOURCE_FOLDERS.items()}


def test_import_lcne_is_light(tmp_path):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    code = "import sys, lcne; print(lcne.__version__); print('torch' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    version, torch_loaded = proc.stdout.split()
    assert version == _setup_cfg()["metadata"]["version"]
    assert torch_loaded == "False", "import lcne imported torch"
