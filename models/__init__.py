"""Cortical-like PyTorch networks whose layers take a gain, and gain for any user module.

lcne's own networks (:class:`GainLinear`, :class:`GainMLP`, and
:class:`~lcne.models.resnet.SlimResNet18`) are batched over independent runs: parameters
carry a leading ``n_runs`` axis and inputs are ``(n_runs, batch, ...)``; a single run is
``n_runs=1``. :func:`modulate` puts the same gain on the Linear and Conv layers of any
existing ``torch.nn.Module`` (``docs/own_model.md``); :func:`paper_init_` gives such a
model the initial weights of the paper's MLP.
"""
from lcne.models.gain_linear import GainLinear
from lcne.models.mlp import GAIN_TARGETS, GainMLP
from lcne.models.modulate import Modulation, modulate
from lcne.models.paper_init import paper_init_

__all__ = ["GAIN_TARGETS", "GainLinear", "GainMLP", "Modulation", "modulate", "paper_init_"]
