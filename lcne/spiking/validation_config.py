"""Sizes and settings of the spiking acceptance protocol (:class:`ValidationConfig`).

One simulation runs every condition side by side under one pulse protocol: a silent lead
period, then ``n_trials`` pulses ``trial_ms`` apart. :meth:`ValidationConfig.conditions`
lists the condition blocks (default cells, coupling sweep, pacemaker sweep with a probe
pulse, pacemaker sweep at weak coupling, pulse-amplitude sweep) and where each group sits.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import numpy as np

from lcne.spiking.check_ranges import LATENCY_RANGES_MS
from lcne.spiking.params import LCParams

__all__ = ["ValidationConfig"]


@dataclass(frozen=True)
class ValidationConfig:
    """Sizes and settings of the acceptance protocol (times in ms).

    Parameters
    ----------
    n_cells : int
        Cells per condition.
    n_trials : int
        Number of phasic pulses.
    trial_ms : float
        Interval between pulse onsets, ms.
    lead_ms : float
        Silent period before the first pulse (tonic-rate window), ms.
    pulse_ms : float
        Pulse width, ms. ``pulse_amplitude`` is its height in stimulus units.
    species : {"rat", "monkey"}
        Sets the afferent-delay preset and the accepted latency range.
    coupling_nS : tuple of float
        Gap-junction conductances of the synchrony sweep, nS.
    pacemaker_pA : tuple of float
        Pacemaker currents of the baseline-rate sweep, pA.
    pair_gap_ms : float
        Interval between the two pulses of a pair in the paired-pulse run (default cells
        only; singles and pairs alternate ``trial_ms`` apart), ms. ``paired_pulse=False``
        skips that extra run and its two checks.
    weak_coupling_nS : float
        Gap-junction conductance of the second pacemaker sweep (synchrony vs rate at fixed
        weak coupling, Alvarez et al. 2002), nS; chosen after a first run (so that check is
        calibration).
    burst_input_pA : tuple of float
        Input per stimulus unit of the pulse-amplitude sweep (beside the default cells'
        ``input_pA``), pA: bursts of different sizes for the pause-vs-burst-size prediction.
    probe_input_pA : float
        Input per stimulus unit in the baseline-rate sweep, pA: a half-size pulse, so that
        the response is not at its ceiling (with a pulse that makes every cell fire, the
        response cannot show how it depends on the state).
    gilzenrat_preset : str
        Rate model preset for the NE vs u comparison (noise-free).
    ms_per_unit_grid : tuple of float
        Candidate ms per rate-model time unit; the best one is refined around.
    seed : int
    target : str
        Brian2 code generation target.
    params : dict
        Changes to the population's :class:`~lcne.spiking.params.LCParams`.
    """

    n_cells: int = 300
    n_trials: int = 10
    trial_ms: float = 3000.0
    lead_ms: float = 3000.0
    pulse_ms: float = 100.0
    pulse_amplitude: float = 1.0
    species: str = "rat"
    coupling_nS: Tuple[float, ...] = (0.0, 0.5, 0.75, 1.0, 1.5)
    pacemaker_pA: Tuple[float, ...] = (41.0, 45.0, 50.0, 60.0)
    weak_coupling_nS: float = 0.75
    burst_input_pA: Tuple[float, ...] = (25.0, 60.0)
    pair_gap_ms: float = 400.0
    paired_pulse: bool = True
    probe_input_pA: float = 20.0
    gilzenrat_preset: str = "gilzenrat2002_phasic"
    ms_per_unit_grid: Tuple[float, ...] = tuple(np.round(np.geomspace(10.0, 200.0, 10), 2))
    synchrony_bin_ms: float = 20.0
    psth_bin_ms: float = 20.0
    seed: int = 0
    target: str = "cython"
    params: Dict[str, float] = field(default_factory=dict)

    def __post_init__(self):
        if self.n_cells < 1 or self.n_trials < 1:
            raise ValueError("n_cells and n_trials must be >= 1")
        if len(self.coupling_nS) < 2 or len(self.pacemaker_pA) < 2:
            raise ValueError("the coupling and pacemaker sweeps need at least 2 levels each")
        if self.species not in LATENCY_RANGES_MS:
            raise ValueError(f"unknown species {self.species!r}; known: {', '.join(LATENCY_RANGES_MS)}")
        if self.trial_ms <= self.pulse_ms:
            raise ValueError("trial_ms must be longer than pulse_ms")

    def onsets_ms(self) -> List[float]:
        return [self.lead_ms + k * self.trial_ms for k in range(self.n_trials)]

    def duration_ms(self) -> float:
        return self.lead_ms + self.n_trials * self.trial_ms

    def lc_params(self) -> LCParams:
        return LCParams.for_species(self.species, **self.params)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}

    def conditions(self) -> Tuple[List[Dict[str, float]], Dict[str, List[int]]]:
        """Parameter changes of every condition block, and the block indices of each group.

        Groups: ``default`` ([0]), ``coupling`` (``coupling_nS``), ``pacemaker``
        (``pacemaker_pA`` with ``input_pA = probe_input_pA``), ``weak`` (``pacemaker_pA``
        at ``g_gap_nS = weak_coupling_nS``) and ``burst`` (``input_pA = burst_input_pA``).
        """
        groups = [("coupling", [{"g_gap_nS": g} for g in self.coupling_nS]),
                  ("pacemaker", [{"pacemaker_pA": i, "input_pA": self.probe_input_pA} for i in self.pacemaker_pA]),
                  ("weak", [{"pacemaker_pA": i, "g_gap_nS": self.weak_coupling_nS} for i in self.pacemaker_pA]),
                  ("burst", [{"input_pA": a} for a in self.burst_input_pA])]
        conds: List[Dict[str, float]] = [{}]
        index = {"default": [0]}
        for name, group in groups:
            index[name] = list(range(len(conds), len(conds) + len(group)))
            conds += group
        return conds, index

