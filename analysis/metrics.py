"""The paper's stability-gap metrics (Rodriguez-Garcia et al. 2025; De Lange et al. 2022).

Notation: T contexts of I iterations each; ``a_t`` = accuracy on the evaluated task
(task 1 in the paper) after iteration t; block k = iterations [(k-1) I, k I).

* ``F_k`` (``final``): accuracy at the last iteration of block k.
* ``M_k`` (``min``): minimum accuracy over block k.
* avg-ACC = (1/T) sum_k F_k.
* avg-min-ACC, two conventions (``convention=``):

  - ``"code"`` -- the authors' released code: mean of M_1..M_{T-1}. It *includes* block
    1, whose minimum is the untrained network's accuracy, and leaves out block T.
  - ``"after-first"`` -- De Lange's intent: mean of M_2..M_T, the minima after task 1
    has been learned.

* WC-ACC = (1/T) F_T + (1 - 1/T) avg-min-ACC.
* SG_k = (F_{k-1} - M_k) / F_{k-1}, k = 2..T (relative drop; unitless).
* avg-SG = mean of SG_k.

Accuracy-like values keep the units of the input (fractions or percent); SG is unitless.
Labels, reported units and decimals of the metrics are in :mod:`lcne.analysis.vocabulary`.

Sparse curves (an evaluation schedule, ``docs/protocol.md``): accuracy is NaN after the
iterations that were not evaluated. M_k is then the minimum over the *evaluated*
iterations of block k (NaN when none was), F_k needs the last iteration of block k to be
evaluated (every lcne schedule evaluates it; otherwise F_k and what depends on it are
NaN), and the results say ``sparse`` / ``n_evaluated``. Nothing is interpolated or
forward-filled. Which iterations were evaluated is the results variable ``evaluated``
(:func:`evaluated_iterations`); divergence is ``diverged_at``, never a NaN of the schedule.
"""
from __future__ import annotations

from typing import Dict

import numpy as np
import pandas as pd
import xarray as xr

from lcne.analysis.vocabulary import SUMMARY_METRICS, metric

__all__ = [
    "CONVENTIONS",
    "stability_metrics",
    "propagated_metrics",
    "per_seed_metrics",
    "metrics_table",
    "format_table",
    "finite_curves",
    "evaluated_iterations",
    "evaluation_attrs",
    "evaluation_note",
    "divergence_counts",
    "divergence_note",
]

CONVENTIONS = ("code", "after-first")


def _blocks(acc, iterations_per_task: int) -> np.ndarray:
    acc = np.asarray(acc, dtype=np.float64)
    if acc.ndim != 1:
        raise ValueError(f"acc must be a 1-D curve, got shape {acc.shape}")
    if iterations_per_task < 1 or acc.size % iterations_per_task:
        raise ValueError(
            f"curve length {acc.size} is not a multiple of iterations_per_task={iterations_per_task}"
        )
    blocks = acc.reshape(-1, iterations_per_task)
    if blocks.shape[0] < 2:
        raise ValueError("stability metrics need at least two contexts")
    return blocks


def _min_slice(convention: str, T: int) -> slice:
    if convention == "code":
        return slice(0, T - 1)
    if convention == "after-first":
        return slice(1, T)
    raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")


def _evaluated_blocks(blocks: np.ndarray, evaluated) -> np.ndarray:
    """bool like ``blocks``: the evaluated points (default: the finite ones)."""
    if evaluated is None:
        return np.isfinite(blocks)
    ev = np.asarray(evaluated, dtype=bool)
    if ev.shape != (blocks.size,):
        raise ValueError(f"evaluated must be a bool curve of length {blocks.size}, got shape {ev.shape}")
    return ev.reshape(blocks.shape)


def _block_min(blocks: np.ndarray, ev: np.ndarray):
    """M_k over the evaluated points of each block and the arg-min (-1 where none);
    NaN where an evaluated point is NaN (a run that diverged) or none is evaluated."""
    vals = np.where(ev, blocks, np.inf)
    arg = vals.argmin(axis=1)
    mins = blocks[np.arange(blocks.shape[0]), arg]
    bad = ~ev.any(axis=1) | np.any(ev & np.isnan(blocks), axis=1)
    return np.where(bad, np.nan, mins), np.where(ev.any(axis=1), arg, -1)


