"""Line datasets made of real MNIST digits: single digits (a class each) and digit strings (CTC).

Digits are drawn dark on white like ink on paper. A string holds 1-10 digits, each shifted up or
down a little and placed after the previous one with a random gap, negative gaps making
neighbours overlap, so reading it needs segmentation and context, not one glimpse per digit.

>>> x, y = load_mnist("../shared/data/mnist.npz", "train")   # doctest: +SKIP
>>> write_digit_strings(x[:5000], y[:5000], "data/mnist-seq/train", 4000, seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from seqvision.data.mnist import load_mnist
from seqvision.io import atomic_write_text

__all__ = ["digit_string", "load_mnist", "write_digit_strings", "write_digits"]


def _save(folder: Path, name: str, ink: np.ndarray) -> None:
    Image.fromarray(255 - ink).save(folder / name)  # white background, dark ink


def write_digits(x: np.ndarray, y: np.ndarray, out: str | Path, *, rows_as_steps: bool = True) -> Path:
    """One image per digit + ``labels.tsv`` (class = the digit); ``rows_as_steps`` transposes the digit so
    the encoder's time axis (left to right) runs over its rows, top to bottom."""
    folder = Path(out)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (img, label) in enumerate(zip(x, y, strict=True)):
        name = f"images/{i:06d}.png"
        _save(folder, name, img.T if rows_as_steps else img)
        rows.append(f"{name}\t{int(label)}")
    atomic_write_text(folder / "labels.tsv", "\n".join(rows) + "\n")
    return folder / "labels.tsv"


def digit_string(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator, max_digits: int = 10
) -> tuple[np.ndarray, str]:
    """A ``(32, W)`` ink image of 1..``max_digits`` random digits with random gaps/overlaps, and its text."""
    count = int(rng.integers(1, max_digits + 1))
    picks = rng.integers(0, len(x), count)
    gaps = rng.integers(-8, 11, count)  # pixels between neighbours; negative: they overlap
    width = 4 + sum(28 + int(g) for g in gaps[1:]) + 28 + 4
    canvas = np.zeros((32, max(width, 36)), dtype=np.uint8)
    left = 4
    for k, i in enumerate(picks):
        if k:
            left += 28 + int(gaps[k])
        top = int(rng.integers(0, 5))
        region = canvas[top : top + 28, left : left + 28]
        np.maximum(region, x[i], out=region)  # overlapping strokes merge like ink
    return canvas, "".join(str(int(y[i])) for i in picks)


def write_digit_strings(
    x: np.ndarray, y: np.ndarray, out: str | Path, count: int, *, seed: int = 0, max_digits: int = 10
) -> Path:
    """``count`` digit-string images + ``labels.tsv`` (the digits as text) made of the digits ``x``."""
    folder = Path(out)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        ink, text = digit_string(x, y, rng, max_digits)
        name = f"images/{i:06d}.png"
        _save(folder, name, ink)
        rows.append(f"{name}\t{text}")
    atomic_write_text(folder / "labels.tsv", "\n".join(rows) + "\n")
    return folder / "labels.tsv"
