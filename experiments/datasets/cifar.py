"""CIFAR-10 and CIFAR-100 from the "python version" archives the user downloads.

Nothing is downloaded.  Point the loaders at the folder extracted from
``cifar-10-python.tar.gz`` / ``cifar-100-python.tar.gz`` (or at its parent):

CIFAR-10 (``cifar-10-batches-py/``)
    ``data_batch_1`` ... ``data_batch_5`` (10 000 training images each),
    ``test_batch`` (10 000), ``batches.meta``.  Each batch is a pickled dict
    with ``data`` (uint8 array, shape (N, 3072): 1024 red, then 1024 green,
    then 1024 blue values of a 32x32 image in row-major order) and ``labels``
    (N ints in 0-9).  ``batches.meta`` holds ``label_names`` (10 strings).

CIFAR-100 (``cifar-100-python/``)
    ``train`` (50 000 images), ``test`` (10 000), ``meta``.  The data dicts
    hold ``data`` as above, ``fine_labels`` (0-99) and ``coarse_labels``
    (0-19); ``meta`` holds ``fine_label_names`` and ``coarse_label_names``.

The files were written by Python 2, so their dictionary keys and names are
Python-2 strings; they are read with :func:`safe_load_pickle` (restricted
unpickling, never runs code from the file) and keys given as ``bytes`` or
``str`` are both accepted.  Any missing, empty, truncated or malformed file
raises :class:`DataFormatError` with one line naming it.
"""
from __future__ import annotations

import logging
import os
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from .errors import data_error
from .image_dataset import ImageDataset
from .safe_pickle import safe_load_pickle

__all__ = [
    "CIFAR100_DIRNAME",
    "CIFAR10_DIRNAME",
    "CIFAR10_TEST_FILE",
    "CIFAR10_TRAIN_FILES",
    "load_cifar10",
    "load_cifar100",
]

logger = logging.getLogger(__name__)

CIFAR10_DIRNAME = "cifar-10-batches-py"
CIFAR100_DIRNAME = "cifar-100-python"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
CIFAR10_META_FILE = "batches.meta"
CIFAR100_FILES = {"train": "train", "test": "test", "meta": "meta"}

_SIDE = 32
_CHANNELS = 3


def _resolve_dir(root: str | PathLike, dirname: str) -> Path:
    """Accept either the extracted folder itself or its parent."""
    root = Path(root).expanduser()
    nested = root / dirname
    return nested if nested.is_dir() else root


def _as_str_dict(obj: Any, path: Path) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise data_error(path, f"expected a pickled dict, found {type(obj).__name__}")
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(key, bytes):
            key = key.decode("latin1")
        out[str(key)] = value
    return out


def _field(d: dict[str, Any], key: str, path: Path) -> Any:
    if key not in d:
        raise data_error(path, f"missing key {key!r} (found {sorted(d)})")
    return d[key]


def _names(value: Any, key: str, path: Path) -> tuple[str, ...]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not value:
        raise data_error(path, f"{key!r} must be a non-empty list of strings")
    names = []
    for item in value:
        if isinstance(item, bytes):
            item = item.decode("latin1")
        if not isinstance(item, str):
            raise data_error(path, f"{key!r} must hold strings, found {type(item).__name__}")
        names.append(item)
    return tuple(names)


