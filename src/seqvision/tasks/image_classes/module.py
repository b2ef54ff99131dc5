"""The Lightning side of an image classifier: cross-entropy on the class a line's transcription names."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from seqvision.config import TrainConfig
from seqvision.nn.model import SeqModel
from seqvision.training.module import ClassifierModule


class ImageClassTask(ClassifierModule):
    """Wraps a line :class:`SeqModel` with a classify head; the class is the line's transcription."""

    def __init__(self, model: SeqModel, labels: list[str], train_cfg: TrainConfig, total_steps: int):
        super().__init__(model, labels, train_cfg, total_steps)
        self.index = {label: i for i, label in enumerate(labels)}

    def loss(self, batch: dict) -> tuple[Tensor, Tensor, Tensor]:
        logits, _ = self.model(batch["images"], batch["widths"])  # (B, K)
        # a validation class never seen in training gets -100: ignored by the loss, counted wrong
        target = torch.tensor([self.index.get(t, -100) for t in batch["texts"]], device=logits.device)
        return F.cross_entropy(logits, target, ignore_index=-100), logits, target