def stability_metrics(acc, iterations_per_task: int, convention: str = "code", evaluated=None) -> Dict[str, object]:
    """Stability-gap metrics of one accuracy curve.

    Parameters
    ----------
    acc : array, shape (T * iterations_per_task,)
        Accuracy on the evaluated task after every training iteration; NaN where the
        iteration was not evaluated (a sparse schedule).
    iterations_per_task : int
    convention : {"code", "after-first"}
        Which blocks enter avg-min-ACC (see the module docstring).
    evaluated : bool array like ``acc``, optional
        The iterations evaluated by the schedule (the results variable ``evaluated``).
        Default: the finite points of ``acc``. Given, a NaN at an evaluated point (a
        diverged run) makes the metrics of its block NaN instead of being skipped.

    Returns
    -------
    dict with ``final`` (F_k, shape (T,); NaN where the last iteration of block k was not
    evaluated), ``min`` (M_k over the evaluated iterations of block k, (T,)),
    ``avg_acc``, ``avg_min_acc``, ``wc_acc``, ``sg`` (SG_k for k = 2..T, shape (T-1,)),
    ``avg_sg``, ``n_evaluated`` (evaluated iterations per block, int (T,)) and ``sparse``
    (True when not every iteration was evaluated: M_k may miss the true minimum).

    Examples
    --------
    >>> m = stability_metrics([0.5, 1.0, 0.6, 0.9], 2)
    >>> float(m["avg_sg"]), float(m["avg_acc"]), m["sparse"]
    (0.4, 0.95, False)
    >>> m = stability_metrics([0.5, np.nan, 1.0, 0.7, np.nan, 0.9], 3)  # sparse: 2 of 3 per block
    >>> float(m["min"][1]), m["n_evaluated"].tolist(), m["sparse"]
    (0.7, [2, 2], True)
    """
    blocks = _blocks(acc, iterations_per_task)
    T = blocks.shape[0]
    ev = _evaluated_blocks(blocks, evaluated)
    final = np.where(ev[:, -1], blocks[:, -1], np.nan)
    mins, _ = _block_min(blocks, ev)
    avg_min = mins[_min_slice(convention, T)].mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        sg = np.where(final[:-1] != 0, (final[:-1] - mins[1:]) / final[:-1], np.nan)
    return {
        "final": final,
        "min": mins,
        "avg_acc": final.mean(),
        "avg_min_acc": avg_min,
        "wc_acc": final[-1] / T + (1 - 1 / T) * avg_min,
        "sg": sg,
        "avg_sg": sg.mean(),
        "n_evaluated": ev.sum(axis=1),
        "sparse": bool(not ev.all()),
    }