def _labels(value: Any, key: str, n: int, n_classes: int, path: Path) -> np.ndarray:
    try:
        labels = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise data_error(path, f"{key!r} is not an integer sequence ({exc})") from None
    if labels.ndim != 1 or labels.shape[0] != n or (n and labels.dtype.kind not in "iu"):
        raise data_error(path, f"{key!r} must be {n} integers, found shape {labels.shape} dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    if n and (labels.min() < 0 or labels.max() >= n_classes):
        raise data_error(path, f"{key!r} values must lie in 0..{n_classes - 1}, found {labels.min()}..{labels.max()}")
    return labels


def _images(value: Any, path: Path) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise data_error(path, f"'data' must be a numpy array, found {type(value).__name__}")
    if value.dtype != np.uint8 or value.ndim != 2 or value.shape[1] != _CHANNELS * _SIDE * _SIDE:
        raise data_error(
            path, f"'data' must be uint8 of shape (N, {_CHANNELS * _SIDE * _SIDE}), found {value.dtype} {value.shape}"
        )
    # Row layout is R plane, G plane, B plane, each 32x32 row-major -> (N, 3, 32, 32).
    return np.ascontiguousarray(value.reshape(-1, _CHANNELS, _SIDE, _SIDE))


def _read_batch(path: Path, label_keys: tuple[str, ...],
                n_classes: tuple[int, ...]) -> tuple[np.ndarray, list[np.ndarray]]:
    d = _as_str_dict(safe_load_pickle(path), path)
    images = _images(_field(d, "data", path), path)
    labels = [_labels(_field(d, key, path), key, images.shape[0], k, path) for key, k in zip(label_keys, n_classes)]
    return images, labels


def load_cifar10(root: str | PathLike) -> ImageDataset:
    """Load CIFAR-10 from the python-pickle batches.

    Parameters
    ----------
    root : path-like
        The extracted ``cifar-10-batches-py`` folder, or the folder containing it.

    Returns
    -------
    ImageDataset
        50 000 training and 10 000 test images (uint8, (N, 3, 32, 32)), labels
        0-9 in the order of ``batches.meta`` (airplane, automobile, bird, cat,
        deer, dog, frog, horse, ship, truck).

    Raises
    ------
    DataFormatError
        A file is missing, empty, truncated, corrupt or malformed; the message
        names it.  Missing files raise the subclass ``DataFileNotFoundError``.

    Examples
    --------
    >>> ds = load_cifar10("~/data")  # doctest: +SKIP
    >>> ds.train_images.shape, ds.class_names[:2]  # doctest: +SKIP
    ((50000, 3, 32, 32), ('airplane', 'automobile'))
    """
    folder = _resolve_dir(root, CIFAR10_DIRNAME)
    meta_path = folder / CIFAR10_META_FILE
    meta = _as_str_dict(safe_load_pickle(meta_path), meta_path)
    class_names = _names(_field(meta, "label_names", meta_path), "label_names", meta_path)
    k = len(class_names)

    parts = [_read_batch(folder / name, ("labels",), (k,)) for name in CIFAR10_TRAIN_FILES]
    train_images = np.concatenate([p[0] for p in parts])
    train_labels = np.concatenate([p[1][0] for p in parts])
    test_images, (test_labels,) = _read_batch(folder / CIFAR10_TEST_FILE, ("labels",), (k,))
    logger.info("loaded CIFAR-10 from %s: %d train, %d test", folder, len(train_labels), len(test_labels))
    return ImageDataset(
        name="cifar10",
        train_images=train_images,
        train_labels=train_labels,
        test_images=test_images,
        test_labels=test_labels,
        class_names=class_names,
        source=os.fspath(folder),
    )


def load_cifar100(root: str | PathLike) -> ImageDataset:
    """Load CIFAR-100 (fine and coarse labels) from the python-pickle files.

    Parameters
    ----------
    root : path-like
        The extracted ``cifar-100-python`` folder, or the folder containing it.

    Returns
    -------
    ImageDataset
        ``train_labels``/``test_labels`` are the 100 fine labels (alphabetical
        names from ``meta``); ``train_coarse_labels``/``test_coarse_labels`` and
        ``coarse_names`` give the 20 superclasses.

    Raises
    ------
    DataFormatError
        As for :func:`load_cifar10`.
    """
    folder = _resolve_dir(root, CIFAR100_DIRNAME)
    meta_path = folder / CIFAR100_FILES["meta"]
    meta = _as_str_dict(safe_load_pickle(meta_path), meta_path)
    fine_names = _names(_field(meta, "fine_label_names", meta_path), "fine_label_names", meta_path)
    coarse_names = _names(_field(meta, "coarse_label_names", meta_path), "coarse_label_names", meta_path)
    keys = ("fine_labels", "coarse_labels")
    sizes = (len(fine_names), len(coarse_names))
    train_images, (train_fine, train_coarse) = _read_batch(folder / CIFAR100_FILES["train"], keys, sizes)
    test_images, (test_fine, test_coarse) = _read_batch(folder / CIFAR100_FILES["test"], keys, sizes)
    logger.info("loaded CIFAR-100 from %s: %d train, %d test", folder, len(train_fine), len(test_fine))
    return ImageDataset(
        name="cifar100",
        train_images=train_images,
        train_labels=train_fine,
        test_images=test_images,
        test_labels=test_fine,
        class_names=fine_names,
        coarse_names=coarse_names,
        train_coarse_labels=train_coarse,
        test_coarse_labels=test_coarse,
        source=os.fspath(folder),
    )
