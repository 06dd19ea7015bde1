"""Dataset loaders: the embedded MNIST subset, MNIST-format IDX files, and the image
benchmarks the user downloads themselves.

* :func:`load_mnist`, :func:`load_embedded_mnist`, :func:`load_mnist_idx`,
  :func:`load_idx_files`, :func:`save_mnist_idx` - MNIST (or any data set in its IDX format)
  images as :class:`ImageSet` pairs (:mod:`lcne.experiments.datasets.mnist`).
* :func:`load_fashion_mnist` - Fashion-MNIST from the Debian package's folder
  (:data:`FASHION_MNIST_DIR`) or ``--data-dir``, counts and labels checked
  (:mod:`lcne.experiments.datasets.fashion`).
* :func:`file_sha256` - the digests every loader records in ``ImageSet.files``.
* :func:`load_cifar10`, :func:`load_cifar100` - CIFAR python-pickle batches.
* :func:`load_miniimagenet` - mini-ImageNet cache files (pickle or npz).
* :func:`split_cifar10`, :func:`domain_cifar100`, :func:`split_miniimagenet` -
  per-task index arrays (:class:`TaskSplit`); :data:`IMAGE_BENCHMARKS` ties them together.

Nothing here downloads anything.  Pickles are read with restricted unpickling
(:mod:`lcne.experiments.datasets.safe_pickle`), so a dataset file cannot run code.
Any missing or malformed file raises :class:`DataFormatError` with one line naming it.
"""
from .cifar import load_cifar10, load_cifar100
from .cifar_tasks import (
    DOMAIN_CIFAR100_GROUPS,
    IMAGE_BENCHMARKS,
    ImageBenchmark,
    TaskSplit,
    domain_cifar100,
    split_cifar10,
    split_miniimagenet,
)
from .checksums import file_sha256
from .errors import DataFileNotFoundError, DataFormatError
from .fashion import FASHION_MNIST_DIR, load_fashion_mnist
from .image_dataset import ImageDataset
from .miniimagenet import load_miniimagenet
from .mnist import ImageSet, find_idx_files, load_embedded_mnist, load_idx_files, load_mnist, load_mnist_idx, save_mnist_idx
from .safe_pickle import RestrictedUnpickler, safe_load_pickle

__all__ = [
    "DOMAIN_CIFAR100_GROUPS",
    "IMAGE_BENCHMARKS",
    "ImageBenchmark",
    "DataFileNotFoundError",
    "DataFormatError",
    "FASHION_MNIST_DIR",
    "ImageDataset",
    "ImageSet",
    "RestrictedUnpickler",
    "TaskSplit",
    "domain_cifar100",
    "file_sha256",
    "find_idx_files",
    "load_benchmark",
    "load_cifar10",
    "load_cifar100",
    "load_embedded_mnist",
    "load_fashion_mnist",
    "load_idx_files",
    "load_miniimagenet",
    "load_mnist",
    "load_mnist_idx",
    "save_mnist_idx",
    "safe_load_pickle",
    "split_cifar10",
    "split_miniimagenet",
]

_LOADERS = {"load_cifar10": load_cifar10, "load_cifar100": load_cifar100, "load_miniimagenet": load_miniimagenet}


def load_benchmark(name: str, root) -> tuple[ImageDataset, TaskSplit]:
    """Load the dataset of benchmark ``name`` from ``root`` and build its tasks.

    >>> ds, tasks = load_benchmark("split-cifar10", "~/data")  # doctest: +SKIP
    >>> tasks.n_tasks, tasks.n_classes  # doctest: +SKIP
    (5, 10)
    """
    try:
        spec = IMAGE_BENCHMARKS[name]
    except KeyError:
        raise ValueError(f"unknown benchmark {name!r}; choose from {sorted(IMAGE_BENCHMARKS)}") from None
    dataset = _LOADERS[spec.loader](root)
    return dataset, spec.make_tasks(dataset)
