"""Checks of the main validation run against biology: rates, bursts, latency, synchrony, pauses.

:func:`biology_checks` reads the Dataset of one run of every condition of
:meth:`lcne.spiking.validation_config.ValidationConfig.conditions` (a Brian2 population,
or the rate-matched Poisson control of :mod:`lcne.spiking.poisson_control`) and returns one
:class:`~lcne.spiking.report.Check` per measurement, with the range, source and kind from
:mod:`lcne.spiking.check_ranges`. Times in ms.
"""
from __future__ import annotations

from typing import List

import numpy as np
import xarray as xr

from lcne.spiking.check_ranges import LATENCY_RANGES_MS, MIN_CELLS, PREDICTIONS, SOURCES, TUNED
from lcne.spiking.measures import (evoked_response, pooled_spearman, post_burst_silence, spearman, synchrony_chi,
                                   tonic_rate)
from lcne.spiking.params import LCParams
from lcne.spiking.report import Check
from lcne.spiking.validation_config import ValidationConfig

__all__ = ["biology_checks", "response_window_ms"]


def response_window_ms(cfg: ValidationConfig, params: LCParams) -> float:
    """Length of the response window after each onset, ms: afferent delay + pulse + 60 ms."""
    return params.afferent_delay_ms + cfg.pulse_ms + 60.0


