"""The explicit LC models as gain controllers (the ``--lc`` choices besides ``paper``).

Each training iteration the controller receives one uncertainty value per run, turns it
into the LC's input, integrates the LC for a fixed amount of model time, and returns the
gain for the *next* iteration (the paper's one-step lag)::

    x(t)   = clip(drive(t) / drive_scale, 0, 1)              normalised uncertainty
    I(t)   = w_vX1 * (f_rest + (1 - f_rest) * x(t))          LC input (Gilzenrat eq. 6)
    (v, u) <- integrate eqs. 6-8 for time_per_iteration model units with I held fixed
    NE     = u                    (default; Gilzenrat's u *is* NE release)
           or tau_ne dNE/dt = h(v) - NE   (separate release stage when tau_ne is given)
    g(t+1) = gain_scale * (G + k * NE)

``x`` plays the part of the target decision unit's activation ``f(X1)`` above its resting
value: with the defaults (``w_vX1 = 0.3``, ``f_rest = 0.5``) the input spans 0.15 (no
uncertainty; the published pre-target input) to 0.30 (maximal uncertainty; a fully active
target unit), exactly the range of the published simulations.

``gain_scale`` converts the LC's gain (the slope of the logistic units of the published
model, resting at 0.85 in the phasic mode) into the network's multiplicative gain, whose
native value is 1. The default maps the published phasic resting gain to 1 (scale
1/0.8456 = 1.183), so the tonic preset rests at 1.26 and a phasic burst peaks near
1.5-2; ``gain_scale=1`` applies the published numbers unchanged.

Time scales: ``time_per_iteration = 0.5`` model units (25 ms at 50 ms/unit) makes
``tau_u = 5`` units equal to 10 iterations, the relaxation time of the paper's integrator
(``-1/ln 0.9 = 9.5`` iterations). After a step of uncertainty from 0 to 1 the phasic LC
bursts within the first iteration and the gain peaks 3-4 iterations later (1.0 -> 1.95);
while the uncertainty stays high it keeps bursting about every 10 iterations.

Registered names: ``gilzenrat-phasic`` (preset ``gilzenrat2002_phasic``),
``gilzenrat-tonic`` (``gilzenrat2002_tonic``) and ``adaptive`` (AGT mode control); LC
parameters (``C``, ``k``, ``tau_u``, ``noise``, ...) and the adapter's own parameters are
keyword arguments, e.g. ``make_controller('gilzenrat-phasic', n_runs=5, drive_scale=2.3026)``.
"""
from __future__ import annotations

import logging
import math

import numpy as np
import torch

from lcne.adaptive_gain import ADAPTIVE_GAIN_DEFAULTS, AdaptiveGainLC
from lcne.gain_controllers import GainController
from lcne.errors import LCParameterError, as_param, check_positive, check_range
from lcne.gilzenrat import GILZENRAT_DEFAULTS, GilzenratLC
from lcne.release import NERelease

__all__ = [
    "ADAPTER_DEFAULTS",
    "phasic_resting_gain",
    "AdaptiveLCController",
    "GilzenratController",
    "LCController",
    "FACTORIES",
]

logger = logging.getLogger(__name__)

#: parameters of the uncertainty -> LC -> gain adapter (not of the LC itself)
ADAPTER_DEFAULTS = {
    "time_per_iteration": 0.5,  # model time units advanced per training iteration
    "dt": 0.025,  # largest RK4 substep, model time units (20 per iteration)
    "drive_scale": 1.0,  # drive value mapped to x = 1 (e.g. ln 10 nats for 10-way entropy)
    "f_rest": 0.5,  # resting activation of the decision-unit analogue, in [0, 1]
    "tau_ne": None,  # NE clearance time constant (model units); None: NE = u
    "gain_scale": "rest",  # network gain = gain_scale * (G + k NE); 'rest': 1 / phasic resting gain
}


def phasic_resting_gain() -> float:
    """Resting gain ``G + k u*`` of the published phasic LC at the resting input 0.15.

    About 0.8456; the default ``gain_scale`` is its inverse, so that the resting phasic LC
    gives the network its native gain of 1 (the gain of the baselines and the paper's g0).
    """
    lc = GilzenratLC.preset("gilzenrat2002_phasic")
    return float(lc.equilibrium(float(lc.w_vX1) * 0.5)[2])


