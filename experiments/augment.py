"""Training-time image augmentation in torch, batched over independent runs.

The CIFAR recipe of the paper's code (github.com/alejandrorg00/ngm-sgd_project, the torchvision
transforms of its CIFAR scripts) is, per training image:
random 32x32 crop of the image zero-padded by 4 pixels, horizontal flip with
probability 1/2, conversion to [0, 1], and per-channel normalisation with the
CIFAR-10 statistics mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616)
(also used for CIFAR-100).  :class:`TrainAugmentation` does the same on a whole
batch ``(R, B, C, H, W)`` of ``R`` runs at once; run ``r``'s random draws come
only from ``generators[r]``, so a run's images do not depend on which other runs
share the batch.  Padding is applied in pixel space before normalisation, so
padded pixels are black, as with torchvision's ``RandomCrop(padding=4)``
applied before ``ToTensor``/``Normalize``.

Test images are only converted and normalised (:class:`EvalTransform`).  The
authors' v1 scripts passed the *training* transform to the test set as well, so
their test accuracy was measured on randomly cropped and flipped images; their
later learning-rate sweep fixed this.  We never augment test data.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "EvalTransform",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "NORMALIZATION",
    "TrainAugmentation",
    "normalize",
    "random_crop",
    "random_horizontal_flip",
    "to_unit_float",
]

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
#: torchvision's ImageNet statistics; our choice for mini-ImageNet (no author code exists).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: normalisation statistics by name (``BenchmarkSpec.normalization``)
NORMALIZATION: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "cifar10": (CIFAR10_MEAN, CIFAR10_STD),
    "imagenet": (IMAGENET_MEAN, IMAGENET_STD),
}


def to_unit_float(x: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 pixels 0-255 -> floats in [0, 1]; floating input is only cast to ``dtype``."""
    if x.dtype == torch.uint8:
        return x.to(dtype).div_(255.0)
    if not x.is_floating_point():
        raise TypeError(f"expected uint8 or floating images, got {x.dtype}")
    return x.to(dtype)


