"""Hyperparameter selection of the equal-budget protocol, read from tuning results.

Each tuning batch (one hyperparameter setting, several methods and seeds, evaluated on
the validation hold-out) is scored per method by one rule: a stability metric of the
task-1 curve (:func:`lcne.analysis.metrics.stability_metrics`) under one convention,
averaged over the seeds whose run did not diverge. The best setting per (benchmark,
method) wins; the test split is never looked at. Used by ``lcne sweep`` between its
tuning and test phases.

The convention decides which blocks enter avg-min-ACC, and so WC-ACC:

* ``"after-first"`` (the default, and of every new sweep spec): M_2..M_T. WC-ACC and
  avg-min-ACC then never read block 1, whose minimum is the accuracy of a network trained
  from scratch for a step or two -- a score that rewards a large learning rate, not a
  small stability gap. (avg-ACC still reads F_1 and avg-SG reads F_1 as the reference of
  SG_2: the accuracy reached at the end of task 1.)
* ``"code"`` (the authors' released code): M_1..M_{T-1}; kept for the earlier studies.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterable, Mapping, Optional, Sequence, Tuple

import numpy as np
import xarray as xr

from lcne.analysis.metrics import CONVENTIONS, finite_curves, stability_metrics
from lcne.analysis.results_io import open_batch
from lcne.analysis.schema import METHOD_DIM
from lcne.analysis.vocabulary import SUMMARY_METRICS, metric

__all__ = ["SELECTION_METRICS", "score_methods", "rank_settings", "select_settings"]

#: metrics a selection may use -> +1 (higher is better) or -1 (lower is better): the
#: summary metrics with their direction from :data:`lcne.analysis.vocabulary.METRICS`
SELECTION_METRICS = {key: metric(key).better for key in SUMMARY_METRICS}


def _check(metric_name: str, convention: str) -> None:
    if metric_name not in SELECTION_METRICS:
        raise ValueError(f"metric must be one of {', '.join(SELECTION_METRICS)}, got {metric_name!r}")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}")


def score_methods(ds: xr.Dataset, metric: str, convention: str = "after-first") -> Dict[str, float]:
    """Seed-mean ``metric`` (under ``convention``) of the task-1 curve per method, over
    the runs that did not diverge (:func:`lcne.analysis.metrics.finite_curves`); NaN when
    every run diverged."""
    _check(metric, convention)
    ipt = int(ds.attrs["iterations_per_task"])
    out = {}
    for method in ds[METHOD_DIM].values:
        _, curves, _ = finite_curves(ds, str(method))
        vals = [stability_metrics(c, ipt, convention)[metric] for c in curves]
        out[str(method)] = float(np.mean(vals)) if vals else np.nan
    return out


def rank_settings(paths: Iterable[Path], metric: str, keys: Sequence[str], convention: str = "after-first",
                  names: Optional[Mapping[str, Mapping[str, str]]] = None) -> Dict[Tuple[str, str], tuple]:
    """Best ``(score, setting)`` per (benchmark, method) over tuning batch files; see
    :func:`select_settings`. Ties keep the file that comes first in ``paths``."""
    _check(metric, convention)
    sign = SELECTION_METRICS[metric]
    best: Dict[Tuple[str, str], tuple] = {}
    for p in paths:
        ds = open_batch(p)
        cfg = json.loads(ds.attrs["config"])
        setting = {k: cfg[k] for k in keys}
        rename = (names or {}).get(str(p), {})
        for method, score in score_methods(ds, metric, convention).items():
            key = (cfg["benchmark"], rename.get(method, method))
            if np.isfinite(score) and (key not in best or sign * score > sign * best[key][0]):
                best[key] = (score, setting)
    return best


def select_settings(paths: Iterable[Path], metric: str, keys: Sequence[str], convention: str = "after-first",
                    names: Optional[Mapping[str, Mapping[str, str]]] = None) -> Dict[Tuple[str, str], Dict]:
    """Best setting per (benchmark, method) over tuning batch files.

    Parameters
    ----------
    paths : iterable of paths
        Tuning batch files (one ``config`` entry each, as written by ``lcne sweep``).
    metric : str
        One of :data:`SELECTION_METRICS`.
    keys : sequence of str
        The run options that vary in the sweep (its grid); a setting is their values.
    convention : {"after-first", "code"}
        Convention of avg-min-ACC (and so of WC-ACC); see the module docstring.
    names : mapping, optional
        ``{str(path): {method in the file: name}}``: the name each method's choice is
        filed under (a sweep's optimizer name, e.g. the method ``ngm+adaptive`` of the
        spec); methods a file's mapping does not list keep their own name.

    Returns
    -------
    dict
        ``{(benchmark, method or name): {key: value}}`` for every method with a finite score.
    """
    return {k: v[1] for k, v in rank_settings(paths, metric, keys, convention, names).items()}
