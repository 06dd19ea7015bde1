"""Gain controllers: the seam between LC-NE dynamics and the network's layers.

A controller holds the state of ``n_runs`` independent gain processes (one per run in a
batched computation). The training loop uses it in exactly two places::

    gain = controller.gain          # g(t): already contains H(t-1) -- the one-step lag
    ...forward/backward/optimizer step with `gain`, then evaluation with `gain`...
    controller.step(entropy)        # g(t+1) from g(t) and H(t)

Time unit: one *training iteration*. Controllers with continuous-time dynamics (the
explicit LC models) say how much model time one iteration advances.

Every controller declares ``state_variables``; :meth:`GainController.state` returns one
tensor of shape ``(n_runs,)`` per name, which the recorder stores as ``lc_<name>``.
"""
from __future__ import annotations

import importlib
from typing import Callable, Dict

import torch

__all__ = [
    "CONTROLLERS",
    "ConstantGain",
    "GainController",
    "PaperGain",
    "ReplayGain",
    "StackedControllers",
    "lazy_factory",
    "make_controller",
    "register_controller",
]


def _per_run(value, n_runs: int, name: str) -> torch.Tensor:
    """Broadcast a scalar or a length-``n_runs`` sequence to a float64 tensor (n_runs,)."""
    t = torch.as_tensor(value, dtype=torch.float64).flatten()
    if t.numel() == 1:
        return t.expand(n_runs).clone()
    if t.numel() != n_runs:
        raise ValueError(f"{name}: got {t.numel()} values for {n_runs} runs")
    return t.clone()


