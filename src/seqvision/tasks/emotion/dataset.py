"""Emotion clips for training and inference: probe both streams once, decode frames, pad batches.

The sound becomes log-mel frames when a clip is probed (a few kB per clip, kept in memory); frames
are decoded per batch, spread uniformly over the clip, so both streams cover the same span. A clip
whose stream the model needs is refused with one line naming the file: zero frames, no audio track,
silent audio, a sound much shorter or longer than the pictures, an audio file for a video stream.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from seqvision.config import EmotionConfig
from seqvision.data.audio import read_soundtrack
from seqvision.data.clips import ClipInfo, decode, pad_clips, probe, sample_indices
from seqvision.data.melspec import log_mel
from seqvision.errors import DataError
from seqvision.tasks.emotion.clips import EmotionSample
from seqvision.tasks.emotion.model import STREAMS

MEL_SHIFT, MEL_SCALE = 4.0, 3.0  # the model reads (log-mel + 4) / 3: silence near -1, loud voice near +1
MIN_MEL_FRAMES = 8


@dataclass(frozen=True)
class Hearing:
    """How sound becomes the audio stream's input; saved in the model's metadata under ``input.audio``."""

    rate: int
    bands: int
    n_fft: int
    hop: int

    @classmethod
    def of(cls, cfg: EmotionConfig) -> Hearing:
        return cls(cfg.rate, cfg.bands, cfg.n_fft, cfg.hop)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Hearing:
        return cls(int(d["rate"]), int(d["bands"]), int(d["n_fft"]), int(d["hop"]))

    def to_dict(self) -> dict[str, Any]:
        norm = f"(log(1e-3 + mel) + {MEL_SHIFT:g}) / {MEL_SCALE:g}"
        return {"rate": self.rate, "bands": self.bands, "n_fft": self.n_fft, "hop": self.hop, "normalisation": norm}


@dataclass(frozen=True)
class EmotionClip:
    """A probed clip: its frames' count and rate (video stream), its normalised log-mel ``(T_a, bands)`` (audio)."""

    sample: EmotionSample
    info: ClipInfo | None
    mel: np.ndarray | None


def probe_clip(sample: EmotionSample, streams: str, hearing: Hearing) -> EmotionClip:
    """Open what the model's ``streams`` need of one clip; :class:`DataError` naming the file when unusable."""
    info = mel = None
    if "video" in STREAMS[streams]:
        if sample.video is None:
            raise DataError(f"{sample.path}: an audio file, but the model has a video stream (data.emotion.streams)")
        info = probe(sample.video)
    if "audio" in STREAMS[streams]:
        if sample.audio is None:
            raise DataError(f"{sample.path}: no sound (a frame folder needs a .wav of the same name beside it)")
        track = read_soundtrack(sample.audio, hearing.rate)
        seconds = len(track.samples) / track.rate
        if info is not None and info.fps > 0:
            video = info.frames / info.fps
            if abs(seconds - video) > max(0.5, 0.25 * video):
                raise DataError(f"{sample.audio}: the sound lasts {seconds:.2f} s but the video {video:.2f} s")
        mel = (log_mel(track.samples, hearing.rate, hearing.n_fft, hearing.hop, hearing.bands) + MEL_SHIFT) / MEL_SCALE
        if len(mel) < MIN_MEL_FRAMES:
            raise DataError(f"{sample.audio}: the sound is too short ({seconds * 1000:.0f} ms)")
    return EmotionClip(sample, info, mel)


def probe_all(
    samples: list[EmotionSample], streams: str, hearing: Hearing, workers: int = 2
) -> tuple[list[EmotionClip], list[str]]:
    """Probe every clip once; unusable ones are dropped, each with a message naming it."""

    def one(s: EmotionSample) -> EmotionClip | str:
        try:
            return probe_clip(s, streams, hearing)
        except DataError as exc:
            return f"{exc}" if s.source == str(s.path) else f"{s.source}: {exc}"

    with ThreadPoolExecutor(max(1, workers)) as pool:
        results = list(pool.map(one, samples))
    return [r for r in results if isinstance(r, EmotionClip)], [r for r in results if isinstance(r, str)]


def load_frames(clip: EmotionClip, frames: int, size: int) -> np.ndarray | None:
    """``(frames, 3, size, size)`` spread uniformly over the clip; None without a video stream."""
    if clip.info is None or clip.sample.video is None:
        return None
    return decode(clip.sample.video, sample_indices(clip.info, frames), size)


class EmotionDataset(Dataset):
    """Clips -> (frames ``(T, 3, S, S)`` or None, log-mel ``(T_a, bands)`` or None, class index)."""

    def __init__(self, clips: list[EmotionClip], labels: list[str], frames: int, size: int):
        self.clips, self.frames, self.size = clips, frames, size
        self.index = {label: i for i, label in enumerate(labels)}

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> tuple[np.ndarray | None, np.ndarray | None, int]:
        clip = self.clips[i]
        return load_frames(clip, self.frames, self.size), clip.mel, self.index[clip.sample.label]


def pad_streams(items: list[tuple[np.ndarray | None, np.ndarray | None]]) -> dict[str, Tensor]:
    """Frames ``(B, T, 3, S, S)`` and log-mel ``(B, T_a, M)``, zero-padded, with ``(B,)`` lengths; a stream
    the clips lack becomes an empty ``(B, 0)`` tensor with zero lengths."""
    out: dict[str, Tensor] = {}
    for k, (name, lengths) in enumerate((("clips", "lengths"), ("audio", "audio_lengths"))):
        arrays = [item[k] for item in items]
        if any(a is None for a in arrays):
            out[name], out[lengths] = torch.zeros(len(items), 0), torch.zeros(len(items), dtype=torch.int64)
        else:
            out[name], out[lengths] = pad_clips([a for a in arrays if a is not None])
    return out


def collate(items: list[tuple[np.ndarray | None, np.ndarray | None, int]]) -> dict[str, Tensor]:
    batch = pad_streams([(f, m) for f, m, _ in items])
    return {**batch, "labels": torch.tensor([y for _, _, y in items], dtype=torch.int64)}
