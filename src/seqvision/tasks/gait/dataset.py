"""Gait clips for training and inference: consecutive silhouette frames, P x K subject batches, collation.

Frames are taken consecutively at the clip's own rate (never spread over the clip: that would
change the cadence the model must read), from a random start in training and from the middle
otherwise; a shorter clip gives all its frames and the lengths mask the rest.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from seqvision.data.batches import RankBatches
from seqvision.data.clip_lists import probe_each
from seqvision.data.clips import ClipInfo, decode, pad_clips, probe, sample_indices
from seqvision.tasks.gait.sequences import GaitSample


@dataclass(frozen=True)
class ProbedWalk:
    sample: GaitSample
    info: ClipInfo


def probe_walks(samples: list[GaitSample], workers: int = 2) -> tuple[list[ProbedWalk], list[str]]:
    """Open every clip once; unreadable and zero-frame ones are dropped, each with a message."""
    return probe_each(samples, lambda s: ProbedWalk(s, probe(s.path)), workers)


def load_walk(walk: ProbedWalk, size: int, frames: int, rng: random.Random | None = None) -> np.ndarray:
    """``(T, 1, size, size)`` silhouettes in [0, 1], ``T <= frames`` consecutive frames."""
    indices = sample_indices(walk.info, frames, walk.info.fps or 1.0, rng)  # fps = its own rate: a step of 1
    rgb = decode(walk.sample.path, indices, size)  # (T, 3, S, S)
    return rgb.mean(1, keepdims=True)  # (T, 3, S, S) -> (T, 1, S, S)


class WalkDataset(Dataset):
    """Walks -> (silhouettes ``(T, 1, S, S)``, subject index, in the gallery); training takes a random start and
    mirror. ``gallery``: the walks of the gallery (validation ranks the others against them)."""

    def __init__(
        self,
        walks: list[ProbedWalk],
        subjects: list[str],
        size: int,
        frames: int,
        augment: bool,
        gallery: list[GaitSample] | None = None,
    ):
        self.walks, self.size, self.frames, self.augment = walks, size, frames, augment
        self.index = {subject: i for i, subject in enumerate(subjects)}
        self.gallery = set(gallery or [])

    def __len__(self) -> int:
        return len(self.walks)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int, bool]:
        walk = self.walks[i]
        rng = random.Random(int(torch.randint(0, 2**31, (1,)))) if self.augment else None  # seeded per worker
        clip = load_walk(walk, self.size, self.frames, rng)
        if rng and rng.random() < 0.5:  # walking the other way: the same person
            clip = np.ascontiguousarray(clip[..., ::-1])
        return clip, self.index[walk.sample.subject], walk.sample in self.gallery


class SubjectBatches(RankBatches):
    """P x K batches for batch-hard mining: ``subjects`` subjects, ``per_subject`` clips each (repeated if short).

    An epoch has about as many clips as the data set; subjects are drawn without repeats within a batch.
    """

    def __init__(self, labels: list[int], subjects: int, per_subject: int, seed: int = 0):
        super().__init__(shuffle=True, seed=seed)
        self.by_subject: dict[int, list[int]] = {}
        for i, label in enumerate(labels):
            self.by_subject.setdefault(label, []).append(i)
        self.p, self.k = max(2, min(subjects, len(self.by_subject))), max(2, per_subject)
        self.count = max(1, len(labels) // (self.p * self.k))

    def global_count(self) -> int:
        return self.count

    def global_batches(self) -> list[list[int]]:
        ids, batches = sorted(self.by_subject), []
        for _ in range(self.count):
            batch = []
            for subject in self.rng.sample(ids, self.p):
                clips = self.by_subject[subject]
                pick = self.rng.sample(clips, self.k) if len(clips) >= self.k else self.rng.choices(clips, k=self.k)
                batch += pick
            batches.append(batch)
        return batches


def collate_walks(items: list[tuple[np.ndarray, int, bool]]) -> dict[str, Tensor]:
    clips, lengths = pad_clips([a for a, _, _ in items])  # (B, T, 1, S, S), (B,)
    subjects = torch.tensor([y for _, y, _ in items], dtype=torch.int64)
    return {"clips": clips, "lengths": lengths, "subjects": subjects, "gallery": torch.tensor([g for *_, g in items])}
