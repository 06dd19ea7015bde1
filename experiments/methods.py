"""Training methods: how weights are updated, what drives the gain, what is evaluated.

Names used on the command line and in results (lr 0.01 for all in the paper):

* ``ngm`` -- SGD, momentum 0 (NGM-SGD, Algorithm 1); gain from the LC controller (the
  paper's integrator by default).
* ``sgd`` -- SGD, momentum 0; gain 1.
* ``msgd`` -- SGD, momentum 0.9; gain 1.
* ``adam`` -- Adam with PyTorch defaults (betas 0.9, 0.999); gain 1.
* ``fixed-gain`` -- SGD, momentum 0; a constant gain (``--fixed-gain``; default: the
  time-average gain of the NGM run of the same seed). With gain 1 it is plain SGD.
* ``entropy-lr`` -- SGD, momentum 0, learning rate lr * g(t): the LC output drives the
  learning rate while the network runs at gain 1.
* ``msgd-reset`` -- momentum SGD whose velocity is cleared at every context switch; gain 1.
* ``adam-reset`` -- Adam whose moments and step count are cleared at every switch; gain 1.
* ``ngm-momentum`` -- SGD with momentum 0.9; gain from the LC controller.
* ``shuffled-gain`` -- SGD, momentum 0; the NGM gain trace of another seed, replayed
  (seed i gets the trace of seed i+1 of the same config, the last seed the first's).
* ``lr-replay`` -- SGD, momentum 0, network gain 1, learning rate lr * g_NGM(t)^2 where
  g_NGM is the NGM gain trace of the *same* seed of the same config: the effective step
  of a gained layer (with W_eff = g W, an SGD step on W moves W_eff by -lr g^2 grad), without
  the gain on the forward pass.
* ``switch-burst`` -- SGD, momentum 0, the network gain from one fixed trace shared by
  every seed, with no coupling to the run's own uncertainty. With NGM gain traces
  g_s(t) of the config's S seeds, K contexts of I iterations, t = (k-1) I + i
  (context k = 1..K, i = 0..I-1)::

      block 1:       g(i)           = mean_s g_s(i)
      block k >= 2:  g((k-1) I + i) = b(i) = mean over s and over k' = 2..K of g_s((k'-1) I + i)

  i.e. one burst shape b(i), aligned at the switch and averaged over seeds and over every
  context after the first, triggered at each (known) switch. Means skip the iterations
  where an NGM run had diverged (NaN); see :func:`lcne.experiments.ngm_controls.switch_locked_burst`.
* ``weight-ema`` -- SGD, momentum 0, gain 1, *evaluated* on an exponential moving average
  of its weights (Soutif-Cormerais, Carta & van de Weijer, CoLLAs 2023): ema_0 = w_0 and
  ema_t = d ema_{t-1} + (1 - d) w_t after every optimizer step, d = ``method_params``
  ``ema_decay`` (default 0.99 per iteration: time constant about 100 iterations). Training
  uses the raw weights; only the evaluation sees the average
  (:class:`lcne.experiments.training_hooks.WeightEMA`).
* ``lr-rewarm`` -- SGD, momentum 0, gain 1, with an oracle learning-rate schedule that
  knows the switches: at the first iteration of every context k >= 2 the factor on the lr
  drops to ``rewarm_drop`` (default 0.1) and ramps back linearly to 1 over
  ``rewarm_iters`` iterations (default 50): factor(i) = drop + (1 - drop) min(1, i / iters),
  i = iteration within the context; factor 1 throughout context 1
  (:class:`lcne.experiments.training_hooks.RewarmSchedule`).

Biases are frozen at zero for every method (the paper's "no biases" MNIST network), so
optimizers see only the weight matrices.

The parameters of the methods that take some are given as ``RunConfig.method_params``
(``{"ema_decay": 0.995}``); :func:`method_params` fills in the defaults and refuses an
unknown key or a bad value in one line.

>>> method_params({}, ["weight-ema", "lr-rewarm"])
{'ema_decay': 0.99, 'rewarm_drop': 0.1, 'rewarm_iters': 50}
>>> method_params({"ema_decy": 0.9}, ["weight-ema"])
Traceback (most recent call last):
...
lcne.experiments.errors.ConfigError: method_params: unknown key 'ema_decy' (did you mean 'ema_decay'?); allowed: ema_decay (weight-ema), rewarm_drop (lr-rewarm), rewarm_iters (lr-rewarm)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Iterable, Mapping, Tuple

from lcne.experiments.config import suggest
from lcne.experiments.errors import ConfigError

__all__ = ["MethodSpec", "METHODS", "METHOD_PARAMS", "method_params"]


@dataclass(frozen=True)
class MethodSpec:
    """How one method updates weights, where its gain comes from and what is evaluated.

    Attributes
    ----------
    optimizer : str
        ``"sgd"`` or ``"adam"``.
    momentum : float
    gain : str
        ``"one"`` (g = 1), ``"lc"`` (the configured LC controller), ``"fixed"`` (a
        constant), ``"replay"`` (another seed's NGM gain trace), ``"own"`` (the same
        seed's NGM gain trace) or ``"burst"`` (the switch-locked mean NGM trace).
    lr_from_gain : bool
        The controller output multiplies the learning rate, not the pre-activations.
    lr_power : float
        With ``lr_from_gain``: the learning rate is lr * g(t) ** lr_power.
    reset_on_switch : bool
        Optimizer state cleared at every context switch.
    evaluate_on : str
        ``"weights"`` (the trained weights) or ``"ema"`` (their exponential moving average).
    lr_schedule : str
        ``"constant"`` or ``"rewarm"`` (drop and linear ramp after every switch).
    params : tuple of str
        Keys of ``RunConfig.method_params`` the method reads (see :data:`METHOD_PARAMS`).
    """

    optimizer: str  # "sgd" or "adam"
    momentum: float = 0.0
    gain: str = "one"
    lr_from_gain: bool = False
    reset_on_switch: bool = False
    description: str = ""
    lr_power: float = 1.0
    evaluate_on: str = "weights"
    lr_schedule: str = "constant"
    params: Tuple[str, ...] = ()

    @property
    def gain_driven(self) -> bool:
        return self.gain == "lc"

    @property
    def needs_ngm_reference(self) -> bool:
        """True when the method's gain is derived from NGM runs of the same config."""
        return self.gain in ("fixed", "replay", "own", "burst")


METHODS: Dict[str, MethodSpec] = {
    "ngm": MethodSpec("sgd", 0.0, "lc", description="NGM-SGD: uncertainty-driven gain + plain SGD"),
    "sgd": MethodSpec("sgd", 0.0, description="SGD, momentum 0"),
    "msgd": MethodSpec("sgd", 0.9, description="SGD, momentum 0.9"),
    "adam": MethodSpec("adam", description="Adam, default betas"),
    "fixed-gain": MethodSpec("sgd", 0.0, "fixed", description="constant gain, SGD"),
    "entropy-lr": MethodSpec("sgd", 0.0, "lc", lr_from_gain=True, description="LC output scales the learning rate"),
    "msgd-reset": MethodSpec("sgd", 0.9, reset_on_switch=True, description="MSGD, velocity cleared at switches"),
    "adam-reset": MethodSpec("adam", reset_on_switch=True, description="Adam, moments cleared at switches"),
    "ngm-momentum": MethodSpec("sgd", 0.9, "lc", description="NGM gain + momentum 0.9"),
    "shuffled-gain": MethodSpec("sgd", 0.0, "replay", description="another seed's NGM gain replayed"),
    "lr-replay": MethodSpec("sgd", 0.0, "own", lr_from_gain=True, lr_power=2.0,
                            description="gain 1, lr * g_NGM(t)^2 of the same seed"),
    "switch-burst": MethodSpec("sgd", 0.0, "burst",
                               description="the seed- and context-mean NGM burst, triggered at every switch"),
    "weight-ema": MethodSpec("sgd", 0.0, evaluate_on="ema", params=("ema_decay",),
                             description="SGD evaluated on an EMA of its weights"),
    "lr-rewarm": MethodSpec("sgd", 0.0, lr_schedule="rewarm", params=("rewarm_drop", "rewarm_iters"),
                            description="SGD, lr dropped at every switch and ramped back (oracle)"),
}

#: ``RunConfig.method_params`` keys -> (default, what it is); each is read by the
#: methods whose ``MethodSpec.params`` name it
METHOD_PARAMS: Dict[str, Tuple[float, str]] = {
    "ema_decay": (0.99, "weight-ema: decay d of the weight average per iteration, 0 <= d < 1"),
    "rewarm_drop": (0.1, "lr-rewarm: lr factor at the first iteration of a context, 0 <= drop <= 1"),
    "rewarm_iters": (50, "lr-rewarm: iterations of the linear ramp back to factor 1, a positive integer"),
}


def _owners(key: str) -> str:
    return ", ".join(m for m, sp in METHODS.items() if key in sp.params)


def method_params(given: Mapping[str, object], methods: Iterable[str]) -> Dict[str, float]:
    """The method parameters the ``methods`` read: ``given`` with defaults filled in.

    Parameters
    ----------
    given : mapping
        ``RunConfig.method_params``. Every key must be one of :data:`METHOD_PARAMS` (a key
        of a method that is not among ``methods`` is accepted and unused, so one sweep
        ``base`` can serve batches with different methods).
    methods : iterable of str
        Method names of the run.

    Returns
    -------
    dict
        ``{key: value}`` for the keys the methods read (``rewarm_iters`` as an int).

    Raises
    ------
    ConfigError
        One line naming the key: an unknown key (with the allowed ones) or a bad value.
    """
    allowed = ", ".join(f"{k} ({_owners(k)})" for k in METHOD_PARAMS)
    for key in given:
        if key not in METHOD_PARAMS:
            raise ConfigError(f"method_params: unknown key {key!r}{suggest(key, METHOD_PARAMS)}; allowed: {allowed}")
    out: Dict[str, float] = {}
    wanted = [k for m in methods if m in METHODS for k in METHODS[m].params]
    for key in dict.fromkeys(wanted):
        value = given.get(key, METHOD_PARAMS[key][0])
        out[key] = _checked(key, value)
    for key, value in given.items():  # unused keys are still checked, so a typo'd value fails early
        _checked(key, value)
    return out


def _checked(key: str, value):
    what = METHOD_PARAMS[key][1].split(": ", 1)[1]
    bad = isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
    if not bad:
        if key == "ema_decay":
            bad = not 0.0 <= value < 1.0
        elif key == "rewarm_drop":
            bad = not 0.0 <= value <= 1.0
        elif key == "rewarm_iters":
            bad = value < 1 or float(value) != int(value)
            value = int(value) if not bad else value
    if bad:
        raise ConfigError(f"method_params.{key}: {value!r} is not valid; {what}")
    return float(value) if key != "rewarm_iters" else value
