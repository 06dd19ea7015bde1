"""A spiking locus coeruleus population in Brian2.

Each cell is a leaky integrate-and-fire pacemaker with a slow after-hyperpolarisation
(AHP), electrotonic (gap-junction) coupling to a few partners and a shared afferent input;
every spike releases norepinephrine (NE) into one extracellular pool that is cleared with
a time constant. Per cell ``i`` (Brian2 units)::

    C_m dv/dt   = g_L (E_L - v) + I_pace,i + I_in,i(t) + I_gap,i - w   + noise
    dw/dt       = -w / tau_AHP                      at a spike: v <- V_reset, w <- w + b_AHP
    I_gap,i     = sum_j g_gap (v_j - v_i)           at a partner's spike: v_i += g_gap A_spike / C_m
    I_in,i(t)   = input_pA * a_i * s_aff(t)         s_aff: stimulus delayed and low-passed
    dNE/dt      = -NE / tau_NE + q * (spikes of all cells)   (solved exactly: ne_trace)

The interspike interval is set by the slow AHP decaying below the pacemaker drive (a slow
depolarising ramp, as in LC cells), so the tonic rate is robustly low (~2 Hz). A brief
input makes every cell fire 1-3 spikes; the spikes add up in ``w`` and silence the cell
for a few hundred ms (the post-activation pause). The gap-junction conductance ``g_gap``
plays the role of the coupling ("coherence") ``C`` of the Gilzenrat rate model.

Several *conditions* (parameter sets) can run side by side in one simulation: each gets
its own block of ``n_cells`` cells, its own gap-junction network and NE pool, and they
share the stimulus. That is how the validation sweeps coupling and baseline rate with one
compiled network.

Example
-------
A small population (20 cells, Brian2's ``numpy`` target, so nothing is compiled) under
one 100 ms pulse at 500 ms; about 2 s of wall time:

>>> from lcne.spiking import LCPopulation, pulses
>>> pop = LCPopulation(n_cells=20, seed=1, target="numpy")
>>> ds = pop.run(pulses(1000.0, [500.0]))
>>> ds.rate.sizes
Frozen({'condition': 1, 'time': 1000})
>>> round(float(ds.rate.sel(time=slice(0, 499)).mean()), 1)   # tonic rate before the pulse, Hz
2.3
>>> t = ds.spike_time.values                                  # every spike, ms
>>> float(((t >= 500) & (t < 700)).sum() / 20)                # spikes per cell in 200 ms after onset
1.4
"""
from __future__ import annotations

import logging
import os
import time
from typing import Dict, List, Optional, Sequence

import brian2 as b2
import numpy as np
import xarray as xr
from scipy.signal import lfilter

from lcne.spiking.ne_pool import ne_trace
from lcne.spiking.params import LCParams
from lcne.spiking.population_dataset import SPIKING_SCHEMA_VERSION, population_dataset
from lcne.spiking.protocols import Stimulus
from lcne.spiking.standalone_dir import directory_lock as _directory_lock
from lcne.spiking.standalone_dir import private_build_dir

__all__ = ["CODEGEN_TARGETS", "LCPopulation", "SPIKING_SCHEMA_VERSION", "ne_trace", "private_build_dir"]

log = logging.getLogger(__name__)

#: code generation targets :class:`LCPopulation` accepts
CODEGEN_TARGETS = ("cython", "numpy", "cpp_standalone")

#: parameters shared by all conditions of one simulation
_GLOBAL_ONLY = ("dt_ms", "record_dt_ms")


_EQS = """
dv/dt = (g_leak*(e_leak - v) + i_pace + i_in + i_gap - w_ahp)/c_m + noise*sqrt(2*g_leak/c_m)*xi : volt (unless refractory)
dw_ahp/dt = -w_ahp/tau_ahp : amp
i_in : amp
i_gap : amp
c_m : farad (constant)
g_leak : siemens (constant)
e_leak : volt (constant)
v_th : volt (constant)
v_reset : volt (constant)
t_ref : second (constant)
i_pace : amp (constant)
noise : volt (constant)
tau_ahp : second (constant)
b_ahp : amp (constant)
input_amp : amp (constant)
input_weight : 1 (constant)
block : integer (constant)
"""

_GAP_MODEL = """
g_gap : siemens (constant)
spikelet : volt*second (constant)
i_gap_post = g_gap*(v_pre - v_post) : amp (summed)
"""

