"""CTC head: per-step class log-probabilities (class 0 is the CTC blank)."""

from __future__ import annotations

from torch import Tensor, nn

from seqvision.config import HeadConfig
from seqvision.registry import HEADS


class CTCHead(nn.Module):
    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.proj = nn.Linear(in_channels, num_classes)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        # (B, T, C) -> (B, T, K) log-probabilities
        return self.proj(x).log_softmax(-1)


@HEADS.register("ctc")
def ctc(cfg: HeadConfig, in_channels: int, num_classes: int) -> nn.Module:
    """Per-step log-probabilities for CTC (blank = 0): text lines, digit strings."""
    return CTCHead(in_channels, num_classes)
