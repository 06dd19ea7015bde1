"""Writing figures to files: :func:`save_figure`, the one figure writer of lcne.

Every command that writes a figure (``lcne run``, ``lcne figures``, ``lcne compare-bio``,
``lcne report --figure``, ``lcne validate-spiking``) goes through it, so a figure file is
either complete or absent: each format is written to a hidden temporary file beside the
target and renamed over it only when the write succeeded (the rename is atomic on one
file system). An interrupted or failing write leaves any earlier file untouched and no
temporary file behind.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import List, Sequence, Union

__all__ = ["save_figure"]


def save_figure(fig, stem: Union[str, Path], formats: Sequence[str] = ("png", "pdf"), *,
                close: bool = True, **savefig_kwargs) -> List[Path]:
    """Write ``fig`` as ``<stem>.<fmt>`` for each format, atomically; close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A pyplot figure or a bare ``Figure`` (no backend needed).
    stem : str or Path
        Target path without the format suffix. Dots in the stem are kept
        (``task1_eta0.2`` gives ``task1_eta0.2.png``); missing folders are created.
    formats : sequence of str
        Formats in the order written and returned, e.g. ``("png", "pdf")`` (vector PDF,
        PNG at the ``savefig.dpi`` of :func:`lcne.analysis.style.apply_style`, 300 dpi).
    close : bool
        Close the figure afterwards (frees a pyplot figure's memory).
    **savefig_kwargs
        Passed to ``fig.savefig``; ``bbox_inches="tight"`` unless given.

    Returns
    -------
    list of Path
        The files written, one per format.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 1.5))
    >>> _ = fig.subplots().plot([0, 1], [0, 1])
    >>> [p.name for p in save_figure(fig, "out/task1_eta0.2", ("png", "pdf"))]
    ['task1_eta0.2.png', 'task1_eta0.2.pdf']
    >>> sorted(p.name for p in Path("out").iterdir())  # no temporary file left behind
    ['task1_eta0.2.pdf', 'task1_eta0.2.png']
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    savefig_kwargs.setdefault("bbox_inches", "tight")
    paths = []
    try:
        for fmt in formats:
            fmt = str(fmt).lstrip(".").lower()
            path = stem.parent / f"{stem.name}.{fmt}"  # not with_suffix: stems may contain dots
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.{fmt}")
            try:
                fig.savefig(tmp, format=fmt, **savefig_kwargs)
                os.replace(tmp, path)
            finally:
                if tmp.exists():
                    tmp.unlink()
            paths.append(path)
    finally:
        if close:
            _close(fig)
    return paths


def _close(fig) -> None:
    """Close a pyplot-managed figure; a bare ``Figure`` holds no global state."""
    manager = getattr(fig.canvas, "manager", None)
    if manager is not None:
        import matplotlib.pyplot as plt

        plt.close(fig)
