"""Published numbers of Rodriguez-Garcia, Ghosh & Ramaswamy (2025), "Noradrenergic-inspired
gain modulation attenuates the stability gap in joint training", arXiv:2507.14056.

Sources:

* ``V2_AVG_SG`` -- avg-SG of Table 1 of the v2/v3 paper (arXiv:2507.14056v2, Table 1;
  task-1 curve, seed-averaged); the NGM-SGD values of Split CIFAR-10 and Split
  mini-ImageNet are also those of the v3 paper (arXiv:2507.14056v3).
* ``V1_TABLE`` -- avg-ACC / avg-min-ACC / WC-ACC (percent) and avg-SG recomputed from the
  result files the authors released with their v1-era code (github.com/alejandrorg00/
  ngm-sgd_project, commit bf808d2: ``figures_and_metrics/data_*.pkl``, 5 seeds, with the
  metric definitions of its ``tab_metrics.py``, avg-min-ACC including block 1). That these
  are the numbers of the v1 printed Table 1 (arXiv:2507.14056v1) is an inference.

Provenance of every number (:data:`PROVENANCE`, keyed by ``(table, benchmark, method)``
with ``table`` ``"v2_avg_sg"`` or ``"v1_table"``): whether it is **verbatim** from the
paper's text or **second-hand**. The reports print a mark beside each published value
(:func:`mark`, legend :data:`PROVENANCE_LEGEND`):

* ``(v)`` verbatim -- quoted from the text of the v3 paper (arXiv:2507.14056v3, Table 1):
  the NGM-SGD avg-SG of Split CIFAR-10 (0.134) and Split mini-ImageNet (0.300). The quotes
  were checked against the PDF text by a third-party citation dossier, not by us;
* ``(s)`` second-hand -- the other v2 Table 1 values, taken from a secondary description
  of the v2 PDF and not checked against the paper's text (the two values of that
  description that can be checked, the two above, match);
* ``(r)`` second-hand -- recomputed by us from the authors' released result files (all of
  ``V1_TABLE``); that they are the printed v1 Table 1 is an inference.
"""

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

__all__ = ["CITATION", "V2_AVG_SG", "V1_TABLE", "Provenance", "PROVENANCE", "PROVENANCE_LEGEND", "provenance",
           "mark"]

CITATION = (
    "Rodriguez-Garcia, Ghosh & Ramaswamy, 'Noradrenergic-inspired gain modulation attenuates the "
    "stability gap in joint training', arXiv 2507.14056 (v2 Table 1; v1 values recomputed from the "
    "authors' released results)"
)

#: benchmark -> method -> avg-SG, v2 Table 1
V2_AVG_SG = {
    "split-mnist": {"ngm": 0.017, "msgd": 0.267, "adam": 0.283, "sgd": 0.034},
    "split-cifar10": {"ngm": 0.134, "msgd": 0.425, "adam": 0.310, "sgd": 0.241},
    "split-miniimagenet": {"ngm": 0.300, "msgd": 0.409, "adam": 0.384, "sgd": 0.332},
    "rotated-mnist": {"ngm": 0.054, "msgd": 0.117, "adam": 0.092, "sgd": 0.053},
    "domain-cifar100": {"ngm": 0.224, "msgd": 0.232, "adam": 0.256, "sgd": 0.243},
}

