"""``onehot-cnn1d``: motif detectors over one-hot DNA/RNA, the convolutional half of DanQ (Quang & Xie 2016).

A sequence of length L arrives one-hot as a ``(B, 4, 1, L)`` "image" one pixel high (channels
A, C, G, T/U; see :func:`seqvision.tasks.dna.batches.one_hot`), so it shares the line models'
``(images, widths)`` contract, masking, export and trainer unchanged. One convolution of
``channels[0]`` filters ``kernel`` bases wide (each a learnable position weight matrix) -> ReLU
-> max-pool of ``pool`` -> dropout gives ``(B, L // pool, filters)``; the time stride is ``pool``.
"""

from __future__ import annotations

from torch import Tensor, nn

from seqvision.config import EncoderConfig
from seqvision.nn.encoders.base import Block, Encoder, MaxPool
from seqvision.registry import ENCODERS

BASES = 4  # one-hot channels: A, C, G, T/U
SEQUENCE_ENCODERS = frozenset({"onehot-cnn1d"})  # encoders that read one-hot sequences (model.input = sequence)


class MotifConv(Block):
    """Conv over the sequence axis only (kernel ``1 x k``, 'same' padding) -> ReLU; no BatchNorm, as in DanQ."""

    def __init__(self, cin: int, cout: int, kernel: int):
        super().__init__()
        self.kernel, self.stride, self.padding = (1, kernel), (1, 1), (0, kernel // 2)
        self.conv = nn.Conv2d(cin, cout, (1, kernel), padding=(0, kernel // 2))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.conv(x))


class Dropout(Block):
    """Element-wise dropout (DanQ's 0.2 after pooling); zeros stay zeros, so padding stays masked."""

    def __init__(self, p: float):
        super().__init__()
        self.drop = nn.Dropout(p)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(x)

    def masked(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        return self.drop(x), lengths


class MotifEncoder(Encoder):
    """:class:`Encoder` whose first block is the motif convolution, exposed as ``motifs`` for PWM export."""

    @property
    def motifs(self) -> MotifConv:
        return self.blocks[0]  # type: ignore[return-value]


@ENCODERS.register("onehot-cnn1d")
def onehot_cnn1d(cfg: EncoderConfig, height: int, in_channels: int = BASES) -> Encoder:
    """One-hot DNA/RNA (4 x 1 x L) -> conv motif detectors (encoder.kernel) -> max-pool (encoder.pool): DanQ's CNN."""
    if height != 1 or in_channels != BASES:
        raise ValueError(
            f"encoder onehot-cnn1d reads one-hot sequences (model.input=sequence, height 1, in_channels {BASES}), "
            f"not height {height} with {in_channels} channel(s)"
        )
    filters = cfg.channels or [320]
    if len(filters) != 1 or cfg.kernel < 1 or cfg.pool < 1:
        raise ValueError(
            f"encoder onehot-cnn1d takes one channel width (the filters), kernel >= 1 and pool >= 1; got "
            f"channels {filters}, kernel {cfg.kernel}, pool {cfg.pool}"
        )
    blocks: list[Block] = [MotifConv(in_channels, filters[0], cfg.kernel), MaxPool(1, cfg.pool)]
    if cfg.dropout:
        blocks.append(Dropout(cfg.dropout))
    return MotifEncoder(blocks, filters[0], height, in_channels)
