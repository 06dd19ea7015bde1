"""Torch augmentation batched over runs: crop/flip correctness, per-run generators, no test-time augmentation."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lcne.experiments.augment import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    NORMALIZATION,
    EvalTransform,
    TrainAugmentation,
    normalize,
    random_crop,
    random_horizontal_flip,
    to_unit_float,
)


def gens(*seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def images(r=2, b=16, seed=0, size=32):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (r, b, 3, size, size), dtype=torch.uint8, generator=gen)


def test_eval_transform_is_normalisation_only():
    x = images(1, 4)[0]
    out = EvalTransform()(x)
    mean = torch.tensor(CIFAR10_MEAN).view(3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(3, 1, 1)
    torch.testing.assert_close(out, (x.float() / 255 - mean) / std)
    torch.testing.assert_close(EvalTransform()(x), out)  # deterministic
    assert out.dtype == torch.float32 and out.shape == x.shape
    torch.testing.assert_close(EvalTransform.named("imagenet")(x[:, :, :2, :2]),
                               normalize(x[:, :, :2, :2].float() / 255, *NORMALIZATION["imagenet"]))


def test_random_crop_matches_replayed_offsets():
    x = to_unit_float(images(2, 12))
    out = random_crop(x, gens(3, 4), padding=4)
    assert out.shape == x.shape
    padded = F.pad(x, (4, 4, 4, 4))
    for r, g in enumerate(gens(3, 4)):
        top, left = torch.randint(0, 9, (2, 12), generator=g)
        for b in range(12):
            window = padded[r, b, :, top[b]:top[b] + 32, left[b]:left[b] + 32]
            assert torch.equal(out[r, b], window)
    assert torch.equal(random_crop(x, gens(0, 1), padding=0), x)  # no padding: nothing to crop


def test_crop_offsets_cover_range_and_pad_is_black():
    x = torch.ones(1, 4000, 1, 32, 32)
    out = random_crop(x, gens(9), padding=4)
    zero_rows = (out[0, :, 0].sum(-1) == 0).sum(-1)  # black rows = |vertical shift|
    assert set(zero_rows.tolist()) == set(range(5))
    # offsets 0..8 equally likely: shift 0 has 1/9, each |shift| in 1..4 has 2/9
    frac0 = (zero_rows == 0).float().mean().item()
    assert abs(frac0 - 1 / 9) < 0.03
    aug = TrainAugmentation(padding=4, flip_p=0.0)
    white = aug(torch.full((1, 200, 3, 32, 32), 255, dtype=torch.uint8), gens(1))
    black = (torch.zeros(3) - torch.tensor(CIFAR10_MEAN)) / torch.tensor(CIFAR10_STD)
    corners = white[0, :, :, 0, 0]
    is_black = torch.isclose(corners, black).all(-1)
    is_white = torch.isclose(corners, (1 - torch.tensor(CIFAR10_MEAN)) / torch.tensor(CIFAR10_STD)).all(-1)
    assert torch.all(is_black | is_white)
    # corner is padding unless both offsets are >= 4: P = 1 - (5/9)^2
    assert abs(is_black.float().mean().item() - (1 - 25 / 81)) < 0.1


def test_flip_matches_replayed_draws():
    x = to_unit_float(images(2, 400))
    out = random_horizontal_flip(x, gens(5, 6))
    for r, g in enumerate(gens(5, 6)):
        flip = torch.rand(400, generator=g) < 0.5
        assert torch.equal(out[r, flip], x[r, flip].flip(-1))
        assert torch.equal(out[r, ~flip], x[r, ~flip])
        assert 0.4 < flip.float().mean() < 0.6


def test_runs_are_independent_of_batching():
    x = images(3, 10, seed=1)
    aug = TrainAugmentation()
    together = aug(x, gens(11, 12, 13))
    for r, s in enumerate((11, 12, 13)):
        torch.testing.assert_close(together[r], aug(x[r:r + 1], gens(s))[0], rtol=0, atol=0)
    assert not torch.equal(together[0], EvalTransform()(x[0]))  # training data are augmented
    # the same generator state reproduces the same augmentation
    torch.testing.assert_close(aug(x, gens(11, 12, 13)), together, rtol=0, atol=0)


def test_input_validation():
    aug = TrainAugmentation()
    with pytest.raises(ValueError, match="generators"):
        aug(images(2, 2), gens(1))
    with pytest.raises(ValueError, match="runs, batch"):
        aug(images(1, 2)[0], gens(1))
    with pytest.raises(TypeError):
        to_unit_float(torch.zeros(2, dtype=torch.int32))
    with pytest.raises(ValueError, match="channels"):
        normalize(torch.zeros(1, 2, 4, 4), CIFAR10_MEAN, CIFAR10_STD)
