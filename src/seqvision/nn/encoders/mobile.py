"""A light depthwise-separable CNN (MobileNet-style) for the fastest CPU inference."""

from __future__ import annotations

from torch import Tensor

from seqvision.config import EncoderConfig
from seqvision.nn.encoders.base import Block, ConvBNAct, Dropout2d, Encoder, channel_widths
from seqvision.nn.masking import mask_width
from seqvision.registry import ENCODERS


class SeparableBlock(Block):
    """Depthwise 3x3 (carrying the stride) -> pointwise 1x1, each with BatchNorm and ReLU."""

    def __init__(self, cin: int, cout: int, stride: tuple[int, int]):
        super().__init__()
        self.kernel, self.stride, self.padding = (3, 3), stride, (1, 1)
        self.depthwise = ConvBNAct(cin, cin, 3, stride, groups=cin)
        self.pointwise = ConvBNAct(cin, cout, 1)

    def masked(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        lengths = self.out_length(lengths)
        x = mask_width(self.depthwise(x), lengths)
        return mask_width(self.pointwise(x), lengths), lengths


@ENCODERS.register("mobile")
def mobile(cfg: EncoderConfig, height: int, in_channels: int = 1) -> Encoder:
    """Depthwise-separable CNN: stem 32, separable 64-96-128-160, time stride 4, ~0.2 GFLOPs/line."""
    c = channel_widths(cfg.channels, [32, 64, 96, 128, 160], "mobile")
    blocks: list[Block] = [ConvBNAct(in_channels, c[0], 3, (2, 2))]
    strides = [(2, 2), (1, 1), (2, 1), (2, 1)]
    cin = c[0]
    for cout, stride in zip(c[1:], strides, strict=True):
        blocks.append(SeparableBlock(cin, cout, stride))
        cin = cout
        if cfg.dropout and stride == (2, 1):
            blocks.append(Dropout2d(cfg.dropout))
    return Encoder(blocks, cin, height, in_channels)
