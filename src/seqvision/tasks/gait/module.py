"""The Lightning side of a gait model: a metric loss on its embeddings, gallery/probe ranking in validation."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from seqvision.config import GaitConfig, TrainConfig
from seqvision.nn.model import SeqModel
from seqvision.tasks.gait.losses import arcface_loss, batch_hard_triplet
from seqvision.tasks.gait.metrics import retrieval_scores
from seqvision.training.module import TrainingModule

LOSSES = ("triplet", "arcface")


class GaitTask(TrainingModule):
    """Wraps a clip :class:`SeqModel` with an ``embed`` head; logs ``val_rank1``, ``val_rank5`` and ``val_map``.

    Validation embeds every clip of the held-out subjects, then ranks the probe clips against the
    gallery clips (:func:`~seqvision.tasks.gait.sequences.gallery_split`). With ``loss=arcface`` the
    centres of the training subjects live here, not in the saved model.
    """

    def __init__(
        self, model: SeqModel, subjects: int, dim: int, gait: GaitConfig, train_cfg: TrainConfig, total_steps: int
    ):
        super().__init__(model, train_cfg, total_steps)
        self.gait = gait
        self.centres = nn.Parameter(torch.randn(subjects, dim) * 0.1) if gait.loss == "arcface" else None
        self.val_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(  # the model and the ArcFace centres
            self.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay, fused=self.cfg.precision == "32"
        )

    def loss(self, batch: dict) -> Tensor:
        embeddings, _ = self.model(batch["clips"], batch["lengths"])  # (B, D), unit length
        if self.centres is not None:
            return arcface_loss(embeddings, self.centres, batch["subjects"], self.gait.arc_margin, self.gait.scale)
        return batch_hard_triplet(embeddings, batch["subjects"], self.gait.margin)

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        self._schedule()
        loss = self.loss(batch)
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(batch["subjects"]))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        embeddings, _ = self.model(batch["clips"], batch["lengths"])
        parts = (embeddings.float().cpu().numpy(), batch["subjects"].cpu().numpy(), batch["gallery"].cpu().numpy())
        self.val_parts.append(parts)

    def on_validation_epoch_end(self) -> None:
        # each rank ranks the clips it embedded; run validation on one process for the whole set's figures
        if self.val_parts:
            emb, subjects, gallery = (np.concatenate(p) for p in zip(*self.val_parts, strict=True))
            ids = [str(s) for s in subjects]
            probe_ids = [s for s, g in zip(ids, gallery, strict=True) if not g]
            gallery_ids = [s for s, g in zip(ids, gallery, strict=True) if g]
            scores = retrieval_scores(emb[~gallery], probe_ids, emb[gallery], gallery_ids)
            self.log("val_rank1", scores["rank1"], prog_bar=True)
            self.log("val_rank5", scores["rank5"])
            self.log("val_map", scores["map"])
        self.val_parts = []
