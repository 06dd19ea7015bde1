"""The names of the analysis: metrics (label, unit, scale, better direction) and methods
(label, colour, line style).

Every table, report, figure and selection rule reads these two tables, so a metric or a
method is written, scaled and coloured the same way everywhere.

Metrics
-------
:data:`METRICS` maps a metric key (as stored in :func:`lcne.analysis.metrics.stability_metrics`
and in the columns of :func:`lcne.analysis.metrics.metrics_table`) to a :class:`Metric`:

=================  ============  ========  =====  ======  ==========================================
key                label         unit      scale  better  meaning
=================  ============  ========  =====  ======  ==========================================
``avg_acc``        avg-ACC       %         100    +1      mean of the block-final accuracies F_k
``avg_min_acc``    avg-min-ACC   %         100    +1      mean of the block minima M_k
``wc_acc``         WC-ACC        %         100    +1      worst-case accuracy (De Lange et al. 2022)
``avg_sg``         avg-SG        fraction  1      -1      mean relative stability gap
``sg_k``           SG_k          fraction  1      -1      SG of transition k-1 -> k (``sg_2``, ...)
=================  ============  ========  =====  ======  ==========================================

Accuracies are stored as fractions in [0, 1]; ``scale`` is the factor to the reported
value (percent). :data:`SUMMARY_METRICS` is the four summary metrics in table order. The
per-transition metrics are one family: :func:`metric` resolves ``"sg_3"`` to the ``sg_k``
entry with key ``sg_3`` and label ``SG_3``.

>>> metric("avg_sg").axis_label, metric("wc_acc").axis_label
('avg-SG (fraction)', 'WC-ACC (%)')
>>> metric("avg_acc").format(0.98554 * metric("avg_acc").scale)
'98.55'
>>> metric("sg_3").label, metric("sg_3").better
('SG_3', -1)

Methods
-------
:data:`METHODS` maps every method of :data:`lcne.experiments.methods.METHODS` to a
:class:`MethodStyle` (legend label, colour of the Okabe & Ito 2008 set, line style). A
reset ablation shares its method's colour and is dashed; the SGD-based alternatives
(``weight-ema``, ``lr-rewarm``) take SGD's colour with dotted and dash-dot lines; the
controls ``lr-replay`` and ``switch-burst`` are dashed in the colours of ``entropy-lr`` and
``shuffled-gain``. :data:`DESCRIPTIONS` says in one line what each method is.

Methods driven by an explicit LC model or uncertainty front end are named
``<method>+<lc>[+<front end>]`` in results (``ngm+gilzenrat-phasic``,
``ngm+gilzenrat-phasic+cpp``, ``ngm+cpp``; see ``lcne.experiments.runner.method_label``).
:func:`method_style` resolves such a name from its parts:

* label: the method's label, then the labels of the parts (:data:`LC_MODELS`,
  :data:`FRONT_ENDS`; an unknown part as written), e.g. ``"NGM-SGD, Gilzenrat phasic"``;
* colour: the LC model's colour (the method's own for the paper integrator or when only the
  front end differs);
* line style: the front end's (solid for the entropy front end).

Fallback for any other name (a method this table does not know, a part it does not
know): the label is the name as written and the colour is taken from a fixed cycle
(:data:`FALLBACK_COLOURS`) by the position ``index`` the caller gives, so several unknown
methods in one figure stay apart and every run of the figure colours them the same.

>>> method_style("ngm").label, method_style("ngm").colour
('NGM-SGD', '#D55E00')
>>> s = method_style("ngm+gilzenrat-phasic+cpp")
>>> s.label, s.colour == LC_MODELS["gilzenrat-phasic"].colour, s.linestyle
('NGM-SGD, Gilzenrat phasic, cpp', True, '--')
>>> method_style("my-method", index=1).label, method_style("my-method", index=1).colour
('my-method', '#56B4E9')
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Dict, Optional, Tuple

from lcne.analysis.style import OKABE_ITO

__all__ = [
    "Metric",
    "METRICS",
    "SUMMARY_METRICS",
    "metric",
    "MethodStyle",
    "METHODS",
    "DESCRIPTIONS",
    "LCStyle",
    "LC_MODELS",
    "FRONT_ENDS",
    "FALLBACK_COLOURS",
    "fallback_colour",
    "method_style",
    "method_label",
    "method_colour",
]


# ----------------------------------------------------------------------------- metrics

@dataclass(frozen=True)
class Metric:
    """One metric of the task-1 accuracy curve.

    Attributes
    ----------
    key : str
        Name in :func:`~lcne.analysis.metrics.stability_metrics` and in table columns.
    label : str
        As printed in tables, reports and figures.
    unit : str
        Unit of the reported value: ``"%"`` or ``"fraction"``.
    scale : float
        Factor from the stored value (accuracies are fractions) to the reported one.
    better : int
        +1 when higher is better, -1 when lower is better (the selection rule uses it).
    decimals : int
        Decimals of the reported value in tables and reports.
    description : str
    """

    key: str
    label: str
    unit: str
    scale: float
    better: int
    decimals: int
    description: str = ""

    @property
    def axis_label(self) -> str:
        """Label with the unit, for a figure axis: ``"avg-ACC (%)"``."""
        return f"{self.label} ({self.unit})"

    def format(self, value: float) -> str:
        """``value`` (already scaled) with the metric's decimals."""
        return f"{value:.{self.decimals}f}"