def biology_checks(cfg: ValidationConfig, ds: xr.Dataset, params: LCParams) -> List[Check]:
    """Every check of the main run except the NE-versus-rate-model ones (see the module docstring)."""
    _, idx = cfg.conditions()
    onsets = cfg.onsets_ms()
    n_cells = int(ds.sizes["cell"] // ds.sizes["condition"])
    response_ms = response_window_ms(cfg, params)
    tonic_windows = [(500.0, cfg.lead_ms)]
    quiet_windows = tonic_windows + [(t0 + 1500.0, t0 + cfg.trial_ms) for t0 in onsets]
    checks: List[Check] = []

    # tonic rate without input
    rate0 = tonic_rate(ds, 0, tonic_windows)
    ne_basal = float(ds.ne.isel(condition=0).sel(time=slice(500, cfg.lead_ms)).mean())
    checks.append(Check("tonic_rate", rate0, (1.0, 3.0), "Hz", SOURCES["tonic"],
                        {"window_ms": tonic_windows[0], "ne_basal_nM": ne_basal},
                        kind="calibration", tuned=TUNED["tonic_rate"]))

    # phasic response, latency, pause
    ev = evoked_response(ds, 0, onsets, response_ms, bin_ms=cfg.psth_bin_ms)
    checks.append(Check("phasic_spikes_per_cell", ev["spikes_per_cell"], (1.0, 3.0), "spikes", SOURCES["burst"],
                        dict(ev, response_window_ms=response_ms, n_trials=cfg.n_trials),
                        kind="unverified", tuned=TUNED["phasic_spikes_per_cell"]))
    checks.append(Check("phasic_burst_rate", ev["burst_rate_hz"], (8.0, 10.0), "Hz", SOURCES["burst_rate"],
                        {"frac_two_or_more": ev["frac_two_or_more"]},
                        kind="calibration", tuned=TUNED["phasic_burst_rate"]))
    checks.append(Check("post_burst_pause", ev["pause_ms"], (200.0, 500.0), "ms", SOURCES["pause"],
                        {"baseline_hz": ev["baseline_hz"], "psth_bin_ms": cfg.psth_bin_ms},
                        kind="unverified", tuned=TUNED["post_burst_pause"]))
    lo, hi, src = LATENCY_RANGES_MS[cfg.species]
    checks.append(Check(f"latency_{cfg.species}", ev["latency_ms"], (lo, hi), "ms", src,
                        {"afferent_delay_ms": params.afferent_delay_ms, "frac_responding": ev["frac_responding"]},
                        kind="calibration", tuned=TUNED["latency"]))

    # synchrony vs coupling
    chis = [synchrony_chi(ds, k, quiet_windows, cfg.synchrony_bin_ms) for k in idx["coupling"]]
    checks.append(Check("synchrony_vs_coupling", spearman(cfg.coupling_nS, chis), (0.9, 1.0), "rho",
                        SOURCES["synchrony"],
                        {"g_gap_nS": list(cfg.coupling_nS), "chi": chis,
                         "rates_hz": [tonic_rate(ds, k, quiet_windows) for k in idx["coupling"]],
                         "excess_spikes": [evoked_response(ds, k, onsets, response_ms)["excess_spikes"]
                                           for k in idx["coupling"]],
                         "bin_ms": cfg.synchrony_bin_ms,
                         "measure": "Spearman rho between g_gap and synchrony chi",
                         "note": "untuned, but a generic consequence of adding coupling: a weak test"},
                        kind="prediction"))

    # evoked response vs baseline rate
    evs = [evoked_response(ds, k, onsets, response_ms, bin_ms=cfg.psth_bin_ms) for k in idx["pacemaker"]]
    base = [e["baseline_hz"] for e in evs]
    excess = [e["excess_spikes"] for e in evs]
    checks.append(Check("evoked_vs_baseline_rate", spearman(base, excess), (-1.0, -0.9), "rho", SOURCES["tradeoff"],
                        {"pacemaker_pA": list(cfg.pacemaker_pA), "probe_input_pA": cfg.probe_input_pA,
                         "baseline_hz": base, "excess_spikes": excess, "peak_hz": [e["peak_hz"] for e in evs],
                         "chi": [synchrony_chi(ds, k, quiet_windows, cfg.synchrony_bin_ms) for k in idx["pacemaker"]],
                         "measure": "Spearman rho between baseline rate and evoked excess spikes per cell"},
                        kind="calibration", tuned=TUNED["evoked_vs_baseline_rate"]))

    # synchrony vs rate at weak coupling: range fixed first, coupling chosen after a first run
    rates_w = [tonic_rate(ds, k, quiet_windows) for k in idx["weak"]]
    chis_w = [synchrony_chi(ds, k, quiet_windows, cfg.synchrony_bin_ms) for k in idx["weak"]]
    lo, hi, unit, src = PREDICTIONS["synchrony_vs_rate"]
    need = MIN_CELLS["synchrony_vs_rate"]
    checks.append(Check("synchrony_vs_rate", spearman(rates_w, chis_w), (lo, hi), unit, src,
                        {"g_gap_nS": cfg.weak_coupling_nS, "pacemaker_pA": list(cfg.pacemaker_pA),
                         "rates_hz": rates_w, "chi": chis_w, "bin_ms": cfg.synchrony_bin_ms, "min_cells": need},
                        kind="calibration", tuned=TUNED["synchrony_vs_rate"],
                        not_evaluable="" if n_cells >= need else
                        f"{n_cells} cells per condition; chi is at its finite-size floor below {need}"))

    # phasic synchrony
    chi_resp = synchrony_chi(ds, 0, [(t0, t0 + response_ms) for t0 in onsets], cfg.synchrony_bin_ms)
    chi_quiet = synchrony_chi(ds, 0, quiet_windows, cfg.synchrony_bin_ms)
    lo, hi, unit, src = PREDICTIONS["phasic_synchrony"]
    checks.append(Check("phasic_synchrony", chi_resp / chi_quiet if chi_quiet > 0 else float("nan"),
                        (lo, hi), unit, src,
                        {"chi_response": chi_resp, "chi_quiet": chi_quiet, "response_window_ms": response_ms,
                         "bin_ms": cfg.synchrony_bin_ms}, kind="prediction"))

    # post-burst silence vs burst size, per cell and trial, within each pulse amplitude
    ends = [t0 + cfg.trial_ms for t0 in onsets]
    levels = [0] + idx["burst"]
    groups = [post_burst_silence(ds, k, onsets, response_ms, ends) for k in levels]
    pooled = pooled_spearman(groups)
    lo, hi, unit, src = PREDICTIONS["pause_vs_burst_size"]
    input_pA = [params.input_pA] + list(cfg.burst_input_pA)
    checks.append(Check("pause_vs_burst_size", pooled["lo"], (lo, hi), unit, src,
                        {"rho": pooled["rho"], "rho_hi95": pooled["hi"], "n_cell_trials": pooled["n"],
                         "input_pA": input_pA, "rho_per_level": [r for r, _ in pooled["per_group"]],
                         "n_per_level": [n for _, n in pooled["per_group"]],
                         "mean_spikes_per_level": [float(c.mean()) if c.size else float("nan") for c, _ in groups],
                         "median_silence_ms_per_level": [float(_median(s)) for _, s in groups],
                         "measure": "per cell-trial: evoked spikes vs silence from the last evoked spike to the next "
                                    "spike; Spearman within each amplitude level, Fisher-combined; value = lower 95% "
                                    "bound"},
                        kind="prediction"))
    return checks


def _median(x) -> float:
    return float(np.median(x)) if len(x) else float("nan")
