"""Run a benchmark: every method over every seed as one batched computation.

All runs of a config (methods x seeds) share one network with a leading run axis and a
:class:`~lcne.experiments.optim.RunwiseOptimizer` that gives each run its own update rule.
Methods whose gain is derived from NGM runs (``fixed-gain`` without a value,
``shuffled-gain``, ``lr-replay``, ``switch-burst``) are trained in a second batch after the
NGM runs they depend on (:mod:`lcne.experiments.ngm_controls`).

The results record, per method, the ``config()`` of the gain controller and of the
uncertainty front end that ran (attribute ``controllers``, see
``docs/results-schema.md``): the one place that says which parameters a run used.

A tiny Split MNIST run on the embedded data (2 iterations per context, a few seconds):

>>> from lcne.experiments.config import RunConfig
>>> from lcne.experiments.runner import run_experiment
>>> ds = run_experiment(RunConfig(optimizers=["ngm", "sgd"], seeds=[42], iterations=2, batch_size=16),
...                     progress=False)
>>> dict(ds.sizes)
{'method': 2, 'seed': 1, 'iteration': 10, 'eval_task': 5}
>>> ds.gain.sel({"method": "ngm", "seed": 42}).values[:3].round(3)   # g(0) = g0, then entropy bursts
array([1.   , 1.921, 2.741])
>>> float(ds.gain.sel({"method": "sgd"}).max())                      # plain SGD: gain stays 1
1.0
"""
from __future__ import annotations

import json
import logging
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import xarray as xr

import lcne
from lcne.experiments.config import PAPER_PARAMS, RunConfig
from lcne.experiments.errors import ConfigError
from lcne.experiments.eval_schedule import eval_options
from lcne.experiments import ngm_controls
from lcne.experiments.methods import METHODS, method_params
from lcne.experiments.optim import RunwiseOptimizer
from lcne.experiments.protocol import RunRecord, train_joint
from lcne.experiments.results import concat_methods, finish_attrs, record_to_dataset
from lcne.experiments.streams import BENCHMARKS, JointTrainingStream, build_stream
from lcne.experiments.training_hooks import RewarmSchedule, WeightEMA
from lcne.models import GainMLP

__all__ = ["method_label", "run_experiment", "build_controller", "build_model", "plan_batches",
           "controllers_json", "method_hooks"]
log = logging.getLogger(__name__)


def method_label(method: str, cfg: RunConfig) -> str:
    """Name of a method in the results: LC-driven methods carry the LC model / front end
    when they are not the paper's (e.g. ``ngm+gilzenrat-phasic``)."""
    if not METHODS[method].gain_driven:
        return method
    parts = [method]
    if cfg.lc != "paper":
        parts.append(cfg.lc)
    if cfg.uncertainty != "entropy":
        parts.append(cfg.uncertainty)
    return "+".join(parts)


def build_controller(method: str, cfg: RunConfig, n_runs: int, reference: Optional[np.ndarray] = None):
    """The gain controller of ``method`` for ``n_runs`` seeds.

    ``reference``: NGM gain traces (n_runs, iterations) of the same seeds, needed by
    ``fixed-gain`` (without a value), ``shuffled-gain``, ``lr-replay`` and ``switch-burst``
    (see :mod:`lcne.experiments.ngm_controls`).
    """
    spec = METHODS[method]
    if spec.gain == "one":
        return lcne.ConstantGain(n_runs=n_runs, value=1.0)
    if spec.gain == "fixed" and cfg.fixed_gain is not None:
        return lcne.ConstantGain(n_runs=n_runs, value=cfg.fixed_gain)
    if spec.needs_ngm_reference and reference is None:
        raise ValueError(f"{method}: needs the NGM gain traces of the same seeds (reference)")
    if spec.gain == "fixed":
        return lcne.ConstantGain(n_runs=n_runs, value=ngm_controls.time_average(reference))
    if spec.gain == "replay":
        return lcne.ReplayGain(n_runs=n_runs, trace=ngm_controls.other_seed(reference))
    if spec.gain == "own":
        return lcne.ReplayGain(n_runs=n_runs, trace=ngm_controls.same_seed(reference))
    if spec.gain == "burst":
        return lcne.ReplayGain(n_runs=n_runs, trace=ngm_controls.switch_locked_burst(reference, cfg.iterations))
    params = dict(cfg.lc_params)
    if cfg.lc == "paper":  # resolved() has moved any lc_params eta/gamma/g0 into the fields
        params = {**{k: getattr(cfg, k) for k in PAPER_PARAMS if getattr(cfg, k) is not None}, **params}
    try:
        return lcne.make_controller(cfg.lc, n_runs=n_runs, **params)
    except TypeError as exc:
        raise ConfigError(f"lc_params for {cfg.lc!r}: {exc}") from None