METRICS: Dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("avg_acc", "avg-ACC", "%", 100.0, +1, 2, "mean over contexts of the accuracy at the end of each"),
        Metric("avg_min_acc", "avg-min-ACC", "%", 100.0, +1, 2,
               "mean over contexts of the minimum accuracy in each (convention: see lcne.analysis.metrics)"),
        Metric("wc_acc", "WC-ACC", "%", 100.0, +1, 2,
               "worst-case accuracy: (1/T) F_T + (1 - 1/T) avg-min-ACC (De Lange et al. 2022)"),
        Metric("avg_sg", "avg-SG", "fraction", 1.0, -1, 3, "mean over transitions of SG_k"),
        Metric("sg_k", "SG_k", "fraction", 1.0, -1, 3,
               "stability gap of transition k-1 -> k: (F_{k-1} - M_k) / F_{k-1}; keys sg_2, sg_3, ..."),
    )
}

#: the summary metrics, in the order of every table
SUMMARY_METRICS: Tuple[str, ...] = ("avg_acc", "avg_min_acc", "wc_acc", "avg_sg")

_TRANSITION = re.compile(r"sg_(\d+)$")


def metric(key: str) -> Metric:
    """The :class:`Metric` of ``key``; ``sg_<k>`` resolves to the per-transition entry.

    Raises
    ------
    KeyError
        For a key that is not in :data:`METRICS` (the message lists the known keys).
    """
    if key in METRICS:
        return METRICS[key]
    match = _TRANSITION.match(str(key))
    if match:
        return replace(METRICS["sg_k"], key=key, label=f"SG_{match.group(1)}")
    raise KeyError(f"unknown metric {key!r}; known: {', '.join(METRICS)} (sg_k as sg_2, sg_3, ...)")


# ----------------------------------------------------------------------------- methods

@dataclass(frozen=True)
class MethodStyle:
    """How a method is named and drawn in every figure."""

    label: str
    colour: str
    linestyle: str = "-"


@dataclass(frozen=True)
class LCStyle:
    """Label of an LC model or uncertainty front end inside a method name, and what it
    changes in the method's look (``None``: the method's own)."""

    label: str
    colour: Optional[str] = None
    linestyle: Optional[str] = None


_GREY = "#888888"

#: method name -> look; in table order (the paper's method, its baselines, then the
#: ablations), which :func:`lcne.analysis.report.merge_results` follows
METHODS: Dict[str, MethodStyle] = {
    "ngm": MethodStyle("NGM-SGD", OKABE_ITO["vermillion"]),
    "sgd": MethodStyle("SGD", OKABE_ITO["green"]),
    "msgd": MethodStyle("MSGD", OKABE_ITO["blue"]),
    "adam": MethodStyle("Adam", OKABE_ITO["orange"]),
    "fixed-gain": MethodStyle("fixed-gain", OKABE_ITO["purple"]),
    "entropy-lr": MethodStyle("entropy-lr", OKABE_ITO["skyblue"]),
    # a reset ablation shares its method's colour, dashed
    "msgd-reset": MethodStyle("msgd-reset", OKABE_ITO["blue"], "--"),
    "adam-reset": MethodStyle("adam-reset", OKABE_ITO["orange"], "--"),
    "ngm-momentum": MethodStyle("ngm-momentum", OKABE_ITO["black"]),
    "shuffled-gain": MethodStyle("shuffled-gain", _GREY),
    # the controls added for the matched-lr study: step size alone, timing alone
    "lr-replay": MethodStyle("lr-replay", OKABE_ITO["skyblue"], "--"),
    "switch-burst": MethodStyle("switch-burst", _GREY, "--"),
    # cheap alternatives built on SGD: SGD's colour, other line styles
    "weight-ema": MethodStyle("weight-ema", OKABE_ITO["green"], ":"),
    "lr-rewarm": MethodStyle("lr-rewarm", OKABE_ITO["green"], "-."),
}

