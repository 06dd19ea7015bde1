"""Training methods: how weights are updated and what drives the gain.

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
* ``shuffled-gain`` -- SGD, momentum 0; the NGM gain trace of another seed, replayed.

Biases are frozen at zero for every method (the paper's "no biases" MNIST network), so
optimizers see only the weight matrices.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict

__all__ = ["MethodSpec", "METHODS"]


@dataclass(frozen=True)
class MethodSpec:
    """How one method updates weights and where its gain comes from.

    Attributes
    ----------
    gain : str
        ``"one"`` (g = 1), ``"lc"`` (the configured LC controller), ``"fixed"`` (a
        constant) or ``"replay"`` (another seed's NGM gain trace).
    lr_from_gain : bool
        The controller output multiplies the learning rate, not the pre-activations.
    reset_on_switch : bool
        Optimizer state cleared at every context switch.
    """

    optimizer: str  # "sgd" or "adam"
    momentum: float = 0.0
    gain: str = "one"
    lr_from_gain: bool = False
    reset_on_switch: bool = False
    description: str = ""

    @property
    def gain_driven(self) -> bool:
        return self.gain == "lc"

    @property
    def needs_ngm_reference(self) -> bool:
        """True when the method's gain is derived from NGM runs of the same config."""
        return self.gain in ("fixed", "replay")


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
}
