"""The Lightning side of emotion: cross-entropy of the fused logits plus each stream's own; accuracy and UAR."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from seqvision.config import TrainConfig
from seqvision.tasks.emotion.metrics import accuracy, uar
from seqvision.tasks.emotion.model import EmotionModel
from seqvision.training.distributed import sum_across_ranks
from seqvision.training.module import TrainingModule


def emotion_loss(fused: Tensor, own: Tensor, labels: Tensor, aux_weight: float, fusion: str) -> Tensor:
    """Cross-entropy of the fused logits (log-probabilities for ``sum``), plus ``aux_weight`` x each stream's own
    (``sum`` trains the streams only through their own: its fusion has nothing to learn)."""
    if own.shape[1] == 1:
        return F.cross_entropy(fused, labels)
    streams = torch.stack([F.cross_entropy(own[:, s], labels) for s in range(own.shape[1])]).mean()
    if fusion == "sum":
        return streams
    return F.cross_entropy(fused, labels) + aux_weight * streams


class EmotionModule(TrainingModule):
    """Logs ``val_uar`` (selects the model), ``val_acc``, ``val_loss``, and for two streams each stream's UAR."""

    def __init__(self, model: EmotionModel, labels: list[str], aux_weight: float, train_cfg: TrainConfig, steps: int):
        super().__init__(model, train_cfg, steps)  # type: ignore[arg-type]  # two streams, not one SeqModel
        self.labels, self.aux_weight = labels, aux_weight
        self.streams, self.fusion = model.streams, model.fusion
        self._reset()

    def _reset(self) -> None:
        k, s = len(self.labels), len(self.streams)
        self.matrices = np.zeros((1 + s, k, k), dtype=np.int64)  # fused, then each stream
        self.loss_sum, self.batches = 0.0, 0

    def loss(self, batch: dict) -> tuple[Tensor, Tensor, Tensor]:
        fused, own = self.model(batch["clips"], batch["lengths"], batch["audio"], batch["audio_lengths"])
        return emotion_loss(fused, own, batch["labels"], self.aux_weight, self.fusion), fused, own

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        self._schedule()
        loss, _, _ = self.loss(batch)
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(batch["labels"]))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        loss, fused, own = self.loss(batch)
        self.loss_sum, self.batches = self.loss_sum + float(loss), self.batches + 1
        truth = batch["labels"].cpu().numpy()
        guesses = torch.cat([fused[:, None], own], 1).argmax(-1).cpu().numpy()  # (B, 1 + streams)
        for j in range(guesses.shape[1]):
            np.add.at(self.matrices[j], (truth, guesses[:, j]), 1)

    def on_validation_epoch_end(self) -> None:
        flat = sum_across_ranks(self, [*self.matrices.reshape(-1).tolist(), self.loss_sum, self.batches])
        matrices = np.asarray(flat[:-2], dtype=np.int64).reshape(self.matrices.shape)
        if matrices[0].sum():
            self.log("val_uar", uar(matrices[0]), prog_bar=True)
            self.log("val_acc", accuracy(matrices[0]))
            self.log("val_loss", flat[-2] / max(flat[-1], 1))
            if len(self.streams) > 1:
                for stream, m in zip(self.streams, matrices[1:], strict=True):
                    self.log(f"val_{stream}_uar", uar(m))
        self._reset()
