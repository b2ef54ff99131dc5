"""The Lightning side of a forecaster: masked MSE, scores against the persistence baseline, summed across ranks."""

from __future__ import annotations

import torch
from torch import Tensor

from seqvision.config import TrainConfig
from seqvision.tasks.forecast.metrics import ForecastScores
from seqvision.tasks.forecast.model import ForecastModel
from seqvision.tasks.forecast.normalise import Normalisation
from seqvision.training.distributed import sum_across_ranks
from seqvision.training.module import TrainingModule


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error over the pixels where ``mask`` is 1 (elsewhere even NaN counts for nothing)."""
    err = torch.where(mask > 0, pred - target, torch.zeros_like(pred))
    return (err**2).sum() / mask.sum().clamp_min(1.0)


def persistence(inputs: Tensor, frames_out: int) -> Tensor:
    """The baseline: the last input frame, repeated. ``(B, T_in, C, H, W)`` -> ``(B, T_out, C, H, W)``."""
    return inputs[:, -1:].expand(-1, frames_out, -1, -1, -1)


SUMS = ("sq", "abs", "pixels", "frames", "ssim", "hits", "misses", "false_alarms")  # ForecastScores' counts


class ForecastModule(TrainingModule):
    """Wraps a :class:`ForecastModel`; logs val_loss, val_mse_frame, val_mae_frame, val_ssim, val_csi, val_persist_*."""

    def __init__(
        self,
        model: ForecastModel,
        norm: Normalisation,
        threshold: float | None,
        train_cfg: TrainConfig,
        total_steps: int,
    ):
        super().__init__(model, train_cfg, total_steps)  # type: ignore[arg-type]
        self.norm, self.threshold = norm, threshold
        self._reset()

    def _reset(self) -> None:
        frames_out: int = self.model.frames_out  # type: ignore[assignment]
        self.scores = ForecastScores(frames_out, self.threshold)
        self.baseline = ForecastScores(frames_out, self.threshold)
        self.losses: list[tuple[float, int]] = []

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        self._schedule()
        loss = masked_mse(self.model(batch["inputs"]), batch["targets"], batch["mask"])
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(batch["inputs"]))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        pred = self.model(batch["inputs"])
        self.losses.append((float(masked_mse(pred, batch["targets"], batch["mask"])), len(pred)))
        score(self.scores, pred, batch, self.norm)
        score(self.baseline, persistence(batch["inputs"], pred.shape[1]), batch, self.norm)

    def on_validation_epoch_end(self) -> None:
        # each rank validated its own batches: sum the counts of all of them (every rank calls this)
        weighted, count = sum_across_ranks(self, [sum(v * n for v, n in self.losses), sum(n for _, n in self.losses)])
        for scores in (self.scores, self.baseline):
            for name in SUMS:
                sums = getattr(scores, name)
                setattr(scores, name, torch.tensor(sum_across_ranks(self, sums.tolist()), dtype=sums.dtype))
        if count:
            self.log("val_loss", weighted / count, prog_bar=True)
            for prefix, scores in (("val_", self.scores), ("val_persist_", self.baseline)):
                for k, v in scores.summary().items():
                    if k in ("mse_frame", "mae_frame", "ssim", "csi"):
                        self.log(prefix + k, v)
        self._reset()


def score(scores: ForecastScores, pred: Tensor, batch: dict, norm: Normalisation) -> None:
    """Add a batch of normalised predictions to ``scores`` (in data units)."""
    target = batch["targets"]
    scores.update(norm.inverse(pred), norm.inverse(target), batch["mask"], pred, target)
