import gzip

import numpy as np
import pytest

from experiments.data.mnist import load_embedded_mnist, load_mnist_idx
from experiments.errors import DataError


def test_embedded_split_is_stratified_and_fixed():
    tr, te = load_embedded_mnist()
    assert tr.images.shape == (4000, 28, 28) and te.images.shape == (1000, 28, 28)
    assert tr.images.dtype == np.uint8
    assert np.bincount(tr.labels).tolist() == [400] * 10
    assert np.bincount(te.labels).tolist() == [100] * 10
    tr2, te2 = load_embedded_mnist()
    assert np.array_equal(te.images, te2.images)
    # no image is in both sets
    a = {x.tobytes() for x in tr.images}
    assert not any(x.tobytes() in a for x in te.images)
    # real MNIST statistics: mean pixel/255 near the usual 0.1307
    assert 0.11 < tr.images.mean() / 255 < 0.15


def _write_idx(path, arr, magic, compress=False):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    raw = header + arr.astype(np.uint8).tobytes()
    opener = gzip.open if compress else open
    with opener(path, "wb") as fh:
        fh.write(raw)


def _write_mnist(d, n_train=12, n_test=5, compress=False):
    rng = np.random.default_rng(0)
    sfx = ".gz" if compress else ""
    for stem, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(d / f"{stem}-images-idx3-ubyte{sfx}", rng.integers(0, 256, (n, 28, 28)), 2051, compress)
        _write_idx(d / f"{stem}-labels-idx1-ubyte{sfx}", np.arange(n) % 10, 2049, compress)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_loader_reads_standard_files(tmp_path, compress):
    _write_mnist(tmp_path, compress=compress)
    tr, te = load_mnist_idx(tmp_path)
    assert tr.images.shape == (12, 28, 28) and te.images.shape == (5, 28, 28)
    assert tr.labels.tolist() == [i % 10 for i in range(12)]


def test_idx_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="not a directory"):
        load_mnist_idx(tmp_path / "missing")
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*not found"):
        load_mnist_idx(tmp_path)
    _write_mnist(tmp_path)
    bad = tmp_path / "train-labels-idx1-ubyte"
    bad.write_bytes((2051).to_bytes(4, "big") + bytes(20))
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.*magic number 2051, expected 2049"):
        load_mnist_idx(tmp_path)
    _write_mnist(tmp_path)
    img = tmp_path / "t10k-images-idx3-ubyte"
    img.write_bytes(img.read_bytes()[:-10])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.*truncated"):
        load_mnist_idx(tmp_path)
