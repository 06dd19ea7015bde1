"""When a run is evaluated: evaluation schedules, parsed from a short spec string.

In incremental joint training the network is evaluated after training iterations; at
full size that evaluation is most of the work. A schedule says after which iterations
it happens. Iterations are counted inside each context (i = 0 .. I-1, I iterations per
context); the same pattern repeats in every context, context 1 included.

Grammar (``RunConfig.eval_schedule``, ``lcne run --eval-schedule``)::

    every          every iteration (the default; exact)
    every:K        iterations i = 0, K, 2K, ... of each context (K >= 1; every:1 = every)
    switch:W/K     iterations i < W of each context (a dense window of W iterations after
                   each switch, and at the start of context 1), then i = 0, K, 2K, ...
                   (W >= 0, K >= 1)

Every schedule also evaluates the **last iteration of each context** (i = I-1): F_k, the
final accuracy of block k, needs it. Iteration i = 0 (the first after a switch) is
always in as well. Not evaluated iterations are NaN in the results, never filled in.

>>> s = EvalSchedule.parse("switch:3/4")
>>> s.mask(iterations_per_task=10, n_tasks=2).nonzero()[0].tolist()
[0, 1, 2, 4, 8, 9, 10, 11, 12, 14, 18, 19]
>>> s.to_spec(), s.is_dense, round(s.fraction(10, 2), 2)
('switch:3/4', False, 0.6)
>>> EvalSchedule.parse("every:1").to_spec()
'every'

This module also holds what the runner passes to
:func:`lcne.experiments.protocol.train_joint` for a run configuration's evaluation
options (:func:`eval_options`): the schedule's mask, the fixed stratified test subsets
(:mod:`lcne.experiments.eval_subset`) and the precision, checked against the hardware
(:func:`check_precision`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from lcne.experiments.errors import ConfigError

__all__ = [
    "EvalSchedule",
    "GRAMMAR",
    "PRECISIONS",
    "parse_schedule",
    "check_precision",
    "bf16_support",
    "eval_options",
]

#: the schedule grammar, as quoted in error messages
GRAMMAR = "every, every:K (K >= 1) or switch:W/K (W >= 0, K >= 1), e.g. switch:20/10"

#: arithmetic of the evaluation forward passes
PRECISIONS = ("fp32", "bf16")

_EVERY = re.compile(r"^every(?::(\d+))?$")
_SWITCH = re.compile(r"^switch:(\d+)/(\d+)$")


@dataclass(frozen=True)
class EvalSchedule:
    """An evaluation schedule: a dense window of ``window`` iterations at the start of each
    context, then every ``stride``-th iteration (i % stride == 0), and always the last.

    ``every`` is ``window=0, stride=1``; ``every:K`` is ``window=0, stride=K``. Build one
    with :meth:`parse`; :meth:`to_spec` gives the canonical spec back.
    """

    window: int = 0
    stride: int = 1

    @classmethod
    def parse(cls, spec) -> "EvalSchedule":
        """Parse a spec string (see the module docstring); a bad one is a one-line
        :class:`~lcne.experiments.errors.ConfigError` naming ``eval_schedule``."""
        text = spec.strip().lower() if isinstance(spec, str) else None
        m = _EVERY.match(text) if text is not None else None
        if m:
            stride = int(m.group(1)) if m.group(1) is not None else 1
            if stride >= 1:
                return cls(0, stride)
        m = _SWITCH.match(text) if text is not None and not m else None
        if m and int(m.group(2)) >= 1:
            return cls(int(m.group(1)), int(m.group(2)))
        shown = repr(spec) if len(repr(spec)) <= 40 else repr(spec)[:37] + "..."
        raise ConfigError(f"eval_schedule: {shown} is not a schedule; use {GRAMMAR}")

    def to_spec(self) -> str:
        """Canonical spec: ``parse(s.to_spec()) == s``."""
        if self.stride == 1:
            return "every"
        if self.window == 0:
            return f"every:{self.stride}"
        return f"switch:{self.window}/{self.stride}"

    @property
    def is_dense(self) -> bool:
        """True when every iteration is evaluated whatever the context length (``every``)."""
        return self.stride == 1

    def context_mask(self, iterations_per_task: int) -> np.ndarray:
        """bool (iterations_per_task,): which iterations of one context are evaluated."""
        i = np.arange(int(iterations_per_task))
        mask = (i < self.window) | (i % self.stride == 0)
        if mask.size:
            mask[-1] = True
        return mask

    def mask(self, iterations_per_task: int, n_tasks: int) -> np.ndarray:
        """bool (iterations_per_task * n_tasks,): True after the iterations evaluated.

        The last iteration of every context is always True (F_k needs it)."""
        return np.tile(self.context_mask(iterations_per_task), int(n_tasks))

    def n_evaluated(self, iterations_per_task: int, n_tasks: int) -> int:
        """Number of evaluated iterations of a whole run."""
        return int(self.mask(iterations_per_task, n_tasks).sum())

    def fraction(self, iterations_per_task: int, n_tasks: int = 1) -> float:
        """Fraction of the iterations evaluated (1.0 for ``every``)."""
        return self.n_evaluated(iterations_per_task, n_tasks) / (int(iterations_per_task) * int(n_tasks))


def parse_schedule(spec) -> EvalSchedule:
    """:meth:`EvalSchedule.parse` as a function."""
    return EvalSchedule.parse(spec)


def _cpu_flags() -> Optional[set]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        return None
    return None


def bf16_support(device: str = "cpu"):
    """``(ok, reason)``: whether bf16 evaluation is worth it on ``device``.

    CUDA: the device supports bf16 (``torch.cuda.is_bf16_supported()``). CPU: the CPU has
    AMX-BF16 tiles (``amx_bf16`` in ``/proc/cpuinfo``). A CPU with AVX512-BF16 alone
    does *not* count: there oneDNN's bf16 batched matmul (brg_matmul:avx512_core_bf16)
    measured 1.5x *slower* than MKL's fp32 one on the GainMLP product (20, 1000, 784) x
    (20, 784, 400), 170 ms against 110 ms on one thread, so bf16 would only cost accuracy.
    """
    if str(device).startswith("cuda"):
        import torch

        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return True, "CUDA device with bf16 support"
        return False, "this CUDA device has no bf16 support"
    flags = _cpu_flags()
    if flags is None:
        return False, "cannot read the CPU flags (/proc/cpuinfo), so no fast bf16 path is known"
    if "amx_bf16" in flags:
        return True, "CPU with AMX-BF16"
    if "avx512_bf16" in flags:
        return False, ("this CPU has AVX512-BF16 but no AMX-BF16, where bf16 matmuls measured 1.5x slower "
                       "than fp32")
    return False, "this CPU has no bf16 matrix unit (neither AMX-BF16 nor AVX512-BF16)"


def check_precision(precision: str, device: str = "cpu") -> None:
    """Refuse ``eval_precision`` bf16 where it would not be faster (one-line ConfigError)."""
    if precision not in PRECISIONS:
        raise ConfigError(f"eval_precision: unknown value {precision!r}; allowed: {', '.join(PRECISIONS)}")
    if precision == "bf16":
        ok, reason = bf16_support(device)
        if not ok:
            raise ConfigError(f"eval_precision: bf16 refused on {device}: {reason}; use eval_precision fp32 "
                              f"(exact) or a CUDA device / a CPU with AMX")


def eval_options(cfg, stream, run_seeds: Sequence[int]) -> dict:
    """Keyword arguments of :func:`~lcne.experiments.protocol.train_joint` for the
    evaluation options of ``cfg`` (a resolved :class:`~lcne.experiments.config.RunConfig`).

    ``run_seeds``: the seed of every run of the batch, in run order. Returns
    ``eval_mask`` (None for ``every``, so exact mode takes the untouched path),
    ``eval_index`` (the fixed subsets, (n_runs, n_tasks, N), or None) and
    ``eval_precision``.
    """
    from lcne.experiments.eval_subset import draw_subsets

    schedule = EvalSchedule.parse(cfg.eval_schedule)
    mask = None if schedule.is_dense else schedule.mask(cfg.iterations, stream.n_tasks)
    index = None
    if cfg.eval_subset is not None:
        index = draw_subsets(stream, cfg.eval_subset, run_seeds)
    return {"eval_mask": mask, "eval_index": index, "eval_precision": cfg.eval_precision}
