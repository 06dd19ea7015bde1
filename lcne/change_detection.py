"""Uncertainty front ends computed online from the training stream.

Two classical accounts of what drives phasic/tonic NE, applied to a network in training:

* **Nassar et al. 2012** (Nat Neurosci 15:1040) reduced Bayesian change-point model,
  fed with the mean training loss of each batch (nats). It returns the change-point
  probability (CPP, the phasic-NE / pupil-change driver) and tracks the relative
  uncertainty (the tonic / baseline-pupil driver). Registered as ``cpp``.
* **Yu & Dayan 2005** (Neuron 46:681) expected (ACh) and unexpected (NE) uncertainty with
  their switch rule, where the "cue" whose validity is tracked is the network's own
  prediction. Registered as ``unexpected``.

Both are batched over ``n_runs`` independent runs and called once per training iteration
with that iteration's logits ``(R, B, C)`` and per-sample losses ``(R, B)``; both return a
value in [0, 1] per run (feed them to an LC controller with ``drive_scale = 1``).

Nassar et al. 2012, Online Methods eqs. 3-7 (``X_t`` the observed outcome)::

    sigma_t^2 = sigma_N^2 + sigma_N^2 tau_t / (1 - tau_t)               predictive variance
    Omega_t   = H U / (H U + (1 - H) N(X_t | B_t, sigma_t^2))            change-point prob.
    alpha_t   = Omega_t + (1 - Omega_t) tau_t                            learning rate
    B_{t+1}   = B_t + alpha_t delta_t,   delta_t = X_t - B_t             belief (mean)
    tau_{t+1} = V / (V + sigma_N^2),
        V = Omega sigma_N^2 + (1 - Omega) tau sigma_N^2 + Omega (1 - Omega) (delta (1 - tau))^2

with hazard ``H`` (per iteration), outcome noise ``sigma_N`` (nats) and ``U = 1 /
outcome_range`` the uniform density of a new mean after a change point.

Yu & Dayan 2005 (our adaptation; the switch rule NE > ACh / (0.5 + ACh) is theirs): each
training sample is one trial, on which the network's prediction is "valid" with the
probability it gave to the true label, ``exp(-loss_b)``; on iteration t that is
``n = B`` trials with mean validity ``q_t = mean_b exp(-loss_b)``. Within a context the
prediction is valid with probability ``gamma`` (estimated by a leaky average with rate
``validity_rate`` per iteration); after an unsignalled context change it is valid only at
chance, ``gamma_0 = 1 / n_classes``. With hazard ``h`` per iteration::

    ACh_t   = 1 - gamma_t                                         expected uncertainty
    p_t^-   = NE_{t-1} + (1 - NE_{t-1}) h                         prior of a change so far
    NE_t    = p^- L1 / (p^- L1 + (1 - p^-) L0)                    unexpected uncertainty
        L1 = [gamma_0^q (1 - gamma_0)^(1-q)]^n,  L0 = [gamma^q (1 - gamma)^(1-q)]^n
    switch if NE_t > ACh_t / (0.5 + ACh_t): gamma <- q_t, NE <- 0   (context reset)
    else:  gamma <- gamma + validity_rate (q_t - gamma)

The evidence favours a change only when ``q_t`` falls below the crossover
``ln((1-g0)/(1-g)) / (ln((1-g0)/(1-g)) - ln(g0/g))`` (0.65 for g = 0.986, g0 = 0.1), so
improvements and small dips are never unexpected, and with ``n = B`` a drop below it is
detected at once.

The returned drive is ``NE_t`` (before any reset), so a detected switch is one phasic
"interrupt" (Dayan & Yu 2006).
"""
from __future__ import annotations

import logging
import math

import numpy as np
import torch

from lcne.errors import LCParameterError, as_param, check_positive, check_range
from lcne.uncertainty import UncertaintySignal

__all__ = [
    "ChangePointSignal",
    "NassarChangePoint",
    "UnexpectedUncertaintySignal",
    "YuDayanUncertainty",
    "FACTORIES",
]

logger = logging.getLogger(__name__)


def _log_sigmoid_odds(log_num, log_den):
    """``exp(log_num) / (exp(log_num) + exp(log_den))`` computed stably."""
    z = np.clip(log_den - log_num, -700.0, 700.0)
    return 1.0 / (1.0 + np.exp(z))


