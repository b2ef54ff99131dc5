"""Emotion scores: accuracy and unweighted average recall (UAR, the EmotiW measure) from a confusion matrix.

UAR is the mean of the per-class recalls over the classes that occur, so a model that always says
the most frequent emotion scores 1/K however unbalanced the data is.

>>> m = confusion([0, 0, 0, 1], [0, 0, 0, 0], 2)
>>> accuracy(m), uar(m)
(0.75, 0.5)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion(truth: Sequence[int], predicted: Sequence[int], classes: int) -> np.ndarray:
    """``(K, K)`` counts, ``[true, predicted]``."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(truth, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return matrix


def accuracy(matrix: np.ndarray) -> float:
    return float(np.trace(matrix) / max(int(matrix.sum()), 1))


def recalls(matrix: np.ndarray) -> list[float | None]:
    """Each class's recall over its own clips; None for a class with none."""
    rows = matrix.sum(1)
    return [float(matrix[i, i] / n) if n else None for i, n in enumerate(rows)]


def uar(matrix: np.ndarray) -> float:
    present = [r for r in recalls(matrix) if r is not None]
    return float(np.mean(present)) if present else 0.0
