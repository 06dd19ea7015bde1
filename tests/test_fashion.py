"""Fashion-MNIST as a full-size benchmark data set, and nearest-neighbour rotation (issue 15).

The tests that read the real files skip when the Debian package is not installed; the
rest use small synthetic or embedded data.
"""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lcne.experiments.config import RunConfig
from lcne.experiments.datasets import fashion as fashion_module
from lcne.experiments.datasets.fashion import DEBIAN_SHA256, FASHION_MNIST_DIR, load_fashion_mnist
from lcne.experiments.datasets.mnist import ImageSet, load_embedded_mnist, load_mnist_idx, save_mnist_idx
from lcne.experiments.errors import ConfigError, DataError
from lcne.experiments.streams import BENCHMARKS, build_stream
from lcne.experiments.transforms import FASHION_MNIST_MEAN, FASHION_MNIST_STD, rotate

HAVE_FASHION = all((Path(FASHION_MNIST_DIR) / name).is_file() for name in DEBIAN_SHA256)
needs_fashion = pytest.mark.skipif(
    not HAVE_FASHION, reason="needs dataset-fashion-mnist (apt-get install dataset-fashion-mnist)")


@pytest.fixture(scope="module")
def fashion():
    return load_fashion_mnist()


# --------------------------------------------------------------------------- the real files

@needs_fashion
def test_loader_reads_the_debian_files(fashion):
    train, test = fashion
    assert train.images.shape == (60000, 28, 28) and test.images.shape == (10000, 28, 28)
    assert train.images.dtype == np.uint8 and train.labels.dtype == np.int64
    # labels 0..9, balanced: 6,000 training and 1,000 test images per class
    assert np.bincount(train.labels).tolist() == [6000] * 10
    assert np.bincount(test.labels).tolist() == [1000] * 10
    assert "Fashion-MNIST IDX files" in train.source
    # every file is named with the sha256 of its bytes, here the Debian package's
    files = {**train.files, **test.files}
    assert {Path(p).name: h for p, h in files.items()} == DEBIAN_SHA256
    some = next(iter(files))
    assert files[some] == hashlib.sha256(Path(some).read_bytes()).hexdigest()
    # the normalisation constants are this training set's pixel mean and sd (4 decimals),
    # computed exactly from the grey-level histogram (chunked: no 376 MB float copy)
    hist = sum(np.bincount(chunk.ravel(), minlength=256) for chunk in np.array_split(train.images, 20))
    v = np.arange(256) / 255
    mean = (hist * v).sum() / hist.sum()
    sd = np.sqrt((hist * (v - mean) ** 2).sum() / hist.sum())
    assert hist.sum() == 60000 * 784
    assert mean == pytest.approx(FASHION_MNIST_MEAN, abs=5e-5) and mean == pytest.approx(0.286041, abs=1e-6)
    assert sd == pytest.approx(FASHION_MNIST_STD, abs=5e-5) and sd == pytest.approx(0.353024, abs=1e-6)


@needs_fashion
def test_a_tiny_run_names_its_data(tmp_path):
    from lcne.analysis.results_io import open_results
    from lcne.experiments.results import write_netcdf
    from lcne.experiments.runner import run_experiment

    cfg = RunConfig(benchmark="split-fashion-mnist", optimizers=["sgd"], seeds=[42], iterations=2,
                    eval_tasks="first")
    ds = run_experiment(cfg, progress=False)
    path = write_netcdf(ds, tmp_path / "fashion.nc")
    back = open_results(path)
    assert back.attrs["dataset"] == "fashion-mnist"
    assert back.attrs["data_source"].startswith("Fashion-MNIST IDX files in")
    files = json.loads(back.attrs["data_files"])
    assert {Path(p).name: h for p, h in files.items()} == DEBIAN_SHA256
    assert all(len(h) == 64 for h in files.values())
    assert back.sizes["iteration"] == 10
    acc = back.accuracy.sel({"method": "sgd", "eval_task": 1}).values.ravel()
    assert np.isfinite(acc).all() and ((0 <= acc) & (acc <= 1)).all()


@needs_fashion
def test_sweep_batches_hash_the_default_fashion_files():
    from lcne.experiments import sweep as sw

    default = sw.data_hash(None, "split-fashion-mnist")
    # the same four files named explicitly give the same hash; the embedded MNIST another
    assert default == sw.data_hash(FASHION_MNIST_DIR, "split-fashion-mnist")
    assert default != sw.data_hash(None, "split-mnist") == sw.data_hash(None)
    a = sw.batch_id(RunConfig(benchmark="split-fashion-mnist", optimizers=["sgd"], seeds=[1]).resolved())
    b = sw.batch_id(RunConfig(benchmark="split-mnist", optimizers=["sgd"], seeds=[1]).resolved())
    assert a != b