def propagated_metrics(mean_curve, sd_curve, iterations_per_task: int, convention: str = "code", evaluated=None):
    """The paper's seed convention: metrics of the seed-mean curve with propagated error.

    The per-iteration standard deviation across seeds (population sd) at the iterations
    that define F_k and M_k (the arg-min of the *mean* curve) is propagated with
    first-order error propagation, exactly as in the authors' ``tab_metrics.py`` -- which
    treats the F_{k-1} of the drop and of the denominator of SG_k as independent
    (var = (sd_F^2 + sd_M^2)/F^2 + (F - M)^2 sd_F^2 / F^4). The strict first-order result
    for SG = 1 - M/F is M^2 sd_F^2 / F^4 + sd_M^2 / F^2; we keep the authors' formula so
    that errors compare with the paper's tables.

    Returns
    -------
    (values, errors): two dicts with the keys of :func:`stability_metrics`.
    """
    m = _blocks(mean_curve, iterations_per_task)
    s = _blocks(sd_curve, iterations_per_task)
    T = m.shape[0]
    values = stability_metrics(np.asarray(mean_curve, float), iterations_per_task, convention, evaluated)
    ev = _evaluated_blocks(m, evaluated)
    _, arg = _block_min(m, ev)
    f_sd = np.where(ev[:, -1], s[:, -1], np.nan)
    min_sd = np.where(arg >= 0, s[np.arange(T), np.maximum(arg, 0)], np.nan)
    sl = _min_slice(convention, T)
    n_min = len(range(T)[sl])
    min_err = np.sqrt(np.sum(min_sd[sl] ** 2)) / n_min
    F, M = values["final"], values["min"]
    drop = F[:-1] - M[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        sg_var = (f_sd[:-1] ** 2 + min_sd[1:] ** 2) / F[:-1] ** 2 + drop**2 * f_sd[:-1] ** 2 / F[:-1] ** 4
    sg_err = np.sqrt(sg_var)
    errors = {
        "final": f_sd,
        "min": min_sd,
        "avg_acc": np.sqrt(np.sum(f_sd**2)) / T,
        "avg_min_acc": min_err,
        "wc_acc": np.sqrt((1 / T) ** 2 * f_sd[-1] ** 2 + (1 - 1 / T) ** 2 * min_err**2),
        "sg": sg_err,
        "avg_sg": np.sqrt(np.sum(sg_err**2)) / (T - 1),
    }
    return values, errors


def evaluated_iterations(ds: xr.Dataset, method=None, eval_task: int = 1) -> np.ndarray:
    """bool (iteration,): the iterations after which the runs were evaluated.

    From the results variable ``evaluated`` (written by ``lcne run`` since evaluation
    schedules exist) when ``ds`` has it along ``iteration`` alone. Otherwise (older files,
    or Datasets assembled without it) it is inferred: the iterations where some seed of
    ``method`` (every method when None) has a finite accuracy on ``eval_task``, plus the
    last iteration of every context, which every schedule evaluates -- so a run that
    diverged (NaN from there on) is never taken for a sparse one.
    """
    if "evaluated" in ds and ds["evaluated"].dims == ("iteration",):
        return np.asarray(ds["evaluated"].values, dtype=bool)
    acc = ds["accuracy"].sel({"eval_task": eval_task})
    if method is not None:
        acc = acc.sel({"method": method})
    acc = acc.transpose(..., "iteration").values
    ev = np.isfinite(acc).reshape(-1, acc.shape[-1]).any(axis=0)
    ipt = int(ds.attrs.get("iterations_per_task", 0) or 0)
    if ipt >= 1 and ev.size % ipt == 0:
        ev[ipt - 1 :: ipt] = True
    else:
        ev[:] = True
    return ev


def finite_curves(ds: xr.Dataset, method: str, eval_task: int = 1):
    """The accuracy curves of ``method`` on ``eval_task`` whose runs did not diverge.

    A run counts as diverged when its ``diverged_at`` is set (>= 0) or its curve is not
    finite at every *evaluated* iteration (:func:`evaluated_iterations`): the NaN of a
    sparse evaluation schedule is not divergence. Returns ``(seeds, curves, n_runs)``:
    the surviving seeds (ints), their curves (seeds x iterations, float64, NaN where not
    evaluated) and the number of runs of the method (survivors and diverged).
    """
    acc = ds["accuracy"].sel({"method": method, "eval_task": eval_task}).transpose("seed", "iteration")
    curves = acc.values.astype(np.float64)
    ev = evaluated_iterations(ds, method, eval_task)
    ok = np.all(np.isfinite(curves[:, ev]), axis=1)
    if "diverged_at" in ds and "seed" in ds["diverged_at"].dims:
        d = ds["diverged_at"].sel({"method": method}).reindex(seed=acc["seed"]).values
        ok &= ~(np.nan_to_num(np.asarray(d, dtype=np.float64), nan=-1.0) >= 0)
    seeds = [int(s) for s in acc["seed"].values[ok]]
    return seeds, curves[ok], int(curves.shape[0])


def evaluation_attrs(ds: xr.Dataset, eval_task: int = 1) -> Dict[str, object]:
    """How the curves of ``ds`` were evaluated, for the ``attrs`` of a metrics table:
    ``eval_schedule`` (spec; ``"every"`` for files from before schedules),
    ``eval_subset`` (images per task, 0: whole test sets), ``eval_precision``,
    ``n_evaluated`` (iterations evaluated of ``iteration``) and ``sparse``."""
    ev = evaluated_iterations(ds, None, eval_task)
    return {
        "eval_schedule": str(ds.attrs.get("eval_schedule", "every")),
        "eval_subset": int(ds.attrs.get("eval_subset", 0) or 0),
        "eval_precision": str(ds.attrs.get("eval_precision", "fp32")),
        "n_evaluated": int(ev.sum()),
        "n_iterations": int(ev.size),
        "sparse": bool(not ev.all()),
    }


def evaluation_note(attrs) -> str:
    """One line saying how a table's curves were evaluated, or ``""`` for exact evaluation
    (every iteration, whole test sets, fp32)."""
    parts = []
    if attrs.get("sparse"):
        parts.append(f"schedule {attrs.get('eval_schedule')} ({attrs.get('n_evaluated')} of "
                     f"{attrs.get('n_iterations')} iterations; M_k over those)")
    if attrs.get("eval_subset"):
        parts.append(f"fixed subsets of {attrs['eval_subset']} test images per task")
    if attrs.get("eval_precision", "fp32") != "fp32":
        parts.append(f"{attrs['eval_precision']} evaluation")
    return ("Evaluation: " + "; ".join(parts)) if parts else ""


def divergence_counts(ds: xr.Dataset, eval_task: int = 1) -> Dict[str, tuple]:
    """``{method: (n_diverged, n_runs)}`` for every method of ``ds`` (see :func:`finite_curves`)."""
    out = {}
    for m in ds["method"].values:
        seeds, _, n = finite_curves(ds, str(m), eval_task)
        out[str(m)] = (n - len(seeds), n)
    return out


def divergence_note(n_diverged: int, n_runs: int) -> str:
    """``"k of n seeds diverged"`` (with what the metrics are over), or ``""`` when none did."""
    if not n_diverged:
        return ""
    if n_diverged >= n_runs:
        return f"{n_diverged} of {n_runs} seeds diverged (no metrics)"
    return f"{n_diverged} of {n_runs} seeds diverged (metrics over the {n_runs - n_diverged} others)"


def per_seed_metrics(ds: xr.Dataset, method: str, convention: str = "code", eval_task: int = 1) -> pd.DataFrame:
    """The summary metrics of each seed's curve of one method, as stored (fractions).

    Parameters
    ----------
    ds : xarray.Dataset
        Results (schema of ``docs/results-schema.md``).
    method : str
        A value of the ``method`` coordinate.
    convention : {"code", "after-first"}
        See :func:`stability_metrics`.
    eval_task : int
        Task whose accuracy curve is measured (the paper: task 1).

    Returns
    -------
    pandas.DataFrame
        Index: seed (int), one row per seed whose curve is finite everywhere (a diverged
        run is left out); columns: the keys of
        :data:`lcne.analysis.vocabulary.SUMMARY_METRICS`. ``attrs``: how the curves were
        evaluated (:func:`evaluation_attrs`: schedule, subset, precision, sparse).

    Examples
    --------
    >>> from lcne.analysis.synthetic import synthetic_results
    >>> ds = synthetic_results(iterations_per_task=20, seeds=(0, 1))
    >>> list(per_seed_metrics(ds, "ngm").columns), len(per_seed_metrics(ds, "ngm"))
    (['avg_acc', 'avg_min_acc', 'wc_acc', 'avg_sg'], 2)
    """
    ipt = int(ds.attrs["iterations_per_task"])
    rows = {}
    seeds, curves, _ = finite_curves(ds, method, eval_task)
    for seed, curve in zip(seeds, curves):
        m = stability_metrics(curve, ipt, convention)
        rows[seed] = {k: float(m[k]) for k in SUMMARY_METRICS}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(SUMMARY_METRICS))
    table.attrs.update(evaluation_attrs(ds, eval_task))
    return table


