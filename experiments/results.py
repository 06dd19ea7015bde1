"""Results as xarray Datasets: assembly, metadata and atomic netCDF writing.

This module only writes. The schema (version, dimension names, required fields) is
defined in :mod:`lcne.analysis.schema` and documented in ``docs/results-schema.md``;
results are read back through the one reader, :mod:`lcne.analysis.results_io`.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, Sequence

import numpy as np
import xarray as xr

from lcne.analysis.schema import (
    CURVE_DIMS,
    EVAL_DIMS,
    METHOD_DIM,
    RUN_DIMS,
    SCHEMA_VERSION,
    SUBSET_DIMS,
    VERSION_ATTR,
    is_temporary,
    temp_prefix,
)

__all__ = [
    "atomic_path",
    "check_output_dir",
    "commit_files",
    "commit_folder",
    "concat_methods",
    "config_hash",
    "record_to_dataset",
    "versions",
    "write_netcdf",
]


def versions() -> Dict[str, str]:
    """Versions of the packages that determine the numbers."""
    import numpy
    import torch

    import lcne

    return {
        "lcne": lcne.__version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "xarray": xr.__version__,
        "python": platform.python_version(),
    }


def git_revision() -> str:
    """The git commit of the lcne source tree, or '' when not in a repository."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def record_to_dataset(record, method: str, seeds: Sequence[int], iterations_per_task: int) -> xr.Dataset:
    """Turn a :class:`~lcne.experiments.protocol.RunRecord` of one method into a Dataset.

    The evaluation bookkeeping in ``record.state`` (fixed subsets: ``eval_index``,
    ``eval_test_size``) becomes the variable ``eval_index`` (method, seed, eval_task,
    subset_item) with the per-task subset and test-set sizes as its attributes
    ``subset_size`` and ``test_size``; every other state entry is a trace (method, seed,
    iteration).
    """
    from lcne.experiments.protocol import EVAL_STATE_KEYS

    n_runs, T, K = record.accuracy.shape
    dims3, dims2 = EVAL_DIMS, CURVE_DIMS
    data = {
        "accuracy": (dims3, record.accuracy[None].astype(np.float32)),
        "loss": (dims3, record.loss[None].astype(np.float32)),
        "gain": (dims2, record.gain[None]),
        "entropy": (dims2, record.entropy[None]),
        "drive": (dims2, record.drive[None]),
        "train_loss": (dims2, record.train_loss[None]),
        "lr_scale": (dims2, record.lr_scale[None]),
    }
    for name, arr in record.state.items():
        if name not in EVAL_STATE_KEYS:
            data[name] = (dims2, arr[None])
    index = record.state.get("eval_index")
    if index is not None:
        data["eval_index"] = (SUBSET_DIMS, np.asarray(index, np.int64)[None])
    data["diverged_at"] = (RUN_DIMS, record.diverged_at[None].astype(np.int64))
    coords = {
        METHOD_DIM: [method],
        "seed": list(seeds),
        "iteration": np.arange(T),
        "eval_task": np.arange(1, K + 1),
        "train_task": ("iteration", np.arange(T) // iterations_per_task + 1),
    }
    ds = xr.Dataset(data, coords=coords)
    ds["accuracy"].attrs.update(units="1", long_name="test accuracy (fraction)")
    ds["loss"].attrs.update(units="nat", long_name="mean test cross-entropy")
    ds["gain"].attrs.update(units="1", long_name="gain g(t) applied at iteration t")
    ds["entropy"].attrs.update(units="nat", long_name="mean softmax entropy of the training batch")
    ds["drive"].attrs.update(long_name="uncertainty drive given to the gain controller")
    ds["train_loss"].attrs.update(units="nat", long_name="mean training-batch cross-entropy")
    ds["lr_scale"].attrs.update(units="1", long_name="factor on the learning rate at iteration t")
    ds["diverged_at"].attrs.update(
        long_name="iteration at which the run diverged (non-finite loss or runaway gain); -1: never",
    )
    if index is not None:
        sizes = record.state.get("eval_test_size")
        ds["eval_index"].attrs.update(
            long_name="test-set indices of the fixed evaluation subset of each run and task; -1: padding",
            subset_size=json.dumps((np.asarray(index)[0] >= 0).sum(axis=1).tolist()),
            test_size=json.dumps(np.asarray(sizes)[0].tolist() if sizes is not None else []),
        )
    return ds


def concat_methods(parts: Sequence[xr.Dataset]) -> xr.Dataset:
    """Join the Datasets of :func:`record_to_dataset` (one per method) along the method axis."""
    return xr.concat(list(parts), dim=METHOD_DIM, data_vars="all", coords="minimal", join="outer")


def finish_attrs(ds: xr.Dataset, config_json: str, benchmark: str, iterations_per_task: int, extra=None) -> xr.Dataset:
    """Attach the metadata every results file carries.

    Evaluation options (from the configuration; absent keys: exact evaluation):
    attributes ``eval_schedule`` (canonical spec), ``eval_fraction`` (fraction of the
    iterations evaluated), ``eval_subset`` (N images per task, 0: whole test sets),
    ``eval_precision``; the variable ``evaluated`` (iteration,) saying after which
    iterations the runs were evaluated; with subsets, ``eval_subset_sizes`` and
    ``eval_test_sizes`` (JSON lists, one entry per task: N_k and n_k).
    """
    from lcne.experiments.eval_schedule import EvalSchedule

    cfg = json.loads(config_json)
    schedule = EvalSchedule.parse(cfg.get("eval_schedule") or "every")
    n_tasks = int(ds.sizes["eval_task"])
    mask = schedule.mask(iterations_per_task, n_tasks)
    if mask.size == ds.sizes["iteration"]:
        ds["evaluated"] = ("iteration", mask)
        ds["evaluated"].attrs.update(long_name="True after the iterations where the runs were evaluated "
                                     "(accuracy and loss are NaN elsewhere)")
    subset = cfg.get("eval_subset")
    ds.attrs.update(
        eval_schedule=schedule.to_spec(),
        eval_fraction=float(mask.mean()) if mask.size else 1.0,
        eval_subset=int(subset or 0),
        eval_precision=str(cfg.get("eval_precision") or "fp32"),
    )
    if "eval_index" in ds:
        ds.attrs.update(eval_subset_sizes=ds["eval_index"].attrs.get("subset_size", "[]"),
                        eval_test_sizes=ds["eval_index"].attrs.get("test_size", "[]"))
    ds.attrs.update(
        benchmark=benchmark,
        iterations_per_task=int(iterations_per_task),
        n_tasks=int(ds.sizes["eval_task"]),
        config=config_json,
        config_hash=config_hash(config_json),
        seeds=json.dumps(json.loads(config_json).get("seeds", [])),
        versions=json.dumps(versions(), sort_keys=True),
        **{VERSION_ATTR: SCHEMA_VERSION},
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        git_revision=git_revision(),
    )
    if extra:
        ds.attrs.update(extra)
    return ds


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it to ``path`` only on success.

    The file appears complete or not at all; an error inside the block leaves any earlier
    ``path`` untouched and no temporary file behind:

    >>> from pathlib import Path
    >>> with atomic_path("table.csv") as tmp:
    ...     _ = Path(tmp).write_text("method,avg_sg\\nngm,0.02\\n")
    >>> Path("table.csv").read_text().splitlines()[1]
    'ngm,0.02'
    >>> try:
    ...     with atomic_path("table.csv") as tmp:
    ...         _ = Path(tmp).write_text("half a ta")
    ...         raise KeyboardInterrupt
    ... except KeyboardInterrupt:
    ...     pass
    >>> Path("table.csv").read_text().splitlines()[1], sorted(p.name for p in Path(".").iterdir())
    ('ngm,0.02', ['table.csv'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.stem), suffix=path.suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual permissions
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_output_dir(out, need_bytes: int = 0) -> Path:
    """Create ``out`` and check, before any work, that a file can be written there and that
    the file system has about ``need_bytes`` free; raise :class:`OutputError` (one line)."""
    import shutil

    from lcne.experiments.errors import OutputError

    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=temp_prefix("write-check"), dir=out)
        try:
            os.write(fd, b"lcne")
        finally:
            os.close(fd)
            os.unlink(probe)
        free = shutil.disk_usage(out).free
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    if need_bytes and free < need_bytes:
        raise OutputError(f"--out {out}: {free} bytes free, the results need about {int(need_bytes)}; "
                          f"free some space or choose another --out")
    return out


class _FileSet:
    """Temporary files of a set of targets (see :func:`commit_files`)."""

    def __init__(self):
        self.items = []  # (temporary path, target)
        self.current = None

    def temp(self, target) -> str:
        """A hidden temporary path beside ``target``, renamed to it when the set commits."""
        target = Path(target)
        self.current = target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target.stem), suffix=target.suffix, dir=target.parent)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        self.items.append((tmp, target))
        return tmp

    def adopt(self, tmp, target) -> None:
        """Take over a temporary file written by someone else (hidden, beside ``target``)."""
        self.items.append((str(tmp), Path(target)))


