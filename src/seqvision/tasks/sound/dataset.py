"""Sound clips for training and inference: probe (frames + soundtrack + features), sample frames, pad batches.

Pictures and sound meet on the video's clock (:mod:`seqvision.data.audio`): video frame ``k`` owns
the ``steps`` sound feature frames from ``k / fps`` to ``(k + 1) / fps``. A clip whose audio is
missing, silent, or ends before its last frame is refused with one line naming the file.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from seqvision.data.audio import read_soundtrack
from seqvision.data.clip_lists import probe_each
from seqvision.data.clips import ClipInfo, decode, pad_clips, probe
from seqvision.errors import DataError
from seqvision.tasks.sound.clips import SoundSample
from seqvision.tasks.sound.features import Features


@dataclass(frozen=True)
class SoundClip:
    """A probed clip: its frames' count and rate, its features ``(frames * steps, bands)`` and aligned samples."""

    sample: SoundSample
    info: ClipInfo
    features: np.ndarray
    wave: np.ndarray  # mono samples from the first frame's time to the last frame's end


def probe_video(sample: SoundSample) -> ClipInfo:
    """Frame count and rate; a frame folder or a clip without a frame rate is refused (no clock for its sound)."""
    if sample.path.is_dir():
        raise DataError(f"{sample.path}: a frame folder has no audio track; the sound task reads video files")
    info = probe(sample.path)
    if info.fps <= 0:
        raise DataError(f"{sample.path}: the video stream has no frame rate, so its sound cannot be aligned")
    return info


def probe_sound(sample: SoundSample, features: Features) -> SoundClip:
    """Probe the video, read and check its soundtrack, compute its features; :class:`DataError` when unusable."""
    info = probe_video(sample)
    track = read_soundtrack(sample.path, features.rate)
    duration = info.frames / info.fps
    if track.end < duration - 0.5 / info.fps:
        raise DataError(f"{sample.path}: the audio ends at {track.end:.2f} s, before the video ({duration:.2f} s)")
    start = round(-track.offset * track.rate)  # the sample at the first frame's time
    length = round(duration * track.rate)
    wave = np.pad(track.samples, (max(0, -start), max(0, start + length - len(track.samples))))
    wave = wave[max(0, start) : max(0, start) + length]
    return SoundClip(sample, info, features.of_track(track, info.frames, info.fps), wave.astype(np.float32))


def probe_all(samples: list[SoundSample], features: Features, workers: int = 2) -> tuple[list[SoundClip], list[str]]:
    """Probe every clip once; unusable ones are dropped, each with a message naming it."""
    return probe_each(samples, lambda s: probe_sound(s, features), workers)


def window(clip: SoundClip, frames: int, rng: random.Random | None) -> range:
    """Up to ``frames`` consecutive frame indices: from the start, or a random start with ``rng``."""
    n = min(frames, clip.info.frames) if frames > 0 else clip.info.frames
    start = rng.randint(0, clip.info.frames - n) if rng else 0
    return range(start, start + n)


class SoundDataset(Dataset):
    """Clips -> (frames ``(T, 3, S, S)``, targets ``(T, steps * bands)``); training draws a random window."""

    def __init__(self, clips: list[SoundClip], size: int, frames: int, steps: int, augment: bool):
        self.clips, self.size, self.frames, self.steps, self.augment = clips, size, frames, steps, augment

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray, float]:
        clip = self.clips[i]
        rng = random.Random(int(torch.randint(0, 2**31, (1,)))) if self.augment else None  # seeded per worker
        span = window(clip, self.frames, rng)
        pictures = decode(clip.sample.path, list(span), self.size)
        targets = clip.features[span.start * self.steps : span.stop * self.steps]  # (T * steps, M)
        return pictures, targets.reshape(len(span), -1), clip.info.fps * self.steps  # (T*steps, M) -> (T, steps*M)


def pad_batch(items: list[tuple[np.ndarray, np.ndarray, float]]) -> dict[str, Tensor]:
    """Frames ``(B, T_max, 3, S, S)`` and targets ``(B, T_max, K)``, zero-padded; ``(B,)`` frame counts and
    sound frame rates."""
    clips, lengths = pad_clips([f for f, _, _ in items])
    targets, _ = pad_clips([y for _, y, _ in items])  # (T_i, K) each -> (B, T_max, K)
    rates = torch.tensor([r for _, _, r in items], dtype=torch.float64)
    return {"clips": clips, "lengths": lengths, "targets": targets, "frame_rate": rates}
