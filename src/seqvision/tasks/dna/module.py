"""The Lightning side of a DNA/RNA model (BCE per label, ROC-AUC and PR-AUC) and the tensors it trains on."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader

from seqvision.config import TrainConfig
from seqvision.data.batches import RandomBatches
from seqvision.errors import DataError
from seqvision.nn.encoders.base import Encoder
from seqvision.nn.model import SeqModel
from seqvision.tasks.dna.batches import SequenceDataset, collate_sequences
from seqvision.tasks.dna.bio import SeqRecord, targets
from seqvision.tasks.dna.ranking import average_precision, macro, roc_auc
from seqvision.training.distributed import gather_lists
from seqvision.training.module import TrainingModule


class DnaModule(TrainingModule):
    """BCE with logits per label; collects validation probabilities for ROC-AUC and PR-AUC."""

    def __init__(self, model: SeqModel, labels: list[str], train_cfg: TrainConfig, total_steps: int):
        super().__init__(model, train_cfg, total_steps)
        self.labels = labels
        self.scores: list[Tensor] = []
        self.truth: list[Tensor] = []
        self.val_losses: list[float] = []

    def loss(self, batch: dict) -> tuple[Tensor, Tensor]:
        logits, _ = self.model(batch["images"], batch["widths"])  # (B, K)
        return F.binary_cross_entropy_with_logits(logits, batch["targets"]), logits

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        self._schedule()
        loss, _ = self.loss(batch)
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(batch["widths"]))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        loss, logits = self.loss(batch)
        self.val_losses.append(float(loss) * len(logits))
        self.scores.append(torch.sigmoid(logits).float().cpu())
        self.truth.append(batch["targets"].cpu())

    def on_validation_epoch_end(self) -> None:
        # AUCs are ranking metrics over the whole set: every rank gathers all ranks' scores (all must call this)
        self.scores, self.truth = gather_lists(self.scores), gather_lists(self.truth)
        self.val_losses = gather_lists(self.val_losses)
        if self.scores:
            scores, truth = torch.cat(self.scores).numpy(), torch.cat(self.truth).numpy()
            self.log("val_auroc", macro(roc_auc, truth, scores), prog_bar=True)
            self.log("val_auprc", macro(average_precision, truth, scores), prog_bar=True)
            self.log("val_loss", sum(self.val_losses) / len(scores))
        self.scores, self.truth, self.val_losses = [], [], []


def target_matrix(records: list[SeqRecord], labels: list[str], what: str) -> np.ndarray:
    """``(N, K)`` 0/1 targets of ``records`` against the model's ``labels``."""
    return np.array([targets(r, labels, what) for r in records], dtype=np.float32).reshape(len(records), len(labels))


def check_lengths(records: list[SeqRecord], model: SeqModel) -> None:
    """Every record must give the sequence model at least one step (the max-pool drops a shorter tail)."""
    encoder = model.encoder
    assert isinstance(encoder, Encoder)  # a sequence model's encoder is a plain one (onehot-cnn1d)
    steps = encoder.output_lengths(torch.tensor([len(r.sequence) for r in records], dtype=torch.int64))
    for r, n in zip(records, steps.tolist(), strict=True):
        if n < 1:
            raise DataError(
                f"{r.source}: record {r.id!r} is {len(r.sequence)} bases long, too short for this model "
                f"(time stride {model.encoder.time_stride})"
            )


def sequence_loader(
    records: list[SeqRecord], y: np.ndarray | None, batch_size: int, shuffle: bool, workers: int, seed: int = 0
) -> DataLoader:
    """Batches split across data-parallel ranks (:mod:`seqvision.data.batches`); one process: as ``shuffle`` says."""
    return DataLoader(
        SequenceDataset(records, y),
        batch_sampler=RandomBatches(len(records), batch_size, shuffle=shuffle, seed=seed),
        collate_fn=collate_sequences,
        num_workers=workers,
        persistent_workers=workers > 0,
    )
