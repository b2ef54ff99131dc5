"""Text-line recognition task: CTC loss, greedy decoding, CER/WER; the Lightning side of a CRNN."""

from __future__ import annotations

import math
import time

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Timer
from torch import Tensor

from seqvision.config import TrainConfig
from seqvision.decoding.alphabet import Alphabet
from seqvision.decoding.ctc import greedy_decode
from seqvision.metrics import ErrorRates
from seqvision.model import SeqModel


def training_seconds(trainer: L.Trainer, since: float) -> float:
    """Training time so far: from Lightning's ``Timer`` (which survives ``--resume``), else since ``since``."""
    timer = next((c for c in trainer.callbacks if isinstance(c, Timer)), None)  # type: ignore[attr-defined]
    return timer.time_elapsed("train") if timer else time.monotonic() - since


class TextLineTask(L.LightningModule):
    """Wraps a :class:`SeqModel` with a CTC head; the model stays a plain ``nn.Module``."""

    def __init__(self, model: SeqModel, alphabet: Alphabet, train_cfg: TrainConfig, total_steps: int):
        super().__init__()
        self.model, self.alphabet, self.cfg = model, alphabet, train_cfg
        self.total_steps = max(total_steps, 1)
        self.budget_s = train_cfg.max_minutes * 60
        self.start_time = time.monotonic()
        self.rates = ErrorRates()
        self.val_losses: list[float] = []

    def ctc_loss(self, batch: dict) -> tuple[Tensor, Tensor, Tensor]:
        log_probs, lengths = self.model(batch["images"], batch["widths"])  # (B, T, K)
        loss = F.ctc_loss(
            log_probs.transpose(0, 1),  # (T, B, K) as CTC wants
            batch["targets"],
            lengths,
            batch["target_lengths"],
            blank=Alphabet.BLANK,
            reduction="mean",
            zero_infinity=True,
        )
        return loss, log_probs, lengths

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        self._schedule()
        loss, _, _ = self.ctc_loss(batch)
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(batch["texts"]))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        loss, log_probs, lengths = self.ctc_loss(batch)
        self.val_losses.append(float(loss))
        lp = log_probs.float().cpu().numpy()
        for i, reference in enumerate(batch["texts"]):
            self.rates.update(greedy_decode(lp[i], int(lengths[i]), self.alphabet).text, reference)

    def on_validation_epoch_end(self) -> None:
        if self.rates.lines:
            self.log("val_cer", self.rates.cer, prog_bar=True)
            self.log("val_wer", self.rates.wer, prog_bar=True)
            self.log("val_loss", sum(self.val_losses) / len(self.val_losses))
        self.rates, self.val_losses = ErrorRates(), []

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.model.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay, fused=True
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
