"""Negative control: a pure Poisson population with the rates of a validation run.

:func:`poisson_population` replaces every cell of every condition of a run of the
acceptance protocol by an independent inhomogeneous Poisson process whose rate is that
condition's population rate: the tonic rate in the lead period and, in each trial, the
trial-averaged peri-stimulus rate profile (bins of ``bin_ms``). NE is recomputed from the
new spikes with the same release and clearance. The result has the Dataset layout of
:meth:`lcne.spiking.population.LCPopulation.run`, so :func:`lcne.spiking.validation.evaluate`
scores it with the same report.

Such a population matches every *population-rate* feature (tonic rate, evoked profile,
pause in the PSTH, NE dip, trade-off) by construction; what it lacks is anything that
depends on a cell's own spike history (refractoriness, the AHP after a burst) or on
interactions between cells (synchrony beyond the shared rate modulation).

Example
-------
>>> import numpy as np, xarray as xr
>>> from lcne.spiking.poisson_control import poisson_spikes
>>> rate = np.full((1, 1000), 5.0)                       # 5 Hz for 1 s, one condition
>>> t, cell = poisson_spikes(rate, n_cells=200, dt_ms=1.0, seed=0)
>>> round(t.size / 200, 1)                               # spikes per cell, close to 5
5.0
"""
from __future__ import annotations

import json
from typing import Tuple

import numpy as np
import xarray as xr

from lcne.spiking.measures import psth, tonic_rate
from lcne.spiking.ne_pool import ne_trace
from lcne.spiking.params import LCParams
from lcne.spiking.validation_config import ValidationConfig

__all__ = ["matched_rates", "poisson_population", "poisson_spikes"]


def matched_rates(cfg: ValidationConfig, ds: xr.Dataset, bin_ms: float = 5.0) -> np.ndarray:
    """Rate profile of every condition of ``ds``, Hz, shape (condition, time) on ``ds.time``.

    The lead period (before the first onset) gets the condition's tonic rate measured on
    ``[500, lead_ms)``; each trial ``[t0, t0 + trial_ms)`` gets the condition's PSTH over all
    trials, in bins of ``bin_ms``.
    """
    times = ds.time.values
    onsets = cfg.onsets_ms()
    out = np.zeros((ds.sizes["condition"], times.size))
    for k in range(ds.sizes["condition"]):
        out[k] = tonic_rate(ds, k, [(500.0, cfg.lead_ms)])
        edges, prof = psth(ds, k, onsets, (0.0, cfg.trial_ms), bin_ms)
        for t0 in onsets:
            rel = times - t0
            inside = (rel >= 0) & (rel < cfg.trial_ms)
            out[k, inside] = prof[np.minimum((rel[inside] // bin_ms).astype(int), prof.size - 1)]
    return out


def poisson_spikes(rate_hz: np.ndarray, n_cells: int, dt_ms: float, seed: int = 0,
                   t0_ms: float = 0.0) -> Tuple[np.ndarray, np.ndarray]:
    """Independent inhomogeneous Poisson spikes, ``n_cells`` per condition.

    Parameters
    ----------
    rate_hz : array, shape (n_conditions, n_bins), Hz
        Rate of every cell of a condition in ``[t0 + i dt, t0 + (i + 1) dt)``.
    n_cells : int
        Cells per condition; cell ``j`` of condition ``k`` has the global index ``k n_cells + j``.
    dt_ms : float
        Bin width, ms. ``seed`` seeds numpy's generator.

    Returns
    -------
    times_ms, cells : ndarray, shape (n_spikes,)
        Sorted by time; spike times uniform inside their bins.
    """
    rng = np.random.default_rng(seed)
    rate_hz = np.atleast_2d(np.asarray(rate_hz, float))
    n_cond, n_bins = rate_hz.shape
    lam = np.repeat(rate_hz, n_cells, axis=0) * dt_ms / 1000.0  # (cells, bins)
    counts = rng.poisson(lam)
    cell, b = np.nonzero(counts)
    reps = counts[cell, b]
    cell, b = np.repeat(cell, reps), np.repeat(b, reps)
    t = t0_ms + (b + rng.random(b.size)) * dt_ms
    order = np.argsort(t, kind="stable")
    return t[order], cell[order].astype(np.int64)


def poisson_population(cfg: ValidationConfig, ds: xr.Dataset, seed: int = 0, bin_ms: float = 5.0,
                       warmup_ms: float = 1000.0) -> xr.Dataset:
    """The rate-matched Poisson copy of a validation run ``ds`` (see the module docstring).

    ``warmup_ms`` of tonic-rate spikes before time 0 start the NE pool at its tonic level.
    """
    times = ds.time.values
    dt = float(times[1] - times[0])
    n_cond = ds.sizes["condition"]
    n_cells = int(ds.sizes["cell"] // n_cond)
    rates = matched_rates(cfg, ds, bin_ms)
    n_warm = int(round(warmup_ms / dt))
    warm = np.repeat(rates[:, :1], n_warm, axis=1)
    st, si = poisson_spikes(np.concatenate([warm, rates], axis=1), n_cells, dt, seed, t0_ms=-n_warm * dt)
    block = si // n_cells
    conds = json.loads(ds.attrs.get("conditions", "[]")) or [{} for _ in range(n_cond)]
    base = cfg.lc_params()
    rate = np.zeros((n_cond, times.size))
    ne = np.zeros((n_cond, times.size))
    rec = st >= 0.0
    np.add.at(rate, (block[rec], np.minimum((st[rec] // dt).astype(int), times.size - 1)), 1.0)
    rate /= n_cells * dt / 1000.0
    for k in range(n_cond):
        p: LCParams = base.replace(**conds[k])
        q = p.ne_per_spike_nM * p.nucleus_cells / n_cells
        ne[k] = ne_trace(st[block == k], q, p.tau_ne_ms, times.size, dt)
    out = xr.Dataset(
        {"rate": (("condition", "time"), rate), "ne": (("condition", "time"), ne),
         "stimulus": (("time",), ds.stimulus.values),
         "spike_time": (("spike",), st[rec]), "spike_cell": (("spike",), si[rec].astype(np.int32)),
         "cell_condition": (("cell",), np.repeat(np.arange(n_cond), n_cells).astype(np.int32))},
        coords={"time": times, "condition": np.arange(n_cond), "cell": np.arange(n_cond * n_cells)},
        attrs={"model": "inhomogeneous Poisson, rates matched to a validation run (lcne.spiking.poisson_control)",
               "n_cells": n_cells, "seed": seed, "rate_bin_ms": bin_ms, "conditions": json.dumps(conds)},
    )
    out.time.attrs["units"] = "ms"
    return out
