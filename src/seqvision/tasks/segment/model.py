"""The page segmenter's network: a small U-Net whose bottleneck rows can run through a BiLSTM.

``(B, 1, H, W)`` page -> ``(B, 2, H/2, W/2)`` logits of two maps: the baseline of every text line
(a band about two map pixels thick) and the line's area (its polygon), as kraken's blla predicts
baselines and regions. The downward path halves the resolution four times (16-32-64-128 channels
by default); at 1/16 the ``sequence`` slot either does nothing (``none``) or reads each row of
the map left to right and back with a bidirectional LSTM (``lstm``), so a line's evidence
travels along the line across gaps between words, beyond the convolutions' reach: the CNN + RNN
question again, for pages. Upsampling adds the skip connections back (U-Net) up to 1/2.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqvision.config import ModelConfig
from seqvision.errors import ConfigError
from seqvision.nn.encoders.base import ConvBNAct, channel_widths

MAPS = ("baseline", "region")  # the output channels, in order
STRIDE = 2  # page pixels per map pixel, at the network's input resolution
MULTIPLE = 16  # input sides must be multiples of this (the predictor pads)


class RowLSTM(nn.Module):
    """A BiLSTM over each row of a feature map, added to its input: ``(B, C, H, W)`` -> same shape."""

    def __init__(self, channels: int, layers: int = 1):
        super().__init__()
        self.rnn = nn.LSTM(channels, channels // 2, num_layers=layers, batch_first=True, bidirectional=True)

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        rows = x.permute(0, 2, 3, 1).reshape(b * h, w, c)
        out, _ = self.rnn(rows)
        return x + out.reshape(b, h, w, c).permute(0, 3, 1, 2)


class Stage(nn.Sequential):
    def __init__(self, cin: int, cout: int, stride: int = 1, dropout: float = 0.0):
        layers: list[nn.Module] = [ConvBNAct(cin, cout, 3, (stride, stride)), ConvBNAct(cout, cout)]
        if dropout:
            layers.append(nn.Dropout2d(dropout))
        super().__init__(*layers)


class SegmentModel(nn.Module):
    """U-Net: stem at 1/2, stages down to 1/16, optional row BiLSTM, upsampling with skips back to 1/2."""

    def __init__(self, channels: list[int], sequence: str = "lstm", in_channels: int = 1, dropout: float = 0.0):
        super().__init__()
        c = channels
        # the downward path: a stem at 1/2, then stages halving the resolution (encoder, as in every model)
        down = [Stage(c[i], c[i + 1], stride=2, dropout=dropout) for i in range(len(c) - 1)]
        self.encoder = nn.ModuleList([Stage(in_channels, c[0], stride=2), *down])
        self.sequence = RowLSTM(c[-1]) if sequence == "lstm" else nn.Identity()
        self.decoder = nn.ModuleList(Stage(c[i + 1] + c[i], c[i]) for i in reversed(range(len(c) - 1)))
        self.head = nn.Conv2d(c[0], len(MAPS), 1)
        nn.init.constant_(self.head.bias, -3.0)  # type: ignore[arg-type]  # most pixels are background: start near p = 0.05

    def forward(self, pages: Tensor) -> Tensor:
        skips = []
        x = pages
        for stage in self.encoder:
            x = stage(x)
            skips.append(x)
        x = self.sequence(skips.pop())
        for stage in self.decoder:
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = stage(torch.cat([x, skip], dim=1))
        return self.head(x)


def build_segmenter(cfg: ModelConfig) -> SegmentModel:
    """The network a ``page`` model config describes.

    >>> from seqvision.nn.presets import get_preset
    >>> model = build_segmenter(get_preset("seg-small"))
    >>> model(torch.zeros(1, 1, 64, 96)).shape
    torch.Size([1, 2, 32, 48])
    """
    if cfg.encoder.name != "unet":
        raise ConfigError(f"a page segmenter's encoder is 'unet', not {cfg.encoder.name!r}")
    if cfg.sequence.name not in ("lstm", "none"):
        raise ConfigError(f"a page segmenter's sequence model is 'lstm' (rows) or 'none', not {cfg.sequence.name!r}")
    channels = channel_widths(cfg.encoder.channels, [16, 32, 64, 128], "unet")
    return SegmentModel(channels, cfg.sequence.name, cfg.in_channels, cfg.encoder.dropout)
