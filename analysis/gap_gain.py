"""Measurements that relate gain traces to stability-gap curves.

The paper (Rodriguez-Garcia et al. 2025) plots gain and task-1 accuracy side by side.
This module turns the picture into numbers, per task switch and per run, and relates
them across seeds, eta values, optimizers and benchmarks.

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
"""
from __future__ import annotations

import logging
import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import pandas as pd
import xarray as xr

from analysis.results_io import load_results, run_info, task1_accuracy
from analysis.transients import fit_exp_decay, transient_features

__all__ = [
    "switch_starts",
    "gap_features",
    "gain_features",
    "switch_table",
    "lagged_xcorr",
    "gain_gap_xcorr",
    "xcorr_summary",
    "RegressionResult",
    "regress",
    "relate",
    "bootstrap_ci",
    "TaskComplexity",
    "task_complexity",
    "seed_statistics",
]

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- switches

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


def _window(s: int, iterations_per_task: int, window: Optional[int]) -> int:
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
        w = _window(s, iterations_per_task, window)
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
        w = _window(s, iterations_per_task, window)
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


def switch_table(results, *, optimizers: Optional[Sequence[str]] = None, eval_task: int = 1,
                 tolerance: float = 0.01, window: Optional[int] = None,
                 gain_baseline: Union[str, float] = "pre", signal: str = "gain") -> pd.DataFrame:
    """Gap and gain measures for every switch of every run in one or more results.

    Parameters
    ----------
    results : Dataset, path, or a sequence of them
        Results files in the schema of ``docs/results-schema.md``.
    optimizers : sequence of str, optional
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
        One row per (file, optimizer, seed, switch) with columns ``benchmark``, ``eta``,
        ``source``, ``optimizer``, ``seed``, the columns of :func:`gap_features` and those
        of :func:`gain_features`.
    """
    datasets = _as_datasets(results)
    frames = []
    for ds in datasets:
        info = run_info(ds)
        if signal not in ds.data_vars:
            raise ValueError(f"{info['source']}: missing data variable {signal!r}")
        acc = task1_accuracy(ds, eval_task)
        sig = ds[signal].transpose("optimizer", "seed", "iteration")
        for opt in _pick_optimizers(ds, optimizers):
            for seed in ds["seed"].values:
                gap = gap_features(acc.sel(optimizer=opt, seed=seed).values, info["iterations_per_task"],
                                   tolerance=tolerance, window=window)
                gf = gain_features(sig.sel(optimizer=opt, seed=seed).values, info["iterations_per_task"],
                                   baseline=gain_baseline, tonic=info["g0"], window=window)
                row = gap.merge(gf, on="switch")
                row.insert(0, "seed", int(seed))
                row.insert(0, "optimizer", str(opt))
                row.insert(0, "source", info["source"])
                row.insert(0, "eta", info["eta"])
                row.insert(0, "benchmark", info["benchmark"])
                frames.append(row)
    return pd.concat(frames, ignore_index=True)


def _as_datasets(results) -> List[xr.Dataset]:
    if isinstance(results, (xr.Dataset, str)) or hasattr(results, "__fspath__"):
        results = [results]
    return load_results(results)


def _pick_optimizers(ds: xr.Dataset, optimizers) -> List[str]:
    have = [str(o) for o in ds["optimizer"].values]
    if optimizers is None:
        return have
    return [o for o in optimizers if o in have]


# ----------------------------------------------------------------- cross-correlation

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


