"""Biological reference curves and the comparison of model traces with them.

* :mod:`~lcne.analysis.biology.reference` -- the shipped reference set (CSV + YAML sidecar per
  curve or feature set) and loading of user files in the same format.
* :mod:`~lcne.analysis.biology.observation` -- observation models (pupil kernel, NE sensor).
* :mod:`~lcne.analysis.biology.compare` -- feature-by-feature comparison with an explicit
  iteration-to-millisecond mapping.
* :mod:`~lcne.analysis.biology.nwb` -- NWB time series as curves (optional extra ``nwb``).
"""
from lcne.analysis.biology.compare import (
    BioComparison,
    ModelResponse,
    TimeMapping,
    compare_to_biology,
    curve_features,
    fit_time_mapping,
    model_response,
)
from lcne.analysis.biology.nwb import load_nwb_curve, write_nwb_curve
from lcne.analysis.biology.observation import (
    HOEKS_LEVELT_N,
    HOEKS_LEVELT_TMAX_MS,
    hoeks_levelt_kernel,
    ne_sensor,
    pupil_response,
    pupil_step_response,
)
from lcne.analysis.biology.reference import (
    Reference,
    agreement_band,
    list_references,
    load_reference,
    load_reference_file,
    load_reference_set,
)

__all__ = [
    "BioComparison",
    "ModelResponse",
    "TimeMapping",
    "compare_to_biology",
    "curve_features",
    "fit_time_mapping",
    "model_response",
    "load_nwb_curve",
    "write_nwb_curve",
    "HOEKS_LEVELT_N",
    "HOEKS_LEVELT_TMAX_MS",
    "hoeks_levelt_kernel",
    "ne_sensor",
    "pupil_response",
    "pupil_step_response",
    "Reference",
    "agreement_band",
    "list_references",
    "load_reference",
    "load_reference_file",
    "load_reference_set",
]
