"""The main run figure: task-1 accuracy per method with the gain trace below it."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import xarray as xr

from lcne.analysis.style import TWO_COLUMN, apply_style, color_for

__all__ = ["plot_task1_with_gain", "save_figure"]

_LABELS = {"ngm": "NGM-SGD", "sgd": "SGD", "msgd": "MSGD", "adam": "Adam"}


def _label(name: str) -> str:
    return _LABELS.get(name, name)


def plot_task1_with_gain(ds: xr.Dataset, eval_task: int = 1, title: str = None):
    """Figure with two panels sharing the iteration axis.

    Top: accuracy (%) on ``eval_task`` per method, seed mean with a band of +-1 sd
    (population sd across seeds). Bottom: gain g(t), seed mean and band, for every
    method whose gain is not constant. Dashed lines mark context switches.

    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    apply_style()
    ipt = int(ds.attrs["iterations_per_task"])
    n_tasks = int(ds.sizes["eval_task"])
    it = ds["iteration"].values
    fig, (ax_acc, ax_gain) = plt.subplots(
        2, 1, sharex=True, figsize=(TWO_COLUMN, 3.6), gridspec_kw={"height_ratios": [2.2, 1]}
    )
    for i, opt in enumerate(ds["method"].values):
        opt = str(opt)
        c = color_for(opt, i)
        acc = 100 * ds["accuracy"].sel({"method": opt, "eval_task": eval_task}).values  # (seed, iter)
        m, s = np.nanmean(acc, 0), np.nanstd(acc, 0)
        ax_acc.plot(it, m, color=c, label=_label(opt))
        ax_acc.fill_between(it, m - s, m + s, color=c, alpha=0.2, linewidth=0)
        g = ds["gain"].sel({"method": opt}).values
        if np.nanmax(np.abs(g - g[..., :1])) > 0:
            gm, gs = np.nanmean(g, 0), np.nanstd(g, 0)
            ax_gain.plot(it, gm, color=c, label=_label(opt))
            ax_gain.fill_between(it, gm - gs, gm + gs, color=c, alpha=0.2, linewidth=0)
    ax_gain.axhline(1.0, color="0.5", lw=0.6, ls=":")
    for k in range(1, n_tasks):
        for ax in (ax_acc, ax_gain):
            ax.axvline(k * ipt, color="0.4", lw=0.6, ls="--")
        ax_acc.text(k * ipt + ipt * 0.02, 3, f"T{k + 1}", fontsize=7, color="0.3")
    ax_acc.set_ylabel(f"task-{eval_task} test accuracy (%)")
    ax_acc.set_ylim(0, 101)
    ax_acc.legend(loc="lower left", ncol=len(ds["method"]), frameon=False, bbox_to_anchor=(0, 1.0))
    ax_gain.set_ylabel("gain g (1)")
    ax_gain.set_xlabel("training iteration")
    ax_gain.set_xlim(it[0], it[-1] + 1)
    n_seeds = ds.sizes["seed"]
    fig.suptitle(
        title or f"{ds.attrs.get('benchmark', '')}: seed mean ± 1 sd over {n_seeds} seeds",
        fontsize=8,
        y=0.995,
    )
    fig.align_ylabels()
    fig.tight_layout()
    return fig


def save_figure(fig, stem, formats: Sequence[str] = ("png", "pdf")) -> list:
    """Save ``fig`` as ``stem.<fmt>`` for each format; returns the paths."""
    import matplotlib.pyplot as plt

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        p = stem.with_name(f"{stem.name}.{fmt}")
        tmp = p.with_name(f".{p.stem}.tmp.{fmt}")  # written then renamed: no half-written figure
        fig.savefig(tmp, bbox_inches="tight", format=fmt)
        tmp.replace(p)
        paths.append(p)
    plt.close(fig)
    return paths
