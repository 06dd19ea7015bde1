"""Datasets: the embedded MNIST subset and loaders for the standard MNIST IDX files."""
from experiments.data.mnist import ImageSet, load_embedded_mnist, load_mnist, load_mnist_idx, save_mnist_idx

__all__ = ["ImageSet", "load_embedded_mnist", "load_mnist", "load_mnist_idx", "save_mnist_idx"]
