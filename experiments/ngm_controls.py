"""Gain traces of the controls derived from NGM runs of the same config.

Every function takes ``reference``: the NGM gain traces of the config's seeds, a float
array (n_seeds, T) with T = n_contexts * iterations_per_task, as recorded (the gain g(t)
applied at iteration t; NaN from the iteration where a run diverged). They return the
trace each control run replays, (n_seeds, T), one row per seed in the config's order:

* ``fixed-gain`` -- :func:`time_average`: each seed's own NGM time-average, held constant;
* ``shuffled-gain`` -- :func:`other_seed`: seed i replays seed i+1's trace (the last seed
  the first's);
* ``lr-replay`` -- :func:`same_seed`: each seed its own trace (used for its learning rate);
* ``switch-burst`` -- :func:`switch_locked_burst`: one seed- and context-averaged trace.

>>> import numpy as np
>>> ref = np.array([[1., 2., 3., 5.,  4., 9.],
...                 [1., 4., 5., 7., 10., 3.]])       # 2 seeds, 3 contexts of 2 iterations
>>> switch_locked_burst(ref, 2)[0]
array([1. , 3. , 5.5, 6. , 5.5, 6. ])
"""
from __future__ import annotations

import warnings

import numpy as np

__all__ = ["time_average", "other_seed", "same_seed", "switch_locked_burst"]


def _checked(reference, iterations_per_task=None) -> np.ndarray:
    ref = np.asarray(reference, dtype=np.float64)
    if ref.ndim != 2 or ref.shape[0] < 1:
        raise ValueError(f"reference: expected NGM gain traces (n_seeds, iterations), got shape {ref.shape}")
    if iterations_per_task is not None and (iterations_per_task < 1 or ref.shape[1] % iterations_per_task):
        raise ValueError(f"reference: {ref.shape[1]} iterations is not a multiple of "
                         f"iterations_per_task={iterations_per_task}")
    return ref


def time_average(reference) -> np.ndarray:
    """(n_seeds,) each seed's mean NGM gain over all iterations (NaN if it diverged)."""
    return _checked(reference).mean(axis=1)


def other_seed(reference) -> np.ndarray:
    """(n_seeds, T): row i is seed i+1's trace, the last row the first seed's."""
    return np.roll(_checked(reference), -1, axis=0)


def same_seed(reference) -> np.ndarray:
    """(n_seeds, T): each seed's own trace (a copy)."""
    return _checked(reference).copy()


def _nanmean(x: np.ndarray, axis) -> np.ndarray:
    with warnings.catch_warnings():  # every run diverged at that iteration: NaN, on purpose
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=axis)


def switch_locked_burst(reference, iterations_per_task: int) -> np.ndarray:
    """The ``switch-burst`` trace, identical for every seed: (n_seeds, T).

    With g_s(t) the NGM trace of seed s, K contexts of I iterations, t = (k-1) I + i:

    * block 1: g(i) = mean_s g_s(i), i = 0..I-1;
    * every block k >= 2: g((k-1) I + i) = b(i) = mean over s and over k' = 2..K of
      g_s((k'-1) I + i) -- the burst aligned at the switch, averaged over seeds and over
      every context after the first.

    The means skip NaN (iterations after an NGM run diverged); an iteration where every
    run had diverged stays NaN (the control then diverges there too). With a single
    context the trace is the block-1 mean.
    """
    ref = _checked(reference, iterations_per_task)
    n_seeds, T = ref.shape
    I = int(iterations_per_task)
    blocks = ref.reshape(n_seeds, T // I, I)  # (seed, context, i)
    trace = np.empty((T // I, I))
    trace[0] = _nanmean(blocks[:, 0, :], axis=0)
    if T // I > 1:
        trace[1:] = _nanmean(blocks[:, 1:, :].reshape(-1, I), axis=0)
    return np.repeat(trace.reshape(1, T), n_seeds, axis=0)
