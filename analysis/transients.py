"""Features of one transient excursion of a sampled signal.

Shared by the gain/gap measurements (:mod:`lcne.analysis.gap_gain`) and the biological
comparison (:mod:`lcne.analysis.biology`). Every function takes samples on a uniform grid
with spacing ``dt`` and returns times in the unit of ``dt`` (training iterations for
model traces, milliseconds for reference curves): nothing here converts time units.

Conventions
-----------
* ``t = 0`` is the first sample passed in; the excursion is ``y - baseline``.
* Areas use the rectangle rule: ``sum(max(y - baseline, 0)) * dt``. For a curve sampled
  once per training iteration this is the plain sum over iterations.
* Crossing times (latency, half-maximum) are linearly interpolated between samples.
"""
from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np

__all__ = ["DecayFit", "fit_exp_decay", "crossing_time", "fwhm", "transient_features"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecayFit:
    """Result of fitting ``y(t) = offset + amplitude * exp(-t / tau)``.

    ``tau`` is in the unit of the time axis passed to :func:`fit_exp_decay`. ``ok`` is
    False (and the numbers NaN) when there were too few points or the fit failed.
    """

    tau: float
    amplitude: float
    offset: float
    rmse: float
    ok: bool

    @classmethod
    def failed(cls) -> "DecayFit":
        return cls(math.nan, math.nan, math.nan, math.nan, False)


def fit_exp_decay(t, y, *, fixed_offset: Optional[float] = None) -> DecayFit:
    """Least-squares fit of an exponential relaxation to ``(t, y)``.

    Parameters
    ----------
    t, y : array_like, 1-D
        Time (any unit; ``t[0]`` is the start of the decay) and signal. NaNs are dropped.
    fixed_offset : float, optional
        Asymptote to hold fixed (e.g. a known tonic baseline). By default it is fitted.

    Returns
    -------
    DecayFit
        ``tau`` in the unit of ``t``.

    Notes
    -----
    The decay is ``y(t) = offset + A exp(-(t - t[0]) / tau)`` with ``tau > 0``. Starting
    values come from a log-linear fit, so clean exponentials converge in a few steps.
    A rising or flat signal (no decay) returns ``ok=False``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(50.0)
    >>> round(fit_exp_decay(t, 1 + 2 * np.exp(-t / 7)).tau, 6)
    7.0
    """
    from scipy.optimize import curve_fit

    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(t) & np.isfinite(y)
    t, y = t[keep], y[keep]
    n_free = 2 if fixed_offset is not None else 3
    if t.size < n_free + 1:
        return DecayFit.failed()
    t0 = t[0]
    s = t - t0
    span = s[-1] if s[-1] > 0 else 1.0
    off0 = float(fixed_offset) if fixed_offset is not None else float(np.min(y[-max(2, y.size // 5):]))
    amp0 = float(y[0] - off0)
    if not np.isfinite(amp0) or amp0 == 0:
        return DecayFit.failed()
    # starting tau from a log-linear fit of the part clearly above the asymptote
    rel = (y - off0) / amp0
    good = rel > 0.05
    if good.sum() >= 2:
        slope = np.polyfit(s[good], np.log(rel[good]), 1)[0]
        tau0 = -1.0 / slope if slope < 0 else span / 3
    else:
        tau0 = span / 3
    tau0 = float(np.clip(tau0, span * 1e-3, span * 1e3))

    if fixed_offset is not None:
        def model(x, amp, tau):
            return fixed_offset + amp * np.exp(-x / tau)

        p0 = (amp0, tau0)
        bounds = ([-np.inf, 1e-12], [np.inf, np.inf])
    else:
        def model(x, off, amp, tau):
            return off + amp * np.exp(-x / tau)

        p0 = (off0, amp0, tau0)
        bounds = ([-np.inf, -np.inf, 1e-12], [np.inf, np.inf, np.inf])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            popt, _ = curve_fit(model, s, y, p0=p0, bounds=bounds, maxfev=20000)
    except (RuntimeError, ValueError) as exc:
        log.debug("exponential fit failed: %s", exc)
        return DecayFit.failed()
    if fixed_offset is not None:
        amp, tau = popt
        off = float(fixed_offset)
    else:
        off, amp, tau = popt
    resid = y - model(s, *popt)
    rmse = float(np.sqrt(np.mean(resid**2)))
    # a time constant far outside the fitted span is not identifiable from these data
    if not (np.isfinite(tau) and tau < 1e3 * span) or (amp0 > 0) != (amp > 0):
        return DecayFit.failed()
    return DecayFit(float(tau), float(amp), float(off), rmse, True)


def crossing_time(y, level: float, *, start: int = 0, direction: str = "up", dt: float = 1.0) -> float:
    """Time of the first crossing of ``level`` at or after sample ``start``.

    Parameters
    ----------
    y : array_like, 1-D
    level : float
    start : int
        First sample to consider.
    direction : {"up", "down"}
        ``"up"``: first time ``y >= level``; ``"down"``: first time ``y <= level``.
    dt : float
        Sample spacing; the result is ``index * dt`` with linear interpolation between the
        last sample on the far side and the first sample that crossed.

    Returns
    -------
    float
        NaN when ``y`` never crosses.
    """
    y = np.asarray(y, dtype=float)
    if direction not in ("up", "down"):
        raise ValueError(f"direction: {direction!r}; allowed: up, down")
    sign = 1.0 if direction == "up" else -1.0
    z = sign * (y - level)
    idx = np.flatnonzero(z[start:] >= 0)
    if idx.size == 0:
        return math.nan
    i = int(idx[0]) + start
    if i == start or not np.isfinite(z[i - 1]):
        return i * dt
    frac = -z[i - 1] / (z[i] - z[i - 1])  # z[i-1] < 0 <= z[i]
    return (i - 1 + frac) * dt


def fwhm(y, baseline: float = 0.0, *, dt: float = 1.0) -> float:
    """Full width at half maximum of the largest positive excursion of ``y`` above ``baseline``.

    Returns the time between the interpolated upward half-maximum crossing before the
    peak and the downward crossing after it; NaN when the signal never falls back below
    half maximum after the peak (the width is then not measurable in this window).
    """
    y = np.asarray(y, dtype=float) - baseline
    if y.size == 0 or not np.any(np.isfinite(y)):
        return math.nan
    ip = int(np.nanargmax(y))
    half = y[ip] / 2.0
    if not half > 0:
        return math.nan
    # rising edge: last sample before the peak below half, searching backwards
    below = np.flatnonzero(y[: ip + 1] < half)
    if below.size == 0:
        left = 0.0  # already above half at the first sample
    else:
        j = int(below[-1])
        left = j + (half - y[j]) / (y[j + 1] - y[j])
    right = crossing_time(y, half, start=ip, direction="down")
    if math.isnan(right):
        return math.nan
    return (right - left) * dt


def transient_features(y, baseline: float, *, dt: float = 1.0, latency_fraction: float = 0.1,
                       fit_decay: bool = True, decay_offset: Optional[float] = None) -> dict:
    """Peak, timing, area, width and decay of one excursion of ``y`` above ``baseline``.

    Parameters
    ----------
    y : array_like, 1-D
        Samples starting at the event (``t = 0``).
    baseline : float
        Level the excursion is measured from (same unit as ``y``).
    dt : float
        Sample spacing; all times are returned in this unit.
    latency_fraction : float
        Latency is the first time the excursion reaches this fraction of its peak.
    fit_decay : bool
        Fit an exponential from the peak to the end (see :func:`fit_exp_decay`).
    decay_offset : float, optional
        Hold the decay's asymptote fixed at this value.

    Returns
    -------
    dict
        ``peak`` (height above baseline), ``peak_value``, ``t_peak``, ``latency``,
        ``area`` (rectangle rule, unit of y times unit of dt), ``fwhm``, ``tau_decay``,
        ``decay_rmse``.
    """
    y = np.asarray(y, dtype=float)
    out = dict(peak=math.nan, peak_value=math.nan, t_peak=math.nan, latency=math.nan, area=math.nan,
               fwhm=math.nan, tau_decay=math.nan, decay_rmse=math.nan)
    if y.size == 0 or not np.any(np.isfinite(y)):
        return out
    ex = y - baseline
    ip = int(np.nanargmax(ex))
    out["peak"] = float(ex[ip])
    out["peak_value"] = float(y[ip])
    out["t_peak"] = ip * dt
    out["area"] = float(np.nansum(np.clip(ex, 0.0, None)) * dt)
    if ex[ip] > 0:
        out["latency"] = crossing_time(ex, latency_fraction * ex[ip], dt=dt)
        out["fwhm"] = fwhm(ex, dt=dt)
    if fit_decay and ex[ip] > 0 and y.size - ip >= 4:
        fit = fit_exp_decay(np.arange(y.size - ip) * dt, y[ip:], fixed_offset=decay_offset)
        out["tau_decay"], out["decay_rmse"] = fit.tau, fit.rmse
    return out
