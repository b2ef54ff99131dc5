"""Length bookkeeping shared by encoders and sequence models, so padding never leaks into results."""

from __future__ import annotations

import torch
from torch import Tensor


def length_mask(lengths: Tensor, size: int) -> Tensor:
    """``(B,)`` lengths -> ``(B, size)`` bool mask, True on valid steps."""
    return torch.arange(size, device=lengths.device)[None, :] < lengths[:, None]


def mask_width(x: Tensor, lengths: Tensor) -> Tensor:
    """Zero every column of a ``(B, C, H, W)`` map at or beyond each sample's length."""
    return x * length_mask(lengths, x.shape[-1])[:, None, None, :].to(x.dtype)


def mask_steps(x: Tensor, lengths: Tensor) -> Tensor:
    """Zero every step of a ``(B, T, C)`` sequence at or beyond each sample's length."""
    return x * length_mask(lengths, x.shape[1])[:, :, None].to(x.dtype)


def conv_length(lengths: Tensor, kernel: int, stride: int, padding: int) -> Tensor:
    """Output length of a convolution or pooling along one axis (floor mode)."""
    return torch.div(lengths + 2 * padding - kernel, stride, rounding_mode="floor") + 1