#: what each method is, one line, for tables and reports (the definitions are in
#: :mod:`lcne.experiments.methods`)
DESCRIPTIONS: Dict[str, str] = {
    "ngm": "NGM-SGD: SGD with the uncertainty-driven gain on every layer (the paper's integrator)",
    "sgd": "SGD, momentum 0, gain 1",
    "msgd": "SGD, momentum 0.9, gain 1",
    "adam": "Adam, default betas, gain 1",
    "fixed-gain": "SGD with a constant gain: the time-average of the same seed's NGM gain (the level alone)",
    "entropy-lr": "SGD at gain 1 whose learning rate is multiplied by the integrator's output",
    "msgd-reset": "momentum SGD, velocity cleared at every switch",
    "adam-reset": "Adam, moments and step count cleared at every switch",
    "ngm-momentum": "the NGM gain with momentum-0.9 SGD",
    "shuffled-gain": "SGD with another seed's NGM gain trace replayed (timing, decoupled from the run's uncertainty)",
    "lr-replay": "SGD at gain 1 with learning rate lr * g_NGM(t)^2 of the same seed (the step size alone)",
    "switch-burst": "SGD with the seed- and context-mean NGM burst replayed at every known switch (timing alone)",
    "weight-ema": "SGD evaluated on an exponential moving average of its weights (decay 0.99 per iteration)",
    "lr-rewarm": "SGD whose lr drops at every known switch and ramps back linearly (an oracle schedule)",
}

#: LC models (``--lc``) as parts of a method name; colours from Tol's (2021) muted set,
#: apart from the Okabe-Ito colours of the methods
LC_MODELS: Dict[str, LCStyle] = {
    "paper": LCStyle("paper integrator"),
    "gilzenrat-phasic": LCStyle("Gilzenrat phasic", "#882255"),
    "gilzenrat-tonic": LCStyle("Gilzenrat tonic", "#999933"),
    "adaptive": LCStyle("adaptive (AGT)", "#332288"),
    "constant": LCStyle("constant", "#44AA99"),
}

#: uncertainty front ends (``--uncertainty``) as parts of a method name
FRONT_ENDS: Dict[str, LCStyle] = {
    "entropy": LCStyle("entropy", linestyle="-"),
    "cpp": LCStyle("cpp", linestyle="--"),
    "unexpected": LCStyle("unexpected", linestyle="-."),
}

#: colours of names the tables do not know, by position
FALLBACK_COLOURS: Tuple[str, ...] = tuple(OKABE_ITO[k] for k in ("purple", "skyblue", "black", "yellow"))


def fallback_colour(index: int) -> str:
    """Colour number ``index`` of :data:`FALLBACK_COLOURS` (cycled)."""
    return FALLBACK_COLOURS[index % len(FALLBACK_COLOURS)]


def method_style(name: str, index: int = 0) -> MethodStyle:
    """Label, colour and line style of a method name (see the module docstring).

    Parameters
    ----------
    name : str
        A method name as stored in results (``ngm``, ``ngm+gilzenrat-phasic``, ...).
    index : int
        Position of the method in the figure; chooses the fallback colour of a name the
        tables do not know.
    """
    name = str(name)
    if name in METHODS:
        return METHODS[name]
    base, *parts = name.split("+")
    if base not in METHODS or not parts:
        return MethodStyle(name, fallback_colour(index))
    own = METHODS[base]
    labels, colour, linestyle = [own.label], own.colour, own.linestyle
    for part in parts:
        known = LC_MODELS.get(part) or FRONT_ENDS.get(part)
        if known is None:  # an LC model or front end this table does not know
            labels.append(part)
            colour = fallback_colour(index)
            continue
        labels.append(known.label)
        if part in LC_MODELS and known.colour is not None:
            colour = known.colour
        if known.linestyle is not None:
            linestyle = known.linestyle
    return MethodStyle(", ".join(labels), colour, linestyle)


def method_label(name: str) -> str:
    """Legend label of a method name (:func:`method_style`)."""
    return method_style(name).label


def method_colour(name: str, index: int = 0) -> str:
    """Colour of a method name (:func:`method_style`)."""
    return method_style(name, index).colour
