"""The Gilzenrat rate model under the spiking population's input, and the time-scale fit.

The population's NE trace and the rate model's ``u`` (NE release) are compared after
fitting the single free quantity that links them: how many milliseconds one model time
unit lasts. Correlation ignores amplitude and offset, so nothing else is fitted.
"""
from __future__ import annotations

import logging
from typing import Optional, Sequence, Tuple

import numpy as np

from lcne.spiking.protocols import Stimulus

__all__ = ["fit_rate_model", "rate_model_drive", "rate_model_u"]

log = logging.getLogger(__name__)


def rate_model_drive(s: np.ndarray, w_vx1: float = 0.3) -> np.ndarray:
    """Gilzenrat input ``w_vX1 f(X1)`` for stimulus ``s``: ``f = 0.5 + 0.5 s`` (clipped to [0, 1]).

    ``s = 0`` is a decision unit at rest (logistic of 0 = 0.5), ``s = 1`` a fully active one.
    """
    return w_vx1 * np.clip(0.5 + 0.5 * np.asarray(s, float), 0.0, 1.0)


def rate_model_u(stimulus: Stimulus, preset: str, ms_per_unit: float, times_ms: np.ndarray,
                 settle_ms: float = 0.0) -> np.ndarray:
    """Gilzenrat ``u`` (noise-free) under ``stimulus``, sampled at ``times_ms``.

    Parameters
    ----------
    stimulus : Stimulus
        Input ``s``; the model receives :func:`rate_model_drive` of it.
    preset : str
        :meth:`lcne.gilzenrat.GilzenratLC.preset` name.
    ms_per_unit : float
        Milliseconds per model time unit.
    times_ms : array of float
        Sample times, ms from the stimulus start.
    settle_ms : float
        Resting input given before the stimulus (not returned), ms, so the model starts
        from its resting state rather than the published initial condition.

    Returns
    -------
    ndarray, dimensionless, shape of ``times_ms``.
    """
    from lcne.gilzenrat import GilzenratLC

    lc = GilzenratLC.preset(preset, noise=0.0, time_unit_ms=ms_per_unit)
    dt = min(0.02, 0.9 * lc.max_stable_dt())
    settle = int(np.ceil(settle_ms / (ms_per_unit * dt)))
    drive = rate_model_drive(stimulus.to_model_units(ms_per_unit, dt))
    drive = np.concatenate([np.full(settle, rate_model_drive(0.0)), drive])
    out = lc.simulate(drive, dt)
    t_ms = out.time_ms.values - settle * dt * ms_per_unit
    return np.interp(times_ms, t_ms, out.u.values)


def fit_rate_model(ne: np.ndarray, stimulus: Stimulus, times_ms: np.ndarray, preset: str,
                   grid: Sequence[float], window_ms: Optional[Tuple[float, float]] = None,
                   settle_ms: float = 2000.0) -> dict:
    """Fit the one time scale (ms per model unit) that best aligns Gilzenrat ``u`` with NE.

    ``u`` is computed for every value of ``grid`` and then on a finer grid around the best
    one; the score is the Pearson correlation between ``u`` and ``ne`` over ``window_ms``
    (amplitude and offset do not matter for a correlation, so the time scale is the only
    fitted parameter).

    Parameters
    ----------
    ne : array of float
        Population NE at ``times_ms`` (nM).
    stimulus : Stimulus
        The input the population received.
    times_ms : array of float
        Sample times, ms.
    preset : str
        Gilzenrat preset.
    grid : sequence of float
        Candidate ms per model unit (the coarse scan).
    window_ms : (float, float), optional
        Part of the trace that is scored, ms (default: all).
    settle_ms : float
        Resting input before the stimulus, ms (see :func:`rate_model_u`).

    Returns
    -------
    dict
        ``r`` (best correlation), ``ms_per_unit``, ``u`` (the rate model trace at
        ``times_ms``) and ``scan`` (list of [ms_per_unit, r]).
    """
    times_ms = np.asarray(times_ms, float)
    sel = np.ones(times_ms.shape, bool) if window_ms is None else \
        (times_ms >= window_ms[0]) & (times_ms < window_ms[1])

    def score(scale):
        u = rate_model_u(stimulus, preset, scale, times_ms, settle_ms=settle_ms)
        a, b = u[sel], ne[sel]
        r = float(np.corrcoef(a, b)[0, 1]) if np.std(a) > 0 and np.std(b) > 0 else float("nan")
        return r, u

    scan = {}
    for s in grid:
        scan[float(s)] = score(float(s))
    coarse = sorted(scan)
    best = max(coarse, key=lambda s: np.nan_to_num(scan[s][0], nan=-2))
    i = coarse.index(best)
    lo, hi = coarse[max(i - 1, 0)], coarse[min(i + 1, len(coarse) - 1)]
    for s in np.geomspace(lo, hi, 7)[1:-1]:
        if float(s) not in scan:
            scan[float(s)] = score(float(s))
    best = max(scan, key=lambda s: np.nan_to_num(scan[s][0], nan=-2))
    return {"r": scan[best][0], "ms_per_unit": best, "u": scan[best][1],
            "scan": [[s, scan[s][0]] for s in sorted(scan)]}
