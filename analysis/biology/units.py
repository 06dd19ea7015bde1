"""The small unit vocabulary of reference and user curves.

Every unit maps to a physical dimension and a factor to that dimension's canonical unit
(time: ms, rate: Hz, concentration: nM, length: mm, dimensionless: 1). Loading a curve
converts it to canonical units, so the comparison code only ever sees milliseconds.
"""
from __future__ import annotations

__all__ = ["UNITS", "CANONICAL", "dimension_of", "to_canonical_factor"]

#: unit string -> (dimension, factor to the canonical unit)
UNITS = {
    "ms": ("time", 1.0),
    "s": ("time", 1000.0),
    "min": ("time", 60000.0),
    "Hz": ("rate", 1.0),
    "spikes/s": ("rate", 1.0),
    "nM": ("concentration", 1.0),
    "uM": ("concentration", 1000.0),
    "µM": ("concentration", 1000.0),
    "mm": ("length", 1.0),
    "1": ("dimensionless", 1.0),
    "ratio": ("dimensionless", 1.0),
    "fraction": ("dimensionless", 1.0),
    "sign": ("dimensionless", 1.0),
    "%": ("dimensionless", 0.01),
    "percent": ("dimensionless", 0.01),
    "a.u.": ("arbitrary", 1.0),
    "dF/F": ("arbitrary", 1.0),
}

#: canonical unit of each dimension
CANONICAL = {"time": "ms", "rate": "Hz", "concentration": "nM", "length": "mm",
             "dimensionless": "1", "arbitrary": "a.u."}


def dimension_of(unit: str) -> str:
    """Dimension of a unit string; ``KeyError`` when the unit is not known."""
    return UNITS[str(unit).strip()][0]


def to_canonical_factor(unit: str) -> float:
    """Factor that converts a value in ``unit`` to its dimension's canonical unit."""
    return UNITS[str(unit).strip()][1]
