"""Clip classification scores: the confusion matrix, accuracy and per-class accuracy."""

from __future__ import annotations

from collections.abc import Sequence


class Confusion:
    """Counts of (true class, predicted class): accuracy, per-class accuracy (recall) and the matrix.

    >>> c = Confusion(["left", "right"]); c.update([0, 1, 1], [0, 0, 1]); round(c.accuracy, 3)
    0.667
    """

    def __init__(self, labels: list[str]):
        self.labels = list(labels)
        self.matrix = [[0] * len(labels) for _ in labels]  # matrix[true][predicted]

    def update(self, truth: Sequence[int], predicted: Sequence[int]) -> None:
        for t, p in zip(truth, predicted, strict=True):
            self.matrix[int(t)][int(p)] += 1

    @property
    def total(self) -> int:
        return sum(map(sum, self.matrix))

    @property
    def accuracy(self) -> float:
        return sum(self.matrix[i][i] for i in range(len(self.labels))) / max(self.total, 1)

    def per_class(self) -> dict[str, float | None]:
        """Accuracy of each class over its own clips; ``None`` for a class with no clips."""
        return {
            label: (row[i] / sum(row) if sum(row) else None)
            for i, (label, row) in enumerate(zip(self.labels, self.matrix, strict=True))
        }
