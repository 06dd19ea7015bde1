"""Measurements that relate gain traces to stability-gap curves.

The paper (Rodriguez-Garcia et al. 2025) plots gain and task-1 accuracy side by side.
This package turns the picture into numbers, per task switch and per run, and relates
them across seeds, eta values, methods and benchmarks.

Time convention
---------------
For the switch into context k (k = 2..T) the first training iteration on the new data is
``s = (k - 1) * iterations_per_task``. Times are counted in training iterations on the
new context: ``t = iteration - (s - 1)``. So ``t = 0`` is the last iteration of context
k-1 (where the reference accuracy ``F_{k-1}`` and the pre-switch gain are read) and
``t = 1`` is the first step on the new data. Accuracy at index i is measured after
training step i with gain ``g[i]`` (see ``docs/results-schema.md``), so gain and
accuracy share this axis without shifting.

Units: accuracies are fractions in [0, 1]; gain is dimensionless; times are training
iterations; areas are (fraction or gain) x iterations.

Modules: :mod:`~lcne.analysis.gap_gain.switches` (per-switch gap and gain features),
:mod:`~lcne.analysis.gap_gain.xcorr` (lagged cross-correlation),
:mod:`~lcne.analysis.gap_gain.stats` (bootstrap CIs, regressions),
:mod:`~lcne.analysis.gap_gain.complexity` (task complexity),
:mod:`~lcne.analysis.gap_gain.seeds` (seed statistics). Every public name is re-exported here.
"""
from lcne.analysis.gap_gain.switches import (  # noqa: F401
    gain_features,
    gap_features,
    pick_methods,
    switch_starts,
    switch_table,
    window_length,
)
from lcne.analysis.gap_gain.xcorr import gain_gap_xcorr, lagged_xcorr, xcorr_summary  # noqa: F401
from lcne.analysis.gap_gain.stats import RegressionResult, bootstrap_ci, regress, relate  # noqa: F401
from lcne.analysis.gap_gain.complexity import TaskComplexity, task_complexity  # noqa: F401
from lcne.analysis.gap_gain.seeds import seed_statistics  # noqa: F401

__all__ = [
    "pick_methods",
    "window_length",
    "switch_starts",
    "gap_features",
    "gain_features",
    "switch_table",
    "lagged_xcorr",
    "gain_gap_xcorr",
    "xcorr_summary",
    "bootstrap_ci",
    "RegressionResult",
    "regress",
    "relate",
    "TaskComplexity",
    "task_complexity",
    "seed_statistics",
]