# --------------------------------------------------------------------------- absent or wrong files

def test_absent_files_give_one_line_with_the_way_to_get_them(tmp_path, capsys, monkeypatch):
    from lcne.experiments.cli import main

    with pytest.raises(DataError) as err:
        build_stream("split-fashion-mnist", str(tmp_path))
    msg = str(err.value)
    assert "\n" not in msg and "train-images-idx3-ubyte[.gz] not found in" in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "github.com/zalandoresearch/fashion-mnist" in msg
    assert "--data-dir" in msg
    with pytest.raises(DataError, match="is not a directory; get Fashion-MNIST with `apt-get install"):
        load_fashion_mnist(str(tmp_path / "missing"))
    monkeypatch.setattr(fashion_module, "FASHION_MNIST_DIR", str(tmp_path / "nowhere"))  # no package, no --data-dir
    with pytest.raises(DataError, match=r"^Fashion-MNIST not found: .*nowhere does not exist; get Fashion-MNIST with"):
        build_stream("split-fashion-mnist")
    rc = main(["run", "rotated-fashion-mnist", "--data-dir", str(tmp_path), "--optimizers", "sgd", "--seeds", "1",
               "--iterations", "1", "--out", str(tmp_path / "out"), "--quiet", "--no-figure"])
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err_lines) == 1 and "apt-get install dataset-fashion-mnist" in err_lines[0]


