"""Moving MNIST (Srivastava et al. 2015) generated from real MNIST digits: 2 digits bouncing in 64x64.

Each sequence is a pure function of ``(seed, index)``, so a data set of any size costs no memory
and the fixed-seed test set is the same on every machine. Digits start anywhere in the frame,
move in a random direction at 2-5 pixels per frame and bounce off the borders; overlapping digits
combine by their maximum. Training and validation digits come from ``x_train`` (disjoint halves),
the test set from ``x_test`` (:func:`test_set`).

>>> digits = np.full((3, 28, 28), 255, np.uint8)
>>> moving_mnist_sequence(digits, 20, seed=0).shape
(20, 64, 64)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

SIZE, DIGITS, FRAMES = 64, 2, 20
TEST_SEED = 2015  # the fixed test set: x_test digits, this seed
VAL_DIGITS = 5000  # the last x_train digits are kept for validation sequences


def moving_mnist_sequence(
    digits: np.ndarray, frames: int, seed: int, size: int = SIZE, num_digits: int = DIGITS
) -> np.ndarray:
    """One ``(frames, size, size)`` uint8 sequence drawn from ``digits`` ``(N, 28, 28)``."""
    rng = np.random.default_rng(seed)
    side = digits.shape[-1]
    room = size - side
    out = np.zeros((frames, size, size), np.uint8)
    for _ in range(num_digits):
        digit = digits[rng.integers(len(digits))]
        pos = rng.uniform(0, room, 2)  # (y, x)
        angle = rng.uniform(0, 2 * np.pi)
        vel = rng.uniform(2, 5) * np.array([np.sin(angle), np.cos(angle)])
        for t in range(frames):
            y, x = np.round(pos).astype(int)
            np.maximum(out[t, y : y + side, x : x + side], digit, out=out[t, y : y + side, x : x + side])
            pos = pos + vel
            for k in range(2):  # bounce: reflect the position and reverse the velocity
                if pos[k] < 0 or pos[k] > room:
                    pos[k] = -pos[k] if pos[k] < 0 else 2 * room - pos[k]
                    vel[k] = -vel[k]
    return out


class MovingMnist(Dataset):
    """``n`` sequences split into ``frames_in`` inputs and ``frames_out`` targets, intensities in [0, 1].

    ``fresh`` (training): every item is a new sequence drawn from torch's random state (seeded by
    the trainer, so a run is reproducible), so each epoch of ``n`` items shows new motions;
    otherwise item ``i`` is always the same sequence.
    """

    def __init__(
        self, digits: np.ndarray, n: int, seed: int, frames_in: int = 10, frames_out: int = 10, fresh: bool = False
    ):
        self.digits, self.n, self.seed, self.fresh = digits, n, seed, fresh
        self.frames_in, self.frames_out = frames_in, frames_out

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        seed = int(torch.randint(0, 2**62, ())) if self.fresh else self.seed * 1_000_003 + i
        seq = moving_mnist_sequence(self.digits, self.frames_in + self.frames_out, seed=seed)
        frames = torch.from_numpy(seq).float().div_(255).unsqueeze(1)  # (T, 1, 64, 64)
        target = frames[self.frames_in :]
        return {"inputs": frames[: self.frames_in], "targets": target, "mask": torch.ones_like(target)}


def train_val(path: str | Path, n: int, seed: int, frames_in: int, frames_out: int) -> tuple[MovingMnist, MovingMnist]:
    """Fresh training sequences (n per epoch) of the first 55,000 x_train digits; validation (n/10): the last 5,000."""
    from seqvision.data.mnist import load_mnist

    x, _ = load_mnist(path, "train")
    train = MovingMnist(x[:-VAL_DIGITS], n, seed, frames_in, frames_out, fresh=True)
    val = MovingMnist(x[-VAL_DIGITS:], max(n // 10, 1), seed + 1, frames_in, frames_out)
    return train, val


def test_set(path: str | Path, n: int = 1000, frames_in: int = 10, frames_out: int = 10) -> MovingMnist:
    """The fixed-seed test set: ``n`` sequences of ``x_test`` digits (seed :data:`TEST_SEED`)."""
    from seqvision.data.mnist import load_mnist

    x, _ = load_mnist(path, "test")
    return MovingMnist(x, n, TEST_SEED, frames_in, frames_out)
