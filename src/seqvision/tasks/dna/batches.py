"""One-hot encoding and padded batches of DNA/RNA records for the ``onehot-cnn1d`` encoder.

Channels are A, C, G, T (U is the same channel as T). N is 0.25 in every channel: an unknown
base is "each base equally likely", so a motif filter answers it with the mean of its four
weights, and it stays distinct from the padding, which is all zeros and masked out anyway.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from seqvision.tasks.dna.bio import SeqRecord

CHANNELS = "ACGT"
_TABLE = np.zeros((256, 4), dtype=np.float32)
for _i, _base in enumerate(CHANNELS):
    _TABLE[ord(_base), _i] = 1.0
_TABLE[ord("U"), 3] = 1.0
_TABLE[ord("N"), :] = 0.25


def one_hot(sequence: str) -> np.ndarray:
    """An upper-case ``A C G T U N`` string -> ``(4, L)`` float32 (see the module doc for N).

    >>> one_hot("ACGUN")[:, [0, 3, 4]].T.tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], [0.25, 0.25, 0.25, 0.25]]
    """
    codes = np.frombuffer(sequence.encode("ascii"), dtype=np.uint8)
    return _TABLE[codes].T.copy()  # (L, 4) -> (4, L)


class SequenceDataset(Dataset):
    """Records -> ``(one-hot (4, L), targets (K,))``; targets are zeros when the records are unlabelled."""

    def __init__(self, records: list[SeqRecord], targets: np.ndarray | None = None):
        self.records = records
        self.targets = targets if targets is not None else np.zeros((len(records), 0), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return one_hot(self.records[i].sequence), self.targets[i]


def collate_sequences(items: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, torch.Tensor]:
    """Pad to the longest: ``{"images": (B, 4, 1, L), "widths": (B,), "targets": (B, K)}`` (padding is zeros)."""
    widths = [x.shape[1] for x, _ in items]
    images = torch.zeros(len(items), 4, 1, max(widths))
    for i, (x, _) in enumerate(items):
        images[i, :, 0, : x.shape[1]] = torch.from_numpy(x)
    targets = torch.from_numpy(np.stack([t for _, t in items]).astype(np.float32))
    return {"images": images, "widths": torch.tensor(widths), "targets": targets}
