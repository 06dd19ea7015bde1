"""Adaptive-gain mode control of the LC (Aston-Jones & Cohen 2005).

Adaptive Gain Theory: the LC is in the *phasic* mode (bursts locked to task-relevant
events, exploitation) while the current task pays off, and moves to the *tonic* mode
(raised baseline, weak bursts, exploration) when utility wanes. The comparison is made on
two time scales so that a momentary lapse does not disengage the system but a sustained
loss of utility does.

Here the monitored quantity is a *cost* ``x(t)`` (the uncertainty drive, nominally in
[0, 1]; utility = 1 - x). Two leaky averages, with ``tau_short < tau_long`` in model
time units, track it::

    tau_short ds/dt = x(t) - s            short-term cost
    tau_long  dl/dt = x(t) - l            long-term cost
    D = sigma(beta_short (s - theta_short)) * sigma(beta_long (l - theta_long))
    C = C_tonic + (C_phasic - C_tonic) (1 - D)

``sigma`` is the logistic function and ``D`` the *disengagement*: it is high only when
cost is high on *both* time scales (utility has waned), so a brief rise of cost (a
surprise at a task switch) leaves the LC phasic and produces a burst, while sustained
high cost moves ``C`` towards the tonic value. The LC itself is a
:class:`~lcne.gilzenrat.GilzenratLC` whose coherence ``C`` is set by this rule.

The product of two logistics follows the engagement term of PsyNeuLink's
``DualAdaptiveIntegrator`` (documented there as implementing AJC 2005), written here with
costs so that the sign convention is explicit; see ``docs/lc_models.md`` for the caveat
that AJC 2005's own mode-control equations were not re-checked.
"""
from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from lcne.errors import LCParameterError, as_param, check_positive, check_range
from lcne.gilzenrat import GilzenratLC

__all__ = ["ADAPTIVE_GAIN_DEFAULTS", "AdaptiveGainLC"]

logger = logging.getLogger(__name__)

#: documented defaults; time constants in model time units (x 50 ms by default)
ADAPTIVE_GAIN_DEFAULTS = {
    "C_phasic": 0.95,  # Gilzenrat 2002 phasic coherence
    "C_tonic": 0.55,  # Gilzenrat 2002 tonic coherence
    "tau_short": 5.0,  # short-term cost average, model units (250 ms)
    "tau_long": 50.0,  # long-term cost average, model units (2.5 s)
    "theta_short": 0.5,  # cost at which the short-term logistic is 1/2
    "theta_long": 0.5,  # cost at which the long-term logistic is 1/2
    "beta_short": 10.0,  # slope of the short-term logistic, per unit cost
    "beta_long": 10.0,  # slope of the long-term logistic, per unit cost
    "short0": 0.0,  # initial short-term cost
    "long0": 0.0,  # initial long-term cost
}