def test_idx_files_that_are_not_fashion_mnist_sized_are_refused(tmp_path):
    tr, te = load_embedded_mnist()
    save_mnist_idx(tr, te, tmp_path, compress=True)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: 4000 images, but Fashion-MNIST's train "
                                         r"split has 60000; get Fashion-MNIST"):
        load_fashion_mnist(str(tmp_path))
    # the MNIST benchmarks still read any IDX files, and call them just that
    s = build_stream("split-mnist", str(tmp_path))
    assert s.source == f"IDX files in {tmp_path}" and s.dataset == "mnist"
    assert {Path(p).name for p in s.data_files} == {
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz"}
    # a class missing from a split is refused too
    keep = tr.labels != 7
    save_mnist_idx(ImageSet(tr.images[keep], tr.labels[keep], "t"), te, tmp_path / "no7")
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte: no image of class\(es\) \[7\], but Fashion"):
        load_fashion_mnist(str(tmp_path / "no7"))
    assert len(load_mnist_idx(tmp_path / "no7")[0]) == int(keep.sum())


# --------------------------------------------------------------------------- task structure

def test_fashion_benchmarks_have_the_mnist_task_structure(tiny_mnist):
    for kind in ("split", "permuted", "rotated"):
        f, m = BENCHMARKS[f"{kind}-fashion-mnist"], BENCHMARKS[f"{kind}-mnist"]
        assert f.dataset == "fashion-mnist" and m.dataset == "mnist"
        assert (f.iterations_per_task, f.batch_size, f.lr, f.eta) == (m.iterations_per_task, m.batch_size, m.lr, m.eta)
    s = BENCHMARKS["split-fashion-mnist"].build(*tiny_mnist)
    assert s.name == "split-fashion-mnist" and s.dataset == "fashion-mnist"
    assert s.n_tasks == 5 and s.n_classes == 10 and s.train_x.shape == (200, 784)
    assert torch.equal(s.train_task, s.train_y // 2 + 1)  # task k = classes {2k-2, 2k-1}
    assert set(s.train_y[s.train_pool(3)].tolist()) == {0, 1, 2, 3, 4, 5}
    assert set(s.test_y[: s.test_end(2)].tolist()) == {0, 1, 2, 3}
    # Fashion-MNIST's own normalisation: 0 -> -0.2860/0.3530, 255 -> 0.7140/0.3530
    assert s.train_x.min().item() == pytest.approx(-0.2860 / 0.3530, rel=1e-6)
    assert s.train_x.max().item() == pytest.approx(0.7140 / 0.3530, rel=1e-6)
    m = BENCHMARKS["split-mnist"].build(*tiny_mnist)
    assert not torch.allclose(m.train_x, s.train_x)
    p = BENCHMARKS["permuted-fashion-mnist"].build(*tiny_mnist)
    assert p.n_tasks == 3 and torch.equal(p.train_x[:200], s.train_x)  # task 1 unpermuted, same pixels
    perm = torch.from_numpy(np.random.RandomState(42).permutation(784))
    torch.testing.assert_close(p.train_x[200:400], s.train_x[:, perm], rtol=0, atol=0)


# --------------------------------------------------------------------------- rotation

def _quarter_turn_by_hand(x):
    """Counter-clockwise quarter turn of (N, H, W), H == W: out[r, c] = in[c, W-1-r]."""
    n, h, w = x.shape
    out = torch.empty_like(x)
    for r in range(h):
        for c in range(w):
            out[:, r, c] = x[:, c, w - 1 - r]
    return out


def test_nearest_quarter_turns_are_exact():
    x = torch.rand(2, 28, 28)
    q = _quarter_turn_by_hand(x)
    assert torch.equal(rotate(x, 90, mode="nearest"), q)
    assert torch.equal(rotate(x, 180, mode="nearest"), _quarter_turn_by_hand(q))
    assert torch.equal(rotate(x, -90, mode="nearest"), _quarter_turn_by_hand(_quarter_turn_by_hand(q)))
    assert torch.equal(rotate(x, 0, mode="nearest"), x)
    # one pixel, by hand: (row 0, column 27) goes to (row 0, column 0) turning counter-clockwise
    one = torch.zeros(1, 28, 28)
    one[0, 0, 27] = 1.0
    assert torch.nonzero(rotate(one, 90))[0].tolist() == [0, 0, 0]
    # bilinear is close but not exact at 90 degrees (cos 90 is not 0 in floating point)
    assert (rotate(x, 90, mode="bilinear") - q).abs().max() < 1e-4


def test_nearest_outputs_only_input_pixel_values():
    x = torch.rand(3, 28, 28)
    values = set(x.flatten().tolist()) | {0.0}
    for deg in (80.0, 160.0, 33.3):
        out = rotate(x, deg, mode="nearest")
        assert set(out.flatten().tolist()) <= values
        assert not set(rotate(x, deg, mode="bilinear").flatten().tolist()) <= values  # bilinear mixes
    with pytest.raises(ValueError, match="rotation mode must be one of nearest, bilinear"):
        rotate(x, 80, mode="bicubic")


def test_nearest_rotation_equals_pil_rotate():
    """torchvision's ``rotate`` of a PIL image (the authors' Rotated MNIST) is PIL's
    ``Image.rotate(angle)``: nearest neighbour, centre (W/2, H/2) of the pixel grid, fill 0."""
    Image = pytest.importorskip("PIL.Image")
    imgs = load_embedded_mnist()[1].images[:100]
    x = torch.from_numpy(imgs).float()
    for deg in (80, 160):
        ours = rotate(x, deg, mode="nearest").to(torch.uint8).numpy()
        pil = np.stack([np.asarray(Image.fromarray(im).rotate(deg, resample=Image.NEAREST)) for im in imgs])
        assert np.array_equal(ours, pil)


def test_rotation_option_changes_the_stream_and_the_run(tiny_mnist):
    from lcne.experiments.runner import run_experiment

    near = BENCHMARKS["rotated-mnist"].build(*tiny_mnist, rotation="nearest")
    bil = BENCHMARKS["rotated-mnist"].build(*tiny_mnist, rotation="bilinear")
    assert near.n_tasks == 3 and near.dataset == "mnist"
    assert torch.equal(near.train_x[:200], bil.train_x[:200])  # task 1 is not rotated
    assert not torch.allclose(near.train_x[200:], bil.train_x[200:])
    # nearest keeps the (normalised) grey levels of the input, the fill 0 among them
    levels = torch.unique(near.train_x[:200])
    assert torch.isin(near.train_x[200:], levels).all() and not torch.isin(bil.train_x[200:], levels).all()
    with pytest.raises(ConfigError, match="rotation: unknown value 'cubic'"):
        build_stream("rotated-mnist", rotation="cubic")
    # RunConfig.rotation reaches the stream: same seed, different curves after context 1
    runs = {mode: run_experiment(RunConfig(benchmark="rotated-mnist", optimizers=["sgd"], seeds=[3], iterations=3,
                                           batch_size=32, eval_tasks="first", rotation=mode), progress=False)
            for mode in ("nearest", "bilinear")}
    ln, lb = (runs[m].loss.sel({"eval_task": 1}).values.ravel() for m in ("nearest", "bilinear"))
    assert ln.shape == (9,) and np.isfinite(ln).all()
    assert np.array_equal(ln[:3], lb[:3]) and not np.array_equal(ln[4:], lb[4:])
    assert json.loads(runs["nearest"].attrs["config"])["rotation"] == "nearest"


def test_rotation_flag_reaches_the_config():
    from lcne.experiments.cli import build_parser, config_from_args

    parse = build_parser().parse_args
    assert config_from_args(parse(["run", "rotated-mnist"])).rotation == "nearest"
    assert config_from_args(parse(["run", "rotated-mnist", "--rotation", "bilinear"])).rotation == "bilinear"
    with pytest.raises(SystemExit):
        parse(["run", "rotated-mnist", "--rotation", "cubic"])