#: the afferent input is piecewise constant on its own grid, so it is refreshed on that grid
_INPUT_UPDATE = "i_in = input_amp*input_weight*afferent(t, block)"


class LCPopulation:
    """N spiking LC cells per condition, simulated with Brian2.

    Parameters
    ----------
    n_cells : int
        Cells per condition (a few hundred by default; ~1,500 is one rat LC).
    params : LCParams, optional
        Base parameters (default ``LCParams()``, the rat preset).
    seed : int
        Seeds both the heterogeneity/connectivity (numpy) and Brian2's noise.
    target : {"cython", "numpy", "cpp_standalone"}
        Brian2 code generation target. ``cython`` compiles once per code version (cached
        on disk); ``cpp_standalone`` compiles a C++ project into ``build_dir`` and is the
        fastest for long runs (single-threaded; measured in ``docs/spiking.md``).
    build_dir : str, optional
        Project folder for ``cpp_standalone`` (default: :func:`private_build_dir`, a
        per-user 0700 cache folder reused so unchanged files are not recompiled; a lock
        file, opened without following symlinks, serialises processes that share it).
    **overrides :
        Changes to ``params`` (e.g. ``g_gap_nS=0.5``).
    """

    def __init__(self, n_cells: int = 300, params: Optional[LCParams] = None, seed: int = 0,
                 target: str = "cython", build_dir: Optional[str] = None, **overrides):
        if int(n_cells) < 1:
            raise ValueError(f"n_cells must be >= 1, got {n_cells}")
        if target not in CODEGEN_TARGETS:
            raise ValueError(f"target must be one of {CODEGEN_TARGETS}, got {target!r}")
        self.n_cells = int(n_cells)
        self.params = (params or LCParams()).replace(**overrides)
        self.seed = int(seed)
        self.target = target
        self.build_dir = build_dir or (private_build_dir() if target == "cpp_standalone" else None)

    def run(self, stimulus: Stimulus, conditions: Optional[Sequence[Dict[str, float]]] = None,
            warmup_ms: float = 1000.0, record_v: int = 0) -> xr.Dataset:
        """Simulate the population under ``stimulus``.

        Parameters
        ----------
        stimulus : Stimulus
            Dimensionless input trace; time 0 of the output is its first sample.
        conditions : sequence of dict, optional
            Parameter changes, one dict per condition (default: one condition, no change).
            Any :class:`LCParams` field except ``dt_ms`` and ``record_dt_ms`` may vary.
        warmup_ms : float
            Unrecorded time without input before the stimulus starts, ms (lets the
            pacemakers reach their steady firing).
        record_v : int
            Number of cells per condition whose membrane potential is recorded.

        Returns
        -------
        xarray.Dataset
            ``rate`` (condition, time), Hz: population rate in ``[t, t + record_dt)``;
            ``ne`` (condition, time), nM: extracellular NE at ``t``;
            ``stimulus`` (time): the input ``s``; ``spike_time`` (spike), ms, and
            ``spike_cell`` (spike): every spike; ``cell_condition``, ``cell_pacemaker``
            (pA) and ``cell_input_weight`` over ``cell``; ``v`` (condition, vcell, time), mV,
            when ``record_v > 0``. Coordinates: ``time`` (ms), ``condition`` and, along it,
            one coordinate per varied parameter. ``attrs`` hold the parameters (JSON).
        """
        conds = [dict(c) for c in conditions] if conditions else [{}]
        cparams = [self.params.replace(**c) for c in conds]
        for key in _GLOBAL_ONLY:
            if any(getattr(p, key) != getattr(self.params, key) for p in cparams):
                raise ValueError(f"{key} cannot differ between conditions")
        base = self.params
        if warmup_ms < 0:
            raise ValueError("warmup_ms must be >= 0")
        n_rec = int(round(stimulus.duration_ms / base.record_dt_ms))
        if n_rec < 1:
            raise ValueError("stimulus is shorter than one record interval")
        t0 = time.perf_counter()
        raw = self._simulate(stimulus, cparams, warmup_ms, int(record_v))
        wall = time.perf_counter() - t0
        ds = population_dataset(raw, stimulus, conds, cparams, warmup_ms, n_rec, self.n_cells, base, self.seed,
                                self.target)
        ds.attrs["wall_time_s"] = round(wall, 3)
        log.info("LC population: %d conditions x %d cells, %.1f s biological, %s: %.2f s wall (%.2f s simulating)",
                 len(cparams), self.n_cells, stimulus.duration_ms / 1000, self.target, wall, raw["sim_s"])
        return ds

    # ------------------------------------------------------------------ simulation
    def _cell_arrays(self, cparams: List[LCParams]) -> Dict[str, np.ndarray]:
        """Per-cell values of every condition block.

        Each block draws its heterogeneity from the same random stream (standardised draws
        scaled by the block's parameters), so conditions differ only in their parameters:
        the sweeps compare the same cells.
        """
        n = self.n_cells
        cols: Dict[str, List[np.ndarray]] = {}

        def put(name, value):
            cols.setdefault(name, []).append(np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy())

        for k, p in enumerate(cparams):
            rng = np.random.default_rng([self.seed, 1])
            z_pace, u_in, u_v, u_w = rng.standard_normal(n), rng.random(n), rng.random(n), rng.random(n)
            put("block", k)
            put("c_m", p.c_m_pF)
            put("g_leak", p.g_leak_nS)
            put("e_leak", p.e_leak_mV)
            put("v_th", p.v_threshold_mV)
            put("v_reset", p.v_reset_mV)
            put("t_ref", p.refractory_ms)
            put("i_pace", p.pacemaker_pA * (1.0 + p.pacemaker_cv * z_pace))
            put("noise", p.noise_mV)
            put("tau_ahp", p.tau_ahp_ms)
            put("b_ahp", p.b_ahp_pA)
            put("input_amp", p.input_pA)
            put("input_weight", 1.0 + p.input_spread * (2.0 * u_in - 1.0))
            put("v0", p.v_reset_mV + (p.v_threshold_mV - p.v_reset_mV) * u_v)
            put("w0", p.b_ahp_pA * u_w)
        return {k: np.concatenate(v) for k, v in cols.items()}

    def _gap_pairs(self, cparams: List[LCParams]):
        """Symmetric random gap-junction partners within each condition block.

        The same random stream for every block: blocks with the same ``gap_partners`` get
        the same wiring.
        """
        pre, post, g, spk = [], [], [], []
        n = self.n_cells
        for k, p in enumerate(cparams):
            rng = np.random.default_rng([self.seed, 2])
            n_pairs = int(round(n * p.gap_partners / 2.0))
            if n < 2 or n_pairs == 0:
                continue
            a = rng.integers(0, n, 2 * n_pairs)
            b = rng.integers(0, n, 2 * n_pairs)
            keep = a != b
            lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
            pairs = np.unique(np.stack([lo, hi], axis=1), axis=0)
            pairs = pairs[rng.permutation(len(pairs))[:n_pairs]] + k * n
            pre += [pairs[:, 0], pairs[:, 1]]
            post += [pairs[:, 1], pairs[:, 0]]
            g.append(np.full(2 * len(pairs), p.g_gap_nS))
            spk.append(np.full(2 * len(pairs), p.spikelet_mV_ms))
        if not pre:
            return None
        return np.concatenate(pre), np.concatenate(post), np.concatenate(g), np.concatenate(spk)

    def _afferent(self, stimulus: Stimulus, cparams: List[LCParams], warmup_ms: float):
        """Stimulus after each condition's afferent delay and low-pass, with warm-up zeros."""
        grid = stimulus if stimulus.dt_ms <= 1.0 else stimulus.resample(1.0)
        dt = grid.dt_ms
        n_warm = int(round(warmup_ms / dt))
        cols = []
        for p in cparams:
            shift = int(round(p.afferent_delay_ms / dt))
            s = np.concatenate([np.zeros(n_warm + shift), grid.values])
            if p.afferent_tau_ms > 0:
                decay = np.exp(-dt / p.afferent_tau_ms)
                # exact first-order low-pass of a held input, sampled at bin starts
                s = lfilter([0.0, 1.0 - decay], [1.0, -decay], s)
            cols.append(s)
        width = max(len(c) for c in cols)
        values = np.zeros((width, len(cols)))
        for k, c in enumerate(cols):
            values[: len(c), k] = c
        return values, dt

    def _simulate(self, stimulus: Stimulus, cparams: List[LCParams], warmup_ms: float, record_v: int):
        standalone = self.target == "cpp_standalone"
        if not standalone:
            prev_target = b2.prefs.codegen.target
            b2.prefs.codegen.target = self.target
            try:
                return self._build_and_run(stimulus, cparams, warmup_ms, record_v, False)
            finally:
                b2.prefs.codegen.target = prev_target
        os.makedirs(self.build_dir, exist_ok=True)
        prev_device = b2.get_device()
        with _directory_lock(self.build_dir):  # one build per project folder at a time
            b2.set_device("cpp_standalone", directory=self.build_dir, build_on_run=False)
            try:
                return self._build_and_run(stimulus, cparams, warmup_ms, record_v, True)
            finally:
                b2.device.reinit()
                b2.set_device(prev_device, build_on_run=True)

    def _build_and_run(self, stimulus, cparams, warmup_ms, record_v, standalone):
        ms, mV, pA, nS, pF = b2.ms, b2.mV, b2.pA, b2.nS, b2.pF
        base = self.params
        b2.seed(self.seed)
        dt = base.dt_ms * ms
        n_blocks = len(cparams)
        n_total = self.n_cells * n_blocks
        cells = self._cell_arrays(cparams)
        aff_values, aff_dt = self._afferent(stimulus, cparams, warmup_ms)
        afferent = b2.TimedArray(aff_values, dt=aff_dt * ms, name="lc_afferent")
        # explicitly named clocks: automatic names get a suffix while an earlier run's objects
        # are alive, which changes the generated code and forces a recompilation
        clock = b2.Clock(dt, name="lc_clock")
        input_clock = b2.Clock(aff_dt * ms, name="lc_input_clock")
        record_clock = b2.Clock(base.record_dt_ms * ms, name="lc_record_clock")

        lc = b2.NeuronGroup(n_total, _EQS, threshold="v > v_th", reset="v = v_reset\nw_ahp += b_ahp",
                            refractory="t_ref", method="euler", clock=clock, name="lc")
        lc.run_regularly(_INPUT_UPDATE, clock=input_clock, when="start", name="lc_input")
        lc.block = cells["block"].astype(int)
        lc.c_m = cells["c_m"] * pF
        lc.g_leak = cells["g_leak"] * nS
        lc.e_leak = cells["e_leak"] * mV
        lc.v_th = cells["v_th"] * mV
        lc.v_reset = cells["v_reset"] * mV
        lc.t_ref = cells["t_ref"] * ms
        lc.i_pace = cells["i_pace"] * pA
        lc.noise = cells["noise"] * mV
        lc.tau_ahp = cells["tau_ahp"] * ms
        lc.b_ahp = cells["b_ahp"] * pA
        lc.input_amp = cells["input_amp"] * pA
        lc.input_weight = cells["input_weight"]
        lc.v = cells["v0"] * mV
        lc.w_ahp = cells["w0"] * pA
        objects = [lc]

        pairs = self._gap_pairs(cparams)
        if pairs is not None:
            gap = b2.Synapses(lc, lc, model=_GAP_MODEL, on_pre="v_post += g_gap*spikelet/c_m_post",
                              clock=clock, name="gap")
            gap.connect(i=pairs[0], j=pairs[1])
            gap.g_gap = pairs[2] * nS
            gap.spikelet = pairs[3] * mV * ms
            objects.append(gap)

        spikes = b2.SpikeMonitor(lc, record=True, name="spikes")
        objects.append(spikes)
        v_idx = np.array([], dtype=int)
        if record_v > 0:
            per = min(record_v, self.n_cells)
            v_idx = np.concatenate([k * self.n_cells + np.arange(per) for k in range(n_blocks)])
            v_mon = b2.StateMonitor(lc, "v", record=v_idx, clock=record_clock, name="v_mon")
            objects.append(v_mon)

        net = b2.Network(*objects)
        total = (warmup_ms + stimulus.duration_ms) * ms
        t_sim = time.perf_counter()
        net.run(total, namespace={"afferent": afferent})
        if standalone:
            b2.device.build(directory=self.build_dir, compile=True, run=True, clean=False)
            sim_s = float(b2.device._last_run_time)
        else:
            sim_s = time.perf_counter() - t_sim
        out = {
            "spike_t_ms": np.asarray(spikes.t / ms, dtype=float),
            "spike_i": np.asarray(spikes.i[:], dtype=np.int64),
            "cells": cells,
            "sim_s": sim_s,
            "n_gap_synapses": 0 if pairs is None else int(len(pairs[0])),
        }
        if record_v > 0:
            out["v_t_ms"] = np.asarray(v_mon.t / ms, dtype=float)
            out["v_mV"] = np.asarray(v_mon.v / mV, dtype=float).reshape(n_blocks, -1, len(out["v_t_ms"]))
        return out
