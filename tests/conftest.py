"""Shared fixtures. Tests import the installed package (pip install -e '.[test]')."""
import numpy as np
import pytest
import torch


@pytest.fixture(scope="session")
def tiny_mnist():
    """A small, deterministic MNIST-like (train, test) pair: 20 train / 6 test per class."""
    from lcne.experiments.datasets.mnist import ImageSet

    rng = np.random.default_rng(0)

    def make(per_class):
        labels = np.repeat(np.arange(10), per_class)
        images = rng.integers(0, 256, size=(len(labels), 28, 28), dtype=np.uint8)
        # a class-dependent bright bar makes the task learnable
        for i, y in enumerate(labels):
            images[i, 2 * y : 2 * y + 3, :] = 255
        return ImageSet(images, labels.astype(np.int64), "synthetic")

    return make(20), make(6)


@pytest.fixture(autouse=True)
def _deterministic_torch():
    torch.manual_seed(0)
    yield
