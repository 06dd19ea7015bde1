"""The results contract: what an lcne results file holds, and which versions exist.

One results file (netCDF, written by :mod:`lcne.experiments.results`) is an
:class:`xarray.Dataset` described in ``docs/results-schema.md``. This module is the single
place where its version, dimension names and required fields are defined; the writer
stamps :data:`SCHEMA_VERSION` into ``attrs["lcne_schema_version"]`` and the one reader
(:mod:`lcne.analysis.results_io`) checks files against the rest and upgrades the older
versions listed in :data:`HISTORY`. It imports nothing heavy, so the training side can
use it without loading the analysis stack.

Versions
--------
1
    Run axis named ``optimizer`` (it held methods such as ``shuffled-gain``, not only
    optimizers).
2
    Run axis renamed to ``method``; otherwise identical. Version-1 files are upgraded
    in memory when read (the file on disk is not touched).
"""
from __future__ import annotations

__all__ = [
    "SCHEMA_VERSION",
    "HISTORY",
    "METHOD_DIM",
    "RUN_DIMS",
    "CURVE_DIMS",
    "EVAL_DIMS",
    "SUBSET_DIMS",
    "REQUIRED_VARIABLES",
    "REQUIRED_ATTRS",
    "VERSION_ATTR",
    "TEMP_PREFIX",
    "temp_prefix",
    "is_temporary",
]

#: the one temporary-file rule shared by the writer and the readers: a file being written
#: is named ``.<stem>.<random><suffix>`` beside its target (hidden), so no reader ever
#: takes one for finished results (``lcne.experiments.results.atomic_path`` writes them,
#: ``lcne.analysis.results_io.results_files`` skips them)
TEMP_PREFIX = "."


def temp_prefix(stem: str) -> str:
    """Prefix of the temporary files of a target with stem ``stem`` (for ``tempfile.mkstemp``).

    >>> temp_prefix("split-mnist"), is_temporary(temp_prefix("split-mnist") + "k2j1.nc")
    ('.split-mnist.', True)
    """
    return f"{TEMP_PREFIX}{stem}."


def is_temporary(name: str) -> bool:
    """True for a file name that follows the temporary-file rule (never finished results)."""
    return str(name).startswith(TEMP_PREFIX)

#: version written by this lcne
SCHEMA_VERSION = 2

#: version -> what changed in it (the reader upgrades every older version listed here)
HISTORY = {
    1: "run axis 'optimizer'",
    2: "run axis renamed 'optimizer' -> 'method'",
}

#: attribute holding the version
VERSION_ATTR = "lcne_schema_version"

#: the run axis: one entry per training method (``ngm``, ``sgd``, ``fixed-gain``, ...)
METHOD_DIM = "method"
#: dimensions of per-run scalars (``diverged_at``)
RUN_DIMS = (METHOD_DIM, "seed")
#: dimensions of per-iteration traces (``gain``, ``entropy``, ``drive``, ...)
CURVE_DIMS = (METHOD_DIM, "seed", "iteration")
#: dimensions of evaluations (``accuracy``, ``loss``)
EVAL_DIMS = (METHOD_DIM, "seed", "iteration", "eval_task")

#: dimensions of the fixed evaluation subsets (``eval_index``, optional: runs with ``eval_subset``)
SUBSET_DIMS = (METHOD_DIM, "seed", "eval_task", "subset_item")

#: data variables every results file has, with the dimensions each must carry
REQUIRED_VARIABLES = {"accuracy": EVAL_DIMS, "gain": CURVE_DIMS}

#: integer attributes every results file has (both >= 1; iterations = their product)
REQUIRED_ATTRS = ("iterations_per_task", "n_tasks")
