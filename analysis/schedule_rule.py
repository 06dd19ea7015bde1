"""A pre-registered rule that picks an evaluation schedule from full-density runs.

A study may evaluate its test phase on a sparse schedule (``switch:W/K``, see
:mod:`lcne.experiments.eval_schedule`) only if that schedule is known to leave the
metrics nearly unchanged. :func:`choose_schedule` decides it from runs that were
evaluated after *every* iteration (a sweep's tuning batches, which never touch the test
split): each candidate mask is applied to those curves
(:func:`lcne.analysis.eval_exactness.schedule_exactness`) and the sparsest candidate whose
largest error over all runs stays within the tolerances wins; if none does, ``"every"``.

Tolerances: ``avg_sg`` (unitless) bounds the avg-SG error; ``accuracy`` (a fraction:
0.005 = 0.5 percentage points) bounds the errors of WC-ACC and avg-min-ACC under both
conventions and of avg-ACC.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Sequence

import numpy as np
import xarray as xr

from lcne.analysis.eval_exactness import EXACTNESS_METRICS, schedule_exactness
from lcne.analysis.results_io import ResultsError

__all__ = ["DEFAULT_TOLERANCE", "schedule_errors", "within_tolerance", "choose_schedule"]

#: the study protocol's tolerances (docs/study_protocol.md)
DEFAULT_TOLERANCE = {"avg_sg": 0.005, "accuracy": 0.005}


def schedule_errors(datasets: Iterable[xr.Dataset], schedule) -> Dict[str, float]:
    """Largest absolute error of every exactness metric (column of
    :data:`~lcne.analysis.eval_exactness.EXACTNESS_METRICS`) over all runs of
    ``datasets`` (full density) if they had been evaluated on ``schedule`` (an
    :class:`lcne.experiments.eval_schedule.EvalSchedule`: ``mask``, ``is_dense``,
    ``to_spec``), plus ``n_runs``, ``fraction`` (share of iterations evaluated) and
    ``m_hit`` (share of the blocks of all runs whose M_k lies on an evaluated iteration)."""
    worst = {col: 0.0 for col, _, _ in EXACTNESS_METRICS}
    n_runs, fraction, hits, blocks = 0, np.nan, 0, 0
    for ds in datasets:
        report = schedule_exactness(ds, schedule)
        for col in worst:
            value = float(report.summary.loc[col, "max_abs_error"])
            if np.isfinite(value):
                worst[col] = max(worst[col], value)
        n_runs += len(report.runs)
        m_cols = [c for c in report.runs.columns if c.startswith("M") and c.endswith("_hit")]
        hits += int(report.runs[m_cols].to_numpy(bool).sum())
        blocks += report.runs[m_cols].size
        ipt, T = int(ds.attrs["iterations_per_task"]), int(ds.attrs["n_tasks"])
        fraction = float(schedule.mask(ipt, T).mean())
    return {**worst, "n_runs": n_runs, "fraction": fraction, "m_hit": hits / blocks if blocks else np.nan}


def within_tolerance(errors: Dict[str, float], tolerance: Dict[str, float] = DEFAULT_TOLERANCE) -> bool:
    """Whether the largest errors of :func:`schedule_errors` are within ``tolerance``."""
    for col, key, _ in EXACTNESS_METRICS:
        limit = tolerance["avg_sg"] if key == "avg_sg" else tolerance["accuracy"]
        if errors[col] > limit:
            return False
    return True


def choose_schedule(datasets: Sequence[xr.Dataset], candidates: Sequence,
                    tolerance: Dict[str, float] = DEFAULT_TOLERANCE) -> Dict[str, object]:
    """The sparsest candidate within ``tolerance`` on full-density ``datasets``.

    Parameters
    ----------
    datasets : results Datasets evaluated after every iteration (one benchmark)
    candidates : schedules (:class:`lcne.experiments.eval_schedule.EvalSchedule`, parsed by
        the caller), sparsest first (the order is the rule's: the first that passes wins)
    tolerance : ``{"avg_sg": ..., "accuracy": ...}``

    Returns
    -------
    dict: ``chosen`` (a spec; ``"every"`` when no candidate passes), ``candidates``
    (list of ``{"schedule", "passed", <metric>: max abs error, "n_runs", "fraction",
    "m_hit"}``)
    and ``tolerance``.
    """
    datasets = list(datasets)
    rows: List[Dict[str, object]] = []
    chosen = "every"
    if not datasets:
        raise ResultsError("schedule rule: no full-density results to measure the candidates on")
    for schedule in candidates:
        if isinstance(schedule, str):
            raise ResultsError(f"schedule rule: candidate {schedule!r} is a spec string; pass schedules parsed "
                               f"with lcne.experiments.eval_schedule.parse_schedule")
        spec = schedule.to_spec()
        if schedule.is_dense:  # evaluating every iteration is exact by construction
            rows.append({"schedule": spec, "passed": True, "fraction": 1.0})
            chosen = spec
            break
        errors = schedule_errors(datasets, schedule)
        passed = within_tolerance(errors, tolerance)
        rows.append({"schedule": spec, "passed": passed, **errors})
        if passed:
            chosen = spec
            break
    return {"chosen": chosen, "candidates": rows, "tolerance": dict(tolerance)}