def gain_gap_xcorr(results, *, optimizer: str = "ngm", eval_task: int = 1, max_lag: int = 20,
                   window: Optional[int] = None, signal: str = "gain") -> pd.DataFrame:
    """Lagged cross-correlation between the gain excursion and the accuracy drop, per switch.

    For each run and switch into context k, over ``t = 0..window``:
    ``x(t) = g(t) - g(0)`` (gain excursion) and ``y(t) = F_{k-1} - a(t)`` (accuracy drop,
    fraction). A positive lag means the gain excursion leads the drop.

    Returns
    -------
    pandas.DataFrame
        Long format: ``benchmark``, ``eta``, ``optimizer``, ``seed``, ``switch``, ``lag``
        (iterations), ``r``.
    """
    rows = []
    for ds in _as_datasets(results):
        info = run_info(ds)
        if optimizer not in [str(o) for o in ds["optimizer"].values]:
            continue
        acc = task1_accuracy(ds, eval_task).sel(optimizer=optimizer)
        sig = ds[signal].transpose("optimizer", "seed", "iteration").sel(optimizer=optimizer)
        I = info["iterations_per_task"]
        for seed in ds["seed"].values:
            a = acc.sel(seed=seed).values
            g = sig.sel(seed=seed).values
            for k, s in switch_starts(I, info["n_tasks"]):
                w = _window(s, I, window)
                x = g[s - 1:s + w] - g[s - 1]
                y = a[s - 1] - a[s - 1:s + w]
                lags, r = lagged_xcorr(x, y, min(max_lag, w - 2))
                for lag, rv in zip(lags, r):
                    rows.append(dict(benchmark=info["benchmark"], eta=info["eta"], optimizer=optimizer,
                                     seed=int(seed), switch=k, lag=int(lag), r=rv))
    if not rows:
        raise ValueError(f"optimizer {optimizer!r} is in none of the results")
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


# ------------------------------------------------------------------------ statistics

