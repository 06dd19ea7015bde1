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
"""

__all__ = ["CITATION", "V2_AVG_SG", "V1_TABLE"]

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
