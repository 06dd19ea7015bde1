"""The pre-registered claims of the NGM study, as data: families, benchmarks, metrics.

The study compares NGM-SGD (``ngm``) with tuned optimisers, with ablations that isolate
what carries its effect, with cheap alternatives, with explicit LC models and with
optimiser resets, on six benchmarks. Every claim is one paired comparison of two
methods, ``a`` and ``b``, on one metric and one benchmark; its effect is
``mean over seeds of (metric(a) - metric(b))`` in the metric's reported units (percent
for accuracies, a fraction for avg-SG).

Benchmarks (:data:`STUDY_BENCHMARKS`, with the number of test seeds planned):
split-, permuted- and rotated-MNIST on the embedded MNIST data (20 test seeds each);
split-, permuted- and rotated-Fashion-MNIST at full size (12 test seeds each).

Metrics (:data:`STUDY_METRICS`): ``avg_sg`` (lower is better), ``wc_acc`` and ``avg_acc``
(higher is better), of the task-1 curve, per seed. avg-min-ACC, and with it WC-ACC, uses
the ``"after-first"`` convention (:data:`STUDY_CONVENTION`): avg-min-ACC is the mean of the
block minima M_2..M_T, the minima after task 1 has been learned (see
:mod:`lcne.analysis.metrics`). The claims test avg-SG and WC-ACC; avg-ACC is reported
in the tables only.

Families (:data:`FAMILIES`; the Holm correction runs within each family, over all six
benchmarks):

====  ==================================  ================  =======================================  =====
id    title                               metrics           comparisons (a vs b)                     tests
====  ==================================  ================  =======================================  =====
F1    gap against tuned optimisers        avg_sg            ngm vs sgd, msgd, adam                   18
F2    accuracy against tuned optimisers   wc_acc            ngm vs sgd, msgd, adam                   18
F3    what carries the effect             avg_sg            ngm vs fixed-gain, shuffled-gain,        30
                                                            lr-replay, switch-burst, entropy-lr
F4    cheap alternatives                  avg_sg, wc_acc    ngm vs weight-ema, lr-rewarm             24
F5    explicit LC                         avg_sg, wc_acc    ngm+gilzenrat-phasic vs ngm,             24
                                                            ngm+adaptive vs ngm
F6    optimizer resets                    avg_sg            msgd-reset vs msgd, adam-reset vs adam   12
====  ==================================  ================  =======================================  =====

Verdicts (:data:`VERDICTS`), one per claim, at family-wise level :data:`ALPHA` = 0.05:

* ``"A better"`` -- the Holm-adjusted two-sided exact sign-flip p < 0.05 and the mean
  effect a - b points in the metric's better direction (a smaller avg-SG, a higher
  WC-ACC);
* ``"A worse"`` -- the Holm-adjusted p < 0.05 and the effect points the other way;
* ``"no difference detected"`` -- otherwise. The 95 % interval of the effect is shown
  beside it: the data neither show a difference nor show that there is none (this is
  never called "equivalent");
* ``"not run"`` -- a method of the claim (or the benchmark) is absent from the results,
  or no seed of the pair finished. Such claims are listed, and Holm runs over the claims
  that did run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

__all__ = [
    "ALPHA",
    "STUDY_CONVENTION",
    "STUDY_BENCHMARKS",
    "STUDY_METRICS",
    "VERDICTS",
    "VERDICT_DEFINITIONS",
    "Family",
    "Claim",
    "FAMILIES",
    "CLAIMS",
    "claims_of",
]

#: family-wise significance level of every verdict
ALPHA = 0.05
#: avg-min-ACC convention of the study (WC-ACC depends on it)
STUDY_CONVENTION = "after-first"

#: benchmark -> number of test seeds planned (the embedded MNIST data: 20; full-size
#: Fashion-MNIST: 12), in report order
STUDY_BENCHMARKS: Dict[str, int] = {
    "split-mnist": 20,
    "permuted-mnist": 20,
    "rotated-mnist": 20,
    "split-fashion-mnist": 12,
    "permuted-fashion-mnist": 12,
    "rotated-fashion-mnist": 12,
}

#: metrics of the study's tables, in order (keys of lcne.analysis.vocabulary.METRICS)
STUDY_METRICS: Tuple[str, ...] = ("avg_sg", "wc_acc", "avg_acc")

#: the verdict words, in table order
VERDICTS: Tuple[str, ...] = ("A better", "A worse", "no difference detected", "not run")

#: verdict -> its definition, as printed once in the report
VERDICT_DEFINITIONS: Dict[str, str] = {
    "A better": "the Holm-adjusted two-sided exact sign-flip p < 0.05 and the mean effect a − b points in "
                "the metric's better direction (smaller avg-SG, higher WC-ACC)",
    "A worse": "the Holm-adjusted p < 0.05 and the mean effect points the other way",
    "no difference detected": "Holm-adjusted p >= 0.05; the 95 % interval of the effect is shown beside it. "
                              "The data show no difference; they do not show that there is none (never read "
                              "this as \"equivalent\")",
    "not run": "a method of the claim or its benchmark is absent from the results, or no seed of the pair "
               "finished; listed, and left out of the Holm correction",
}


@dataclass(frozen=True)
class Family:
    """One family of claims: Holm runs over its tests on every benchmark.

    ``comparisons``: (a, b, question) triples, the question as asked before the runs
    (``{metric}`` stands for the metric's label). ``metrics``: the metrics each
    comparison is tested on.
    """

    id: str
    title: str
    metrics: Tuple[str, ...]
    comparisons: Tuple[Tuple[str, str, str], ...]

    @property
    def size(self) -> int:
        """Number of tests: metrics x comparisons x benchmarks."""
        return len(self.metrics) * len(self.comparisons) * len(STUDY_BENCHMARKS)


@dataclass(frozen=True)
class Claim:
    """One pre-registered test: on ``benchmark``, is ``metric`` of ``a`` different from ``b``'s?"""

    family: str
    benchmark: str
    metric: str
    a: str
    b: str
    question: str


_TUNED = (
    ("ngm", "sgd", "Does NGM-SGD differ from tuned plain SGD in {metric}?"),
    ("ngm", "msgd", "Does NGM-SGD differ from tuned momentum SGD in {metric}?"),
    ("ngm", "adam", "Does NGM-SGD differ from tuned Adam in {metric}?"),
)

FAMILIES: Dict[str, Family] = {
    f.id: f
    for f in (
        Family("F1", "gap against tuned optimisers", ("avg_sg",), _TUNED),
        Family("F2", "accuracy against tuned optimisers", ("wc_acc",), _TUNED),
        Family("F3", "what carries the effect", ("avg_sg",), (
            ("ngm", "fixed-gain", "Do the gain's dynamics matter beyond its level (a constant gain at the same "
                                  "seed's NGM mean) for {metric}?"),
            ("ngm", "shuffled-gain", "Does coupling to the run's own uncertainty matter (another seed's NGM gain "
                                     "trace replayed) for {metric}?"),
            ("ngm", "lr-replay", "Does the gain do more than scale the step size (SGD at lr * g_NGM(t)^2 of the "
                                 "same seed) for {metric}?"),
            ("ngm", "switch-burst", "Is the network's own uncertainty needed to time the bursts (the average NGM "
                                    "burst at the known switches) for {metric}?"),
            ("ngm", "entropy-lr", "Does the entropy acting on the gain differ from the entropy acting on the "
                                  "learning rate in {metric}?"),
        )),
        Family("F4", "cheap alternatives", ("avg_sg", "wc_acc"), (
            ("ngm", "weight-ema", "Does NGM-SGD differ in {metric} from SGD evaluated on a running average (EMA) "
                                  "of its weights?"),
            ("ngm", "lr-rewarm", "Does NGM-SGD differ in {metric} from SGD whose learning rate is re-warmed at "
                                 "every switch?"),
        )),
        Family("F5", "explicit LC", ("avg_sg", "wc_acc"), (
            ("ngm+gilzenrat-phasic", "ngm", "Does the Gilzenrat phasic LC model driving the gain differ in {metric} "
                                            "from the paper's integrator?"),
            ("ngm+adaptive", "ngm", "Does the adaptive-gain-theory LC model driving the gain differ in {metric} "
                                    "from the paper's integrator?"),
        )),
        Family("F6", "optimizer resets", ("avg_sg",), (
            ("msgd-reset", "msgd", "Does clearing momentum at every switch change momentum SGD's {metric}?"),
            ("adam-reset", "adam", "Does clearing Adam's state at every switch change its {metric}?"),
        )),
    )
}


def _expand() -> Tuple[Claim, ...]:
    from lcne.analysis.vocabulary import metric

    out = []
    for fam in FAMILIES.values():
        for key in fam.metrics:
            for a, b, question in fam.comparisons:
                for bench in STUDY_BENCHMARKS:
                    out.append(Claim(fam.id, bench, key, a, b, question.format(metric=metric(key).label)))
    return tuple(out)


#: every pre-registered claim: family, then metric, then comparison, then benchmark
CLAIMS: Tuple[Claim, ...] = _expand()


def claims_of(family: str) -> Tuple[Claim, ...]:
    """The claims of one family (``"F1"`` ... ``"F6"``).

    Raises
    ------
    KeyError
        For an unknown family id (the message lists the known ones).
    """
    if family not in FAMILIES:
        raise KeyError(f"unknown claim family {family!r}; known: {', '.join(FAMILIES)}")
    return tuple(c for c in CLAIMS if c.family == family)
