"""Shared figure style: colour-blind-safe palette, fonts and sizes for paper layouts.

Sizes follow common journal layouts: one column 3.5 in (89 mm) wide, two columns
7.2 in (183 mm). Colours are the Okabe & Ito (2008) colour-blind-safe set. The colour,
label and line style of each method are in :mod:`lcne.analysis.vocabulary`; figures are
written by :func:`lcne.analysis.figure_io.save_figure`.
"""
from __future__ import annotations

import warnings

__all__ = ["OKABE_ITO", "ONE_COLUMN", "TWO_COLUMN", "apply_style", "marker_for"]

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "skyblue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

ONE_COLUMN = 3.5  # inches
TWO_COLUMN = 7.2  # inches


def apply_style() -> None:
    """Set matplotlib rc parameters for publication figures (8 pt text, thin lines)."""
    import matplotlib

    matplotlib.rcParams.update(
        {
            "font.size": 8,
            "axes.titlesize": 8,
            "axes.labelsize": 8,
            "legend.fontsize": 7,
            "xtick.labelsize": 7,
            "ytick.labelsize": 7,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "lines.linewidth": 1.0,
            "savefig.dpi": 300,
            "pdf.fonttype": 42,
            "ps.fonttype": 42,
        }
    )


#: marker per benchmark so scatter plots stay readable in greyscale
_BENCHMARK_MARKERS = {"split-mnist": "o", "rotated-mnist": "s", "permuted-mnist": "^",
                      "split-cifar10": "D", "domain-cifar100": "v"}
_MARKER_CYCLE = ["o", "s", "^", "D", "v", "P", "X"]


def marker_for(benchmark: str, index: int = 0) -> str:
    """Marker of a benchmark; unknown names cycle a fixed list."""
    return _BENCHMARK_MARKERS.get(benchmark, _MARKER_CYCLE[index % len(_MARKER_CYCLE)])