def plan_batches(cfg: RunConfig) -> List[List[str]]:
    """Methods grouped into batches, in execution order.

    The first batch holds every method that needs nothing from other runs (plus ``ngm``
    when a later method needs its gain traces); the second the methods derived from NGM.
    (Bad ``method_params`` were refused by :meth:`RunConfig.validate` before this.)
    """
    def derived(m):
        return METHODS[m].needs_ngm_reference and not (m == "fixed-gain" and cfg.fixed_gain is not None)

    first = [m for m in cfg.optimizers if not derived(m)]
    second = [m for m in cfg.optimizers if derived(m)]
    if second and "ngm" not in first:
        first.append("ngm")
    return [b for b in (first, second) if b]


def build_model(cfg: RunConfig, stream: JointTrainingStream, specs, generators):
    """The benchmark's network for these runs, and its optimizer parameter groups.

    MNIST benchmarks: :class:`~lcne.models.GainMLP`, one group. Image benchmarks:
    :class:`~lcne.models.resnet.SlimResNet18` (gain on the head only); for gain-driven plain
    SGD methods (``ngm``) the backbone gets momentum 0.9 and the gained head momentum 0,
    the paper's CIFAR NGM-SGD.
    """
    bench = BENCHMARKS[cfg.benchmark]
    n = len(generators)
    if bench.model == "mlp":
        model = GainMLP(sizes=(stream.train_x.shape[1], 400, 400, stream.n_classes), n_runs=n,
                        gain_target=cfg.gain_target)
        model.reset_parameters(generators)
        return model.to(cfg.device), list(model.parameters())
    from lcne.models.resnet import SlimResNet18

    model = SlimResNet18(n_runs=n, n_classes=stream.n_classes, in_size=bench.in_size,
                         in_channels=stream.train_x.shape[1], generators=generators)
    backbone_momentum = [0.9 if (sp.gain_driven and sp.momentum == 0.0 and not sp.lr_from_gain) else sp.momentum
                         for sp in specs]
    groups = [
        {"params": model.backbone_parameters(), "momentum": backbone_momentum},
        {"params": model.head_parameters(), "momentum": [sp.momentum for sp in specs]},
    ]
    return model.to(cfg.device), groups


