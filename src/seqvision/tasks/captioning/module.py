"""The Lightning side of a captioning model: word cross-entropy + the attention regulariser, BLEU-4/CIDEr."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from seqvision.config import ExperimentConfig
from seqvision.nn.model import CaptionModel
from seqvision.tasks.captioning.metrics import caption_scores
from seqvision.tasks.captioning.search import decode
from seqvision.tasks.captioning.vocab import Vocabulary
from seqvision.training.distributed import gather_lists, sum_across_ranks
from seqvision.training.module import TrainingModule


def caption_loss(
    model: CaptionModel, batch: dict, attention_reg: float, sampling: float = 0.0
) -> tuple[Tensor, Tensor]:
    """(total loss, word cross-entropy) of a batch from :func:`collate_captions`."""
    cells = model.cells(batch["images"])[batch["owner"]]  # (B, N, C) -> (M, N, C): one row per caption
    logits, alphas = model.head(cells, batch["words"], sampling)  # (M, L, V), (M, L, N)
    targets = batch["targets"]
    xent = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=Vocabulary.pad)
    valid = (targets != Vocabulary.pad).float()[:, :, None]  # (M, L, 1): steps that write a word or <eos>
    coverage = (alphas * valid).sum(1)  # (M, L, N) -> (M, N): attention each cell got over the caption
    reg = ((1.0 - coverage) ** 2).sum(1).mean()
    return xent + attention_reg * reg, xent


class CaptioningModule(TrainingModule):
    """Wraps a :class:`CaptionModel`; logs ``train_loss``, ``val_loss``, ``val_bleu4`` and ``val_cider``."""

    def __init__(self, model: CaptionModel, vocab: Vocabulary, cfg: ExperimentConfig, total_steps: int):
        super().__init__(model, cfg.train, total_steps)
        self.vocab, self.caption = vocab, cfg.data.caption
        self._reset()

    def _reset(self) -> None:
        self.refs: list[list[str]] = []
        self.hyps: list[str] = []
        self.val_losses: list[float] = []

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        self._schedule()
        sampling = self.caption.sampling * self.progress()
        loss, xent = caption_loss(self.model, batch, self.caption.attention_reg, sampling)  # type: ignore[arg-type]
        self.log("train_loss", xent, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(batch["refs"]))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        _, xent = caption_loss(self.model, batch, self.caption.attention_reg)  # type: ignore[arg-type]
        self.val_losses.append(float(xent))
        cells = self.model.cells(batch["images"])  # type: ignore[operator]
        ids = decode(
            self.model.head, cells, Vocabulary.bos, Vocabulary.eos, self.caption.max_words, self.caption.beam_width
        )
        self.hyps += [self.vocab.decode(i) for i in ids]
        self.refs += batch["refs"]

    def on_validation_epoch_end(self) -> None:
        # BLEU and CIDEr are corpus-level: every rank scores all ranks' captions (data-parallel runs)
        hyps, refs = gather_lists(self.hyps), gather_lists(self.refs)
        loss_sum, batches = sum_across_ranks(self, [sum(self.val_losses), len(self.val_losses)])
        if hyps:
            scores, _ = caption_scores(refs, hyps, meteor=False)
            self.log("val_bleu4", scores["bleu4"], prog_bar=True)
            self.log("val_cider", scores["cider"], prog_bar=True)
            self.log("val_loss", loss_sum / max(batches, 1))
        self._reset()
