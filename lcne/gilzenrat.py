"""Gilzenrat et al. (2002) locus coeruleus population model.

A two-variable FitzHugh-Nagumo-like reduction of the LC population (Gilzenrat, Holmes,
Rajkowski, Aston-Jones & Cohen 2002, Neural Networks 15:647-663, eqs. 6-8)::

    tau_v dv/dt = v (a - v)(v - 1) - u + I(t)        fast LC excitation v        (eq. 6)
    tau_u du/dt = h(v) - u                           slow recovery u = NE release (eq. 7)
    h(v)        = C v + (1 - C) d                    observable LC activity       (eq. 8)
    g(t)        = G + k u(t)                         gain sent to the targets

``I(t)`` is the LC's external input, in the paper ``w_vX1 f(X1)``: the target decision
unit's activity weighted by ``w_vX1`` (dimensionless). The coherence ``C`` (electrotonic
coupling) sets the mode: high ``C`` gives the *phasic* mode (low baseline, large bursts
followed by a refractory dip), low ``C`` the *tonic* mode (raised baseline activity and
gain, weak phasic responses).

Time
----
The model is dimensionless. One model time unit is ``time_unit_ms`` milliseconds
(default 50 ms, the convention of the Nieuwenhuis et al. 2005 simulations in which 100
steps of dt = 0.02 make one 100 ms RSVP item). With the defaults tau_v = 0.05 units
(2.5 ms) and tau_u = 5 units (250 ms).

Parameters verified against PsyNeuLink's ``GilzenratModel.py`` and
``Nieuwenhuis2005Model.py`` (see ``docs/lc_models.md``); no code was taken from there.

Examples
--------
>>> import numpy as np
>>> lc = GilzenratLC.preset("gilzenrat2002_phasic")
>>> drive = np.full(2000, 0.15)           # resting input w_vX1 * f(X1) = 0.3 * 0.5
>>> drive[1000:1050] += 0.15              # a 0.5-unit (25 ms) pulse at t = 10
>>> ds = lc.simulate(drive, dt=0.01)
>>> round(float(ds.gain.sel(time=9.99)), 3)
0.846
>>> round(float(ds.gain.max()), 2)
1.28
"""
from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from lcne.errors import LCParameterError, as_param, check_positive, check_range

__all__ = [
    "GILZENRAT_DEFAULTS",
    "GILZENRAT_PRESETS",
    "GilzenratLC",
    "RK4_STABILITY_LIMIT",
    "gilzenrat_rhs",
]

logger = logging.getLogger(__name__)

#: largest ``abs(lambda * dt)`` on the negative real axis for which classical RK4 is stable
RK4_STABILITY_LIMIT = 2.785

#: documented defaults (Gilzenrat et al. 2002 phasic condition; see the module docstring)
GILZENRAT_DEFAULTS = {
    "a": 0.5,  # shape ("threshold") of the cubic v-nullcline, dimensionless
    "d": 0.5,  # baseline uncorrelated LC activity, dimensionless
    "C": 0.95,  # coherence (electrotonic coupling), in [0, 1]
    "tau_v": 0.05,  # fast time constant, model units (paper text misprints 0.5)
    "tau_u": 5.0,  # NE (u) time constant, model units
    "G": 0.5,  # baseline gain
    "k": 3.0,  # NE -> gain scale
    "w_vX1": 0.30,  # weight target decision unit -> LC (used by input helpers only)
    "h0": 0.07,  # initial h(v)
    "u0": 0.14,  # initial u
    "noise": 0.0,  # SD of Gaussian noise added to the LC input I per integration step
    "seed": None,  # seed of that noise
    "time_unit_ms": 50.0,  # milliseconds per model time unit
}

#: named parameter sets; every value not listed is taken from GILZENRAT_DEFAULTS
GILZENRAT_PRESETS = {
    # Gilzenrat et al. 2002, high-coherence (phasic) condition; initial h(v) = 0.07, u = 0.14
    "gilzenrat2002_phasic": {"C": 0.95, "k": 3.0, "h0": 0.07, "u0": 0.14},
    # Gilzenrat et al. 2002, low-coherence (tonic) condition; initial h(v) = 0.2, u = 0.2
    "gilzenrat2002_tonic": {"C": 0.55, "k": 3.0, "h0": 0.2, "u0": 0.2},
    # Nieuwenhuis, Gilzenrat, Holmes & Cohen 2005 (attentional blink)
    "nieuwenhuis2005": {"C": 0.90, "k": 1.5, "h0": 0.07, "u0": 0.14},
}

