"""Image transforms written with numpy/torch (no torchvision).

Pixel values: uint8 grey levels in, float32 out. Normalisation subtracts the training
set's mean of pixel/255 and divides by its standard deviation: MNIST 0.1307 / 0.3081 (the
usual values), Fashion-MNIST 0.2860 / 0.3530 (computed from the 60,000 training images of
Xiao, Rasul & Vollgraf 2017: 0.286041 / 0.353024, population standard deviation over all
pixels).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["MNIST_MEAN", "MNIST_STD", "FASHION_MNIST_MEAN", "FASHION_MNIST_STD", "ROTATION_MODES", "to_float",
           "normalise", "normalise_mnist", "rotate", "permutations"]

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530
#: interpolations :func:`rotate` offers
ROTATION_MODES = ("nearest", "bilinear")


def to_float(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W) -> float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).to(torch.float32) / 255.0


def normalise(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """Standardise [0, 1] pixels: ``(x - mean) / std`` (mean, std of pixel/255)."""
    return (x - mean) / std


def normalise_mnist(x: torch.Tensor) -> torch.Tensor:
    """Standardise [0, 1] pixels with the MNIST mean and standard deviation."""
    return normalise(x, MNIST_MEAN, MNIST_STD)


def rotate(x: torch.Tensor, degrees: float, mode: str = "nearest") -> torch.Tensor:
    """Rotate images (N, H, W) counter-clockwise (as displayed, row 0 on top) by ``degrees``.

    The centre of rotation is the centre of the image: pixel index ((W-1)/2, (H-1)/2),
    i.e. (W/2, H/2) when pixel i covers [i, i+1] (13.5 / 14 for 28x28), the centre PIL
    and torchvision's ``rotate`` use by default. Pixels coming from outside the image are 0
    (background). ``mode``: ``"nearest"`` takes the input pixel nearest to each rotated
    sample point, so the output holds only input values (and 0); it equals torchvision's
    ``rotate`` of a PIL image with its default nearest interpolation, the authors' Rotated
    MNIST. ``"bilinear"`` interpolates between the four nearest pixels. A rotation by a
    multiple of 360 degrees returns a copy of the input.
    """
    if mode not in ROTATION_MODES:
        raise ValueError(f"rotation mode must be one of {', '.join(ROTATION_MODES)}, got {mode!r}")
    if degrees % 360 == 0:
        return x.clone()
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    # affine_grid maps output coordinates to input ones: use the inverse rotation
    # (normalised coordinates: -1 and 1 are the outer edges, 0 the centre, y pointing down)
    theta = torch.tensor([[c, -s, 0.0], [s, c, 0.0]], dtype=torch.float32)
    theta = theta.unsqueeze(0).expand(x.shape[0], 2, 3)
    grid = F.affine_grid(theta, (x.shape[0], 1, *x.shape[1:]), align_corners=False)
    out = F.grid_sample(x.unsqueeze(1), grid, mode=mode, padding_mode="zeros", align_corners=False)
    return out.squeeze(1)


def permutations(n_pixels: int, count: int, seed: int = 42) -> list:
    """``count`` fixed pixel permutations from ``numpy.random.RandomState(seed)``.

    The authors draw their Permuted-MNIST permutations p1, p2 from RandomState(42).
    """
    rng = np.random.RandomState(seed)
    return [rng.permutation(n_pixels) for _ in range(count)]
