"""Fashion-MNIST: Zalando's 28x28 grey images of clothing, 10 classes, 60,000 training and
10,000 test images (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747; MIT licence), in the four
IDX files of MNIST's format.

Nothing is downloaded. The files come from the Debian/Ubuntu package
``dataset-fashion-mnist`` (``apt-get install dataset-fashion-mnist``, installed in
:data:`FASHION_MNIST_DIR`) or from github.com/zalandoresearch/fashion-mnist (the four
``*-ubyte.gz`` files of its ``data/fashion`` folder), passed with ``--data-dir``.
The IDX headers of MNIST and Fashion-MNIST are alike, so the loader also checks the
counts and labels and records the sha256 of every file (:attr:`ImageSet.files`); the
digests of the Debian package's files are in :data:`DEBIAN_SHA256`.

Classes: 0 T-shirt/top, 1 trouser, 2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt,
7 sneaker, 8 bag, 9 ankle boot (:data:`FASHION_MNIST_CLASSES`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np

from lcne.experiments.datasets.mnist import ImageSet, find_idx_files, load_idx_files
from lcne.experiments.errors import DataError

__all__ = ["FASHION_MNIST_DIR", "FASHION_MNIST_CLASSES", "FASHION_MNIST_COUNTS", "DEBIAN_SHA256",
           "FASHION_MNIST_HINT", "fashion_mnist_files", "load_fashion_mnist"]

#: where the Debian/Ubuntu package ``dataset-fashion-mnist`` installs the four files
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")
#: images per split: 6,000 training and 1,000 test images per class
FASHION_MNIST_COUNTS = {"train": 60000, "test": 10000}
#: sha256 of the gzipped files of ``dataset-fashion-mnist`` 0.0~git20200523.55506a9-1 (the
#: upstream ``.gz`` files hold the same images but are compressed differently)
DEBIAN_SHA256 = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
#: how to get the files (ends every "not found" message)
FASHION_MNIST_HINT = ("; get Fashion-MNIST with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu) or the four "
                      "files from github.com/zalandoresearch/fashion-mnist, then pass --data-dir")


def fashion_mnist_files(data_dir: Optional[str] = None) -> Dict[str, str]:
    """Paths of the four Fashion-MNIST IDX files (keys ``train_images``, ``train_labels``,
    ``test_images``, ``test_labels``) in ``data_dir`` (default :data:`FASHION_MNIST_DIR`).
    A missing folder or file: one-line :class:`DataError` saying how to get them."""
    if data_dir is None and not Path(FASHION_MNIST_DIR).is_dir():
        raise DataError(f"Fashion-MNIST not found: {FASHION_MNIST_DIR} does not exist{FASHION_MNIST_HINT}")
    root = FASHION_MNIST_DIR if data_dir is None else data_dir
    return {k: str(p) for k, p in find_idx_files(root, FASHION_MNIST_HINT).items()}


def load_fashion_mnist(data_dir: Optional[str] = None) -> Tuple[ImageSet, ImageSet]:
    """Fashion-MNIST (train, test) as uint8 images (N, 28, 28) and int64 labels 0-9.

    ``data_dir``: folder with the four IDX files, optionally gzipped (default
    :data:`FASHION_MNIST_DIR`). Besides the IDX checks of
    :func:`~lcne.experiments.datasets.mnist.load_idx_files`, the splits must hold exactly
    60,000 and 10,000 images with every label 0-9 present; otherwise a one-line
    :class:`DataError` names the file. The headers cannot tell MNIST from Fashion-MNIST:
    the sha256 of each file is recorded in ``ImageSet.files`` (compare with
    :data:`DEBIAN_SHA256`). Loading takes about 1 s.
    """
    paths = fashion_mnist_files(data_dir)
    root = FASHION_MNIST_DIR if data_dir is None else data_dir
    train, test = load_idx_files(root, what="Fashion-MNIST IDX files", hint=FASHION_MNIST_HINT)
    for split, ds in (("train", train), ("test", test)):
        missing = sorted(set(range(10)) - set(np.unique(ds.labels).tolist()))
        if missing:
            raise DataError(f"{paths[f'{split}_labels']}: no image of class(es) {missing}, but Fashion-MNIST has "
                            f"every label 0-9 in both splits{FASHION_MNIST_HINT}")
        expected = FASHION_MNIST_COUNTS[split]
        if len(ds) != expected:
            raise DataError(f"{paths[f'{split}_images']}: {len(ds)} images, but Fashion-MNIST's {split} split has "
                            f"{expected}{FASHION_MNIST_HINT}")
    return train, test
