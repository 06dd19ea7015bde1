"""Per-run hooks of :func:`lcne.experiments.protocol.train_joint`: weight averaging for
evaluation and learning-rate schedules.

Both act on a batched model whose parameters and buffers carry a leading run axis
``(n_runs, ...)`` (:class:`lcne.models.GainMLP`, :class:`lcne.models.resnet.SlimResNet18`)
and on a boolean run mask: runs outside it are left exactly as they are.

* :class:`WeightEMA` -- the ``weight_average`` hook of ``weight-ema``: an exponential moving
  average of the masked runs' weights, updated after every optimizer step and swapped in
  for evaluation only.
* :class:`RewarmSchedule` -- the ``lr_factor`` hook of ``lr-rewarm``: after every switch the
  learning rate drops and ramps back linearly.

>>> import torch
>>> s = RewarmSchedule([True, False], iterations_per_task=10, drop=0.1, iters=4)
>>> [round(float(s(t, t % 10)[0]), 3) for t in (0, 9, 10, 11, 12, 14, 19)]   # context 1, then 2
[1.0, 1.0, 0.1, 0.325, 0.55, 1.0, 1.0]
>>> s(10, 0).tolist()[1]                                                      # unmasked run
1.0
"""
from __future__ import annotations

import contextlib
from typing import Iterator, List, Sequence, Tuple

import torch

from lcne.experiments.errors import ConfigError
from lcne.experiments.optim import contiguous_runs

__all__ = ["WeightEMA", "RewarmSchedule", "run_segments"]


def run_segments(mask) -> List[Tuple[int, int]]:
    """Maximal contiguous ranges ``[(start, stop)]`` of the True entries of a run mask."""
    return [(a, b) for on, a, b in contiguous_runs(torch.as_tensor(mask, dtype=torch.bool).tolist()) if on]


def _run_tensors(model: torch.nn.Module, n_runs: int):
    """The model's floating-point parameters and buffers, each with its leading run axis
    checked: ``[(name, tensor)]`` in a fixed order (parameters, then buffers)."""
    out = []
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        if not t.is_floating_point():
            continue
        if t.dim() == 0 or t.shape[0] != n_runs:
            raise ConfigError(
                f"weight-ema: {type(model).__name__}.{name} has shape {tuple(t.shape)}, no leading run axis of "
                f"size {n_runs}; weight averaging needs run-stacked tensors (GainMLP, SlimResNet18)")
        out.append((name, t))
    return out


class WeightEMA:
    """Exponential moving average of the weights of some runs, for evaluation.

    ``ema_0 = w_0`` (the weights when the object is built, i.e. the initialisation) and,
    after every optimizer step, ``ema_t = decay * ema_{t-1} + (1 - decay) * w_t``, with t
    counted in training iterations (time constant about ``1 / (1 - decay)`` iterations).
    Every floating-point parameter and buffer is averaged, the BatchNorm running
    statistics of the ResNet included; the training itself always uses the raw weights.

    Use in ``train_joint``: ``update(model)`` after each optimizer step, and evaluation
    inside ``with ema.swap(model):``, where the masked runs hold their averages (the raw
    weights are put back on exit, bit for bit).

    Parameters
    ----------
    model : torch.nn.Module
        Batched model, every floating tensor of shape (n_runs, ...).
    runs : sequence of bool
        One per run (n_runs): the runs whose evaluation uses the average; the others are
        never touched.
    decay : float
        Per iteration, 0 <= decay < 1.
    """

    def __init__(self, model: torch.nn.Module, runs: Sequence[bool], decay: float):
        if not 0.0 <= float(decay) < 1.0:
            raise ConfigError(f"method_params.ema_decay: {decay!r} must satisfy 0 <= ema_decay < 1")
        mask = torch.as_tensor(runs, dtype=torch.bool).flatten()
        self.decay = float(decay)
        self.n_runs = int(mask.numel())
        self.segments = run_segments(mask)
        self.names = [name for name, _ in _run_tensors(model, self.n_runs)]
        with torch.no_grad():
            self.average = [[t[a:b].detach().clone() for a, b in self.segments]
                            for _, t in _run_tensors(model, self.n_runs)]

    def _tensors(self, model) -> List[torch.Tensor]:
        tensors = _run_tensors(model, self.n_runs)
        if [n for n, _ in tensors] != self.names:
            raise ValueError("weight-ema: the model's parameters changed since the average was started")
        return [t for _, t in tensors]

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """One step of the average from the model's current (just updated) weights."""
        for avg, t in zip(self.average, self._tensors(model)):
            for part, (a, b) in zip(avg, self.segments):
                part.mul_(self.decay).add_(t[a:b], alpha=1.0 - self.decay)

    @contextlib.contextmanager
    def swap(self, model: torch.nn.Module) -> Iterator[None]:
        """Inside the block the masked runs hold their averaged weights."""
        tensors = self._tensors(model)
        saved = []
        with torch.no_grad():
            for avg, t in zip(self.average, tensors):
                saved.append([t[a:b].clone() for a, b in self.segments])
                for part, (a, b) in zip(avg, self.segments):
                    t[a:b].copy_(part)
        try:
            yield
        finally:
            with torch.no_grad():
                for raw, t in zip(saved, tensors):
                    for part, (a, b) in zip(raw, self.segments):
                        t[a:b].copy_(part)


class RewarmSchedule:
    """The ``lr-rewarm`` factor on the learning rate, per run.

    For runs in the mask, at global iteration t, iteration i within the current context::

        factor = 1                                    in context 1 (t < iterations_per_task)
        factor = drop + (1 - drop) * min(1, i / iters) in every later context

    so the factor is ``drop`` at the first iteration after a switch and 1 again from
    ``iters`` iterations after it. Other runs: factor 1. Calling the schedule with
    ``(t, i)`` returns a float32 tensor of shape (n_runs,).

    Parameters
    ----------
    runs : sequence of bool
        One per run (n_runs): the runs that follow the schedule.
    iterations_per_task : int
    drop : float
        Factor at the first iteration of a context, 0 <= drop <= 1.
    iters : int
        Length of the ramp in iterations, at least 1.
    """

    def __init__(self, runs: Sequence[bool], iterations_per_task: int, drop: float, iters: int):
        self.runs = torch.as_tensor(runs, dtype=torch.bool).flatten()
        self.iterations_per_task, self.drop, self.iters = int(iterations_per_task), float(drop), int(iters)
        if not 0.0 <= self.drop <= 1.0:
            raise ConfigError(f"method_params.rewarm_drop: {drop!r} must satisfy 0 <= rewarm_drop <= 1")
        if self.iters < 1:
            raise ConfigError(f"method_params.rewarm_iters: {iters!r} must be a positive integer")
        self._ones = torch.ones(self.runs.numel(), dtype=torch.float32)

    def factor(self, t: int, i: int) -> float:
        """The factor of a masked run at global iteration t, iteration i of its context."""
        if t < self.iterations_per_task:
            return 1.0
        return self.drop + (1.0 - self.drop) * min(1.0, i / self.iters)

    def __call__(self, t: int, i: int) -> torch.Tensor:
        f = self.factor(t, i)
        if f == 1.0:
            return self._ones
        return torch.where(self.runs, torch.tensor(f, dtype=torch.float32), self._ones)