class NassarChangePoint:
    """Nassar et al. 2012 reduced Bayesian observer (numpy, batched over runs).

    Parameters
    ----------
    hazard : float in (0, 1), default 0.01
        Prior probability of a change point per observation (per training iteration).
    sigma_n : float > 0, default 0.1
        Standard deviation of outcomes around their mean (nats for losses).
    outcome_range : float > 0, default 10.0
        Width of the range a new mean is drawn from after a change point (nats);
        ``U = 1 / outcome_range``.
    tau_init : float in (0, 1), default 0.5
        Relative uncertainty after the first observation.
    belief_init : float, optional
        Prior mean. If omitted, the first observation sets the belief and reports
        CPP = 0 (nothing could be predicted yet).
    """

    def __init__(self, hazard=0.01, sigma_n=0.1, outcome_range=10.0, tau_init=0.5, belief_init=None):
        self.hazard = check_range(hazard, "hazard", 0.0, 1.0, lo_open=True, hi_open=True)
        self.sigma_n = check_positive(sigma_n, "sigma_n", "outcome units")
        self.outcome_range = check_positive(outcome_range, "outcome_range", "outcome units")
        self.tau_init = check_range(tau_init, "tau_init", 0.0, 1.0, lo_open=True, hi_open=True)
        self.belief_init = None if belief_init is None else as_param(belief_init, "belief_init")
        self.reset()

    def reset(self) -> None:
        """Forget all observations."""
        self.belief = None if self.belief_init is None else np.asarray(self.belief_init, dtype=np.float64)
        self.tau = np.asarray(self.tau_init, dtype=np.float64)
        self.cpp = np.asarray(0.0)
        self.learning_rate = np.asarray(1.0)
        self.prediction_error = np.asarray(0.0)
        self.predictive_sd = np.asarray(np.nan)

    def update(self, outcome) -> np.ndarray:
        """Observe ``outcome`` (one per run) and return the change-point probability."""
        x = np.asarray(outcome, dtype=np.float64)
        if self.belief is None:
            self.belief = x.copy()
            self.tau = np.broadcast_to(self.tau_init, x.shape).astype(np.float64)
            self.cpp = np.zeros_like(x)
            self.learning_rate = np.ones_like(x)
            self.prediction_error = np.zeros_like(x)
            self.predictive_sd = np.full_like(x, np.nan)
            return self.cpp
        H, s2, tau = self.hazard, self.sigma_n ** 2, self.tau
        var = s2 + s2 * tau / (1.0 - tau)
        delta = x - self.belief
        log_normal = -0.5 * delta ** 2 / var - 0.5 * np.log(2.0 * math.pi * var)
        log_change = np.log(H) - np.log(self.outcome_range)
        omega = _log_sigmoid_odds(log_change, np.log1p(-H) + log_normal)
        alpha = omega + (1.0 - omega) * tau
        v = omega * s2 + (1.0 - omega) * tau * s2 + omega * (1.0 - omega) * (delta * (1.0 - tau)) ** 2
        self.belief = self.belief + alpha * delta
        self.tau = v / (v + s2)
        self.cpp, self.learning_rate, self.prediction_error = omega, alpha, delta
        self.predictive_sd = np.sqrt(var)
        return omega

    def config(self) -> dict:
        return {
            "hazard": np.asarray(self.hazard).tolist(),
            "sigma_n": np.asarray(self.sigma_n).tolist(),
            "outcome_range": np.asarray(self.outcome_range).tolist(),
            "tau_init": np.asarray(self.tau_init).tolist(),
            "belief_init": None if self.belief_init is None else np.asarray(self.belief_init).tolist(),
        }


