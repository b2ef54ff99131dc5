"""Clip decoding, shared by the clip tasks (video, gait, sound): which frames to take, streaming them out of a video
(PyAV) or a folder of frame images, and padding decoded clips into a batch.

A clip is never held whole in memory: frames are decoded in order and only the sampled ones are
kept, resized keeping their aspect ratio and letterboxed (centred, black padding) into a square.
Pixels become RGB floats in [0, 1], ``(T, 3, S, S)``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from seqvision.data.readers import IMAGE_SUFFIXES
from seqvision.errors import ConfigError, DataError

if TYPE_CHECKING:
    from torch import Tensor

VIDEO_SUFFIXES = (".mp4", ".avi", ".webm", ".mkv", ".mov", ".m4v")
CLIP_NORMALISATION = {"method": "rgb", "range": [0.0, 1.0], "scale": "1/255", "resize": "keep aspect, letterbox"}


def require_av() -> Any:
    try:
        import av
    except ImportError:
        raise ConfigError("reading video files needs PyAV: pip install 'seqvision[video]'") from None
    return av


@dataclass(frozen=True)
class ClipInfo:
    """What probing a clip found: how many frames, at what rate."""

    frames: int
    fps: float


def frame_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def is_clip(path: Path) -> bool:
    """A video file (by its suffix) or a folder holding frame images."""
    return path.suffix.lower() in VIDEO_SUFFIXES if path.is_file() else path.is_dir() and bool(frame_files(path))


def probe(path: Path) -> ClipInfo:
    """Frame count and rate of a video file or frame folder; :class:`DataError` naming the file if unusable."""
    if path.is_dir():
        n = len(frame_files(path))
        if n == 0:
            raise DataError(f"{path}: frame folder holds no images")
        return ClipInfo(n, 0.0)
    if not path.is_file():
        raise DataError(f"{path}: video file not found")
    av = require_av()
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            if not container.streams.video:
                raise DataError(f"{path}: no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            n = stream.frames  # from the header; 0 when the container does not say (webm, mkv)
            if n <= 0:
                n = sum(1 for packet in container.demux(stream) if packet.size)
    except av.FFmpegError as exc:
        raise DataError(f"{path}: unreadable or corrupt video ({reason(exc)})") from None
    if n <= 0:
        raise DataError(f"{path}: video has no frames")
    return ClipInfo(n, float(rate) if rate else 0.0)


def sample_indices(
    info: ClipInfo, frames: int, fps: float = 0.0, rng: random.Random | None = None, crop: float = 1.0
) -> list[int]:
    """Which frames to decode (sorted; repeats when the clip is short).

    ``fps == 0``: ``frames`` indices spread uniformly over the clip, or, with ``rng``, over a random
    temporal crop covering at least ``crop`` of it. ``fps > 0``: up to ``frames`` consecutive
    samples at that rate, from the clip's middle, or from a random start with ``rng``.
    """
    n = info.frames
    if fps > 0:
        step = (info.fps or fps) / fps  # source frames per sample
        count = min(frames, int((n - 1) // step) + 1)
        room = max(0.0, n - 1 - (count - 1) * step)
        start = rng.uniform(0, room) if rng else room / 2
        return [min(n - 1, round(start + k * step)) for k in range(count)]
    length = float(n) if rng is None or crop >= 1 else rng.uniform(max(crop, 0.0), 1.0) * n
    start = rng.uniform(0, n - length) if rng else 0.0
    return [min(n - 1, int(start + (k + 0.5) * length / frames)) for k in range(frames)]


def fit(width: int, height: int, size: int) -> tuple[int, int]:
    """Width and height scaled so the longer side is ``size`` (aspect kept)."""
    scale = size / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def letterbox(rgb: np.ndarray, size: int) -> np.ndarray:
    """``(h, w, 3)`` uint8 already fitted into ``size`` -> ``(3, size, size)`` float32 in [0, 1], centred."""
    h, w = rgb.shape[:2]
    out = np.zeros((3, size, size), dtype=np.float32)
    top, left = (size - h) // 2, (size - w) // 2
    out[:, top : top + h, left : left + w] = rgb.transpose(2, 0, 1) / 255.0  # (h, w, 3) -> (3, h, w)
    return out


def decode(path: Path, indices: list[int], size: int) -> np.ndarray:
    """The frames at ``indices`` as ``(len(indices), 3, size, size)`` float32, streamed.

    Frames a truncated video does not deliver repeat the last one decoded; none at all is a
    :class:`DataError` naming the file.
    """
    wanted = sorted(set(indices))
    got = _decode_folder(path, wanted, size) if path.is_dir() else _decode_video(path, wanted, size)
    if not got:
        raise DataError(f"{path}: no decodable frames")
    frames, current = [], got[min(got)]
    for i in indices:  # sorted: a frame past the end repeats the last one decoded
        current = got.get(i, current)
        frames.append(current)
    return np.stack(frames)  # (T, 3, S, S)


def _decode_video(path: Path, wanted: list[int], size: int) -> dict[int, np.ndarray]:
    av = require_av()
    keep, last, got = set(wanted), wanted[-1], {}
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            stream = container.streams.video[0]
            for i, frame in enumerate(container.decode(stream)):
                if i in keep:
                    w, h = fit(frame.width, frame.height, size)
                    got[i] = letterbox(frame.to_ndarray(width=w, height=h, format="rgb24"), size)
                if i >= last:
                    break
    except av.FFmpegError as exc:
        if not got:
            raise DataError(f"{path}: unreadable or corrupt video ({reason(exc)})") from None
    except IndexError:
        raise DataError(f"{path}: no video stream") from None
    return got


def _decode_folder(path: Path, wanted: list[int], size: int) -> dict[int, np.ndarray]:
    from seqvision.data.images import open_image

    files = frame_files(path)
    got = {}
    for i in wanted:
        if i < len(files):
            img = open_image(files[i], mode="RGB")
            got[i] = letterbox(np.asarray(img.resize(fit(*img.size, size), Image.Resampling.BILINEAR)), size)
    return got


def reason(exc: Exception) -> str:
    return (getattr(exc, "strerror", None) or str(exc)).splitlines()[0][:120]


def pad_clips(arrays: list[np.ndarray]) -> tuple[Tensor, Tensor]:
    """``(T_i, C, S, S)`` arrays -> ``(B, T_max, C, S, S)`` zero-padded + ``(B,)`` frame counts."""
    import torch  # here: decoding needs no torch

    lengths = torch.tensor([len(a) for a in arrays], dtype=torch.int64)
    batch = torch.zeros(len(arrays), int(lengths.max()), *arrays[0].shape[1:])
    for i, a in enumerate(arrays):
        batch[i, : len(a)] = torch.from_numpy(a)
    return batch, lengths
