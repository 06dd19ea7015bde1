"""Per-switch features of the task-1 accuracy (the gap) and of the gain, and their table.

Time convention and units: see :mod:`lcne.analysis.gap_gain`.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Union

import numpy as np
import pandas as pd
import xarray as xr

from lcne.analysis.results_io import load_results, run_info, task1_accuracy
from lcne.analysis.transients import fit_exp_decay, transient_features

__all__ = ["switch_starts", "window_length", "gap_features", "gain_features", "switch_table",
           "pick_methods"]


def switch_starts(iterations_per_task: int, n_tasks: int) -> List[tuple]:
    """``[(k, s_k)]`` for k = 2..n_tasks: context index and its first training iteration."""
    return [(k, (k - 1) * int(iterations_per_task)) for k in range(2, int(n_tasks) + 1)]


def _check_curve(y, iterations_per_task: int, name: str) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D curve, got shape {y.shape}")
    if iterations_per_task < 1 or y.size % iterations_per_task:
        raise ValueError(f"{name}: length {y.size} is not a multiple of iterations_per_task={iterations_per_task}")
    return y


def window_length(iterations_per_task: int, window: Optional[int] = None) -> int:
    """Iterations after a switch that the per-switch measures look at.

    The whole context (``iterations_per_task``) by default, else ``window`` capped at it.

    >>> window_length(200), window_length(200, 50), window_length(200, 500)
    (200, 50, 200)
    """
    w = iterations_per_task if window is None else min(int(window), iterations_per_task)
    if w < 1:
        raise ValueError(f"window: {window!r} must be >= 1 iteration")
    return w


def gap_features(acc, iterations_per_task: int, *, tolerance: float = 0.01,
                 window: Optional[int] = None) -> pd.DataFrame:
    """Stability-gap measures of one accuracy curve, one row per task switch.

    Parameters
    ----------
    acc : array_like, shape (n_tasks * iterations_per_task,)
        Accuracy (fraction) on the reference task, one value per training iteration.
    iterations_per_task : int
        Training iterations per context.
    tolerance : float
        Recovery means accuracy back within ``tolerance`` (fraction, 0.01 = one point)
        of the previous context's final accuracy ``F_{k-1}``.
    window : int, optional
        Iterations after the switch searched for the minimum (default: the whole next
        context, which is the paper's ``M_k``).

    Returns
    -------
    pandas.DataFrame
        Columns: ``switch`` (k), ``prev_final`` (F_{k-1}), ``min_acc`` (M_k),
        ``depth_abs`` (F_{k-1} - M_k), ``depth_rel`` (SG_k = depth_abs / F_{k-1}),
        ``t_min`` (iterations to the minimum), ``t_recover`` (iterations to the first
        sample at or after the minimum within tolerance; 0 when the curve never left the
        tolerance band; NaN when it did not recover inside the window), ``recovered``,
        ``gap_area`` (sum of ``max(F_{k-1} - a_t, 0)`` from t = 1 up to, not including,
        recovery; fraction x iterations).

    Notes
    -----
    ``depth_rel`` equals the paper's SG_k when ``window`` is the whole context.
    """
    acc = _check_curve(acc, iterations_per_task, "acc")
    n_tasks = acc.size // iterations_per_task
    rows = []
    for k, s in switch_starts(iterations_per_task, n_tasks):
        w = window_length(iterations_per_task, window)
        f_prev = acc[s - 1]
        seg = acc[s:s + w]  # t = 1..w
        row = dict(switch=k, prev_final=f_prev, min_acc=np.nan, depth_abs=np.nan, depth_rel=np.nan,
                   t_min=np.nan, t_recover=np.nan, recovered=False, gap_area=np.nan)
        if not np.any(np.isfinite(seg)) or not np.isfinite(f_prev):
            rows.append(row)
            continue
        i_min = int(np.nanargmin(seg))
        m = seg[i_min]
        depth = f_prev - m
        row.update(min_acc=m, depth_abs=depth, depth_rel=depth / f_prev if f_prev > 0 else np.nan,
                   t_min=float(i_min + 1))
        band = f_prev - tolerance
        if m >= band:
            row.update(t_recover=0.0, recovered=True, gap_area=0.0)
        else:
            back = np.flatnonzero(seg[i_min:] >= band)
            if back.size:
                j = i_min + int(back[0])
                row.update(t_recover=float(j + 1), recovered=True)
            else:
                j = w
            row["gap_area"] = float(np.nansum(np.clip(f_prev - seg[:j], 0.0, None)))
        rows.append(row)
    return pd.DataFrame(rows)


def gain_features(gain, iterations_per_task: int, *, baseline: Union[str, float] = "pre",
                  tonic: float = 1.0, window: Optional[int] = None,
                  fit_window: Optional[int] = None) -> pd.DataFrame:
    """Phasic-response measures of one gain trace, one row per task switch.

    Parameters
    ----------
    gain : array_like, shape (n_tasks * iterations_per_task,)
        Gain g(t) per training iteration (dimensionless).
    iterations_per_task : int
    baseline : {"pre", "tonic"} or float
        Level the excursion is measured from: ``"pre"`` the gain at the last iteration of
        the previous context (t = 0), ``"tonic"`` the controller's tonic level ``tonic``
        (g0, 1 in the paper), or a number.
    tonic : float
        Tonic level used by ``baseline="tonic"``.
    window : int, optional
        Iterations after the switch searched for the peak (default: whole context).
    fit_window : int, optional
        Iterations after the peak used for the decay fit (default: to the window's end).

    Returns
    -------
    pandas.DataFrame
        Columns ``switch``, ``gain_base``, ``gain_peak`` (height above baseline),
        ``gain_peak_value``, ``gain_peak_rel`` (peak value / baseline), ``gain_t_peak``
        (iterations), ``gain_latency`` (iterations to 10 % of the peak height),
        ``gain_area`` (sum of the excursion above baseline, gain x iterations),
        ``gain_fwhm`` (iterations), ``gain_tau`` (decay time constant of
        ``offset + A exp(-t/tau)`` fitted from the peak, iterations), ``gain_decay_rmse``.
    """
    g = _check_curve(gain, iterations_per_task, "gain")
    n_tasks = g.size // iterations_per_task
    rows = []
    for k, s in switch_starts(iterations_per_task, n_tasks):
        w = window_length(iterations_per_task, window)
        seg = g[s - 1:s + w]  # t = 0..w
        if isinstance(baseline, str):
            if baseline == "pre":
                base = float(seg[0])
            elif baseline == "tonic":
                base = float(tonic)
            else:
                raise ValueError(f"baseline: {baseline!r}; allowed: 'pre', 'tonic' or a number")
        else:
            base = float(baseline)
        feats = transient_features(seg, base, fit_decay=False)
        tau = rmse = np.nan
        if np.isfinite(feats["t_peak"]):
            ip = int(feats["t_peak"])
            stop = seg.size if fit_window is None else min(seg.size, ip + int(fit_window) + 1)
            tail = seg[ip:stop]
            if feats["peak"] > 0 and tail.size >= 4:
                fit = fit_exp_decay(np.arange(tail.size, dtype=float), tail)
                tau, rmse = fit.tau, fit.rmse
        rows.append(dict(
            switch=k, gain_base=base, gain_peak=feats["peak"], gain_peak_value=feats["peak_value"],
            gain_peak_rel=feats["peak_value"] / base if base else np.nan, gain_t_peak=feats["t_peak"],
            gain_latency=feats["latency"], gain_area=feats["area"], gain_fwhm=feats["fwhm"],
            gain_tau=tau, gain_decay_rmse=rmse,
        ))
    return pd.DataFrame(rows)


def switch_table(results, *, methods: Optional[Sequence[str]] = None, eval_task: int = 1,
                 tolerance: float = 0.01, window: Optional[int] = None,
                 gain_baseline: Union[str, float] = "pre", signal: str = "gain") -> pd.DataFrame:
    """Gap and gain measures for every switch of every run in one or more results.

    Parameters
    ----------
    results : Dataset, path, or a sequence of them
        Results files in the schema of ``docs/results-schema.md``.
    methods : sequence of str, optional
        Restrict to these methods (default: all in each file).
    eval_task : int
        Task whose accuracy defines the gap (the paper: task 1).
    tolerance, window
        See :func:`gap_features`.
    gain_baseline
        See :func:`gain_features` (``"tonic"`` uses the run's g0).
    signal : str
        Data variable to treat as the gain trace (``"gain"``, or an LC state ``"lc_v"``...).

    Returns
    -------
    pandas.DataFrame
        One row per (file, method, seed, switch) with columns ``benchmark``, ``eta``,
        ``source``, ``method``, ``seed``, the columns of :func:`gap_features` and those
        of :func:`gain_features`.
    """
    datasets = load_results(results)
    frames = []
    for ds in datasets:
        info = run_info(ds)
        if signal not in ds.data_vars:
            raise ValueError(f"{info['source']}: missing data variable {signal!r}")
        acc = task1_accuracy(ds, eval_task)
        sig = ds[signal].transpose("method", "seed", "iteration")
        for opt in pick_methods(ds, methods):
            for seed in ds["seed"].values:
                gap = gap_features(acc.sel({"method": opt, "seed": seed}).values, info["iterations_per_task"],
                                   tolerance=tolerance, window=window)
                gf = gain_features(sig.sel({"method": opt, "seed": seed}).values, info["iterations_per_task"],
                                   baseline=gain_baseline, tonic=info["g0"], window=window)
                row = gap.merge(gf, on="switch")
                row.insert(0, "seed", int(seed))
                row.insert(0, "method", str(opt))
                row.insert(0, "source", info["source"])
                row.insert(0, "eta", info["eta"])
                row.insert(0, "benchmark", info["benchmark"])
                frames.append(row)
    return pd.concat(frames, ignore_index=True)


def pick_methods(ds: xr.Dataset, methods: Optional[Sequence[str]] = None) -> List[str]:
    """The methods of ``ds`` to measure: all (``methods=None``), else those of ``methods``
    that ``ds`` holds, in the order given (absent ones are skipped).

    >>> from lcne.analysis.synthetic import synthetic_results
    >>> ds = synthetic_results(iterations_per_task=10, seeds=(0,), methods=("ngm", "sgd"))
    >>> pick_methods(ds), pick_methods(ds, ["sgd", "adam"])
    (['ngm', 'sgd'], ['sgd'])
    """
    have = [str(o) for o in ds["method"].values]
    if methods is None:
        return have
    return [o for o in methods if o in have]
