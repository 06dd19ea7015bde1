"""Gain-modulated linear layer, batched over independent runs.

Update equation (per run r, per output unit i)::

    y[r, b, i] = g[r, i] * sum_j W[r, i, j] * x[r, b, j] + bias[r, i]

The gain multiplies the pre-activation *after* the matmul and *before* the bias and
nonlinearity (Rodriguez-Garcia et al. 2025; equivalently ``W_eff = diag(g) W`` with an
unscaled bias). ``g`` is either one scalar per run (the paper: numerically global) or one
value per output unit. The layer does not own its gain: it is passed to ``forward`` by
the network, which gets it from a controller in :mod:`lcne` (read at iteration t, it
already contains the uncertainty of iteration t-1: the one-step lag).
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import nn

__all__ = ["GainLinear"]


class GainLinear(nn.Module):
    """``n_runs`` independent linear layers with a multiplicative pre-activation gain.

    Parameters
    ----------
    in_features, out_features : int
    n_runs : int
        Number of independent copies (one per run in a batched computation).
    init_std : float, optional
        Weights drawn from N(0, init_std**2); default PyTorch's Kaiming-uniform scale.
    train_bias : bool
        If False (the paper's MNIST networks) the bias is a frozen buffer of zeros.

    Shapes
    ------
    x : (n_runs, batch, in_features), or (batch, in_features) shared by all runs
    gain : None, (n_runs,) or (n_runs, out_features)
    output : (n_runs, batch, out_features)

    Examples
    --------
    >>> import torch
    >>> layer = GainLinear(3, 2, n_runs=2, init_std=0.1)
    >>> layer(torch.ones(2, 5, 3), gain=torch.tensor([1.0, 2.0])).shape
    torch.Size([2, 5, 2])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_runs: int = 1,
        init_std: Optional[float] = None,
        train_bias: bool = False,
    ):
        super().__init__()
        self.in_features, self.out_features, self.n_runs = in_features, out_features, n_runs
        self.init_std = init_std
        self.weight = nn.Parameter(torch.empty(n_runs, out_features, in_features))
        bias = torch.zeros(n_runs, out_features)
        if train_bias:
            self.bias = nn.Parameter(bias)
        else:
            self.register_buffer("bias", bias)
        self.reset_parameters()

    def reset_parameters(self, generators: Optional[Sequence[torch.Generator]] = None) -> None:
        """Draw each run's weights from that run's generator (biases to zero).

        A run therefore gets the same initial weights alone or inside a batch.
        """
        with torch.no_grad():
            for r in range(self.n_runs):
                gen = None if generators is None else generators[r]
                w = self.weight[r]
                if self.init_std is not None:
                    w.copy_(torch.randn(w.shape, generator=gen) * self.init_std)
                else:
                    bound = 1.0 / math.sqrt(self.in_features)
                    w.copy_((torch.rand(w.shape, generator=gen) * 2 - 1) * bound)
            self.bias.zero_()

    def forward(self, x: torch.Tensor, gain: Optional[torch.Tensor] = None) -> torch.Tensor:
        z = torch.matmul(x, self.weight.transpose(1, 2))  # (R, B, out)
        if gain is not None:
            g = gain.to(z.dtype)
            g = g.view(self.n_runs, 1, 1) if g.dim() == 1 else g.view(self.n_runs, 1, self.out_features)
            z = z * g
        return z + self.bias.unsqueeze(1)

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, n_runs={self.n_runs}"
