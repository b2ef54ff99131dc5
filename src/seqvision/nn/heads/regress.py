"""Per-step regression head: every step's features -> a vector of real values (no pooling, no softmax).

Sounds for silent video (Owens et al. 2016) regress sound features for each video frame; the
task decides the loss (L1 or L2) and how the ``K`` outputs of a step are laid out (e.g. several
sound frames of ``M`` mel bands each). Steps past a sequence's length are zeroed.
"""

from __future__ import annotations

from torch import Tensor, nn

from seqvision.config import HeadConfig
from seqvision.nn.masking import mask_steps
from seqvision.registry import HEADS


class RegressHead(nn.Module):
    def __init__(self, in_channels: int, outputs: int, hidden: int, dropout: float):
        super().__init__()
        dense: list[nn.Module] = [nn.Linear(in_channels, hidden), nn.ReLU(inplace=True)] if hidden > 0 else []
        self.mlp = nn.Sequential(nn.Dropout(dropout), *dense, nn.Linear(hidden or in_channels, outputs))

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        return mask_steps(self.mlp(x), lengths)  # (B, T, C) -> (B, T, K), padding steps zero


@HEADS.register("regress")
def regress(cfg: HeadConfig, in_channels: int, num_classes: int) -> nn.Module:
    """Per-step regression: dense(head.hidden, ReLU; 0: none) -> ``num_classes`` real values per step."""
    return RegressHead(in_channels, num_classes, cfg.hidden, cfg.dropout)
