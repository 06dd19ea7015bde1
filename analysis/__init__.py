"""Analysis of results files: metrics, gain-gap relations, biology comparison, figures.

Reads results (xarray Datasets written by ``lcne run`` / ``lcne sweep``); never trains.
"""
from lcne.analysis import biology
from lcne.analysis.figure_set import make_figure_set
from lcne.analysis.gap_gain import (
    bootstrap_ci,
    gain_features,
    gain_gap_xcorr,
    gap_features,
    lagged_xcorr,
    regress,
    relate,
    seed_statistics,
    switch_table,
    task_complexity,
    xcorr_summary,
)
from lcne.analysis.metrics import metrics_table, propagated_metrics, stability_metrics
from lcne.analysis.results_io import load_results, open_results, run_info
from lcne.analysis.synthetic import synthetic_results

__all__ = [
    "biology",
    "bootstrap_ci",
    "gain_features",
    "gain_gap_xcorr",
    "gap_features",
    "lagged_xcorr",
    "load_results",
    "make_figure_set",
    "metrics_table",
    "open_results",
    "propagated_metrics",
    "regress",
    "relate",
    "run_info",
    "seed_statistics",
    "stability_metrics",
    "switch_table",
    "synthetic_results",
    "task_complexity",
    "xcorr_summary",
]
