"""Transformer encoder with sinusoidal positions and a key-padding mask."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from seqvision.config import SequenceConfig
from seqvision.masking import length_mask, mask_steps
from seqvision.registry import SEQUENCES
from seqvision.sequence.base import SequenceModel


def sinusoid(length: int, dim: int, device: torch.device) -> Tensor:
    """``(length, dim)`` fixed positional encoding (Vaswani et al. 2017)."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return pe


class Transformer(SequenceModel):
    def __init__(self, in_channels: int, cfg: SequenceConfig):
        super().__init__()
        if cfg.hidden % cfg.heads:
            raise ValueError(f"sequence.hidden ({cfg.hidden}) must be divisible by sequence.heads ({cfg.heads})")
        self.in_channels, self.out_channels = in_channels, cfg.hidden
        self.proj = nn.Linear(in_channels, cfg.hidden)
        layer = nn.TransformerEncoderLayer(
            cfg.hidden, cfg.heads, 2 * cfg.hidden, cfg.dropout, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.hidden)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        x = self.proj(x)
        x = x + sinusoid(x.shape[1], x.shape[2], x.device)
        x = self.encoder(x, src_key_padding_mask=~length_mask(lengths, x.shape[1]))
        return mask_steps(self.norm(x), lengths)


@SEQUENCES.register("transformer")
def transformer(cfg: SequenceConfig, in_channels: int) -> SequenceModel:
    """Transformer encoder (pre-norm, sequence.heads heads), padding masked out of attention."""
    return Transformer(in_channels, cfg)