class LCController(GainController):
    """Base of the LC gain controllers: drive mapping, sub-stepping, NE and recording.

    Parameters
    ----------
    n_runs : int
        Independent runs integrated side by side.
    time_per_iteration : float > 0, default 0.5
        Model time units per training iteration (x ``time_unit_ms`` ms).
    dt : float > 0, default 0.025
        Largest integration substep (model units); the iteration is split into
        ``ceil(time_per_iteration / dt)`` equal substeps, each checked for stability
        (RK4 error at 0.025 is ~1e-6 in the gain).
    drive_scale : float > 0, default 1.0
        Drive that counts as maximal uncertainty (``x = 1``). 1 for the probabilities of
        the ``cpp`` and ``unexpected`` front ends, ``ln C`` for softmax entropy in nats.
    f_rest : float in [0, 1], default 0.5
        Resting activation of the decision-unit analogue (logistic at zero net input).
    tau_ne : float > 0, optional
        If given, NE follows ``tau_ne dNE/dt = h(v) - NE`` (:class:`~lcne.release.NERelease`)
        and drives the gain instead of ``u``.
    gain_scale : float > 0 or 'rest', default 'rest'
        Network gain per unit of LC gain; ``'rest'`` is ``1 / phasic_resting_gain()``.
    **lc_params
        Parameters of :class:`~lcne.gilzenrat.GilzenratLC` (``preset`` plus any of its
        parameters), scalars or one value per run.
    """

    name = "lc"
    state_variables = ("gain", "v", "u", "h", "ne", "input")

    def __init__(self, n_runs: int = 1, preset: str = "gilzenrat2002_phasic", **params):
        super().__init__(n_runs)
        adapter = {key: params.pop(key) for key in list(params) if key in ADAPTER_DEFAULTS}
        self._init_adapter(adapter)
        lc_params, rest = _split(params, GILZENRAT_DEFAULTS)
        self._extra_params = rest
        for key, value in lc_params.items():
            lc_params[key] = self._per_run(value, key) if key != "seed" else value
        self.lc = GilzenratLC.preset(preset, **lc_params)
        self.preset = preset
        self._check_rest()
        self.substeps = max(1, math.ceil(self.time_per_iteration / self.dt - 1e-9))
        self.substep = self.time_per_iteration / self.substeps
        self.lc.check_dt(self.substep, name="dt")
        self._rng = np.random.default_rng(self.lc.seed if self.lc.seed is not None else 0)
        self._init_state()

    # ------------------------------------------------------------------ setup helpers
    def _init_adapter(self, adapter: dict) -> None:
        p = dict(ADAPTER_DEFAULTS)
        p.update(adapter)
        self.time_per_iteration = float(check_positive(p["time_per_iteration"], "time_per_iteration",
                                                       "model time units per iteration"))
        self.dt = float(check_positive(p["dt"], "dt", "model time units"))
        self.drive_scale = self._per_run(check_positive(p["drive_scale"], "drive_scale"), "drive_scale")
        self.f_rest = self._per_run(check_range(p["f_rest"], "f_rest", 0.0, 1.0), "f_rest")
        if isinstance(p["gain_scale"], str) and p["gain_scale"].strip().lower() == "rest":
            self.gain_scale = 1.0 / phasic_resting_gain()
        else:
            self.gain_scale = self._per_run(check_positive(p["gain_scale"], "gain_scale"), "gain_scale")
        if p["tau_ne"] is None or (isinstance(p["tau_ne"], str) and p["tau_ne"].lower() in ("none", "")):
            self.release = None
        else:
            self.release = NERelease(tau_ne=self._per_run(check_positive(p["tau_ne"], "tau_ne",
                                                                         "model time units"), "tau_ne"))

    def _check_rest(self) -> None:
        if self._extra_params:
            key = sorted(self._extra_params)[0]
            known = sorted(set(GILZENRAT_DEFAULTS) | set(ADAPTER_DEFAULTS) | {"preset"})
            raise LCParameterError(key, f"unknown parameter of LC controller {self.name!r}; known: {', '.join(known)}")

    def _per_run(self, value, name):
        arr = np.asarray(as_param(value, name), dtype=np.float64)
        if arr.ndim == 0:
            return float(arr)
        if arr.size == 1:
            return float(arr.reshape(()))
        if arr.size != self.n_runs:
            raise LCParameterError(name, f"got {arr.size} values for {self.n_runs} runs")
        return arr

    def _init_state(self) -> None:
        n = self.n_runs
        self.v = np.broadcast_to(np.asarray(self.lc.v0, dtype=np.float64), (n,)).copy()
        self.u = np.broadcast_to(np.asarray(self.lc.u0, dtype=np.float64), (n,)).copy()
        self.ne = self.u.copy()
        self.input = np.full(n, np.nan)
        self._gain = torch.from_numpy(self._gain_np())

    # ------------------------------------------------------------------ dynamics
    def lc_input(self, drive: np.ndarray) -> np.ndarray:
        """LC input ``w_vX1 (f_rest + (1 - f_rest) clip(drive / drive_scale, 0, 1))``."""
        x = np.clip(drive / self.drive_scale, 0.0, 1.0)
        return self.lc.w_vX1 * (self.f_rest + (1.0 - self.f_rest) * x)

    def _noise(self) -> np.ndarray:
        if np.all(np.asarray(self.lc.noise) == 0):
            return 0.0
        return self.lc.noise * self._rng.standard_normal(self.n_runs)

    def _activity(self) -> np.ndarray:
        return self.lc.activity(self.v)

    def _gain_np(self) -> np.ndarray:
        ne = self.u if self.release is None else self.ne
        return np.broadcast_to(self.gain_scale * self.lc.gain_from_ne(ne), (self.n_runs,)).astype(np.float64)

    def _advance(self, drive: torch.Tensor) -> torch.Tensor:
        drive = drive.detach().cpu().numpy().astype(np.float64)
        self.input = np.broadcast_to(self.lc_input(drive), (self.n_runs,)).copy()
        for _ in range(self.substeps):
            if self.release is None:
                self._substep(self.input + self._noise())
                continue
            h_before = self._activity()
            self._substep(self.input + self._noise())
            # activity over the substep: trapezoidal mean (second order, like the RK4 step)
            self.ne = self.release.step(self.ne, 0.5 * (h_before + self._activity()), self.substep)
        if self.release is None:
            self.ne = self.u.copy()
        if not np.all(np.isfinite(self.u)):
            logger.warning("LC state became non-finite (drive=%s)", drive)
        return torch.from_numpy(self._gain_np())

    def _substep(self, inp: np.ndarray) -> None:
        self.v, self.u = self.lc.rk4_step(self.v, self.u, inp, self.substep)

    # ------------------------------------------------------------------ recording
    def state(self):
        out = {"gain": self._gain.clone()}
        values = {"v": self.v, "u": self.u, "h": self._activity(), "ne": self.ne, "input": self.input}
        for name in self.state_variables[1:]:
            if name in values:
                out[name] = torch.from_numpy(np.broadcast_to(values[name], (self.n_runs,)).astype(np.float64))
        return out

    def config(self):
        """Registered name, ``n_runs``, ``preset``, the adapter's parameters and every
        :class:`~lcne.gilzenrat.GilzenratLC` parameter, flat: the keyword arguments of
        ``make_controller`` (``gain_scale`` as the number that ran, also for ``'rest'``).
        Per-run values are lists."""
        out = super().config()
        out.update({
            "preset": self.preset,
            "time_per_iteration": self.time_per_iteration,
            "dt": self.dt,
            "drive_scale": np.asarray(self.drive_scale).tolist(),
            "f_rest": np.asarray(self.f_rest).tolist(),
            "tau_ne": None if self.release is None else np.asarray(self.release.tau_ne).tolist(),
            "gain_scale": np.asarray(self.gain_scale).tolist(),
        })
        out.update({k: v for k, v in self.lc.config().items() if k != "preset"})
        return out

    def config_name(self) -> str:
        return getattr(self, "registry_name", None) or self._default_registry_name()

    def _default_registry_name(self) -> str:
        return "gilzenrat-tonic" if self.preset == "gilzenrat2002_tonic" else "gilzenrat-phasic"


