"""mini-ImageNet (Vinyals et al. 2016; Ravi & Larochelle 2017 class splits) from local files.

Nothing is downloaded.  The loader reads the widely distributed "cache" files,
one per meta-learning class split, from the folder the user gives:

========================================  =========  =======  ==========
file (any one spelling per split)          classes    images   image size
========================================  =========  =======  ==========
``mini-imagenet-cache-train.pkl``          64         38 400   84x84x3
``mini-imagenet-cache-val.pkl`` or
``mini-imagenet-cache-validation.pkl``     16          9 600   84x84x3
``mini-imagenet-cache-test.pkl``           20         12 000   84x84x3
========================================  =========  =======  ==========

Pickle format (``.pkl`` / ``.pickle``)
    A dict with ``image_data``: uint8 array (N, 84, 84, 3), height-width-channel,
    and ``class_dict``: ``{synset id (str): list of indices into image_data}``.
    Read with restricted unpickling (:mod:`lcne.experiments.datasets.safe_pickle`); no
    code in the file is ever run.

npz format (``.npz``, same stem)
    ``images`` (or ``image_data``): uint8 (N, 84, 84, 3); ``labels``: integer
    (N,), 0-based class index within the file; optional ``class_names``: string
    array, one name per class index (defaults to ``"<file stem>/<index>"``).
    Read with ``numpy.load(allow_pickle=False)``, so object arrays are refused.

Continual-learning use
    The meta-learning splits are *class* splits, not train/test splits.  For
    Split mini-ImageNet the classes of the requested split files are pooled
    (train classes first, then validation, then test; sorted by name within a
    file) and every class's images are divided into a training part and a test
    part: the last ``test_per_class`` images of each class (in file order) are
    test images, the rest training images (600 images -> 500 train / 100 test
    by default).  This is our convention; the paper does not state its own.
"""
from __future__ import annotations

import logging
import os
import zipfile
import zlib
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np

from .errors import DataFileNotFoundError, DataFormatError, data_error
from .image_dataset import ImageDataset
from .safe_pickle import safe_load_pickle

__all__ = ["MINIIMAGENET_SPLIT_STEMS", "MINIIMAGENET_SIZE", "find_split_file", "load_miniimagenet", "read_split"]

logger = logging.getLogger(__name__)

MINIIMAGENET_SIZE = 84
#: accepted file stems per split, in order of preference
MINIIMAGENET_SPLIT_STEMS: dict[str, tuple[str, ...]] = {
    "train": ("mini-imagenet-cache-train",),
    "val": ("mini-imagenet-cache-val", "mini-imagenet-cache-validation"),
    "test": ("mini-imagenet-cache-test",),
}
_EXTENSIONS = (".pkl", ".pickle", ".npz")
_SPLIT_ALIASES = {"train": "train", "val": "val", "validation": "val", "test": "test"}


def find_split_file(root: str | PathLike, split: str) -> Path:
    """Path of the file holding ``split`` (``"train"``, ``"val"``/``"validation"``, ``"test"``).

    Raises
    ------
    DataFileNotFoundError
        No accepted spelling exists; the message names the expected file.
    ValueError
        Unknown split name.
    """
    try:
        key = _SPLIT_ALIASES[split]
    except KeyError:
        raise ValueError(f"unknown mini-ImageNet split {split!r}; use 'train', 'val' or 'test'") from None
    folder = Path(root).expanduser()
    # the files themselves, or a ``mini-imagenet/`` folder beside the CIFAR folders (one
    # data_dir for every image benchmark)
    candidates = [f / (stem + ext) for f in (folder, folder / "mini-imagenet")
                  for stem in MINIIMAGENET_SPLIT_STEMS[key] for ext in _EXTENSIONS]
    for path in candidates:
        if path.is_file():
            return path
    others = ", ".join(str(p.relative_to(folder)) for p in candidates[1:])
    raise data_error(candidates[0], f"file not found (also looked for {others})", DataFileNotFoundError)


def _check_images(images: object, key: str, path: Path) -> np.ndarray:
    side = MINIIMAGENET_SIZE
    if not isinstance(images, np.ndarray):
        raise data_error(path, f"{key!r} must be a numpy array, found {type(images).__name__}")
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (side, side, 3):
        raise data_error(path, f"{key!r} must be uint8 of shape (N, {side}, {side}, 3), "
                               f"found {images.dtype} {images.shape}")
    return images


def _read_pickle_split(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    obj = safe_load_pickle(path)
    if not isinstance(obj, dict):
        raise data_error(path, f"expected a pickled dict, found {type(obj).__name__}")
    obj = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}
    for key in ("image_data", "class_dict"):
        if key not in obj:
            raise data_error(path, f"missing key {key!r} (found {sorted(map(str, obj))})")
    images = _check_images(obj["image_data"], "image_data", path)
    class_dict = obj["class_dict"]
    if not isinstance(class_dict, dict) or not class_dict:
        raise data_error(path, "'class_dict' must be a non-empty dict {class name: image indices}")
    named = {}
    for name, idx in class_dict.items():
        name = name.decode("latin1") if isinstance(name, bytes) else name
        if not isinstance(name, str):
            raise data_error(path, f"'class_dict' keys must be strings, found {type(name).__name__}")
        named[name] = idx
    names = tuple(sorted(named))
    n = images.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    for k, name in enumerate(names):
        try:
            idx = np.asarray(named[name])
        except (TypeError, ValueError):
            idx = np.asarray([None])
        if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
            raise data_error(path, f"'class_dict'[{name!r}] must be a non-empty list of image indices")
        if idx.min() < 0 or idx.max() >= n:
            raise data_error(path, f"'class_dict'[{name!r}] has indices outside 0..{n - 1}")
        if np.any(labels[idx] != -1) or np.unique(idx).size != idx.size:
            raise data_error(path, f"'class_dict'[{name!r}] repeats an image index used elsewhere")
        labels[idx] = k
    if np.any(labels < 0):
        raise data_error(path, f"{int(np.sum(labels < 0))} images belong to no class in 'class_dict'")
    return images, labels, names