class YuDayanUncertainty:
    """Yu & Dayan 2005 expected / unexpected uncertainty with the NE > ACh/(0.5+ACh) switch.

    Parameters
    ----------
    hazard : float in (0, 1), default 0.01
        Prior probability of an unsignalled context change per observation.
    chance_validity : float in (0, 1)
        Validity of the prediction after a change (``1 / n_classes``).
    validity_rate : float in (0, 1], default 0.1
        Rate of the leaky within-context validity estimate (per observation).
    eps : float, default 1e-3
        Validities are clipped to ``[eps, 1 - eps]`` inside the likelihoods.
    """

    def __init__(self, hazard=0.01, chance_validity=0.1, validity_rate=0.1, eps=1e-3):
        self.hazard = check_range(hazard, "hazard", 0.0, 1.0, lo_open=True, hi_open=True)
        self.chance_validity = check_range(chance_validity, "chance_validity", 0.0, 1.0,
                                           lo_open=True, hi_open=True)
        self.validity_rate = check_range(validity_rate, "validity_rate", 0.0, 1.0, lo_open=True)
        self.eps = float(check_range(eps, "eps", 0.0, 0.5, lo_open=True, hi_open=True))
        self.reset()

    def reset(self) -> None:
        """Forget all observations."""
        self.validity = None
        self.unexpected = np.asarray(0.0)  # NE before reset, as reported
        self.expected = np.asarray(np.nan)  # ACh
        self.switch = np.asarray(0.0)
        self._posterior = None  # NE carried to the next observation (0 after a reset)

    def update(self, q, n_trials=1.0) -> np.ndarray:
        """Observe mean prediction validity ``q`` in [0, 1] over ``n_trials`` trials (per run).

        Returns the unexpected uncertainty NE (before any reset).
        """
        q = np.clip(np.asarray(q, dtype=np.float64), 0.0, 1.0)
        if self.validity is None:
            self.validity = q.copy()
            self._posterior = np.zeros_like(q)
            self.unexpected = np.zeros_like(q)
            self.expected = 1.0 - q
            self.switch = np.zeros_like(q)
            return self.unexpected
        lo, hi = self.eps, 1.0 - self.eps
        gamma = np.clip(self.validity, lo, hi)
        gamma0 = np.clip(self.chance_validity, lo, hi)
        ach = 1.0 - self.validity
        prior = self._posterior + (1.0 - self._posterior) * self.hazard
        log_l1 = n_trials * (q * np.log(gamma0) + (1.0 - q) * np.log1p(-gamma0))
        log_l0 = n_trials * (q * np.log(gamma) + (1.0 - q) * np.log1p(-gamma))
        ne = _log_sigmoid_odds(np.log(prior) + log_l1, np.log1p(-prior) + log_l0)
        switch = ne > ach / (0.5 + ach)
        self.validity = np.where(switch, q, self.validity + self.validity_rate * (q - self.validity))
        self._posterior = np.where(switch, 0.0, ne)
        self.unexpected, self.expected, self.switch = ne, ach, switch.astype(np.float64)
        return ne

    def config(self) -> dict:
        return {
            "hazard": np.asarray(self.hazard).tolist(),
            "chance_validity": np.asarray(self.chance_validity).tolist(),
            "validity_rate": np.asarray(self.validity_rate).tolist(),
            "eps": self.eps,
        }


def _batch_losses(losses, n_runs: int) -> np.ndarray:
    arr = torch.as_tensor(losses).detach().to(torch.float64).cpu().numpy()
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] != n_runs:
        raise LCParameterError("losses", f"expected shape (n_runs={n_runs}, batch), got {tuple(arr.shape)}")
    return arr


def _as_tensor(values, n_runs: int) -> torch.Tensor:
    return torch.from_numpy(np.broadcast_to(np.asarray(values, dtype=np.float64), (n_runs,)).copy())


class ChangePointSignal(UncertaintySignal):
    """Nassar et al. 2012 change-point probability of the training-loss stream (``cpp``).

    The outcome of iteration t is the mean per-sample cross-entropy of its training batch
    (nats). Returns, per run, the drive selected by ``output``: ``'cpp'`` (default, the
    phasic driver), ``'relative_uncertainty'`` (tonic driver) or ``'learning_rate'``.
    Parameters as in :class:`NassarChangePoint`.

    Recorded state: ``cpp``, ``relative_uncertainty`` (after the update, i.e. for the
    next prediction), ``belief`` (predicted loss, nats), ``learning_rate``,
    ``prediction_error`` (nats).
    """

    name = "cpp"
    state_variables = ("cpp", "relative_uncertainty", "belief", "learning_rate", "prediction_error")
    outputs = ("cpp", "relative_uncertainty", "learning_rate")

    def __init__(self, n_runs: int = 1, output: str = "cpp", **params):
        super().__init__(n_runs)
        if output not in self.outputs:
            raise LCParameterError("output", f"unknown output {output!r} of 'cpp'; known: {', '.join(self.outputs)}")
        self.output = output
        try:
            self.model = NassarChangePoint(**params)
        except TypeError as exc:
            raise LCParameterError(_bad_keyword(exc, params), "unknown parameter of uncertainty signal 'cpp'") from None

    def __call__(self, logits, losses):
        x = _batch_losses(losses, self.n_runs).mean(axis=1)
        self.model.update(x)
        value = {"cpp": self.model.cpp, "relative_uncertainty": self.model.tau,
                 "learning_rate": self.model.learning_rate}[self.output]
        return _as_tensor(value, self.n_runs).to(torch.float32)

    def state(self):
        m = self.model
        values = {"cpp": m.cpp, "relative_uncertainty": m.tau, "belief": m.belief,
                  "learning_rate": m.learning_rate, "prediction_error": m.prediction_error}
        return {k: _as_tensor(np.nan if v is None else v, self.n_runs) for k, v in values.items()}

    def config(self):
        return {**super().config(), "output": self.output, **self.model.config()}


