"""The Lightning side of a text-line model: CTC loss (case-folded for ``caseless:`` lines), greedy CER/WER."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from seqvision.config import TrainConfig
from seqvision.data.alphabet import Alphabet
from seqvision.nn.model import SeqModel
from seqvision.tasks.lines.decoding.ctc import greedy_decode
from seqvision.tasks.lines.distill import Teacher, distill_loss, feature_loss
from seqvision.tasks.lines.metrics import ErrorRates
from seqvision.training.distributed import sum_across_ranks
from seqvision.training.module import TrainingModule

__all__ = ["TextLineTask", "fold_case"]


class TextLineTask(TrainingModule):
    """Wraps a :class:`SeqModel` with a CTC head; the model stays a plain ``nn.Module``."""

    def __init__(
        self,
        model: SeqModel,
        alphabet: Alphabet,
        train_cfg: TrainConfig,
        total_steps: int,
        teacher: Teacher | None = None,
    ):
        super().__init__(model, train_cfg, total_steps)
        self.alphabet, self.teacher = alphabet, teacher
        pairs = alphabet.case_pairs()
        self.lower, self.upper = ([p[k] for p in pairs] for k in (0, 1))  # class indices, for caseless lines
        self.rates = ErrorRates()
        self.val_losses: list[float] = []

    def ctc_loss(self, batch: dict) -> tuple[Tensor, Tensor, Tensor]:
        loss, log_probs, lengths, _ = self._ctc_loss(batch)
        return loss, log_probs, lengths

    def _ctc_loss(self, batch: dict) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """:meth:`ctc_loss`, and the encoder's ``(B, T, C)`` features when ``train.distill_features`` needs them."""
        feats: Tensor | None = None
        if self.teacher is not None and self.cfg.distill_features > 0:
            log_probs, lengths, feats = self.model.forward_features(batch["images"], batch["widths"])
        else:
            log_probs, lengths = self.model(batch["images"], batch["widths"])  # (B, T, K)
        log_probs = log_probs.float()  # CTC in fp32 also under bf16 autocast
        caseless = batch.get("caseless")
        scored = log_probs
        if caseless is not None and bool(caseless.any()) and self.upper:
            scored = torch.where(caseless[:, None, None], fold_case(log_probs, self.lower, self.upper), log_probs)
        loss = F.ctc_loss(
            scored.transpose(0, 1),  # (T, B, K) as CTC wants
            batch["targets"],
            lengths,
            batch["target_lengths"],
            blank=Alphabet.BLANK,
            reduction="mean",
            zero_infinity=True,
        )
        return loss, log_probs, lengths, feats

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        self._schedule()
        loss, log_probs, lengths, feats = self._ctc_loss(batch)
        if self.teacher is not None:  # train.teacher: its frame posteriors (and features) as second targets
            n = len(batch["texts"])
            target, target_lengths, target_feats = self.teacher.outputs(batch["images"], batch["widths"])
            kd = distill_loss(log_probs, lengths, target, target_lengths, batch["target_lengths"])
            self.log("train_distill", kd, on_step=True, on_epoch=True, batch_size=n)
            loss = loss + self.cfg.distill * kd
            if feats is not None:
                hint = feature_loss(feats, target_feats, torch.minimum(lengths, target_lengths))
                self.log("train_hint", hint, on_step=True, on_epoch=True, batch_size=n)
                loss = loss + self.cfg.distill_features * hint
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(batch["texts"]))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        loss, log_probs, lengths = self.ctc_loss(batch)
        self.val_losses.append(float(loss))
        lp = log_probs.float().cpu().numpy()
        caseless = batch.get("caseless", [False] * len(batch["texts"]))
        for i, reference in enumerate(batch["texts"]):
            text = greedy_decode(lp[i], int(lengths[i]), self.alphabet).text
            if caseless[i]:
                text, reference = self.alphabet.fold_case(text), self.alphabet.fold_case(reference)
            self.rates.update(text, reference)

    def on_validation_epoch_end(self) -> None:
        # edit and length counts summed over data-parallel ranks first: the CER of the whole val set on every rank
        r = self.rates
        counts = [r.char_edits, r.chars, r.word_edits, r.words, r.lines, sum(self.val_losses), len(self.val_losses)]
        *totals, loss_sum, batches = sum_across_ranks(self, counts)
        rates = ErrorRates(*(int(t) for t in totals))
        if rates.lines:
            self.log("val_cer", rates.cer, prog_bar=True)
            self.log("val_wer", rates.wer, prog_bar=True)
            self.log("val_loss", loss_sum / max(batches, 1))
        self.rates, self.val_losses = ErrorRates(), []


def fold_case(log_probs: Tensor, lower: list[int], upper: list[int]) -> Tensor:
    """Log-probabilities where each upper-case class also holds its lower-case partner's mass.

    CTC against a case-folded target then counts a frame that reads ``a`` or ``A`` alike, so lines
    whose labels lost their case (``caseless:`` inputs) teach shapes without teaching capitals. The
    lower-case columns are left as they are: no path of an upper-case target passes through them.
    """
    folded = log_probs.clone()
    folded[..., upper] = torch.logaddexp(log_probs[..., upper], log_probs[..., lower])
    return folded