class GainController:
    """Base class: a gain process per run, advanced once per training iteration.

    Subclasses implement :meth:`_advance` and may extend ``state_variables``.

    Parameters
    ----------
    n_runs : int
        Number of independent runs batched together.
    """

    #: names of the recorded state variables (each ``(n_runs,)``); ``gain`` is always first
    state_variables: tuple = ("gain",)

    def __init__(self, n_runs: int = 1):
        if n_runs < 1:
            raise ValueError("n_runs must be >= 1")
        self.n_runs = int(n_runs)
        self._gain = torch.ones(self.n_runs, dtype=torch.float64)

    @property
    def gain(self) -> torch.Tensor:
        """Gain to apply at the current iteration, shape ``(n_runs,)``, float32."""
        return self._gain.to(torch.float32)

    def step(self, drive: torch.Tensor) -> torch.Tensor:
        """Advance one training iteration with this iteration's uncertainty ``drive``.

        Parameters
        ----------
        drive : Tensor, shape (n_runs,)
            Uncertainty of the batch just trained on (nats for softmax entropy).

        Returns
        -------
        Tensor, shape (n_runs,)
            The gain for the next iteration (also available as :attr:`gain`).
        """
        drive = torch.as_tensor(drive, dtype=torch.float64).reshape(self.n_runs)
        self._gain = self._advance(drive)
        return self.gain

    def _advance(self, drive: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def state(self) -> Dict[str, torch.Tensor]:
        """Current state, one float64 tensor ``(n_runs,)`` per name in ``state_variables``."""
        return {"gain": self._gain.clone()}

    def config(self) -> dict:
        """Name and parameters as plain JSON values (floats, lists, strings, None).

        ``lcne run`` stores it per method in the results attribute ``controllers``
        (``docs/results-schema.md``). ``name`` is the registered name the controller was
        built under and the other keys (``n_runs`` included) are its keyword arguments,
        so ``make_controller(**c.config())`` rebuilds it for controllers whose
        parameters are plain values (all but :class:`ReplayGain`). Per-run parameters
        are lists of ``n_runs`` values.
        """
        return {"name": self.config_name(), "n_runs": self.n_runs}

    def config_name(self) -> str:
        """Name under which the controller is registered (set by :func:`make_controller`)."""
        return getattr(self, "registry_name", None) or getattr(self, "name", type(self).__name__)


class ConstantGain(GainController):
    """Gain held fixed at ``value`` (baselines use 1: the plain network)."""

    name = "constant"

    def __init__(self, n_runs: int = 1, value=1.0):
        super().__init__(n_runs)
        self.value = _per_run(value, self.n_runs, "value")
        self._gain = self.value.clone()

    def _advance(self, drive):
        return self.value.clone()

    def config(self):
        return {**super().config(), "value": self.value.tolist()}


class PaperGain(GainController):
    """The paper's leaky integrator (Rodriguez-Garcia et al. 2025, eq. 4).

    ``g(t+1) = gamma * g(t) + (1 - gamma) * g0 + eta * H(t)``

    with ``H(t)`` the mean softmax entropy (nats) of training batch ``t``. ``g0`` is the
    tonic baseline, ``eta * H`` the phasic burst. Time constant ``-1/ln(gamma)``
    iterations (about 9.5 for gamma = 0.9); steady state ``g0 + eta * H / (1 - gamma)``.

    Parameters
    ----------
    n_runs : int
    gamma : float in [0, 1)
        Decay per iteration.
    g0 : float
        Tonic baseline (dimensionless).
    eta : float or sequence of n_runs floats
        Burst scale (per nat of entropy). Per-run values allow batched eta sweeps.
    g_init : float, optional
        Initial gain; defaults to ``g0``.
    """

    name = "paper"

    def __init__(self, n_runs: int = 1, gamma: float = 0.9, g0: float = 1.0, eta=0.4, g_init=None):
        super().__init__(n_runs)
        self.gamma = float(gamma)
        self.g0 = float(g0)
        self.eta = _per_run(eta, self.n_runs, "eta")
        self.g_init = _per_run(self.g0 if g_init is None else g_init, self.n_runs, "g_init")
        self._gain = self.g_init.clone()

    def _advance(self, drive):
        return self.gamma * self._gain + (1.0 - self.gamma) * self.g0 + self.eta * drive

    def config(self):
        return {**super().config(), "gamma": self.gamma, "g0": self.g0, "eta": self.eta.tolist(),
                "g_init": self.g_init.tolist()}


def lazy_factory(module: str, name: str) -> Callable:
    """A factory that imports ``module`` when first called and builds ``module.FACTORIES[name]``.

    The registries below name every built-in choice statically; modules that build on
    this one (the explicit LC models) are imported only when one of their entries is
    used, so there is no import-time cycle and no registration side effect.
    """

    def build(n_runs: int = 1, **params):
        return importlib.import_module(module).FACTORIES[name](n_runs=n_runs, **params)

    build.__name__ = build.__qualname__ = f"lazy_factory({module!r}, {name!r})"
    return build


#: name -> factory ``f(n_runs, **params) -> GainController``: the ``--lc`` choices
CONTROLLERS: Dict[str, Callable[..., GainController]] = {
    "constant": ConstantGain,
    "paper": PaperGain,
    # the explicit LC models (lcne.lc_adapters)
    "gilzenrat-phasic": lazy_factory("lcne.lc_adapters", "gilzenrat-phasic"),
    "gilzenrat-tonic": lazy_factory("lcne.lc_adapters", "gilzenrat-tonic"),
    "adaptive": lazy_factory("lcne.lc_adapters", "adaptive"),
}


def register_controller(name: str, factory: Callable[..., GainController]) -> None:
    """Make a controller of your own selectable by ``name`` (``make_controller``, ``--lc``)."""
    CONTROLLERS[name] = factory


def make_controller(name: str, n_runs: int = 1, **params) -> GainController:
    """Build a registered controller by name."""
    from lcne.errors import LCParameterError

    try:
        factory = CONTROLLERS[name]
    except KeyError:
        raise LCParameterError(
            "lc", f"unknown gain controller {name!r}; known: {', '.join(sorted(CONTROLLERS))}"
        ) from None
    controller = factory(n_runs=n_runs, **params)
    try:
        controller.registry_name = name  # config() reports the name it was built under
    except AttributeError:  # pragma: no cover - a factory returning a frozen object
        pass
    return controller


class StackedControllers(GainController):
    """Several controllers side by side, their runs concatenated in order.

    Lets runs driven by different LC models (or by none) share one batched network.
    ``state()`` holds the union of the parts' state variables, NaN for runs whose
    controller does not have that variable.
    """

    name = "stacked"

    def __init__(self, parts):
        self.parts = list(parts)
        super().__init__(sum(p.n_runs for p in self.parts))
        names = ["gain"]
        for p in self.parts:
            names += [n for n in p.state_variables if n not in names]
        self.state_variables = tuple(names)
        self._gain = torch.cat([p._gain for p in self.parts])

    def _advance(self, drive):
        out, i = [], 0
        for p in self.parts:
            p.step(drive[i : i + p.n_runs])
            out.append(p._gain)
            i += p.n_runs
        return torch.cat(out)

    def state(self):
        out = {}
        for name in self.state_variables:
            cols = []
            for p in self.parts:
                st = p.state()
                cols.append(st[name] if name in st else torch.full((p.n_runs,), float("nan"), dtype=torch.float64))
            out[name] = torch.cat(cols)
        return out

    def config(self):
        return {**super().config(), "parts": [p.config() for p in self.parts]}


class ReplayGain(GainController):
    """Replays a recorded gain trace, one value per iteration, ignoring the drive.

    The NGM-derived controls use it (``lcne.experiments.ngm_controls`` builds the traces):
    ``shuffled-gain`` gets the gain time course of *another* run, so the gain keeps its
    statistics but is decoupled from this run's uncertainty; ``switch-burst`` a seed- and
    context-averaged trace; ``lr-replay`` its own seed's trace, applied to the learning rate.

    Parameters
    ----------
    trace : array (n_runs, iterations)
        Gain applied at each iteration; after the last one the final value is held.
    """

    name = "replay"

    def __init__(self, n_runs: int = 1, trace=None):
        super().__init__(n_runs)
        tr = torch.as_tensor(trace, dtype=torch.float64)
        if tr.dim() != 2 or tr.shape[0] != self.n_runs:
            raise ValueError(f"trace: expected shape ({self.n_runs}, iterations), got {tuple(tr.shape)}")
        self.trace, self._t = tr, 0
        self._gain = tr[:, 0].clone()

    def _advance(self, drive):
        self._t = min(self._t + 1, self.trace.shape[1] - 1)
        return self.trace[:, self._t].clone()

    def config(self):
        """``trace`` itself is not included (n_runs x iterations values): in a results
        file the replayed trace is the method's own ``gain`` variable."""
        return {**super().config(), "iterations": int(self.trace.shape[1])}

