"""CIFAR / mini-ImageNet loaders, restricted unpickling and benchmark task splits.

Every test writes tiny files in the real on-disk formats into ``tmp_path``.
"""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from lcne.experiments.datasets import (
    IMAGE_BENCHMARKS,
    DataFileNotFoundError,
    DataFormatError,
    ImageDataset,
    domain_cifar100,
    load_benchmark,
    load_cifar10,
    load_cifar100,
    load_miniimagenet,
    safe_load_pickle,
    split_miniimagenet,
)
from lcne.experiments.datasets.safe_pickle import safe_loads_pickle

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR100_FINE = (
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can "
    "castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin "
    "elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster "
    "man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck "
    "pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk "
    "skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger "
    "tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm"
).split()
CIFAR100_COARSE = (
    "aquatic_mammals fish flowers food_containers fruit_and_vegetables household_electrical_devices "
    "household_furniture insects large_carnivores large_man-made_outdoor_things large_natural_outdoor_scenes "
    "large_omnivores_and_herbivores medium_mammals non-insect_invertebrates people reptiles small_mammals trees "
    "vehicles_1 vehicles_2"
).split()
# true superclass of the 15 fine classes the Domain CIFAR-100 benchmark uses
_KNOWN_COARSE = {
    **{n: 0 for n in ("beaver", "dolphin", "otter", "seal", "whale")},
    **{n: 1 for n in ("aquarium_fish", "flatfish", "ray", "shark", "trout")},
    **{n: 2 for n in ("orchid", "poppy", "rose", "sunflower", "tulip")},
}


def _dump(path, obj, protocol=2):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(obj, protocol=protocol))


def _as_py2(path):
    """Rewrite a protocol-2 pickle so numpy globals use numpy 1.x module names."""
    path.write_bytes(path.read_bytes().replace(b"numpy._core.", b"numpy.core."))


def _images(rng, n):
    return rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)


