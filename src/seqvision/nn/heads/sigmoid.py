"""Sigmoid head for binary and multi-label targets: pooled steps -> dense -> one logit per label.

DanQ flattens its fixed 1000-bp window into a dense layer; pooling over the valid steps instead
keeps sequences of any length (and the padding out). The head returns logits; the task applies
the sigmoid (binary cross-entropy with logits is the numerically stable form).
"""

from __future__ import annotations

from torch import Tensor, nn

from seqvision.config import HeadConfig
from seqvision.nn.heads.classify import pool_steps
from seqvision.registry import HEADS


class SigmoidHead(nn.Module):
    def __init__(self, in_channels: int, num_labels: int, pooling: str, hidden: int, dropout: float):
        super().__init__()
        if pooling not in ("mean", "max", "last"):
            raise ValueError(f"head.pooling must be mean, max or last, not {pooling!r}")
        self.pooling = pooling
        dense: list[nn.Module] = [nn.Linear(in_channels, hidden), nn.ReLU(inplace=True)] if hidden > 0 else []
        self.mlp = nn.Sequential(nn.Dropout(dropout), *dense, nn.Linear(hidden or in_channels, num_labels))

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        return self.mlp(pool_steps(x, lengths, self.pooling))  # (B, T, C) -> (B, C) -> (B, K) logits


@HEADS.register("sigmoid")
def sigmoid(cfg: HeadConfig, in_channels: int, num_classes: int) -> nn.Module:
    """Binary / multi-label: pool valid steps -> dense(head.hidden, ReLU) -> one logit per label (BCE)."""
    return SigmoidHead(in_channels, num_classes, cfg.pooling, cfg.hidden, cfg.dropout)
