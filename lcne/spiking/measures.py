"""Measurements on spiking-population results: rates, synchrony, peri-stimulus responses.

All functions read the Dataset of :meth:`lcne.spiking.population.LCPopulation.run`
(``spike_time`` in ms, ``spike_cell``, ``cell_condition``) and take times in ms.
"""
from __future__ import annotations

import logging
from typing import Sequence, Tuple

import numpy as np
import xarray as xr

__all__ = ["evoked_response", "pooled_spearman", "post_burst_silence", "psth", "spearman", "synchrony_chi",
           "tonic_rate"]

log = logging.getLogger(__name__)


def _cells_of(ds: xr.Dataset, condition: int) -> Tuple[np.ndarray, np.ndarray, int]:
    cell_cond = ds.cell_condition.values
    mask = cell_cond[ds.spike_cell.values] == condition
    return ds.spike_time.values[mask], ds.spike_cell.values[mask], int(np.sum(cell_cond == condition))


def tonic_rate(ds: xr.Dataset, condition: int, windows_ms: Sequence[Tuple[float, float]]) -> float:
    """Mean firing rate per cell (Hz) of one condition over the given windows (ms)."""
    t, _, n = _cells_of(ds, condition)
    count = sum(np.sum((t >= a) & (t < b)) for a, b in windows_ms)
    span = sum(b - a for a, b in windows_ms) / 1000.0
    return float(count / (n * span)) if span > 0 else float("nan")


