"""A linear first-order low-pass filter of the input: the baseline the LC model must beat.

A correlation between the population's NE and the Gilzenrat ``u`` says little by itself:
NE is a smoothed copy of the firing rate, the rate follows the input, and so any low-pass
of the input correlates with NE. :func:`fit_lowpass` fits the best such filter (its time
constant is the one free parameter; correlation ignores gain and offset), and
:func:`post_pulse_dip` measures one thing that no such filter can do: fall below its
pre-pulse level after a non-negative pulse (a first-order low-pass of ``s >= 0`` relaxes
monotonically back to its baseline from above).
"""
from __future__ import annotations

import logging
from typing import Optional, Sequence, Tuple

import numpy as np

from lcne.spiking.protocols import Stimulus

__all__ = ["fit_lowpass", "lowpass", "post_pulse_dip"]

log = logging.getLogger(__name__)


def lowpass(stimulus: Stimulus, tau_ms: float, times_ms: np.ndarray) -> np.ndarray:
    """``y`` with ``tau dy/dt = s - y``, ``y(0) = s(0)``, exact for the held samples, at ``times_ms``."""
    if not tau_ms > 0:
        raise ValueError(f"tau_ms must be > 0, got {tau_ms}")
    from scipy.signal import lfilter

    a = float(np.exp(-stimulus.dt_ms / tau_ms))
    s = stimulus.values
    y, _ = lfilter([1.0 - a], [1.0, -a], s, zi=[a * s[0]])
    y = np.concatenate([[s[0]], y[:-1]])  # value at the start of each sample
    return np.interp(np.asarray(times_ms, float), stimulus.times_ms, y)


def fit_lowpass(ne: np.ndarray, stimulus: Stimulus, times_ms: np.ndarray,
                window_ms: Optional[Tuple[float, float]] = None,
                grid_ms: Sequence[float] = tuple(np.geomspace(10.0, 5000.0, 28))) -> dict:
    """Time constant of the low-pass of ``stimulus`` that correlates best with ``ne``.

    Returns ``r`` (Pearson, over ``window_ms``), ``tau_ms``, ``y`` (the filtered input at
    ``times_ms``) and ``scan`` (list of [tau_ms, r]); the best grid value is refined on a
    finer grid around it.
    """
    times_ms = np.asarray(times_ms, float)
    ne = np.asarray(ne, float)
    sel = np.ones(times_ms.shape, bool) if window_ms is None else \
        (times_ms >= window_ms[0]) & (times_ms < window_ms[1])

    def score(tau):
        y = lowpass(stimulus, tau, times_ms)
        a, b = y[sel], ne[sel]
        return (float(np.corrcoef(a, b)[0, 1]) if np.std(a) > 0 and np.std(b) > 0 else float("nan")), y

    scan = {float(t): score(float(t)) for t in grid_ms}
    keys = sorted(scan)
    best = max(keys, key=lambda t: np.nan_to_num(scan[t][0], nan=-2))
    i = keys.index(best)
    for t in np.geomspace(keys[max(i - 1, 0)], keys[min(i + 1, len(keys) - 1)], 9)[1:-1]:
        if float(t) not in scan:
            scan[float(t)] = score(float(t))
    best = max(scan, key=lambda t: np.nan_to_num(scan[t][0], nan=-2))
    return {"r": scan[best][0], "tau_ms": best, "y": scan[best][1],
            "scan": [[t, scan[t][0]] for t in sorted(scan)]}


def post_pulse_dip(trace: np.ndarray, times_ms: np.ndarray, onsets_ms: Sequence[float],
                   before_ms: float = 1000.0, after_ms: float = 1500.0) -> dict:
    """Undershoot of a trace below its pre-pulse level after the evoked peak, averaged over onsets.

    Returns ``baseline``, ``peak`` and ``minimum`` of the onset-averaged trace (the minimum
    after the peak, within ``after_ms`` of the onset), ``dip`` = (baseline - minimum) /
    (peak - baseline) (0 when the trace never goes below its baseline; a first-order
    low-pass of a non-negative pulse gives 0) and ``dip_time_ms`` (minimum, from onset).
    """
    times_ms = np.asarray(times_ms, float)
    trace = np.asarray(trace, float)
    dt = float(times_ms[1] - times_ms[0]) if times_ms.size > 1 else 1.0
    nb, na = int(round(before_ms / dt)), int(round(after_ms / dt))
    segs = []
    for t0 in onsets_ms:
        i0 = int(np.searchsorted(times_ms, t0))
        if i0 - nb >= 0 and i0 + na <= trace.size:
            segs.append(trace[i0 - nb:i0 + na])
    if not segs:
        nan = float("nan")
        return {"baseline": nan, "peak": nan, "minimum": nan, "dip": nan, "dip_time_ms": nan, "n_onsets": 0}
    avg = np.mean(segs, axis=0)
    base, post = float(avg[:nb].mean()), avg[nb:]
    ipk = int(np.argmax(post))
    imin = ipk + int(np.argmin(post[ipk:]))
    peak, low = float(post[ipk]), float(post[imin])
    excess = peak - base
    dip = max(0.0, (base - low) / excess) if excess > 0 else float("nan")
    return {"baseline": base, "peak": peak, "minimum": low, "dip": dip, "dip_time_ms": imin * dt,
            "n_onsets": len(segs)}
