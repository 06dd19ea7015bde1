"""Run configuration, validated in one place before any work starts."""
from __future__ import annotations

import difflib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from lcne.experiments.errors import ConfigError

__all__ = ["RunConfig", "suggest", "FIELD_KINDS", "check_field", "MAX_SEED", "MAX_BATCH_SIZE"]

#: largest seed: seeds are stored as signed 64-bit integers
MAX_SEED = 2**63 - 1
#: largest mini-batch (more images than any benchmark's training set)
MAX_BATCH_SIZE = 1 << 20

#: the kind of value every RunConfig field takes: ``name`` (a string), ``path`` (a string
#: or null), ``names`` (a list of strings), ``ints`` (a list of integers), ``int`` /
#: ``number`` (or null: the benchmark's value), ``params`` (a mapping of names to numbers
#: or names). :func:`check_field` checks a value against it (one layer for ``--config``
#: files, sweep specs and ``RunConfig.validate``; ranges are ``validate``'s).
FIELD_KINDS = {
    "benchmark": "name", "optimizers": "names", "seeds": "ints", "iterations": "int", "lr": "number",
    "eta": "number", "gamma": "number", "g0": "number", "batch_size": "int", "lc": "name",
    "uncertainty": "name", "lc_params": "params", "uncertainty_params": "params", "gain_target": "name",
    "fixed_gain": "number", "eval_split": "name", "eval_tasks": "name", "data_dir": "path", "device": "name",
    "out": "path", "eval_schedule": "name", "eval_subset": "int", "eval_precision": "name", "rotation": "name",
    "method_params": "params",
}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_field(key: str, value, where: Optional[str] = None, numbers: bool = True) -> None:
    """Refuse a value of the wrong type for RunConfig field ``key`` (one line,
    ``WHERE: KEY: ...``); unknown keys are refused with the closest valid name.
    ``numbers=False`` leaves numeric fields to :meth:`RunConfig.validate`."""
    prefix = f"{where}: " if where else ""
    kind = FIELD_KINDS.get(key)
    if kind is None:
        raise ConfigError(f"{prefix}unknown key {key!r}{suggest(key, FIELD_KINDS)}")
    bad = None
    if kind == "name" and not isinstance(value, str):
        bad = "must be a name (a string)"
    elif kind == "path" and value is not None and not isinstance(value, str):
        bad = "must be a path (a string)"
    elif kind == "names" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        bad = "must be a list of names, e.g. [ngm, sgd]"
    elif kind == "ints" and not (isinstance(value, list) and all(_is_int(v) for v in value)):
        bad = "must be a list of integers, e.g. [42, 43]"
    elif kind == "params" and not (isinstance(value, dict) and all(isinstance(k, str) for k in value)
                                   and all(isinstance(v, (int, float, str, bool)) for v in value.values())):
        bad = "must be a mapping of parameter names to numbers or names, e.g. {eta: 0.3}"
    elif numbers and kind == "int" and value is not None and not _is_int(value):
        bad = "must be an integer"
    elif numbers and kind == "number" and value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float))):
        bad = "must be a number"
    if bad:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise ConfigError(f"{prefix}{key}: {shown} {bad}")



