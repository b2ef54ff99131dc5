"""Encoder contract and the conv blocks shared by every CNN family.

An encoder maps ``(B, C_in, H, W)`` images plus true widths to a ``(B, T, C)`` sequence plus true
lengths. It declares ``out_channels`` (C) and ``time_stride`` (W / T) so sizes are known without a
dummy forward pass. Every block knows how it changes the width, and the map is re-masked after
each block, so a padded line in a batch gives exactly the same features as the line alone.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqvision.nn.masking import conv_length, mask_width


def channel_widths(given: list[int], default: list[int], encoder: str) -> list[int]:
    """``model.encoder.channels`` (or ``default`` when empty), checked: as many widths as the encoder has stages.

    A ``ValueError`` (reported as a config error) instead of an ``IndexError`` deep inside the builder.
    """
    widths = list(given) or list(default)
    if len(widths) != len(default) or not all(isinstance(w, int) and w >= 1 for w in widths):
        raise ValueError(
            f"encoder {encoder!r} takes {len(default)} positive channel widths "
            f"(model.encoder.channels, e.g. {default}), not {list(given)}"
        )
    return widths


class Block(nn.Module):
    """A layer that also maps input widths/heights to output widths/heights."""

    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)

    def out_length(self, lengths: Tensor, axis: int = 1) -> Tensor:
        return conv_length(lengths, self.kernel[axis], self.stride[axis], self.padding[axis])

    def out_height(self, height: int) -> int:
        return (height + 2 * self.padding[0] - self.kernel[0]) // self.stride[0] + 1

    def masked(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Apply the block and zero the padding it filled (BatchNorm shifts zeros)."""
        lengths = self.out_length(lengths)
        return mask_width(self(x), lengths), lengths


class ConvBNAct(Block):
    """Conv -> BatchNorm -> ReLU, 'same' padding; ``groups=cin`` makes it depthwise."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: tuple[int, int] = (1, 1), groups: int = 1):
        super().__init__()
        self.kernel, self.stride, self.padding = (kernel, kernel), stride, (kernel // 2, kernel // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.bn(self.conv(x)))


class MaxPool(Block):
    def __init__(self, kh: int, kw: int):
        super().__init__()
        self.kernel = self.stride = (kh, kw)
        self.pool = nn.MaxPool2d((kh, kw), (kh, kw))

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(x)


class Dropout2d(Block):
    def __init__(self, p: float):
        super().__init__()
        self.drop = nn.Dropout2d(p)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(x)

    def masked(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        return self.drop(x), lengths  # dropout keeps zeros at zero


class Encoder(nn.Module):
    """A stack of :class:`Block` s whose final ``(B, C, H', W')`` map becomes ``(B, W', C*H')``."""

    def __init__(self, blocks: list[Block], channels: int, height: int, in_channels: int = 1):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.in_channels = in_channels
        self.height = height
        for block in blocks:
            height = block.out_height(height)
        if height < 1:
            raise ValueError(f"input height {self.height} is too small for this encoder")
        self.out_height = height
        self.out_channels = channels * height
        stride = 1
        for block in blocks:
            stride *= block.stride[1]
        self.time_stride = stride

    def stages(self) -> list[Block]:
        return list(self.blocks)  # type: ignore[arg-type]  # ModuleList of Blocks

    def output_lengths(self, widths: Tensor) -> Tensor:
        for block in self.stages():
            widths = block.out_length(widths)
        return widths

    def output_length(self, width: int) -> int:
        """Output steps for one line ``width`` pixels wide."""
        return int(self.output_lengths(torch.tensor([width]))[0])

    def forward(self, x: Tensor, widths: Tensor) -> tuple[Tensor, Tensor]:
        lengths = widths
        x = mask_width(x, lengths)
        for block in self.stages():
            x, lengths = block.masked(x, lengths)
        # (B, C, H', W') -> (B, W', C*H')
        x = x.permute(0, 3, 1, 2).flatten(2)
        return x, lengths
