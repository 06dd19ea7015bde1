"""Uncertainty signals computed from a network's read-out.

The paper drives its gain with the Shannon entropy of the softmax output, averaged
over the current training mini-batch, in nats (natural logarithm), not normalised.
"""
from __future__ import annotations

import math

import torch

from lcne.gain_controllers import lazy_factory

__all__ = [
    "EntropySignal",
    "UNCERTAINTY_SIGNALS",
    "UncertaintySignal",
    "make_signal",
    "register_signal",
    "softmax_entropy",
]


def softmax_entropy(logits: torch.Tensor, normalise: bool = False) -> torch.Tensor:
    """Mean softmax entropy over the batch axis.

    Parameters
    ----------
    logits : Tensor, shape (..., batch, classes)
        Raw network outputs; leading axes (e.g. runs) are kept.
    normalise : bool
        Divide by ``log(classes)`` so the result lies in [0, 1] (the paper does not).

    Returns
    -------
    Tensor, shape (...)
        ``H = -(1/B) sum_b sum_c p_bc log p_bc`` in nats (or in units of ``log C``).

    Examples
    --------
    >>> import torch
    >>> round(float(softmax_entropy(torch.zeros(4, 10))), 4)  # uniform over 10 classes: ln 10
    2.3026
    >>> softmax_entropy(torch.zeros(3, 4, 10)).shape             # one value per run
    torch.Size([3])
    """
    logp = torch.log_softmax(logits, dim=-1)
    h = -(logp.exp() * logp).sum(dim=-1).mean(dim=-1)
    if normalise:
        h = h / math.log(logits.shape[-1])
    return h


class UncertaintySignal:
    """Base class of the pluggable uncertainty front ends that drive an LC controller.

    The training loop calls the front end once per training iteration, after the
    optimizer step, with what that iteration produced::

        drive = signal(logits, losses)      # -> Tensor (n_runs,)
        controller.step(drive)

    Parameters
    ----------
    n_runs : int
        Number of independent runs batched together.

    Call arguments
    --------------
    logits : Tensor, shape (n_runs, batch, classes)
        Outputs of the training forward pass (detached).
    losses : Tensor, shape (n_runs, batch)
        Per-sample cross-entropy losses of that pass (nats, detached).

    Subclasses declare ``state_variables`` (recorded as ``unc_<name>``, each ``(n_runs,)``)
    and return them from :meth:`state`.
    """

    name = "base"
    state_variables: tuple = ()

    def __init__(self, n_runs: int = 1):
        self.n_runs = int(n_runs)

    def __call__(self, logits: torch.Tensor, losses: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def state(self) -> dict:
        return {}

    def config(self) -> dict:
        """Name and parameters as plain JSON values: ``make_signal(**s.config())``
        rebuilds the front end (stored by ``lcne run`` in the results attribute
        ``controllers``)."""
        return {"name": self.name, "n_runs": self.n_runs}


class EntropySignal(UncertaintySignal):
    """The paper's drive: mean softmax entropy of the training batch (nats).

    ``H = -(1/B) sum_b sum_c p_bc ln p_bc``; with ``normalise=True`` divided by ``ln C``.
    """

    name = "entropy"

    def __init__(self, n_runs: int = 1, normalise: bool = False):
        super().__init__(n_runs)
        self.normalise = bool(normalise)

    def __call__(self, logits, losses):
        return softmax_entropy(logits, normalise=self.normalise)

    def config(self):
        return {**super().config(), "normalise": self.normalise}


#: name -> factory ``f(n_runs, **params) -> UncertaintySignal``
UNCERTAINTY_SIGNALS = {
    "entropy": EntropySignal,
    # the change-detection front ends (lcne.change_detection)
    "cpp": lazy_factory("lcne.change_detection", "cpp"),
    "unexpected": lazy_factory("lcne.change_detection", "unexpected"),
}


def register_signal(name: str, factory) -> None:
    """Make an uncertainty front end selectable by ``name``."""
    UNCERTAINTY_SIGNALS[name] = factory


def make_signal(name: str, n_runs: int = 1, **params) -> UncertaintySignal:
    """Build a registered uncertainty front end by name."""
    from lcne.errors import LCParameterError

    try:
        factory = UNCERTAINTY_SIGNALS[name]
    except KeyError:
        raise LCParameterError(
            "uncertainty", f"unknown uncertainty signal {name!r}; known: {', '.join(sorted(UNCERTAINTY_SIGNALS))}"
        ) from None
    return factory(n_runs=n_runs, **params)

