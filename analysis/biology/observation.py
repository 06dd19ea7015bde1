"""Observation models: what a pupil camera or an NE sensor would see of a model trace.

Model traces (gain, LC activity, NE) are sampled once per training iteration. To put
them in the units of biological recordings, first map iterations to milliseconds
explicitly (``dt_ms``, from :class:`lcne.analysis.biology.compare.TimeMapping`), then apply
one of these linear filters.

* Pupil: convolution with the Hoeks & Levelt (1993) impulse response
  ``h(t) = t^n exp(-n t / t_max)`` (n = 10.1, t_max = 930 ms).
* NE sensor: first-order low-pass with separate rise and decay time constants, the
  usual description of a fluorescent sensor such as GRAB_NE.
"""
from __future__ import annotations

import logging
import math

import numpy as np

__all__ = [
    "HOEKS_LEVELT_N",
    "HOEKS_LEVELT_TMAX_MS",
    "hoeks_levelt_kernel",
    "pupil_response",
    "pupil_step_response",
    "ne_sensor",
]

log = logging.getLogger(__name__)

#: Hoeks & Levelt (1993) shape parameter (dimensionless)
HOEKS_LEVELT_N = 10.1
#: Hoeks & Levelt (1993) time of the kernel's maximum, in ms
HOEKS_LEVELT_TMAX_MS = 930.0


def hoeks_levelt_kernel(t_ms, n: float = HOEKS_LEVELT_N, t_max_ms: float = HOEKS_LEVELT_TMAX_MS,
                        normalize: str = "peak") -> np.ndarray:
    """Pupil impulse response ``h(t) = t^n exp(-n t / t_max)`` (Hoeks & Levelt 1993).

    Parameters
    ----------
    t_ms : array_like
        Time since the impulse, ms. Negative times give 0.
    n : float
        Shape parameter (10.1 in the paper).
    t_max_ms : float
        Time of the maximum, ms (930 in the paper).
    normalize : {"peak", "area"}
        ``"peak"``: ``h(t_max) = 1``. ``"area"``: the integral over t (in ms) is 1, so a
        sustained unit input gives a unit steady-state response.

    Returns
    -------
    ndarray
        ``"peak"``: dimensionless; ``"area"``: per ms.

    Examples
    --------
    >>> float(hoeks_levelt_kernel(930.0))
    1.0
    """
    t = np.asarray(t_ms, dtype=float)
    if n <= 0 or t_max_ms <= 0:
        raise ValueError(f"n and t_max_ms must be > 0, got n={n}, t_max_ms={t_max_ms}")
    pos = np.clip(t, 0.0, None)
    # peak-normalised form, stable for large n: (t/tmax)^n exp(n (1 - t/tmax))
    with np.errstate(divide="ignore"):
        h = np.exp(n * np.log(pos / t_max_ms) + n * (1.0 - pos / t_max_ms))
    h = np.where(t > 0, h, 0.0)
    if normalize == "peak":
        return h
    if normalize == "area":
        # integral of the peak-normalised kernel: Gamma(n+1) (t_max/n)^(n+1) / (t_max^n e^-n)
        log_area = math.lgamma(n + 1) + (n + 1) * math.log(t_max_ms / n) - n * math.log(t_max_ms) + n
        return h / math.exp(log_area)
    raise ValueError(f"normalize: {normalize!r}; allowed: peak, area")


def pupil_step_response(t_ms, n: float = HOEKS_LEVELT_N, t_max_ms: float = HOEKS_LEVELT_TMAX_MS) -> np.ndarray:
    """Analytic response of the area-normalised kernel to a unit step at t = 0.

    ``P(t) = gammainc(n + 1, n t / t_max)``, the regularised lower incomplete gamma
    function. Used to check :func:`pupil_response`.
    """
    from scipy.special import gammainc

    t = np.clip(np.asarray(t_ms, dtype=float), 0.0, None)
    return gammainc(n + 1.0, n * t / t_max_ms)


def pupil_response(trace, dt_ms: float, *, n: float = HOEKS_LEVELT_N, t_max_ms: float = HOEKS_LEVELT_TMAX_MS,
                   baseline: float = 0.0, kernel_ms: float = None) -> np.ndarray:
    """Predicted pupil signal: ``baseline + (trace * h)(t)`` with the area-normalised kernel.

    Parameters
    ----------
    trace : array_like, 1-D
        Input (e.g. NE or the gain excursion above its tonic level), one sample every
        ``dt_ms`` milliseconds, treated as constant over each sample interval.
    dt_ms : float
        Sample spacing in ms (for model traces: ms per training iteration).
    n, t_max_ms : float
        Kernel parameters.
    baseline : float
        Added to the convolution (tonic pupil size).
    kernel_ms : float, optional
        Kernel support, default ``t_max_ms * 6`` (the kernel is < 1e-9 of its peak there).

    Returns
    -------
    ndarray
        Same length as ``trace``, in the unit of ``trace`` (a sustained input x gives x).

    Notes
    -----
    Each input sample is a rectangle of width ``dt_ms``; its contribution is the exact
    integral of the kernel over that interval, computed from the step response. The
    result is therefore exact for piecewise-constant input at any ``dt_ms``.
    """
    x = np.asarray(trace, dtype=float)
    if dt_ms <= 0:
        raise ValueError(f"dt_ms: {dt_ms!r} must be > 0")
    span = (t_max_ms * 6.0) if kernel_ms is None else float(kernel_ms)
    m = int(math.ceil(span / dt_ms)) + 1
    edges = np.arange(m + 1) * dt_ms
    P = pupil_step_response(edges, n, t_max_ms)
    # y at the end of sample interval i from the input held over interval j = i - lag:
    # integral of h over [lag*dt, (lag+1)*dt]
    w = np.diff(P)
    y = np.convolve(x, w)[: x.size]
    return baseline + y


def ne_sensor(trace, dt_ms: float, tau_on_ms: float, tau_off_ms: float = None, *, initial: float = None) -> np.ndarray:
    """First-order sensor: ``ds/dt = (x - s) / tau`` with ``tau = tau_on`` while rising.

    Parameters
    ----------
    trace : array_like, 1-D
        Input concentration (any unit), one sample every ``dt_ms``, held constant over
        each interval.
    dt_ms : float
        Sample spacing, ms.
    tau_on_ms, tau_off_ms : float
        Rise and decay time constants, ms (``tau_off_ms`` defaults to ``tau_on_ms``).
    initial : float, optional
        Sensor state before the first sample (default: the first input, i.e. at rest).

    Returns
    -------
    ndarray
        Sensor state at the end of each interval, in the unit of ``trace``. The update is
        the exact solution over each interval, so a step gives exactly
        ``1 - exp(-t / tau_on)`` at the sample times.
    """
    x = np.asarray(trace, dtype=float)
    tau_off_ms = tau_on_ms if tau_off_ms is None else tau_off_ms
    if dt_ms <= 0 or tau_on_ms <= 0 or tau_off_ms <= 0:
        raise ValueError("dt_ms, tau_on_ms and tau_off_ms must be > 0")
    a_on = math.exp(-dt_ms / tau_on_ms)
    a_off = math.exp(-dt_ms / tau_off_ms)
    out = np.empty_like(x)
    s = x[0] if initial is None else float(initial)
    for i, xi in enumerate(x):
        a = a_on if xi > s else a_off
        s = xi + (s - xi) * a
        out[i] = s
    return out
