"""Spiking validation of the LC model in Brian2 (optional; ``pip install lcne[spiking]``).

A population of leaky integrate-and-fire LC cells with pacemaking, a slow AHP, gap
junctions and NE release (:mod:`lcne.spiking.population`; its Dataset layout
:mod:`~lcne.spiking.population_dataset`, NE pool :mod:`~lcne.spiking.ne_pool`, build folder
:mod:`~lcne.spiking.standalone_dir`; parameters with sources in :mod:`~lcne.spiking.params`),
input protocols including the uncertainty drive of an ``lcne run`` results file
(:mod:`~lcne.spiking.protocols`), and the acceptance protocol that checks the population
against biology and against the Gilzenrat rate model: the runner
:mod:`~lcne.spiking.validation` (settings :mod:`~lcne.spiking.validation_config`), the
checks :mod:`~lcne.spiking.biology_checks` and :mod:`~lcne.spiking.filter_checks` (with
:mod:`~lcne.spiking.measures`, :mod:`~lcne.spiking.baseline`, :mod:`~lcne.spiking.rate_model`),
their ranges and sources :mod:`~lcne.spiking.check_ranges`, the report
:mod:`~lcne.spiking.report` and the rate-matched Poisson negative control
:mod:`~lcne.spiking.poisson_control`. Its figure: :mod:`lcne.analysis.spiking_figures`. See
``docs/spiking.md``.
"""
try:
    import brian2  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without brian2
    raise ImportError(
        "lcne.spiking needs Brian2, which is an optional dependency: pip install lcne[spiking]"
    ) from exc

from lcne.spiking.params import SPECIES_PRESETS, LCParams, parameter_table
from lcne.spiking.population import CODEGEN_TARGETS, LCPopulation, ne_trace
from lcne.spiking.protocols import Stimulus, from_results, pulses, silence, step

__all__ = [
    "CODEGEN_TARGETS",
    "SPECIES_PRESETS",
    "LCParams",
    "LCPopulation",
    "ne_trace",
    "parameter_table",
    "Stimulus",
    "from_results",
    "pulses",
    "silence",
    "step",
]