def bootstrap_ci(values, stat: Callable = np.mean, *, n_boot: int = 2000, ci: float = 0.95,
                 seed: int = 0) -> tuple:
    """Percentile bootstrap confidence interval of ``stat`` over the values (NaNs dropped).

    Returns ``(low, high)``; NaNs when fewer than 2 values.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.size, size=(n_boot, v.size))
    boots = np.apply_along_axis(stat, 1, v[idx]) if stat not in (np.mean, np.median) else stat(v[idx], axis=1)
    lo, hi = np.percentile(boots, [50 * (1 - ci), 50 * (1 + ci)])
    return (float(lo), float(hi))


@dataclass
class RegressionResult:
    """Ordinary least squares ``y = intercept + slope * x`` with confidence intervals.

    ``slope_ci`` is the t-distribution interval (independent rows assumed);
    ``slope_ci_boot`` a percentile bootstrap that resamples groups (e.g. seeds) when
    groups were given, rows otherwise. ``p_value`` tests slope = 0 (two-sided, t).
    ``spearman_rho`` / ``spearman_p`` are the rank correlation.
    """

    n: int
    n_groups: int
    slope: float
    intercept: float
    slope_se: float
    slope_ci: tuple
    slope_ci_boot: tuple
    r: float
    r2: float
    p_value: float
    spearman_rho: float
    spearman_p: float
    ci: float = 0.95
    x_name: str = "x"
    y_name: str = "y"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["slope_ci_low"], d["slope_ci_high"] = d.pop("slope_ci")
        d["slope_ci_boot_low"], d["slope_ci_boot_high"] = d.pop("slope_ci_boot")
        return d

    def summary(self) -> str:
        """One plain sentence with the numbers."""
        lo, hi = self.slope_ci_boot
        return (f"{self.y_name} = {self.intercept:.3g} + {self.slope:.3g} * {self.x_name} "
                f"(n = {self.n}, {self.n_groups} groups; slope {int(self.ci * 100)}% CI "
                f"[{lo:.3g}, {hi:.3g}] bootstrap, [{self.slope_ci[0]:.3g}, {self.slope_ci[1]:.3g}] t; "
                f"r = {self.r:.2f}, p = {self.p_value:.2g}; Spearman rho = {self.spearman_rho:.2f})")


def _ols(x, y):
    xm, ym = x.mean(), y.mean()
    sxx = np.sum((x - xm) ** 2)
    if sxx == 0:
        return math.nan, math.nan
    slope = np.sum((x - xm) * (y - ym)) / sxx
    return float(slope), float(ym - slope * xm)


def regress(x, y, *, groups=None, n_boot: int = 2000, ci: float = 0.95, seed: int = 0,
            x_name: str = "x", y_name: str = "y") -> RegressionResult:
    """Linear regression of ``y`` on ``x`` with t and bootstrap confidence intervals.

    Parameters
    ----------
    x, y : array_like
        Paired observations; rows with a NaN in either are dropped.
    groups : array_like, optional
        Cluster label per row (e.g. the seed, or the run). The bootstrap then resamples
        whole clusters, which respects the correlation between switches of one run.
    n_boot : int
        Bootstrap resamples.
    ci : float
        Confidence level.

    Returns
    -------
    RegressionResult
    """
    from scipy import stats

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    g = np.arange(x.size) if groups is None else np.asarray(groups)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y, g = x[keep], y[keep], g[keep]
    n = x.size
    uniq = pd.unique(g)
    nan2 = (math.nan, math.nan)
    if n < 3 or np.ptp(x) == 0:
        return RegressionResult(n, len(uniq), math.nan, math.nan, math.nan, nan2, nan2, math.nan, math.nan,
                                math.nan, math.nan, math.nan, ci, x_name, y_name)
    slope, intercept = _ols(x, y)
    resid = y - (intercept + slope * x)
    dof = n - 2
    s2 = np.sum(resid**2) / dof
    se = math.sqrt(s2 / np.sum((x - x.mean()) ** 2))
    tcrit = stats.t.ppf(0.5 + ci / 2, dof)
    sy = y.std()
    r = float(np.corrcoef(x, y)[0, 1]) if sy > 0 else math.nan
    if se > 0:
        p = float(2 * stats.t.sf(abs(slope / se), dof))
    else:
        p = 0.0 if slope != 0 else 1.0
    rho, rho_p = stats.spearmanr(x, y) if sy > 0 else (math.nan, math.nan)
    # cluster bootstrap
    boot_ci = nan2
    if len(uniq) >= 3 and n_boot > 0:
        rng = np.random.default_rng(seed)
        members = [np.flatnonzero(g == u) for u in uniq]
        slopes = np.empty(n_boot)
        for b in range(n_boot):
            pick = rng.integers(0, len(uniq), size=len(uniq))
            idx = np.concatenate([members[i] for i in pick])
            slopes[b] = _ols(x[idx], y[idx])[0]
        lo, hi = np.nanpercentile(slopes, [50 * (1 - ci), 50 * (1 + ci)])
        boot_ci = (float(lo), float(hi))
    return RegressionResult(
        n=n, n_groups=len(uniq), slope=slope, intercept=intercept, slope_se=se,
        slope_ci=(slope - tcrit * se, slope + tcrit * se), slope_ci_boot=boot_ci, r=r,
        r2=r * r if np.isfinite(r) else math.nan, p_value=p, spearman_rho=float(rho),
        spearman_p=float(rho_p), ci=ci, x_name=x_name, y_name=y_name,
    )


def relate(table: pd.DataFrame, x: str = "gain_peak", y: str = "depth_rel", *,
           by: Sequence[str] = ("benchmark",), groups: Union[str, Sequence[str]] = ("eta", "seed"),
           n_boot: int = 2000, ci: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Regress a gap measure on a gain measure within each group of a :func:`switch_table`.

    Parameters
    ----------
    table : DataFrame
        From :func:`switch_table`.
    x, y : str
        Column names (gain measure, gap measure).
    by : sequence of str
        One regression per combination of these columns.
    groups : str or sequence of str
        Columns that define a bootstrap cluster (default: one run = (eta, seed)).

    Returns
    -------
    pandas.DataFrame
        One row per group: ``by`` columns and the fields of :meth:`RegressionResult.to_dict`.
    """
    by = list(by)
    gcols = [groups] if isinstance(groups, str) else list(groups)
    rows = []
    for key, sub in (table.groupby(by) if by else [((), table)]):
        key = key if isinstance(key, tuple) else (key,)
        cl = sub[gcols].astype(str).agg("|".join, axis=1).values
        res = regress(sub[x].values, sub[y].values, groups=cl, n_boot=n_boot, ci=ci, seed=seed,
                      x_name=x, y_name=y)
        rows.append({**dict(zip(by, key)), **res.to_dict()})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------- task complexity

