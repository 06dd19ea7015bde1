"""Figures of a multi-method study: per-seed values (:func:`study_figure`) and effects
(:func:`forest_figure`).

:func:`study_figure` -- rows are metrics (default avg-SG and WC-ACC of the task-1 curve),
columns benchmarks. In each panel the methods run down the y-axis in the report's order;
each seed is a small dot, the seed mean a larger marker with its 95 % Student-t interval,
and a dashed line marks NGM-SGD's mean so every other method reads as "left or right of
NGM". ``lcne report --figure`` draws it.

:func:`forest_figure` -- the study's forest plot (``lcne study-report --figure``): one row
of panels per claim family of :mod:`lcne.analysis.study_claims`, one column per metric.
Each claim that ran is a marker at its effect a − b (metric units) with its 95 % t
interval as a line (the BCa interval as a thin line above it); the marker is filled when
the Holm-adjusted p is below alpha and hollow otherwise; a vertical line marks 0. Rows are
labelled "benchmark: a vs b"; claims that did not run are counted in the panel title.

Units: avg-SG is a fraction of accuracy (0-1); the accuracy metrics are in percent, their
effects in percentage points (the scales and labels of :mod:`lcne.analysis.vocabulary`).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import xarray as xr

from lcne.analysis.metrics import per_seed_metrics
from lcne.analysis.report import merge_results
from lcne.analysis.statistics import t_interval
from lcne.analysis.style import OKABE_ITO, TWO_COLUMN, apply_style
from lcne.analysis.vocabulary import SUMMARY_METRICS, method_colour, metric

__all__ = ["study_figure", "forest_figure"]


def study_figure(datasets: Sequence[xr.Dataset], metrics: Sequence[str] = ("avg_sg", "wc_acc"),
                 convention: str = "code", reference: str = "ngm"):
    """Figure (matplotlib) of ``metrics`` per seed, method and benchmark.

    ``datasets``: results of one or more benchmarks; files of one benchmark merge along
    ``method`` (as in :func:`lcne.analysis.report.merge_results`).
    """
    import matplotlib.pyplot as plt

    for m in metrics:
        if m not in SUMMARY_METRICS:
            raise ValueError(f"metric {m!r}: choose from {', '.join(SUMMARY_METRICS)}")
    groups = merge_results(datasets)
    if not groups:
        raise ValueError("no results to plot")
    apply_style()
    benches = sorted(groups)
    n_methods = max(groups[b].sizes["method"] for b in benches)
    fig, axes = plt.subplots(len(metrics), len(benches), squeeze=False,
                             figsize=(TWO_COLUMN, len(metrics) * (0.25 * n_methods + 0.7)))
    rng = np.random.default_rng(0)  # vertical jitter of the seed dots only
    first = [str(m) for m in groups[benches[0]]["method"].values]
    for j, bench in enumerate(benches):
        ds = groups[bench]
        methods = [str(m) for m in ds["method"].values]
        labelled = j == 0 or methods != first  # a column with other methods gets its own labels
        per = {m: per_seed_metrics(ds, m, convention) for m in methods}
        for i, key in enumerate(metrics):
            ax = axes[i, j]
            info = metric(key)
            for k, m in enumerate(methods):
                vals = per[m][key].to_numpy(float) * info.scale
                vals = vals[np.isfinite(vals)]
                if not vals.size:  # no finished seed
                    continue
                y = len(methods) - 1 - k
                col = method_colour(m, k)
                ax.scatter(vals, y + rng.uniform(-0.15, 0.15, len(vals)), s=6, color=col, alpha=0.5, lw=0)
                if vals.size > 1:
                    lo, hi = t_interval(vals)
                    ax.plot([lo, hi], [y, y], color=col, lw=1.2)
                ax.plot(vals.mean(), y, "o", color=col, ms=4, mec="white", mew=0.5)
                if m == reference:
                    ax.axvline(vals.mean(), color=OKABE_ITO["black"], lw=0.6, ls="--", zorder=0)
            ax.set_yticks(range(len(methods)))
            ax.set_yticklabels(methods[::-1] if labelled else [])
            ax.set_ylim(-0.6, len(methods) - 0.4)
            ax.set_xlabel(info.axis_label)
            if i == 0:
                ax.set_title(bench)
    fig.tight_layout()
    return fig


def forest_figure(tables, alpha: Optional[float] = None):
    """Forest plot of the study's effects (see the module docstring).

    Parameters
    ----------
    tables : lcne.analysis.study_report.StudyTables
        The output of :func:`lcne.analysis.study_report.study_tables`.
    alpha : float, optional
        Level for filled markers (default: ``tables.alpha``).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per (family, metric) with at least one claim that ran, top to bottom in
        the order of :data:`lcne.analysis.study_claims.FAMILIES`; the families with no claim
        run are named in a line at the bottom.
    """
    import matplotlib.pyplot as plt

    from lcne.analysis.study_claims import FAMILIES

    alpha = tables.alpha if alpha is None else float(alpha)
    claims = tables.claims
    panels, idle = [], []
    for fam_id, fam in FAMILIES.items():
        rows = claims[claims["family"] == fam_id]
        if not (rows["verdict"] != "not run").any():
            idle.append(fam_id)
            continue
        for key in fam.metrics:
            sub = rows[rows["metric"] == key]
            ran = sub[sub["verdict"] != "not run"]
            if len(ran):
                panels.append((fam_id, fam.title, key, ran, len(sub) - len(ran), len(sub)))
    apply_style()
    row_h, head, foot, left, right = 0.12, 0.3, 0.5, 2.2, 0.15  # inches
    heights = [len(p[3]) * row_h + 0.2 for p in panels]
    total = sum(h + head + foot for h in heights) + 0.35
    fig = plt.figure(figsize=(TWO_COLUMN, max(total, 1.0)))
    colour = OKABE_ITO["vermillion"]
    top = total
    for (fam_id, title, key, ran, n_not, n_all), h in zip(panels, heights):
        top -= head + h
        ax = fig.add_axes([left / TWO_COLUMN, top / total, (TWO_COLUMN - left - right) / TWO_COLUMN, h / total])
        top -= foot
        info = metric(key)
        ys = np.arange(len(ran))[::-1]
        for y, (_, r) in zip(ys, ran.iterrows()):
            if np.isfinite(r["t_low"]):
                ax.plot([r["t_low"], r["t_high"]], [y, y], color=colour, lw=1.0)
            if np.isfinite(r["bca_low"]):
                ax.plot([r["bca_low"], r["bca_high"]], [y + 0.3, y + 0.3], color=OKABE_ITO["black"], lw=0.5)
            filled = bool(np.isfinite(r["p_holm"]) and r["p_holm"] < alpha)
            ax.plot(r["mean"], y, "o", ms=3.5, mec=colour, mfc=colour if filled else "white", mew=0.8)
        ax.axvline(0.0, color=OKABE_ITO["black"], lw=0.6, ls="--", zorder=0)
        pairs = list(zip(ran["a"], ran["b"]))
        for y, prev, cur in zip(ys[1:], pairs[:-1], pairs[1:]):
            if cur != prev:  # a thin rule between comparisons
                ax.axhline(y + 0.5, color="#BBBBBB", lw=0.4, zorder=0)
        ax.set_yticks(ys)
        ax.set_yticklabels([f"{r['benchmark']}: {r['a']} vs {r['b']}" for _, r in ran.iterrows()], fontsize=6)
        ax.set_ylim(-0.6, len(ran) - 0.2)
        side = "A better to the left" if info.better < 0 else "A better to the right"
        unit = "pp" if info.unit == "%" else info.unit
        ax.set_xlabel(f"effect a − b in {info.label} ({unit}); {side}")
        ax.set_title(f"{fam_id} {title}: {info.label}" + (f" ({n_not} of {n_all} not run)" if n_not else ""),
                     loc="left")
    note = ("Filled: Holm-adjusted p < " f"{alpha:g}; line: 95 % t interval; thin line: 95 % BCa interval.")
    if idle:
        note += " No claim ran in " + ", ".join(idle) + "."
    fig.text(0.01, 0.1 / total, note, fontsize=6, va="bottom")
    return fig