def write_cifar10(root, per_batch=20, test=30, seed=0, bytes_keys=False):
    """Tiny CIFAR-10 in the python-pickle layout; returns the generated arrays."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    k = (lambda s: s.encode()) if bytes_keys else (lambda s: s)
    data = {}
    for i in range(1, 6):
        x = _images(rng, per_batch)
        y = [int(v) for v in np.arange(per_batch) % 10]
        _dump(folder / f"data_batch_{i}", {k("batch_label"): f"training batch {i} of 5", k("labels"): y,
                                           k("data"): x, k("filenames"): [f"img{j}.png" for j in range(per_batch)]})
        data[f"data_batch_{i}"] = (x, y)
    x = _images(rng, test)
    y = [int(v) for v in rng.integers(0, 10, test)]
    _dump(folder / "test_batch", {k("batch_label"): "testing batch 1 of 1", k("labels"): y, k("data"): x})
    data["test_batch"] = (x, y)
    names = [n.encode() for n in CIFAR10_NAMES] if bytes_keys else CIFAR10_NAMES
    _dump(folder / "batches.meta", {k("label_names"): names, k("num_cases_per_batch"): per_batch, k("num_vis"): 3072})
    return folder, data


def write_cifar100(root, per_class_train=2, per_class_test=1, seed=0, protocol=2):
    rng = np.random.default_rng(seed)
    folder = root / "cifar-100-python"
    other = {i: 3 + i % 17 for i in range(100)}
    coarse_of = [(_KNOWN_COARSE[n] if n in _KNOWN_COARSE else other[i]) for i, n in enumerate(CIFAR100_FINE)]
    out = {}
    for split, per in (("train", per_class_train), ("test", per_class_test)):
        fine = [c for c in range(100) for _ in range(per)]
        rng.shuffle(fine)
        coarse = [coarse_of[c] for c in fine]
        x = _images(rng, len(fine))
        _dump(folder / split, {"filenames": [], "batch_label": split, "fine_labels": fine,
                               "coarse_labels": coarse, "data": x}, protocol)
        out[split] = (x, fine, coarse)
    _dump(folder / "meta", {"fine_label_names": CIFAR100_FINE, "coarse_label_names": CIFAR100_COARSE}, protocol)
    return folder, out


def write_miniimagenet_pkl(folder, split_name, wnids, per_class, seed, protocol=2):
    rng = np.random.default_rng(seed)
    n = len(wnids) * per_class
    images = rng.integers(0, 256, size=(n, 84, 84, 3), dtype=np.uint8)
    order = rng.permutation(n)  # classes interleaved, as class_dict allows
    class_dict = {w: sorted(int(i) for i in order[k * per_class:(k + 1) * per_class]) for k, w in enumerate(wnids)}
    _dump(folder / f"mini-imagenet-cache-{split_name}.pkl", {"image_data": images, "class_dict": class_dict}, protocol)
    return images, class_dict


# ----------------------------------------------------------------- CIFAR-10
def test_cifar10_roundtrip_py2_names(tmp_path):
    folder, data = write_cifar10(tmp_path)
    for f in folder.iterdir():
        _as_py2(f)  # numpy-1.x module paths, as in the distributed files
    ds = load_cifar10(tmp_path)  # parent folder accepted
    assert ds.class_names == tuple(CIFAR10_NAMES)
    assert ds.train_images.shape == (100, 3, 32, 32) and ds.train_images.dtype == np.uint8
    assert ds.test_images.shape == (30, 3, 32, 32)
    x0, y0 = data["data_batch_1"]
    # first 1024 values are the red plane, row-major
    np.testing.assert_array_equal(ds.train_images[0, 0].ravel(), x0[0, :1024])
    np.testing.assert_array_equal(ds.train_images[0, 2, 31], x0[0, 3072 - 32:])
    np.testing.assert_array_equal(ds.train_labels[:20], y0)
    np.testing.assert_array_equal(ds.train_images[80:], data["data_batch_5"][0].reshape(-1, 3, 32, 32))
    np.testing.assert_array_equal(ds.test_labels, data["test_batch"][1])
    assert ds.train_labels.dtype == np.int64
    assert load_cifar10(folder).train_images.shape[0] == 100  # folder itself accepted


def test_cifar10_bytes_keys_and_protocol5(tmp_path):
    write_cifar10(tmp_path, bytes_keys=True)
    ds = load_cifar10(tmp_path)
    assert ds.class_names[0] == "airplane"
    # numpy 2 / protocol 5 pickles (``_frombuffer``) also load
    folder = tmp_path / "cifar-10-batches-py"
    obj = safe_load_pickle(folder / "test_batch")
    _dump(folder / "test_batch", obj, protocol=5)
    np.testing.assert_array_equal(load_cifar10(tmp_path).test_images, ds.test_images)


def _one_line(exc_info, path):
    msg = str(exc_info.value)
    assert "\n" not in msg
    assert str(path) in msg
    return msg


def test_missing_file_is_named(tmp_path):
    folder, _ = write_cifar10(tmp_path)
    (folder / "data_batch_3").unlink()
    with pytest.raises(DataFileNotFoundError) as info:
        load_cifar10(tmp_path)
    _one_line(info, folder / "data_batch_3")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, DataFormatError)
    from lcne.experiments.errors import DataError
    assert isinstance(info.value, DataError) and isinstance(info.value, ValueError)  # CLI prints it as one line
    with pytest.raises(DataFileNotFoundError):
        load_cifar10(tmp_path / "nowhere")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_file_is_named(tmp_path, damage):
    folder, _ = write_cifar10(tmp_path)
    target = folder / "data_batch_2"
    raw = target.read_bytes()
    target.write_bytes({"truncate": raw[: len(raw) // 2], "garbage": os.urandom(500), "empty": b""}[damage])
    with pytest.raises(DataFormatError) as info:
        load_cifar10(tmp_path)
    msg = _one_line(info, target)
    if damage == "truncate":
        assert "truncated pickle" in msg


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d.pop("labels"), "missing key 'labels'"),
    (lambda d: d.__setitem__("data", d["data"][:, :100]), "'data' must be uint8"),
    (lambda d: d.__setitem__("data", d["data"].astype(np.float32)), "'data' must be uint8"),
    (lambda d: d.__setitem__("labels", d["labels"][:-1]), "'labels' must be"),
    (lambda d: d.__setitem__("labels", [11] * len(d["labels"])), "0..9"),
])
def test_malformed_batch(tmp_path, mutate, needle):
    folder, _ = write_cifar10(tmp_path)
    target = folder / "data_batch_4"
    d = safe_load_pickle(target)
    mutate(d)
    _dump(target, d)
    with pytest.raises(DataFormatError) as info:
        load_cifar10(tmp_path)
    assert needle in _one_line(info, target)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_restricted_unpickling_refuses_code(tmp_path):
    folder, _ = write_cifar10(tmp_path)
    marker = tmp_path / "pwned"
    target = folder / "data_batch_1"
    _dump(target, {"data": _Evil(marker), "labels": []})
    with pytest.raises(DataFormatError) as info:
        load_cifar10(tmp_path)
    assert "unsafe pickle" in _one_line(info, target)
    assert not marker.exists()
    for payload in (pickle.dumps(eval), pickle.dumps(pickle.loads), pickle.dumps(np.load),
                    b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x05\x00\x00\x00rot13\x86R."):
        with pytest.raises(DataFormatError, match="unsafe pickle|corrupt"):
            safe_loads_pickle(payload, source="payload")


# ---------------------------------------------------------------- CIFAR-100
def test_cifar100_fine_and_coarse(tmp_path):
    folder, data = write_cifar100(tmp_path)
    _as_py2(folder / "train")
    ds = load_cifar100(tmp_path)
    assert ds.n_classes == 100 and len(ds.coarse_names) == 20
    assert ds.class_names[4] == "beaver" and ds.coarse_names[0] == "aquatic_mammals"
    np.testing.assert_array_equal(ds.train_labels, data["train"][1])
    np.testing.assert_array_equal(ds.train_coarse_labels, data["train"][2])
    np.testing.assert_array_equal(ds.test_images.reshape(len(ds.test_labels), -1), data["test"][0])


def test_cifar100_missing_meta(tmp_path):
    folder, _ = write_cifar100(tmp_path)
    (folder / "meta").unlink()
    with pytest.raises(DataFileNotFoundError) as info:
        load_cifar100(tmp_path)
    _one_line(info, folder / "meta")


# ------------------------------------------------------------------- tasks
def test_split_cifar10_tasks(tmp_path):
    write_cifar10(tmp_path)
    ds, tasks = load_benchmark("split-cifar10", tmp_path)
    assert tasks.n_tasks == 5 and tasks.n_classes == 10
    assert tasks.task_classes == ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))
    assert tasks.task_names[0] == "airplane+automobile"
    for t, classes in enumerate(tasks.task_classes):
        assert set(ds.train_labels[tasks.train_indices[t]]) == set(classes)
        np.testing.assert_array_equal(tasks.test_indices[t], np.flatnonzero(np.isin(ds.test_labels, classes)))
    seen = tasks.seen_train_indices(2)
    assert set(ds.train_labels[seen]) == set(range(6)) and len(seen) == 60
    np.testing.assert_array_equal(tasks.head_labels(ds.test_labels), ds.test_labels)
    np.testing.assert_array_equal(tasks.train_task(), ds.train_labels // 2 + 1)
    order = tasks.test_order()
    assert np.all(np.diff(tasks.test_task()[order]) >= 0) and len(order) == len(ds.test_labels)


def test_domain_cifar100_tasks(tmp_path):
    write_cifar100(tmp_path, per_class_train=3, per_class_test=2)
    ds, tasks = load_benchmark("domain-cifar100", tmp_path)
    assert tasks.n_classes == 100 and tasks.n_tasks == 3
    assert tasks.task_names == ("aquatic_mammals", "fish", "flowers")
    names = [[ds.class_names[c] for c in cls] for cls in tasks.task_classes]
    assert names[0] == ["beaver", "dolphin", "otter", "seal", "whale"]
    assert names[2] == ["orchid", "poppy", "rose", "sunflower", "tulip"]
    assert len(tasks.train_indices[1]) == 15 and len(tasks.test_indices[1]) == 10
    assert len(tasks.seen_test_indices(2)) == 30
    assert set(ds.train_coarse_labels[tasks.train_indices[1]]) == {1}
    assert np.bincount(tasks.train_task()).tolist() == [255, 15, 15, 15]  # 0 = unused fine classes


def test_domain_cifar100_detects_wrong_superclass():
    n = 100
    ds = ImageDataset("cifar100", np.zeros((n, 3, 2, 2), np.uint8), np.arange(n), np.zeros((n, 3, 2, 2), np.uint8),
                      np.arange(n), tuple(CIFAR100_FINE), tuple(CIFAR100_COARSE),
                      np.full(n, 5), np.full(n, 5))
    with pytest.raises(DataFormatError, match="aquatic_mammals"):
        domain_cifar100(ds)
    with pytest.raises(DataFormatError, match="unicorn"):
        domain_cifar100(ds, groups=[("myth", ("unicorn",))])


def test_split_miniimagenet_default_relabels():
    k, per = 100, 3
    labels = np.repeat(np.arange(k), per)
    ds = ImageDataset("miniimagenet", np.zeros((k * per, 3, 2, 2), np.uint8), labels,
                      np.zeros((k, 3, 2, 2), np.uint8), np.arange(k), tuple(f"n{i:08d}" for i in range(k)))
    tasks = split_miniimagenet(ds)
    assert tasks.n_tasks == 5 and tasks.n_classes == 50
    assert tasks.task_classes[4] == tuple(range(40, 50))
    assert len(tasks.train_indices[0]) == 30 and len(tasks.test_indices[0]) == 10
    head = tasks.head_labels(ds.train_labels)
    assert head[labels >= 50].tolist() == [-1] * (50 * per)
    chosen = list(range(99, 49, -1))
    tasks = split_miniimagenet(ds, classes=chosen)
    assert tasks.head_labels(np.array([99, 50, 0])).tolist() == [0, 49, -1]
    with pytest.raises(ValueError):
        split_miniimagenet(ds, classes=[0] * 50)


# ------------------------------------------------------------ mini-ImageNet
def test_miniimagenet_pickles(tmp_path):
    tr_img, tr_dict = write_miniimagenet_pkl(tmp_path, "train", ["n03", "n01", "n02"], 5, seed=1)
    write_miniimagenet_pkl(tmp_path, "validation", ["n10", "n11"], 5, seed=2)
    write_miniimagenet_pkl(tmp_path, "test", ["n20"], 5, seed=3, protocol=4)
    ds = load_miniimagenet(tmp_path, test_per_class=2)
    assert ds.class_names == ("n01", "n02", "n03", "n10", "n11", "n20")
    assert ds.train_images.shape == (18, 3, 84, 84) and ds.test_images.shape == (12, 3, 84, 84)
    assert np.bincount(ds.test_labels).tolist() == [2] * 6
    # class n01 (index 0): its last two listed images are test images, channels first
    idx = tr_dict["n01"]
    np.testing.assert_array_equal(ds.test_images[0], tr_img[idx[3]].transpose(2, 0, 1))
    np.testing.assert_array_equal(ds.train_images[0], tr_img[idx[0]].transpose(2, 0, 1))
    only_train = load_miniimagenet(tmp_path, splits=("train",), test_per_class=2)
    assert only_train.class_names == ds.class_names[:3]


def test_miniimagenet_files_in_a_subfolder_beside_cifar(tmp_path):
    """One data_dir for every image benchmark: the cache files may sit in data_dir/mini-imagenet."""
    sub = tmp_path / "mini-imagenet"
    sub.mkdir()
    write_miniimagenet_pkl(sub, "train", ["n01"], 4, seed=1)
    write_miniimagenet_pkl(sub, "val", ["n02"], 4, seed=2)
    write_miniimagenet_pkl(sub, "test", ["n03"], 4, seed=3)
    ds = load_miniimagenet(tmp_path, test_per_class=1)
    assert ds.class_names == ("n01", "n02", "n03") and ds.train_images.shape == (9, 3, 84, 84)
    with pytest.raises(DataFileNotFoundError) as err:
        load_miniimagenet(tmp_path / "elsewhere")
    assert "mini-imagenet/mini-imagenet-cache-train.pkl" in str(err.value)


def test_miniimagenet_npz_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(8, 84, 84, 3), dtype=np.uint8)
    np.savez(tmp_path / "mini-imagenet-cache-train.npz", images=images, labels=np.array([0, 1] * 4),
             class_names=np.array(["nA", "nB"]))
    ds = load_miniimagenet(tmp_path, splits=("train",), test_per_class=1)
    assert ds.class_names == ("nA", "nB") and ds.train_images.shape[0] == 6
    with pytest.raises(DataFileNotFoundError) as info:
        load_miniimagenet(tmp_path)  # no val/test files
    _one_line(info, tmp_path / "mini-imagenet-cache-val.pkl")
    with pytest.raises(DataFormatError, match="test_per_class"):
        load_miniimagenet(tmp_path, splits=("train",), test_per_class=4)
    np.savez(tmp_path / "mini-imagenet-cache-test.npz", images=images, labels=np.array([0, 1] * 4, dtype=object))
    with pytest.raises(DataFormatError) as info:
        load_miniimagenet(tmp_path, splits=("test",), test_per_class=1)
    _one_line(info, tmp_path / "mini-imagenet-cache-test.npz")
    bad = tmp_path / "mini-imagenet-cache-val.npz"
    np.savez(bad, images=images, labels=np.zeros(8, int), class_names=np.array(["nA"]))  # duplicate class
    with pytest.raises(DataFormatError, match="also occurs"):
        load_miniimagenet(tmp_path, splits=("train", "val"), test_per_class=1)
    raw = bad.read_bytes()
    bad.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(DataFormatError) as info:
        load_miniimagenet(tmp_path, splits=("val",), test_per_class=1)
    _one_line(info, bad)


def test_miniimagenet_bad_class_dict(tmp_path):
    write_miniimagenet_pkl(tmp_path, "train", ["n1", "n2"], 3, seed=0)
    path = tmp_path / "mini-imagenet-cache-train.pkl"
    d = safe_load_pickle(path)
    d["class_dict"]["n2"] = d["class_dict"]["n1"]
    _dump(path, d)
    with pytest.raises(DataFormatError, match="repeats"):
        load_miniimagenet(tmp_path, splits=("train",), test_per_class=1)


# -------------------------------------------------------------- end to end
@pytest.fixture
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convolutions; avoids OpenMP stalls on busy CPUs
    yield
    torch.set_num_threads(n)


def test_cifar_training_step_end_to_end(tmp_path, one_thread):
    from lcne.experiments.augment import EvalTransform, TrainAugmentation
    from lcne.models.resnet import SlimResNet18

    write_cifar10(tmp_path)
    spec = IMAGE_BENCHMARKS["split-cifar10"]
    ds, tasks = load_benchmark(spec.name, tmp_path)
    gens = [torch.Generator().manual_seed(s) for s in (42, 43)]
    model = SlimResNet18(n_runs=2, n_classes=tasks.n_classes, in_size=spec.in_size, generators=gens)
    opt = torch.optim.SGD(model.ngm_param_groups(lr=0.01), lr=0.01)
    aug = TrainAugmentation.named(spec.normalization, padding=spec.crop_padding)
    pool = torch.from_numpy(tasks.seen_train_indices(1))
    images = torch.from_numpy(ds.train_images)
    targets = torch.from_numpy(tasks.head_labels(ds.train_labels))
    for _ in range(2):
        pick = torch.stack([pool[torch.randint(len(pool), (8,), generator=g)] for g in gens])  # (R, B)
        logits = model(aug(images[pick], gens), torch.tensor([1.0, 1.3]))
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets[pick].flatten(), reduction="none")
        opt.zero_grad()
        loss.view(2, -1).mean(1).sum().backward()
        opt.step()
    model.eval()
    test_x = EvalTransform.named(spec.normalization)(torch.from_numpy(ds.test_images[tasks.test_indices[0]]))
    with torch.no_grad():
        out = model(test_x, torch.ones(2))
    assert out.shape == (2, len(tasks.test_indices[0]), 10) and torch.isfinite(out).all()
    assert torch.count_nonzero(model.head_bias) == 0
