"""Task complexity and how the gain and the gap scale with it across tasks."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from lcne.analysis.gap_gain.stats import RegressionResult, bootstrap_ci, regress
from lcne.analysis.results_io import run_info

__all__ = ["TaskComplexity", "task_complexity"]


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


def task_complexity(ds: xr.Dataset, *, method: str = "ngm", tasks: Optional[Sequence[int]] = None,
                    difficulty=None, signal: str = "gain", n_boot: int = 2000, ci: float = 0.95,
                    seed: int = 0) -> TaskComplexity:
    """Mean gain per context, its linear trend over contexts, and a test of the trend.

    Parameters
    ----------
    ds : Dataset
        One results file.
    method : str
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
    if method not in [str(o) for o in ds["method"].values]:
        raise ValueError(f"{info['source']}: method {method!r} not in field 'method'")
    g = ds[signal].sel({"method": method}).transpose("seed", "iteration").values
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
            d = ds[difficulty].sel({"method": method}).transpose("seed", "iteration").values
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