class GilzenratController(LCController):
    """Gilzenrat et al. 2002 LC as a gain controller (see :class:`LCController`)."""

    name = "gilzenrat"


class AdaptiveLCController(LCController):
    """Gilzenrat LC with Aston-Jones & Cohen adaptive-gain mode control.

    The normalised uncertainty ``x`` is both the LC input (as in :class:`LCController`)
    and the *cost* whose short- and long-term averages set the coherence ``C``
    (:class:`~lcne.adaptive_gain.AdaptiveGainLC`). The averages' time constants are in
    model units: the defaults ``tau_short = 5``, ``tau_long = 50`` are 10 and 100
    iterations at ``time_per_iteration = 0.5``.
    """

    name = "adaptive"
    state_variables = ("gain", "v", "u", "h", "ne", "input", "C", "short", "long", "disengagement")

    def __init__(self, n_runs: int = 1, preset: str = "gilzenrat2002_phasic", **params):
        agt = {key: params.pop(key) for key in list(params) if key in ADAPTIVE_GAIN_DEFAULTS}
        self._agt_params = agt
        super().__init__(n_runs, preset=preset, **params)

    def _init_state(self) -> None:
        agt = {key: self._per_run(value, key) for key, value in self._agt_params.items()}
        self.agt = AdaptiveGainLC(self.lc, **agt)
        super()._init_state()
        st = self.agt.initial_state(self.n_runs)
        self.v, self.u, self.short, self.long = st["v"], st["u"], st["short"], st["long"]
        self.ne = self.u.copy()
        self._gain = torch.from_numpy(self._gain_np())

    def _check_rest(self) -> None:
        if self._extra_params:
            key = sorted(self._extra_params)[0]
            known = sorted(set(GILZENRAT_DEFAULTS) | set(ADAPTER_DEFAULTS) | set(ADAPTIVE_GAIN_DEFAULTS)
                           | {"preset"})
            raise LCParameterError(key, f"unknown parameter of LC controller {self.name!r}; known: {', '.join(known)}")

    def _advance(self, drive: torch.Tensor) -> torch.Tensor:
        x = np.clip(drive.detach().cpu().numpy().astype(np.float64) / self.drive_scale, 0.0, 1.0)
        self._cost = np.broadcast_to(x, (self.n_runs,))
        return super()._advance(drive)

    def _activity(self) -> np.ndarray:
        return self.lc.activity(self.v, C=self.agt.coherence(self.short, self.long))

    def _substep(self, inp: np.ndarray) -> None:
        st = self.agt.step({"v": self.v, "u": self.u, "short": self.short, "long": self.long},
                           inp, self._cost, self.substep)
        self.v, self.u, self.short, self.long = st["v"], st["u"], st["short"], st["long"]

    def state(self):
        out = super().state()
        obs = self.agt.observe({"v": self.v, "u": self.u, "short": self.short, "long": self.long})
        extra = {"C": obs["C"], "short": self.short, "long": self.long, "disengagement": obs["disengagement"]}
        for name, value in extra.items():
            out[name] = torch.from_numpy(np.broadcast_to(value, (self.n_runs,)).astype(np.float64))
        return out

    def config(self):
        """As :meth:`LCController.config`, plus the mode-control parameters (flat)."""
        out = super().config()
        out.update({k: v for k, v in self.agt.config().items() if k != "lc"})
        return out

    def _default_registry_name(self) -> str:
        return "adaptive"


def _split(params: dict, known: dict):
    inside = {k: v for k, v in params.items() if k in known}
    rest = {k: v for k, v in params.items() if k not in known}
    return inside, rest


def _factory(cls, preset):
    def make(n_runs: int = 1, **params):
        params.setdefault("preset", preset)
        return cls(n_runs=n_runs, **params)

    make.__name__ = f"make_{cls.name}_{preset}"
    make.__doc__ = f"{cls.__name__} with preset {preset!r} (overridable)."
    return make


#: registered name -> factory; :data:`lcne.gain_controllers.CONTROLLERS` lists these names
FACTORIES = {
    "gilzenrat-phasic": _factory(GilzenratController, "gilzenrat2002_phasic"),
    "gilzenrat-tonic": _factory(GilzenratController, "gilzenrat2002_tonic"),
    "adaptive": _factory(AdaptiveLCController, "gilzenrat2002_phasic"),
}
