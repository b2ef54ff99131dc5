"""MNIST from an ``mnist.npz``: digits for the image-class and digit-string suites and for Moving MNIST."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqvision.errors import DataError
from seqvision.io import load_npz


def load_mnist(path: str | Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """``(N, 28, 28)`` uint8 digits and ``(N,)`` labels of an ``mnist.npz`` (``x_train``/``y_train``, ...)."""
    path = Path(path)
    x, y = load_npz(path, (f"x_{split}", f"y_{split}"), "an mnist.npz with x_train, y_train, x_test, y_test")
    if x.ndim != 3 or len(x) != len(y) or len(x) == 0:
        raise DataError(f"{path}: x_{split} must be (N, H, W) with one label per image, got {x.shape}, {y.shape}")
    return x.astype(np.uint8), y.astype(np.int64)