class UnexpectedUncertaintySignal(UncertaintySignal):
    """Yu & Dayan 2005 unexpected uncertainty (NE) of the network's predictions (``unexpected``).

    ``q_t = mean_b exp(-loss_b)`` is the mean probability the network gave to the true
    label on training batch t; each sample counts as one trial (``trials_per_batch``,
    default the batch size; 1 treats the batch mean as a single trial).
    ``chance_validity`` defaults to ``1 / n_classes`` (from the logits). Returns NE_t per
    run (``output='unexpected'``) or ACh_t (``output='expected'``). Other parameters as
    in :class:`YuDayanUncertainty`.

    Recorded state: ``unexpected`` (NE), ``expected`` (ACh), ``validity`` (gamma after the
    update), ``switch`` (1 where a context switch was declared), ``p_true`` (q_t).
    """

    name = "unexpected"
    state_variables = ("unexpected", "expected", "validity", "switch", "p_true")
    outputs = ("unexpected", "expected")

    def __init__(self, n_runs: int = 1, output: str = "unexpected", trials_per_batch=None, **params):
        super().__init__(n_runs)
        if output not in self.outputs:
            raise LCParameterError("output",
                                   f"unknown output {output!r} of 'unexpected'; known: {', '.join(self.outputs)}")
        self.output = output
        self.trials_per_batch = (None if trials_per_batch is None
                                 else float(check_positive(trials_per_batch, "trials_per_batch")))
        self._params = dict(params)
        self.model = None
        self.p_true = np.full(self.n_runs, np.nan)
        if "chance_validity" in params:
            self._build(None)
        else:  # validate the other parameters now; chance level is set from the logits
            self._build(2)
            self.model = None

    def _build(self, n_classes):
        params = dict(self._params)
        if n_classes is not None:
            params.setdefault("chance_validity", 1.0 / n_classes)
        try:
            self.model = YuDayanUncertainty(**params)
        except TypeError as exc:
            raise LCParameterError(_bad_keyword(exc, params),
                                   "unknown parameter of uncertainty signal 'unexpected'") from None

    def __call__(self, logits, losses):
        if self.model is None:
            self._build(int(logits.shape[-1]))
        per_sample = np.exp(-_batch_losses(losses, self.n_runs))
        q = per_sample.mean(axis=1)
        self.p_true = q
        n = per_sample.shape[1] if self.trials_per_batch is None else self.trials_per_batch
        self.model.update(q, n_trials=n)
        value = self.model.unexpected if self.output == "unexpected" else self.model.expected
        return _as_tensor(value, self.n_runs).to(torch.float32)

    def state(self):
        m = self.model
        if m is None:
            nan = _as_tensor(np.nan, self.n_runs)
            return {k: nan.clone() for k in self.state_variables}
        values = {"unexpected": m.unexpected, "expected": m.expected,
                  "validity": np.nan if m.validity is None else m.validity,
                  "switch": m.switch, "p_true": self.p_true}
        return {k: _as_tensor(v, self.n_runs) for k, v in values.items()}

    def config(self):
        """Before the first call ``chance_validity`` is absent unless given (it is then
        set to ``1 / n_classes`` from the logits); the other parameters are complete."""
        import inspect

        out = {**super().config(), "output": self.output, "trials_per_batch": self.trials_per_batch}
        if self.model is not None:
            out.update(self.model.config())
            return out
        defaults = {k: p.default for k, p in inspect.signature(YuDayanUncertainty).parameters.items()
                    if k != "chance_validity" and p.default is not inspect.Parameter.empty}
        out.update({k: np.asarray(v).tolist() for k, v in {**defaults, **self._params}.items()})
        return out


def _bad_keyword(exc: TypeError, params: dict) -> str:
    text = str(exc)
    for key in params:
        if repr(key) in text:
            return key
    return "parameters"


#: registered name -> factory; :data:`lcne.uncertainty.UNCERTAINTY_SIGNALS` lists these names
FACTORIES = {"cpp": ChangePointSignal, "unexpected": UnexpectedUncertaintySignal}
