"""Synthetic results in the ``lcne run`` schema, with known gap and gain shapes.

For tests, documentation examples and trying the analysis without training. The curves
are piecewise simple so that every measure of :mod:`lcne.analysis.gap_gain` has a closed-form
answer:

* accuracy: flat at ``F`` before a switch, falls linearly by ``depth`` to its minimum at
  ``t_min`` iterations after the switch, climbs back linearly to ``F`` by
  ``t_min + t_back``, then stays flat;
* gain: from the pre-switch level ``g_pre`` it rises linearly to ``g_pre + peak`` at
  ``t_peak``, then relaxes exponentially with time constant ``tau`` to ``g_after``.

``synthetic_results`` links the gap depth of the ``ngm`` runs to their gain peak
(``depth = coupling * peak + noise``) so regressions have a known slope.
"""
from __future__ import annotations

import json
from typing import Dict, Optional, Sequence

import numpy as np
import xarray as xr

from lcne.analysis.schema import SCHEMA_VERSION

__all__ = ["dip_curve", "burst_curve", "synthetic_results"]


def dip_curve(n: int, level: float, depth: float, t_min: int, t_back: int) -> np.ndarray:
    """Accuracy for t = 1..n after a switch (the value at t = 0 is ``level``)."""
    t = np.arange(1, n + 1, dtype=float)
    down = level - depth * t / t_min
    up = level - depth * (1.0 - (t - t_min) / t_back)
    return np.where(t <= t_min, down, np.where(t <= t_min + t_back, up, level))


def burst_curve(n: int, g_pre: float, peak: float, t_peak: int, tau: float, g_after: float) -> np.ndarray:
    """Gain for t = 1..n after a switch (the value at t = 0 is ``g_pre``)."""
    t = np.arange(1, n + 1, dtype=float)
    rise = g_pre + peak * t / t_peak
    top = g_pre + peak
    fall = g_after + (top - g_after) * np.exp(-(t - t_peak) / tau)
    return np.where(t <= t_peak, rise, fall)


def synthetic_results(*, benchmark: str = "split-mnist", n_tasks: int = 5, iterations_per_task: int = 60,
                      methods: Sequence[str] = ("ngm", "sgd"), seeds: Sequence[int] = (0, 1, 2, 3),
                      eta: float = 0.4, g0: float = 1.0, coupling: float = 0.1, noise: float = 0.0,
                      t_min: int = 6, t_back: int = 12, t_peak: int = 4, tau: float = 8.0,
                      lc_states: bool = False, rng: Optional[int] = 0) -> xr.Dataset:
    """Build a results Dataset following ``docs/results-schema.md``.

    Parameters
    ----------
    benchmark : str
    n_tasks, iterations_per_task : int
    methods, seeds : sequences
    eta : float
        Stored in the run configuration; also scales the gain peaks of ``ngm``.
    g0 : float
        Tonic gain (gain of every baseline; the gain of ``ngm`` starts there).
    coupling : float
        Gap depth (fraction) per unit of gain peak for ``ngm``.
    noise : float
        Standard deviation of Gaussian noise added to the depths (fraction).
    t_min, t_back, t_peak, tau
        Shape parameters (iterations), the same at every switch.
    lc_states : bool
        Also write ``lc_v`` and ``lc_u`` (copies of the gain excursion, for tests).
    rng : int or None
        Seed of the generator that draws the per-switch gain peaks.

    Returns
    -------
    xarray.Dataset
        ``attrs["truth"]`` holds a JSON dict with the drawn peaks and depths per
        (method, seed) so tests can compare measured with true values.
    """
    gen = np.random.default_rng(rng)
    I, T = int(iterations_per_task), int(n_tasks)
    n_iter = I * T
    n_o, n_s = len(methods), len(seeds)
    acc = np.full((n_o, n_s, n_iter, T), np.nan)
    gain = np.full((n_o, n_s, n_iter), float(g0))
    truth: Dict[str, dict] = {}
    for oi, opt in enumerate(methods):
        for si, seed in enumerate(seeds):
            a = np.empty(n_iter)
            g = np.full(n_iter, float(g0))
            # context 1: accuracy rises from chance to 0.95
            t = np.arange(I)
            a[:I] = 0.5 + 0.45 * (1 - np.exp(-t / (I / 6)))
            level = a[I - 1]
            if opt == "ngm":
                g[:I] = g0 + 10 * eta * 0.3 * (1 - np.exp(-t / 3)) * np.exp(-t / 20) + 0.5 * eta * (1 - np.exp(-t / 10))
            peaks, depths = [], []
            for k in range(2, T + 1):
                s = (k - 1) * I
                if opt == "ngm":
                    peak = float(eta * gen.uniform(1.0, 3.0))
                    g_pre = g[s - 1]
                    g_after = g_pre + 0.1 * eta
                    g[s:s + I] = burst_curve(I, g_pre, peak, t_peak, tau, g_after)
                    depth = coupling * peak + noise * gen.standard_normal()
                else:
                    peak = 0.0
                    depth = float(gen.uniform(0.05, 0.3))
                depth = float(np.clip(depth, 0.0, level - 0.01))
                a[s:s + I] = dip_curve(I, level, depth, t_min, t_back)
                peaks.append(peak)
                depths.append(depth)
            truth[f"{opt}/{seed}"] = {"peaks": peaks, "depths": depths, "level": float(level)}
            gain[oi, si] = g
            acc[oi, si, :, 0] = a
            for k in range(2, T + 1):  # later tasks: seen from their context on
                acc[oi, si, (k - 1) * I:, k - 1] = 0.9
    loss = -np.log(np.clip(acc, 1e-6, 1.0))
    entropy = np.clip((gain - g0) / (10 * max(eta, 1e-9)), 0.0, None)
    coords = {
        "method": list(methods),
        "seed": [int(s) for s in seeds],
        "iteration": np.arange(n_iter),
        "eval_task": np.arange(1, T + 1),
        "train_task": ("iteration", np.repeat(np.arange(1, T + 1), I)),
    }
    dims3 = ("method", "seed", "iteration")
    data_vars = {
        "accuracy": (dims3 + ("eval_task",), acc),
        "loss": (dims3 + ("eval_task",), loss),
        "gain": (dims3, gain),
        "entropy": (dims3, entropy),
        "drive": (dims3, entropy),
        "train_loss": (dims3, loss[..., 0]),
    }
    if lc_states:
        data_vars["lc_v"] = (dims3, gain - g0)
        data_vars["lc_u"] = (dims3, 0.5 * (gain - g0))
    config = {"benchmark": benchmark, "optimizers": list(methods), "seeds": [int(s) for s in seeds],
              "iterations": I, "eta": eta, "gamma": 0.9, "g0": g0, "lc": "paper", "synthetic": True}
    ds = xr.Dataset(data_vars, coords=coords)
    ds.attrs.update(benchmark=benchmark, iterations_per_task=I, n_tasks=T, config=json.dumps(config),
                    versions=json.dumps({"synthetic": True}), lcne_schema_version=SCHEMA_VERSION,
                    created="2000-01-01T00:00:00", truth=json.dumps(truth))
    return ds
