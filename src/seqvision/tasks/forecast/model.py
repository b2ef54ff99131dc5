"""The encoder-forecaster of Shi et al. (2015): past frames -> ConvLSTM encoder -> states -> ConvLSTM forecaster.

Frames become maps by space-to-depth (each ``patch x patch`` block of pixels becomes the channels
of one cell, as OpenSTL's ConvLSTM does), so the recurrent convolutions run on a map ``patch``
times smaller. The forecaster starts from the encoder's final states and reads no input; a 1x1
convolution turns its hidden map back into pixels. The output is added to the last input frame
and the 1x1 convolution starts at zero, so an untrained model is exactly persistence (repeat the
last frame) and training only has to learn the change.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

import seqvision.nn.sequence.convlstm  # noqa: F401  (fill SPATIAL_SEQUENCES)
from seqvision.config import ModelConfig
from seqvision.errors import ConfigError
from seqvision.nn.sequence.convlstm import SpatialSequenceModel
from seqvision.registry import SPATIAL_SEQUENCES


class ForecastModel(nn.Module):
    """``(B, T_in, C, H, W)`` past frames -> ``(B, T_out, C, H, W)`` predicted frames (H and W multiples of patch)."""

    def __init__(
        self,
        encoder: SpatialSequenceModel,
        forecaster: SpatialSequenceModel,
        channels: int,
        patch: int,
        frames_out: int,
    ):
        super().__init__()
        self.encoder, self.forecaster = encoder, forecaster
        self.channels, self.patch, self.frames_out = channels, patch, frames_out
        self.head = nn.Conv2d(forecaster.out_channels, channels * patch * patch, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)  # type: ignore[arg-type]

    def forward(self, frames: Tensor) -> Tensor:
        b, t, c, height, width = frames.shape
        p = self.patch
        # (B, T, C, H, W) -> (B, T, C*p*p, H/p, W/p)
        cells = F.pixel_unshuffle(frames.reshape(b * t, c, height, width), p).reshape(b, t, c * p * p, height // p, -1)
        _, state = self.encoder(cells)
        # the forecaster reads nothing: a (B, T_out, 0, h, w) input only sets the number of steps
        empty = cells.new_zeros(b, self.frames_out, 0, height // p, width // p)
        hidden, _ = self.forecaster(empty, state)  # (B, T_out, hidden, h, w)
        delta = self.head(hidden.flatten(0, 1))  # (B*T_out, C*p*p, h, w)
        # (B*T_out, C*p*p, h, w) -> (B, T_out, C, H, W)
        delta = F.pixel_shuffle(delta, p).reshape(b, self.frames_out, c, height, width)
        return frames[:, -1:] + delta


def build_forecaster(cfg: ModelConfig, frames_out: int) -> ForecastModel:
    """The forecasting model a ``frames`` config describes.

    >>> from seqvision.nn.presets import get_preset
    >>> build_forecaster(get_preset("convlstm-small"), frames_out=10).patch
    4
    """
    if cfg.input != "frames":
        raise ConfigError(f"a forecasting model needs model.input=frames, not {cfg.input!r}")
    if cfg.encoder.name != "patch" or cfg.head.name != "frames":
        raise ConfigError(
            f"a forecasting model has encoder 'patch' and head 'frames', not {cfg.encoder.name!r} and {cfg.head.name!r}"
        )
    p = cfg.encoder.patch
    if p < 1 or cfg.height % p:
        raise ConfigError(f"model.height {cfg.height} must be a multiple of model.encoder.patch {p}")
    if frames_out < 1 or cfg.sequence.layers < 1 or cfg.sequence.hidden < 1:
        raise ConfigError("frames_out, model.sequence.layers and model.sequence.hidden must be at least 1")
    build = SPATIAL_SEQUENCES.get(cfg.sequence.name)
    try:
        encoder = build(cfg.sequence, cfg.in_channels * p * p)
        forecaster = build(cfg.sequence, 0)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return ForecastModel(encoder, forecaster, cfg.in_channels, p, frames_out)