def _logistic(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class AdaptiveGainLC:
    """A Gilzenrat LC whose coherence follows short- vs long-term cost (AGT).

    Parameters
    ----------
    lc : GilzenratLC, optional
        The LC dynamics; default ``GilzenratLC.preset('gilzenrat2002_phasic')``. Its own
        ``C`` is ignored (it is set by the mode rule); its initial state is used.
    C_phasic, C_tonic : float in (0, 1]
        Coherence when fully engaged / fully disengaged.
    tau_short, tau_long : float > 0
        Time constants of the two cost averages, model time units;
        ``tau_long >= tau_short``.
    theta_short, theta_long : float
        Cost levels at the midpoints of the two logistics.
    beta_short, beta_long : float >= 0
        Slopes of the two logistics (per unit cost).
    short0, long0 : float
        Initial values of the cost averages.
    """

    name = "adaptive"
    state_variables = ("v", "u", "h", "gain", "C", "short", "long", "disengagement")

    def __init__(self, lc: GilzenratLC | None = None, **params):
        unknown = set(params) - set(ADAPTIVE_GAIN_DEFAULTS)
        if unknown:
            key = sorted(unknown)[0]
            raise LCParameterError(
                key, f"unknown AdaptiveGainLC parameter; known: {', '.join(ADAPTIVE_GAIN_DEFAULTS)}"
            )
        p = dict(ADAPTIVE_GAIN_DEFAULTS)
        p.update(params)
        self.lc = lc if lc is not None else GilzenratLC.preset("gilzenrat2002_phasic")
        self.C_phasic = check_range(p["C_phasic"], "C_phasic", 0.0, 1.0, lo_open=True)
        self.C_tonic = check_range(p["C_tonic"], "C_tonic", 0.0, 1.0, lo_open=True)
        self.tau_short = check_positive(p["tau_short"], "tau_short", "model time units")
        self.tau_long = check_positive(p["tau_long"], "tau_long", "model time units")
        if np.any(np.asarray(self.tau_long) < np.asarray(self.tau_short)):
            raise LCParameterError("tau_long", "must be >= tau_short (long-term average is the slower one)")
        self.theta_short = as_param(p["theta_short"], "theta_short")
        self.theta_long = as_param(p["theta_long"], "theta_long")
        self.beta_short = check_range(p["beta_short"], "beta_short", 0.0, None)
        self.beta_long = check_range(p["beta_long"], "beta_long", 0.0, None)
        self.short0 = as_param(p["short0"], "short0")
        self.long0 = as_param(p["long0"], "long0")

    # ------------------------------------------------------------------ mode rule
    def disengagement(self, short, long):
        """``D = sigma(beta_s (s - theta_s)) * sigma(beta_l (l - theta_l))`` in [0, 1]."""
        return _logistic(self.beta_short * (short - self.theta_short)) * _logistic(
            self.beta_long * (long - self.theta_long)
        )

    def coherence(self, short, long):
        """Coherence ``C`` set by the two cost averages."""
        return self.C_tonic + (self.C_phasic - self.C_tonic) * (1.0 - self.disengagement(short, long))

    def initial_state(self, n_runs: int | None = None) -> dict:
        """State dict ``v, u, short, long`` (arrays of ``n_runs`` or scalars).

        ``v`` starts from the LC's published ``h0`` at the initial coherence.
        """
        shape = () if n_runs is None else (int(n_runs),)
        short = np.broadcast_to(np.asarray(self.short0, dtype=np.float64), shape).copy()
        long = np.broadcast_to(np.asarray(self.long0, dtype=np.float64), shape).copy()
        C = self.coherence(short, long)
        v = (self.lc.h0 - (1.0 - C) * self.lc.d) / C
        u = np.broadcast_to(np.asarray(self.lc.u0, dtype=np.float64), shape).copy()
        return {"v": np.asarray(v, dtype=np.float64), "u": u, "short": short, "long": long}

    def step(self, state: dict, drive, cost, dt: float) -> dict:
        """Advance one step of ``dt`` model units (input and cost held constant).

        ``C`` is evaluated from the averages at the start of the step and held over it;
        the averages are then advanced exactly. Returns a new state dict.
        """
        C = self.coherence(state["short"], state["long"])
        v, u = self.lc.rk4_step(state["v"], state["u"], drive, dt, C=C)
        ds = np.exp(-dt / self.tau_short)
        dl = np.exp(-dt / self.tau_long)
        short = cost + (state["short"] - cost) * ds
        long = cost + (state["long"] - cost) * dl
        return {"v": v, "u": u, "short": short, "long": long}

    def observe(self, state: dict) -> dict:
        """Derived quantities of a state: ``h``, ``gain``, ``C``, ``disengagement``."""
        C = self.coherence(state["short"], state["long"])
        return {
            "h": C * state["v"] + (1.0 - C) * self.lc.d,
            "gain": self.lc.gain_from_ne(state["u"]),
            "C": C,
            "disengagement": self.disengagement(state["short"], state["long"]),
        }

    def simulate(self, drive, dt: float, cost=None, seed=None) -> xr.Dataset:
        """Integrate for an input series and a cost series.

        Parameters
        ----------
        drive : array_like, shape (n_steps,)
            LC input ``I`` of Gilzenrat eq. 6 (already weighted), value ``i`` on
            ``[t_i, t_i + dt)``.
        dt : float
            Step, model time units (at most ``lc.max_stable_dt()``).
        cost : array_like, shape (n_steps,), optional
            Cost (uncertainty) seen by the mode rule; zeros if omitted.
        seed : int, optional
            Seed of the LC input noise (``lc.noise``).

        Returns
        -------
        xarray.Dataset
            ``v, u, h, gain, C, short, long, disengagement, drive, cost`` over ``time``;
            sample ``i`` is the state at ``t_i = i dt``.
        """
        drive = np.asarray(as_param(drive, "drive"), dtype=np.float64)
        if drive.ndim != 1 or drive.size == 0:
            raise LCParameterError("drive", f"expected a non-empty 1-D array, got shape {drive.shape}")
        cost = np.zeros_like(drive) if cost is None else np.asarray(as_param(cost, "cost"), dtype=np.float64)
        if cost.shape != drive.shape:
            raise LCParameterError("cost", f"expected shape {drive.shape} like drive, got {cost.shape}")
        dt = self.lc.check_dt(dt)
        inputs = drive + self.lc.noise_samples(drive.size, seed=seed)
        n = drive.size
        rec = {name: np.empty(n) for name in ("v", "u", "short", "long")}
        state = {k: float(v) for k, v in self.initial_state().items()}
        for i in range(n):
            for name in rec:
                rec[name][i] = state[name]
            if i < n - 1:
                state = self.step(state, float(inputs[i]), float(cost[i]), dt)
        derived = self.observe(rec)
        time = np.arange(n) * dt
        data = {name: ("time", values) for name, values in rec.items()}
        data.update({name: ("time", np.asarray(values)) for name, values in derived.items()})
        data["drive"] = ("time", drive)
        data["cost"] = ("time", cost)
        return xr.Dataset(
            data,
            coords={"time": ("time", time, {"units": "model time units"}),
                    "time_ms": ("time", time * self.lc.time_unit_ms, {"units": "ms"})},
            attrs={"model": "AdaptiveGainLC", "dt": dt},
        )

    def config(self) -> dict:
        """Parameters as plain Python values (mode rule plus the LC's)."""
        out = {key: np.asarray(getattr(self, key)).tolist() for key in ADAPTIVE_GAIN_DEFAULTS}
        out["lc"] = self.lc.config()
        return out
