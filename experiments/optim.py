"""Optimizers over parameters stacked along a leading run axis, with per-run settings.

:class:`RunwiseOptimizer` lets runs with *different* methods (SGD, momentum SGD, Adam,
different learning rates) share one batched model: every parameter has shape
``(n_runs, ...)`` and each run r is updated with its own rule:

* SGD with momentum mu_r (mu_r = 0: plain SGD), as in ``torch.optim.SGD``::

      b <- mu_r * b + grad ;  p <- p - lr_r * b        (b starts at 0)

* Adam (``torch.optim.Adam`` defaults: betas 0.9, 0.999, eps 1e-8)::

      m <- b1 m + (1 - b1) grad ;  v <- b2 v + (1 - b2) grad^2
      p <- p - lr_r * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

Per-run step counts make :meth:`reset` (clearing a run's optimizer state, e.g. at a
context switch) exact. ``lr_scale`` in :meth:`step` multiplies the learning rate of
each run for that step only (used by the entropy-driven learning-rate ablation).
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

import torch

__all__ = ["RunwiseOptimizer", "contiguous_runs"]


class RunwiseOptimizer:
    """Per-run SGD / momentum SGD / Adam over run-stacked parameters.

    Parameters
    ----------
    params : iterable of Parameter, each of shape (n_runs, ...), or of parameter groups
        ``{"params": [...], "momentum": per-run sequence}`` whose momentum overrides the
        default for those parameters (the paper's CIFAR NGM: 0.9 on the backbone, 0 on
        the gained head)
    lr : sequence of n_runs floats
    momentum : sequence of n_runs floats (ignored for Adam runs)
    adam : sequence of n_runs bools, True where the run uses Adam
    betas, eps : Adam constants (PyTorch defaults)
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: Sequence[float],
        momentum: Sequence[float],
        adam: Sequence[bool],
        betas=(0.9, 0.999),
        eps: float = 1e-8,
    ):
        groups = list(params)
        if groups and not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.params, group_momentum = [], []
        for grp in groups:
            for p in grp["params"]:
                if p.requires_grad:
                    self.params.append(p)
                    group_momentum.append(grp.get("momentum", momentum))
        if not self.params:
            raise ValueError("no trainable parameters")
        n = self.params[0].shape[0]
        self.n_runs = n
        dev = self.params[0].device
        self.lr = torch.as_tensor(lr, dtype=torch.float32, device=dev).reshape(n)
        self.momentum_of = [torch.as_tensor(m, dtype=torch.float32, device=dev).reshape(n) for m in group_momentum]
        self.adam = torch.as_tensor(adam, dtype=torch.bool, device=dev).reshape(n)
        self.betas, self.eps = betas, eps
        self.steps = torch.zeros(n, dtype=torch.float32, device=dev)
        self.state = [
            {"buf": torch.zeros_like(p), "m": torch.zeros_like(p), "v": torch.zeros_like(p)}
            for p in self.params
        ]
        # Runs of one method sit next to each other in a batch, so each parameter splits
        # into a few contiguous run ranges that share one rule; each range is updated
        # in place through a view (no work for rules a run does not use).
        self._segments = [_segments(self.adam, mom) for mom in self.momentum_of]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    def reset(self, runs: Optional[torch.Tensor] = None) -> None:
        """Clear the optimizer state (velocity, Adam moments, step count) of ``runs``.

        ``runs``: bool mask (n_runs,); None clears every run.
        """
        mask = torch.ones(self.n_runs, dtype=torch.bool) if runs is None else torch.as_tensor(runs)
        mask = mask.to(self.steps.device)
        self.steps[mask] = 0
        for st in self.state:
            for t in st.values():
                t[mask] = 0

    @torch.no_grad()
    def step(self, lr_scale: Optional[torch.Tensor] = None) -> None:
        b1, b2 = self.betas
        self.steps += 1
        lr = self.lr if lr_scale is None else self.lr * lr_scale.to(self.lr)
        for p, st, mom, segments in zip(self.params, self.state, self.momentum_of, self._segments):
            if p.grad is None:
                continue
            shape = (self.n_runs,) + (1,) * (p.dim() - 1)
            for rule, a, b in segments:
                g, w, run_lr = p.grad[a:b], p.data[a:b], lr[a:b].view((b - a,) + shape[1:])
                if rule == "sgd":  # momentum 0: p <- p - lr g, as torch.optim.SGD
                    w.sub_(run_lr * g)
                elif rule == "momentum":
                    buf = st["buf"][a:b]
                    buf.mul_(mom[a:b].view(run_lr.shape)).add_(g)
                    w.sub_(run_lr * buf)
                else:  # adam, per-run step counts for exact resets
                    m, v = st["m"][a:b], st["v"][a:b]
                    m.lerp_(g, 1 - b1)
                    v.mul_(b2).addcmul_(g, g, value=1 - b2)
                    t = self.steps[a:b].clamp(min=1).view(run_lr.shape)
                    denom = (v.sqrt() / (1 - b2**t).sqrt()).add_(self.eps)
                    w.addcdiv_(m * (run_lr / (1 - b1**t)), denom, value=-1.0)


def contiguous_runs(labels) -> list:
    """Maximal ranges of equal consecutive labels: ``[(label, start, stop)]``.

    >>> contiguous_runs(["sgd", "sgd", "adam", "sgd"])
    [('sgd', 0, 2), ('adam', 2, 3), ('sgd', 3, 4)]
    """
    out = []
    for r, label in enumerate(labels):
        if out and out[-1][0] == label:
            out[-1][2] = r + 1
        else:
            out.append([label, r, r + 1])
    return [tuple(s) for s in out]


def _segments(adam: torch.Tensor, momentum: torch.Tensor):
    """Maximal contiguous run ranges with one update rule: ``[(rule, start, stop)]``
    with rule ``"adam"``, ``"momentum"`` or ``"sgd"`` (momentum 0)."""
    return contiguous_runs(["adam" if a else ("sgd" if float(mu) == 0.0 else "momentum")
                            for a, mu in zip(adam.tolist(), momentum.tolist())])
