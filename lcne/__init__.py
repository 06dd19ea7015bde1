"""LC-NE dynamics: uncertainty signals -> locus coeruleus state -> norepinephrine -> gain.

This package holds dynamics only, no training loops. Every gain controller shares the
:class:`~lcne.controller.GainController` interface: it is advanced once per training
iteration by an uncertainty drive (one value per run) and returns the gain that the
network applies at the *next* iteration (the paper's one-step lag).
"""
from lcne.controller import (
    CONTROLLERS,
    ConstantGain,
    GainController,
    PaperGain,
    ReplayGain,
    StackedControllers,
    make_controller,
    register_controller,
)
from lcne.uncertainty import (
    UNCERTAINTY_SIGNALS,
    EntropySignal,
    UncertaintySignal,
    make_signal,
    register_signal,
    softmax_entropy,
)

from lcne.errors import LCParameterError
from lcne.gilzenrat import GILZENRAT_PRESETS, GilzenratLC
from lcne.adaptive_gain import AdaptiveGainLC
from lcne.release import NERelease
# importing these registers the explicit LC controllers ('gilzenrat-phasic',
# 'gilzenrat-tonic', 'adaptive') and the 'cpp' / 'unexpected' uncertainty front ends
from lcne.lc_controllers import AdaptiveLCController, GilzenratController, LCController
from lcne.signals import (
    ChangePointSignal,
    NassarChangePoint,
    UnexpectedUncertaintySignal,
    YuDayanUncertainty,
)

__all__ = [
    "AdaptiveGainLC",
    "AdaptiveLCController",
    "ChangePointSignal",
    "GILZENRAT_PRESETS",
    "GilzenratController",
    "GilzenratLC",
    "LCController",
    "LCParameterError",
    "NERelease",
    "NassarChangePoint",
    "UnexpectedUncertaintySignal",
    "YuDayanUncertainty",
    "CONTROLLERS",
    "ConstantGain",
    "GainController",
    "PaperGain",
    "ReplayGain",
    "StackedControllers",
    "make_controller",
    "register_controller",
    "softmax_entropy",
    "UNCERTAINTY_SIGNALS",
    "EntropySignal",
    "UncertaintySignal",
    "make_signal",
    "register_signal",
]
__version__ = "0.1.0"
