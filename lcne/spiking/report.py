"""The report of the spiking validation: one :class:`Check` per line, grouped by kind.

A :class:`Check` holds the measured ``value`` (with ``unit``), the ``accepted`` range
``[low, high]``, its ``source``, its ``kind`` (``calibration``: parameters were set to meet
it, named in ``tuned``; ``prediction``: nothing was tuned on it; ``unverified``: its range
has no checked source) and, where the population was too small to measure it reliably, a
``not_evaluable`` reason. :class:`ValidationResult` adds the traces, the JSON report and the
printed summary; ``all_passed`` counts calibration and prediction checks that could be
evaluated. The report is plain JSON (NaN written as null).
"""
from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Tuple

import numpy as np
import xarray as xr

from lcne.spiking.check_ranges import KINDS
from lcne.spiking.validation_config import ValidationConfig

__all__ = ["Check", "REPORT_VERSION", "ValidationResult", "json_safe"]

#: version of the JSON report layout (3: ``evaluable`` and ``not_evaluable`` per check)
REPORT_VERSION = 3


@dataclass
class Check:
    """One line of the report (see the module docstring for the fields)."""

    name: str
    value: float
    accepted: Tuple[float, float]
    unit: str
    source: str
    details: dict = field(default_factory=dict)
    kind: str = "prediction"
    tuned: str = ""
    not_evaluable: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown check kind {self.kind!r}; known: {', '.join(KINDS)}")

    @property
    def evaluable(self) -> bool:
        """False when the run was too small to measure the check (``not_evaluable`` says why)."""
        return not self.not_evaluable

    @property
    def passed(self) -> bool:
        """Value inside the accepted range (False when not evaluable; for an ``unverified``
        check this is not a pass of the model)."""
        return bool(self.evaluable and np.isfinite(self.value)
                    and self.accepted[0] <= self.value <= self.accepted[1])

    @property
    def counts(self) -> bool:
        """Whether the check counts towards ``all_passed`` (evaluable calibration and prediction checks)."""
        return self.kind != "unverified" and self.evaluable

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "value": json_safe(self.value),
            "unit": self.unit,
            "accepted": [json_safe(self.accepted[0]), json_safe(self.accepted[1])],
            "source": self.source,
            "kind": self.kind,
            "tuned": self.tuned,
            "passed": self.passed,
            "counts": self.counts,
            "evaluable": self.evaluable,
            "not_evaluable": self.not_evaluable,
            "details": json_safe(self.details),
        }


@dataclass
class ValidationResult:
    """Checks plus the traces they were measured on.

    ``spiking`` is the Dataset of the main run (every condition); ``rate_model`` holds NE,
    rate, input, the Gilzenrat ``u`` and the fitted low-pass on one time axis (ms).
    """

    config: ValidationConfig
    checks: List[Check]
    spiking: xr.Dataset
    rate_model: xr.Dataset
    wall_time_s: float = 0.0

    @property
    def all_passed(self) -> bool:
        return all(c.passed for c in self.checks if c.counts)

    def check(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def report(self) -> dict:
        import brian2

        import lcne

        return {
            "lcne_spiking_report_version": REPORT_VERSION,
            "all_passed": self.all_passed,
            "counted": "evaluable calibration and prediction checks; unverified and not evaluable ones are "
                       "reported only",
            "checks": [c.to_dict() for c in self.checks],
            "config": self.config.to_dict(),
            "lc_params": self.config.lc_params().to_dict(),
            "wall_time_s": round(self.wall_time_s, 2),
            "versions": {"lcne": lcne.__version__, "brian2": brian2.__version__,
                         "numpy": np.__version__, "python": platform.python_version()},
        }

    def write_report(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.report(), indent=2) + "\n")
        return path

    def summary(self) -> str:
        """Human-readable table of the checks, grouped by kind."""
        titles = {"calibration": "calibration (parameters or thresholds were set to meet these)",
                  "prediction": "prediction (nothing was tuned on these)",
                  "unverified": "unverified (range from an unchecked source; not counted)"}
        lines = []
        for kind in KINDS:
            group = [c for c in self.checks if c.kind == kind]
            if not group:
                continue
            lines.append(f"{titles[kind]}:")
            for c in group:
                if not c.evaluable:
                    mark = "n/a      "
                elif kind == "unverified":
                    mark = "in range " if c.passed else "out      "
                else:
                    mark = "PASS     " if c.passed else "FAIL     "
                extra = f"  tuned: {c.tuned}" if c.tuned else ""
                if not c.evaluable:
                    extra += f"  (not evaluable: {c.not_evaluable})"
                lines.append(f"  {mark}{c.name:<28s} {c.value:9.3g} {c.unit:<8s} accepted "
                             f"[{c.accepted[0]:g}, {c.accepted[1]:g}]{extra}")
        counted = [c for c in self.checks if c.counts]
        lines.append(f"{sum(c.passed for c in counted)}/{len(counted)} counted checks passed "
                     f"({sum(c.kind == 'unverified' for c in self.checks)} unverified and "
                     f"{sum(not c.evaluable for c in self.checks)} not evaluable not counted)")
        return "\n".join(lines)


def json_safe(x):
    """JSON-safe copy of numbers, arrays, tuples and dicts (NaN and inf -> None)."""
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [json_safe(v) for v in list(x)]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (float, np.floating)):
        return None if not np.isfinite(x) else float(x)
    return x