def suggest(value: str, choices) -> str:
    """' (did you mean X?)' for the closest valid name, or ''."""
    close = difflib.get_close_matches(str(value), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_name(key: str, value: str, choices) -> None:
    if value not in choices:
        raise ConfigError(
            f"{key}: unknown value {value!r}{suggest(value, choices)}; allowed: {', '.join(sorted(choices))}"
        )


@dataclass
class RunConfig:
    """Everything that defines one ``lcne run``.

    Time unit of ``iterations``: training iterations per context (task).
    ``None`` for ``iterations``, ``eta``, ``lr`` and ``batch_size`` takes the paper's
    value for the benchmark.

    ``eta``, ``gamma`` and ``g0`` are the parameters of the paper's integrator
    (``lc="paper"``; ``None``: the benchmark's eta, the controller's gamma 0.9 and g0 1.0).
    They may also come as ``lc_params`` (``--lc-param eta=0.8``): :meth:`resolved` moves
    them here, so the stored configuration and the controller agree, and refuses two
    different values. With any other ``lc`` they stay ``None``: giving one is an error
    (that LC takes its own ``lc_params``).
    """

    benchmark: str = "split-mnist"
    optimizers: List[str] = field(default_factory=lambda: ["ngm", "sgd", "msgd", "adam"])
    seeds: List[int] = field(default_factory=lambda: [42, 43, 44, 45, 46])
    iterations: Optional[int] = None
    lr: Optional[float] = None
    eta: Optional[float] = None
    gamma: Optional[float] = None
    g0: Optional[float] = None
    batch_size: Optional[int] = None
    lc: str = "paper"
    uncertainty: str = "entropy"
    lc_params: Dict[str, float] = field(default_factory=dict)
    uncertainty_params: Dict[str, float] = field(default_factory=dict)
    gain_target: str = "preactivation"
    fixed_gain: Optional[float] = None
    eval_split: str = "test"
    eval_tasks: str = "seen"
    #: when to evaluate: ``"every"`` (every iteration, the default) or a schedule spec
    #: (:mod:`lcne.experiments.eval_schedule`); iterations not evaluated are NaN
    eval_schedule: str = "every"
    #: test images per task in a fixed stratified subset drawn once per run from its seed
    #: (``None``: the whole test set of each task)
    eval_subset: Optional[int] = None
    #: arithmetic of the evaluation forward passes: ``"fp32"`` (exact) or ``"bf16"``
    eval_precision: str = "fp32"
    #: interpolation of the rotated benchmarks: ``"nearest"`` (the authors') or ``"bilinear"``
    rotation: str = "nearest"
    #: parameters of the methods that take some (``weight-ema``: ``ema_decay``; ``lr-rewarm``:
    #: ``rewarm_drop``, ``rewarm_iters``), see :mod:`lcne.experiments.methods`
    method_params: Dict[str, float] = field(default_factory=dict)
    data_dir: Optional[str] = None
    device: str = "cpu"
    out: str = "results"

    def resolved(self) -> "RunConfig":
        """A validated copy with the benchmark's defaults filled in."""
        from lcne.experiments.streams import BENCHMARKS

        _check_name("benchmark", self.benchmark, BENCHMARKS)
        spec = BENCHMARKS[self.benchmark]
        cfg = RunConfig(**{**asdict(self)})
        if cfg.lc == "paper":
            _merge_paper_params(cfg)
            defaults = {"eta": spec.eta, **_paper_defaults()}
            for key in PAPER_PARAMS:
                if getattr(cfg, key) is None:
                    setattr(cfg, key, defaults[key])
        cfg.iterations = spec.iterations_per_task if cfg.iterations is None else cfg.iterations
        cfg.lr = spec.lr if cfg.lr is None else cfg.lr
        cfg.batch_size = spec.batch_size if cfg.batch_size is None else cfg.batch_size
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Check every field's type, range and spelling; raise :class:`ConfigError`."""
        import lcne
        from lcne.experiments.methods import METHODS
        from lcne.models import GAIN_TARGETS

        for key, value in asdict(self).items():
            check_field(key, value, numbers=False)
        if not self.optimizers:
            raise ConfigError("optimizers: empty list; give at least one of " + ", ".join(METHODS))
        for name in self.optimizers:
            _check_name("optimizers", name, METHODS)
        if len(set(self.optimizers)) != len(self.optimizers):
            raise ConfigError(f"optimizers: repeated names in {self.optimizers}")
        if not self.seeds:
            raise ConfigError("seeds: empty list")
        for s in self.seeds:
            if not isinstance(s, int) or isinstance(s, bool) or s < 0:
                raise ConfigError(f"seeds: {s!r} is not a non-negative integer")
            if s > MAX_SEED:
                raise ConfigError(f"seeds: {s} does not fit in 64 bits (largest seed {MAX_SEED})")
        if len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"seeds: repeated values in {self.seeds}")
        _positive_int("iterations", self.iterations)
        _positive_int("batch_size", self.batch_size)
        if self.batch_size > MAX_BATCH_SIZE:
            raise ConfigError(f"batch_size: {self.batch_size} is larger than any training set; at most {MAX_BATCH_SIZE}")
        _finite("lr", self.lr, low=0.0, low_open=True)
        _check_name("lc", self.lc, lcne.CONTROLLERS)
        if self.lc == "paper":
            _finite("eta", self.eta, low=0.0)
            _finite("gamma", self.gamma, low=0.0, high=1.0)
            _finite("g0", self.g0, low=0.0, low_open=True)
        else:
            _refuse_paper_params(self)
        if self.fixed_gain is not None:
            _finite("fixed_gain", self.fixed_gain, low=0.0, low_open=True)
        needs_pairs = any(n == "shuffled-gain" for n in self.optimizers)
        if needs_pairs and len(self.seeds) < 2:
            raise ConfigError("optimizers: shuffled-gain replays another seed's NGM gain; give at least 2 seeds")
        _check_name("uncertainty", self.uncertainty, lcne.UNCERTAINTY_SIGNALS)
        _check_name("gain_target", self.gain_target, GAIN_TARGETS)
        _check_name("eval_split", self.eval_split, ("test", "validation"))
        _check_name("eval_tasks", self.eval_tasks, ("seen", "first"))
        from lcne.experiments.eval_schedule import PRECISIONS, EvalSchedule, check_precision

        _check_name("eval_precision", self.eval_precision, PRECISIONS)
        EvalSchedule.parse(self.eval_schedule)  # one-line error naming eval_schedule and the grammar
        from lcne.experiments.transforms import ROTATION_MODES

        _check_name("rotation", self.rotation, ROTATION_MODES)
        if self.eval_subset is not None:
            _positive_int("eval_subset", self.eval_subset)
        for group in ("lc_params", "uncertainty_params"):
            for k, v in getattr(self, group).items():
                if not isinstance(v, (int, float, str, bool)):
                    raise ConfigError(f"{group}.{k}: {v!r} is not a number or name")
        if self.lc_params:
            _check_lc_params(self)
        from lcne.experiments.methods import method_params

        method_params(self.method_params, self.optimizers)
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            raise ConfigError(f"device: {self.device!r}; allowed: cpu, cuda, cuda:N")
        if self.device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise ConfigError(f"device: {self.device!r} requested but torch sees no CUDA device")
        check_precision(self.eval_precision, self.device)  # bf16 only where it is faster than fp32
        if self.data_dir is not None and not Path(self.data_dir).expanduser().is_dir():
            raise ConfigError(f"data_dir: {self.data_dir} is not a directory")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


