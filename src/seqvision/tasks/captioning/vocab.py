"""Word vocabulary for captions: built from the training captions, saved in the model's metadata.

Captions are lower-cased and split into words (letters, digits, inner apostrophes); punctuation
is dropped. Words seen fewer than ``min_count`` times map to ``<unk>``.

>>> vocab = Vocabulary.build(["A dog runs .", "a dog sits", "A cat"], min_count=2)
>>> vocab.encode("a cat runs")
[4, 3, 3]
>>> vocab.decode(vocab.encode("a dog"))
'a dog'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)  # indices 0..3
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(caption: str) -> list[str]:
    """Lower-cased words without punctuation: the tokenisation of training, decoding and the metrics."""
    return WORD.findall(caption.lower())


class Vocabulary:
    """Words <-> indices; ``words[:4]`` are ``<pad> <bos> <eos> <unk>``."""

    pad, bos, eos, unk = range(4)

    def __init__(self, words: list[str]):
        if tuple(words[:4]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {' '.join(SPECIALS)}")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, captions: Iterable[str], min_count: int = 1) -> Vocabulary:
        """Words of ``captions`` seen at least ``min_count`` times, most frequent first (ties alphabetical)."""
        counts = Counter(w for c in captions for w in tokenize(c))
        kept = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
        return cls([*SPECIALS, *kept])

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, caption: str) -> list[int]:
        return [self.index.get(w, self.unk) for w in tokenize(caption)]

    def decode(self, ids: Iterable[int]) -> str:
        """Words up to the first ``<eos>``; ``<pad>`` and ``<bos>`` are dropped."""
        out = []
        for i in ids:
            if i == self.eos:
                break
            if i not in (self.pad, self.bos):
                out.append(self.words[i])
        return " ".join(out)
