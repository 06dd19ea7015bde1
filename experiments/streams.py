"""Task streams for incremental joint training (paper definitions).

A :class:`JointTrainingStream` holds every training and test sample of a benchmark as
flat float tensors together with the (1-based) task that introduces each sample.
Context k trains on the union of tasks 1..k: batches are drawn uniformly with
replacement from that pool, with no task label given to the network.

Benchmarks (Rodriguez-Garcia et al. 2025, paper-notes §2.2):

* ``split-mnist``: 5 cumulative contexts {0,1}, {0-3}, ..., {0-9}; task k = digits
  {2k-2, 2k-1}; 10-way head; 200 iterations per context; eta = 0.4.
* ``permuted-mnist``: 3 contexts: identity, p1, p2 (RandomState(42)); 200 it.; eta = 0.3.
* ``rotated-mnist``: 3 contexts: 0, 80, 160 degrees; 400 it.; eta = 0.5.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Tuple

import numpy as np
import torch

from experiments.data.mnist import ImageSet, load_mnist
from experiments.transforms import normalise_mnist, permutations, rotate, to_float

__all__ = ["JointTrainingStream", "BenchmarkSpec", "BENCHMARKS", "build_stream", "holdout_validation"]


@dataclass
class JointTrainingStream:
    """All samples of a benchmark, with the task that introduces each one.

    Attributes
    ----------
    train_x, test_x : Tensor (N, features) float32
    train_y, test_y : Tensor (N,) int64
    train_task, test_task : Tensor (N,) int64, 1-based task of each sample
        (the test arrays are sorted by task, so tasks 1..k are a prefix)
    n_tasks, n_classes : int
    """

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    train_task: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    test_task: torch.Tensor
    n_tasks: int
    n_classes: int
    source: str = ""
    _pools: Dict[int, torch.Tensor] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if torch.any(self.test_task[1:] < self.test_task[:-1]):
            raise ValueError("test samples must be sorted by task")

    def train_pool(self, context: int) -> torch.Tensor:
        """Indices of the training samples available in ``context`` (1-based): tasks 1..k."""
        if context not in self._pools:
            self._pools[context] = torch.nonzero(self.train_task <= context).flatten()
        return self._pools[context]

    def test_end(self, context: int) -> int:
        """Number of test samples belonging to tasks 1..context (a prefix of the test set)."""
        return int((self.test_task <= context).sum())

    def test_counts(self) -> torch.Tensor:
        """Test samples per task, shape (n_tasks,)."""
        return torch.bincount(self.test_task - 1, minlength=self.n_tasks)


def _flat(x: torch.Tensor) -> torch.Tensor:
    return normalise_mnist(x).reshape(x.shape[0], -1).contiguous()


def _split_mnist(train: ImageSet, test: ImageSet) -> JointTrainingStream:
    def task_of(labels):
        return torch.from_numpy(labels // 2 + 1)

    order = np.argsort(test.labels // 2, kind="stable")
    return JointTrainingStream(
        name="split-mnist",
        train_x=_flat(to_float(train.images)),
        train_y=torch.from_numpy(train.labels),
        train_task=task_of(train.labels),
        test_x=_flat(to_float(test.images[order])),
        test_y=torch.from_numpy(test.labels[order]),
        test_task=task_of(test.labels[order]),
        n_tasks=5,
        n_classes=10,
        source=train.source,
    )


def _domain_stream(name, train: ImageSet, test: ImageSet, variants) -> JointTrainingStream:
    """Stack one transformed copy of train and test per task (domain-incremental)."""
    xs, ys, ts, txs, tys, tts = [], [], [], [], [], []
    base_tr, base_te = to_float(train.images), to_float(test.images)
    for k, transform in enumerate(variants, start=1):
        xs.append(transform(base_tr))
        txs.append(transform(base_te))
        ys.append(torch.from_numpy(train.labels))
        tys.append(torch.from_numpy(test.labels))
        ts.append(torch.full((len(train),), k, dtype=torch.int64))
        tts.append(torch.full((len(test),), k, dtype=torch.int64))
    return JointTrainingStream(
        name=name,
        train_x=torch.cat(xs),
        train_y=torch.cat(ys),
        train_task=torch.cat(ts),
        test_x=torch.cat(txs),
        test_y=torch.cat(tys),
        test_task=torch.cat(tts),
        n_tasks=len(variants),
        n_classes=10,
        source=train.source,
    )


def _permuted_mnist(train, test, n_tasks: int = 3, seed: int = 42):
    perms = [None] + permutations(28 * 28, n_tasks - 1, seed)

    def make(p):
        def transform(x):
            flat = _flat(x)
            return flat if p is None else flat[:, torch.from_numpy(p)].contiguous()

        return transform

    return _domain_stream("permuted-mnist", train, test, [make(p) for p in perms])


def _rotated_mnist(train, test, angles=(0.0, 80.0, 160.0)):
    return _domain_stream(
        "rotated-mnist", train, test, [lambda x, a=a: _flat(rotate(x, a)) for a in angles]
    )


@dataclass(frozen=True)
class BenchmarkSpec:
    """A benchmark's stream builder and the paper's defaults for it."""

    build: Callable[[ImageSet, ImageSet], JointTrainingStream]
    iterations_per_task: int
    eta: float
    batch_size: int = 128
    lr: float = 0.01
    dataset: str = "mnist"


BENCHMARKS: Dict[str, BenchmarkSpec] = {
    "split-mnist": BenchmarkSpec(_split_mnist, iterations_per_task=200, eta=0.4),
    "permuted-mnist": BenchmarkSpec(_permuted_mnist, iterations_per_task=200, eta=0.3),
    "rotated-mnist": BenchmarkSpec(_rotated_mnist, iterations_per_task=400, eta=0.5),
}


#: seed of the fixed, stratified validation hold-out (see :func:`holdout_validation`)
VALIDATION_SEED = 2508


def holdout_validation(train: ImageSet, fraction: float = 1 / 6) -> Tuple[ImageSet, ImageSet]:
    """Split a training set into (train, validation), stratified by label, fixed seed.

    Used for hyperparameter selection so that the test curves are never looked at:
    with ``eval_split="validation"`` the runs train on the remaining training images and
    are evaluated on the held-out ones.
    """
    rng = np.random.default_rng(VALIDATION_SEED)
    keep, held = [], []
    for c in np.unique(train.labels):
        idx = rng.permutation(np.flatnonzero(train.labels == c))
        n_val = max(1, int(round(fraction * len(idx))))
        held.append(idx[:n_val])
        keep.append(idx[n_val:])
    keep, held = np.sort(np.concatenate(keep)), np.sort(np.concatenate(held))
    src = train.source + f" (validation hold-out {fraction:.3g})"
    return (
        ImageSet(train.images[keep], train.labels[keep], src),
        ImageSet(train.images[held], train.labels[held], src),
    )


def build_stream(benchmark: str, data_dir: Optional[str] = None, eval_split: str = "test") -> JointTrainingStream:
    """Load the data and build the stream of a registered benchmark.

    ``eval_split="validation"`` evaluates on a stratified hold-out of the training set
    instead of the test set (for hyperparameter selection).
    """
    spec = BENCHMARKS[benchmark]
    train, test = load_mnist(data_dir)
    if eval_split == "validation":
        train, test = holdout_validation(train)
    elif eval_split != "test":
        raise ValueError(f"eval_split must be 'test' or 'validation', got {eval_split!r}")
    return spec.build(train, test)
