"""Statistics for gain-gap relations: bootstrap CIs and regressions with run-level
resampling (runs, not switches, are the independent units)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable, Sequence, Union

import numpy as np
import pandas as pd


__all__ = ["bootstrap_ci", "RegressionResult", "regress", "relate"]


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
    """Regress a gap measure on a gain measure within each group of a :func:`~lcne.analysis.gap_gain.switches.switch_table`.

    Parameters
    ----------
    table : DataFrame
        From :func:`~lcne.analysis.gap_gain.switches.switch_table`.
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
