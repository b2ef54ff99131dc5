"""Character and word error rates (edit distance, micro-averaged over a dataset).

The edit distance is rapidfuzz's Levenshtein (C++, the ``[text]`` extra) where it is installed,
and a pure-Python version of the same definition where it is not, so CER never goes missing;
both give the same integers (``tests/test_edit_distance.py``). ``benchmarks/edit_distance.py``
measures the difference in speed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

_rapidfuzz: Callable[..., int] | None
try:
    from rapidfuzz.distance.Levenshtein import distance as _rapidfuzz
except ImportError:  # the [text] extra is missing: the pure-Python fallback below
    _rapidfuzz = None


def python_edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Levenshtein distance by dynamic programming in Python: the fallback, and rapidfuzz's reference in tests.

    >>> python_edit_distance("kitten", "sitting")
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


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Levenshtein distance between two strings, or two sequences of hashable items (words).

    >>> edit_distance("kitten", "sitting"), edit_distance("a cat sat".split(), "the cat sat".split())
    (3, 1)
    """
    if _rapidfuzz is None:
        return python_edit_distance(a, b)
    return int(_rapidfuzz(a, b))


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
