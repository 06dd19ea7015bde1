"""Run a benchmark: every method over every seed, one batched computation per method.

>>> from experiments.config import RunConfig
>>> from experiments.runner import run_experiment
>>> ds = run_experiment(RunConfig(optimizers=["ngm"], seeds=[42], iterations=2))  # doctest: +SKIP
"""
from __future__ import annotations

import logging
from typing import Optional

import torch
import xarray as xr

import lcne
from experiments.config import RunConfig
from experiments.methods import METHODS, make_optimizer
from experiments.protocol import train_joint
from experiments.results import finish_attrs, record_to_dataset
from experiments.streams import JointTrainingStream, build_stream
from models import GainMLP

__all__ = ["method_label", "run_experiment", "build_controller"]
log = logging.getLogger(__name__)


def method_label(method: str, cfg: RunConfig) -> str:
    """Name of a method in the results: ``ngm`` plus the LC model / front end when not the paper's."""
    if not METHODS[method].gain_driven:
        return method
    parts = [method]
    if cfg.lc != "paper":
        parts.append(cfg.lc)
    if cfg.uncertainty != "entropy":
        parts.append(cfg.uncertainty)
    return "+".join(parts)


def build_controller(method: str, cfg: RunConfig, n_runs: int):
    """The gain controller of ``method``: an LC model for gain-driven methods, else g = 1."""
    if not METHODS[method].gain_driven:
        return lcne.ConstantGain(n_runs=n_runs, value=1.0)
    params = dict(cfg.lc_params)
    if cfg.lc == "paper":
        params = {"gamma": cfg.gamma, "g0": cfg.g0, "eta": cfg.eta, **params}
    try:
        return lcne.make_controller(cfg.lc, n_runs=n_runs, **params)
    except TypeError as exc:
        from experiments.errors import ConfigError

        raise ConfigError(f"lc_params for {cfg.lc!r}: {exc}") from None


def run_experiment(
    config: RunConfig,
    stream: Optional[JointTrainingStream] = None,
    progress: bool = True,
) -> xr.Dataset:
    """Train every method in ``config`` over all seeds and return the results Dataset."""
    cfg = config.resolved()
    if stream is None:
        stream = build_stream(cfg.benchmark, cfg.data_dir)
    n_runs, T = len(cfg.seeds), cfg.iterations * stream.n_tasks
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=T * len(cfg.optimizers), desc=cfg.benchmark, unit="it", mininterval=0.5)
    parts = []
    try:
        for method in cfg.optimizers:
            spec = METHODS[method]
            label = method_label(method, cfg)
            if bar is not None:
                bar.set_postfix_str(label)
            generators = [torch.Generator().manual_seed(int(s)) for s in cfg.seeds]
            model = GainMLP(
                sizes=(stream.train_x.shape[1], 400, 400, stream.n_classes),
                n_runs=n_runs,
                gain_target=cfg.gain_target,
            )
            model.reset_parameters(generators)
            model.to(cfg.device)
            optimizer = make_optimizer(spec, model.parameters(), cfg.lr)
            controller = build_controller(method, cfg, n_runs)
            signal = lcne.make_signal(cfg.uncertainty, n_runs=n_runs)
            record = train_joint(
                model,
                optimizer,
                controller,
                signal,
                stream,
                generators,
                cfg.iterations,
                cfg.batch_size,
                device=cfg.device,
                on_iteration=(lambda t: bar.update(1)) if bar is not None else None,
            )
            parts.append(record_to_dataset(record, label, cfg.seeds, cfg.iterations))
    finally:
        if bar is not None:
            bar.close()
    ds = xr.concat(parts, dim="optimizer", data_vars="all", coords="minimal", join="outer")
    return finish_attrs(ds, cfg.to_json(), cfg.benchmark, cfg.iterations, {"data_source": stream.source})