def metrics_table(
    ds: xr.Dataset,
    eval_task: int = 1,
    convention: str = "code",
    percent: bool = True,
) -> pd.DataFrame:
    """Summary table over methods, both seed conventions side by side.

    Columns, for each of avg-ACC, avg-min-ACC, WC-ACC (percent when ``percent``) and
    avg-SG: ``<metric>`` and ``<metric>_err`` from the seed-averaged curve with
    propagated error (the paper's convention), and ``<metric>_seed_mean`` /
    ``<metric>_seed_sd`` over per-seed metrics (sd with ddof=1). Also SG_k per
    transition (seed-averaged curve) as ``sg_<k>``. Scales: those of
    :mod:`lcne.analysis.vocabulary` (``percent=False``: every value as stored).
    ``n_seeds`` counts the runs the metrics are over, ``n_runs`` all runs of the method
    and ``n_diverged`` the diverged ones (left out); a method whose every run diverged
    keeps its row, with NaN metrics. ``attrs``: how the curves were evaluated
    (:func:`evaluation_attrs`), shown by :func:`format_table`.
    """
    ipt = int(ds.attrs["iterations_per_task"])
    rows = []
    for opt in ds["method"].values:
        _, curves, n_runs = finite_curves(ds, str(opt), eval_task)
        row = {"method": str(opt), "n_seeds": len(curves), "n_runs": n_runs, "n_diverged": n_runs - len(curves)}
        if not len(curves):
            for key in SUMMARY_METRICS:
                for suffix in ("", "_err", "_seed_mean", "_seed_sd"):
                    row[key + suffix] = np.nan
            rows.append(row)
            continue
        vals, errs = propagated_metrics(curves.mean(0), curves.std(0), ipt, convention)
        per_seed = [stability_metrics(c, ipt, convention) for c in curves]
        for key in SUMMARY_METRICS:
            f = metric(key).scale if percent else 1.0
            row[key] = vals[key] * f
            row[f"{key}_err"] = errs[key] * f
            seed_vals = np.array([p[key] for p in per_seed]) * f
            row[f"{key}_seed_mean"] = seed_vals.mean()
            row[f"{key}_seed_sd"] = seed_vals.std(ddof=1) if len(seed_vals) > 1 else np.nan
        for k, v in enumerate(vals["sg"], start=2):
            row[f"sg_{k}"] = v
        rows.append(row)
    table = pd.DataFrame(rows).set_index("method")
    table.attrs.update(evaluation_attrs(ds, eval_task))
    return table


