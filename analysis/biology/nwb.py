"""Read a biological time series from an NWB file as a :class:`Reference` curve.

Needs the optional extra ``nwb`` (``pip install lcne[nwb]``, which installs pynwb). NWB
stores time in seconds; the curve is returned in ms relative to ``event_time_s``. NWB has
no place for our comparison tolerance or for what the signal is, so the caller states
them.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd

from lcne.analysis.biology.reference import SIGNALS, Reference, check_tolerance
from lcne.analysis.biology.units import CANONICAL, UNITS, dimension_of, to_canonical_factor

__all__ = ["load_nwb_curve", "write_nwb_curve"]

log = logging.getLogger(__name__)


def _pynwb():
    try:
        import pynwb
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("reading NWB files needs pynwb: pip install 'lcne[nwb]'") from None
    return pynwb


def _find_series(nwb, name: str):
    if name in nwb.acquisition:
        return nwb.acquisition[name]
    for module in nwb.processing.values():
        if name in module.data_interfaces:
            return module.data_interfaces[name]
    return None


def load_nwb_curve(path: Union[str, Path], series: str, *, signal: str, event_time_s: float = 0.0,
                   tolerance: Optional[dict] = None, citation: Optional[str] = None,
                   unit: Optional[str] = None) -> Reference:
    """Load one ``TimeSeries`` as a curve for :func:`~lcne.analysis.biology.compare.compare_to_biology`.

    Parameters
    ----------
    path : str or Path
        NWB file.
    series : str
        Name of the TimeSeries in ``acquisition`` or in a processing module.
    signal : {"lc_rate", "ne", "pupil", "gain"}
        What the series measures (chooses the observation model used for comparison).
    event_time_s : float
        Time of the event (stimulus, change point) in the file's clock, seconds; the
        curve's x is time since it, in ms.
    tolerance : dict, optional
        Agreement band (see :func:`~lcne.analysis.biology.reference.agreement_band`),
        default ``{"factor": 1.5}``.
    citation : str, optional
        Default: the file's ``related_publications`` or its identifier.
    unit : str, optional
        Override the series' unit string when it is not in our vocabulary.

    Raises
    ------
    FileNotFoundError, ValueError
        One line naming the file and the field at fault.
    """
    pynwb = _pynwb()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: NWB file not found")
    if signal not in SIGNALS or signal == "performance":
        raise ValueError(f"{path}: signal {signal!r}; allowed: lc_rate, ne, pupil, gain")
    tol = check_tolerance(path, tolerance or {"factor": 1.5})
    try:
        io = pynwb.NWBHDF5IO(str(path), "r")
    except Exception as exc:  # h5py raises several types for a non-HDF5 file
        raise ValueError(f"{path}: not a readable NWB file ({exc.__class__.__name__})") from None
    with io:
        nwb = io.read()
        ts = _find_series(nwb, series)
        if ts is None:
            names = list(nwb.acquisition) + [n for m in nwb.processing.values() for n in m.data_interfaces]
            raise ValueError(f"{path}: no TimeSeries {series!r} (have: {', '.join(names) or 'none'})")
        y = np.asarray(ts.data[:], dtype=float).squeeze()
        if y.ndim != 1:
            raise ValueError(f"{path}: field '{series}.data' must be 1-D, got shape {y.shape}")
        y = y * float(getattr(ts, "conversion", 1.0) or 1.0)
        if ts.timestamps is not None:
            t = np.asarray(ts.timestamps[:], dtype=float)
        elif ts.rate is not None:
            t = float(ts.starting_time or 0.0) + np.arange(y.size) / float(ts.rate)
        else:
            raise ValueError(f"{path}: field '{series}.timestamps' missing and no rate given")
        u = unit or ts.unit
        related = list(nwb.related_publications or []) if nwb.related_publications is not None else []
        meta = dict(
            name=f"{path.stem}:{series}", kind="curve", signal=signal,
            title=ts.description or series, citation=citation or (related[0] if related else nwb.identifier),
            doi=None, species=(nwb.subject.species if nwb.subject is not None else "unknown"),
            figure=f"NWB {path.name}/{series}", confidence="P",
            checked="user data (not checked by lcne)", tolerance=tol,
            x={"name": "time since event", "units": "ms"}, y={"name": series, "units": u},
        )
    if u not in UNITS:
        raise ValueError(f"{path}: field '{series}.unit': unknown unit {u!r} (known: {', '.join(UNITS)}; pass unit=)")
    if t.size != y.size:
        raise ValueError(f"{path}: field '{series}.timestamps' has {t.size} entries for {y.size} data values")
    x = (t - float(event_time_s)) * 1000.0
    if np.any(np.diff(x) <= 0):
        raise ValueError(f"{path}: field '{series}.timestamps' must increase strictly")
    dim = dimension_of(u)
    data = pd.DataFrame({"x": x, "y": y * to_canonical_factor(u)})
    return Reference(meta["name"], "curve", meta, data, path, {"x": "ms", "y": CANONICAL[dim]})


def write_nwb_curve(path: Union[str, Path], series: str, x_ms, y, *, unit: str, description: str = "",
                    identifier: str = "lcne-curve", related_publication: Optional[str] = None) -> Path:
    """Write a curve as one TimeSeries in a minimal NWB file (for examples and tests).

    ``x_ms`` becomes the timestamps (converted to seconds).
    """
    from datetime import datetime, timezone

    pynwb = _pynwb()
    path = Path(path)
    kwargs = {}
    if related_publication:
        kwargs["related_publications"] = [related_publication]
    nwb = pynwb.NWBFile(session_description=description or series, identifier=identifier,
                        session_start_time=datetime(2000, 1, 1, tzinfo=timezone.utc), **kwargs)
    ts = pynwb.TimeSeries(name=series, data=np.asarray(y, dtype=float), unit=unit,
                          timestamps=np.asarray(x_ms, dtype=float) / 1000.0, description=description)
    nwb.add_acquisition(ts)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path
