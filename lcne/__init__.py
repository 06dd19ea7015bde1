"""lcne: noradrenergic (locus coeruleus) gain modulation in learning networks.

One import namespace with four layers (imports only flow downwards; see
``docs/architecture.md``):

* :mod:`lcne` itself - LC-NE dynamics only: uncertainty signals -> locus coeruleus
  state -> norepinephrine -> gain. No training loops.
* :mod:`lcne.models` - gain-modulated PyTorch networks.
* :mod:`lcne.analysis` - metrics, gain-gap relations, biology, figures, reports; reads
  results files, never trains.
* :mod:`lcne.experiments` - datasets, task streams, the joint-training protocol,
  runners, sweeps and the ``lcne`` command line.

Every gain controller shares the :class:`~lcne.gain_controllers.GainController`
interface: it is advanced once per training iteration by an uncertainty drive (one value
per run) and returns the gain that the network applies at the *next* iteration (the
paper's one-step lag).

``import lcne`` is light: the names below are loaded (and torch imported) only when
first used.
"""
from __future__ import annotations

from lcne import lazy_exports

__version__ = "0.1.0"

#: public name -> module that defines it (loaded on first access, PEP 562)
_EXPORTS = {
    "CONTROLLERS": "gain_controllers",
    "ConstantGain": "gain_controllers",
    "GainController": "gain_controllers",
    "PaperGain": "gain_controllers",
    "ReplayGain": "gain_controllers",
    "StackedControllers": "gain_controllers",
    "make_controller": "gain_controllers",
    "register_controller": "gain_controllers",
    "UNCERTAINTY_SIGNALS": "uncertainty",
    "EntropySignal": "uncertainty",
    "UncertaintySignal": "uncertainty",
    "make_signal": "uncertainty",
    "register_signal": "uncertainty",
    "softmax_entropy": "uncertainty",
    "LCParameterError": "errors",
    "GILZENRAT_PRESETS": "gilzenrat",
    "GilzenratLC": "gilzenrat",
    "AdaptiveGainLC": "adaptive_gain",
    "NERelease": "release",
    "AdaptiveLCController": "lc_adapters",
    "GilzenratController": "lc_adapters",
    "LCController": "lc_adapters",
    "ChangePointSignal": "change_detection",
    "NassarChangePoint": "change_detection",
    "UnexpectedUncertaintySignal": "change_detection",
    "YuDayanUncertainty": "change_detection",
    "GainLoop": "gain_loop",
    "GainUsageError": "gain_loop",
}

lazy_exports.install(globals(), _EXPORTS)
