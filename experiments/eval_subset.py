"""Fixed stratified evaluation subsets: N test images per task, drawn once per run.

With ``RunConfig.eval_subset = N`` every run is evaluated, at every evaluated iteration,
on the same N test images of each task instead of the task's whole test set. The images
are stratified by class: the N places are shared among the task's classes as equally as
the class sizes allow (:func:`class_quota`); a task with at most N test images is
evaluated on all of them. Which images fill each class's places is drawn once per run,
before training, from a numpy generator seeded with ``[seed, SUBSET_SEED_TAG]`` -- not
the run's torch training generator, so training is the same bit for bit with or without
a subset, and two runs with the same seed (different methods) share their subsets (paired
comparisons). The subset is never redrawn during the run.

The subsets of a batch of runs are one int64 array ``eval_index`` of shape
(n_runs, n_tasks, N): original indices into the stream's test set (sorted within each
task), padded with -1 where a task has fewer than N images. The same array is stored in
the results (variable ``eval_index``, ``docs/results-schema.md``).

An accuracy measured on N of a task's n images differs from the whole-test-set accuracy
by sampling alone; its sd at accuracy p is sqrt(p (1-p) / N * (n-N) / (n-1)) (a binomial
noise floor with the finite-population correction; ``lcne.analysis.eval_exactness``).
"""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np

from lcne.experiments.errors import ConfigError

__all__ = ["SUBSET_SEED_TAG", "class_quota", "draw_subsets", "subset_layout"]

#: second word of the subset generator's seed (``np.random.default_rng([seed, TAG])``):
#: keeps the subset stream apart from anything else seeded with the run's seed
SUBSET_SEED_TAG = 0x45564C53  # "EVLS"


def class_quota(class_sizes: Sequence[int], n: int) -> np.ndarray:
    """Places per class of an ``n``-image stratified sample (int array like ``class_sizes``).

    Classes get equal shares; a class smaller than its share gives all its images and
    the rest is shared among the others (water filling). When the shares do not divide
    evenly, the one-image remainders go to the classes with the most images left (ties:
    lower position). Sums to ``min(n, sum(class_sizes))``.

    >>> class_quota([100, 100, 3], 50).tolist()
    [24, 23, 3]
    >>> class_quota([5, 5], 50).tolist()
    [5, 5]
    """
    sizes = np.asarray(class_sizes, dtype=np.int64)
    quota = np.zeros_like(sizes)
    left = min(int(n), int(sizes.sum()))
    while left > 0:
        open_ = np.flatnonzero(quota < sizes)
        share = left // len(open_)
        if share == 0:  # fewer places than open classes: one each, most images left first
            room = sizes[open_] - quota[open_]
            order = open_[np.lexsort((open_, -room))]
            quota[order[:left]] += 1
            break
        give = np.minimum(share, sizes[open_] - quota[open_])
        quota[open_] += give
        left -= int(give.sum())
    return quota


def draw_subsets(stream, n_per_task: int, run_seeds: Sequence[int]) -> np.ndarray:
    """The fixed stratified subsets of every run: int64 (n_runs, n_tasks, N), -1 padded.

    Parameters
    ----------
    stream : :class:`~lcne.experiments.streams.JointTrainingStream`
        Its test set (``test_y``, ``test_task``) is the population.
    n_per_task : int
        N, test images per task (>= 1).
    run_seeds : sequence of int
        The seed of every run, in run order; equal seeds give equal subsets.
    """
    if isinstance(n_per_task, bool) or not isinstance(n_per_task, (int, np.integer)) or n_per_task < 1:
        raise ConfigError(f"eval_subset: {n_per_task!r} must be a positive integer")
    n = int(n_per_task)
    y = stream.test_y.cpu().numpy()
    task = stream.test_task.cpu().numpy()
    K = int(stream.n_tasks)
    plan = []  # per task: [(indices of one class, places)]
    for k in range(1, K + 1):
        members = np.flatnonzero(task == k)
        classes = np.unique(y[members])
        pools = [members[y[members] == c] for c in classes]
        plan.append(list(zip(pools, class_quota([len(p) for p in pools], n))))
    out = np.full((len(run_seeds), K, n), -1, dtype=np.int64)
    for r, seed in enumerate(run_seeds):
        rng = np.random.default_rng([int(seed), SUBSET_SEED_TAG])
        for k, classes in enumerate(plan):
            picked = [rng.choice(pool, size=int(q), replace=False) if q < len(pool) else pool
                      for pool, q in classes]
            chosen = np.sort(np.concatenate(picked)) if picked else np.empty(0, np.int64)
            out[r, k, : chosen.size] = chosen
    return out


def subset_layout(eval_index: np.ndarray, n_tasks: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The evaluation layout of ``eval_index`` (n_runs, n_tasks, N).

    Returns ``flat`` int64 (n_runs, M): each run's test indices, task after task;
    ``task`` int64 (M,): the 0-based task of each column; ``counts`` int64 (n_tasks,):
    images per task (the same for every run, since the class quotas do not depend on
    the seed). Raises ``ValueError`` for a malformed array.
    """
    idx = np.asarray(eval_index)
    if idx.ndim != 3 or idx.shape[1] != n_tasks or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"eval_index must be an integer array (n_runs, {n_tasks}, N), got {idx.dtype} {idx.shape}")
    valid = idx >= 0
    counts = valid.sum(axis=2)
    if np.any(counts != counts[:1]):
        raise ValueError("eval_index: every run must have the same number of images per task")
    counts = counts[0]
    flat = np.concatenate([idx[:, k, : counts[k]] for k in range(n_tasks)], axis=1)
    task = np.repeat(np.arange(n_tasks), counts)
    return flat.astype(np.int64), task.astype(np.int64), counts.astype(np.int64)
