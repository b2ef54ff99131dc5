"""The Lightning side of a clip classifier: cross-entropy over the clip's label."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from seqvision.training.module import ClassifierModule


class VideoTask(ClassifierModule):
    """Wraps a clip :class:`SeqModel` (classify head)."""

    def loss(self, batch: dict) -> tuple[Tensor, Tensor, Tensor]:
        logits, _ = self.model(batch["clips"], batch["lengths"])  # (B, K)
        return F.cross_entropy(logits, batch["labels"]), logits, batch["labels"]
