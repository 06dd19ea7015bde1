"""Seed statistics of the stability metrics under both seed conventions (the
seed-averaged curve with propagated errors, and per-seed metrics)."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from lcne.analysis.gap_gain.stats import bootstrap_ci
from lcne.analysis.gap_gain.switches import pick_methods
from lcne.analysis.results_io import run_info, task1_accuracy

__all__ = ["seed_statistics"]


def seed_statistics(ds: xr.Dataset, *, methods: Optional[Sequence[str]] = None, eval_task: int = 1,
                    convention: str = "code", percent: bool = False, n_boot: int = 2000, ci: float = 0.95,
                    seed: int = 0) -> pd.DataFrame:
    """The paper's metrics under both seed conventions, side by side, with bootstrap CIs.

    *Paper convention*: metrics of the seed-averaged curve with the error propagated from
    the per-iteration population sd across seeds
    (:func:`lcne.analysis.metrics.propagated_metrics`).
    *Per-seed convention*: the metrics of each seed's curve, then mean, sd (ddof=1) and a
    percentile bootstrap CI of the mean over seeds. With few seeds (the paper uses 5) the
    bootstrap CI is narrow and optimistic; ``n_seeds`` is reported so readers can judge.

    Parameters
    ----------
    ds : Dataset
    methods : sequence of str, optional
    eval_task : int
    convention : {"code", "after-first"}
        Blocks that enter avg-min-ACC (see :mod:`lcne.analysis.metrics`).
    percent : bool
        Report accuracy-type metrics in percent (SG is always a fraction).
    n_boot, ci, seed
        Bootstrap settings.

    Returns
    -------
    pandas.DataFrame
        One row per (method, metric) for ``avg_acc``, ``avg_min_acc``, ``wc_acc``,
        ``avg_sg`` and ``sg_2..sg_T``: ``paper_value``, ``paper_err``, ``seed_mean``,
        ``seed_sd``, ``boot_low``, ``boot_high``, ``n_seeds`` (runs the values are over) and
        ``n_diverged`` (runs left out because they diverged; a method whose every run
        diverged has one ``avg_acc`` row of NaN with ``n_seeds`` 0).
    """
    from lcne.analysis.metrics import finite_curves, propagated_metrics, stability_metrics

    info = run_info(ds)
    I = info["iterations_per_task"]
    acc = task1_accuracy(ds, eval_task)
    rows = []
    for opt in pick_methods(ds, methods):
        _, curves, n_runs = finite_curves(ds, opt, eval_task)  # surviving seeds x iterations
        if not len(curves):  # every run diverged: one row saying so, never dropped silently
            rows.append(dict(method=opt, metric="avg_acc", paper_value=np.nan, paper_err=np.nan, seed_mean=np.nan,
                             seed_sd=np.nan, boot_low=np.nan, boot_high=np.nan, n_seeds=0, n_diverged=n_runs))
            continue
        vals, errs = propagated_metrics(curves.mean(axis=0), curves.std(axis=0), I, convention)
        per_seed = [stability_metrics(c, I, convention) for c in curves]
        for key, value, err, seed_vals in _metric_rows(vals, errs, per_seed):
            f = 100.0 if (percent and not key.startswith(("sg", "avg_sg"))) else 1.0
            sv = np.asarray(seed_vals, dtype=float) * f
            lo, hi = bootstrap_ci(sv, n_boot=n_boot, ci=ci, seed=seed)
            rows.append(dict(method=opt, metric=key, paper_value=float(value) * f, paper_err=float(err) * f,
                             seed_mean=float(np.mean(sv)), seed_sd=float(np.std(sv, ddof=1)) if sv.size > 1 else np.nan,
                             boot_low=lo, boot_high=hi, n_seeds=int(sv.size),
                             n_diverged=n_runs - int(sv.size)))
    return pd.DataFrame(rows)


def _metric_rows(vals, errs, per_seed):
    for key in ("avg_acc", "avg_min_acc", "wc_acc", "avg_sg"):
        yield key, vals[key], errs[key], [p[key] for p in per_seed]
    for i in range(len(vals["sg"])):
        yield f"sg_{i + 2}", vals["sg"][i], errs["sg"][i], [p["sg"][i] for p in per_seed]
