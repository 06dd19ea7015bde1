"""Biological reference curves and feature sets: one CSV plus one YAML sidecar each.

The shipped set lives in ``analysis/reference_data/`` (package data). Users bring their
own files in the same format (:func:`load_reference_file`), or NWB time series
(:mod:`lcne.analysis.biology.nwb`).

File format
-----------
``<name>.csv`` holds the numbers; ``<name>.yaml`` says what they are.

*Feature sets* (``kind: features``): CSV columns ``feature, value, low, high,
confidence``; the sidecar's ``units`` maps every feature to its unit.

*Curves* (``kind: curve``): CSV columns ``x, y`` and optionally ``y_err``; the sidecar
has ``x: {name, units}``, ``y: {name, units}`` and ``signal`` (what was measured:
``lc_rate``, ``ne``, ``pupil``, ``gain`` or ``performance``).

Every sidecar has ``name`` (the file stem), ``kind``, ``title``, ``citation``, ``doi``
(may be null for schematic or derived entries), ``species``, ``figure``, ``confidence``
(``V`` checked against the source, ``P`` not checked, ``D`` derived/computed,
``schematic``), ``checked`` (what was checked, or why not) and ``tolerance`` (the band
used to call a model value in agreement; see :func:`agreement_band`).

Values are converted to canonical units on loading (time in ms, rates in Hz).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np
import pandas as pd

from lcne.analysis.biology.units import CANONICAL, UNITS, dimension_of, to_canonical_factor

__all__ = [
    "Reference",
    "REFERENCE_DIR",
    "FEATURE_DIMENSIONS",
    "list_references",
    "load_reference",
    "load_reference_file",
    "load_reference_set",
    "agreement_band",
    "check_tolerance",
    "SIGNALS",
]

log = logging.getLogger(__name__)

PathLike = Union[str, Path]

_COMMON_FIELDS = ("name", "kind", "title", "citation", "doi", "species", "figure", "confidence", "checked",
                  "tolerance")
_CONFIDENCE = ("V", "P", "D", "schematic")
#: what a reference curve measures (field ``signal`` of a curve's YAML)
SIGNALS = ("lc_rate", "ne", "pupil", "gain", "performance")
_FEATURE_COLUMNS = ("feature", "value", "low", "high", "confidence")

#: dimension required for a feature name (a name matches ``key`` or ``key_<suffix>``)
FEATURE_DIMENSIONS = {
    "latency": "time",
    "t_peak": "time",
    "fwhm": "time",
    "decay_tau": "time",
    "pause": "time",
    "tonic_rate": "rate",
    "phasic_rate": "rate",
    "peak_ratio": "dimensionless",
    "tonic_phasic_ratio": "dimensionless",
}


def _required_dimension(feature: str) -> Optional[str]:
    for key, dim in FEATURE_DIMENSIONS.items():
        if feature == key or feature.startswith(key + "_"):
            return dim
    return None


def _package_dir() -> Path:
    return Path(str(resources.files("lcne.analysis") / "reference_data"))


REFERENCE_DIR = _package_dir()


@dataclass
class Reference:
    """One reference curve or feature set, in canonical units.

    Attributes
    ----------
    name : str
    kind : {"curve", "features"}
    meta : dict
        The sidecar, as loaded.
    data : pandas.DataFrame
        Curves: ``x``, ``y`` (and ``y_err``) in canonical units. Features: ``feature``,
        ``value``, ``low``, ``high``, ``confidence``, ``units`` (canonical).
    path : Path
        The CSV file.
    """

    name: str
    kind: str
    meta: dict
    data: pd.DataFrame
    path: Path
    units: Dict[str, str] = field(default_factory=dict)

    @property
    def x(self) -> np.ndarray:
        return self.data["x"].to_numpy(float)

    @property
    def y(self) -> np.ndarray:
        return self.data["y"].to_numpy(float)

    @property
    def signal(self) -> Optional[str]:
        return self.meta.get("signal")

    def feature(self, name: str) -> dict:
        """Row of one feature as a dict (``value``, ``low``, ``high``, ``units``, ...)."""
        if self.kind != "features":
            raise ValueError(f"{self.path}: is a curve, not a feature set")
        hit = self.data[self.data["feature"] == name]
        if hit.empty:
            raise KeyError(f"{self.path}: no feature {name!r}; have {', '.join(self.data['feature'])}")
        return hit.iloc[0].to_dict()

    def citation_line(self) -> str:
        doi = self.meta.get("doi")
        return f"{self.meta['citation']}" + (f" doi:{doi}" if doi else "")


def agreement_band(low: float, high: float, tolerance: dict) -> tuple:
    """Interval of model values counted as agreeing with a reference range ``[low, high]``.

    ``tolerance`` is one of ``{"factor": f}`` (``[low / f, high * f]``, for quantities
    that span orders of magnitude), ``{"rel": r}`` (``[low (1 - r), high (1 + r)]``) or
    ``{"abs": a}`` (``[low - a, high + a]``, in the feature's canonical unit).
    """
    if "factor" in tolerance:
        f = float(tolerance["factor"])
        return (low / f, high * f)
    if "rel" in tolerance:
        r = float(tolerance["rel"])
        return (low * (1 - r), high * (1 + r))
    if "abs" in tolerance:
        a = float(tolerance["abs"])
        return (low - a, high + a)
    return (low, high)


# ------------------------------------------------------------------------------ loading

def _read_yaml(path: Path) -> dict:
    import yaml

    try:
        meta = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (line {line + 1})" if line is not None else ""
        raise ValueError(f"{path}: not valid YAML{where}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: expected a mapping of fields at the top level")
    return meta


def _unit(path: Path, fld: str, unit) -> str:
    unit = str(unit).strip() if unit is not None else ""
    if unit not in UNITS:
        raise ValueError(f"{path}: field {fld!r}: unknown unit {unit!r} (known: {', '.join(UNITS)})")
    return unit


def check_tolerance(path, tol) -> dict:
    """Check the ``tolerance`` of a reference (see :func:`agreement_band`); returns it.

    Parameters
    ----------
    path : str or Path
        The file it came from, named in the error message.
    tol : dict
        ``{"factor": f}`` (f >= 1), ``{"rel": r}`` and/or ``{"abs": a}`` (r, a >= 0).

    Raises
    ------
    ValueError
        One line naming the file, the field and what is wrong.

    >>> check_tolerance("ref.yaml", {"factor": 1.5})
    {'factor': 1.5}
    >>> check_tolerance("ref.yaml", {"factor": 0.5})
    Traceback (most recent call last):
    ...
    ValueError: ref.yaml: field 'tolerance.factor': 0.5 out of range
    """
    if not isinstance(tol, dict) or not tol:
        raise ValueError(f"{path}: field 'tolerance' must be a mapping with 'factor', 'rel' or 'abs'")
    for key, value in tol.items():
        if key not in ("factor", "rel", "abs"):
            raise ValueError(f"{path}: field 'tolerance.{key}': unknown key (allowed: factor, rel, abs)")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{path}: field 'tolerance.{key}': {value!r} is not a number") from None
        if not math.isfinite(v) or v < 0 or (key == "factor" and v < 1):
            raise ValueError(f"{path}: field 'tolerance.{key}': {value!r} out of range")
    return tol


def load_reference_file(csv_path: PathLike, yaml_path: Optional[PathLike] = None) -> Reference:
    """Load and validate one CSV + YAML pair.

    Parameters
    ----------
    csv_path : path
        The numbers.
    yaml_path : path, optional
        The sidecar (default: the CSV path with suffix ``.yaml``).

    Returns
    -------
    Reference

    Raises
    ------
    FileNotFoundError
        The CSV or its sidecar is missing (message names the file).
    ValueError
        A field or column is missing or malformed (one line naming file and field).
    """
    csv_path = Path(csv_path)
    yaml_path = Path(yaml_path) if yaml_path is not None else csv_path.with_suffix(".yaml")
    if not csv_path.is_file():
        raise FileNotFoundError(f"{csv_path}: curve file not found")
    if not yaml_path.is_file():
        raise FileNotFoundError(
            f"{csv_path}: no sidecar {yaml_path.name} (each curve needs a YAML sidecar with citation, units, tolerance)"
        )
    meta = _read_yaml(yaml_path)
    for key in _COMMON_FIELDS:
        if key not in meta:
            raise ValueError(f"{yaml_path}: missing field {key!r}")
    kind = meta["kind"]
    if kind not in ("curve", "features"):
        raise ValueError(f"{yaml_path}: field 'kind': {kind!r}; allowed: curve, features")
    if meta["confidence"] not in _CONFIDENCE:
        raise ValueError(f"{yaml_path}: field 'confidence': {meta['confidence']!r}; allowed: {', '.join(_CONFIDENCE)}")
    if not (meta.get("doi") or meta.get("pmid") or meta.get("url")) and meta["confidence"] in ("V", "P"):
        raise ValueError(f"{yaml_path}: field 'doi': empty; give a 'doi', 'pmid' or 'url' for a published value")
    check_tolerance(yaml_path, meta["tolerance"])
    try:
        df = pd.read_csv(csv_path, comment="#", skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{csv_path}: not a readable CSV ({exc.__class__.__name__})") from None
    df.columns = [str(c).strip() for c in df.columns]
    name = str(meta["name"])
    if kind == "features":
        ref = _load_features(csv_path, yaml_path, meta, df)
    else:
        ref = _load_curve(csv_path, yaml_path, meta, df)
    ref.name = name
    return ref


def _numeric(csv_path: Path, df: pd.DataFrame, col: str, allow_nan: bool = False) -> np.ndarray:
    try:
        v = pd.to_numeric(df[col], errors="raise").to_numpy(float)
    except (ValueError, TypeError):
        raise ValueError(f"{csv_path}: column {col!r} holds non-numeric values") from None
    if not allow_nan and not np.all(np.isfinite(v)):
        bad = int(np.flatnonzero(~np.isfinite(v))[0]) + 2  # header is line 1
        raise ValueError(f"{csv_path}: column {col!r} has an empty or non-finite value (row {bad})")
    return v


def _load_features(csv_path, yaml_path, meta, df) -> Reference:
    for col in _FEATURE_COLUMNS:
        if col not in df.columns:
            raise ValueError(f"{csv_path}: missing column {col!r} (need {', '.join(_FEATURE_COLUMNS)})")
    units = meta.get("units")
    if not isinstance(units, dict):
        raise ValueError(f"{yaml_path}: missing field 'units' (a mapping feature -> unit)")
    value = _numeric(csv_path, df, "value")
    low = _numeric(csv_path, df, "low", allow_nan=True)
    high = _numeric(csv_path, df, "high", allow_nan=True)
    low = np.where(np.isfinite(low), low, value)
    high = np.where(np.isfinite(high), high, value)
    rows, canon = [], {}
    for i, feat in enumerate(df["feature"].astype(str).str.strip()):
        if feat not in units:
            raise ValueError(f"{yaml_path}: field 'units.{feat}': missing (feature in {csv_path.name})")
        unit = _unit(yaml_path, f"units.{feat}", units[feat])
        dim = dimension_of(unit)
        need = _required_dimension(feat)
        if need is not None and dim != need:
            raise ValueError(f"{yaml_path}: field 'units.{feat}': unit {unit!r} is a {dim}, {feat} needs a {need}")
        if not low[i] <= value[i] <= high[i]:
            raise ValueError(f"{csv_path}: feature {feat!r}: value {value[i]} outside [low, high] = [{low[i]}, {high[i]}]")
        conf = str(df["confidence"].iloc[i]).strip()
        if conf not in _CONFIDENCE:
            raise ValueError(f"{csv_path}: column 'confidence' of {feat!r}: {conf!r}; allowed: {', '.join(_CONFIDENCE)}")
        f = to_canonical_factor(unit)
        canon[feat] = CANONICAL[dim]
        rows.append(dict(feature=feat, value=value[i] * f, low=low[i] * f, high=high[i] * f, confidence=conf,
                         units=CANONICAL[dim]))
    if not rows:
        raise ValueError(f"{csv_path}: no feature rows")
    return Reference(str(meta["name"]), "features", meta, pd.DataFrame(rows), csv_path, canon)


def _load_curve(csv_path, yaml_path, meta, df) -> Reference:
    for col in ("x", "y"):
        if col not in df.columns:
            raise ValueError(f"{csv_path}: missing column {col!r} (need x, y and optionally y_err)")
    units = {}
    for axis in ("x", "y"):
        spec = meta.get(axis)
        if not isinstance(spec, dict) or "units" not in spec:
            raise ValueError(f"{yaml_path}: missing field '{axis}.units'")
        units[axis] = _unit(yaml_path, f"{axis}.units", spec["units"])
    signal = meta.get("signal")
    if signal not in SIGNALS:
        raise ValueError(f"{yaml_path}: field 'signal': {signal!r}; allowed: {', '.join(SIGNALS)}")
    if signal != "performance" and dimension_of(units["x"]) != "time":
        raise ValueError(f"{yaml_path}: field 'x.units': {units['x']!r} is not a time unit (a {signal} curve needs time)")
    x = _numeric(csv_path, df, "x") * to_canonical_factor(units["x"])
    fy = to_canonical_factor(units["y"])
    y = _numeric(csv_path, df, "y") * fy
    if x.size < 3:
        raise ValueError(f"{csv_path}: column 'x' needs at least 3 samples")
    if np.any(np.diff(x) <= 0):
        raise ValueError(f"{csv_path}: column 'x' must increase strictly")
    data = {"x": x, "y": y}
    if "y_err" in df.columns:
        data["y_err"] = _numeric(csv_path, df, "y_err") * fy
    canon = {a: CANONICAL[dimension_of(u)] for a, u in units.items()}
    return Reference(str(meta["name"]), "curve", meta, pd.DataFrame(data), csv_path, canon)


def list_references() -> List[str]:
    """Names of the shipped references (file stems in ``analysis/reference_data``)."""
    return sorted(p.stem for p in REFERENCE_DIR.glob("*.csv"))


def load_reference(name: str) -> Reference:
    """Load one shipped reference by name (see :func:`list_references`)."""
    path = REFERENCE_DIR / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no shipped reference {name!r}; have {', '.join(list_references())}")
    ref = load_reference_file(path)
    if ref.name != name:
        raise ValueError(f"{path.with_suffix('.yaml')}: field 'name': {ref.name!r} differs from the file name {name!r}")
    return ref


def load_reference_set() -> Dict[str, Reference]:
    """Every shipped reference, validated, keyed by name."""
    return {name: load_reference(name) for name in list_references()}
