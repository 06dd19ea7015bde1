import gzip

import numpy as np
import pytest

from lcne.experiments.datasets.mnist import IDX_FILES, ImageSet, load_embedded_mnist, load_mnist_idx, save_mnist_idx
from lcne.experiments.errors import DataError


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


@pytest.mark.parametrize("compress", [False, True])
def test_save_mnist_idx_writes_the_standard_bytes_and_round_trips(tmp_path, compress):
    # the writer's bytes equal the hand-built files above, byte for byte
    (tmp_path / "hand").mkdir()
    _write_mnist(tmp_path / "hand")
    hand_tr, hand_te = load_mnist_idx(tmp_path / "hand")
    save_mnist_idx(hand_tr, hand_te, tmp_path / "ours", compress=compress)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        ours = tmp_path / "ours" / (name + (".gz" if compress else ""))
        raw = gzip.decompress(ours.read_bytes()) if compress else ours.read_bytes()
        assert raw == (tmp_path / "hand" / name).read_bytes()
    # the embedded subset survives a round trip exactly
    tr, te = load_embedded_mnist()
    save_mnist_idx(tr, te, tmp_path / "embedded", compress=compress)
    tr2, te2 = load_mnist_idx(tmp_path / "embedded")
    assert np.array_equal(tr.images, tr2.images) and np.array_equal(te.labels, te2.labels)
    assert sorted(p.name for p in (tmp_path / "embedded").iterdir()) == sorted(
        n + (".gz" if compress else "") for n in IDX_FILES.values()
    )  # no temporary file left behind


def test_save_mnist_idx_rejects_wrong_shapes_and_dtypes(tmp_path):
    good = ImageSet(np.zeros((3, 28, 28), np.uint8), np.arange(3), "t")
    with pytest.raises(DataError, match="train images have shape"):
        save_mnist_idx(ImageSet(np.zeros((3, 32, 32), np.uint8), np.arange(3), "t"), good, tmp_path)
    with pytest.raises(DataError, match="test images are float32"):
        save_mnist_idx(good, ImageSet(np.zeros((3, 28, 28), np.float32), np.arange(3), "t"), tmp_path)
    with pytest.raises(DataError, match="train: 3 images but 2 labels"):
        save_mnist_idx(ImageSet(good.images, np.arange(2), "t"), good, tmp_path)
    with pytest.raises(DataError, match="test labels span 0..300, outside 0-9"):
        save_mnist_idx(good, ImageSet(good.images, np.array([0, 1, 300]), "t"), tmp_path)
    # a bad test split is found before any training file is written
    assert list(tmp_path.iterdir()) == []


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
