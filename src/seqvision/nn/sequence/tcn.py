"""Temporal convolutional network: dilated residual 1-D conv blocks (Bai et al. 2018), causal or not."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from seqvision.config import SequenceConfig
from seqvision.nn.masking import mask_steps
from seqvision.nn.sequence.base import SequenceModel
from seqvision.registry import SEQUENCES


class TemporalBlock(nn.Module):
    """Two dilated convs with ReLU and dropout, plus the residual; padding keeps the length."""

    def __init__(self, channels: int, kernel: int, dilation: int, causal: bool, dropout: float):
        super().__init__()
        total = (kernel - 1) * dilation
        self.pad = (total, 0) if causal else (total // 2, total - total // 2)
        self.conv1 = nn.Conv1d(channels, channels, kernel, dilation=dilation)
        self.conv2 = nn.Conv1d(channels, channels, kernel, dilation=dilation)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        # x: (B, T, C); convs run on (B, C, T)
        h = self.drop(F.relu(self.conv1(F.pad(x.transpose(1, 2), self.pad))))
        h = mask_steps(h.transpose(1, 2), lengths)
        h = self.drop(F.relu(self.conv2(F.pad(h.transpose(1, 2), self.pad))))
        return mask_steps(F.relu(x + h.transpose(1, 2)), lengths)


class TCN(SequenceModel):
    def __init__(self, in_channels: int, cfg: SequenceConfig):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, cfg.hidden
        self.proj = nn.Linear(in_channels, cfg.hidden)
        self.blocks = nn.ModuleList(
            TemporalBlock(cfg.hidden, cfg.kernel_size, 2**i, cfg.causal, cfg.dropout) for i in range(cfg.layers)
        )

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        x = mask_steps(self.proj(x), lengths)
        for block in self.blocks:
            x = block(x, lengths)
        return x


@SEQUENCES.register("tcn")
def tcn(cfg: SequenceConfig, in_channels: int) -> SequenceModel:
    """TCN: sequence.layers dilated residual blocks (dilation 1, 2, 4, ...); sequence.causal for online use."""
    return TCN(in_channels, cfg)
