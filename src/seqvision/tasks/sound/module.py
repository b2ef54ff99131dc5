"""The Lightning side of the sound task: L1 or L2 on log-mel features of every valid frame; onset scores."""

from __future__ import annotations

import numpy as np
from torch import Tensor

from seqvision.config import TrainConfig
from seqvision.nn.masking import length_mask
from seqvision.nn.model import SeqModel
from seqvision.tasks.sound.metrics import SoundScores
from seqvision.training.distributed import sum_across_ranks
from seqvision.training.module import TrainingModule

SUMS = ("error", "baseline", "values", "hits", "predicted", "true", "clips")


def feature_loss(pred: Tensor, target: Tensor, lengths: Tensor, loss: str) -> Tensor:
    """Mean L1 (or squared) error over the valid frames of ``(B, T, K)`` predictions; padding counts for nothing."""
    mask = length_mask(lengths, pred.shape[1])[:, :, None].to(pred.dtype)  # (B, T, 1)
    diff = (pred - target) * mask
    err = diff.abs() if loss == "l1" else diff**2
    return err.sum() / (mask.sum() * pred.shape[2]).clamp_min(1.0)


class SoundModule(TrainingModule):
    """A clip :class:`SeqModel` with a ``regress`` head; logs val_loss, val_mean_sound_loss, val_onset_accuracy."""

    def __init__(
        self, model: SeqModel, mean: np.ndarray, bands: int, loss: str, train_cfg: TrainConfig, total_steps: int
    ):
        super().__init__(model, train_cfg, total_steps)
        self.mean, self.bands, self.loss_name = mean, bands, loss
        self.scores = SoundScores(loss)

    def loss(self, batch: dict) -> Tensor:
        pred, _ = self.model(batch["clips"], batch["lengths"])  # (B, T, steps * M)
        return feature_loss(pred, batch["targets"], batch["lengths"], self.loss_name)

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        self._schedule()
        loss = self.loss(batch)
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(batch["lengths"]))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        pred, _ = self.model(batch["clips"], batch["lengths"])
        for i, n in enumerate(batch["lengths"].tolist()):
            p = pred[i, :n].float().cpu().numpy().reshape(-1, self.bands)  # (T, steps * M) -> (T * steps, M)
            y = batch["targets"][i, :n].cpu().numpy().reshape(-1, self.bands)
            self.scores.update(p, y, self.mean, float(batch["frame_rate"][i]))

    def on_validation_epoch_end(self) -> None:
        totals = sum_across_ranks(self, [float(getattr(self.scores, k)) for k in SUMS])
        for k, v in zip(SUMS, totals, strict=True):
            setattr(self.scores, k, v)
        if self.scores.values:
            summary = self.scores.summary()
            self.log("val_loss", summary["loss"], prog_bar=True)
            self.log("val_mean_sound_loss", summary["mean_sound_loss"])
            self.log("val_onset_accuracy", summary["onset_accuracy"])
        self.scores = SoundScores(self.loss_name)