#: the parameters of the paper's integrator that are RunConfig fields (``--lc paper``)
PAPER_PARAMS = ("eta", "gamma", "g0")


def _paper_defaults() -> Dict[str, float]:
    """gamma and g0 as :class:`~lcne.gain_controllers.PaperGain` defines them."""
    import inspect

    from lcne.gain_controllers import PaperGain

    sig = inspect.signature(PaperGain.__init__).parameters
    return {key: sig[key].default for key in ("gamma", "g0")}


def _same_value(a, b) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return a == b


def _merge_paper_params(cfg: "RunConfig") -> None:
    """Move ``lc_params`` eta/gamma/g0 into the fields; refuse two different values."""
    for key in PAPER_PARAMS:
        if key not in cfg.lc_params:
            continue
        value = cfg.lc_params.pop(key)
        given = getattr(cfg, key)
        if given is not None and not _same_value(given, value):
            raise ConfigError(
                f"{key}: given twice with different values, {key}={given!r} and lc_params.{key}={value!r} "
                f"(--lc-param {key}=); give it once"
            )
        setattr(cfg, key, value)


def _lc_parameter_names(lc: str) -> str:
    """The keyword parameters of the controller registered as ``lc``, for messages."""
    import lcne

    try:
        names = sorted(k for k in lcne.make_controller(lc, n_runs=1).config() if k not in ("name", "n_runs"))
    except Exception:  # a controller that cannot be built with its defaults: no list
        return ""
    return f" ({', '.join(names)})" if names else ""


def _refuse_paper_params(cfg: "RunConfig") -> None:
    """eta/gamma/g0 belong to the paper's integrator: refuse them with another LC."""
    for key in PAPER_PARAMS:
        where = key if getattr(cfg, key) is not None else f"lc_params.{key}" if key in cfg.lc_params else None
        if where is None:
            continue
        raise ConfigError(
            f"{where}: applies to --lc paper only (the paper's integrator); the {cfg.lc} LC takes "
            f"--lc-param KEY=VALUE{_lc_parameter_names(cfg.lc)}"
        )


def _check_lc_params(cfg: "RunConfig") -> None:
    """Build the configured controller once (one run) so that a parameter the LC does not
    know, or a bad value, is refused before any work starts."""
    import lcne

    params = dict(cfg.lc_params)
    if cfg.lc == "paper":
        params.update(eta=cfg.eta, gamma=cfg.gamma, g0=cfg.g0)
    try:
        lcne.make_controller(cfg.lc, n_runs=1, **params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"lc_params for {cfg.lc!r}: {exc}") from None


def _positive_int(key, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{key}: {value!r} must be a positive integer")


def _finite(key, value, low=None, high=None, low_open=False):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ConfigError(f"{key}: {value!r} must be a finite number")
    if low is not None and (value < low or (low_open and value == low)):
        bound = ">" if low_open else ">="
        raise ConfigError(f"{key}: {value!r} must be {bound} {low}")
    if high is not None and value >= high:
        raise ConfigError(f"{key}: {value!r} must be < {high}")
