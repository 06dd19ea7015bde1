"""Input protocols for the spiking LC population: steps, pulses and recorded drive traces.

A protocol is a :class:`Stimulus`: a dimensionless input value ``s`` sampled every
``dt_ms`` milliseconds, value ``i`` held on ``[i*dt_ms, (i+1)*dt_ms)``. The population
turns ``s`` into current (``input_pA`` per unit of ``s``, see
:class:`~lcne.spiking.params.LCParams`); the Gilzenrat rate model turns the same ``s``
into its external input term with :meth:`Stimulus.to_model_units`. Every conversion
between time bases is an explicit argument: milliseconds per training iteration for
results files, milliseconds per model time unit for the rate model.

Example
-------
>>> from lcne.spiking.protocols import pulses
>>> stim = pulses(3000.0, onsets_ms=[1000.0, 2000.0], width_ms=100.0)
>>> stim.duration_ms, float(stim.values.max())
(3000.0, 1.0)
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Optional, Sequence, Union

import numpy as np
import xarray as xr

__all__ = ["Stimulus", "silence", "step", "pulses", "from_results"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Stimulus:
    """A piecewise-constant, dimensionless input trace.

    Parameters
    ----------
    values : array of float, shape (n,)
        Input value ``s`` (dimensionless; 1 = one phasic pulse of the default size).
        ``values[i]`` is applied on ``[i*dt_ms, (i+1)*dt_ms)``.
    dt_ms : float
        Sample interval in ms.
    name : str
        Short label stored with the results.
    onsets_ms : tuple of float
        Times (ms) of the phasic events in the trace, if any; used to align trials.
    """

    values: np.ndarray
    dt_ms: float = 1.0
    name: str = "stimulus"
    onsets_ms: tuple = field(default=())

    def __post_init__(self):
        v = np.asarray(self.values, dtype=float).reshape(-1)
        if v.size == 0:
            raise ValueError("a Stimulus needs at least one sample")
        if not np.all(np.isfinite(v)):
            raise ValueError("stimulus values must be finite")
        if not self.dt_ms > 0:
            raise ValueError(f"dt_ms must be > 0, got {self.dt_ms}")
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "onsets_ms", tuple(float(t) for t in self.onsets_ms))

    @property
    def duration_ms(self) -> float:
        """Length of the trace in ms."""
        return float(self.values.size * self.dt_ms)

    @property
    def times_ms(self) -> np.ndarray:
        """Start time (ms) of every sample."""
        return np.arange(self.values.size) * self.dt_ms

    def sample(self, times_ms) -> np.ndarray:
        """Value held at each of ``times_ms`` (zero-order hold; 0 outside the trace)."""
        t = np.asarray(times_ms, dtype=float)
        idx = np.floor(t / self.dt_ms + 1e-9).astype(int)
        inside = (idx >= 0) & (idx < self.values.size)
        out = np.zeros(t.shape)
        out[inside] = self.values[idx[inside]]
        return out

    def resample(self, dt_ms: float) -> "Stimulus":
        """The same trace on a grid of ``dt_ms`` (zero-order hold, sampled at bin starts)."""
        n = int(round(self.duration_ms / dt_ms))
        return Stimulus(self.sample(np.arange(n) * dt_ms), dt_ms, self.name, self.onsets_ms)

    def to_model_units(self, ms_per_unit: float, dt_units: float, scale: float = 1.0) -> np.ndarray:
        """The trace as a rate-model drive array.

        Parameters
        ----------
        ms_per_unit : float
            Milliseconds of biological time per rate-model time unit (Gilzenrat: ~50).
        dt_units : float
            Rate-model integration step, in model time units.
        scale : float
            Model input per unit of ``s``.

        Returns
        -------
        ndarray, shape (n,)
            ``scale * s`` at model times ``k*dt_units`` (k = 0..n-1), covering the trace.
        """
        if ms_per_unit <= 0 or dt_units <= 0:
            raise ValueError("ms_per_unit and dt_units must be > 0")
        step_ms = ms_per_unit * dt_units
        n = int(np.ceil(self.duration_ms / step_ms - 1e-9))
        return scale * self.sample(np.arange(n) * step_ms)


def silence(duration_ms: float, dt_ms: float = 1.0) -> Stimulus:
    """No input for ``duration_ms`` ms (the tonic-mode protocol)."""
    return Stimulus(np.zeros(_n_samples(duration_ms, dt_ms)), dt_ms, "silence")


def step(duration_ms: float, onset_ms: float, amplitude: float = 1.0, offset_ms: Optional[float] = None,
         dt_ms: float = 1.0) -> Stimulus:
    """A step of ``amplitude`` from ``onset_ms`` to ``offset_ms`` (default: the end).

    All times in ms; ``amplitude`` is dimensionless.
    """
    n = _n_samples(duration_ms, dt_ms)
    t = np.arange(n) * dt_ms
    end = duration_ms if offset_ms is None else offset_ms
    v = np.where((t >= onset_ms) & (t < end), float(amplitude), 0.0)
    return Stimulus(v, dt_ms, "step", (onset_ms,))


def pulses(duration_ms: float, onsets_ms: Sequence[float], width_ms: float = 100.0,
           amplitude: Union[float, Sequence[float]] = 1.0, dt_ms: float = 1.0) -> Stimulus:
    """Rectangular pulses (the phasic protocol).

    Parameters
    ----------
    duration_ms : float
        Length of the trace, ms.
    onsets_ms : sequence of float
        Pulse onsets, ms.
    width_ms : float
        Pulse width, ms.
    amplitude : float or sequence of float
        Pulse height (dimensionless), one for all pulses or one per pulse.
    dt_ms : float
        Sample interval, ms.
    """
    n = _n_samples(duration_ms, dt_ms)
    t = np.arange(n) * dt_ms
    amps = np.broadcast_to(np.asarray(amplitude, dtype=float), (len(onsets_ms),))
    v = np.zeros(n)
    for t0, a in zip(onsets_ms, amps):
        v[(t >= t0) & (t < t0 + width_ms)] += a
    return Stimulus(v, dt_ms, "pulses", tuple(onsets_ms))


def from_results(results: xr.Dataset, method: str, seed: int, ms_per_iteration: float,
                 variable: str = "drive", iterations: Optional[slice] = None, normalize: str = "max",
                 dt_ms: float = 1.0) -> Stimulus:
    """Input trace from the results of an ``lcne run`` (see ``docs/results-schema.md``).

    Iteration ``i`` of the chosen run is held for ``ms_per_iteration`` ms: it covers
    ``[(i - i0)*ms_per_iteration, (i - i0 + 1)*ms_per_iteration)`` where ``i0`` is the
    first selected iteration.

    Parameters
    ----------
    results : xarray.Dataset
        Results opened with the one reader, :func:`lcne.analysis.open_results` (which
        checks the file and upgrades older schema versions), holding ``variable`` over
        (``method``, ``seed``, ``iteration``).
    method, seed :
        Which run to take.
    ms_per_iteration : float
        Biological milliseconds per training iteration (the explicit time-scale map).
    variable : str
        ``"drive"`` (default) or ``"entropy"`` (nats) or any variable with those dims.
    iterations : slice, optional
        Iteration labels to keep, e.g. ``slice(0, 200)`` (label-based, inclusive end as in
        xarray ``sel``).
    normalize : {"max", "none"}
        ``"max"`` divides by the largest absolute value so the trace peaks at 1 (one
        default pulse); ``"none"`` keeps the recorded units.
    dt_ms : float
        Sample interval of the returned stimulus, ms.
    """
    if not isinstance(results, xr.Dataset):
        raise TypeError(
            "from_results takes an opened results Dataset; open the file with "
            f"lcne.analysis.open_results({str(results)!r}) first"
        )
    if ms_per_iteration <= 0:
        raise ValueError(f"ms_per_iteration must be > 0, got {ms_per_iteration}")
    if normalize not in ("max", "none"):
        raise ValueError(f"normalize must be 'max' or 'none', got {normalize!r}")
    ds = results
    if variable not in ds:
        raise ValueError(f"results have no variable {variable!r}; available: {', '.join(map(str, ds.data_vars))}")
    da = ds[variable]
    for dim in ("method", "seed", "iteration"):
        if dim not in da.dims:
            raise ValueError(f"variable {variable!r} lacks dimension {dim!r}")
    try:
        da = da.sel({"method": method, "seed": seed})
    except KeyError:
        raise ValueError(
            f"no run method={method!r} seed={seed} in results "
            f"(methods {list(ds.method.values)}, seeds {list(ds.seed.values)})"
        ) from None
    if iterations is not None:
        da = da.sel(iteration=iterations)
    trace = np.nan_to_num(np.asarray(da.values, dtype=float), nan=0.0)
    if trace.size == 0:
        raise ValueError("no iterations selected")
    if normalize == "max":
        peak = np.max(np.abs(trace))
        trace = trace / peak if peak > 0 else trace
    per_iter = Stimulus(trace, ms_per_iteration, f"{variable}:{method}:{seed}")
    log.info("drive from results: %d iterations x %.3g ms = %.1f s", trace.size, ms_per_iteration,
             per_iter.duration_ms / 1000)
    return per_iter.resample(dt_ms)


def _n_samples(duration_ms: float, dt_ms: float) -> int:
    if duration_ms <= 0 or dt_ms <= 0:
        raise ValueError("duration_ms and dt_ms must be > 0")
    return int(round(duration_ms / dt_ms))
