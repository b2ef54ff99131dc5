"""Captioned images in memory for training: each item is one photo with all of its captions.

Photos are decoded once, squashed to ``size x size`` RGB and kept as uint8 (800 Flickr8k photos
at 128 px are 39 MB). A batch runs each photo through the CNN once and the decoder over every one
of its captions, so five captions cost one CNN pass.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from seqvision.errors import DataError
from seqvision.tasks.captioning.captions import CaptionSample, load_image
from seqvision.tasks.captioning.vocab import Vocabulary

CAPTION_NORMALISATION = {"method": "rgb", "range": [0.0, 1.0], "scale": "1/255", "resize": "squash to square"}


def to_tensor(images: np.ndarray | list[np.ndarray]) -> Tensor:
    """uint8 ``(B, 3, S, S)`` -> float in [0, 1]."""
    return torch.from_numpy(np.stack(images) if isinstance(images, list) else images).float() / 255.0


def load_samples(samples: list[CaptionSample], size: int) -> tuple[list[np.ndarray], list[CaptionSample], list[str]]:
    """Decoded photos, the samples that decoded, and one message per photo that did not."""
    images, kept, skipped = [], [], []
    for s in samples:
        try:
            images.append(load_image(s.image, size))
            kept.append(s)
        except DataError as exc:
            skipped.append(str(exc))
    return images, kept, skipped


class CaptionDataset(Dataset):
    def __init__(
        self, images: list[np.ndarray], samples: list[CaptionSample], vocab: Vocabulary, max_words: int, flip: bool
    ):
        self.images, self.samples, self.flip = images, samples, flip
        self.ids = [[vocab.encode(c)[:max_words] for c in s.captions] for s in samples]

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        image = self.images[i]
        if self.flip and torch.rand(()) < 0.5:
            image = image[:, :, ::-1].copy()  # mirror left-right
        return {"image": image, "ids": self.ids[i], "refs": list(self.samples[i].captions), "index": i}


def collate_captions(items: list[dict]) -> dict:
    """Photos ``(B, 3, S, S)``; every caption as ``<bos> w1..wn`` inputs and ``w1..wn <eos>`` targets ``(M, L)``,
    padded with 0, and ``owner`` ``(M,)``: the photo of each caption."""
    owner, inputs, targets = [], [], []
    for b, item in enumerate(items):
        for ids in item["ids"]:
            owner.append(b)
            inputs.append([Vocabulary.bos, *ids])
            targets.append([*ids, Vocabulary.eos])
    length = max(len(t) for t in targets)
    words = torch.zeros(len(inputs), length, dtype=torch.int64)
    target = torch.zeros(len(inputs), length, dtype=torch.int64)
    for m, (x, y) in enumerate(zip(inputs, targets, strict=True)):
        words[m, : len(x)] = torch.tensor(x)
        target[m, : len(y)] = torch.tensor(y)
    return {
        "images": to_tensor([it["image"] for it in items]),
        "words": words,
        "targets": target,
        "owner": torch.tensor(owner, dtype=torch.int64),
        "refs": [it["refs"] for it in items],
        "index": [it["index"] for it in items],
    }
