"""Image transforms written with numpy/torch (no torchvision).

Pixel values: uint8 grey levels in, float32 out. MNIST normalisation uses the usual
mean 0.1307 and standard deviation 0.3081 of pixel/255.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["MNIST_MEAN", "MNIST_STD", "to_float", "normalise_mnist", "rotate", "permutations"]

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def to_float(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W) -> float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).to(torch.float32) / 255.0


def normalise_mnist(x: torch.Tensor) -> torch.Tensor:
    """Standardise [0, 1] pixels with the MNIST mean and standard deviation."""
    return (x - MNIST_MEAN) / MNIST_STD


def rotate(x: torch.Tensor, degrees: float) -> torch.Tensor:
    """Rotate images (N, H, W) in [0, 1] counter-clockwise about their centre.

    Bilinear interpolation; pixels coming from outside the image are 0 (background).
    A rotation by 0 degrees returns the input unchanged.
    """
    if degrees % 360 == 0:
        return x.clone()
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    # affine_grid maps output coordinates to input ones: use the inverse rotation
    theta = torch.tensor([[c, -s, 0.0], [s, c, 0.0]], dtype=torch.float32)
    theta = theta.unsqueeze(0).expand(x.shape[0], 2, 3)
    grid = F.affine_grid(theta, (x.shape[0], 1, *x.shape[1:]), align_corners=False)
    out = F.grid_sample(x.unsqueeze(1), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.squeeze(1)


def permutations(n_pixels: int, count: int, seed: int = 42) -> list:
    """``count`` fixed pixel permutations from ``numpy.random.RandomState(seed)``.

    The authors draw their Permuted-MNIST permutations p1, p2 from RandomState(42).
    """
    rng = np.random.RandomState(seed)
    return [rng.permutation(n_pixels) for _ in range(count)]