@contextlib.contextmanager
def commit_files():
    """Write several files as one unit: all new or all old.

    Yields a file set; ``files.temp(target)`` gives the temporary path to write each
    target to. Only when the block succeeds are the temporaries renamed over their targets
    (SIGINT and SIGTERM held back during the renames), so an interruption or a write error
    leaves the earlier files untouched and no temporary file behind. An ``OSError`` while
    writing (disk full, I/O error) becomes one :class:`OutputError` line naming the file.
    """
    import signal
    import threading

    from lcne.experiments.errors import OutputError

    files = _FileSet()
    try:
        try:
            yield files
        except OutputError:
            raise
        except OSError as exc:
            raise OutputError(f"{files.current}: cannot write ({exc.strerror or exc})") from None
        block = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
        sigs = {signal.SIGINT, signal.SIGTERM}
        old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs) if block else None
        try:
            for tmp, target in files.items:
                os.replace(tmp, target)
        except OSError as exc:
            raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from None
        finally:
            if block:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
    finally:
        for tmp, _ in files.items:
            if os.path.exists(tmp):
                os.unlink(tmp)


@contextlib.contextmanager
def commit_folder(out):
    """Write a command's files into a hidden staging folder inside ``out``, then move them
    into ``out`` as one unit (:func:`commit_files`): all new or all old.

    Yields the staging folder; write every file under it with the path it should have
    relative to ``out``. On an error or an interruption the staging folder is removed and
    the files already in ``out`` are untouched; an ``OSError`` becomes one
    :class:`OutputError` line naming the file.
    """
    import shutil

    from lcne.experiments.errors import OutputError

    out = Path(out)
    stage = Path(tempfile.mkdtemp(prefix=temp_prefix("staging"), dir=out))
    try:
        with commit_files() as files:
            try:
                yield stage
            except OSError as exc:
                raise OutputError(f"{exc.filename or out}: cannot write ({exc.strerror or exc})") from None
            for f in sorted(stage.rglob("*")):
                if f.is_file() and not is_temporary(f.name):
                    target = out / f.relative_to(stage)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    files.adopt(f, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def config_hash(config_json: str) -> str:
    """Stable short hash of a run configuration (JSON with sorted keys), minus output paths."""
    d = json.loads(config_json)
    d.pop("out", None)
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def write_netcdf(ds: xr.Dataset, path) -> Path:
    """Write ``ds`` to ``path`` atomically: a temporary file in the same folder, then rename.

    An interrupted write never leaves a partial file under the final name. Numeric data
    variables are stored gzip-compressed (level 4; lossless: the values read back are the
    same bits), which shrinks the NaN-filled curves of task-1-only or sparse evaluation
    several-fold.
    """
    encoding = {name: {"zlib": True, "complevel": 4} for name, var in ds.data_vars.items()
                if var.ndim >= 1 and var.dtype.kind in "fiub"}
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
    return Path(path)