def synchrony_chi(ds: xr.Dataset, condition: int, windows_ms: Sequence[Tuple[float, float]],
                  bin_ms: float = 20.0) -> float:
    """Golomb's synchrony measure chi on binned spike counts.

    ``chi**2 = Var_t(mean_i x_i) / mean_i Var_t(x_i)``, with ``x_i`` the spike count of
    cell ``i`` in bins of ``bin_ms`` inside ``windows_ms``. 1 = full synchrony; about
    ``1/sqrt(N)`` for independent cells.
    """
    t, c, n = _cells_of(ds, condition)
    first = int(np.min(np.nonzero(ds.cell_condition.values == condition)[0]))
    blocks = []
    for a, b in windows_ms:
        nb = int((b - a) // bin_ms)
        if nb < 1:
            continue
        sel = (t >= a) & (t < a + nb * bin_ms)
        x = np.zeros((n, nb))
        np.add.at(x, (c[sel] - first, ((t[sel] - a) // bin_ms).astype(int)), 1.0)
        blocks.append(x)
    if not blocks:
        return float("nan")
    x = np.concatenate(blocks, axis=1)
    denom = np.mean(np.var(x, axis=1))
    return float(np.sqrt(np.var(x.mean(axis=0)) / denom)) if denom > 0 else float("nan")


def psth(ds: xr.Dataset, condition: int, onsets_ms: Sequence[float], window_ms=(-1000.0, 2000.0),
         bin_ms: float = 20.0) -> Tuple[np.ndarray, np.ndarray]:
    """Peri-stimulus rate per cell (Hz) averaged over onsets; returns (bin starts in ms, rate)."""
    t, _, n = _cells_of(ds, condition)
    edges = np.arange(window_ms[0], window_ms[1] + 1e-9, bin_ms)
    counts = np.zeros(len(edges) - 1)
    for t0 in onsets_ms:
        counts += np.histogram(t - t0, edges)[0]
    return edges[:-1], counts / (n * len(onsets_ms) * bin_ms / 1000.0)


def evoked_response(ds: xr.Dataset, condition: int, onsets_ms: Sequence[float], response_ms: float,
                    baseline_ms: float = 1000.0, bin_ms: float = 20.0) -> dict:
    """Phasic response of one condition, per cell and trial.

    Parameters
    ----------
    response_ms : float
        Length of the response window after each onset, ms.
    baseline_ms : float
        Window before each onset for the baseline rate, ms.

    Returns
    -------
    dict
        ``spikes_per_cell`` (mean count in the window), ``excess_spikes`` (count minus
        baseline rate x window), ``baseline_hz``, ``latency_ms`` (median first-spike time
        of responding cell-trials), ``burst_rate_hz`` (median 1 / first evoked ISI of
        cell-trials with >= 2 spikes), ``frac_responding``, ``frac_two_or_more``,
        ``peak_hz`` (PSTH peak) and ``pause_ms`` (time from the end of the excitation,
        the first PSTH bin below baseline after the peak, until the rate is back at half
        the baseline).
    """
    t, c, n = _cells_of(ds, condition)
    first = int(np.min(np.nonzero(ds.cell_condition.values == condition)[0]))
    counts, latencies, isis = [], [], []
    base_spikes = 0
    for t0 in onsets_ms:
        base_spikes += np.sum((t >= t0 - baseline_ms) & (t < t0))
        sel = (t >= t0) & (t < t0 + response_ms)
        rel, cell = t[sel] - t0, c[sel] - first
        order = np.lexsort((rel, cell))
        rel, cell = rel[order], cell[order]
        k = np.bincount(cell, minlength=n)
        counts.append(k)
        starts = np.concatenate([[0], np.cumsum(k)[:-1]])
        has1, has2 = k >= 1, k >= 2
        latencies.append(rel[starts[has1]])
        isis.append(rel[starts[has2] + 1] - rel[starts[has2]])
    counts = np.concatenate(counts)
    lat = np.concatenate(latencies)
    isi = np.concatenate(isis)
    base_hz = base_spikes / (n * len(onsets_ms) * baseline_ms / 1000.0)
    edges, rate = psth(ds, condition, onsets_ms, (-baseline_ms, 2000.0), bin_ms)
    post = edges >= 0
    e_post, r_post = edges[post], rate[post]
    peak = int(np.argmax(r_post))
    pause = float("nan")
    below = np.nonzero(r_post[peak:] < base_hz)[0]
    if below.size:
        end_exc = peak + int(below[0])
        back = np.nonzero(r_post[end_exc:] >= 0.5 * base_hz)[0]
        pause = float(back[0] * bin_ms) if back.size else float(len(r_post[end_exc:]) * bin_ms)
    return {
        "spikes_per_cell": float(counts.mean()),
        "excess_spikes": float(counts.mean() - base_hz * response_ms / 1000.0),
        "baseline_hz": float(base_hz),
        "latency_ms": float(np.median(lat)) if lat.size else float("nan"),
        "burst_rate_hz": float(np.median(1000.0 / isi)) if isi.size else float("nan"),
        "frac_responding": float(np.mean(counts >= 1)),
        "frac_two_or_more": float(np.mean(counts >= 2)),
        "peak_hz": float(r_post[peak]),
        "pause_ms": pause,
    }


def spearman(x, y) -> float:
    """Spearman rank correlation (average ranks for ties), rounded to 12 decimals.

    With a handful of levels rho takes only a few exact values (4 levels, one swap: 0.8); the
    rounding removes the floating-point residue (-0.7999999999999999) that would put such a
    value outside a range that includes it."""
    from scipy.stats import spearmanr

    return float(np.round(spearmanr(np.asarray(x, float), np.asarray(y, float)).statistic, 12))


def post_burst_silence(ds: xr.Dataset, condition: int, onsets_ms: Sequence[float], response_ms: float,
                       end_ms: Sequence[float]) -> Tuple[np.ndarray, np.ndarray]:
    """Evoked spike count and the silence after it, per cell and trial.

    For every cell-trial with at least one spike in ``[t0, t0 + response_ms)``: the number
    of those spikes and the time from the last of them to the cell's next spike, ms. A cell
    that stays silent until ``end_ms[k]`` (the next onset, or the end of the record) gives
    that censored interval instead.

    Returns
    -------
    counts, silence_ms : ndarray, shape (n_cell_trials,)
    """
    t, c, n = _cells_of(ds, condition)
    first = int(np.min(np.nonzero(ds.cell_condition.values == condition)[0]))
    per_cell = [np.sort(t[c - first == i]) for i in range(n)]
    counts, silence = [], []
    for t0, t_end in zip(onsets_ms, end_ms):
        for st in per_cell:
            lo, hi = np.searchsorted(st, [t0, t0 + response_ms])
            if hi == lo:
                continue
            last = st[hi - 1]
            nxt = st[hi] if hi < st.size and st[hi] < t_end else t_end
            counts.append(hi - lo)
            silence.append(nxt - last)
    return np.asarray(counts, float), np.asarray(silence, float)


def pooled_spearman(groups: Sequence[Tuple[np.ndarray, np.ndarray]], z_level: float = 1.96) -> dict:
    """Spearman correlation within each group, combined over groups, with a confidence bound.

    Each group's rho is Fisher-transformed, ``z = artanh(rho)``, with standard error
    ``1.06 / sqrt(n - 3)`` (Fieller, Hartley & Pearson 1957, Biometrika 44:470); the groups
    are combined by the mean of ``z`` weighted by ``n - 3``, whose standard error is
    ``1.06 / sqrt(sum(n - 3))``. Groups with fewer than 4 pairs or a constant variable are
    left out. Combining within groups (rather than pooling the pairs) keeps differences
    between the groups' means out of the correlation.

    Returns
    -------
    dict
        ``rho`` (combined), ``lo``/``hi`` (bounds at ``z_level`` standard errors; 1.96: 95 %),
        ``n`` (pairs used) and ``per_group`` (list of [rho, n]; rho NaN for a group left out).
    """
    from scipy.stats import spearmanr

    zs, ws, per = [], [], []
    for x, y in groups:
        x, y = np.asarray(x, float), np.asarray(y, float)
        if x.size < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
            per.append([float("nan"), int(x.size)])
            continue
        r = float(spearmanr(x, y).statistic)
        per.append([r, int(x.size)])
        zs.append(np.arctanh(np.clip(r, -0.999999, 0.999999)))
        ws.append(x.size - 3.0)
    if not ws:
        nan = float("nan")
        return {"rho": nan, "lo": nan, "hi": nan, "n": 0, "per_group": per}
    z = float(np.average(zs, weights=ws))
    se = 1.06 / np.sqrt(np.sum(ws))
    return {"rho": float(np.tanh(z)), "lo": float(np.tanh(z - z_level * se)), "hi": float(np.tanh(z + z_level * se)),
            "n": int(np.sum(ws) + 3 * len(ws)), "per_group": per}

