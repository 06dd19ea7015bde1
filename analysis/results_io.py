"""The one reader of lcne results files: open, check against the schema, upgrade.

Every consumer of results (``lcne report``, ``lcne figures``, ``lcne compare-bio``,
``lcne validate-spiking --results``, sweep selection and the docs scripts) opens them
through :func:`open_results`, :func:`load_results` or :func:`open_sweep`. The contract
they check is defined once, in :mod:`lcne.analysis.schema`, and documented in
``docs/results-schema.md``. Files of an older schema version are upgraded in memory
(the file is left as it is); a file of an unknown or newer version is refused.

Errors are :class:`ResultsError`: one line naming the file and the missing or malformed
field, so the command line can print it as it is.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Iterable, List, Optional, Union

import numpy as np
import xarray as xr

from lcne.analysis.schema import (
    HISTORY,
    METHOD_DIM,
    REQUIRED_ATTRS,
    REQUIRED_VARIABLES,
    SCHEMA_VERSION,
    VERSION_ATTR,
    is_temporary,
)
from lcne.errors import LcneError

__all__ = [
    "ResultsError",
    "check_results",
    "load_results",
    "open_batch",
    "open_results",
    "open_sweep",
    "results_files",
    "run_info",
    "task1_accuracy",
    "upgrade",
]

log = logging.getLogger(__name__)

PathLike = Union[str, Path]


class ResultsError(LcneError, ValueError):
    """A results file (or Dataset) is missing, unreadable or does not follow the schema."""


def _source(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("_lcne_source") or ds.encoding.get("source") or "<dataset>")


def upgrade(ds: xr.Dataset, source: Optional[str] = None) -> xr.Dataset:
    """Bring a Dataset of an older schema version to :data:`SCHEMA_VERSION`.

    A Dataset without a version attribute is taken to be current (it was built in
    memory); a file must carry one (:func:`open_results` checks). Upgrading renames,
    it never changes a number; ``attrs["lcne_schema_upgraded_from"]`` records the
    original version.
    """
    source = source or _source(ds)
    raw = ds.attrs.get(VERSION_ATTR, SCHEMA_VERSION)
    try:
        version = int(raw)
    except (TypeError, ValueError):
        raise ResultsError(f"{source}: attribute {VERSION_ATTR!r} is not an integer: {raw!r}") from None
    if version == SCHEMA_VERSION:
        return ds
    if version not in HISTORY or version > SCHEMA_VERSION:
        raise ResultsError(
            f"{source} was written with results schema {version}; this lcne reads schemas "
            f"{min(HISTORY)}-{SCHEMA_VERSION} (a newer lcne wrote it? upgrade lcne)"
        )
    ds = ds.copy(deep=False)  # the caller's Dataset keeps its names and attributes
    if version < 2 and "optimizer" in ds.dims:
        ds = ds.rename({"optimizer": METHOD_DIM})
    ds.attrs[VERSION_ATTR] = SCHEMA_VERSION
    ds.attrs["lcne_schema_upgraded_from"] = version
    log.info("%s: results schema %d upgraded to %d in memory", source, version, SCHEMA_VERSION)
    return ds


def check_results(ds: xr.Dataset, source: Optional[str] = None) -> xr.Dataset:
    """Upgrade ``ds`` if needed and check it against the schema.

    Raises
    ------
    ResultsError
        Naming ``source`` and the field, if ``ds`` lacks what the schema requires.
    """
    source = source or _source(ds)
    ds = upgrade(ds, source)
    for name, dims in REQUIRED_VARIABLES.items():
        if name not in ds.data_vars:
            raise ResultsError(f"{source}: missing data variable {name!r} (see docs/results-schema.md)")
        for dim in dims:
            if dim not in ds[name].dims:
                raise ResultsError(f"{source}: variable {name!r} lacks dimension {dim!r}")
    for key in REQUIRED_ATTRS:
        if key not in ds.attrs:
            raise ResultsError(f"{source}: missing attribute {key!r}")
        try:
            value = int(ds.attrs[key])
        except (TypeError, ValueError):
            raise ResultsError(f"{source}: attribute {key!r} is not an integer: {ds.attrs[key]!r}") from None
        if value < 1:
            raise ResultsError(f"{source}: attribute {key!r} must be >= 1, got {value}")
    acc = ds["accuracy"].values
    finite = acc[np.isfinite(acc)]
    if finite.size and (finite.min() < 0 or finite.max() > 1):
        raise ResultsError(
            f"{source}: variable 'accuracy' has values outside [0, 1] (min {finite.min():g}, max "
            f"{finite.max():g}); results hold fractions, not percent"
        )
    n_iter = ds.sizes["iteration"]
    expected = int(ds.attrs["iterations_per_task"]) * int(ds.attrs["n_tasks"])
    if n_iter != expected:
        raise ResultsError(
            f"{source}: field 'iteration' has {n_iter} entries but iterations_per_task x n_tasks = {expected}"
        )
    return ds


def open_results(path: PathLike) -> xr.Dataset:
    """Load one results file fully into memory, check it and upgrade it.

    Parameters
    ----------
    path : str or Path
        A netCDF file written by ``lcne run`` or a sweep batch.

    Returns
    -------
    xarray.Dataset
        Following the current schema, with ``attrs["_lcne_source"]`` set to the path
        (used in messages and labels).
    """
    path = Path(path)
    if not path.is_file():
        raise ResultsError(f"results file {path} not found")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as f:
            ds = f.load()
    except Exception as exc:  # h5py/xarray raise many types for bad files
        raise ResultsError(f"{path} is not a readable netCDF results file ({type(exc).__name__})") from None
    if VERSION_ATTR not in ds.attrs:
        raise ResultsError(f"{path} has no {VERSION_ATTR} attribute: not an lcne results file")
    ds.attrs["_lcne_source"] = str(path)
    return check_results(ds, str(path))


def open_batch(path: PathLike) -> xr.Dataset:
    """:func:`open_results` of one file, without the length-1 ``config`` dimension a
    sweep batch file carries (an ``lcne run`` file is returned as it is)."""
    ds = open_results(path)
    return ds.isel(config=0) if "config" in ds.dims else ds


def results_files(folder: PathLike) -> List[Path]:
    """The results files (``*.nc``) in ``folder``, sorted; hidden files are skipped.

    Hidden files are the temporary files of a write in progress (or of one that was
    killed), never finished results.
    """
    return sorted(p for p in Path(folder).glob("*.nc") if not is_temporary(p.name))


def load_results(items: Union[PathLike, xr.Dataset, Iterable[Union[PathLike, xr.Dataset]]]) -> List[xr.Dataset]:
    """Open paths (files, or folders holding ``*.nc``) and check Datasets passed as such.

    ``items`` is one Dataset or path, or a sequence of them (the ``results`` argument of
    the analysis functions); the result is always a list.
    """
    if isinstance(items, (xr.Dataset, str)) or hasattr(items, "__fspath__"):
        items = [items]
    out: List[xr.Dataset] = []
    for item in items:
        if isinstance(item, xr.Dataset):
            out.append(check_results(item))
            continue
        p = Path(item)
        if p.is_dir():
            files = results_files(p)
            if not files:
                raise ResultsError(f"{p}: folder holds no results files (*.nc)")
            out.extend(open_results(f) for f in files)
        else:
            out.append(open_results(p))
    if not out:
        raise ResultsError("no results given")
    return out


def open_sweep(out: PathLike) -> xr.Dataset:
    """Every finished batch of a sweep (``<out>/batches/*.nc``) as one Dataset along ``config``.

    Each batch file is checked (and upgraded) like any results file; settings that
    differ between batches are the ``cfg_*`` coordinates along ``config``.
    """
    folder = Path(out, "batches")
    files = results_files(folder) if folder.is_dir() else []
    if not files:
        raise ResultsError(f"no finished batches under {folder}")
    parts = [open_results(f) for f in files]
    return xr.concat(parts, dim="config", join="outer", data_vars="all", coords="minimal", compat="override")


def run_info(ds: xr.Dataset) -> dict:
    """Run-level facts used to label and group results.

    The gain parameters come from what ran: the attribute ``controllers`` (the stored
    ``config()`` of each method's controller; the first LC-driven method is used, ``ngm``
    when present). Files without it (schema version 1) fall back to the ``config`` JSON.

    Returns
    -------
    dict
        ``benchmark``, ``iterations_per_task``, ``n_tasks``, ``eta``, ``gamma`` (both NaN
        when no paper integrator ran, e.g. ``lc`` is not ``paper``, or the file does not
        say), ``g0`` (the paper integrator's tonic baseline; 1.0, the network's native
        gain, without one), ``lc`` (name of the LC model), ``source``.
    """
    try:
        cfg = json.loads(ds.attrs.get("config", "{}") or "{}")
    except (TypeError, ValueError):
        raise ResultsError(f"{_source(ds)}: attribute 'config' is not valid JSON") from None

    def num(d, key, default=np.nan):
        v = d.get(key, default)
        if isinstance(v, list):  # one value per run: the run-level value if they agree
            vals = [float(x) for x in v if isinstance(x, (int, float)) and not isinstance(x, bool)]
            return vals[0] if vals and len(vals) == len(v) and all(x == vals[0] for x in vals) else default
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default

    lc = str(cfg.get("lc", "paper"))
    params = cfg if lc == "paper" else {}
    raw = ds.attrs.get("controllers")
    if raw:
        try:
            ran = json.loads(raw)
            if not isinstance(ran, dict):
                raise ValueError
        except (TypeError, ValueError):
            raise ResultsError(f"{_source(ds)}: attribute 'controllers' is not a JSON mapping") from None
        order = [str(m) for m in ds[METHOD_DIM].values] if METHOD_DIM in ds.coords else []
        order += [m for m in ran if m not in order]
        driven = [m for m in order if isinstance(ran.get(m), dict) and ran[m].get("gain") == "lc"]
        driven.sort(key=lambda m: m.split("+")[0] != "ngm")  # stable: ngm first, else file order
        params = {}
        if driven:
            controller = ran[driven[0]].get("controller") or {}
            lc = str(controller.get("name", lc))
            params = controller if lc == "paper" else {}
    return {
        "benchmark": str(ds.attrs.get("benchmark", cfg.get("benchmark", "unknown"))),
        "iterations_per_task": int(ds.attrs["iterations_per_task"]),
        "n_tasks": int(ds.attrs["n_tasks"]),
        "eta": num(params, "eta"),
        "gamma": num(params, "gamma"),
        "g0": num(params, "g0", 1.0),
        "lc": lc,
        "source": _source(ds),
    }


def task1_accuracy(ds: xr.Dataset, eval_task: int = 1) -> xr.DataArray:
    """Accuracy on one evaluation task, dims (method, seed, iteration); fraction in [0, 1]."""
    if eval_task not in ds["eval_task"].values:
        raise ResultsError(f"{_source(ds)}: field 'eval_task' has no task {eval_task}")
    return ds["accuracy"].sel(eval_task=eval_task).transpose(METHOD_DIM, "seed", "iteration")
