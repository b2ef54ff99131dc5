"""Sequence-model contract: ``(B, T, C_in)`` + lengths -> ``(B, T, C_out)``, padding masked to zero."""

from __future__ import annotations

from torch import Tensor, nn


class SequenceModel(nn.Module):
    in_channels: int
    out_channels: int

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:  # pragma: no cover - interface
        raise NotImplementedError
