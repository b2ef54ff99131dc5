"""Embedding head for metric learning: pooled valid steps -> linear -> batch norm -> unit-length vector.

The model ends with the embedding itself; what it is trained against (a triplet loss, or an
ArcFace classifier over the training identities) belongs to the task, so the saved and exported
network is the same whichever loss trained it.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from seqvision.config import HeadConfig
from seqvision.nn.heads.classify import pool_steps
from seqvision.registry import HEADS


class EmbedHead(nn.Module):
    def __init__(self, in_channels: int, dim: int, pooling: str):
        super().__init__()
        if pooling not in ("mean", "max", "last"):
            raise ValueError(f"head.pooling must be mean, max or last, not {pooling!r}")
        self.pooling = pooling
        self.proj = nn.Linear(in_channels, dim, bias=False)
        self.norm = nn.BatchNorm1d(dim)  # centres the features: without it they share one direction and collapse

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        pooled = pool_steps(x, lengths, self.pooling)  # (B, T, C) -> (B, C)
        return F.normalize(self.norm(self.proj(pooled)), dim=-1)  # (B, C) -> (B, D), unit length


@HEADS.register("embed")
def embed(cfg: HeadConfig, in_channels: int, num_classes: int) -> nn.Module:
    """Metric learning: pool valid steps -> linear -> batch norm -> L2-normalised embedding, num_classes dims (gait)."""
    return EmbedHead(in_channels, num_classes, cfg.pooling)
