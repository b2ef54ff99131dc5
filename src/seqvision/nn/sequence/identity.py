"""``none``: a real identity module, so "no sequence model" is one more registry entry."""

from __future__ import annotations

from torch import Tensor

from seqvision.config import SequenceConfig
from seqvision.nn.masking import mask_steps
from seqvision.nn.sequence.base import SequenceModel
from seqvision.registry import SEQUENCES


class Identity(SequenceModel):
    def __init__(self, in_channels: int):
        super().__init__()
        self.in_channels = self.out_channels = in_channels

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        return mask_steps(x, lengths)


@SEQUENCES.register("none")
def none(cfg: SequenceConfig, in_channels: int) -> SequenceModel:
    """No sequence model: the head reads the CNN features directly (the CNN-only baseline)."""
    return Identity(in_channels)
