"""Transformer encoder with sinusoidal positions and a key-padding mask.

Written out instead of ``nn.TransformerEncoderLayer``: ``nn.MultiheadAttention`` bakes the traced
sequence length into a reshape when exported to ONNX (pytorch/pytorch#117209), and these few lines
export with dynamic widths.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqvision.config import SequenceConfig
from seqvision.nn.masking import length_mask, mask_steps
from seqvision.nn.sequence.base import SequenceModel
from seqvision.registry import SEQUENCES


def sinusoid(length: int, dim: int, device: torch.device) -> Tensor:
    """``(length, dim)`` fixed positional encoding (Vaswani et al. 2017)."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return pe


class Block(nn.Module):
    """Pre-norm self-attention + feed-forward, each residual; padded keys are never attended to."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ff, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, valid: Tensor) -> Tensor:
        q, k, v = self.qkv(self.norm1(x)).unflatten(-1, (3, self.heads, -1)).permute(2, 0, 3, 1, 4)  # 3 x (B, H, T, D)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=valid[:, None, None, :], dropout_p=p)  # (B, H, T, D)
        x = x + self.drop(self.out(y.transpose(1, 2).flatten(2)))  # (B, H, T, D) -> (B, T, C)
        return x + self.drop(self.ff(self.norm2(x)))


class Transformer(SequenceModel):
    def __init__(self, in_channels: int, cfg: SequenceConfig):
        super().__init__()
        if cfg.hidden % cfg.heads:
            raise ValueError(f"sequence.hidden ({cfg.hidden}) must be divisible by sequence.heads ({cfg.heads})")
        self.in_channels, self.out_channels = in_channels, cfg.hidden
        self.proj = nn.Linear(in_channels, cfg.hidden)
        self.blocks = nn.ModuleList(
            Block(cfg.hidden, cfg.heads, 2 * cfg.hidden, cfg.dropout) for _ in range(cfg.layers)
        )
        self.norm = nn.LayerNorm(cfg.hidden)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        x = self.proj(x)
        x = x + sinusoid(x.shape[1], x.shape[2], x.device)
        valid = length_mask(lengths, x.shape[1])  # (B, T), True on real steps
        for block in self.blocks:
            x = block(x, valid)
        return mask_steps(self.norm(x), lengths)


@SEQUENCES.register("transformer")
def transformer(cfg: SequenceConfig, in_channels: int) -> SequenceModel:
    """Transformer encoder (pre-norm, sequence.heads heads), padding masked out of attention."""
    return Transformer(in_channels, cfg)
