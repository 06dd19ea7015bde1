"""Cortical-like PyTorch networks whose layers take a gain.

All networks are batched over independent runs: parameters carry a leading ``n_runs``
axis and inputs are ``(n_runs, batch, ...)``. A single run is ``n_runs=1``.
"""
from lcne.models.gain_linear import GainLinear
from lcne.models.mlp import GAIN_TARGETS, GainMLP

__all__ = ["GAIN_TARGETS", "GainLinear", "GainMLP"]
