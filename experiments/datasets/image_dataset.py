"""In-memory image classification dataset returned by every loader in this package."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ImageDataset"]


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """Train and test images with integer labels, held as numpy arrays.

    Parameters
    ----------
    name : str
        ``"cifar10"``, ``"cifar100"`` or ``"miniimagenet"``.
    train_images, test_images : ndarray of uint8, shape (N, C, H, W)
        Raw pixel values 0-255, channels first.  Conversion to float,
        augmentation and normalisation happen later, in torch
        (:mod:`lcne.experiments.augment`).
    train_labels, test_labels : ndarray of int64, shape (N,)
        Class index per image, ``0 <= label < len(class_names)``.
    class_names : tuple of str
        Name of each class index (CIFAR-100: the fine label names;
        mini-ImageNet: the ImageNet synset ids, e.g. ``"n01532829"``).
    coarse_names : tuple of str, optional
        CIFAR-100 superclass names.
    train_coarse_labels, test_coarse_labels : ndarray of int64, optional
        CIFAR-100 superclass index per image.
    source : str
        Directory the data were read from (for messages and provenance).
    """

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: tuple[str, ...]
    coarse_names: tuple[str, ...] | None = None
    train_coarse_labels: np.ndarray | None = None
    test_coarse_labels: np.ndarray | None = None
    source: str = field(default="")

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            images = getattr(self, f"{split}_images")
            labels = getattr(self, f"{split}_labels")
            if images.dtype != np.uint8 or images.ndim != 4:
                raise ValueError(f"{split}_images must be uint8 (N, C, H, W), got {images.dtype} {images.shape}")
            if labels.shape != (images.shape[0],):
                raise ValueError(f"{split}_labels has shape {labels.shape}, expected ({images.shape[0]},)")
        if self.train_images.shape[1:] != self.test_images.shape[1:]:
            raise ValueError("train and test images differ in shape")

    @property
    def n_classes(self) -> int:
        """Number of class indices (length of :attr:`class_names`)."""
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        c, h, w = self.train_images.shape[1:]
        return int(c), int(h), int(w)

    def __repr__(self) -> str:
        return (
            f"ImageDataset(name={self.name!r}, train={self.train_images.shape[0]}, "
            f"test={self.test_images.shape[0]}, image_shape={self.image_shape}, "
            f"n_classes={self.n_classes}, source={self.source!r})"
        )
