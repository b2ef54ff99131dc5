"""Contracts of the compiled beam search: the same paths, scores and confidences as flashlight + the Python LM."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seqvision.tasks.lines.decoding.lm import BOS, NgramLM

CORPUS = ["the cat sat on the mat", "a cat and a hat", "the cat ate", "my cat is fat", "that cat sat"] * 4


@pytest.mark.parametrize("order", [3, 5, 6])
def test_short_contexts_are_not_cut_further(order: int) -> None:
    """A context shorter than ``order - 1`` is used whole: ``p(w | <s> t h)`` of a 5-gram is the stored 4-gram."""
    lm = NgramLM.build(CORPUS, order=order, unit="char")
    for n in range(2, order + 1):
        for gram, log10p in lm.probs[n - 1].items():
            if gram[0] == BOS:
                assert lm.logprob(gram[:-1], gram[-1]) == pytest.approx(log10p * math.log(10.0), abs=1e-12), gram
