"""Character and word error rates (edit distance, micro-averaged over a dataset)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance between two sequences.

    >>> edit_distance("kitten", "sitting")
    3
    """
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


@dataclass
class ErrorRates:
    """Accumulates edits and reference lengths; CER/WER = total edits / total reference length."""

    char_edits: int = 0
    chars: int = 0
    word_edits: int = 0
    words: int = 0
    lines: int = 0

    def update(self, prediction: str, reference: str) -> None:
        self.char_edits += edit_distance(prediction, reference)
        self.chars += len(reference)
        self.word_edits += edit_distance(prediction.split(), reference.split())
        self.words += len(reference.split())
        self.lines += 1

    @property
    def cer(self) -> float:
        return self.char_edits / max(self.chars, 1)

    @property
    def wer(self) -> float:
        return self.word_edits / max(self.words, 1)
