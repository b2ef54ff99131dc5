"""The Lightning side every task's training shares: AdamW with a warm-up + cosine schedule that ends with the
time budget, an optional frozen encoder, and the classifier module of the tasks with a ``classify`` head.

Kept apart from :mod:`seqvision.tasks.base` so that registering a task (``seqvision --help``, ``read``)
never imports Lightning: a task imports its module from here when ``prepare`` runs.
"""

from __future__ import annotations

import math
import time
from abc import abstractmethod

import lightning as L
import torch
from lightning.pytorch.callbacks import Timer

from seqvision.config import TrainConfig
from seqvision.nn.model import SeqModel
from seqvision.training.distributed import sum_across_ranks


def training_seconds(trainer: L.Trainer, since: float) -> float:
    """Training time so far: from Lightning's ``Timer`` (which survives ``--resume``), else since ``since``."""
    timer = next((c for c in trainer.callbacks if isinstance(c, Timer)), None)  # type: ignore[attr-defined]
    return timer.time_elapsed("train") if timer else time.monotonic() - since


class TrainingModule(L.LightningModule):
    """The Lightning side shared by every task: AdamW, warm-up + cosine schedule that ends with the budget."""

    def __init__(self, model: SeqModel, train_cfg: TrainConfig, total_steps: int):
        super().__init__()
        self.model, self.cfg = model, train_cfg
        self.total_steps = max(total_steps, 1)
        self.budget_s = train_cfg.max_minutes * 60
        self.start_time = time.monotonic()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # Lightning's mixed precision refuses to clip the gradients of a fused optimizer (it would unscale them)
        fused = self.cfg.precision == "32"
        return torch.optim.AdamW(
            self.model.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay, fused=fused
        )

    def progress(self) -> float:
        """Fraction of training done: by steps, or by the time budget when that comes first.

        Time comes from Lightning's ``Timer`` (which survives ``--resume``) when the trainer has one.
        """
        done = self.global_step / self.total_steps
        if self.budget_s > 0:
            done = max(done, training_seconds(self.trainer, self.start_time) / self.budget_s)
        return min(done, 1.0)

    def _schedule(self) -> None:
        """Linear warm-up over the first 3 %, then cosine decay to 2 % of the peak, ending with the budget."""
        p = self.progress()
        factor = p / 0.03 if p < 0.03 else 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * (p - 0.03) / 0.97))
        for group in self.optimizers().param_groups:  # type: ignore[union-attr]
            group["lr"] = self.cfg.lr * factor
        self.log("lr", self.cfg.lr * factor, on_step=True, on_epoch=False)
        self._freeze(self.model.encoder, self.global_step < self.cfg.freeze_encoder_steps)
        rest_frozen = self.global_step < self.cfg.freeze_sequence_steps
        for name in ("sequence", "head"):
            if (part := getattr(self.model, name, None)) is not None:
                self._freeze(part, rest_frozen)

    def _freeze(self, part: torch.nn.Module, frozen: bool) -> None:
        """``train.freeze_encoder_steps`` / ``freeze_sequence_steps``: one side learns while the other stays fixed.

        A fine-tuned head and sequence model first learn on fixed features; a new encoder first learns
        to feed a trained sequence model. Frozen parts also keep their dropout and BatchNorm statistics off.
        """
        first = next(part.parameters(), None)  # runs every step: no list of all the parameters
        if first is None:
            return
        if frozen:
            part.eval()  # every step: Lightning puts the whole model back in train mode each epoch
        elif not part.training and self.model.training:
            part.train()
        if first.requires_grad == frozen:
            part.requires_grad_(not frozen)


class ClassifierModule(TrainingModule):
    """A model with a ``classify`` head trained with cross-entropy; logs ``val_acc`` and ``val_loss``.

    Subclasses say how a batch becomes ``(loss, logits (B, K), target (B,))`` in :meth:`loss`; a
    target of -100 (a class never seen in training) is ignored by the loss and counted wrong.
    """

    def __init__(self, model: SeqModel, labels: list[str], train_cfg: TrainConfig, total_steps: int):
        super().__init__(model, train_cfg, total_steps)
        self.labels = labels
        self.correct = self.total = 0
        self.val_losses: list[float] = []

    @abstractmethod
    def loss(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        self._schedule()
        loss, _, target = self.loss(batch)
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(target))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        loss, logits, target = self.loss(batch)
        self.val_losses.append(float(loss))
        self.correct += int((logits.argmax(-1) == target).sum())
        self.total += len(target)

    def on_validation_epoch_end(self) -> None:
        # counts summed over data-parallel ranks first, so every rank logs the accuracy of the whole val set
        correct, total, loss_sum, batches = sum_across_ranks(
            self, [self.correct, self.total, sum(self.val_losses), len(self.val_losses)]
        )
        if total:
            self.log("val_acc", correct / total, prog_bar=True)
            self.log("val_loss", loss_sum / max(batches, 1))
        self.correct = self.total = 0
        self.val_losses = []
