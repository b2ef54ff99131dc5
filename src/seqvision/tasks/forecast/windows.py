"""Training windows cut from frame sequences: ``frames_in`` past + ``frames_out`` future frames of one square patch.

A :class:`Source` is one sequence in model units (already normalised) with an optional validity
mask; :func:`find_windows` lists the windows worth training on (enough valid pixels, and for
radar enough rain), and :class:`FrameWindows` cuts them lazily, so only the events sit in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset


@dataclass
class Source:
    name: str
    frames: np.ndarray  # (T, H, W) float32, normalised; 0 where invalid
    valid: np.ndarray | None = None  # (T, H, W) bool; None: every pixel is valid
    wet: np.ndarray | None = None  # (T, H, W) bool: rain >= 1 mm/h (radar), for choosing windows


Window = tuple[int, int, int, int]  # (source, first frame, top, left)


def find_windows(
    sources: list[Source],
    frames_in: int,
    frames_out: int,
    size: int,
    stride: int,
    min_valid: float = 0.5,
    min_wet: float = 0.0,
) -> list[Window]:
    """Windows of ``frames_in + frames_out`` frames, ``size`` px square, every ``stride`` frames and ``size // 2`` px.

    A window is kept when at least ``min_valid`` of its pixels are valid and, where the source has
    a ``wet`` map, at least ``min_wet`` of the valid pixels of its last *input* frame are wet (the
    choice never looks at the future, so evaluation windows are chosen as a forecaster would).
    """
    windows = []
    length = frames_in + frames_out
    step = max(size // 2, 1)
    for s, src in enumerate(sources):
        t, h, w = src.frames.shape
        for t0 in range(0, t - length + 1, max(stride, 1)):
            for y in range(0, h - size + 1, step):
                for x in range(0, w - size + 1, step):
                    area = (slice(y, y + size), slice(x, x + size))
                    if src.valid is not None and src.valid[(slice(t0, t0 + length), *area)].mean() < min_valid:
                        continue
                    if src.wet is not None and min_wet > 0 and _wet_fraction(src, t0 + frames_in - 1, area) < min_wet:
                        continue
                    windows.append((s, t0, y, x))
    return windows


def _wet_fraction(src: Source, t: int, area: tuple[slice, slice]) -> float:
    assert src.wet is not None
    wet = src.wet[t][area]
    valid = src.valid[t][area] if src.valid is not None else np.ones_like(wet)
    return float(wet[valid].mean()) if valid.any() else 0.0


class FrameWindows(Dataset):
    """Items ``{"inputs": (T_in, 1, S, S), "targets": (T_out, 1, S, S), "mask": (T_out, 1, S, S)}``."""

    def __init__(self, sources: list[Source], windows: list[Window], frames_in: int, frames_out: int, size: int):
        self.sources, self.windows = sources, windows
        self.frames_in, self.frames_out, self.size = frames_in, frames_out, size
        self.interval_min: float | None = None  # minutes between frames, when the source says

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        s, t0, y, x = self.windows[i]
        src = self.sources[s]
        box = (slice(t0, t0 + self.frames_in + self.frames_out), slice(y, y + self.size), slice(x, x + self.size))
        frames = torch.from_numpy(np.ascontiguousarray(src.frames[box])).unsqueeze(1)  # (T, 1, S, S)
        if src.valid is None:
            valid = torch.ones_like(frames)
        else:
            valid = torch.from_numpy(np.ascontiguousarray(src.valid[box])).unsqueeze(1).float()
        n = self.frames_in
        return {"inputs": frames[:n], "targets": frames[n:], "mask": valid[n:]}
