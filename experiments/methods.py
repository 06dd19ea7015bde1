"""Training methods: an optimizer plus the gain controller that drives the network.

Names used on the command line and in results:

========  ==========================================  ===============
name      weight update (lr 0.01 in the paper)         gain
========  ==========================================  ===============
``ngm``   SGD, momentum 0 (NGM-SGD, Algorithm 1)       LC controller (paper integrator by default)
``sgd``   SGD, momentum 0                              constant 1
``msgd``  SGD, momentum 0.9                            constant 1
``adam``  Adam, PyTorch defaults (betas 0.9, 0.999)    constant 1
========  ==========================================  ===============

Biases are frozen at zero for every method (the paper's "no biases" MNIST network), so
optimizers see only the weight matrices.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable

import torch

__all__ = ["MethodSpec", "METHODS", "make_optimizer"]


@dataclass(frozen=True)
class MethodSpec:
    """How one method updates weights and whether its gain is driven by an LC controller."""

    optimizer: str  # "sgd" or "adam"
    momentum: float = 0.0
    gain_driven: bool = False
    description: str = ""


METHODS: Dict[str, MethodSpec] = {
    "ngm": MethodSpec("sgd", 0.0, True, "NGM-SGD: uncertainty-driven gain + plain SGD"),
    "sgd": MethodSpec("sgd", 0.0, False, "SGD, momentum 0"),
    "msgd": MethodSpec("sgd", 0.9, False, "SGD, momentum 0.9"),
    "adam": MethodSpec("adam", 0.0, False, "Adam, default betas"),
}


def make_optimizer(spec: MethodSpec, params: Iterable[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """Build the torch optimizer of a method.

    All torch optimizers used here act elementwise, so one optimizer over parameters
    stacked along a leading run axis equals one optimizer per run.
    """
    params = [p for p in params if p.requires_grad]
    if spec.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=spec.momentum)
    if spec.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(f"unknown optimizer kind {spec.optimizer!r}")
