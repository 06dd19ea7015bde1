"""One-figure summary of a multi-method study: per benchmark, every method's metric per seed.

Rows are metrics (default avg-SG and WC-ACC of the task-1 curve), columns benchmarks.
In each panel the methods run down the y-axis in the report's order; each seed is a small
dot, the seed mean a larger marker with its 95 % bootstrap CI, and a dashed line marks
NGM-SGD's mean so every other method reads as "left or right of NGM".

Units: avg-SG is a fraction of accuracy (0-1); the accuracy metrics are in percent (the
scales and labels of :mod:`lcne.analysis.vocabulary`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from lcne.analysis.gap_gain import bootstrap_ci
from lcne.analysis.metrics import per_seed_metrics
from lcne.analysis.report import merge_results
from lcne.analysis.style import OKABE_ITO, TWO_COLUMN, apply_style
from lcne.analysis.vocabulary import SUMMARY_METRICS, metric, method_colour

__all__ = ["study_figure"]


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
                if not len(per[m]):  # no finished seed
                    continue
                y = len(methods) - 1 - k
                vals = per[m][key].values * info.scale
                col = method_colour(m, k)
                ax.scatter(vals, y + rng.uniform(-0.15, 0.15, len(vals)), s=6, color=col, alpha=0.5, lw=0)
                lo, hi = bootstrap_ci(vals)
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
