"""Sweeps: expand a grid spec into batched runs, execute them (Dask or in-process), resume.

A sweep spec (YAML) names benchmarks, optimizers, seeds and hyperparameter grids::

    name: split-eta
    out: results/sweeps/split-eta
    benchmarks: [split-mnist, permuted-mnist]
    optimizers: [ngm, sgd, msgd, adam, ngm+gilzenrat-phasic, fixed-gain]
    seeds: [42, 43, 44, 45, 46]
    base: {iterations: 200}            # any RunConfig key, fixed
    grid: {lr: [0.01, 0.003]}          # crossed for every optimizer
    per_optimizer:                     # crossed for that optimizer only
      ngm: {eta: [0.2, 0.4, 0.8]}
    per_benchmark:                     # crossed for that benchmark and optimizer only
      permuted-mnist: {ngm: {eta: [0.3, 0.075]}}
    equal_budget: 3                    # optional: every tuned optimizer gets exactly 3 configurations
    selection: {metric: wc_acc, convention: after-first, seeds: [42]}  # optional: tune, then test
    controls: matched                  # optional (default): NGM-derived controls take NGM's setting

Optimizer names are methods (:data:`lcne.experiments.methods.METHODS`) or an LC-driven
method with an explicit LC model and/or uncertainty front end, written as in results
(``ngm+gilzenrat-phasic``, ``ngm+adaptive``, ``ngm+cpp``, ``ngm+gilzenrat-phasic+cpp``; see
``lcne.experiments.runner.method_label``): that method run with ``lc`` / ``uncertainty`` set.
Each such name is an optimizer of its own: its own grid, budget and selection.

Each *batch* is one :class:`~lcne.experiments.config.RunConfig` (one benchmark and one
hyperparameter setting, all of its optimizers and seeds trained as one batched
computation) and is written atomically to ``<out>/batches/<benchmark>-<id>.nc``, where
``id`` hashes the batch's config. Rerunning a sweep skips batches whose file exists, so a
killed sweep resumes where it stopped. :func:`lcne.analysis.results_io.open_sweep` opens
all batch files as one Dataset along a ``config`` dimension.

Equal-budget protocol (``equal_budget`` + ``selection``): each tuned optimizer gets exactly
the same number of hyperparameter configurations (its grid, subsampled with a fixed seed
when larger); every configuration is trained on the training split minus a stratified
validation hold-out and scored on that validation split with the same rule (``metric`` of
the task-1 curve under ``convention``, seed mean over the runs that did not diverge); the
best configuration per optimizer and benchmark is then run on the test split with all
seeds. The test curves never influence the choice. ``convention`` is that of
:func:`lcne.analysis.metrics.stability_metrics`: ``after-first`` (default; avg-min-ACC over
blocks 2..T, so WC-ACC never reads block 1, the accuracy of a network trained from
scratch for a few steps) or ``code`` (the authors': blocks 1..T-1).

Matched controls (``controls: matched``, the default): the controls derived from NGM
(``fixed-gain`` without a ``fixed_gain`` value, ``shuffled-gain``, ``lr-replay``,
``switch-burst``) are never tuned and take no budget: they are trained in NGM's batch at
every NGM setting that is run -- in the test phase NGM's selected setting -- so each is
compared with NGM at the same learning rate and with that NGM run's own gain. They need
``ngm`` among the optimizers and have no grid of their own; ``selection.json`` records
their setting with ``"inherits": "ngm"``. ``controls: tuned`` is the earlier protocol
(every control tuned on its own budget, its gain taken from NGM at the control's own
setting), kept so that the earlier studies can be rerun as they were.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from lcne.analysis.metrics import CONVENTIONS
from lcne.analysis.selection import SELECTION_METRICS, select_settings
from lcne.experiments.config import RunConfig, check_field, suggest
from lcne.experiments.errors import ConfigError

__all__ = ["SweepSpec", "load_spec", "expand", "expand_named", "run_sweep", "run_batch", "parse_optimizer",
           "is_matched_control", "optimizer_grid", "optimizer_configs", "selection_record", "CONTROL_MODES",
           "choose_test_schedules", "test_batches"]
log = logging.getLogger(__name__)

_RUN_KEYS = {f.name for f in fields(RunConfig)}
_SPEC_KEYS = {"name", "out", "benchmarks", "optimizers", "seeds", "base", "grid", "per_optimizer",
              "per_benchmark", "equal_budget", "selection", "controls", "test_schedule"}
#: run options a sweep sets itself (from ``benchmarks``, ``optimizers``, ``seeds`` and the phase)
_SWEEP_OWNED = ("optimizers", "seeds", "benchmark", "eval_split")
_SELECTION_KEYS = ("metric", "convention", "seeds")
#: ``controls:`` values
CONTROL_MODES = ("matched", "tuned")
#: the method every matched control is derived from and inherits its setting from
REFERENCE = "ngm"


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
    per_benchmark: Dict[str, Dict[str, Dict[str, list]]] = field(default_factory=dict)
    controls: str = "matched"
    #: ``{"candidates": [spec, ...], "tolerance": {"avg_sg": .., "accuracy": ..}}``: the
    #: test phase's evaluation schedule is chosen per benchmark from the full-density
    #: tuning runs by :func:`lcne.analysis.schedule_rule.choose_schedule`
    test_schedule: Optional[Dict] = None


def _check_grid(where: str, grid) -> Dict[str, list]:
    if grid is None:
        return {}
    if not isinstance(grid, dict):
        raise ConfigError(f"{where}: must be a mapping of option names to lists of values")
    out = {}
    for k, v in grid.items():
        key = str(k).replace("-", "_")
        if key not in _RUN_KEYS or key in _SWEEP_OWNED or key == "out":
            raise ConfigError(f"{where}.{k}: not a run option{suggest(key, _RUN_KEYS)}")
        vals = v if isinstance(v, list) else [v]
        if not vals:
            raise ConfigError(f"{where}.{k}: empty list of values")
        for val in vals:
            check_field(key, val, f"{where}.{k} value")
            _check_method_params(where, key, val)
        out[key] = vals
    return out


def _check_method_params(where: str, key: str, value) -> None:
    """Refuse an unknown key or a bad value of ``method_params`` before anything runs."""
    if key != "method_params":
        return
    from lcne.experiments.methods import method_params

    try:
        method_params(value, [])
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def parse_optimizer(name: str, where: str = "optimizers") -> Tuple[str, Dict[str, str]]:
    """``(method, overrides)`` of a spec optimizer name.

    ``"sgd"`` -> ``("sgd", {})``; ``"ngm+gilzenrat-phasic"`` -> ``("ngm", {"lc": "gilzenrat-phasic"})``;
    ``"ngm+cpp"`` -> ``("ngm", {"uncertainty": "cpp"})``. The parts after the method are an
    LC model (``lcne.CONTROLLERS``) and/or, after it, an uncertainty front end
    (``lcne.UNCERTAINTY_SIGNALS``), each other than the default (``paper``, ``entropy``),
    exactly as ``lcne.experiments.runner.method_label`` writes them.

    >>> parse_optimizer("ngm+adaptive")
    ('ngm', {'lc': 'adaptive'})
    """
    import lcne
    from lcne.experiments.methods import METHODS

    method, *parts = str(name).split("+")
    if method not in METHODS:
        raise ConfigError(f"{where}: unknown {name!r}{suggest(name, METHODS)}")
    if not parts:
        return method, {}
    if not METHODS[method].gain_driven:
        driven = ", ".join(m for m, sp in METHODS.items() if sp.gain_driven)
        raise ConfigError(f"{where}: {name!r}: only the LC-driven methods ({driven}) take +<lc model>")
    overrides: Dict[str, str] = {}
    for part in parts:
        if part in lcne.CONTROLLERS and not overrides:
            overrides["lc"] = part
        elif part in lcne.UNCERTAINTY_SIGNALS and "uncertainty" not in overrides:
            overrides["uncertainty"] = part
        else:
            known = [*lcne.CONTROLLERS, *lcne.UNCERTAINTY_SIGNALS]
            raise ConfigError(
                f"{where}: {name!r}: {part!r} is not an LC model or front end here{suggest(part, known)}; "
                f"write {method}+<lc>[+<front end>], lc one of {', '.join(sorted(lcne.CONTROLLERS))}, "
                f"front end one of {', '.join(sorted(lcne.UNCERTAINTY_SIGNALS))}")
    for key, default in (("lc", "paper"), ("uncertainty", "entropy")):
        if overrides.get(key) == default:
            raise ConfigError(f"{where}: {name!r}: {default} is the default {key}; leave it out of the name")
    return method, overrides


def is_matched_control(spec: SweepSpec, name: str) -> bool:
    """True when optimizer ``name`` is a control that takes NGM's setting (never tuned).

    The NGM-derived methods (``MethodSpec.needs_ngm_reference``) under ``controls: matched``,
    except ``fixed-gain`` given its own ``fixed_gain`` value (in ``base``, ``grid``, its
    ``per_optimizer`` or ``per_benchmark`` grid): a constant gain of its own is tuned.
    """
    from lcne.experiments.methods import METHODS

    method, _ = parse_optimizer(name)
    if spec.controls != "matched" or not METHODS[method].needs_ngm_reference:
        return False
    if method == "fixed-gain":
        grids = [spec.base, spec.grid, spec.per_optimizer.get(name, {}),
                 *(g.get(name, {}) for g in spec.per_benchmark.values())]
        return not any("fixed_gain" in g for g in grids)
    return True


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


def _check_selection(where: str, selection, seeds: List[int]) -> Optional[Dict]:
    if selection is None:
        return None
    if not isinstance(selection, dict):
        raise ConfigError(f"{where}: selection must be a mapping with 'metric' (and optional 'convention', 'seeds')")
    for k in selection:
        if k not in _SELECTION_KEYS:
            raise ConfigError(f"{where}: selection: unknown key {k!r}{suggest(str(k), _SELECTION_KEYS)}; "
                              f"allowed: {', '.join(_SELECTION_KEYS)}")
    metric = selection.get("metric", "wc_acc")
    if metric not in SELECTION_METRICS:
        raise ConfigError(f"{where}: selection.metric {metric!r}{suggest(metric, SELECTION_METRICS)}; "
                          f"allowed: {', '.join(SELECTION_METRICS)}")
    convention = selection.get("convention", "after-first")
    if convention not in CONVENTIONS:
        raise ConfigError(f"{where}: selection.convention {convention!r}{suggest(str(convention), CONVENTIONS)}; "
                          f"allowed: {', '.join(CONVENTIONS)}")
    sel_seeds = selection.get("seeds", seeds[:1])
    check_field("seeds", sel_seeds, f"{where}: selection")
    return {"metric": metric, "convention": convention, "seeds": list(sel_seeds)}


def _check_test_schedule(where: str, value, selection, base) -> Optional[Dict]:
    """``test_schedule: {candidates: [..], tolerance: {avg_sg: .., accuracy: ..}}``: needs a
    tuning phase (``selection``) evaluated at full density, whose runs the rule reads."""
    if value is None:
        return None
    from lcne.experiments.eval_schedule import parse_schedule

    if not isinstance(value, dict) or "candidates" not in value:
        raise ConfigError(f"{where}: test_schedule must be a mapping with 'candidates' (schedule specs, sparsest "
                          f"first) and optional 'tolerance' {{avg_sg: 0.005, accuracy: 0.005}}")
    unknown = set(value) - {"candidates", "tolerance"}
    if unknown:
        raise ConfigError(f"{where}: test_schedule: unknown key {sorted(unknown)[0]!r}; allowed: candidates, tolerance")
    cands = value["candidates"]
    if not isinstance(cands, list) or not cands or not all(isinstance(c, str) for c in cands):
        raise ConfigError(f"{where}: test_schedule.candidates must be a non-empty list of schedule specs, "
                          f"e.g. [switch:50/10, every]")
    for c in cands:
        try:
            parse_schedule(c)
        except ConfigError as exc:
            raise ConfigError(f"{where}: test_schedule.candidates: {exc}") from None
    tol = value.get("tolerance") or {}
    if not isinstance(tol, dict) or set(tol) - {"avg_sg", "accuracy"} or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in tol.values()):
        raise ConfigError(f"{where}: test_schedule.tolerance must map avg_sg and/or accuracy to non-negative "
                          f"numbers (accuracy as a fraction: 0.005 = 0.5 pp)")
    if selection is None:
        raise ConfigError(f"{where}: test_schedule is chosen from the tuning runs; it needs a selection (tuning phase)")
    if str(base.get("eval_schedule", "every")) != "every":
        raise ConfigError(f"{where}: test_schedule: the tuning runs must be evaluated after every iteration; "
                          f"remove base.eval_schedule")
    return {"candidates": list(cands), "tolerance": {"avg_sg": 0.005, "accuracy": 0.005, **tol}}


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
    if len(set(optimizers)) != len(optimizers):
        raise ConfigError(f"{where}: optimizers: repeated names in {optimizers}")
    parsed = {o: parse_optimizer(o, f"{where}: optimizers") for o in optimizers}
    seeds = raw.get("seeds", [42, 43, 44, 45, 46])
    if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ConfigError(f"{where}: seeds must be a list of integers")
    if not seeds:
        raise ConfigError(f"{where}: seeds: empty list")
    base = raw.get("base") or {}
    if not isinstance(base, dict):
        raise ConfigError(f"{where}: base must be a mapping")
    for k in base:
        key = str(k).replace("-", "_")
        if key not in _RUN_KEYS:
            raise ConfigError(f"{where}: base.{k}: not a run option{suggest(str(k), _RUN_KEYS)}")
        if key in _SWEEP_OWNED:
            raise ConfigError(f"{where}: base.{k}: set by the sweep itself (use the spec's benchmarks, optimizers, "
                              f"seeds; eval_split follows the phase)")
        check_field(key, base[k], f"{where}: base")
        _check_method_params(f"{where}: base", key, base[k])
    base = {str(k).replace("-", "_"): v for k, v in base.items()}
    # two names that are the same runs (ngm with base lc adaptive, and ngm+adaptive)
    effective: Dict[tuple, str] = {}
    for o, (method, over) in parsed.items():
        eff = (method, over.get("lc", base.get("lc", "paper")), over.get("uncertainty", base.get("uncertainty", "entropy")))
        if eff in effective:
            raise ConfigError(f"{where}: optimizers: {effective[eff]!r} and {o!r} are the same runs "
                              f"(method {eff[0]}, lc {eff[1]}, uncertainty {eff[2]}); keep one")
        effective[eff] = o
    per = raw.get("per_optimizer") or {}
    if not isinstance(per, dict):
        raise ConfigError(f"{where}: per_optimizer must be a mapping of optimizer names to grids")
    for o in per:
        if o not in optimizers:
            raise ConfigError(f"{where}: per_optimizer.{o}: not among the sweep's optimizers {optimizers}")
    per_bench = raw.get("per_benchmark") or {}
    if not isinstance(per_bench, dict):
        raise ConfigError(f"{where}: per_benchmark must be a mapping of benchmarks to {{optimizer: grid}}")
    for b, grids in per_bench.items():
        if b not in benchmarks:
            raise ConfigError(f"{where}: per_benchmark.{b}: not among the sweep's benchmarks {benchmarks}")
        if not isinstance(grids, dict):
            raise ConfigError(f"{where}: per_benchmark.{b} must be a mapping of optimizer names to grids")
        for o in grids:
            if o not in optimizers:
                raise ConfigError(f"{where}: per_benchmark.{b}.{o}: not among the sweep's optimizers {optimizers}")
    budget = raw.get("equal_budget")
    if budget is not None and (not isinstance(budget, int) or isinstance(budget, bool) or budget < 1):
        raise ConfigError(f"{where}: equal_budget must be a positive integer, got {budget!r}")
    controls = raw.get("controls", "matched")
    if controls not in CONTROL_MODES:
        raise ConfigError(f"{where}: controls: {controls!r}{suggest(str(controls), CONTROL_MODES)}; "
                          f"allowed: {', '.join(CONTROL_MODES)}")
    test_schedule = _check_test_schedule(where, raw.get("test_schedule"), raw.get("selection"), base)
    spec = SweepSpec(
        name=str(raw.get("name", Path(default_out).name)),
        out=str(raw.get("out", default_out)),
        benchmarks=benchmarks,
        optimizers=optimizers,
        seeds=list(seeds),
        base=base,
        grid=_check_grid(f"{where}: grid", raw.get("grid")),
        per_optimizer={o: _check_grid(f"{where}: per_optimizer.{o}", g) for o, g in per.items()},
        equal_budget=budget,
        selection=_check_selection(where, raw.get("selection"), list(seeds)),
        per_benchmark={b: {o: _check_grid(f"{where}: per_benchmark.{b}.{o}", g) for o, g in grids.items()}
                       for b, grids in per_bench.items()},
        controls=controls,
        test_schedule=test_schedule,
    )
    matched = [o for o in optimizers if is_matched_control(spec, o)]
    if matched and REFERENCE not in optimizers:
        raise ConfigError(f"{where}: optimizers: {', '.join(matched)} take {REFERENCE}'s setting and gain "
                          f"(controls: matched); add {REFERENCE} to the optimizers, or set controls: tuned")
    for o in matched:
        if o in spec.per_optimizer or any(o in g for g in spec.per_benchmark.values()):
            raise ConfigError(f"{where}: per_optimizer.{o}: {o} takes {REFERENCE}'s setting (controls: matched) "
                              f"and has no grid of its own; remove its grid, or set controls: tuned")
    return spec


def _combos(grid: Dict[str, list]) -> List[Dict]:
    keys = sorted(grid)
    return [dict(zip(keys, vals)) for vals in itertools.product(*(grid[k] for k in keys))]


def optimizer_grid(spec: SweepSpec, optimizer: str, benchmark: Optional[str] = None) -> Dict[str, list]:
    """The grid of one optimizer on one benchmark: ``grid``, then its ``per_optimizer``
    grid, then its ``per_benchmark`` grid (a later one replaces a key an earlier one has).
    ``benchmark`` defaults to the spec's first."""
    bench = spec.benchmarks[0] if benchmark is None else benchmark
    return {**spec.grid, **spec.per_optimizer.get(optimizer, {}),
            **spec.per_benchmark.get(bench, {}).get(optimizer, {})}


