"""ConvLSTM (Shi et al. 2015): an LSTM whose gates are convolutions, so its state stays a spatial map.

The spatial contract differs from :class:`~seqvision.nn.sequence.base.SequenceModel` (``(B, T, C)``
vectors + lengths), so ConvLSTM lives in the sibling registry ``SPATIAL_SEQUENCES``:
``(B, T, C, H, W)`` maps (+ optional per-layer ``(h, c)`` states) -> ``(B, T, C', H, W)`` top-layer
outputs and the final states. A ``(B, T, 0, H, W)`` input is allowed: the forecaster of the
encoder-forecaster reads nothing but its state. No peephole terms (as in OpenSTL's ConvLSTM).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqvision.config import SequenceConfig
from seqvision.registry import SPATIAL_SEQUENCES

State = list[tuple[Tensor, Tensor]]


class ConvLSTMCell(nn.Module):
    """One layer: the input, forget, cell and output gates from one convolution of ``[x, h]``."""

    def __init__(self, in_channels: int, hidden: int, kernel_size: int):
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv2d(in_channels + hidden, 4 * hidden, kernel_size, padding=kernel_size // 2)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        h, c = state  # (B, hidden, H, W) each
        i, f, g, o = self.gates(torch.cat([x, h], dim=1)).chunk(4, dim=1)  # 4 x (B, hidden, H, W)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class SpatialSequenceModel(nn.Module):
    """Contract of ``SPATIAL_SEQUENCES`` entries (see the module docstring)."""

    in_channels: int
    out_channels: int
    layers: int

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:  # pragma: no cover
        raise NotImplementedError


class ConvLSTM(SpatialSequenceModel):
    """Stacked ConvLSTM cells; layer ``k`` reads layer ``k-1``'s hidden map at the same step."""

    def __init__(self, in_channels: int, hidden: int, layers: int, kernel_size: int):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"convlstm: sequence.spatial_kernel must be odd (same-size maps), got {kernel_size}")
        self.in_channels, self.out_channels, self.layers = in_channels, hidden, layers
        widths = [in_channels] + [hidden] * (layers - 1)
        self.cells = nn.ModuleList(ConvLSTMCell(w, hidden, kernel_size) for w in widths)

    def zero_state(self, x: Tensor) -> State:
        b, _, _, height, width = x.shape
        zeros = x.new_zeros(b, self.out_channels, height, width)
        return [(zeros, zeros) for _ in self.cells]

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        state = list(state) if state is not None else self.zero_state(x)
        outputs = []
        for t in range(x.shape[1]):
            inp = x[:, t]  # (B, C, H, W)
            for k, cell in enumerate(self.cells):
                state[k] = cell(inp, state[k])
                inp = state[k][0]
            outputs.append(inp)
        return torch.stack(outputs, dim=1), state  # (B, T, hidden, H, W)


@SPATIAL_SEQUENCES.register("convlstm")
def convlstm(cfg: SequenceConfig, in_channels: int) -> SpatialSequenceModel:
    """ConvLSTM (Shi et al. 2015): stacked LSTMs with convolutional gates over (B, T, C, H, W) maps."""
    return ConvLSTM(in_channels, cfg.hidden, cfg.layers, cfg.spatial_kernel)
