"""Line datasets for training: checked samples, width-bucketed batches, padded collation."""

from __future__ import annotations

import itertools
import random
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from seqvision.data.alphabet import Alphabet
from seqvision.data.augment import augment_line
from seqvision.data.batches import RankBatches
from seqvision.data.images import PageCache, image_size, load_line, normalise, pad_arrays, resize_to_height
from seqvision.data.samples import LineSample
from seqvision.errors import DataError


def ctc_frames_needed(ids: list[int]) -> int:
    """Minimum output frames CTC needs for a target: one per label plus a blank between repeats."""
    return len(ids) + sum(1 for a, b in itertools.pairwise(ids) if a == b)


@dataclass
class CheckedLines:
    samples: list[LineSample]
    widths: list[int]  # width after scaling to the model height
    skipped: list[str]


def check_lines(
    samples: list[LineSample],
    alphabet: Alphabet,
    height: int,
    output_length: Callable[[int], int],
    max_width: int,
    known_only: bool = False,
) -> CheckedLines:
    """Keep the lines a model can learn from; every dropped line gets a message naming it and why.

    Reads image headers only. A line is dropped when its file cannot be read, when it is wider than
    ``max_width`` after scaling, or when it is too short for CTC to emit its transcription; with
    ``known_only`` (training lines under a fixed alphabet) also when its text has a character the
    alphabet lacks, since its image would then show more than its target says.
    """
    kept, widths, skipped = [], [], []
    for s in samples:
        unknown = alphabet.unknown([s.text]) if known_only else None
        if unknown:
            chars = "".join(sorted(unknown))
            skipped.append(f"{s.source}: characters outside the alphabet ({chars!r})")
            continue
        try:
            w, h = image_size(s)
        except DataError as exc:
            skipped.append(str(exc))
            continue
        if w < 1 or h < 1:
            skipped.append(f"{s.source}: image has zero size")
            continue
        width = max(4, round(w * height / h))
        frames, needed = output_length(width), ctc_frames_needed(alphabet.encode(s.text))
        if frames < needed:
            skipped.append(
                f"{s.source}: line too short for its transcription ({w}x{h} px gives {frames} frames, "
                f"{len(s.text)} characters need {needed})"
            )
        elif width > max_width:
            skipped.append(f"{s.source}: line wider than data.max_width ({width} > {max_width} px at height {height})")
        else:
            kept.append(s)
            widths.append(width)
    return CheckedLines(kept, widths, skipped)


class LineDataset(Dataset):
    """Decodes, optionally augments and normalises one line per item: ``(array (H, W), target ids, text, caseless)``.

    The targets of a caseless line are case-folded (:meth:`Alphabet.fold_case`); its text stays as read.
    """

    def __init__(
        self,
        samples: list[LineSample],
        alphabet: Alphabet,
        height: int,
        augment: bool = False,
        seed: int = 0,
        warp: float = 0.0,
    ):
        self.samples, self.alphabet, self.height, self.augment = samples, alphabet, height, augment
        self.warp = warp  # grid distortion strength of the augmentation (data.warp)
        self.rng = random.Random(seed)
        self.pages = PageCache()
        self.bad: set[str] = set()

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[np.ndarray, list[int], str, bool]:
        """A line whose pixels turn out unreadable (header fine, data corrupt) is replaced by another."""
        for attempt in range(len(self.samples)):
            s = self.samples[(i + attempt) % len(self.samples)]
            try:
                img = resize_to_height(load_line(s, self.pages), self.height)
                break
            except DataError as exc:
                if s.source not in self.bad:
                    self.bad.add(s.source)
                    warnings.warn(f"skipping unreadable line {s.source}: {exc}", stacklevel=2)
        else:
            raise DataError("no line of the dataset can be decoded")
        if self.augment:
            img = augment_line(img, self.rng, self.warp)
        text = self.alphabet.fold_case(s.text) if s.caseless else s.text
        return normalise(img), self.alphabet.encode(text), s.text, s.caseless


class WidthBucketSampler(RankBatches):
    """Batches of similar width (little padding), in a new random order every epoch.

    Widths get multiplicative noise before sorting so batch composition varies between epochs.
    The order of epoch ``e`` depends only on ``(seed, e)`` (see :class:`~seqvision.data.batches.RankBatches`).
    ``batch_size`` is the global batch, split across data-parallel ranks (:mod:`seqvision.data.batches`).
    """

    def __init__(self, widths: list[int], batch_size: int, shuffle: bool = True, seed: int = 0):
        super().__init__(shuffle, seed)
        self.widths, self.batch_size = widths, batch_size

    def global_count(self) -> int:
        return (len(self.widths) + self.batch_size - 1) // self.batch_size

    def global_batches(self) -> list[list[int]]:
        keys = [w * self.rng.uniform(0.9, 1.1) for w in self.widths] if self.shuffle else list(self.widths)
        order = sorted(range(len(keys)), key=keys.__getitem__)
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.shuffle:
            self.rng.shuffle(batches)
        return batches


def pad_batch(arrays: list[np.ndarray], multiple: int = 16) -> tuple[Tensor, Tensor]:
    """:func:`~seqvision.data.images.pad_arrays` as tensors: images ``(B, 1, H, W)``, true widths ``(B,)``."""
    batch, widths = pad_arrays(arrays, multiple)
    return torch.from_numpy(batch), torch.from_numpy(widths)


def collate_lines(items: list[tuple[np.ndarray, list[int], str, bool]]) -> dict:
    """Items ``(image, target ids, text, caseless)`` -> one padded batch (``caseless``: labels without case)."""
    images, widths = pad_batch([it[0] for it in items])
    targets = torch.tensor([i for it in items for i in it[1]], dtype=torch.long)
    target_lengths = torch.tensor([len(it[1]) for it in items], dtype=torch.long)
    return {
        "images": images,
        "widths": widths,
        "targets": targets,
        "target_lengths": target_lengths,
        "texts": [it[2] for it in items],
        "caseless": torch.tensor([it[3] for it in items], dtype=torch.bool),
    }