def normalize(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Per-channel ``(x - mean) / std``; channels are axis -3 of ``(..., C, H, W)``."""
    mean_t = torch.as_tensor(mean, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    std_t = torch.as_tensor(std, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    if mean_t.shape[0] != x.shape[-3] or std_t.shape[0] != x.shape[-3]:
        raise ValueError(f"{x.shape[-3]} channels but {mean_t.shape[0]} means / {std_t.shape[0]} stds")
    return (x - mean_t) / std_t


def _check_runs(x: torch.Tensor, generators: Sequence[torch.Generator]) -> None:
    if x.dim() != 5:
        raise ValueError(f"expected images of shape (runs, batch, C, H, W), got {tuple(x.shape)}")
    if len(generators) != x.shape[0]:
        raise ValueError(f"{x.shape[0]} runs but {len(generators)} generators")


def random_crop(
    x: torch.Tensor,
    generators: Sequence[torch.Generator],
    padding: int = 4,
    size: int | None = None,
) -> torch.Tensor:
    """Zero-pad every image by ``padding`` pixels and cut a random ``size`` x ``size`` window.

    Parameters
    ----------
    x : Tensor, shape (R, B, C, H, W)
        Images of ``R`` runs (pixel space, before normalisation).
    generators : sequence of R ``torch.Generator``
        Run ``r`` draws its ``2 * B`` window offsets from ``generators[r]``
        (row offsets, then column offsets, each uniform on
        ``0 .. H + 2 * padding - size``), on the generator's device.
    padding : int
        Zero padding on every side.
    size : int, optional
        Output side; defaults to ``H`` (``H == W`` required).

    Returns
    -------
    Tensor, shape (R, B, C, size, size)
    """
    _check_runs(x, generators)
    r, b, c, h, w = x.shape
    if h != w:
        raise ValueError("random_crop expects square images")
    size = h if size is None else size
    span = h + 2 * padding - size  # largest offset
    if span < 0:
        raise ValueError(f"crop size {size} exceeds padded size {h + 2 * padding}")
    offsets = torch.stack([torch.randint(0, span + 1, (2, b), generator=g, device=g.device).to(x.device)
                           for g in generators])  # (R, 2, B)
    top = offsets[:, 0].reshape(-1)  # (R*B,)
    left = offsets[:, 1].reshape(-1)
    padded = F.pad(x.reshape(r * b, c, h, w), (padding, padding, padding, padding))
    hp = padded.shape[-1]
    window = torch.arange(size, device=x.device)
    rows = (top[:, None] + window)[:, None, :, None].expand(r * b, c, size, hp)
    out = torch.gather(padded, 2, rows)  # (RB, C, size, hp)
    cols = (left[:, None] + window)[:, None, None, :].expand(r * b, c, size, size)
    out = torch.gather(out, 3, cols)
    return out.reshape(r, b, c, size, size)


def random_horizontal_flip(x: torch.Tensor, generators: Sequence[torch.Generator], p: float = 0.5) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``.

    Run ``r`` draws ``B`` uniforms from ``generators[r]``; image ``b`` is flipped
    where its uniform is below ``p``.  ``x`` has shape (R, B, C, H, W).
    """
    _check_runs(x, generators)
    b = x.shape[1]
    flip = torch.stack([torch.rand(b, generator=g, device=g.device).to(x.device) < p for g in generators])
    return torch.where(flip[:, :, None, None, None], x.flip(-1), x)


class TrainAugmentation:
    """Random crop with zero padding, horizontal flip and normalisation, batched over runs.

    Parameters
    ----------
    mean, std : sequence of float
        Per-channel normalisation statistics (default: CIFAR-10's).
    padding : int
        Zero padding before the random crop (4 for CIFAR).
    flip_p : float
        Probability of a horizontal flip.
    dtype : torch.dtype
        Floating type of the output.

    Examples
    --------
    >>> import torch
    >>> aug = TrainAugmentation()
    >>> gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    >>> x = torch.randint(0, 256, (2, 8, 3, 32, 32), dtype=torch.uint8)
    >>> aug(x, gens).shape
    torch.Size([2, 8, 3, 32, 32])

    Notes
    -----
    Per call, run ``r`` consumes ``2 B`` integers (crop offsets, when
    ``padding > 0``) and then ``B`` uniforms (flips, when ``flip_p > 0``) from
    ``generators[r]``.  The generators may be the runs' data-sampling
    generators; the draws are then simply interleaved with the sampling draws.
    """

    def __init__(
        self,
        mean: Sequence[float] = CIFAR10_MEAN,
        std: Sequence[float] = CIFAR10_STD,
        padding: int = 4,
        flip_p: float = 0.5,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self.padding = int(padding)
        self.flip_p = float(flip_p)
        self.dtype = dtype

    @classmethod
    def named(cls, normalization: str = "cifar10", padding: int = 4, **kwargs) -> "TrainAugmentation":
        """Build from a key of :data:`NORMALIZATION` (``BenchmarkSpec.normalization``)."""
        mean, std = NORMALIZATION[normalization]
        return cls(mean, std, padding=padding, **kwargs)

    def __call__(self, x: torch.Tensor, generators: Sequence[torch.Generator]) -> torch.Tensor:
        """Augment a batch ``x`` of shape (R, B, C, H, W) (uint8 or float in [0, 1])."""
        x = to_unit_float(x, self.dtype)
        if self.padding:
            x = random_crop(x, generators, self.padding)
        if self.flip_p > 0:
            x = random_horizontal_flip(x, generators, self.flip_p)
        return normalize(x, self.mean, self.std)

    def __repr__(self) -> str:
        return f"TrainAugmentation(mean={self.mean}, std={self.std}, padding={self.padding}, flip_p={self.flip_p})"


class EvalTransform:
    """Test-time transform: conversion to [0, 1] and normalisation only (no augmentation).

    Accepts any shape ``(..., C, H, W)``, e.g. a shared test batch (B, C, H, W)
    used for all runs.
    """

    def __init__(self, mean: Sequence[float] = CIFAR10_MEAN, std: Sequence[float] = CIFAR10_STD,
                 dtype: torch.dtype = torch.float32) -> None:
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self.dtype = dtype

    @classmethod
    def named(cls, normalization: str = "cifar10", **kwargs) -> "EvalTransform":
        """Build from a key of :data:`NORMALIZATION`."""
        mean, std = NORMALIZATION[normalization]
        return cls(mean, std, **kwargs)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return normalize(to_unit_float(x, self.dtype), self.mean, self.std)

    def __repr__(self) -> str:
        return f"EvalTransform(mean={self.mean}, std={self.std})"
