"""Shared figure style: colour-blind-safe palette, fonts and sizes for paper layouts.

Sizes follow common journal layouts: one column 3.5 in (89 mm) wide, two columns
7.2 in (183 mm). Colours are the Okabe & Ito (2008) colour-blind-safe set.
"""
from __future__ import annotations

import matplotlib

__all__ = ["OKABE_ITO", "ONE_COLUMN", "TWO_COLUMN", "color_for", "apply_style", "METHOD_LABELS", "label_for",
           "marker_for", "save_all"]

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

#: fixed colours for the methods so every figure agrees
_METHOD_COLOURS = {
    "ngm": OKABE_ITO["vermillion"],
    "sgd": OKABE_ITO["green"],
    "msgd": OKABE_ITO["blue"],
    "adam": OKABE_ITO["orange"],
    # ablations: a reset variant shares its method's colour
    "msgd-reset": OKABE_ITO["blue"],
    "adam-reset": OKABE_ITO["orange"],
    "fixed-gain": OKABE_ITO["purple"],
    "entropy-lr": OKABE_ITO["skyblue"],
    "ngm-momentum": OKABE_ITO["black"],
    "shuffled-gain": "#888888",
}
_CYCLE = [OKABE_ITO[k] for k in ("purple", "skyblue", "black", "yellow")]

ONE_COLUMN = 3.5  # inches
TWO_COLUMN = 7.2  # inches


def color_for(name: str, index: int = 0) -> str:
    """Colour of a method (method/controller) name; unknown names cycle a fixed list."""
    return _METHOD_COLOURS.get(name, _CYCLE[index % len(_CYCLE)])


def apply_style() -> None:
    """Set matplotlib rc parameters for publication figures (8 pt text, thin lines)."""
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


#: display names of the methods (figure legends)
METHOD_LABELS = {"ngm": "NGM-SGD", "sgd": "SGD", "msgd": "MSGD", "adam": "Adam"}

#: marker per benchmark so scatter plots stay readable in greyscale
_BENCHMARK_MARKERS = {"split-mnist": "o", "rotated-mnist": "s", "permuted-mnist": "^",
                      "split-cifar10": "D", "domain-cifar100": "v"}
_MARKER_CYCLE = ["o", "s", "^", "D", "v", "P", "X"]


def label_for(name: str) -> str:
    """Legend label of a method name (unknown names unchanged)."""
    return METHOD_LABELS.get(name, name)


def marker_for(benchmark: str, index: int = 0) -> str:
    """Marker of a benchmark; unknown names cycle a fixed list."""
    return _BENCHMARK_MARKERS.get(benchmark, _MARKER_CYCLE[index % len(_MARKER_CYCLE)])


def save_all(fig, stem, formats=("pdf", "png")) -> list:
    """Save ``fig`` as ``<stem>.<fmt>`` for each format (vector PDF, 300 dpi PNG); close it."""
    import matplotlib.pyplot as plt
    from pathlib import Path

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = stem.parent / f"{stem.name}.{fmt}"  # not with_suffix: stems may contain dots (eta0.2)
        fig.savefig(path, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths
