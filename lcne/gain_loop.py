"""The LC in a user's own training loop: the one-step lag made explicit.

:class:`GainLoop` owns a gain controller (any of :data:`lcne.CONTROLLERS`: the paper's
integrator, the Gilzenrat LC, adaptive gain, a constant) and an uncertainty front end
(any of :data:`lcne.UNCERTAINTY_SIGNALS`: softmax entropy, change-point probability,
unexpected uncertainty). A training loop uses it in exactly two places::

    for x, y in batches:
        lc.read()                        # g(t) -> the modulated layers (holds H(t-1))
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
        lc.observe(logits, y)            # H(t) of this batch -> controller -> g(t+1)

which is the order of operations of ``lcne run`` (``docs/protocol.md``): the gain used
in iteration t already contains the uncertainty of iteration t-1, and ``observe`` does
not change the gain the layers hold, so an evaluation after it still runs at g(t).
Any ``torch.optim`` optimizer works: the loop only reads the batch's logits.

The gain goes to a *target*: anything with ``set_gain(tensor)`` and ``training``, such
as the handle returned by :func:`lcne.models.modulate.modulate`. This module uses only
tensors and duck typing (it does not import :mod:`lcne.models`), so it lives in the core.

Frozen under ``model.eval()``: while the model (``model=`` or the target's) is in eval
mode, ``read`` returns the gain in force without pushing a new one and ``observe`` does
nothing, so evaluation never advances the LC.

Bad use raises :class:`GainUsageError` with a one-line message (observing before
reading, logits of the wrong shape, a front end that needs losses given none).

Examples
--------
>>> import torch
>>> lc = GainLoop(controller="paper", eta=0.4)
>>> float(lc.read())                                     # g(0) = g0
1.0
>>> round(float(lc.observe(torch.zeros(8, 10))), 4)      # uniform logits: g(1) = 1 + 0.4 ln 10
1.921
>>> lc.observe(torch.zeros(8, 10))
Traceback (most recent call last):
...
lcne.gain_loop.GainUsageError: observe() before read(): call read() before the forward pass of each training iteration and observe() after the optimizer step
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Dict, Optional, Union

import torch
import torch.nn.functional as F

from lcne.errors import LcneError
from lcne.gain_controllers import GainController, make_controller
from lcne.uncertainty import EntropySignal, UncertaintySignal, make_signal, softmax_entropy

__all__ = ["GainLoop", "GainUsageError", "Observation"]

log = logging.getLogger(__name__)


class GainUsageError(LcneError, ValueError):
    """Bad use of the gain API (:class:`GainLoop`, :func:`lcne.models.modulate.modulate`).

    The message is one line naming the problem: no layer matched a selection, a per-unit
    gain of the wrong size, a module that cannot carry a gain, observing before reading.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


@dataclass
class Observation:
    """What one training iteration gave the LC (the values ``lcne run`` records).

    Attributes
    ----------
    iteration : int
        0-based training iteration of the loop.
    gain : Tensor (1,)
        g(t), the gain read before this iteration's forward pass.
    drive : Tensor (1,)
        Uncertainty given to the controller after the iteration.
    entropy : Tensor (1,)
        Mean softmax entropy of the batch's logits (nats).
    train_loss : Tensor (1,)
        Mean cross-entropy of the batch (NaN when neither targets nor losses were given).
    state : dict
        ``lc_<name>`` and ``unc_<name>`` -> Tensor (1,): controller state after the step
        and front-end state.
    """

    iteration: int
    gain: torch.Tensor
    drive: torch.Tensor
    entropy: torch.Tensor
    train_loss: torch.Tensor
    state: Dict[str, torch.Tensor] = field(default_factory=dict)


class GainLoop:
    """A gain controller and an uncertainty front end, with the one-step lag explicit.

    Parameters
    ----------
    target : object with ``set_gain(tensor)`` and ``training``, optional
        Where :meth:`read` puts the gain, e.g. ``lcne.models.modulate.modulate(model)``.
        Without one, :meth:`read` only returns the gain (apply it yourself).
    controller : str or GainController, default ``"paper"``
        A registered name (``paper``, ``gilzenrat-phasic``, ``gilzenrat-tonic``,
        ``adaptive``, ``constant``) built with ``**controller_params`` and ``n_runs=1``,
        or a controller with one run.
    signal : str or UncertaintySignal, default ``"entropy"``
        A registered front end (``entropy``, ``cpp``, ``unexpected``) built with
        ``signal_params``, or one with one run.
    model : object with ``training``, optional
        Whose mode freezes the loop (default: the target's ``training``; always
        training when neither is given).
    signal_params : dict, optional
    **controller_params
        E.g. ``eta=0.4, gamma=0.9, g0=1.0`` for ``paper``.

    Attributes
    ----------
    iteration : int
        Training iterations observed so far.
    last : Observation or None
        The latest observation (read by the recorder of
        :mod:`lcne.experiments.continual`).
    """

    def __init__(
        self,
        target=None,
        controller: Union[str, GainController] = "paper",
        signal: Union[str, UncertaintySignal] = "entropy",
        *,
        model=None,
        signal_params: Optional[dict] = None,
        **controller_params,
    ):
        if isinstance(controller, str):
            controller = make_controller(controller, n_runs=1, **controller_params)
        elif controller_params:
            raise GainUsageError(
                f"controller parameters {sorted(controller_params)} given with a built controller; "
                "pass a controller name instead"
            )
        if not isinstance(controller, GainController):
            raise GainUsageError(f"controller: expected a registered name or a GainController, got {type(controller).__name__}")
        if isinstance(signal, str):
            signal = make_signal(signal, n_runs=1, **(signal_params or {}))
        elif signal_params:
            raise GainUsageError("signal_params given with a built front end; pass a front-end name instead")
        if not isinstance(signal, UncertaintySignal):
            raise GainUsageError(f"signal: expected a registered name or an UncertaintySignal, got {type(signal).__name__}")
        for what, obj in (("controller", controller), ("signal", signal)):
            if obj.n_runs != 1:
                raise GainUsageError(f"{what}: a GainLoop drives one model, got one with n_runs={obj.n_runs}")
        if target is not None and not callable(getattr(target, "set_gain", None)):
            raise GainUsageError(f"target: {type(target).__name__} has no set_gain(); use lcne.models.modulate.modulate(model)")
        self.target, self.model = target, model
        self.controller, self.signal = controller, signal
        self.iteration = 0
        self.last: Optional[Observation] = None
        self._pending: Optional[torch.Tensor] = None  # g(t) read in training mode, not yet observed
        self._applied: Optional[torch.Tensor] = None  # gain the target holds

    # ------------------------------------------------------------------ mode
    @property
    def training(self) -> bool:
        """False while the model is in eval mode: the loop is then frozen."""
        source = self.model if self.model is not None else self.target
        return bool(getattr(source, "training", True)) if source is not None else True

    @property
    def gain(self) -> torch.Tensor:
        """The controller's current gain, shape (1,), float32 (g(t+1) after ``observe``)."""
        return self.controller.gain

    # ------------------------------------------------------------------ the two calls
    def read(self) -> torch.Tensor:
        """g(t): put the controller's gain into the target and return it, shape (1,).

        Call it before the forward pass of every training iteration. In eval mode it
        returns the gain the target already holds (frozen: nothing is pushed).
        """
        if not self.training and self._applied is not None:
            return self._applied.clone()
        g = self.controller.gain
        if self.target is not None:
            self.target.set_gain(g)
        self._applied = g.clone()
        if self.training:
            self._pending = g
        return g.clone()

    def observe(self, logits: torch.Tensor, targets: Optional[torch.Tensor] = None, *,
                losses: Optional[torch.Tensor] = None) -> torch.Tensor:
        """H(t): give this batch's outputs to the front end and advance the controller.

        Call it after the optimizer step. The gain the layers hold is unchanged (the next
        :meth:`read` applies g(t+1)). Ignored in eval mode.

        Parameters
        ----------
        logits : Tensor (batch, classes), or (..., classes) flattened to samples
            Outputs of this iteration's training forward pass (detached here).
        targets : Tensor (batch,) of class indices, optional
            Used for the per-sample cross-entropy that ``cpp`` and ``unexpected`` need
            and for the recorded training loss.
        losses : Tensor (batch,), optional
            Per-sample losses instead of ``targets`` (``reduction="none"``).

        Returns
        -------
        Tensor (1,)
            g(t+1), the gain the next :meth:`read` will apply.
        """
        if not self.training:
            log.info("observe() ignored: the model is in eval mode (the LC is frozen during evaluation)")
            return self.controller.gain
        if self._pending is None:
            raise GainUsageError(
                "observe() before read(): call read() before the forward pass of each training "
                "iteration and observe() after the optimizer step"
            )
        if not isinstance(logits, torch.Tensor) or logits.dim() < 2:
            shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
            raise GainUsageError(f"logits: expected a tensor (batch, classes), got {shape}")
        z = logits.detach().reshape(-1, logits.shape[-1])
        per_sample = self._losses(z, targets, losses)
        z3 = z.unsqueeze(0)
        if per_sample is None:
            if not isinstance(self.signal, EntropySignal):
                raise GainUsageError(
                    f"signal {self.signal.name!r} needs the batch's losses: call observe(logits, targets) "
                    "or observe(logits, losses=per_sample_losses)"
                )
            loss_arg = torch.full((1, z.shape[0]), math.nan, dtype=z.dtype, device=z.device)
        else:
            loss_arg = per_sample.unsqueeze(0)
        drive = torch.as_tensor(self.signal(z3, loss_arg)).detach().to("cpu", torch.float64).reshape(1)
        entropy = softmax_entropy(z3).detach().to("cpu", torch.float64).reshape(1)
        train_loss = (loss_arg.mean(dim=1) if per_sample is not None else loss_arg[:, 0]).detach()
        g_t = self._pending
        self.controller.step(drive)
        state = {f"lc_{k}": v.detach().to("cpu", torch.float64).reshape(1)
                 for k, v in self.controller.state().items() if k != "gain"}
        state.update({f"unc_{k}": torch.as_tensor(v).detach().to("cpu", torch.float64).reshape(1)
                      for k, v in self.signal.state().items()})
        self.last = Observation(self.iteration, g_t.to(torch.float64), drive, entropy,
                                train_loss.to("cpu", torch.float64).reshape(1), state)
        self._pending = None
        self.iteration += 1
        return self.controller.gain

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _losses(z, targets, losses):
        if losses is not None:
            per_sample = torch.as_tensor(losses).detach().reshape(-1)
            if per_sample.numel() != z.shape[0]:
                raise GainUsageError(
                    f"losses: expected one loss per sample ({z.shape[0]}), got {per_sample.numel()}; "
                    "use reduction='none' or pass targets"
                )
            return per_sample.to(z.device, torch.float32 if z.dtype in (torch.float16, torch.bfloat16) else z.dtype)
        if targets is None:
            return None
        y = torch.as_tensor(targets).detach().reshape(-1).to(z.device)
        if y.numel() != z.shape[0]:
            raise GainUsageError(f"targets: expected {z.shape[0]} class indices, got {y.numel()}")
        return F.cross_entropy(z.float() if z.dtype in (torch.float16, torch.bfloat16) else z, y.long(),
                               reduction="none")

    def config(self) -> dict:
        """The controller's and the front end's ``config()`` (stored in results)."""
        return {"controller": self.controller.config(), "uncertainty": self.signal.config()}

    def __repr__(self) -> str:
        return (f"GainLoop(controller={self.controller.config().get('name')!r}, "
                f"signal={self.signal.name!r}, iteration={self.iteration})")