#: benchmark -> method -> (avg-ACC %, avg-min-ACC %, WC-ACC %, avg-SG), v1 released data
V1_TABLE = {
    "split-mnist": {
        "ngm": (99.018, 83.421, 86.374, 0.019),
        "msgd": (99.085, 58.083, 66.148, 0.270),
        "adam": (98.602, 73.255, 78.082, 0.155),
        "sgd": (98.302, 77.404, 81.405, 0.008),
    },
    "permuted-mnist": {
        "ngm": (94.186, 51.697, 66.022, 0.011),
        "msgd": (92.485, 50.390, 64.818, 0.004),
        "adam": (93.148, 51.233, 65.102, 0.038),
        "sgd": (81.652, 44.194, 57.963, 0.001),
    },
    "rotated-mnist": {
        "ngm": (94.948, 51.006, 65.536, 0.054),
        "msgd": (93.600, 48.017, 63.269, 0.089),
        "adam": (92.138, 48.477, 62.569, 0.154),
        "sgd": (82.029, 45.889, 56.514, 0.063),
    },
    "split-cifar10": {
        "ngm": (90.096, 63.875, 67.650, 0.157),
        "msgd": (87.479, 56.611, 60.697, 0.343),
        "adam": (86.996, 47.415, 54.317, 0.495),
        "sgd": (82.063, 63.032, 64.826, 0.204),
    },
    "domain-cifar100": {
        "ngm": (47.682, 12.400, 23.462, 0.466),
        "msgd": (48.600, 6.470, 19.980, 0.579),
        "adam": (44.713, 10.000, 21.520, 0.872),
        "sgd": (44.058, 20.380, 27.018, 0.221),
    },
}


@dataclass(frozen=True)
class Provenance:
    """Where one published number comes from.

    ``kind``: ``"verbatim"`` (from the paper's text) or ``"second-hand"``; ``mark``: the
    short mark printed beside the number; ``source``: one line saying how it was taken.
    """

    kind: str
    mark: str
    source: str


_QUOTED = Provenance("verbatim", "(v)", "quoted verbatim from the text of arXiv:2507.14056v3, Table 1 (checked "
                                        "against the PDF text by a third-party citation dossier)")
_SECONDARY = Provenance("second-hand", "(s)", "v2 Table 1 as given by a secondary description of the v2 PDF; not "
                                              "checked against the paper's text")
_RECOMPUTED = Provenance("second-hand", "(r)", "recomputed from the authors' released result files "
                                               "(ngm-sgd_project@bf808d2, figures_and_metrics/data_*.pkl); that they "
                                               "are the printed v1 Table 1 is an inference")

#: the v2/v3 values found verbatim in the v3 paper's text
_VERBATIM_V2 = {("split-cifar10", "ngm"), ("split-miniimagenet", "ngm")}

#: (table, benchmark, method) -> :class:`Provenance`, for every number of ``V2_AVG_SG``
#: (table ``"v2_avg_sg"``) and of ``V1_TABLE`` (table ``"v1_table"``; one provenance for
#: the four numbers of a row)
PROVENANCE: Dict[Tuple[str, str, str], Provenance] = {
    **{("v2_avg_sg", b, m): (_QUOTED if (b, m) in _VERBATIM_V2 else _SECONDARY)
       for b, row in V2_AVG_SG.items() for m in row},
    **{("v1_table", b, m): _RECOMPUTED for b, row in V1_TABLE.items() for m in row},
}

#: one line per mark, for the legend of a report
PROVENANCE_LEGEND = (f"Published values are marked {_QUOTED.mark} {_QUOTED.kind}: {_QUOTED.source}; "
                     f"{_SECONDARY.mark} {_SECONDARY.kind}: {_SECONDARY.source}; "
                     f"{_RECOMPUTED.mark} {_RECOMPUTED.kind}: {_RECOMPUTED.source}.")


def provenance(table: str, benchmark: str, method: str) -> Optional[Provenance]:
    """The :class:`Provenance` of a published number, ``None`` when there is no such number.

    ``table``: ``"v2_avg_sg"`` or ``"v1_table"``.

    >>> provenance("v2_avg_sg", "split-cifar10", "ngm").kind
    'verbatim'
    >>> provenance("v1_table", "split-mnist", "msgd").mark
    '(r)'
    """
    if table not in ("v2_avg_sg", "v1_table"):
        raise KeyError(f"unknown table {table!r}; known: v2_avg_sg, v1_table")
    return PROVENANCE.get((table, benchmark, method))


def mark(table: str, benchmark: str, method: str) -> str:
    """The provenance mark of a published number (``"(v)"``, ``"(s)"``, ``"(r)"``), ``""`` if none."""
    p = provenance(table, benchmark, method)
    return p.mark if p else ""
