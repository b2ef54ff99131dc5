"""Any registered encoder, applied to every frame of a clip: ``(B, T, C, H, W)`` -> ``(B, T, C')``.

The frames of a batch go through the CNN together as ``(B*T, C, H, W)``; each frame's feature
sequence (along its width) is averaged into one vector, so the clip becomes a sequence over time
and every sequence model and head works on it unchanged.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqvision.nn.encoders.base import Encoder
from seqvision.nn.masking import mask_steps


class FrameEncoder(nn.Module):
    """Wraps a line :class:`Encoder`: clips + ``(B,)`` frame counts -> ``(B, T, C')`` + frame counts.

    ``time_stride`` is 1: one feature vector per frame. Frames beyond a clip's length are zeroed.
    """

    def __init__(self, frame_encoder: Encoder, size: int):
        super().__init__()
        self.frame_encoder = frame_encoder
        self.size = size  # frames are square, size x size
        self.in_channels = frame_encoder.in_channels
        self.out_channels = frame_encoder.out_channels
        self.time_stride = 1

    def output_length(self, frames: int) -> int:
        return frames

    def forward(self, clips: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        frames = clips.flatten(0, 1)  # (B, T, C, H, W) -> (B*T, C, H, W)
        widths = torch.full_like(frames[:, 0, 0, 0], frames.shape[-1], dtype=torch.int64)  # (B*T,) no padding
        feats, _ = self.frame_encoder(frames, widths)  # (B*T, W', C')
        pooled = feats.mean(1)  # (B*T, W', C') -> (B*T, C')
        seq = pooled.reshape(clips.shape[0], clips.shape[1], -1)  # (B*T, C') -> (B, T, C'); traced as dynamic
        return mask_steps(seq, lengths), lengths
