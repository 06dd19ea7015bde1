"""Analysis of results files: metrics, gain-gap relations, biology comparison, figures.

Reads results (xarray Datasets written by ``lcne run`` / ``lcne sweep``) through the one
reader, :mod:`lcne.analysis.results_io`; never trains. The names below load on first use,
so importing one submodule (say :mod:`lcne.analysis.schema`) does not import matplotlib.
"""
from __future__ import annotations

from lcne import lazy_exports

#: public name -> submodule that defines it (loaded on first access, PEP 562)
_EXPORTS = {
    "biology": None,
    "make_figure_set": "figure_set",
    "bootstrap_ci": "gap_gain",
    "gain_features": "gap_gain",
    "gain_gap_xcorr": "gap_gain",
    "gap_features": "gap_gain",
    "lagged_xcorr": "gap_gain",
    "regress": "gap_gain",
    "relate": "gap_gain",
    "seed_statistics": "gap_gain",
    "switch_table": "gap_gain",
    "task_complexity": "gap_gain",
    "xcorr_summary": "gap_gain",
    "metrics_table": "metrics",
    "propagated_metrics": "metrics",
    "stability_metrics": "metrics",
    "ResultsError": "results_io",
    "load_results": "results_io",
    "open_results": "results_io",
    "open_sweep": "results_io",
    "run_info": "results_io",
    "agreement": "statistics",
    "bca_interval": "statistics",
    "holm": "statistics",
    "holm_reachable": "statistics",
    "power_note": "statistics",
    "sign_flip_p": "statistics",
    "smallest_p": "statistics",
    "t_interval": "statistics",
    "build_study_report": "study_report",
    "study_tables": "study_report",
    "forest_figure": "study_figure",
    "schedule_exactness": "eval_exactness",
    "compare_results": "eval_exactness",
    "choose_schedule": "schedule_rule",
    "synthetic_results": "synthetic",
}

lazy_exports.install(globals(), _EXPORTS)