def format_table(table: pd.DataFrame) -> str:
    """Plain-text rendering: paper convention ``value ± err`` and per-seed ``mean ± sd``."""
    summary = [metric(k) for k in SUMMARY_METRICS]
    head = f"{'method':<22}" + "".join(f"{m.label:>22}" for m in summary)
    lines = [head, "-" * len(head)]
    notes = []
    for opt, r in table.iterrows():
        n_div, n_runs = int(r.get("n_diverged", 0) or 0), int(r.get("n_runs", 0) or 0)
        if n_div:
            notes.append(f"  {opt}: {divergence_note(n_div, n_runs)}")
        if not np.isfinite(r.get("avg_acc", np.nan)):
            lines.append(f"{opt:<22}" + "every seed diverged (see diverged_at)".rjust(22)
                         + (f" ({n_div} of {n_runs})" if n_runs else ""))
            continue
        cells = []
        for m in summary:
            cells.append(f"{m.format(r[m.key])} ± {m.format(r[m.key + '_err'])}".rjust(22))
        lines.append(f"{opt:<22}" + "".join(cells))
        cells = []
        for m in summary:
            cells.append(f"({m.format(r[m.key + '_seed_mean'])} ± {m.format(r[m.key + '_seed_sd'])})".rjust(22))
        lines.append(f"{'  per-seed mean ± sd':<22}" + "".join(cells))
    sg_cols = [c for c in table.columns if c.startswith("sg_")]
    if sg_cols:
        lines.append("")
        lines.append(f"{'SG_k per transition':<22}" + "".join(f"{metric(c).label:>9}" for c in sg_cols))
        for opt, r in table.iterrows():
            if np.isfinite(r.get("avg_acc", np.nan)):
                lines.append(f"{opt:<22}" + "".join(f"{metric(c).format(r[c]):>9}" for c in sg_cols))
    if notes:
        lines += ["", "Diverged runs (diverged_at >= 0; left out of every metric):"] + notes
    note = evaluation_note(table.attrs)
    if note:
        lines += ["", note]
    return "\n".join(lines)
