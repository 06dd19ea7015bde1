"""Figure of the spiking LC validation (``lcne validate-spiking``): raster, population rate,
NE and the Gilzenrat rate model's u on one time axis.

The computation lives in :mod:`lcne.spiking.validation` (Brian2); this module only draws
its result, so the dynamics package imports no figure code.
"""
from __future__ import annotations

import json

import numpy as np

from lcne.analysis.style import OKABE_ITO, TWO_COLUMN, apply_style

__all__ = ["plot_validation"]


def plot_validation(result, max_cells: int = 100, window_ms=None):
    """Raster, population rate, NE and the rate model's u on one time axis.

    Parameters
    ----------
    result : lcne.spiking.validation.ValidationResult
        What :func:`lcne.spiking.validation.run_validation` returned (only its traces and
        configuration are read; Brian2 is not needed to draw).
    max_cells : int
        Cells shown in the raster.
    window_ms : (float, float), optional
        Time range shown (default: the lead period and the first three trials).

    Returns
    -------
    matplotlib.figure.Figure
        A bare ``Figure`` (no pyplot state); write it with
        :func:`lcne.analysis.figure_io.save_figure`.
    """
    from matplotlib.figure import Figure  # no pyplot: no backend or global figure state

    apply_style()
    cfg, rm = result.config, result.rate_model
    src = result.spiking if "spike_time" not in rm else rm
    if window_ms is None:
        window_ms = (0.0, min(float(rm.time[-1]) + 1, cfg.lead_ms + 3 * cfg.trial_ms))
    t = rm.time.values
    sel_t = (t >= window_ms[0]) & (t < window_ms[1])
    cells = src.spike_cell.values
    st = src.spike_time.values
    cell_cond = result.spiking.cell_condition.values
    keep = (cell_cond[cells] == 0) & (cells < max_cells) & (st >= window_ms[0]) & (st < window_ms[1])

    fig = Figure(figsize=(TWO_COLUMN, 5.2))
    axes = fig.subplots(4, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 1, 1, 1]})
    ax = axes[0]
    ax.scatter(st[keep] / 1000, cells[keep], s=1.5, marker="|", color=OKABE_ITO["black"], linewidths=0.6)
    ax.set_ylabel("cell")
    ax.set_title(f"Spiking LC population ({result.spiking.attrs['n_cells']} cells/condition; "
                 f"raster: first {max_cells}) vs Gilzenrat rate model ({cfg.gilzenrat_preset})")
    width = max(1, int(round(20.0 / float(t[1] - t[0])))) if t.size > 1 else 1
    kernel = np.ones(width) / width  # 20 ms boxcar
    rate = np.convolve(rm.rate.values, kernel, mode="same")
    axes[1].plot(t[sel_t] / 1000, rate[sel_t], color=OKABE_ITO["blue"])
    axes[1].set_ylabel("rate (Hz)")
    axes[2].plot(t[sel_t] / 1000, rm.ne.values[sel_t], color=OKABE_ITO["vermillion"])
    if "lowpass" in rm:  # the baseline: best first-order low-pass of the input, scaled onto NE
        y, ne_all = rm.lowpass.values, rm.ne.values
        slope, icpt = np.polyfit(y, ne_all, 1) if np.std(y) > 0 else (0.0, float(np.mean(ne_all)))
        axes[2].plot(t[sel_t] / 1000, (slope * y + icpt)[sel_t], color=OKABE_ITO["black"], lw=0.8, ls="--",
                     label=f"low-pass of input, tau {rm.attrs.get('lowpass_tau_ms', float('nan')):.3g} ms "
                           f"(r = {rm.attrs.get('r_lowpass', float('nan')):.2f})")
        # above the panel, where no trace runs
        axes[2].legend(loc="lower right", bbox_to_anchor=(1.0, 0.97), fontsize=6, frameon=False, borderaxespad=0)
    axes[2].set_ylabel("NE (nM)")
    axes[3].plot(t[sel_t] / 1000, rm.u.values[sel_t], color=OKABE_ITO["green"])
    axes[3].set_ylabel("rate-model u")
    axes[3].set_xlabel("time (s)")
    axes[3].set_title(f"{rm.attrs['ms_per_unit']:.3g} ms per model unit; r(NE, u) = {rm.attrs['r']:.2f}",
                      loc="right", fontsize=7, pad=2)
    onsets = json.loads(rm.attrs.get("onsets_ms", "[]"))
    if onsets:  # pulses: mark each onset
        for ax in axes[1:]:
            for t0 in onsets:
                if window_ms[0] <= t0 < window_ms[1]:
                    ax.axvline(t0 / 1000, color=OKABE_ITO["skyblue"], lw=0.6, zorder=0)
    else:  # a continuous drive: show it behind the rate model
        twin = axes[3].twinx()
        twin.fill_between(t[sel_t] / 1000, rm.stimulus.values[sel_t], color=OKABE_ITO["skyblue"], alpha=0.35,
                          lw=0, zorder=0)
        twin.set_ylabel("input s", color=OKABE_ITO["blue"])
        twin.spines["right"].set_visible(True)
        axes[3].set_zorder(twin.get_zorder() + 1)
        axes[3].patch.set_visible(False)
    axes[0].set_xlim(window_ms[0] / 1000, window_ms[1] / 1000)
    fig.align_ylabels(axes)
    fig.tight_layout()
    return fig
