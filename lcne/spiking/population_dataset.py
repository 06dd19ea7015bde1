"""The xarray layout of a spiking-population run (``lcne_spiking_schema_version`` 1).

:func:`population_dataset` turns the raw output of one Brian2 simulation (spike times and
indices of every condition block, per-cell parameters, optional membrane potentials) into
the Dataset documented in ``docs/spiking.md`` (Outputs): population rate and NE per
condition over time, every spike, per-cell values, and the parameters as JSON.
"""
from __future__ import annotations

import datetime as _dt
import json
from typing import Dict, Sequence

import brian2 as b2
import numpy as np
import xarray as xr

from lcne.spiking.ne_pool import ne_trace
from lcne.spiking.params import LCParams
from lcne.spiking.protocols import Stimulus

__all__ = ["SPIKING_SCHEMA_VERSION", "population_dataset"]

#: version of the Dataset layout written by :meth:`lcne.spiking.population.LCPopulation.run`
SPIKING_SCHEMA_VERSION = 1


def population_dataset(raw: dict, stimulus: Stimulus, conds: Sequence[Dict[str, float]], cparams: Sequence[LCParams],
                       warmup_ms: float, n_rec: int, n_cells: int, base: LCParams, seed: int,
                       target: str) -> xr.Dataset:
    """The Dataset of :meth:`lcne.spiking.population.LCPopulation.run` from the raw simulation output.

    Parameters
    ----------
    raw : dict
        ``spike_t_ms`` (ms, including the warm-up), ``spike_i`` (global cell index),
        ``cells`` (per-cell arrays: ``block``, ``i_pace`` in pA, ``input_weight``),
        ``sim_s``, ``n_gap_synapses`` and, when membrane potentials were recorded,
        ``v_t_ms`` and ``v_mV`` (blocks, cells, samples).
    stimulus : Stimulus
        The input; time 0 of the output is its first sample.
    conds, cparams :
        Parameter changes of every condition and the resulting parameters.
    warmup_ms : float
        Unrecorded time before the stimulus, ms (its spikes still feed the NE pool).
    n_rec : int
        Number of record samples of ``base.record_dt_ms``.
    n_cells : int
        Cells per condition.
    base : LCParams
        The population's base parameters (stored in ``attrs``).
    seed, target :
        Stored in ``attrs``.
    """
    rdt = base.record_dt_ms
    n_blocks = len(cparams)
    times = np.arange(n_rec) * rdt
    keep = raw["spike_t_ms"] >= warmup_ms - 1e-9
    st = raw["spike_t_ms"][keep] - warmup_ms
    si = raw["spike_i"][keep]
    inside = st < n_rec * rdt
    st, si = st[inside], si[inside]
    order = np.lexsort((si, st))
    st, si = st[order], si[order]
    block_of = raw["cells"]["block"].astype(int)
    rate = np.zeros((n_blocks, n_rec))
    bins = np.clip(np.floor(st / rdt + 1e-9).astype(int), 0, n_rec - 1)
    np.add.at(rate, (block_of[si], bins), 1.0)
    rate /= n_cells * rdt / 1000.0
    ne = np.empty((n_blocks, n_rec))
    all_t, all_i = raw["spike_t_ms"], raw["spike_i"]
    for k, p in enumerate(cparams):
        mine = block_of[all_i] == k
        q = p.ne_per_spike_nM * p.nucleus_cells / n_cells
        # include warm-up spikes so the pool starts at its tonic level
        ne[k] = ne_trace(all_t[mine] - warmup_ms, q, p.tau_ne_ms, n_rec, rdt)
    data = {
        "rate": (("condition", "time"), rate),
        "ne": (("condition", "time"), ne),
        "stimulus": (("time",), stimulus.sample(times)),
        "spike_time": (("spike",), st),
        "spike_cell": (("spike",), si.astype(np.int32)),
        "cell_condition": (("cell",), block_of.astype(np.int32)),
        "cell_pacemaker": (("cell",), raw["cells"]["i_pace"]),
        "cell_input_weight": (("cell",), raw["cells"]["input_weight"]),
    }
    if "v_mV" in raw:
        v_idx = np.round((raw["v_t_ms"] - warmup_ms) / rdt).astype(int)
        vsel = (v_idx >= 0) & (v_idx < n_rec)
        v = np.full(raw["v_mV"].shape[:2] + (n_rec,), np.nan)
        v[:, :, v_idx[vsel]] = raw["v_mV"][:, :, vsel]
        data["v"] = (("condition", "vcell", "time"), v)
    coords = {"time": times, "condition": np.arange(n_blocks), "cell": np.arange(n_blocks * n_cells)}
    varied = sorted({k for c in conds for k in c})
    for key in varied:
        coords[key] = ("condition", np.array([getattr(p, key) for p in cparams]))
    ds = xr.Dataset(data, coords=coords)
    ds.time.attrs.update(units="ms", long_name="time from stimulus start")
    ds.rate.attrs.update(units="Hz", long_name="population firing rate per cell")
    ds.ne.attrs.update(units="nM", long_name="extracellular norepinephrine")
    ds.stimulus.attrs.update(units="1", long_name=f"input s ({stimulus.name})")
    ds.spike_time.attrs.update(units="ms")
    ds.cell_pacemaker.attrs.update(units="pA")
    if "v" in ds:
        ds.v.attrs.update(units="mV", long_name="membrane potential of the first cells of each condition")
    ds.attrs.update(
        lcne_spiking_schema_version=SPIKING_SCHEMA_VERSION,
        model="LIF pacemaker + slow AHP + gap junctions; NE pool with clearance (lcne.spiking)",
        params=json.dumps(base.to_dict(), sort_keys=True),
        conditions=json.dumps(conds, sort_keys=True),
        n_cells=n_cells,
        seed=seed,
        codegen_target=target,
        warmup_ms=float(warmup_ms),
        stimulus_onsets_ms=json.dumps(list(stimulus.onsets_ms)),
        n_gap_synapses=raw["n_gap_synapses"],
        simulation_time_s=round(raw["sim_s"], 3),
        brian2_version=b2.__version__,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )
    return ds
