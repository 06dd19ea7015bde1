"""Sweeps: expand a grid spec into batched runs, execute them (Dask or in-process), resume.

A sweep spec (YAML) names benchmarks, optimizers, seeds and hyperparameter grids::

    name: split-eta
    out: results/sweeps/split-eta
    benchmarks: [split-mnist]
    optimizers: [ngm, sgd, msgd, adam]
    seeds: [42, 43, 44, 45, 46]
    base: {iterations: 200}            # any RunConfig key, fixed
    grid: {lr: [0.01, 0.003]}          # crossed for every optimizer
    per_optimizer:                     # crossed for that optimizer only
      ngm: {eta: [0.2, 0.4, 0.8]}
    equal_budget: 3                    # optional: every optimizer gets exactly 3 configurations
    selection: {metric: wc_acc, seeds: [42]}   # optional: tune on validation, then test

Each *batch* is one :class:`~lcne.experiments.config.RunConfig` (one benchmark and one
hyperparameter setting, all of its optimizers and seeds trained as one batched
computation) and is written atomically to ``<out>/batches/<benchmark>-<id>.nc``, where
``id`` hashes the batch's config. Rerunning a sweep skips batches whose file exists, so a
killed sweep resumes where it stopped. :func:`lcne.analysis.results_io.open_sweep` opens
all batch files as one Dataset along a ``config`` dimension.

Equal-budget protocol (``equal_budget`` + ``selection``): each optimizer gets exactly the
same number of hyperparameter configurations (its grid, subsampled with a fixed seed when
larger); every configuration is trained on the training split minus a stratified
validation hold-out and scored on that validation split with the same rule (``metric`` of
the task-1 curve, seed mean); the best configuration per optimizer and benchmark is then
run on the test split with all seeds. The test curves never influence the choice.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from lcne.analysis.selection import SELECTION_METRICS, select_settings
from lcne.experiments.config import RunConfig, check_field, suggest
from lcne.experiments.errors import ConfigError

__all__ = ["SweepSpec", "load_spec", "expand", "run_sweep", "run_batch"]
log = logging.getLogger(__name__)

_RUN_KEYS = {f.name for f in fields(RunConfig)}
_SPEC_KEYS = {"name", "out", "benchmarks", "optimizers", "seeds", "base", "grid", "per_optimizer",
              "equal_budget", "selection"}


@dataclass
class SweepSpec:
    """A parsed, validated sweep specification (see the module docstring)."""

    name: str
    out: str
    benchmarks: List[str]
    optimizers: List[str]
    seeds: List[int]
    base: Dict
    grid: Dict[str, list]
    per_optimizer: Dict[str, Dict[str, list]]
    equal_budget: Optional[int] = None
    selection: Optional[Dict] = None


def _check_grid(where: str, grid) -> Dict[str, list]:
    if grid is None:
        return {}
    if not isinstance(grid, dict):
        raise ConfigError(f"{where}: must be a mapping of option names to lists of values")
    out = {}
    for k, v in grid.items():
        key = str(k).replace("-", "_")
        if key not in _RUN_KEYS or key in ("optimizers", "seeds", "benchmark", "out"):
            raise ConfigError(f"{where}.{k}: not a run option{suggest(key, _RUN_KEYS)}")
        vals = v if isinstance(v, list) else [v]
        if not vals:
            raise ConfigError(f"{where}.{k}: empty list of values")
        for val in vals:
            check_field(key, val, f"{where}.{k} value")
        out[key] = vals
    return out


def apply_overrides(raw: Dict, overrides: Sequence[str], where: str) -> Dict:
    """Set ``KEY=VALUE`` items in a raw spec mapping; ``KEY`` may be dotted
    (``base.iterations=20``) and ``VALUE`` is read as YAML (``seeds=[42,43]``)."""
    import copy

    import yaml

    raw = copy.deepcopy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. base.iterations=20")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise ConfigError(f"--set {item!r}: {text!r} is not a valid YAML value") from None
        node, parts = raw, key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{where}: --set {key}: {part} is not a mapping")
            node = child
        node[parts[-1]] = value
    return raw


def load_spec(path, overrides: Sequence[str] = ()) -> SweepSpec:
    """Read and validate a sweep spec file; errors name the file and the key.

    ``overrides``: ``KEY=VALUE`` strings applied before validation (see
    :func:`apply_overrides`), e.g. a reduced run of a shipped study.
    """
    from lcne.experiments.config_file import load_yaml_mapping

    p = Path(path)
    raw = load_yaml_mapping(p, what="sweep spec")
    if not raw:
        raise ConfigError(f"{p}: a sweep spec is a mapping (name, benchmarks, optimizers, seeds, grid, ...)")
    if overrides:
        raw = apply_overrides(raw, overrides, str(p))
    return spec_from_dict(raw, where=str(p), default_out=f"results/sweeps/{p.stem}")


def spec_from_dict(raw: Dict, where: str = "spec", default_out: str = "results/sweeps/sweep") -> SweepSpec:
    from lcne.experiments.methods import METHODS
    from lcne.experiments.streams import BENCHMARKS

    for k in raw:
        if k not in _SPEC_KEYS:
            raise ConfigError(f"{where}: unknown key {k!r}{suggest(k, _SPEC_KEYS)}")
    for key in ("name", "out"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{where}: {key}: {raw[key]!r} must be a string")
    benchmarks = raw.get("benchmarks", ["split-mnist"])
    if not isinstance(benchmarks, list) or not all(isinstance(b, str) for b in benchmarks):
        raise ConfigError(f"{where}: benchmarks: {benchmarks!r} must be a list of names, e.g. [split-mnist]")
    if not benchmarks:
        raise ConfigError(f"{where}: benchmarks: empty list; give at least one of {', '.join(BENCHMARKS)}")
    for b in benchmarks:
        if b not in BENCHMARKS:
            raise ConfigError(f"{where}: benchmarks: unknown {b!r}{suggest(b, BENCHMARKS)}")
    optimizers = raw.get("optimizers", ["ngm", "sgd", "msgd", "adam"])
    check_field("optimizers", optimizers, where)
    if not optimizers:
        raise ConfigError(f"{where}: optimizers: empty list; give at least one of {', '.join(METHODS)}")
    for o in optimizers:
        if o not in METHODS:
            raise ConfigError(f"{where}: optimizers: unknown {o!r}{suggest(o, METHODS)}")
    seeds = raw.get("seeds", [42, 43, 44, 45, 46])
    if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ConfigError(f"{where}: seeds must be a list of integers")
    if not seeds:
        raise ConfigError(f"{where}: seeds: empty list")
    base = raw.get("base") or {}
    if not isinstance(base, dict):
        raise ConfigError(f"{where}: base must be a mapping")
    for k in base:
        if str(k).replace("-", "_") not in _RUN_KEYS:
            raise ConfigError(f"{where}: base.{k}: not a run option{suggest(str(k), _RUN_KEYS)}")
        check_field(str(k).replace("-", "_"), base[k], f"{where}: base")
    per = raw.get("per_optimizer") or {}
    if not isinstance(per, dict):
        raise ConfigError(f"{where}: per_optimizer must be a mapping of optimizer names to grids")
    for o in per:
        if o not in optimizers:
            raise ConfigError(f"{where}: per_optimizer.{o}: not among the sweep's optimizers {optimizers}")
    budget = raw.get("equal_budget")
    if budget is not None and (not isinstance(budget, int) or isinstance(budget, bool) or budget < 1):
        raise ConfigError(f"{where}: equal_budget must be a positive integer, got {budget!r}")
    selection = raw.get("selection")
    if selection is not None:
        if not isinstance(selection, dict):
            raise ConfigError(f"{where}: selection must be a mapping with 'metric' (and optional 'seeds')")
        metric = selection.get("metric", "wc_acc")
        if metric not in SELECTION_METRICS:
            raise ConfigError(f"{where}: selection.metric {metric!r}{suggest(metric, SELECTION_METRICS)}; "
                              f"allowed: {', '.join(SELECTION_METRICS)}")
        sel_seeds = selection.get("seeds", seeds[:1])
        check_field("seeds", sel_seeds, f"{where}: selection")
        selection = {"metric": metric, "seeds": list(sel_seeds)}
    return SweepSpec(
        name=str(raw.get("name", Path(default_out).name)),
        out=str(raw.get("out", default_out)),
        benchmarks=benchmarks,
        optimizers=optimizers,
        seeds=list(seeds),
        base={str(k).replace("-", "_"): v for k, v in base.items()},
        grid=_check_grid(f"{where}: grid", raw.get("grid")),
        per_optimizer={o: _check_grid(f"{where}: per_optimizer.{o}", g) for o, g in per.items()},
        equal_budget=budget,
        selection=selection,
    )


def _combos(grid: Dict[str, list]) -> List[Dict]:
    keys = sorted(grid)
    return [dict(zip(keys, vals)) for vals in itertools.product(*(grid[k] for k in keys))]


def optimizer_configs(spec: SweepSpec, optimizer: str) -> List[Dict]:
    """The hyperparameter settings one optimizer is run with (equal budget applied)."""
    combos = _combos({**spec.grid, **spec.per_optimizer.get(optimizer, {})})
    if spec.equal_budget is not None:
        k = spec.equal_budget
        if len(combos) < k:
            raise ConfigError(
                f"equal_budget {k}: optimizer {optimizer!r} has only {len(combos)} configuration(s) in its grid"
            )
        rng = np.random.default_rng(0)
        pick = sorted(rng.choice(len(combos), size=k, replace=False)) if len(combos) > k else range(k)
        combos = [combos[i] for i in pick]
    return combos


def _data_files(data_dir: Optional[str], benchmark: Optional[str] = None) -> List[Path]:
    """The data files a batch reads: every regular, non-hidden file under ``data_dir``
    (sorted); without ``data_dir``, the benchmark's default data: the four Fashion-MNIST
    IDX files in ``/usr/share/datasets/fashion-mnist`` for a Fashion-MNIST benchmark (none
    when they are absent: the run itself then says how to get them), else the embedded
    MNIST subset."""
    if data_dir is None:
        from lcne.experiments.streams import BENCHMARKS

        spec = BENCHMARKS.get(benchmark) if benchmark is not None else None
        if spec is not None and spec.dataset == "fashion-mnist":
            from lcne.experiments.datasets.fashion import fashion_mnist_files
            from lcne.experiments.errors import DataError

            try:
                return sorted(Path(f) for f in fashion_mnist_files(None).values())
            except DataError:
                return []
        from lcne.experiments import datasets

        return sorted(Path(datasets.__file__).parent.glob("*.npz"))
    root = Path(data_dir).expanduser()
    return sorted(p for p in root.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(root).parts))


_DATA_HASHES: Dict[tuple, str] = {}


def data_hash(data_dir: Optional[str], benchmark: Optional[str] = None) -> str:
    """sha256 (16 hex digits) of the names and bytes of the data files that ``benchmark``
    reads from ``data_dir`` (see :func:`_data_files`; without a benchmark, ``data_dir=None``
    means the embedded MNIST subset).

    Computed from the bytes, never from sizes or times alone; within one process a
    result is reused while every file keeps its size, mtime and inode (one hash per sweep).
    """
    files = _data_files(data_dir, benchmark)
    stats = []
    for f in files:
        st = f.stat()
        stats.append((str(f), st.st_size, st.st_mtime_ns, st.st_ino))
    key = (str(data_dir), tuple(stats))
    if key not in _DATA_HASHES:
        h = hashlib.sha256()
        root = None if data_dir is None else Path(data_dir).expanduser()
        for f in files:
            h.update((f.name if root is None else str(f.relative_to(root))).encode() + b"\0")
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            h.update(b"\0")
        _DATA_HASHES[key] = h.hexdigest()[:16]
    return _DATA_HASHES[key]


def batch_id(cfg: RunConfig) -> str:
    """Short stable hash of a batch's configuration and of its data's content (its file
    name): replacing the data files makes every batch new, so resume never reuses a
    batch trained on other data."""
    d = asdict(cfg)
    d.pop("out", None)
    d["data_hash"] = data_hash(cfg.data_dir, cfg.benchmark)
    return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def expand(spec: SweepSpec, eval_split: str = "test", seeds: Optional[List[int]] = None,
           only: Optional[Dict[tuple, Dict]] = None) -> List[RunConfig]:
    """Batches of the sweep: optimizers sharing a benchmark and a setting go together.

    ``only``: {(benchmark, optimizer): setting} restricts each optimizer to one setting
    (the selected configurations of the equal-budget protocol).
    """
    batches: Dict[tuple, RunConfig] = {}
    for bench in spec.benchmarks:
        for opt in spec.optimizers:
            settings = [only[(bench, opt)]] if only else optimizer_configs(spec, opt)
            for setting in settings:
                values = {**spec.base, **setting}
                key = (bench, json.dumps(values, sort_keys=True))
                if key not in batches:
                    batches[key] = RunConfig(benchmark=bench, optimizers=[], seeds=list(seeds or spec.seeds),
                                             eval_split=eval_split, **values)
                batches[key].optimizers.append(opt)
    out = []
    for cfg in batches.values():
        try:
            out.append(cfg.resolved())
        except ConfigError as exc:
            raise ConfigError(f"sweep {spec.name}: {exc}") from None
    return out


def run_batch(config: dict, path: str) -> str:
    """Run one batch and write it atomically to ``path`` (executed on a Dask worker)."""
    import torch

    from lcne.experiments.results import write_netcdf
    from lcne.experiments.runner import run_experiment

    torch.set_num_threads(1)  # one thread per worker process; parallelism comes from Dask
    cfg = RunConfig(**config)
    ds = run_experiment(cfg, progress=False)
    ds = ds.expand_dims(config=[Path(path).stem])
    for key in ("lr", "eta", "gamma", "batch_size", "iterations", "fixed_gain", "lc", "uncertainty", "eval_split"):
        val = getattr(cfg, key)
        ds = ds.assign_coords({f"cfg_{key}": ("config", [np.nan if val is None else val])})
    ds = ds.assign_coords(cfg_benchmark=("config", [cfg.benchmark]))
    ds.attrs["data_hash"] = data_hash(cfg.data_dir)
    write_netcdf(ds, path)
    return path


def batch_path(out: Path, cfg: RunConfig) -> Path:
    return out / "batches" / f"{cfg.benchmark}-{batch_id(cfg)}.nc"


def _execute(batches: List[RunConfig], out: Path, scheduler: Optional[str], use_dask: bool, workers: Optional[int],
             progress: bool) -> List[Path]:
    todo = [(c, batch_path(out, c)) for c in batches]
    paths = [p for _, p in todo]
    pending = [(c, p) for c, p in todo if not p.exists()]
    if len(pending) < len(todo):
        log.warning("resuming: %d of %d batches already finished", len(todo) - len(pending), len(todo))
        print(f"resuming: {len(todo) - len(pending)} of {len(todo)} batches already done")
    if not pending:
        return paths
    from tqdm.auto import tqdm

    bar = tqdm(total=len(pending), desc="batches", unit="batch", disable=not progress)
    try:
        if use_dask:
            _execute_dask(pending, scheduler, workers, bar)
        else:
            for cfg, p in pending:
                run_batch(asdict(cfg), str(p))
                bar.update(1)
    finally:
        bar.close()
    return paths


def _execute_dask(pending, scheduler, workers, bar):
    from dask.distributed import Client, LocalCluster, as_completed

    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        import os

        n = workers or max(1, os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
    print(f"Dask dashboard: {client.dashboard_link}")
    try:
        futures = [client.submit(run_batch, asdict(c), str(p), pure=False, key=f"batch-{p.stem}")
                   for c, p in pending]
        for fut in as_completed(futures):
            fut.result()  # re-raises a worker's error here
            bar.update(1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _write_json(path: Path, value) -> None:
    """Write ``value`` as indented JSON atomically (a killed sweep never leaves half a file)."""
    from lcne.experiments.results import atomic_path

    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(value, indent=2, sort_keys=True, default=str))


def run_sweep(spec: SweepSpec, scheduler: Optional[str] = None, use_dask: bool = True,
              workers: Optional[int] = None, progress: bool = True) -> Dict:
    """Run (or resume) a sweep. Returns a summary dict with the batch files.

    With ``selection``: tuning batches on the validation split (selection seeds), a
    ``selection.json`` with the chosen settings and their scores, then the test batches.
    """
    _DATA_HASHES.clear()  # the data are hashed afresh once per sweep
    out = Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "spec.json", asdict(spec))
    summary: Dict = {"out": str(out)}
    if spec.selection:
        tuning = expand(spec, eval_split="validation", seeds=spec.selection["seeds"])
        tpaths = _execute(tuning, out / "tuning", scheduler, use_dask, workers, progress)
        keys = sorted({*spec.grid, *(k for g in spec.per_optimizer.values() for k in g)})
        chosen = select_settings(tpaths, spec.selection["metric"], keys)
        _write_json(out / "selection.json", {f"{b}/{o}": s for (b, o), s in chosen.items()})
        summary["selection"] = {f"{b}/{o}": s for (b, o), s in chosen.items()}
        summary["tuning_batches"] = [str(p) for p in tpaths]
        final = expand(spec, eval_split="test", only=chosen)
    else:
        final = expand(spec)
    summary["batches"] = [str(p) for p in _execute(final, out, scheduler, use_dask, workers, progress)]
    return summary
