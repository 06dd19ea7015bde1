"""Task streams for incremental joint training (paper definitions).

A :class:`JointTrainingStream` holds every training and test sample of a benchmark as
flat float tensors together with the (1-based) task that introduces each sample.
Context k trains on the union of tasks 1..k: batches are drawn uniformly with
replacement from that pool, with no task label given to the network.

Benchmarks (Rodriguez-Garcia, Ghosh & Ramaswamy 2025, arXiv:2507.14056, Section 3, as built in the
authors' code, github.com/alejandrorg00/ngm-sgd_project; ``docs/protocol.md``):

* ``split-mnist``: 5 cumulative contexts {0,1}, {0-3}, ..., {0-9}; task k = digits
  {2k-2, 2k-1}; 10-way head; 200 iterations per context; eta = 0.4.
* ``permuted-mnist``: 3 contexts: identity, p1, p2 (RandomState(42)); 200 it.; eta = 0.3.
* ``rotated-mnist``: 3 contexts: 0, 80, 160 degrees; 400 it.; eta = 0.5. Rotation with
  nearest-neighbour interpolation, the authors' (``rotation="bilinear"`` as an option).
* ``split-fashion-mnist``, ``permuted-fashion-mnist``, ``rotated-fashion-mnist``: the same
  task structures, iterations, batch size and default eta on Fashion-MNIST (Xiao, Rasul &
  Vollgraf 2017, arXiv:1708.07747; class pairs {T-shirt, trouser}, {pullover, dress}, ...),
  normalised with its own training-set mean 0.2860 and sd 0.3530; files from
  ``/usr/share/datasets/fashion-mnist`` (package ``dataset-fashion-mnist``) or ``--data-dir``
  (``docs/fashion-mnist.md``).

Every stream names its data: ``dataset`` and ``data_files`` (``{path: sha256}``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Dict, Optional, Tuple

import numpy as np
import torch

from lcne.experiments.datasets.fashion import load_fashion_mnist
from lcne.experiments.datasets.mnist import ImageSet, load_mnist
from lcne.experiments.errors import ConfigError, DataError
from lcne.experiments.transforms import (FASHION_MNIST_MEAN, FASHION_MNIST_STD, MNIST_MEAN, MNIST_STD, ROTATION_MODES,
                                         normalise, permutations, rotate, to_float)

__all__ = ["JointTrainingStream", "BenchmarkSpec", "BENCHMARKS", "build_stream", "check_stream", "holdout_validation"]


@dataclass
class JointTrainingStream:
    """All samples of a benchmark, with the task that introduces each one.

    Attributes
    ----------
    train_x, test_x : Tensor (N, features) float32, or uint8 images (N, C, H, W) with
        ``train_transform(x (R, B, C, H, W), generators)`` (augmentation) and
        ``eval_transform(x)`` turning them into network input
    train_y, test_y : Tensor (N,) int64
    train_task, test_task : Tensor (N,) int64, 1-based task of each sample
        (the test arrays are sorted by task, so tasks 1..k are a prefix)
    n_tasks, n_classes : int
    source : str, a description of the data (``"IDX files in DIR"``, ...)
    dataset : str, the data set's name (``"mnist"``, ``"fashion-mnist"``, ``"CIFAR-10"``, ...)
    data_files : dict, ``{path: sha256}`` (64 hex digits) of the files read; empty for data
        built in memory and for the image benchmarks
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
    dataset: str = ""
    data_files: Dict[str, str] = field(default_factory=dict)
    #: images stored as uint8 are turned into network input by these (None: stored as input)
    train_transform: Optional[Callable] = field(default=None, repr=False)
    eval_transform: Optional[Callable] = field(default=None, repr=False)
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


#: (mean, sd) of pixel/255 over each data set's training images (``transforms``)
MNIST_NORM = (MNIST_MEAN, MNIST_STD)
FASHION_MNIST_NORM = (FASHION_MNIST_MEAN, FASHION_MNIST_STD)


