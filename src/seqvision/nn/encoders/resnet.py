"""A small residual CNN (ResNet basic blocks, kraken/PyLaia-sized channels)."""

from __future__ import annotations

from torch import Tensor, nn

from seqvision.config import EncoderConfig
from seqvision.nn.encoders.base import Block, ConvBNAct, Dropout2d, Encoder, channel_widths
from seqvision.nn.masking import mask_width
from seqvision.registry import ENCODERS


class ResBlock(Block):
    """Two 3x3 conv-BN layers plus a (projected when shapes change) shortcut, then ReLU."""

    def __init__(self, cin: int, cout: int, stride: tuple[int, int]):
        super().__init__()
        self.kernel, self.stride, self.padding = (3, 3), stride, (1, 1)
        self.conv1 = ConvBNAct(cin, cout, 3, stride)
        self.conv2 = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut: nn.Module = nn.Identity()
        if stride != (1, 1) or cin != cout:
            # 1x1 conv with the same output grid as conv1: kernel 1, stride s, pad 0 == 3x3 pad 1 in size
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.act = nn.ReLU(inplace=True)

    def masked(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        lengths = self.out_length(lengths)
        h = mask_width(self.conv1(x), lengths)
        y = self.act(self.conv2(h) + self.shortcut(x))
        return mask_width(y, lengths), lengths


@ENCODERS.register("resnet")
def resnet(cfg: EncoderConfig, height: int, in_channels: int = 1) -> Encoder:
    """Small ResNet: stem 32, basic blocks 32-64-128-160, time stride 4."""
    c = channel_widths(cfg.channels, [32, 64, 128, 160], "resnet")
    blocks: list[Block] = [ConvBNAct(in_channels, c[0], 3, (2, 2))]
    strides = [(1, 1), (2, 2), (2, 1), (2, 1)]
    cin = c[0]
    for cout, stride in zip(c, strides, strict=True):
        blocks.append(ResBlock(cin, cout, stride))
        cin = cout
        if cfg.dropout and stride == (2, 1):
            blocks.append(Dropout2d(cfg.dropout))
    return Encoder(blocks, cin, height, in_channels)