@dataclass
class TaskComplexity:
    """The paper's task-complexity readout and a test of it.

    Attributes
    ----------
    per_task : DataFrame
        ``seed``, ``task``, ``mean_gain`` (mean of g over that context's iterations).
    paper_slope, paper_intercept : float
        Line fitted (least squares) to the seed-averaged per-task means, as in the paper's
        figure (gain per task index).
    seed_slopes : ndarray
        The same fit done per seed.
    slope_mean, slope_sd : float
    slope_ci_t, slope_ci_boot : tuple
        Confidence intervals of the mean per-seed slope (t over seeds; bootstrap over seeds).
    p_value : float
        One-sample two-sided t test of the per-seed slopes against 0.
    difficulty : RegressionResult or None
        Mean gain per context regressed on a difficulty covariate (seed-cluster bootstrap).
    """

    per_task: pd.DataFrame
    paper_slope: float
    paper_intercept: float
    seed_slopes: np.ndarray
    slope_mean: float
    slope_sd: float
    slope_ci_t: tuple
    slope_ci_boot: tuple
    p_value: float
    difficulty: Optional[RegressionResult] = None
    tasks: tuple = field(default_factory=tuple)

    def verdict(self) -> str:
        """'rises', 'falls' or 'flat, CI includes 0' from the bootstrap CI of the slope."""
        lo, hi = self.slope_ci_boot
        if not (np.isfinite(lo) and np.isfinite(hi)):
            lo, hi = self.slope_ci_t
        if lo > 0:
            return "rises"
        if hi < 0:
            return "falls"
        return "flat, CI includes 0"


def task_complexity(ds: xr.Dataset, *, optimizer: str = "ngm", tasks: Optional[Sequence[int]] = None,
                    difficulty=None, signal: str = "gain", n_boot: int = 2000, ci: float = 0.95,
                    seed: int = 0) -> TaskComplexity:
    """Mean gain per context, its linear trend over contexts, and a test of the trend.

    Parameters
    ----------
    ds : Dataset
        One results file.
    optimizer : str
        Method whose gain is read (the gain of baselines is constant).
    tasks : sequence of int, optional
        Contexts (1-based) to use. The paper uses the first 3 contexts for class-IL
        benchmarks and all 3 for domain-IL; default all.
    difficulty : sequence of float, str or None
        Difficulty covariate per context: numbers (one per task in ``tasks``), or the name
        of a per-iteration data variable averaged per context and seed (e.g.
        ``"train_loss"``). None skips the difficulty regression.
    signal : str
        Data variable with the gain trace.
    """
    from scipy import stats

    info = run_info(ds)
    I, T = info["iterations_per_task"], info["n_tasks"]
    tasks = tuple(range(1, T + 1)) if tasks is None else tuple(int(t) for t in tasks)
    if any(t < 1 or t > T for t in tasks) or len(tasks) < 2:
        raise ValueError(f"tasks: {tasks} must be >= 2 contexts within 1..{T}")
    if optimizer not in [str(o) for o in ds["optimizer"].values]:
        raise ValueError(f"{info['source']}: optimizer {optimizer!r} not in field 'optimizer'")
    g = ds[signal].sel(optimizer=optimizer).transpose("seed", "iteration").values
    seeds = [int(s) for s in ds["seed"].values]
    means = np.stack([g[:, (t - 1) * I:t * I].mean(axis=1) for t in tasks], axis=1)  # seeds x tasks
    per_task = pd.DataFrame([dict(seed=s, task=t, mean_gain=means[i, j])
                             for i, s in enumerate(seeds) for j, t in enumerate(tasks)])
    tx = np.asarray(tasks, dtype=float)
    paper_slope, paper_int = np.polyfit(tx, means.mean(axis=0), 1)
    slopes = np.array([np.polyfit(tx, row, 1)[0] for row in means])
    n = slopes.size
    sd = float(slopes.std(ddof=1)) if n > 1 else math.nan
    if n > 1 and sd > 1e-12 * max(1.0, abs(float(slopes.mean()))):
        half = stats.t.ppf(0.5 + ci / 2, n - 1) * sd / math.sqrt(n)
        ci_t = (slopes.mean() - half, slopes.mean() + half)
        p = float(stats.ttest_1samp(slopes, 0.0).pvalue)
    else:
        ci_t, p = (math.nan, math.nan), math.nan
    ci_b = bootstrap_ci(slopes, n_boot=n_boot, ci=ci, seed=seed)
    diff = None
    if difficulty is not None:
        if isinstance(difficulty, str):
            if difficulty not in ds.data_vars:
                raise ValueError(f"{info['source']}: difficulty variable {difficulty!r} not in results")
            d = ds[difficulty].sel(optimizer=optimizer).transpose("seed", "iteration").values
            dmat = np.stack([d[:, (t - 1) * I:t * I].mean(axis=1) for t in tasks], axis=1)
        else:
            dv = np.asarray(difficulty, dtype=float)
            if dv.shape != (len(tasks),):
                raise ValueError(f"difficulty: need {len(tasks)} values (one per task), got {dv.shape}")
            dmat = np.broadcast_to(dv, means.shape)
        diff = regress(dmat.ravel(), means.ravel(), groups=np.repeat(seeds, len(tasks)), n_boot=n_boot,
                       ci=ci, seed=seed, x_name="difficulty", y_name="mean gain")
    return TaskComplexity(per_task, float(paper_slope), float(paper_int), slopes, float(slopes.mean()), sd,
                          tuple(map(float, ci_t)), ci_b, p, diff, tasks)


