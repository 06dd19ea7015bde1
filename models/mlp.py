"""The paper's MNIST network: MLP 784-400-400-10 with ReLU and a gain on every layer."""
from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
from torch import nn

from lcne.models.gain_linear import GainLinear

__all__ = ["GainMLP", "GAIN_TARGETS"]

#: where the gain acts.
#: ``preactivation``: ``relu(g * (W x) + b)`` (paper);
#: ``slope``: ``relu(g * (W x + b))`` -- the slope of the unit's input-output curve;
#: ``temperature``: gain on the output logits only (softmax inverse temperature).
GAIN_TARGETS = ("preactivation", "slope", "temperature")

GainArg = Union[None, torch.Tensor, Sequence[Optional[torch.Tensor]]]


class GainMLP(nn.Module):
    """Fully connected network whose layers take a multiplicative gain.

    Defaults reproduce the paper: sizes 784-400-400-10, ReLU, weights N(0, 0.01^2) for
    hidden layers and N(0, 0.05^2) for the output layer, biases frozen at zero, the gain
    on all three layers.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first.
    n_runs : int
        Independent copies of the network (batched runs).
    hidden_init_std, output_init_std : float
    train_bias : bool
    gain_target : {"preactivation", "slope", "temperature"}
    gain_layers : sequence of int, optional
        Indices of the layers that receive the gain (default: all for
        ``preactivation``/``slope``; the output layer for ``temperature``).

    Shapes
    ------
    x : (n_runs, batch, sizes[0]) or (batch, sizes[0]) shared by all runs
    gain : (n_runs,) applied to every gained layer, or a list with one entry per layer
        (each None, (n_runs,) or (n_runs, units))
    output : logits (n_runs, batch, sizes[-1])
    """

    def __init__(
        self,
        sizes: Sequence[int] = (784, 400, 400, 10),
        n_runs: int = 1,
        hidden_init_std: float = 0.01,
        output_init_std: float = 0.05,
        train_bias: bool = False,
        gain_target: str = "preactivation",
        gain_layers: Optional[Sequence[int]] = None,
    ):
        super().__init__()
        if gain_target not in GAIN_TARGETS:
            raise ValueError(f"gain_target must be one of {GAIN_TARGETS}, got {gain_target!r}")
        n_layers = len(sizes) - 1
        self.n_runs, self.sizes, self.gain_target = n_runs, tuple(sizes), gain_target
        if gain_layers is None:
            gain_layers = [n_layers - 1] if gain_target == "temperature" else range(n_layers)
        self.gain_layers = tuple(int(i) for i in gain_layers)
        self.layers = nn.ModuleList(
            GainLinear(
                sizes[i],
                sizes[i + 1],
                n_runs=n_runs,
                init_std=output_init_std if i == n_layers - 1 else hidden_init_std,
                train_bias=train_bias,
            )
            for i in range(n_layers)
        )

    def reset_parameters(self, generators: Optional[Sequence[torch.Generator]] = None) -> None:
        """Re-initialise every layer in order, each run from its own generator."""
        for layer in self.layers:
            layer.reset_parameters(generators)

    def _layer_gains(self, gain: GainArg):
        if gain is None or isinstance(gain, torch.Tensor):
            return [gain if i in self.gain_layers else None for i in range(len(self.layers))]
        gains = list(gain)
        if len(gains) != len(self.layers):
            raise ValueError(f"got {len(gains)} per-layer gains for {len(self.layers)} layers")
        return gains

    def forward(self, x: torch.Tensor, gain: GainArg = None) -> torch.Tensor:
        gains = self._layer_gains(gain)
        last = len(self.layers) - 1
        for i, (layer, g) in enumerate(zip(self.layers, gains)):
            if self.gain_target == "slope" and g is not None:
                z = layer(x, None)
                g = g.view(self.n_runs, 1, 1) if g.dim() == 1 else g.view(self.n_runs, 1, -1)
                x = z * g
            else:
                x = layer(x, g)
            if i < last:
                x = torch.relu(x)
        return x
