"""Classification head: temporal pooling over valid steps -> class logits."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqvision.config import HeadConfig
from seqvision.nn.masking import length_mask
from seqvision.registry import HEADS


class ClassifyHead(nn.Module):
    def __init__(self, in_channels: int, num_classes: int, pooling: str):
        super().__init__()
        if pooling not in ("mean", "max", "last"):
            raise ValueError(f"head.pooling must be mean, max or last, not {pooling!r}")
        self.pooling = pooling
        self.proj = nn.Linear(in_channels, num_classes)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        return self.proj(pool_steps(x, lengths, self.pooling))  # (B, K)


def pool_steps(x: Tensor, lengths: Tensor, pooling: str) -> Tensor:
    """``(B, T, C)`` -> ``(B, C)``: the mean, max or last of each sequence's valid steps (padding never read)."""
    mask = length_mask(lengths, x.shape[1])[:, :, None]  # (B, T, 1)
    if pooling == "mean":
        return (x * mask).sum(1) / lengths.clamp(min=1)[:, None].to(x.dtype)
    if pooling == "max":
        return x.masked_fill(~mask, float("-inf")).amax(1)
    return x[torch.arange(x.shape[0], device=x.device), (lengths - 1).clamp(min=0)]  # the last valid step


@HEADS.register("classify")
def classify(cfg: HeadConfig, in_channels: int, num_classes: int) -> nn.Module:
    """Pool valid steps (head.pooling = mean | max | last) -> class logits: clips, digits, sequences."""
    return ClassifyHead(in_channels, num_classes, cfg.pooling)