#: noise SD used in the published (noisy) simulations, in the behavioural units' input;
#: the presets above are noise-free (``noise = 0``) so that they are deterministic.
PUBLISHED_NOISE = {"gilzenrat2002_phasic": 0.22, "gilzenrat2002_tonic": 0.22, "nieuwenhuis2005": 0.15}


def gilzenrat_rhs(v, u, drive, a, d, C, tau_v, tau_u):
    """Right-hand side of Gilzenrat eqs. 6-8, per model time unit.

    Parameters
    ----------
    v, u : float or ndarray
        Fast excitation and slow NE-release variables (dimensionless).
    drive : float or ndarray
        External input ``I`` of eq. 6 (already weighted, dimensionless).
    a, d, C, tau_v, tau_u : float or ndarray
        Model parameters (time constants in model units).

    Returns
    -------
    (dv/dt, du/dt) : tuple
        Rates per model time unit; all arguments broadcast.
    """
    dv = (v * (a - v) * (v - 1.0) - u + drive) / tau_v
    du = (C * v + (1.0 - C) * d - u) / tau_u
    return dv, du


class GilzenratLC:
    """Gilzenrat et al. (2002) LC model: fast activity v, slow NE release u, gain G + k u.

    Parameters
    ----------
    a : float, default 0.5
        Shape of the cubic v-nullcline (dimensionless).
    d : float, default 0.5
        Baseline "uncorrelated" LC activity (dimensionless).
    C : float in [0, 1], default 0.95
        Coherence (electrotonic coupling). 0.95 phasic, 0.55 tonic (Gilzenrat 2002),
        0.90 (Nieuwenhuis 2005).
    tau_v : float > 0, default 0.05
        Fast time constant, model units (2.5 ms at 50 ms/unit).
    tau_u : float > 0, default 5.0
        NE (u) time constant, model units (250 ms at 50 ms/unit).
    G : float, default 0.5
        Baseline gain.
    k : float, default 3.0
        Gain per unit of u (1.5 in Nieuwenhuis 2005).
    w_vX1 : float, default 0.3
        Weight of the target decision unit onto the LC. :meth:`simulate` takes the input
        already weighted; ``w_vX1`` is used by :meth:`input_from_activity`.
    h0, u0 : float
        Initial LC activity h(v) and NE release u: the published initial state of
        Gilzenrat et al. (2002) and Nieuwenhuis et al. (2005) as set in PsyNeuLink's model
        scripts (``GilzenratModel.py``, ``Nieuwenhuis2005Model.py``; table in
        ``docs/lc_models.md`` section 1); the initial ``v0 = (h0 - (1 - C) d) / C``.
    noise : float >= 0, default 0
        Standard deviation of Gaussian noise added to the input ``I`` of eq. 6. One sample
        is drawn per integration step and held over that step, as in the published Euler
        simulations at dt = 0.02 (so its effect on v scales with the step size).
    seed : int, optional
        Seed of the noise generator; the same seed gives the same realisation.
    time_unit_ms : float > 0, default 50
        Milliseconds per model time unit, used for the ``time_ms`` coordinate.

    Raises
    ------
    LCParameterError
        (a ``ValueError``) naming the parameter, for non-positive time constants, ``C``
        outside [0, 1], negative noise, unknown presets or override names.

    Notes
    -----
    Integration is classical fourth-order Runge-Kutta with the input held constant over
    each step. Steps larger than :meth:`max_stable_dt` are refused.
    """

    name = "gilzenrat"
    #: variables of :meth:`simulate`'s output besides the input
    state_variables = ("v", "u", "h", "gain")

    def __init__(
        self,
        a=0.5,
        d=0.5,
        C=0.95,
        tau_v=0.05,
        tau_u=5.0,
        G=0.5,
        k=3.0,
        w_vX1=0.30,
        h0=0.07,
        u0=0.14,
        noise=0.0,
        seed=None,
        time_unit_ms=50.0,
        preset_name=None,
    ):
        self.a = as_param(a, "a")
        self.d = as_param(d, "d")
        self.C = check_range(C, "C", 0.0, 1.0, unit="coherence")
        self.tau_v = check_positive(tau_v, "tau_v", "model time units")
        self.tau_u = check_positive(tau_u, "tau_u", "model time units")
        self.G = as_param(G, "G")
        self.k = as_param(k, "k")
        self.w_vX1 = as_param(w_vX1, "w_vX1")
        self.h0 = as_param(h0, "h0")
        self.u0 = as_param(u0, "u0")
        self.noise = check_range(noise, "noise", 0.0, None, unit="SD of the LC input")
        if seed is not None:
            try:
                seed = int(seed)
            except (TypeError, ValueError):
                raise LCParameterError("seed", f"expected an integer, got {seed!r}") from None
        self.seed = seed
        unit = check_positive(time_unit_ms, "time_unit_ms", "ms per model unit")
        if np.ndim(unit) != 0:
            raise LCParameterError("time_unit_ms", "must be a single value shared by all runs")
        self.time_unit_ms = float(unit)
        if np.any(np.asarray(self.C) == 0):
            raise LCParameterError("C", "must be > 0 (v0 = (h0 - (1 - C) d) / C)")
        self.preset_name = preset_name

    # ------------------------------------------------------------------ construction
    @classmethod
    def preset(cls, name: str, **overrides) -> "GilzenratLC":
        """Build a published parameter set, optionally overriding parameters by name.

        Parameters
        ----------
        name : {'gilzenrat2002_phasic', 'gilzenrat2002_tonic', 'nieuwenhuis2005'}
        **overrides
            Any constructor parameter, e.g. ``noise=0.05, seed=1`` or ``k=2``.

        Examples
        --------
        >>> GilzenratLC.preset("nieuwenhuis2005").k
        1.5
        """
        if name not in GILZENRAT_PRESETS:
            raise LCParameterError(
                "preset", f"unknown Gilzenrat preset {name!r}; known: {', '.join(GILZENRAT_PRESETS)}"
            )
        params = dict(GILZENRAT_DEFAULTS)
        params.update(GILZENRAT_PRESETS[name])
        for key, value in overrides.items():
            if key not in GILZENRAT_DEFAULTS:
                raise LCParameterError(
                    key, f"unknown GilzenratLC parameter; known: {', '.join(GILZENRAT_DEFAULTS)}"
                )
            params[key] = value
        return cls(preset_name=name, **params)

    # ------------------------------------------------------------------ algebra
    @property
    def v0(self):
        """Initial fast variable, ``(h0 - (1 - C) d) / C``."""
        return (self.h0 - (1.0 - self.C) * self.d) / self.C

    def activity(self, v, C=None):
        """Observable LC activity ``h(v) = C v + (1 - C) d`` (eq. 8)."""
        C = self.C if C is None else C
        return C * v + (1.0 - C) * self.d

    def gain_from_ne(self, u):
        """Gain ``G + k u`` for NE level ``u``."""
        return self.G + self.k * u

    def input_from_activity(self, f_x1):
        """LC input ``w_vX1 * f(X1)`` for a decision-unit activation ``f(X1)`` in [0, 1]."""
        return self.w_vX1 * np.asarray(f_x1, dtype=np.float64)

    def to_ms(self, t):
        """Model time units -> milliseconds."""
        return np.asarray(t, dtype=np.float64) * self.time_unit_ms

    def from_ms(self, t_ms):
        """Milliseconds -> model time units."""
        return np.asarray(t_ms, dtype=np.float64) / self.time_unit_ms

    def equilibrium(self, drive: float, C=None):
        """Stable fixed point ``(v, u, gain)`` under a constant input ``drive``.

        Solves ``v (a - v)(v - 1) - h(v) + drive = 0`` (the cubic obtained with
        ``u = h(v)``) and returns the lowest stable root; ``None`` if no fixed point is
        stable (the model then oscillates). Scalar parameters only.
        """
        a, d = float(self.a), float(self.d)
        C = float(self.C if C is None else C)
        tau_v, tau_u = float(self.tau_v), float(self.tau_u)
        roots = np.roots([-1.0, 1.0 + a, -(a + C), float(drive) - (1.0 - C) * d])
        for v in sorted(r.real for r in roots if abs(r.imag) < 1e-10):
            fprime = -3 * v * v + 2 * (1 + a) * v - a
            jac = np.array([[fprime / tau_v, -1.0 / tau_v], [C / tau_u, -1.0 / tau_u]])
            if np.all(np.linalg.eigvals(jac).real < 0):
                u = C * v + (1 - C) * d
                return v, u, float(self.gain_from_ne(u))
        return None

    # ------------------------------------------------------------------ integration
    def max_stable_dt(self) -> float:
        """Largest integration step (model units) accepted by :meth:`simulate`.

        ``RK4_STABILITY_LIMIT / rho``, with ``rho`` a Gershgorin bound on the spectral
        radius of the Jacobian over the physiological range v in [-0.5, 1.5]:
        ``rho = max((L + 1)/tau_v, (1 + C)/tau_u)``, ``L = max |d/dv v(a-v)(v-1)|``.
        About 0.037 units for the published parameters (their Euler step was 0.02).
        """
        a = np.asarray(self.a, dtype=np.float64)

        def fprime(v):
            return -3.0 * v * v + 2.0 * (1.0 + a) * v - a

        vertex = (1.0 + a) / 3.0
        lipschitz = np.maximum.reduce(
            [np.abs(fprime(-0.5)), np.abs(fprime(1.5)), np.abs(fprime(np.clip(vertex, -0.5, 1.5)))]
        )
        rho = np.maximum((lipschitz + 1.0) / self.tau_v, (1.0 + self.C) / self.tau_u)
        return float(RK4_STABILITY_LIMIT / np.max(rho))

    def check_dt(self, dt, name: str = "dt") -> float:
        """Validate an integration step (model units); returns it as float."""
        dt = float(check_positive(dt, name, "model time units"))
        limit = self.max_stable_dt()
        if dt > limit:
            raise LCParameterError(
                name,
                f"step {dt:g} model units exceeds the stability limit {limit:.4g} of the RK4 "
                f"integrator for tau_v={_fmt(self.tau_v)}; use a smaller step",
            )
        return dt

    def rk4_step(self, v, u, drive, dt, C=None):
        """Advance ``(v, u)`` by one RK4 step of ``dt`` model units with constant input.

        ``C`` overrides the coherence for this step (used by the adaptive-gain model).
        All arguments broadcast (batched runs).
        """
        C = self.C if C is None else C
        return _rk4(v, u, drive, dt, self.a, self.d, C, self.tau_v, self.tau_u)

    def noise_samples(self, n: int, seed=None, size=None) -> np.ndarray:
        """``n`` noise samples (per step) of SD ``noise``; zeros when ``noise == 0``."""
        shape = (n,) if size is None else (n,) + tuple(np.atleast_1d(size))
        if np.all(np.asarray(self.noise) == 0):
            return np.zeros(shape)
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return rng.standard_normal(shape) * self.noise

    def simulate(self, drive, dt: float, seed=None) -> xr.Dataset:
        """Integrate the model for a given input time series.

        Parameters
        ----------
        drive : array_like, shape (n_steps,)
            LC input ``I`` of eq. 6 (``w_vX1 f(X1)``, already weighted, dimensionless).
            Value ``i`` is applied on ``[t_i, t_i + dt)``.
        dt : float
            Step in model time units (``dt * time_unit_ms`` milliseconds); at most
            :meth:`max_stable_dt`.
        seed : int, optional
            Noise seed for this call; defaults to the model's ``seed``.

        Returns
        -------
        xarray.Dataset
            Variables ``v``, ``u``, ``h`` (LC activity h(v)), ``gain`` (G + k u) and
            ``drive`` over ``time`` (model units; coordinate ``time_ms`` too). Sample ``i``
            is the state at ``t_i = i dt``, sample 0 the published initial state.
        """
        drive = np.asarray(as_param(drive, "drive"), dtype=np.float64)
        if drive.ndim != 1 or drive.size == 0:
            raise LCParameterError("drive", f"expected a non-empty 1-D array, got shape {drive.shape}")
        dt = self.check_dt(dt)
        n = drive.size
        inputs = drive + self.noise_samples(n, seed=seed)
        for name in ("a", "d", "C", "tau_v", "tau_u", "G", "k", "h0", "u0", "noise"):
            if np.ndim(getattr(self, name)) != 0:
                raise LCParameterError(name, "simulate() integrates one trajectory; give a scalar value "
                                             "(per-run values are for the batched controllers)")
        par = {name: float(getattr(self, name)) for name in ("a", "d", "C", "tau_v", "tau_u")}
        v = float(np.asarray(self.v0))
        u = float(np.asarray(self.u0))
        vs = np.empty(n)
        us = np.empty(n)
        for i in range(n):
            vs[i], us[i] = v, u
            if i < n - 1:
                v, u = _rk4(v, u, float(inputs[i]), dt, **par)
        if not (np.all(np.isfinite(vs)) and np.all(np.isfinite(us))):
            raise LCParameterError("dt", "integration diverged; reduce the step or the input")
        time = np.arange(n) * dt
        ds = xr.Dataset(
            {
                "v": ("time", vs, {"long_name": "fast LC excitation v", "units": "1"}),
                "u": ("time", us, {"long_name": "NE release u (slow variable)", "units": "1"}),
                "h": ("time", self.activity(vs), {"long_name": "LC activity h(v)", "units": "1"}),
                "gain": ("time", self.gain_from_ne(us), {"long_name": "gain G + k u", "units": "1"}),
                "drive": ("time", drive, {"long_name": "LC input w_vX1 f(X1)", "units": "1"}),
            },
            coords={
                "time": ("time", time, {"units": "model time units"}),
                "time_ms": ("time", time * self.time_unit_ms, {"units": "ms"}),
            },
            attrs={"model": "GilzenratLC", "preset": self.preset_name or "", "dt": dt, **self._attrs()},
        )
        logger.debug("simulated %d steps of dt=%g (%s)", n, dt, self.preset_name)
        return ds

    # ------------------------------------------------------------------ bookkeeping
    def config(self) -> dict:
        """Parameters as plain Python values."""
        out = {"preset": self.preset_name}
        for key in GILZENRAT_DEFAULTS:
            value = getattr(self, key)
            out[key] = np.asarray(value).tolist() if value is not None else None
        return out

    def _attrs(self) -> dict:
        attrs = {}
        for key, value in self.config().items():
            if value is None:
                continue
            attrs[key] = value if not isinstance(value, list) else np.asarray(value)
        return attrs

    def __repr__(self) -> str:
        name = f"preset={self.preset_name!r}, " if self.preset_name else ""
        return f"GilzenratLC({name}C={_fmt(self.C)}, k={_fmt(self.k)}, noise={_fmt(self.noise)})"


def _rk4(v, u, drive, dt, a, d, C, tau_v, tau_u):
    """One classical RK4 step of eqs. 6-8 with the input held constant (broadcasts)."""
    h = 0.5 * dt
    k1v, k1u = gilzenrat_rhs(v, u, drive, a, d, C, tau_v, tau_u)
    k2v, k2u = gilzenrat_rhs(v + h * k1v, u + h * k1u, drive, a, d, C, tau_v, tau_u)
    k3v, k3u = gilzenrat_rhs(v + h * k2v, u + h * k2u, drive, a, d, C, tau_v, tau_u)
    k4v, k4u = gilzenrat_rhs(v + dt * k3v, u + dt * k3u, drive, a, d, C, tau_v, tau_u)
    s = dt / 6.0
    return v + s * (k1v + 2.0 * k2v + 2.0 * k3v + k4v), u + s * (k1u + 2.0 * k2u + 2.0 * k3u + k4u)


def _fmt(value) -> str:
    arr = np.asarray(value)
    return f"{float(arr):g}" if arr.ndim == 0 else str(arr.tolist())

