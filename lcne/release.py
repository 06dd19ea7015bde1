"""First-order norepinephrine release and clearance.

Extracellular NE driven by LC activity ``r(t)``::

    tau_ne dNE/dt = q r(t) - NE

Release is proportional to LC activity (cortical NE efflux scales with LC rate); clearance
(NET uptake, diffusion) is first order with time constant ``tau_ne``. The steady state is
``NE = q r``, so with ``q = 1`` NE has the units of the activity it is driven by. In the
Gilzenrat model the slow variable u obeys exactly this equation with ``r = h(v)`` and
``tau_ne = tau_u``; a separate release stage lets the NE time course be slower (sensor
or voltammetry time scales) than the LC recovery variable.

Time constants (sources in ``docs/lc_models.md`` section 2 and
``docs/biological_reference.md``): the model convention is ~250 ms (Gilzenrat et al. 2002,
Neural Networks 15:647, tau_u = 5 units at 50 ms/unit; the neuromodulator trace of NEST's
``stdp_dopamine_synapse``, Potjans et al. 2010, Front Comput Neurosci 4:141, has
tau_n = 200 ms); the fluorescent NE sensor GRAB_NE (Feng et al. 2019, Neuron 102:745) and
voltammetry show decays of ~1-2 s (the sensor's off kinetics are not checked against the
primary source, see ``docs/biological_reference.md``). Microdialysis (minutes) is too slow
to constrain it.

The update is exact for an input held constant over each step,
``NE <- q r + (NE - q r) exp(-dt / tau_ne)``, so it is stable for any step.

Examples
--------
>>> rel = NERelease.preset("model")              # tau_ne = 250 ms = 5 model units
>>> float(rel.tau_ne)
5.0
>>> ne = rel.simulate([1.0] * 501, dt=0.01)      # step of activity 0 -> 1 at t = 0
>>> round(float(ne.ne[-1]), 4)                   # after 5 units = one time constant
0.6321
"""
from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from lcne.errors import LCParameterError, as_param, check_positive

__all__ = ["NE_RELEASE_PRESETS", "NERelease"]

logger = logging.getLogger(__name__)

#: clearance time constants in milliseconds (sources in the module docstring and docs/lc_models.md)
NE_RELEASE_PRESETS = {
    "model": 250.0,  # Gilzenrat tau_u at 50 ms/unit; NEST tau_n = 200 ms
    "sensor": 1500.0,  # GRAB_NE / FSCV-like decay, ~1-2 s
}


class NERelease:
    """First-order NE release (gain ``q``) and clearance (time constant ``tau_ne``).

    Parameters
    ----------
    tau_ne : float > 0, default 5.0
        Clearance time constant in model time units (5 units = 250 ms at 50 ms/unit).
    q : float, default 1.0
        Release per unit of LC activity (steady-state NE per unit activity).
    ne0 : float, default 0.0
        Initial NE level.
    time_unit_ms : float > 0, default 50
        Milliseconds per model time unit.
    """

    state_variables = ("ne",)

    def __init__(self, tau_ne=5.0, q=1.0, ne0=0.0, time_unit_ms=50.0):
        self.tau_ne = check_positive(tau_ne, "tau_ne", "model time units")
        self.q = as_param(q, "q")
        self.ne0 = as_param(ne0, "ne0")
        self.time_unit_ms = float(check_positive(time_unit_ms, "time_unit_ms", "ms per model unit"))

    @classmethod
    def preset(cls, name: str, time_unit_ms: float = 50.0, **overrides) -> "NERelease":
        """``'model'`` (tau_ne = 250 ms) or ``'sensor'`` (1500 ms), converted to model units."""
        if name not in NE_RELEASE_PRESETS:
            raise LCParameterError(
                "preset", f"unknown NE release preset {name!r}; known: {', '.join(NE_RELEASE_PRESETS)}"
            )
        unit = float(check_positive(time_unit_ms, "time_unit_ms", "ms per model unit"))
        params = {"tau_ne": NE_RELEASE_PRESETS[name] / unit, "time_unit_ms": unit}
        params.update(overrides)
        return cls(**params)

    @classmethod
    def from_ms(cls, tau_ne_ms: float, time_unit_ms: float = 50.0, **kwargs) -> "NERelease":
        """Build from a clearance time constant given in milliseconds."""
        tau_ms = check_positive(tau_ne_ms, "tau_ne_ms", "ms")
        unit = float(check_positive(time_unit_ms, "time_unit_ms", "ms per model unit"))
        return cls(tau_ne=tau_ms / unit, time_unit_ms=unit, **kwargs)

    @property
    def tau_ne_ms(self):
        """Clearance time constant in milliseconds."""
        return self.tau_ne * self.time_unit_ms

    def steady_state(self, activity):
        """Steady-state NE ``q r`` for a constant activity ``r``."""
        return self.q * np.asarray(activity, dtype=np.float64)

    def step(self, ne, activity, dt):
        """Advance NE by ``dt`` model units with the activity held constant (exact).

        Parameters
        ----------
        ne, activity : float or ndarray
            Current NE and LC activity (broadcast over runs).
        dt : float
            Step in model time units, > 0.
        """
        decay = np.exp(-dt / self.tau_ne)
        target = self.q * activity
        return target + (ne - target) * decay

    def simulate(self, activity, dt: float) -> xr.Dataset:
        """NE time course for an activity series (value ``i`` held on ``[t_i, t_i + dt)``).

        Returns a Dataset with ``ne`` and ``activity`` over ``time`` (model units); sample
        ``i`` is NE at ``t_i = i dt``, sample 0 is ``ne0``.
        """
        r = np.asarray(as_param(activity, "activity"), dtype=np.float64)
        if r.ndim != 1 or r.size == 0:
            raise LCParameterError("activity", f"expected a non-empty 1-D array, got shape {r.shape}")
        dt = float(check_positive(dt, "dt", "model time units"))
        ne = np.empty(r.size)
        level = float(self.ne0)
        decay = float(np.exp(-dt / self.tau_ne))
        q = float(self.q)
        for i in range(r.size):
            ne[i] = level
            level = q * r[i] + (level - q * r[i]) * decay
        time = np.arange(r.size) * dt
        return xr.Dataset(
            {
                "ne": ("time", ne, {"long_name": "extracellular NE", "units": "1"}),
                "activity": ("time", r, {"long_name": "LC activity driving release", "units": "1"}),
            },
            coords={"time": ("time", time, {"units": "model time units"}),
                    "time_ms": ("time", time * self.time_unit_ms, {"units": "ms"})},
            attrs={"model": "NERelease", "tau_ne": float(np.max(self.tau_ne)), "q": q, "dt": dt},
        )

    def config(self) -> dict:
        """Parameters as plain Python values."""
        return {
            "tau_ne": np.asarray(self.tau_ne).tolist(),
            "q": np.asarray(self.q).tolist(),
            "ne0": np.asarray(self.ne0).tolist(),
            "time_unit_ms": self.time_unit_ms,
        }
