"""Character alphabet for CTC: index 0 is the blank, characters start at 1."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


class Alphabet:
    """Maps characters to class indices and back.

    >>> a = Alphabet.from_texts(["ab", "ba c"])
    >>> a.encode("cab"), a.decode([3, 1, 2])
    ([4, 2, 3], 'b a')
    """

    BLANK = 0

    def __init__(self, chars: Iterable[str]):
        self.chars = list(chars)
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("alphabet has duplicate characters")
        self.index = {c: i + 1 for i, c in enumerate(self.chars)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Alphabet:
        return cls(sorted(set().union(*map(set, texts))))

    def __len__(self) -> int:
        """Number of classes including the blank."""
        return len(self.chars) + 1

    def unknown(self, texts: Iterable[str]) -> Counter[str]:
        """Characters of ``texts`` the alphabet lacks, with counts."""
        return Counter(c for t in texts for c in t if c not in self.index)

    def encode(self, text: str) -> list[int]:
        """Class indices of the known characters of ``text`` (unknown ones are dropped)."""
        return [self.index[c] for c in text if c in self.index]

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.chars[i - 1] for i in ids if i > 0)

    def case_pairs(self) -> list[tuple[int, int]]:
        """``(lower, upper)`` class indices of every letter whose two cases are both in the alphabet.

        >>> Alphabet(["A", "a", "b", "1"]).case_pairs()
        [(2, 1)]
        """
        return [(i, self.index[c.upper()]) for c, i in self.index.items() if c.upper() != c and c.upper() in self.index]

    def fold_case(self, text: str) -> str:
        """``text`` with each letter of a :meth:`case_pairs` pair in upper case; other characters unchanged.

        >>> Alphabet(["A", "a", "b"]).fold_case("Aab!")
        'AAb!'
        """
        upper = {c: c.upper() for c in self.index if c.upper() != c and c.upper() in self.index}
        return "".join(upper.get(c, c) for c in text)