def _jsonable(value):
    """JSON fallback for values a custom controller's config() may hold (arrays, tensors)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def controllers_json(configs: Dict[str, dict]) -> str:
    """The ``controllers`` attribute: JSON ``{method: {"gain", "controller", "uncertainty"}}``."""
    return json.dumps(configs, sort_keys=True, default=_jsonable)


def method_hooks(cfg: RunConfig, run_methods: List[str], model) -> Dict[str, object]:
    """The ``train_joint`` keywords the runs' methods need, only those that apply:

    * ``lr_power`` (float tensor (R,)) when a learning-rate-from-gain run uses a power
      other than 1 (``lr-replay``: 2);
    * ``lr_factor`` (:class:`~lcne.experiments.training_hooks.RewarmSchedule`) when a run
      uses the ``rewarm`` schedule (``lr-rewarm``);
    * ``weight_average`` (:class:`~lcne.experiments.training_hooks.WeightEMA`) when a run
      is evaluated on its averaged weights (``weight-ema``).

    ``run_methods``: the method of every run, in batch order (length R).
    """
    params = method_params(cfg.method_params, run_methods)
    specs = [METHODS[m] for m in run_methods]
    hooks: Dict[str, object] = {}
    if any(sp.lr_from_gain and sp.lr_power != 1.0 for sp in specs):
        hooks["lr_power"] = torch.tensor([sp.lr_power for sp in specs], dtype=torch.float32)
    rewarm = [sp.lr_schedule == "rewarm" for sp in specs]
    if any(rewarm):
        hooks["lr_factor"] = RewarmSchedule(rewarm, cfg.iterations, params["rewarm_drop"], params["rewarm_iters"])
    ema = [sp.evaluate_on == "ema" for sp in specs]
    if any(ema):
        hooks["weight_average"] = WeightEMA(model, ema, params["ema_decay"])
    return hooks


def _train_batch(methods, cfg, stream, bar, reference=None) -> Tuple[Dict[str, RunRecord], Dict[str, dict]]:
    """Train ``methods`` x seeds as one batch.

    Returns the records per method and, per method, what drove its gain:
    ``{"gain": <MethodSpec.gain>, "controller": config(), "uncertainty": config()}``.
    """
    seeds = list(cfg.seeds)
    runs = [(m, s) for m in methods for s in seeds]
    n = len(runs)
    generators = [torch.Generator().manual_seed(int(s)) for _, s in runs]
    specs = [METHODS[m] for m, _ in runs]
    model, param_groups = build_model(cfg, stream, specs, generators)
    optimizer = RunwiseOptimizer(
        param_groups,
        lr=[cfg.lr] * n,
        momentum=[sp.momentum for sp in specs],
        adam=[sp.optimizer == "adam" for sp in specs],
    )
    controller = lcne.StackedControllers(
        [build_controller(m, cfg, len(seeds), reference) for m in methods]
    )
    try:
        signal = lcne.make_signal(cfg.uncertainty, n_runs=n, **cfg.uncertainty_params)
    except TypeError as exc:
        raise ConfigError(f"uncertainty_params for {cfg.uncertainty!r}: {exc}") from None
    lr_runs = torch.tensor([sp.lr_from_gain for sp in specs])
    resets = torch.tensor([sp.reset_on_switch for sp in specs])
    hooks = method_hooks(cfg, [m for m, _ in runs], model)
    record = train_joint(
        model, optimizer, controller, signal, stream, generators, cfg.iterations, cfg.batch_size,
        device=cfg.device,
        on_iteration=(lambda t: bar.update(len(methods))) if bar is not None else None,
        lr_from_gain=lr_runs if lr_runs.any() else None,
        reset_on_switch=resets if resets.any() else None,
        eval_chunk=2000 if BENCHMARKS[cfg.benchmark].model == "mlp" else 250,
        eval_tasks=cfg.eval_tasks,
        **eval_options(cfg, stream, [s for _, s in runs]),  # schedule mask, fixed subsets, precision
        **hooks,
    )
    out = {}
    for i, m in enumerate(methods):
        out[m] = record.take(slice(i * len(seeds), (i + 1) * len(seeds)))
    # once per batch, outside the training loop; after it, so that parameters a front end
    # sets on its first call (the chance level of 'unexpected') are included. The front end
    # runs elementwise over the batch's runs; each method's entry describes its own seeds.
    unc = {**signal.config(), "n_runs": len(seeds)}
    configs = {m: {"gain": METHODS[m].gain, "controller": part.config(), "uncertainty": unc}
               for m, part in zip(methods, controller.parts)}
    for m in methods:  # the method parameters that ran, defaults included (weight-ema, lr-rewarm)
        if METHODS[m].params:
            configs[m]["method_params"] = method_params(cfg.method_params, [m])
    return out, configs


def run_experiment(
    config: RunConfig,
    stream: Optional[JointTrainingStream] = None,
    progress: bool = True,
) -> xr.Dataset:
    """Train every method in ``config`` over all seeds and return the results Dataset."""
    cfg = config.resolved()
    if stream is None:
        stream = build_stream(cfg.benchmark, cfg.data_dir, cfg.eval_split, rotation=cfg.rotation)
    batches = plan_batches(cfg)
    T = cfg.iterations * stream.n_tasks
    bar = None
    if progress:
        from tqdm.auto import tqdm

        total = T * sum(len(b) for b in batches)
        bar = tqdm(total=total, desc=cfg.benchmark, unit="it", mininterval=0.5)
    records: Dict[str, RunRecord] = {}
    configs: Dict[str, dict] = {}
    started = time.perf_counter()
    try:
        for methods in batches:
            if bar is not None:
                bar.set_postfix_str(",".join(methods))
            reference = records["ngm"].gain if "ngm" in records else None
            batch_records, batch_configs = _train_batch(methods, cfg, stream, bar, reference)
            records.update(batch_records)
            configs.update(batch_configs)
    finally:
        if bar is not None:
            bar.close()
    parts = [
        record_to_dataset(records[m], method_label(m, cfg), cfg.seeds, cfg.iterations)
        for m in cfg.optimizers
    ]
    ds = concat_methods(parts)
    ran = controllers_json({method_label(m, cfg): configs[m] for m in cfg.optimizers})
    return finish_attrs(ds, cfg.to_json(), cfg.benchmark, cfg.iterations,
                        {"data_source": stream.source, "controllers": ran, "dataset": stream.dataset,
                         "data_files": json.dumps(stream.data_files, sort_keys=True),
                         "train_seconds": round(time.perf_counter() - started, 3),
                         "torch_threads": torch.get_num_threads()})
