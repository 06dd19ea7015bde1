"""Lagged cross-correlation between the gain and the task-1 accuracy around switches.

Lags are in training iterations (see :mod:`lcne.analysis.gap_gain` for the time axis).
"""
from __future__ import annotations

import warnings
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from lcne.analysis.gap_gain.switches import switch_starts, window_length
from lcne.analysis.results_io import load_results
from lcne.analysis.results_io import run_info, task1_accuracy

__all__ = ["lagged_xcorr", "gain_gap_xcorr", "xcorr_summary"]


def lagged_xcorr(x, y, max_lag: int) -> tuple:
    """Pearson correlation of ``x[t]`` with ``y[t + lag]`` for lag = -max_lag..max_lag.

    A peak at a positive lag means ``x`` leads ``y`` by that many samples.

    Returns
    -------
    lags : ndarray of int
    r : ndarray of float
        NaN where fewer than 3 overlapping finite pairs exist or a series is constant.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of equal length, got {x.shape} and {y.shape}")
    lags = np.arange(-int(max_lag), int(max_lag) + 1)
    r = np.full(lags.size, np.nan)
    n = x.size
    for i, lag in enumerate(lags):
        if lag >= 0:
            a, b = x[: n - lag], y[lag:]
        else:
            a, b = x[-lag:], y[: n + lag]
        keep = np.isfinite(a) & np.isfinite(b)
        if keep.sum() < 3:
            continue
        a, b = a[keep], b[keep]
        sa, sb = a.std(), b.std()
        if sa == 0 or sb == 0:
            continue
        r[i] = float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))
    return lags, r


def gain_gap_xcorr(results, *, method: str = "ngm", eval_task: int = 1, max_lag: int = 20,
                   window: Optional[int] = None, signal: str = "gain") -> pd.DataFrame:
    """Lagged cross-correlation between the gain excursion and the accuracy drop, per switch.

    For each run and switch into context k, over ``t = 0..window``:
    ``x(t) = g(t) - g(0)`` (gain excursion) and ``y(t) = F_{k-1} - a(t)`` (accuracy drop,
    fraction). A positive lag means the gain excursion leads the drop.

    Returns
    -------
    pandas.DataFrame
        Long format: ``benchmark``, ``eta``, ``method``, ``seed``, ``switch``, ``lag``
        (iterations), ``r``.
    """
    rows = []
    for ds in load_results(results):
        info = run_info(ds)
        if method not in [str(o) for o in ds["method"].values]:
            continue
        acc = task1_accuracy(ds, eval_task).sel({"method": method})
        sig = ds[signal].transpose("method", "seed", "iteration").sel({"method": method})
        I = info["iterations_per_task"]
        for seed in ds["seed"].values:
            a = acc.sel(seed=seed).values
            g = sig.sel(seed=seed).values
            for k, s in switch_starts(I, info["n_tasks"]):
                w = window_length(I, window)
                x = g[s - 1:s + w] - g[s - 1]
                y = a[s - 1] - a[s - 1:s + w]
                lags, r = lagged_xcorr(x, y, min(max_lag, w - 2))
                for lag, rv in zip(lags, r):
                    rows.append(dict(benchmark=info["benchmark"], eta=info["eta"], method=method,
                                     seed=int(seed), switch=k, lag=int(lag), r=rv))
    if not rows:
        raise ValueError(f"method {method!r} is in none of the results")
    return pd.DataFrame(rows)


def xcorr_summary(xc: pd.DataFrame, *, by: Sequence[str] = ("benchmark",), n_boot: int = 2000,
                  ci: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Mean cross-correlation per lag with a bootstrap CI over runs (benchmark, eta, seed).

    Correlations are averaged in Fisher-z space (``arctanh``) and transformed back.
    The bootstrap resamples runs, keeping each run's switches together.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``lag``, ``r_mean``, ``ci_low``, ``ci_high``, ``n_runs``, and
        ``is_peak`` (True at the lag of the largest mean correlation within each group).
    """
    rng = np.random.default_rng(seed)
    out = []
    by = list(by)
    groups = xc.groupby(by) if by else [((), xc)]
    for key, sub in groups:
        key = key if isinstance(key, tuple) else (key,)
        z = sub.assign(z=np.arctanh(np.clip(sub["r"], -0.999999, 0.999999)))
        # one z-averaged curve per run
        per_run = z.groupby(["eta", "seed", "lag"])["z"].mean().unstack("lag")
        mat = per_run.values  # runs x lags
        lags = per_run.columns.values
        lo, hi = np.full(lags.size, np.nan), np.full(lags.size, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # lags with no finite r stay NaN
            mean = np.tanh(np.nanmean(mat, axis=0))
            if mat.shape[0] >= 2 and n_boot > 0:
                idx = rng.integers(0, mat.shape[0], size=(n_boot, mat.shape[0]))
                boots = np.tanh(np.nanmean(mat[idx], axis=1))  # n_boot x lags
                lo, hi = np.nanpercentile(boots, [50 * (1 - ci), 50 * (1 + ci)], axis=0)
        peak = int(np.nanargmax(mean)) if np.any(np.isfinite(mean)) else -1
        for i, lag in enumerate(lags):
            out.append({**dict(zip(by, key)), "lag": int(lag), "r_mean": mean[i], "ci_low": lo[i],
                        "ci_high": hi[i], "n_runs": mat.shape[0], "is_peak": i == peak})
    return pd.DataFrame(out)