def _flat(x: torch.Tensor, norm: Tuple[float, float]) -> torch.Tensor:
    return normalise(x, *norm).reshape(x.shape[0], -1).contiguous()


def _data_files(train: ImageSet, test: ImageSet) -> Dict[str, str]:
    return {**train.files, **test.files}


def _split_stream(train: ImageSet, test: ImageSet, rotation: str = "nearest", *, name: str = "split-mnist",
                  dataset: str = "mnist", norm: Tuple[float, float] = MNIST_NORM) -> JointTrainingStream:
    """Class-incremental: task k = classes {2k-2, 2k-1}, 5 tasks, 10-way head
    (``rotation`` is not used)."""
    def task_of(labels):
        return torch.from_numpy(labels // 2 + 1)

    order = np.argsort(test.labels // 2, kind="stable")
    return JointTrainingStream(
        name=name,
        train_x=_flat(to_float(train.images), norm),
        train_y=torch.from_numpy(train.labels),
        train_task=task_of(train.labels),
        test_x=_flat(to_float(test.images[order]), norm),
        test_y=torch.from_numpy(test.labels[order]),
        test_task=task_of(test.labels[order]),
        n_tasks=5,
        n_classes=10,
        source=train.source,
        dataset=dataset,
        data_files=_data_files(train, test),
    )


def _domain_stream(name, train: ImageSet, test: ImageSet, variants, dataset: str) -> JointTrainingStream:
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
        dataset=dataset,
        data_files=_data_files(train, test),
    )


def _permuted_stream(train: ImageSet, test: ImageSet, rotation: str = "nearest", *, name: str = "permuted-mnist",
                     dataset: str = "mnist", norm: Tuple[float, float] = MNIST_NORM, n_tasks: int = 3,
                     seed: int = 42) -> JointTrainingStream:
    """Domain-incremental: task 1 the images as they are, task k >= 2 the (k-1)-th pixel
    permutation of ``RandomState(seed)`` (``rotation`` is not used)."""
    perms = [None] + permutations(28 * 28, n_tasks - 1, seed)

    def make(p):
        def transform(x):
            flat = _flat(x, norm)
            return flat if p is None else flat[:, torch.from_numpy(p)].contiguous()

        return transform

    return _domain_stream(name, train, test, [make(p) for p in perms], dataset)


def _rotated_stream(train: ImageSet, test: ImageSet, rotation: str = "nearest", *, name: str = "rotated-mnist",
                    dataset: str = "mnist", norm: Tuple[float, float] = MNIST_NORM,
                    angles=(0.0, 80.0, 160.0)) -> JointTrainingStream:
    """Domain-incremental: task k = the images rotated counter-clockwise by ``angles[k-1]``
    degrees about their centre, interpolated with ``rotation`` (``"nearest"``, the
    authors', or ``"bilinear"``; :func:`~lcne.experiments.transforms.rotate`), zero fill,
    then normalised."""
    return _domain_stream(
        name, train, test, [lambda x, a=a: _flat(rotate(x, a, mode=rotation), norm) for a in angles], dataset
    )


@dataclass(frozen=True)
class BenchmarkSpec:
    """A benchmark's stream builder, its network and the paper's defaults for it.

    ``dataset`` says which data the benchmark reads: ``"mnist"`` (the embedded subset, or
    the IDX files in ``--data-dir``), ``"fashion-mnist"`` (the IDX files in
    ``/usr/share/datasets/fashion-mnist`` or ``--data-dir``; ``build(train, test, rotation)``
    for both) or ``"image"`` (CIFAR / mini-ImageNet files under ``--data-dir``, see
    :mod:`lcne.experiments.datasets`). ``model`` is ``"mlp"`` or ``"resnet"``.
    ``iterations_per_task``: training iterations per context; ``eta``: the paper's burst
    scale per nat (the Fashion-MNIST benchmarks take their MNIST counterpart's value; see
    ``docs/fashion-mnist.md``).
    """

    build: Optional[Callable[..., JointTrainingStream]]
    iterations_per_task: int
    eta: float
    batch_size: int = 128
    lr: float = 0.01
    dataset: str = "mnist"
    model: str = "mlp"
    in_size: int = 28


def _grey_benchmarks(suffix: str, dataset: str, norm: Tuple[float, float]) -> Dict[str, BenchmarkSpec]:
    """Split / Permuted / Rotated on one 28x28 grey data set (the paper's iterations and eta)."""
    def spec(builder, kind, iterations, eta):
        name = f"{kind}-{suffix}"
        return name, BenchmarkSpec(partial(builder, name=name, dataset=dataset, norm=norm),
                                   iterations_per_task=iterations, eta=eta, dataset=dataset)

    return dict([spec(_split_stream, "split", 200, 0.4), spec(_permuted_stream, "permuted", 200, 0.3),
                 spec(_rotated_stream, "rotated", 400, 0.5)])


BENCHMARKS: Dict[str, BenchmarkSpec] = {
    **_grey_benchmarks("mnist", "mnist", MNIST_NORM),
    **_grey_benchmarks("fashion-mnist", "fashion-mnist", FASHION_MNIST_NORM),
}


def _register_image_benchmarks():
    from lcne.experiments.datasets.cifar_tasks import IMAGE_BENCHMARKS

    for name, ib in IMAGE_BENCHMARKS.items():
        BENCHMARKS[name] = BenchmarkSpec(
            None, ib.iterations_per_task, ib.eta, batch_size=ib.batch_size, lr=ib.lr,
            dataset="image", model="resnet", in_size=ib.in_size,
        )


_register_image_benchmarks()


def _image_stream(name: str, data_dir, eval_split: str) -> JointTrainingStream:
    """Stream of a CIFAR / mini-ImageNet benchmark: uint8 images + torch augmentation."""
    from lcne.experiments.augment import EvalTransform, TrainAugmentation
    from lcne.experiments.datasets import IMAGE_BENCHMARKS, load_benchmark

    ib = IMAGE_BENCHMARKS[name]
    dataset, tasks = load_benchmark(name, data_dir)
    train_task = tasks.train_task()
    tr_idx = np.flatnonzero(train_task > 0)
    tr_images, tr_labels, tr_task = dataset.train_images[tr_idx], dataset.train_labels[tr_idx], train_task[tr_idx]
    if eval_split == "validation":
        rng = np.random.default_rng(VALIDATION_SEED)
        held = np.zeros(len(tr_idx), dtype=bool)
        for c in np.unique(tr_labels):
            members = rng.permutation(np.flatnonzero(tr_labels == c))
            held[members[: max(1, len(members) // 6)]] = True
        order = np.argsort(tr_task[held], kind="stable")
        te_images, te_labels, te_task = tr_images[held][order], tr_labels[held][order], tr_task[held][order]
        tr_images, tr_labels, tr_task = tr_images[~held], tr_labels[~held], tr_task[~held]
    else:
        te_order = tasks.test_order()
        te_images, te_labels = dataset.test_images[te_order], dataset.test_labels[te_order]
        te_task = tasks.test_task()[te_order]
    return JointTrainingStream(
        name=name,
        train_x=torch.from_numpy(np.ascontiguousarray(tr_images)),
        train_y=torch.from_numpy(tasks.head_labels(tr_labels)),
        train_task=torch.from_numpy(tr_task),
        test_x=torch.from_numpy(np.ascontiguousarray(te_images)),
        test_y=torch.from_numpy(tasks.head_labels(te_labels)),
        test_task=torch.from_numpy(np.asarray(te_task, dtype=np.int64)),
        n_tasks=tasks.n_tasks,
        n_classes=tasks.n_classes,
        source=f"{dataset.name} files in {data_dir}",
        dataset=dataset.name,
        train_transform=TrainAugmentation.named(ib.normalization, padding=ib.crop_padding),
        eval_transform=EvalTransform.named(ib.normalization),
    )


#: seed of the fixed, stratified validation hold-out (see :func:`holdout_validation`)
VALIDATION_SEED = 2508


def holdout_validation(train: ImageSet, fraction: float = 1 / 6) -> Tuple[ImageSet, ImageSet]:
    """Split a training set into (train, validation), stratified by label, fixed seed.

    Used for hyperparameter selection so that the test curves are never looked at:
    with ``eval_split="validation"`` the runs train on the remaining training images and
    are evaluated on the held-out ones. A class with a single training image cannot give
    both a training and a validation image; such data are refused in one line.
    """
    counts = {int(c): int((train.labels == c).sum()) for c in np.unique(train.labels)}
    small = sorted(c for c, n in counts.items() if n < 2)
    if not counts or small:
        what = "no training images" if not counts else f"fewer than 2 training images in class(es) {small}"
        raise DataError(f"{train.source}: {what}, so no validation hold-out can be drawn "
                        f"(--eval-split validation); use --eval-split test or more data")
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
        ImageSet(train.images[keep], train.labels[keep], src, dict(train.files)),
        ImageSet(train.images[held], train.labels[held], src, dict(train.files)),
    )


def check_stream(stream: JointTrainingStream) -> JointTrainingStream:
    """Refuse a stream with a task that has no training or no test samples (one line,
    :class:`~lcne.experiments.errors.DataError`): training on task k draws from tasks
    1..k, and a task without test samples would give a silently NaN accuracy curve."""
    where = f"{stream.name} ({stream.source})" if stream.source else stream.name
    if len(stream.train_y) == 0 or len(stream.test_y) == 0:
        raise DataError(f"{where}: {len(stream.train_y)} training and {len(stream.test_y)} test samples; "
                        f"both must be non-empty")
    n_train = torch.bincount(stream.train_task - 1, minlength=stream.n_tasks)
    n_test = stream.test_counts()
    for k in range(stream.n_tasks):
        for split, counts in (("training", n_train), ("test", n_test)):
            if int(counts[k]) == 0:
                raise DataError(f"{where}: task {k + 1} has no {split} samples; every task needs both "
                                f"(check the data files for missing classes)")
    return stream


def build_stream(benchmark: str, data_dir: Optional[str] = None, eval_split: str = "test",
                 rotation: str = "nearest") -> JointTrainingStream:
    """Load the data and build the stream of a registered benchmark.

    ``data_dir``: the data files (``None``: the embedded MNIST subset for the MNIST
    benchmarks, ``/usr/share/datasets/fashion-mnist`` for the Fashion-MNIST ones; required
    for the image benchmarks). ``eval_split="validation"`` evaluates on a stratified
    hold-out of the training set instead of the test set (for hyperparameter selection).
    ``rotation``: interpolation of the rotated benchmarks, ``"nearest"`` (the authors') or
    ``"bilinear"``; the other benchmarks ignore it.
    """
    spec = BENCHMARKS[benchmark]
    if rotation not in ROTATION_MODES:
        raise ConfigError(f"rotation: unknown value {rotation!r}; allowed: {', '.join(ROTATION_MODES)}")
    if spec.dataset == "image":
        if data_dir is None:
            raise ConfigError(f"data_dir: {benchmark} needs --data-dir pointing at the dataset files (see docs/cifar.md)")
        if eval_split not in ("test", "validation"):
            raise ValueError(f"eval_split must be 'test' or 'validation', got {eval_split!r}")
        return check_stream(_image_stream(benchmark, data_dir, eval_split))
    train, test = load_fashion_mnist(data_dir) if spec.dataset == "fashion-mnist" else load_mnist(data_dir)
    if eval_split == "validation":
        train, test = holdout_validation(train)
    elif eval_split != "test":
        raise ValueError(f"eval_split must be 'test' or 'validation', got {eval_split!r}")
    if len(train) == 0 or len(test) == 0:
        raise DataError(f"{benchmark} ({train.source}): {len(train)} training and {len(test)} test samples; "
                        f"both must be non-empty")
    return check_stream(spec.build(train, test, rotation=rotation))
