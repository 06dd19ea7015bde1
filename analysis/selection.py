"""Hyperparameter selection of the equal-budget protocol, read from tuning results.

Each tuning batch (one hyperparameter setting, several methods and seeds, evaluated on
the validation hold-out) is scored per method by one rule: a stability metric of the
task-1 curve (:func:`lcne.analysis.metrics.stability_metrics`), averaged over the seeds
whose curve is finite. The best setting per (benchmark, method) wins; the test split is
never looked at. Used by ``lcne sweep`` between its tuning and test phases.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np
import xarray as xr

from lcne.analysis.metrics import finite_curves, stability_metrics
from lcne.analysis.results_io import open_results
from lcne.analysis.schema import METHOD_DIM
from lcne.analysis.vocabulary import SUMMARY_METRICS, metric

__all__ = ["SELECTION_METRICS", "score_methods", "select_settings"]

#: metrics a selection may use -> +1 (higher is better) or -1 (lower is better): the
#: summary metrics with their direction from :data:`lcne.analysis.vocabulary.METRICS`
SELECTION_METRICS = {key: metric(key).better for key in SUMMARY_METRICS}


def score_methods(ds: xr.Dataset, metric: str) -> Dict[str, float]:
    """Seed-mean ``metric`` of the task-1 curve per method over the runs that did not
    diverge (:func:`lcne.analysis.metrics.finite_curves`); NaN when every run diverged."""
    ipt = int(ds.attrs["iterations_per_task"])
    out = {}
    for method in ds[METHOD_DIM].values:
        _, curves, _ = finite_curves(ds, str(method))
        vals = [stability_metrics(c, ipt)[metric] for c in curves]
        out[str(method)] = float(np.mean(vals)) if vals else np.nan
    return out


def select_settings(paths: Iterable[Path], metric: str, keys: Sequence[str]) -> Dict[Tuple[str, str], Dict]:
    """Best setting per (benchmark, method) over tuning batch files.

    Parameters
    ----------
    paths : iterable of paths
        Tuning batch files (one ``config`` entry each, as written by ``lcne sweep``).
    metric : str
        One of :data:`SELECTION_METRICS`.
    keys : sequence of str
        The run options that vary in the sweep (its grid); a setting is their values.

    Returns
    -------
    dict
        ``{(benchmark, method): {key: value}}`` for every method with a finite score.
    """
    sign = SELECTION_METRICS[metric]
    best: Dict[Tuple[str, str], tuple] = {}
    for p in paths:
        ds = open_results(p)
        if "config" in ds.dims:
            ds = ds.isel(config=0)
        cfg = json.loads(ds.attrs["config"])
        setting = {k: cfg[k] for k in keys}
        for method, score in score_methods(ds, metric).items():
            key = (cfg["benchmark"], method)
            if np.isfinite(score) and (key not in best or sign * score > sign * best[key][0]):
                best[key] = (score, setting)
    return {k: v[1] for k, v in best.items()}
