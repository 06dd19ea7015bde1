"""Write random-pixel stand-ins for CIFAR-10, CIFAR-100 and mini-ImageNet, in the files'
standard formats, into one folder usable as ``data_dir`` for every image benchmark.

For timing and for running the image part of a study where the real files are absent
(this project downloads nothing). The images are noise: accuracies on them say nothing
about the methods, only that the pipeline runs and how long it takes.

Usage::

    python benchmarks/fake_image_data.py OUT [--cifar10-per-batch 1000] [--cifar10-test 1000]
        [--cifar100-train 20] [--cifar100-test 5] [--mini-per-class 60]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_cifar_loaders import write_cifar10, write_cifar100, write_miniimagenet_pkl  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--cifar10-per-batch", type=int, default=1000, help="images per training batch file (5 files)")
    p.add_argument("--cifar10-test", type=int, default=1000)
    p.add_argument("--cifar100-train", type=int, default=20, help="training images per fine class")
    p.add_argument("--cifar100-test", type=int, default=5, help="test images per fine class")
    p.add_argument("--mini-per-class", type=int, default=120,
                   help="images per mini-ImageNet class (64+16+20 classes; > 100, the test images per class)")
    a = p.parse_args(argv)
    out = Path(a.out)
    write_cifar10(out, per_batch=a.cifar10_per_batch, test=a.cifar10_test)
    write_cifar100(out, per_class_train=a.cifar100_train, per_class_test=a.cifar100_test)
    mini = out / "mini-imagenet"
    mini.mkdir(parents=True, exist_ok=True)
    for split, n, first, seed in (("train", 64, 0, 1), ("val", 16, 64, 2), ("test", 20, 80, 3)):
        write_miniimagenet_pkl(mini, split, [f"n{first + i:08d}" for i in range(n)], a.mini_per_class, seed)
    print(f"wrote {out}: cifar-10-batches-py, cifar-100-python, mini-imagenet")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
