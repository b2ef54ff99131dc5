"""Clip datasets for training: probed clips, sampled and decoded frames, padded collation."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from seqvision.config import ClipConfig
from seqvision.data.clip_lists import probe_each
from seqvision.data.clips import ClipInfo, decode, pad_clips, probe, sample_indices
from seqvision.tasks.video.clips import ClipSample


@dataclass(frozen=True)
class ProbedClip:
    sample: ClipSample
    info: ClipInfo


def probe_clips(samples: list[ClipSample], workers: int = 2) -> tuple[list[ProbedClip], list[str]]:
    """Open every clip once: corrupt, truncated, zero-frame and unreadable ones are dropped, each with a message."""
    return probe_each(samples, lambda s: ProbedClip(s, probe(s.path)), workers)


def load_clip(clip: ProbedClip, size: int, cfg: ClipConfig, rng: random.Random | None = None) -> np.ndarray:
    """``(T, 3, size, size)`` frames of one clip: uniform (or at ``cfg.fps``); a random crop when ``rng`` is given."""
    return decode(clip.sample.path, sample_indices(clip.info, cfg.frames, cfg.fps, rng, cfg.crop), size)


class ClipDataset(Dataset):
    """Clips -> (frames ``(T, 3, S, S)``, class index); training draws a random temporal crop each time."""

    def __init__(self, clips: list[ProbedClip], labels: list[str], size: int, cfg: ClipConfig, augment: bool):
        self.clips, self.size, self.cfg, self.augment = clips, size, cfg, augment
        self.index = {label: i for i, label in enumerate(labels)}

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        clip = self.clips[i]
        rng = random.Random(int(torch.randint(0, 2**31, (1,)))) if self.augment else None  # seeded per worker
        return load_clip(clip, self.size, self.cfg, rng), self.index[clip.sample.label]


def collate_clips(items: list[tuple[np.ndarray, int]]) -> dict[str, Tensor]:
    clips, lengths = pad_clips([a for a, _ in items])
    return {"clips": clips, "lengths": lengths, "labels": torch.tensor([y for _, y in items], dtype=torch.int64)}
