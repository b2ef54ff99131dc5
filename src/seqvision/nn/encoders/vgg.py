"""VGG-style CNNs: the CRNN paper's encoder and a CPU-sized variant (the default)."""

from __future__ import annotations

from seqvision.config import EncoderConfig
from seqvision.nn.encoders.base import Block, ConvBNAct, Dropout2d, Encoder, MaxPool, channel_widths
from seqvision.registry import ENCODERS


def _vgg(
    stages: list[list[int]], pools: list[tuple[int, int]], in_channels: int, height: int, dropout: float, stem: int = 0
) -> Encoder:
    """VGG stages of 3x3 convs each closed by a max-pool; ``stem`` > 0 adds a stride-2 conv first."""
    blocks: list[Block] = [ConvBNAct(in_channels, stem, 3, (2, 2))] if stem else []
    cin = stem or in_channels
    for widths, pool in zip(stages, pools, strict=True):
        for cout in widths:
            blocks.append(ConvBNAct(cin, cout))
            cin = cout
        blocks.append(MaxPool(*pool))
        if dropout and pool == (2, 1):
            blocks.append(Dropout2d(dropout))
    return Encoder(blocks, cin, height, in_channels)


@ENCODERS.register("vgg")
def vgg(cfg: EncoderConfig, height: int, in_channels: int = 1) -> Encoder:
    """CRNN paper (Shi et al. 2015) VGG: 64-128-256x2-512x2-512, time stride 4. Accurate but ~20 GFLOPs/line."""
    c = channel_widths(cfg.channels, [64, 128, 256, 512, 512], "vgg")
    stages = [[c[0]], [c[1]], [c[2], c[2]], [c[3], c[3]], [c[4]]]
    pools = [(2, 2), (2, 2), (2, 1), (2, 1), (1, 1)]
    return _vgg(stages, pools, in_channels, height, cfg.dropout)


@ENCODERS.register("small")
def small(cfg: EncoderConfig, height: int, in_channels: int = 1) -> Encoder:
    """CPU-sized VGG: stride-2 stem 32, then 64-96x2-128x2 channels, time stride 4, ~0.5 GFLOPs per 48x356 line."""
    c = channel_widths(cfg.channels, [32, 64, 96, 128], "small")
    stages = [[c[1]], [c[2], c[2]], [c[3], c[3]]]
    pools = [(2, 2), (2, 1), (2, 1)]
    return _vgg(stages, pools, in_channels, height, cfg.dropout, stem=c[0])


@ENCODERS.register("laia")
def laia(cfg: EncoderConfig, height: int, in_channels: int = 1) -> Encoder:
    """PyLaia's CRNN (Puigcerver 2017): 5 conv blocks 16-32-48-64-80, 2x2 pools in the first 3, time stride 8.

    Dropout (``cfg.dropout``, 0.2 in the paper) before the convs of the last three blocks.
    """
    c = channel_widths(cfg.channels, [16, 32, 48, 64, 80], "laia")
    blocks: list[Block] = []
    cin = in_channels
    for i, cout in enumerate(c):
        if cfg.dropout and i >= 2:
            blocks.append(Dropout2d(cfg.dropout))
        blocks.append(ConvBNAct(cin, cout))
        if i < 3:
            blocks.append(MaxPool(2, 2))
        cin = cout
    return Encoder(blocks, cin, height, in_channels)
