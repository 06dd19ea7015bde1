"""How exact a cheaper evaluation is: schedules, fixed subsets, bf16.

Three ways of making the continual evaluation cheaper (``docs/protocol.md``, "Evaluation
schedules, subsets and precision") each change the metrics a little. This module
measures by how much, from results that were run the exact way:

* :func:`schedule_exactness` -- takes a *full-density* results Dataset (evaluated after
  every iteration), masks its curves with a schedule as if only those iterations had been
  evaluated, and compares the metrics of every run with their exact values: whether each
  M_k and F_k falls on an evaluated iteration, and the error in avg-SG, avg-min-ACC (both
  conventions), WC-ACC (both) and avg-ACC.
* :func:`compare_results` -- two Datasets of the same runs (e.g. fp32 and bf16
  evaluation), metric by metric.
* :func:`binomial_noise_floor` / :func:`subset_noise_floor` -- the sampling sd of an
  accuracy measured on a fixed subset of N of a task's n test images:
  ``sqrt(p (1 - p) / N * (n - N) / (n - 1))`` (binomial with the finite-population
  correction), the scale below which subset differences are noise.

Accuracy-like errors are in the stored units (fractions) in the tables and in percentage
points in :meth:`ExactnessReport.to_markdown`; SG is unitless. ``benchmarks/eval_exactness.py``
prints the tables for a results file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
import xarray as xr

from lcne.analysis.metrics import evaluated_iterations, finite_curves, stability_metrics
from lcne.analysis.results_io import ResultsError
from lcne.analysis.vocabulary import metric

__all__ = [
    "EXACTNESS_METRICS",
    "ExactnessReport",
    "binomial_noise_floor",
    "subset_noise_floor",
    "noise_floor_table",
    "schedule_mask",
    "mask_results",
    "schedule_exactness",
    "compare_results",
    "markdown_table",
]

#: (column, metric key, convention) of the metrics compared
EXACTNESS_METRICS: Tuple[Tuple[str, str, str], ...] = (
    ("avg_sg", "avg_sg", "code"),
    ("avg_min_acc_code", "avg_min_acc", "code"),
    ("avg_min_acc_after_first", "avg_min_acc", "after-first"),
    ("wc_acc_code", "wc_acc", "code"),
    ("wc_acc_after_first", "wc_acc", "after-first"),
    ("avg_acc", "avg_acc", "code"),
)


def binomial_noise_floor(p, n_subset, n_total):
    """sd of an accuracy estimated on ``n_subset`` of ``n_total`` images at true accuracy ``p``.

    ``sqrt(p (1 - p) / N * (n - N) / (n - 1))``: a draw without replacement (finite-population
    correction; 0 when the subset is the whole set). Same units as ``p`` (a fraction);
    broadcasts over arrays.

    >>> round(float(binomial_noise_floor(0.5, 500, 1000)), 4)   # half of Split-MNIST task 1
    0.0158
    >>> float(binomial_noise_floor(0.9, 200, 200))
    0.0
    """
    p = np.asarray(p, dtype=np.float64)
    N = np.asarray(n_subset, dtype=np.float64)
    n = np.asarray(n_total, dtype=np.float64)
    if np.any(N < 1) or np.any(N > n):
        raise ValueError(f"need 1 <= n_subset <= n_total, got {n_subset} and {n_total}")
    with np.errstate(divide="ignore", invalid="ignore"):
        fpc = np.where(n > 1, (n - N) / (n - 1), 0.0)
    return np.sqrt(p * (1 - p) / N * fpc)


def _subset_sizes(ds: xr.Dataset) -> Tuple[np.ndarray, np.ndarray]:
    """(N_k, n_k) per task from the attributes ``eval_subset_sizes`` / ``eval_test_sizes``."""
    source = ds.attrs.get("_lcne_source", "<dataset>")
    try:
        N = np.asarray(json.loads(ds.attrs["eval_subset_sizes"]), dtype=np.int64)
        n = np.asarray(json.loads(ds.attrs["eval_test_sizes"]), dtype=np.int64)
    except KeyError:
        raise ResultsError(f"{source}: no fixed evaluation subsets (attributes eval_subset_sizes, "
                           f"eval_test_sizes): evaluated on the whole test sets, no subset noise") from None
    except (TypeError, ValueError):
        raise ResultsError(f"{source}: attributes eval_subset_sizes / eval_test_sizes are not JSON lists") from None
    if N.shape != n.shape or N.ndim != 1:
        raise ResultsError(f"{source}: eval_subset_sizes and eval_test_sizes must be lists of one length")
    return N, n


def subset_noise_floor(ds: xr.Dataset, p=0.5) -> np.ndarray:
    """Noise floor (sd, fraction) of each task's accuracy in a results file evaluated on fixed
    subsets, at accuracy ``p`` (a number, default the 0.5 worst case, or one per task)."""
    N, n = _subset_sizes(ds)
    return binomial_noise_floor(np.broadcast_to(np.asarray(p, dtype=np.float64), N.shape), N, n)


def noise_floor_table(ds: xr.Dataset, eval_task: int = 1) -> pd.DataFrame:
    """Per method: N and n of ``eval_task``, the floor at p = 0.5 and at the observed final
    accuracy (seed mean of the last iteration's accuracy; fractions)."""
    N, n = _subset_sizes(ds)
    k = int(eval_task) - 1
    rows = []
    for m in ds["method"].values:
        _, curves, _ = finite_curves(ds, str(m), eval_task)
        p_final = float(np.mean(curves[:, -1])) if len(curves) else np.nan
        rows.append({
            "method": str(m), "N": int(N[k]), "n": int(n[k]),
            "floor_p05": float(binomial_noise_floor(0.5, N[k], n[k])),
            "final_acc": p_final,
            "floor_final": float(binomial_noise_floor(p_final, N[k], n[k])) if np.isfinite(p_final) else np.nan,
        })
    return pd.DataFrame(rows).set_index("method")


def schedule_mask(schedule, ds: xr.Dataset) -> np.ndarray:
    """bool (iteration,) of ``schedule`` for the shape of ``ds``: a bool array already, or an
    object with ``mask(iterations_per_task, n_tasks)`` (an
    :class:`lcne.experiments.eval_schedule.EvalSchedule`)."""
    ipt, K = int(ds.attrs["iterations_per_task"]), int(ds.attrs["n_tasks"])
    mask = schedule.mask(ipt, K) if hasattr(schedule, "mask") else schedule
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != (ipt * K,):
        raise ValueError(f"schedule mask must be bool of shape ({ipt * K},), got {mask.dtype} {mask.shape}")
    return mask


def _spec(schedule) -> str:
    return schedule.to_spec() if hasattr(schedule, "to_spec") else "custom mask"


def mask_results(ds: xr.Dataset, schedule) -> xr.Dataset:
    """A copy of a full-density ``ds`` as if evaluated on ``schedule`` only: accuracy and loss
    NaN after the other iterations, ``evaluated`` and ``attrs["eval_schedule"]`` set."""
    _require_dense(ds)
    mask = schedule_mask(schedule, ds)
    out = ds.copy()
    keep = xr.DataArray(mask, dims="iteration")
    for name in ("accuracy", "loss"):
        if name in out:
            out[name] = out[name].where(keep)
    out["evaluated"] = ("iteration", mask)
    out.attrs["eval_schedule"] = _spec(schedule)
    out.attrs["eval_fraction"] = float(mask.mean())
    return out


def _require_dense(ds: xr.Dataset) -> None:
    ev = evaluated_iterations(ds)
    if not ev.all():
        raise ResultsError(
            f"{ds.attrs.get('_lcne_source', '<dataset>')}: evaluated on schedule "
            f"{ds.attrs.get('eval_schedule', '?')} ({int(ev.sum())} of {ev.size} iterations); the exactness of a "
            f"schedule is measured against a file evaluated after every iteration")


def _run_metrics(curve: np.ndarray, ipt: int) -> Dict[str, object]:
    out = {}
    for col, key, conv in EXACTNESS_METRICS:
        out[col] = float(stability_metrics(curve, ipt, conv)[key])
    return out


@dataclass
class ExactnessReport:
    """What a cheaper evaluation changes, per run and in summary.

    ``runs`` (DataFrame, index (method, seed)) holds ``<metric>_exact``,
    ``<metric>_approx`` and ``<metric>_error`` (approx - exact, stored units) for every
    column of :data:`EXACTNESS_METRICS`; for schedules also ``M<k>_hit`` and ``F<k>_hit``
    (bool: an evaluated iteration of block k attains the exact M_k; F_k's iteration is
    evaluated). ``summary`` (DataFrame, index: metric column) holds ``max_abs_error``,
    ``mean_abs_error`` and ``n_runs``; for schedules also the rows ``M_k hit`` and
    ``F_k hit`` (fraction of the blocks of all runs, in ``mean_abs_error``). ``what``
    says what was compared, e.g. ``"schedule switch:20/10 (20 % of iterations
    evaluated), task 1"`` or ``"fp32 vs bf16, task 1"``.
    """

    runs: pd.DataFrame
    summary: pd.DataFrame
    what: str

    def to_markdown(self) -> str:
        """The summary as a Markdown table (accuracy errors in percentage points)."""
        rows = []
        for col, r in self.summary.iterrows():
            if col.endswith(" hit"):
                rows.append([col, f"{r['mean_abs_error'] * 100:.1f} % of blocks", "", str(int(r["n_runs"]))])
                continue
            key = next((k for c, k, _ in EXACTNESS_METRICS if c == col), "avg_acc")  # "curve": an accuracy
            m = metric(key)
            unit = "pp" if m.unit == "%" else m.unit
            rows.append([col, f"{r['max_abs_error'] * m.scale:.4g} {unit}",
                         f"{r['mean_abs_error'] * m.scale:.4g} {unit}", str(int(r["n_runs"]))])
        return f"Exactness: {self.what}\n\n" + markdown_table(
            ["metric", "max abs error", "mean abs error", "runs"], rows)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain Markdown table (no dependency)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _summary(runs: pd.DataFrame, hits: Optional[Dict[str, np.ndarray]] = None) -> pd.DataFrame:
    rows = {}
    for col, _, _ in EXACTNESS_METRICS:
        err = runs[f"{col}_error"].to_numpy(float)
        finite = err[np.isfinite(err)]
        rows[col] = {"max_abs_error": float(np.max(np.abs(finite))) if finite.size else np.nan,
                     "mean_abs_error": float(np.mean(np.abs(finite))) if finite.size else np.nan,
                     "n_runs": int(finite.size)}
    for name, values in (hits or {}).items():
        rows[name] = {"max_abs_error": np.nan, "mean_abs_error": float(np.mean(values)) if values.size else np.nan,
                      "n_runs": int(len(runs))}
    return pd.DataFrame.from_dict(rows, orient="index")


def schedule_exactness(ds: xr.Dataset, schedule, eval_task: int = 1) -> ExactnessReport:
    """The error a schedule would cause, measured on a full-density ``ds``.

    Every run that did not diverge (:func:`lcne.analysis.metrics.finite_curves`) is
    compared; see :class:`ExactnessReport` for the columns.

    Parameters
    ----------
    ds : xarray.Dataset
        Results evaluated after every iteration (``evaluated`` all True or absent).
    schedule : EvalSchedule or bool array (iteration,)
        An :class:`lcne.experiments.eval_schedule.EvalSchedule` or its mask.
    eval_task : int
        The task whose curve is measured (1, the paper's).
    """
    _require_dense(ds)
    mask = schedule_mask(schedule, ds)
    ipt, T = int(ds.attrs["iterations_per_task"]), int(ds.attrs["n_tasks"])
    rows, m_hits, f_hits = {}, [], []
    for method in ds["method"].values:
        seeds, curves, _ = finite_curves(ds, str(method), eval_task)
        for seed, curve in zip(seeds, curves):
            sparse = np.where(mask, curve, np.nan)
            exact, approx = _run_metrics(curve, ipt), _run_metrics(sparse, ipt)
            row = {}
            for col, _, _ in EXACTNESS_METRICS:
                row[f"{col}_exact"], row[f"{col}_approx"] = exact[col], approx[col]
                row[f"{col}_error"] = approx[col] - exact[col]
            blocks, ev = curve.reshape(T, ipt), mask.reshape(T, ipt)
            for k in range(T):
                hit_m = bool(np.any(ev[k] & (blocks[k] == blocks[k].min())))
                row[f"M{k + 1}_hit"], row[f"F{k + 1}_hit"] = hit_m, bool(ev[k, -1])
                m_hits.append(hit_m)
                f_hits.append(bool(ev[k, -1]))
            rows[(str(method), int(seed))] = row
    runs = pd.DataFrame.from_dict(rows, orient="index")
    runs.index = pd.MultiIndex.from_tuples(list(rows), names=["method", "seed"]) if rows else runs.index
    if not rows:
        raise ResultsError(f"{ds.attrs.get('_lcne_source', '<dataset>')}: no run that did not diverge")
    summary = _summary(runs, {"M_k hit": np.array(m_hits), "F_k hit": np.array(f_hits)})
    what = f"schedule {_spec(schedule)} ({mask.mean() * 100:.0f} % of iterations evaluated), task {eval_task}"
    return ExactnessReport(runs, summary, what)


def compare_results(a: xr.Dataset, b: xr.Dataset, eval_task: int = 1,
                    labels: Tuple[str, str] = ("a", "b")) -> ExactnessReport:
    """Metric-by-metric difference of two Datasets of the same runs (``b`` - ``a``), e.g.
    fp32 (``a``, taken as exact) and bf16 evaluation (``b``).

    Runs are matched by (method, seed); those that diverged in either are left out. The
    summary also has a row ``curve`` with the largest and mean absolute accuracy
    difference over the iterations evaluated in both (fractions).
    """
    rows, curve_err = {}, []
    ipt = int(a.attrs["iterations_per_task"])
    if int(b.attrs["iterations_per_task"]) != ipt or a.sizes["iteration"] != b.sizes["iteration"]:
        raise ResultsError("the two results have different iterations; compare runs of one configuration")
    for method in a["method"].values:
        if method not in b["method"].values:
            continue
        sa, ca, _ = finite_curves(a, str(method), eval_task)
        sb, cb, _ = finite_curves(b, str(method), eval_task)
        other = dict(zip(sb, cb))
        for seed, curve in zip(sa, ca):
            if seed not in other:
                continue
            ma, mb = _run_metrics(curve, ipt), _run_metrics(other[seed], ipt)
            row = {}
            for col, _, _ in EXACTNESS_METRICS:
                row[f"{col}_exact"], row[f"{col}_approx"] = ma[col], mb[col]
                row[f"{col}_error"] = mb[col] - ma[col]
            both = np.isfinite(curve) & np.isfinite(other[seed])
            diff = np.abs(other[seed][both] - curve[both])
            row["curve_max_abs_diff"] = float(diff.max()) if diff.size else np.nan
            curve_err.append(diff)
            rows[(str(method), int(seed))] = row
    if not rows:
        raise ResultsError("the two results share no run (method and seed) that did not diverge")
    runs = pd.DataFrame.from_dict(rows, orient="index")
    runs.index = pd.MultiIndex.from_tuples(list(rows), names=["method", "seed"])
    summary = _summary(runs)
    allc = np.concatenate(curve_err)
    summary.loc["curve"] = {"max_abs_error": float(allc.max()) if allc.size else np.nan,
                            "mean_abs_error": float(allc.mean()) if allc.size else np.nan, "n_runs": len(runs)}
    return ExactnessReport(runs, summary, f"{labels[0]} vs {labels[1]}, task {eval_task}")