def _read_npz_split(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = set(npz.files)
            image_key = "images" if "images" in keys else "image_data"
            if image_key not in keys or "labels" not in keys:
                raise data_error(path, f"npz must hold 'images' (or 'image_data') and 'labels', found {sorted(keys)}")
            images = _check_images(npz[image_key], image_key, path)
            labels = npz["labels"]
            names = npz["class_names"] if "class_names" in keys else None
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise data_error(path, f"truncated or corrupt npz ({exc})") from None
    except ValueError as exc:  # includes refused object arrays and our own DataFormatError
        if isinstance(exc, DataFormatError):
            raise
        raise data_error(path, f"corrupt npz ({exc})") from None
    if labels.shape != (images.shape[0],) or labels.dtype.kind not in "iu":
        raise data_error(path, f"'labels' must be {images.shape[0]} integers, found {labels.dtype} {labels.shape}")
    labels = labels.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise data_error(path, "'labels' must be non-negative")
    n_classes = int(labels.max()) + 1 if labels.size else 0
    if names is None:
        class_names = tuple(f"{path.stem}/{k}" for k in range(n_classes))
    else:
        if names.ndim != 1 or names.dtype.kind not in "US" or names.shape[0] < n_classes:
            raise data_error(path, f"'class_names' must be a string array with at least {n_classes} entries")
        class_names = tuple(n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names.tolist())
    return images, labels, class_names


def read_split(path: str | PathLike) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read one mini-ImageNet split file (pickle or npz).

    Returns
    -------
    images : ndarray of uint8, shape (N, 84, 84, 3)
        As stored (height, width, channel).
    labels : ndarray of int64, shape (N,)
        Class index within this file.
    class_names : tuple of str
        Name of each class index (pickle files: synset ids sorted).
    """
    path = Path(path)
    if not path.is_file():
        raise data_error(path, "file not found", DataFileNotFoundError)
    if path.suffix == ".npz":
        return _read_npz_split(path)
    return _read_pickle_split(path)


def load_miniimagenet(
    root: str | PathLike,
    splits: Sequence[str] = ("train", "val", "test"),
    test_per_class: int = 100,
) -> ImageDataset:
    """Load mini-ImageNet split files and divide every class into train and test images.

    Parameters
    ----------
    root : path-like
        Folder holding the cache files (see the module docstring for names).
    splits : sequence of str
        Which class splits to pool, in this order.  The default pools all 100
        classes; ``("train",)`` gives the 64 training classes only, with the
        same class indices they have in the full pool.
    test_per_class : int
        Images per class kept for testing (the last ones of each class in file
        order); the remaining images are training images.

    Returns
    -------
    ImageDataset
        Images as uint8 (N, 3, 84, 84); labels index the pooled class list.

    Raises
    ------
    DataFormatError
        A file is missing (``DataFileNotFoundError``), truncated, corrupt or
        malformed, a class name occurs in two files, or a class has no more
        than ``test_per_class`` images.
    """
    if test_per_class < 1:
        raise ValueError("test_per_class must be >= 1")
    folder = Path(root).expanduser()
    pieces = []
    class_names: list[str] = []
    seen: dict[str, Path] = {}
    paths = [find_split_file(folder, split) for split in splits]  # fail fast on a missing file
    for split, path in zip(splits, paths):
        images, labels, names = read_split(path)
        for name in names:
            if name in seen:
                raise data_error(path, f"class {name!r} also occurs in {seen[name].name}")
            seen[name] = path
        counts = np.bincount(labels, minlength=len(names))
        short = [names[k] for k in range(len(names)) if counts[k] <= test_per_class]
        if short:
            raise data_error(path, f"classes {short[:3]} have <= test_per_class={test_per_class} images")
        pieces.append((images, labels, len(class_names), len(names)))
        class_names.extend(names)
        logger.info("read mini-ImageNet %s split from %s: %d images, %d classes", split, path, len(labels), len(names))

    n_test = test_per_class * len(class_names)
    n_train = sum(p[0].shape[0] for p in pieces) - n_test
    side = MINIIMAGENET_SIZE
    train_images = np.empty((n_train, 3, side, side), dtype=np.uint8)
    test_images = np.empty((n_test, 3, side, side), dtype=np.uint8)
    train_labels = np.empty(n_train, dtype=np.int64)
    test_labels = np.empty(n_test, dtype=np.int64)
    i_train = i_test = 0
    for images, labels, offset, n_names in pieces:
        for k in range(n_names):
            idx = np.flatnonzero(labels == k)
            tr, te = idx[:-test_per_class], idx[-test_per_class:]
            train_images[i_train:i_train + tr.size] = images[tr].transpose(0, 3, 1, 2)
            test_images[i_test:i_test + te.size] = images[te].transpose(0, 3, 1, 2)
            train_labels[i_train:i_train + tr.size] = offset + k
            test_labels[i_test:i_test + te.size] = offset + k
            i_train += tr.size
            i_test += te.size
    return ImageDataset(
        name="miniimagenet",
        train_images=train_images,
        train_labels=train_labels,
        test_images=test_images,
        test_labels=test_labels,
        class_names=tuple(class_names),
        source=os.fspath(folder),
    )
