"""The paper's initialisation for a user's own fully connected network.

:func:`paper_init_` gives the ``nn.Linear`` layers of any module (an ``nn.Sequential``
784-400-400-10, say) exactly the initial weights that :class:`~lcne.models.GainMLP`
draws for the same generator: N(0, 0.01^2) for the hidden layers, N(0, 0.05^2) for the
output layer, biases zero (Rodriguez-Garcia, Ghosh & Ramaswamy 2025, arXiv:2507.14056;
``docs/protocol.md``). It does so by building a one-run GainMLP of the same sizes,
initialising it from ``generator`` and copying its weights, so the recipe is GainMLP's
own and the generator ends in the state ``lcne run`` leaves it in before it samples the
first batch (``lcne run`` seeds one generator per run with the run's seed and uses it
for the weights, then for the batches).

Examples
--------
>>> import torch
>>> from torch import nn
>>> from lcne.models import GainMLP
>>> net = nn.Sequential(nn.Linear(6, 5, bias=False), nn.ReLU(), nn.Linear(5, 3, bias=False))
>>> _ = paper_init_(net, torch.Generator().manual_seed(42))
>>> ref = GainMLP(sizes=(6, 5, 3), n_runs=1)
>>> ref.reset_parameters([torch.Generator().manual_seed(42)])
>>> torch.equal(net[0].weight, ref.layers[0].weight[0]), torch.equal(net[2].weight, ref.layers[1].weight[0])
(True, True)
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from lcne.gain_loop import GainUsageError
from lcne.models.mlp import GainMLP

__all__ = ["paper_init_"]


def paper_init_(model: nn.Module, generator: Optional[torch.Generator] = None,
                hidden_std: float = 0.01, output_std: float = 0.05) -> nn.Module:
    """Initialise the ``nn.Linear`` layers of ``model`` (in module order) like GainMLP.

    Parameters
    ----------
    model : nn.Module
        Its ``nn.Linear`` layers, in the order of ``model.modules()``, must form a chain
        (each layer's ``in_features`` is the previous one's ``out_features``); the last
        one is the output layer.
    generator : torch.Generator, optional
        Source of the draws (default: the global generator). Seed it with the run's seed
        and use it afterwards for the batches to follow ``lcne run``.
    hidden_std, output_std : float
        Standard deviations of the hidden and output weights.

    Returns
    -------
    nn.Module
        ``model``, initialised in place (biases, when present, set to zero).
    """
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise GainUsageError(f"paper_init_: {type(model).__name__} has no nn.Linear layer")
    for prev, cur in zip(linears, linears[1:]):
        if cur.in_features != prev.out_features:
            raise GainUsageError(
                f"paper_init_: the Linear layers do not form a chain ({prev.out_features} outputs "
                f"feed a layer with {cur.in_features} inputs)"
            )
    sizes = (linears[0].in_features, *(m.out_features for m in linears))
    with torch.random.fork_rng(devices=[]):  # GainMLP's constructor draws from the global generator
        ref = GainMLP(sizes=sizes, n_runs=1, hidden_init_std=hidden_std, output_init_std=output_std)
    ref.reset_parameters(None if generator is None else [generator])
    with torch.no_grad():
        for layer, src in zip(linears, ref.layers):
            layer.weight.copy_(src.weight[0])
            if layer.bias is not None:
                layer.bias.zero_()
    return model