# -------------------------------------------------------------------- seed statistics

def seed_statistics(ds: xr.Dataset, *, optimizers: Optional[Sequence[str]] = None, eval_task: int = 1,
                    convention: str = "code", percent: bool = False, n_boot: int = 2000, ci: float = 0.95,
                    seed: int = 0) -> pd.DataFrame:
    """The paper's metrics under both seed conventions, side by side, with bootstrap CIs.

    *Paper convention*: metrics of the seed-averaged curve with the error propagated from
    the per-iteration population sd across seeds
    (:func:`analysis.metrics.propagated_metrics`).
    *Per-seed convention*: the metrics of each seed's curve, then mean, sd (ddof=1) and a
    percentile bootstrap CI of the mean over seeds. With few seeds (the paper uses 5) the
    bootstrap CI is narrow and optimistic; ``n_seeds`` is reported so readers can judge.

    Parameters
    ----------
    ds : Dataset
    optimizers : sequence of str, optional
    eval_task : int
    convention : {"code", "after-first"}
        Blocks that enter avg-min-ACC (see :mod:`analysis.metrics`).
    percent : bool
        Report accuracy-type metrics in percent (SG is always a fraction).
    n_boot, ci, seed
        Bootstrap settings.

    Returns
    -------
    pandas.DataFrame
        One row per (optimizer, metric) for ``avg_acc``, ``avg_min_acc``, ``wc_acc``,
        ``avg_sg`` and ``sg_2..sg_T``: ``paper_value``, ``paper_err``, ``seed_mean``,
        ``seed_sd``, ``boot_low``, ``boot_high``, ``n_seeds``.
    """
    from analysis.metrics import propagated_metrics, stability_metrics

    info = run_info(ds)
    I = info["iterations_per_task"]
    acc = task1_accuracy(ds, eval_task)
    rows = []
    for opt in _pick_optimizers(ds, optimizers):
        curves = acc.sel(optimizer=opt).values.astype(float)  # seeds x iterations
        curves = curves[np.all(np.isfinite(curves), axis=1)]
        if not len(curves):
            continue
        vals, errs = propagated_metrics(curves.mean(axis=0), curves.std(axis=0), I, convention)
        per_seed = [stability_metrics(c, I, convention) for c in curves]
        for key, value, err, seed_vals in _metric_rows(vals, errs, per_seed):
            f = 100.0 if (percent and not key.startswith(("sg", "avg_sg"))) else 1.0
            sv = np.asarray(seed_vals, dtype=float) * f
            lo, hi = bootstrap_ci(sv, n_boot=n_boot, ci=ci, seed=seed)
            rows.append(dict(optimizer=opt, metric=key, paper_value=float(value) * f, paper_err=float(err) * f,
                             seed_mean=float(np.mean(sv)), seed_sd=float(np.std(sv, ddof=1)) if sv.size > 1 else np.nan,
                             boot_low=lo, boot_high=hi, n_seeds=int(sv.size)))
    return pd.DataFrame(rows)


def _metric_rows(vals, errs, per_seed):
    for key in ("avg_acc", "avg_min_acc", "wc_acc", "avg_sg"):
        yield key, vals[key], errs[key], [p[key] for p in per_seed]
    for i in range(len(vals["sg"])):
        yield f"sg_{i + 2}", vals["sg"][i], errs["sg"][i], [p["sg"][i] for p in per_seed]
