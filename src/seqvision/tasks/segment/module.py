"""The Lightning side of the page segmenter: weighted BCE on the two maps, cBAD-style baseline F1 on whole pages."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from seqvision.config import TrainConfig
from seqvision.tasks.segment.geometry import Segmentation
from seqvision.tasks.segment.ground_truth import PageLayout
from seqvision.tasks.segment.metrics import baseline_scores
from seqvision.tasks.segment.model import STRIDE, SegmentModel
from seqvision.tasks.segment.vectorise import vectorise
from seqvision.training.distributed import sum_across_ranks
from seqvision.training.module import TrainingModule


def map_loss(logits: Tensor, targets: Tensor, baseline_weight: float) -> Tensor:
    """BCE over both maps, baseline pixels weighted ``baseline_weight`` times (they are a thin band)."""
    weight = torch.ones_like(targets)
    weight[:, 0] += (baseline_weight - 1.0) * targets[:, 0]
    return F.binary_cross_entropy_with_logits(logits.float(), targets, weight=weight)


def segment_page(probs: np.ndarray, factor: float, size: tuple[int, int]) -> Segmentation:
    """``(2, h, w)`` map probabilities of a page scaled by ``factor`` -> its lines in page pixels, in reading order."""
    width, height = size
    h, w = round(height * factor / STRIDE), round(width * factor / STRIDE)  # the page without its padding
    lines = vectorise(probs[0, :h, :w], probs[1, :h, :w], STRIDE / factor)
    return Segmentation(width, height, lines)


class SegmentModule(TrainingModule):
    """Wraps a :class:`SegmentModel`; logs val_loss and the baseline precision, recall and F1 of the val pages."""

    def __init__(
        self, model: SegmentModel, val_pages: list[PageLayout], baseline_weight: float, cfg: TrainConfig, steps: int
    ):
        super().__init__(model, cfg, steps)  # type: ignore[arg-type]
        self.val_pages, self.baseline_weight = val_pages, baseline_weight
        self._reset()

    def _reset(self) -> None:
        self.sums = [0.0, 0.0, 0.0, 0.0, 0.0]  # precision, recall, f1, loss, pages

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        self._schedule()
        loss = map_loss(self.model(batch["pages"]), batch["targets"], self.baseline_weight)
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(batch["pages"]))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        logits = self.model(batch["pages"])
        loss = float(map_loss(logits, batch["targets"], self.baseline_weight))
        page = self.val_pages[int(batch["index"])]
        truth = page.segmentation
        found = segment_page(
            torch.sigmoid(logits.float())[0].cpu().numpy(), float(batch["factor"]), (truth.width, truth.height)
        )
        scores = baseline_scores([line.baseline for line in truth.lines], [line.baseline for line in found.lines])
        for k, value in enumerate((scores["precision"], scores["recall"], scores["f1"], loss, 1.0)):
            self.sums[k] += value

    def on_validation_epoch_end(self) -> None:
        precision, recall, f1, loss, pages = sum_across_ranks(self, self.sums)
        if pages:
            self.log("val_f1", f1 / pages, prog_bar=True)
            self.log("val_precision", precision / pages)
            self.log("val_recall", recall / pages)
            self.log("val_loss", loss / pages)
        self._reset()
