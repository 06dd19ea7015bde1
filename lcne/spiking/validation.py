"""Acceptance protocol for the spiking LC population: run it, score it, report it.

One simulation runs every condition of :meth:`ValidationConfig.conditions` side by side
under the same pulse protocol (a silent lead period, then ``n_trials`` brief pulses
``trial_ms`` apart):

* the default cells give the tonic rate (lead period), the phasic burst, its latency, the
  post-burst pause, the synchrony of the phasic response and the NE trace that is compared
  with the Gilzenrat rate model's ``u`` under the same input, against the best low-pass of
  that input (:mod:`lcne.spiking.filter_checks`);
* a sweep of gap-junction conductances gives synchrony against coupling;
* a sweep of pacemaker currents gives the evoked response against the baseline rate, and a
  second one at fixed weak coupling synchrony against rate;
* a sweep of pulse amplitudes (with the default cells) gives the post-burst silence against
  the burst size, per cell and trial.

:func:`evaluate` turns a run into checks (:mod:`lcne.spiking.biology_checks`), so any
population with the same Dataset layout, such as the rate-matched Poisson control of
:mod:`lcne.spiking.poisson_control`, goes through the same report. Ranges, sources and
kinds: :mod:`lcne.spiking.check_ranges`; the report: :mod:`lcne.spiking.report`. The figure
of a result is drawn by :func:`lcne.analysis.spiking_figures.plot_validation`.

Example
-------
>>> from lcne.spiking.validation import ValidationConfig, run_validation   # doctest: +SKIP
>>> result = run_validation(ValidationConfig(n_cells=100, n_trials=4))      # doctest: +SKIP
>>> print(result.summary())                                                  # doctest: +SKIP
calibration (parameters or thresholds were set to meet these):
  PASS     tonic_rate                        2.09 Hz       accepted [1, 3]  tuned: pacemaker_pA
  FAIL     phasic_burst_rate                 15.3 Hz       accepted [8, 10]  ...
>>> [c.name for c in result.checks if c.counts and not c.passed]           # doctest: +SKIP
['phasic_burst_rate', 'rate_model_u_post_burst_dip', 'ne_paired_pulse', 'rate_model_u_paired_pulse']
"""
from __future__ import annotations

import json
import logging
import time
from typing import List, Optional

import xarray as xr

from lcne.spiking.biology_checks import biology_checks
from lcne.spiking.check_ranges import FEATURES, KINDS, LATENCY_RANGES_MS, MIN_CELLS, PREDICTIONS, SOURCES, TUNED
from lcne.spiking.filter_checks import paired_pulse_checks, rate_model_checks
from lcne.spiking.population import LCPopulation
from lcne.spiking.protocols import Stimulus, pulses
from lcne.spiking.report import REPORT_VERSION, Check, ValidationResult
from lcne.spiking.validation_config import ValidationConfig

__all__ = [
    "Check",
    "FEATURES",
    "KINDS",
    "LATENCY_RANGES_MS",
    "MIN_CELLS",
    "PREDICTIONS",
    "REPORT_VERSION",
    "SOURCES",
    "TUNED",
    "ValidationConfig",
    "ValidationResult",
    "evaluate",
    "protocol_stimulus",
    "run_validation",
]

log = logging.getLogger(__name__)


def protocol_stimulus(cfg: ValidationConfig) -> Stimulus:
    """The pulse protocol of the main run: ``lead_ms`` of silence, then ``n_trials`` pulses."""
    return pulses(cfg.duration_ms(), cfg.onsets_ms(), cfg.pulse_ms, cfg.pulse_amplitude)


def run_validation(config: Optional[ValidationConfig] = None, comparison: Optional[Stimulus] = None) -> ValidationResult:
    """Run the acceptance protocol and return the checks and traces.

    Parameters
    ----------
    config : ValidationConfig, optional
    comparison : Stimulus, optional
        Input for the NE vs rate-model comparison (e.g. an uncertainty trace from
        :func:`~lcne.spiking.protocols.from_results`). By default the comparison uses the
        pulse protocol of the main run.
    """
    cfg = config or ValidationConfig()
    t_start = time.perf_counter()
    conditions, _ = cfg.conditions()
    pop = LCPopulation(cfg.n_cells, cfg.lc_params(), seed=cfg.seed, target=cfg.target)
    ds = pop.run(protocol_stimulus(cfg), conditions=conditions)
    return evaluate(cfg, ds, population=pop, comparison=comparison, t_start=t_start)


def evaluate(cfg: ValidationConfig, ds: xr.Dataset, population: Optional[LCPopulation] = None,
             comparison: Optional[Stimulus] = None, t_start: Optional[float] = None) -> ValidationResult:
    """Score a run of the protocol: every check of the report, from its Dataset.

    Parameters
    ----------
    cfg : ValidationConfig
        The protocol ``ds`` was run under (its conditions in the order of
        :meth:`ValidationConfig.conditions`).
    ds : xarray.Dataset
        Layout of :meth:`LCPopulation.run`: ``spike_time`` (ms), ``spike_cell``,
        ``cell_condition``, ``ne`` (condition, time; nM), ``rate`` (condition, time; Hz).
    population : LCPopulation, optional
        Needed for the runs beyond ``ds`` (a ``comparison`` input, the paired-pulse run);
        without it those are skipped.
    comparison : Stimulus, optional
        See :func:`run_validation`.
    t_start : float, optional
        ``time.perf_counter()`` at the start of the run, for the reported wall time.
    """
    t_start = time.perf_counter() if t_start is None else t_start
    params = cfg.lc_params()
    stim = protocol_stimulus(cfg)
    ds.attrs["validation_config"] = json.dumps(cfg.to_dict(), sort_keys=True)
    checks: List[Check] = biology_checks(cfg, ds, params)

    cmp_ds, cmp_stim = ds, stim
    if comparison is not None:
        if population is None:
            raise ValueError("a comparison input needs the population to run it")
        cmp_ds, cmp_stim = population.run(comparison), comparison
    times = cmp_ds.time.values
    ne = cmp_ds.ne.isel(condition=0).values
    filter_checks, fit, lp = rate_model_checks(cfg, ne, cmp_stim, times)
    checks += filter_checks
    if cmp_stim.onsets_ms and cfg.paired_pulse and population is not None:
        checks += paired_pulse_checks(cfg, population, fit["ms_per_unit"], lp["tau_ms"])
    rate_ds = xr.Dataset(
        {"u": ("time", fit["u"]), "lowpass": ("time", lp["y"]), "ne": ("time", ne),
         "rate": ("time", cmp_ds.rate.isel(condition=0).values), "stimulus": ("time", cmp_stim.sample(times))},
        coords={"time": times},
        attrs={"preset": cfg.gilzenrat_preset, "ms_per_unit": fit["ms_per_unit"], "r": fit["r"],
               "lowpass_tau_ms": lp["tau_ms"], "r_lowpass": lp["r"],
               "onsets_ms": json.dumps(list(cmp_stim.onsets_ms)), "stimulus_name": cmp_stim.name},
    )
    rate_ds.time.attrs["units"] = "ms"
    if comparison is not None:
        rate_ds["spike_time"] = cmp_ds.spike_time
        rate_ds["spike_cell"] = cmp_ds.spike_cell
    wall = time.perf_counter() - t_start
    log.info("spiking validation: %d/%d counted checks passed in %.1f s",
             sum(c.passed for c in checks if c.counts), sum(c.counts for c in checks), wall)
    return ValidationResult(cfg, checks, ds, rate_ds, wall)
