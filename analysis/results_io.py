"""Open ``lcne run`` results files and read their run-level facts.

The format is described in ``docs/results-schema.md``. Errors name the file and the
missing or malformed field in one line, so the CLI can print them as they are.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Iterable, List, Union

import numpy as np
import xarray as xr

__all__ = ["open_results", "load_results", "run_info", "task1_accuracy", "REQUIRED_VARS"]

log = logging.getLogger(__name__)

#: variables the analysis needs in every results file
REQUIRED_VARS = ("accuracy", "gain")
_REQUIRED_ATTRS = ("iterations_per_task", "n_tasks")

PathLike = Union[str, Path]


def _source(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("_lcne_source") or ds.encoding.get("source") or "<dataset>")


def check_results(ds: xr.Dataset, source: str = None) -> xr.Dataset:
    """Raise ``ValueError`` naming ``source`` and the field if ``ds`` lacks what analysis needs."""
    source = source or _source(ds)
    for name in REQUIRED_VARS:
        if name not in ds.data_vars:
            raise ValueError(f"{source}: missing data variable {name!r} (see docs/results-schema.md)")
    for dim in ("optimizer", "seed", "iteration"):
        if dim not in ds["gain"].dims:
            raise ValueError(f"{source}: variable 'gain' lacks dimension {dim!r}")
    if "eval_task" not in ds["accuracy"].dims:
        raise ValueError(f"{source}: variable 'accuracy' lacks dimension 'eval_task'")
    for key in _REQUIRED_ATTRS:
        if key not in ds.attrs:
            raise ValueError(f"{source}: missing attribute {key!r}")
        try:
            value = int(ds.attrs[key])
        except (TypeError, ValueError):
            raise ValueError(f"{source}: attribute {key!r} is not an integer: {ds.attrs[key]!r}") from None
        if value < 1:
            raise ValueError(f"{source}: attribute {key!r} must be >= 1, got {value}")
    n_iter = ds.sizes["iteration"]
    expected = int(ds.attrs["iterations_per_task"]) * int(ds.attrs["n_tasks"])
    if n_iter != expected:
        raise ValueError(
            f"{source}: field 'iteration' has {n_iter} entries but iterations_per_task x n_tasks = {expected}"
        )
    return ds


def open_results(path: PathLike) -> xr.Dataset:
    """Load one results file fully into memory and check it.

    Parameters
    ----------
    path : str or Path
        A netCDF file written by ``lcne run``.

    Returns
    -------
    xarray.Dataset
        With ``attrs["_lcne_source"]`` set to the path (used in messages and labels).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: results file not found")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as f:
            ds = f.load()
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable results file ({exc.__class__.__name__}: {exc})") from None
    ds.attrs["_lcne_source"] = str(path)
    return check_results(ds, str(path))


def load_results(items: Iterable[Union[PathLike, xr.Dataset]]) -> List[xr.Dataset]:
    """Open paths (files, or directories holding ``*.nc``) and pass Datasets through."""
    out: List[xr.Dataset] = []
    for item in items:
        if isinstance(item, xr.Dataset):
            out.append(check_results(item))
            continue
        p = Path(item)
        if p.is_dir():
            files = sorted(p.glob("*.nc"))
            if not files:
                raise FileNotFoundError(f"{p}: directory holds no results files (*.nc)")
            out.extend(open_results(f) for f in files)
        else:
            out.append(open_results(p))
    if not out:
        raise ValueError("no results given")
    return out


def run_info(ds: xr.Dataset) -> dict:
    """Run-level facts used to label and group results.

    Returns
    -------
    dict
        ``benchmark``, ``iterations_per_task``, ``n_tasks``, ``eta`` (NaN when the
        configuration does not say), ``gamma``, ``g0``, ``lc``, ``source``.
    """
    try:
        cfg = json.loads(ds.attrs.get("config", "{}") or "{}")
    except (TypeError, ValueError):
        raise ValueError(f"{_source(ds)}: attribute 'config' is not valid JSON") from None

    def num(key, default=np.nan):
        v = cfg.get(key, default)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default

    return {
        "benchmark": str(ds.attrs.get("benchmark", cfg.get("benchmark", "unknown"))),
        "iterations_per_task": int(ds.attrs["iterations_per_task"]),
        "n_tasks": int(ds.attrs["n_tasks"]),
        "eta": num("eta"),
        "gamma": num("gamma"),
        "g0": num("g0", 1.0),
        "lc": str(cfg.get("lc", "paper")),
        "source": _source(ds),
    }


def task1_accuracy(ds: xr.Dataset, eval_task: int = 1) -> xr.DataArray:
    """Accuracy on one evaluation task, dims (optimizer, seed, iteration); fraction in [0, 1]."""
    if eval_task not in ds["eval_task"].values:
        raise ValueError(f"{_source(ds)}: field 'eval_task' has no task {eval_task}")
    return ds["accuracy"].sel(eval_task=eval_task).transpose("optimizer", "seed", "iteration")
