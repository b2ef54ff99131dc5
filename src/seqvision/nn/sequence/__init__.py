"""Sequence models: ``(B, T, C)`` + lengths -> ``(B, T, C')``; spatial ones (ConvLSTM): ``(B, T, C, H, W)`` maps.

Importing registers them (``SEQUENCES``, ``SPATIAL_SEQUENCES``).
"""

from seqvision.nn.sequence import convlstm, identity, rnn, tcn, transformer  # noqa: F401
from seqvision.nn.sequence.base import SequenceModel

__all__ = ["SequenceModel"]
