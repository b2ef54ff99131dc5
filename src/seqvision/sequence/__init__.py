"""Sequence models: ``(B, T, C)`` + lengths -> ``(B, T, C')``. Importing registers them."""

from seqvision.sequence import identity, rnn, tcn, transformer  # noqa: F401
from seqvision.sequence.base import SequenceModel

__all__ = ["SequenceModel"]
