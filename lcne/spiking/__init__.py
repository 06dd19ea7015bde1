"""Spiking validation of the LC model in Brian2 (optional; ``pip install lcne[spiking]``).

A population of leaky integrate-and-fire LC cells with pacemaking, a slow AHP, gap
junctions and NE release (:mod:`lcne.spiking.population`), input protocols including the
uncertainty drive of an ``lcne run`` results file (:mod:`lcne.spiking.protocols`), and
the acceptance protocol that checks the population against biology and against the
Gilzenrat rate model (:mod:`lcne.spiking.validation`).
"""
try:
    import brian2  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without brian2
    raise ImportError(
        "lcne.spiking needs Brian2, which is an optional dependency: pip install lcne[spiking]"
    ) from exc

from lcne.spiking.population import (
    CODEGEN_TARGETS,
    SPECIES_PRESETS,
    LCParams,
    LCPopulation,
    parameter_table,
)
from lcne.spiking.protocols import Stimulus, from_results, pulses, silence, step

__all__ = [
    "CODEGEN_TARGETS",
    "SPECIES_PRESETS",
    "LCParams",
    "LCPopulation",
    "parameter_table",
    "Stimulus",
    "from_results",
    "pulses",
    "silence",
    "step",
]
