import numpy as np
import pytest
import torch

from lcne.experiments.streams import BENCHMARKS
from lcne.experiments.transforms import MNIST_MEAN, MNIST_STD, permutations, rotate


def test_split_mnist_tasks(tiny_mnist):
    s = BENCHMARKS["split-mnist"].build(*tiny_mnist)
    assert s.n_tasks == 5 and s.train_x.shape == (200, 784)
    assert torch.equal(s.train_task, s.train_y // 2 + 1)
    # context 2 trains on digits 0-3 only
    assert set(s.train_y[s.train_pool(2)].tolist()) == {0, 1, 2, 3}
    assert s.test_end(1) == 12 and s.test_end(5) == 60
    assert set(s.test_y[: s.test_end(1)].tolist()) == {0, 1}
    # normalisation: a 255 pixel maps to (1 - mean) / sd
    assert s.train_x.max().item() == pytest.approx((1 - MNIST_MEAN) / MNIST_STD, rel=1e-6)


def test_domain_streams(tiny_mnist):
    p = BENCHMARKS["permuted-mnist"].build(*tiny_mnist)
    assert p.n_tasks == 3 and p.train_x.shape == (600, 784)
    perm = permutations(784, 2, 42)[0]
    torch.testing.assert_close(p.train_x[200:400], p.train_x[:200][:, torch.from_numpy(perm)])
    assert np.array_equal(perm, np.random.RandomState(42).permutation(784))
    r = BENCHMARKS["rotated-mnist"].build(*tiny_mnist)
    assert r.test_counts().tolist() == [60, 60, 60]
    assert len(r.train_pool(2)) == 400


def test_rotate_quarter_turn_matches_rot90():
    x = torch.rand(3, 28, 28)
    torch.testing.assert_close(rotate(x, 90), torch.rot90(x, 1, dims=(1, 2)), atol=1e-5, rtol=0)
    torch.testing.assert_close(rotate(x, 0), x)