def optimizer_configs(spec: SweepSpec, optimizer: str, benchmark: Optional[str] = None) -> List[Dict]:
    """The hyperparameter settings one optimizer is run with on ``benchmark`` (equal budget
    applied; default: the spec's first benchmark).

    A matched control (:func:`is_matched_control`) has no budget of its own: it is run at
    NGM's settings, so this returns NGM's.
    """
    if is_matched_control(spec, optimizer):
        return optimizer_configs(spec, REFERENCE, benchmark)
    combos = _combos(optimizer_grid(spec, optimizer, benchmark))
    if spec.equal_budget is not None:
        k = spec.equal_budget
        if len(combos) < k:
            on = f" on {benchmark}" if benchmark is not None and spec.per_benchmark else ""
            raise ConfigError(
                f"equal_budget {k}: optimizer {optimizer!r} has only {len(combos)} configuration(s) in its grid{on}"
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


def _phase(phase: Optional[str], eval_split: str) -> str:
    phase = phase or ("tuning" if eval_split == "validation" else "test")
    if phase not in ("tuning", "test"):
        raise ValueError(f"phase must be 'tuning' or 'test', got {phase!r}")
    return phase


def expand_named(spec: SweepSpec, eval_split: str = "test", seeds: Optional[List[int]] = None,
                 only: Optional[Dict[tuple, Optional[Dict]]] = None,
                 phase: Optional[str] = None) -> List[Tuple[RunConfig, Dict[str, str]]]:
    """:func:`expand`, each batch with ``{method: spec optimizer name}`` of its runs
    (``{"ngm": "ngm+adaptive"}`` for the explicit-LC name)."""
    phase = _phase(phase, eval_split)
    batches: Dict[tuple, Tuple[RunConfig, Dict[str, str]]] = {}
    for bench in spec.benchmarks:
        for name in spec.optimizers:
            method, overrides = parse_optimizer(name)
            matched = is_matched_control(spec, name)
            if matched and phase == "tuning":
                continue  # never tuned: it takes NGM's selected setting in the test phase
            if only is not None:
                chosen = only.get((bench, REFERENCE if matched else name))
                settings = [] if chosen is None else [chosen]
            else:
                settings = optimizer_configs(spec, name, bench)
            for setting in settings:
                values = {**spec.base, **{k: v for k, v in setting.items() if k != "inherits"}, **overrides}
                cfg = RunConfig(benchmark=bench, optimizers=[], seeds=list(seeds or spec.seeds),
                                eval_split=eval_split, **values)
                key = (bench, json.dumps(asdict(cfg), sort_keys=True, default=str))
                if key not in batches:
                    batches[key] = (cfg, {})
                cfg, names = batches[key]
                if method in cfg.optimizers:  # cannot happen after spec_from_dict's checks
                    raise ConfigError(f"sweep {spec.name}: {names[method]!r} and {name!r} share a batch")
                cfg.optimizers.append(method)
                names[method] = name
    out = []
    for cfg, names in batches.values():
        try:
            out.append((cfg.resolved(), names))
        except ConfigError as exc:
            raise ConfigError(f"sweep {spec.name}: {exc}") from None
    return out


def expand(spec: SweepSpec, eval_split: str = "test", seeds: Optional[List[int]] = None,
           only: Optional[Dict[tuple, Optional[Dict]]] = None, phase: Optional[str] = None) -> List[RunConfig]:
    """Batches of the sweep: optimizers sharing a benchmark and a setting go together.

    Parameters
    ----------
    eval_split : {"test", "validation"}
    seeds : list of int, optional
        Default: the spec's seeds.
    only : dict, optional
        ``{(benchmark, optimizer name): setting}`` restricts each optimizer to one setting
        (the selected configurations of the equal-budget protocol); an optimizer whose
        entry is missing or None is left out. Matched controls take NGM's entry.
    phase : {"tuning", "test"}, optional
        Default: ``"tuning"`` on the validation split, else ``"test"``. The tuning phase
        leaves the matched controls out (they are never tuned); the test phase trains
        them in NGM's batches.
    """
    return [cfg for cfg, _ in expand_named(spec, eval_split, seeds, only, phase)]


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
    ds.attrs["data_hash"] = data_hash(cfg.data_dir, cfg.benchmark)
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


def selection_record(spec: SweepSpec, chosen: Dict[tuple, Dict]) -> Dict[str, Optional[Dict]]:
    """What ``selection.json`` holds: ``{"<benchmark>/<optimizer>": setting}`` for every
    benchmark and optimizer of the spec. A tuned optimizer's setting has the keys of its
    own grid; a matched control's is NGM's with ``"inherits": "ngm"``; ``null`` where no
    tuning run finished without diverging (the optimizer is then left out of the test phase)."""
    record: Dict[str, Optional[Dict]] = {}
    for bench in spec.benchmarks:
        for name in spec.optimizers:
            if is_matched_control(spec, name):
                s = chosen.get((bench, REFERENCE))
                record[f"{bench}/{name}"] = None if s is None else {**s, "inherits": REFERENCE}
            else:
                record[f"{bench}/{name}"] = chosen.get((bench, name))
    return record


def choose_test_schedules(spec: SweepSpec, tuning: Sequence[Tuple[RunConfig, Path]]) -> Dict[str, Dict]:
    """Per benchmark, the schedule rule of ``spec.test_schedule`` applied to its tuning
    batch files (:func:`lcne.analysis.schedule_rule.choose_schedule`)."""
    from lcne.analysis.results_io import open_batch
    from lcne.analysis.schedule_rule import choose_schedule
    from lcne.experiments.eval_schedule import parse_schedule

    candidates = [parse_schedule(c) for c in spec.test_schedule["candidates"]]
    out = {}
    for bench in spec.benchmarks:
        datasets = [open_batch(path) for cfg, path in tuning if cfg.benchmark == bench]
        out[bench] = choose_schedule(datasets, candidates, spec.test_schedule["tolerance"])
    return out


def test_batches(spec: SweepSpec, chosen: Dict[tuple, Optional[Dict]],
                 schedules: Optional[Dict[str, Dict]] = None) -> List[RunConfig]:
    """The test phase's batches: every optimizer at its ``chosen`` setting
    (``{(benchmark, optimizer): setting}``, as :func:`select_settings` gives it or as
    ``selection.json`` records it), matched controls beside NGM, and, with ``schedules``
    (:func:`choose_test_schedules` / ``schedule.json``), each benchmark's chosen evaluation
    schedule."""
    final = expand(spec, eval_split="test", only=chosen, phase="test")
    for cfg in final if schedules else ():
        cfg.eval_schedule = schedules[cfg.benchmark]["chosen"]
        cfg.validate()
    return final


def run_sweep(spec: SweepSpec, scheduler: Optional[str] = None, use_dask: bool = True,
              workers: Optional[int] = None, progress: bool = True, phase: str = "all") -> Dict:
    """Run (or resume) a sweep. Returns a summary dict with the batch files.

    With ``selection``: tuning batches on the validation split (selection seeds; the
    tuned optimizers only), a ``selection.json`` with the chosen setting of every
    optimizer (:func:`selection_record`), with ``test_schedule`` a ``schedule.json`` with
    the test phase's evaluation schedule per benchmark (:func:`choose_test_schedules`),
    then the test batches (matched controls beside NGM at its selected setting).
    ``phase="tuning"`` stops before the test phase.
    """
    from lcne.experiments.runner import method_label

    if phase not in ("all", "tuning"):
        raise ConfigError(f"phase: {phase!r}; allowed: all, tuning")
    if phase == "tuning" and not spec.selection:
        raise ConfigError(f"sweep {spec.name}: --phase tuning needs a selection (the spec has no tuning phase)")
    _DATA_HASHES.clear()  # the data are hashed afresh once per sweep
    out = Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "spec.json", asdict(spec))
    summary: Dict = {"out": str(out)}
    if spec.selection:
        tuning = expand_named(spec, eval_split="validation", seeds=spec.selection["seeds"], phase="tuning")
        tpaths = _execute([c for c, _ in tuning], out / "tuning", scheduler, use_dask, workers, progress)
        names = {str(p): {method_label(m, cfg): name for m, name in batch_names.items()}
                 for (cfg, batch_names), p in zip(tuning, tpaths)}
        keys = sorted({k for b in spec.benchmarks for o in spec.optimizers for k in optimizer_grid(spec, o, b)})
        best = select_settings(tpaths, spec.selection["metric"], keys,
                               convention=spec.selection["convention"], names=names)
        chosen = {(b, o): {k: v for k, v in s.items() if k in optimizer_grid(spec, o, b)} for (b, o), s in best.items()}
        record = selection_record(spec, chosen)
        _write_json(out / "selection.json", record)
        for key, s in record.items():
            if s is None:
                log.warning("selection: every tuning run of %s diverged; left out of the test phase", key)
                print(f"selection: every tuning run of {key} diverged; left out of the test phase")
        summary["selection"] = record
        summary["tuning_batches"] = [str(p) for p in tpaths]
        schedules = None
        if spec.test_schedule:
            schedules = choose_test_schedules(spec, [(c, p) for (c, _), p in zip(tuning, tpaths)])
            _write_json(out / "schedule.json", schedules)
            summary["schedule"] = {b: v["chosen"] for b, v in schedules.items()}
        if phase == "tuning":
            summary["batches"] = []
            return summary
        final = test_batches(spec, chosen, schedules)
    else:
        final = expand(spec)
    summary["batches"] = [str(p) for p in _execute(final, out, scheduler, use_dask, workers, progress)]
    return summary
