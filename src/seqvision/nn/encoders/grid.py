"""Any registered encoder, keeping the spatial map of a photo: ``(B, C, S, S)`` -> ``(B, G*G, C')`` cells.

An image captioner attends over regions, so the CNN's map is not flattened along its width the
way a text line's is: it is average-pooled to a ``grid x grid`` map and each cell becomes one
step of the sequence (row by row), the "annotation vectors" of Show, Attend and Tell.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqvision.nn.encoders.base import Encoder


class GridEncoder(nn.Module):
    """Wraps a line :class:`Encoder`: square images + ``(B,)`` widths -> ``(B, G*G, C)`` + ``(B,)`` cell counts.

    ``out_channels`` is the CNN's last width (not multiplied by the map height as for lines).
    """

    def __init__(self, encoder: Encoder, size: int, grid: int):
        super().__init__()
        if grid < 1:
            raise ValueError(f"model.encoder.grid must be at least 1, not {grid}")
        self.encoder = encoder
        self.size, self.grid = size, grid
        self.in_channels = encoder.in_channels
        self.out_channels = encoder.out_channels // encoder.out_height
        self.cells = grid * grid
        self.time_stride = 1
        self.pool = nn.AdaptiveAvgPool2d(grid)

    def output_length(self, width: int) -> int:
        return self.cells

    def forward(self, images: Tensor, widths: Tensor) -> tuple[Tensor, Tensor]:
        x, lengths = images, widths  # square photos: the widths are all S, so masking changes nothing
        for block in self.encoder.stages():
            x, lengths = block.masked(x, lengths)  # every block family (residual ones too) runs this way
        x = self.pool(x)  # (B, C, H', W') -> (B, C, G, G)
        cells = x.flatten(2).transpose(1, 2)  # (B, C, G, G) -> (B, G*G, C), row by row
        return cells, torch.full_like(widths, self.cells)
