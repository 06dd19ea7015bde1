"""LC versus a linear filter: NE against the Gilzenrat ``u`` and the best low-pass of the input.

A correlation of NE with the rate model's ``u`` cannot tell an LC from a filter (any
low-pass of the input correlates with NE), so :func:`rate_model_checks` scores ``u`` by how
much it beats the best first-order low-pass (:mod:`lcne.spiking.baseline`) and measures two
features no linear filter has: the post-burst undershoot of NE (:func:`rate_model_checks`)
and paired-pulse sublinearity (:func:`paired_pulse_checks`, a separate run of the default
cells). Times in ms.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

from lcne.spiking.baseline import fit_lowpass, lowpass, post_pulse_dip
from lcne.spiking.check_ranges import FEATURES, SOURCES, TUNED
from lcne.spiking.protocols import Stimulus, pulses
from lcne.spiking.rate_model import fit_rate_model, rate_model_u
from lcne.spiking.report import Check
from lcne.spiking.validation_config import ValidationConfig

__all__ = ["paired_pulse_checks", "rate_model_checks"]


def rate_model_checks(cfg: ValidationConfig, ne: np.ndarray, stimulus: Stimulus,
                      times: np.ndarray) -> Tuple[List[Check], dict, dict]:
    """NE vs ``u`` scored against the fitted low-pass, and the post-burst dips of NE, ``u`` and the filter.

    Parameters
    ----------
    ne : array, shape (n_times,), nM
        NE of the default cells.
    stimulus : Stimulus
        The input the cells received.
    times : array, shape (n_times,), ms

    Returns
    -------
    checks, fit, lowpass_fit
        The checks, and the fits of :func:`~lcne.spiking.rate_model.fit_rate_model` and
        :func:`~lcne.spiking.baseline.fit_lowpass` (traces ``u`` and ``y`` at ``times``).
    """
    score_window = (500.0, float(times[-1]) + 1.0)
    fit = fit_rate_model(ne, stimulus, times, cfg.gilzenrat_preset, cfg.ms_per_unit_grid, window_ms=score_window)
    lp = fit_lowpass(ne, stimulus, times, window_ms=score_window)
    checks = [Check("ne_vs_rate_model_u", fit["r"] - lp["r"], (0.0, 2.0), "dr", SOURCES["rate_model"],
                    {"r_rate_model": fit["r"], "r_lowpass": lp["r"], "lowpass_tau_ms": lp["tau_ms"],
                     "fitted_ms_per_unit": fit["ms_per_unit"], "preset": cfg.gilzenrat_preset,
                     "default_ms_per_unit": 50.0, "scan": fit["scan"], "lowpass_scan": lp["scan"],
                     "input": "w_vX1 * (0.5 + 0.5 s)", "stimulus": stimulus.name}, kind="prediction")]
    if stimulus.onsets_ms:
        dips = {name: post_pulse_dip(x, times, stimulus.onsets_ms)
                for name, x in (("ne", ne), ("u", fit["u"]), ("lowpass", lp["y"]))}
        checks.append(Check("ne_post_burst_dip", dips["ne"]["dip"], (0.05, 1.0), "frac", SOURCES["dip"],
                            {"lowpass_dip": dips["lowpass"]["dip"], "rate_model_u_dip": dips["u"]["dip"],
                             "ne": dips["ne"], "note": "the LC beats the filter here; see rate_model_u_dip"},
                            kind="calibration", tuned=TUNED["ne_post_burst_dip"]))
        checks.append(Check("rate_model_u_post_burst_dip", dips["u"]["dip"], (0.05, 1.0), "frac",
                            "does the rate model reproduce the LC's post-burst NE undershoot that no low-pass "
                            "can? " + SOURCES["dip"], {"u": dips["u"], "ne_dip": dips["ne"]["dip"]},
                            kind="calibration", tuned=TUNED["rate_model_u_post_burst_dip"]))
    return checks, fit, lp


def paired_pulse_checks(cfg: ValidationConfig, population, ms_per_unit: float, tau_ms: float,
                        ) -> List[Check]:
    """Paired-pulse sublinearity of NE, of the rate model's ``u`` and of the fitted low-pass.

    Runs ``population`` (an :class:`~lcne.spiking.population.LCPopulation`, default cells
    only) under singles and pairs ``pair_gap_ms`` apart, alternating ``trial_ms`` apart; the
    ratio is the response area to a pair over twice the area to a single (1 for any linear
    filter). Returns no check when ``trial_ms`` is too short for the pair and its response.
    """
    n_pairs = max(1, cfg.n_trials // 4)
    lead = min(cfg.lead_ms, 1000.0)
    singles = [lead + 2 * k * cfg.trial_ms for k in range(n_pairs)]
    pairs = [t + cfg.trial_ms for t in singles]
    window = min(cfg.pair_gap_ms + 1500.0, cfg.trial_ms - 100.0)
    if window <= cfg.pair_gap_ms + cfg.pulse_ms:
        return []
    onsets = sorted(singles + pairs + [t + cfg.pair_gap_ms for t in pairs])
    stim = pulses(lead + 2 * n_pairs * cfg.trial_ms, onsets, cfg.pulse_ms, cfg.pulse_amplitude)
    ds = population.run(stim)
    times = ds.time.values
    traces = {"ne": ds.ne.isel(condition=0).values,
              "u": rate_model_u(stim, cfg.gilzenrat_preset, ms_per_unit, times, settle_ms=2000.0),
              "lowpass": lowpass(stim, tau_ms, times)}
    ratio = {name: _pair_ratio(x, times, singles, pairs, window) for name, x in traces.items()}
    lo, hi, unit, src = FEATURES["paired_pulse"]
    details = {"pair_gap_ms": cfg.pair_gap_ms, "window_ms": window, "n_pairs": n_pairs,
               "ratio_ne": ratio["ne"], "ratio_rate_model_u": ratio["u"], "ratio_lowpass": ratio["lowpass"]}
    return [Check("ne_paired_pulse", ratio["ne"], (lo, hi), unit, src, details, kind="prediction"),
            Check("rate_model_u_paired_pulse", ratio["u"], (lo, hi), unit,
                  "does the rate model share the LC's sublinearity that no linear filter has? " + src,
                  details, kind="prediction")]


def _pair_ratio(x: np.ndarray, times: np.ndarray, singles, pairs, window: float,
                pre_ms: Optional[float] = 500.0) -> float:
    """Mean response area (above the 500 ms before onset) to a pair over twice that to a single."""
    dt = float(times[1] - times[0])

    def area(t0):
        i0 = int(np.searchsorted(times, t0))
        pre = float(x[max(0, i0 - int(pre_ms / dt)):i0].mean())
        return float(np.sum(x[i0:i0 + int(window / dt)] - pre) * dt)

    one = np.mean([area(t) for t in singles])
    two = np.mean([area(t) for t in pairs])
    return two / (2.0 * one) if one > 0 else float("nan")
