"""Biological sequences (DanQ): one-hot DNA/RNA -> motif CNN -> sequence model -> sigmoid head.

Binary or multi-label targets from FASTA or TSV files (:mod:`seqvision.tasks.dna.bio`); binary
cross-entropy on the logits; ROC-AUC and PR-AUC (macro over labels) on the validation set, the
model being selected by ``val_auroc``.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader

from seqvision.config import ExperimentConfig, TrainConfig, to_dict
from seqvision.data.batches import RandomBatches
from seqvision.errors import DataError
from seqvision.io import atomic_write_text
from seqvision.nn.encoders.base import Encoder
from seqvision.nn.model import SeqModel, build_model
from seqvision.registry import TASKS
from seqvision.tasks.base import Prepared, Task, TrainingModule, model_line
from seqvision.tasks.dna.batches import CHANNELS, SequenceDataset, collate_sequences
from seqvision.tasks.dna.bio import SeqData, SeqRecord, read_sequences, targets
from seqvision.tasks.dna.ranking import average_precision, macro, roc_auc
from seqvision.tasks.predictor import Predictor
from seqvision.training.distributed import gather_lists


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


@TASKS.register("dna")
class Dna(Task):
    """DNA/RNA sequences -> binary or multi-label (DanQ): FASTA (.gz) or TSV; ROC-AUC and PR-AUC."""

    name = "dna"
    title = "DNA/RNA"

    def add_parsers(self, sub: Any, after: str) -> None:
        from seqvision.tasks.dna.cli import add_parsers

        add_parsers(sub, after)

    @property
    def predictor(self) -> type[Predictor]:
        from seqvision.tasks.dna.predictor import SequenceClassifier

        return SequenceClassifier

    def read(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        from seqvision.tasks.dna.cli import read

        return read(args, model, inputs)

    def evaluate(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        from seqvision.tasks.dna.cli import evaluate

        return evaluate(args, model, inputs)

    default_preset = "danq-small"
    monitor, mode = "val_auroc", "max"
    metric_names = ("val_auroc", "val_auprc")
    model_input = "sequence"
    model_head = "sigmoid"

    def split(self, cfg: ExperimentConfig) -> tuple[SeqData, list[SeqRecord]]:
        """Train data and val records: ``data.val`` when given, else a seeded ``data.val_fraction`` of train."""
        if not cfg.data.train_path:
            raise DataError("no training data: pass --train FILE (or set data.train)")
        labels = cfg.data.labels or None
        train = read_sequences(cfg.data.train_path, labels)
        if cfg.data.val:
            return train, read_sequences(cfg.data.val, labels).records
        records = list(train.records)
        random.Random(cfg.train.seed).shuffle(records)
        n_val = max(1, round(len(records) * cfg.data.val_fraction))
        if len(records) - n_val < 1:
            raise DataError(f"{cfg.data.train_path}: too few sequences to hold out a validation set; pass --val")
        return SeqData(records[n_val:], train.labels), records[:n_val]

    def prepare(self, cfg: ExperimentConfig, out: Path, resume: bool, log: Path | None) -> Prepared:
        self.check_model(cfg)
        train, val = self.split(cfg)
        labels_file = out / "labels.json"
        labels = (
            json.loads(labels_file.read_text(encoding="utf-8")) if resume and labels_file.exists() else train.labels
        )
        if not labels:
            raise DataError(f"{cfg.data.train_path}: no labels")
        y_train = target_matrix(train.records, labels, "the training")
        y_val = target_matrix(val, labels, "the training")
        model = build_model(cfg.model, len(labels))
        check_lengths(train.records, model)
        check_lengths(val, model)
        workers, batch = cfg.data.num_workers, cfg.data.batch_size
        train_loader = sequence_loader(train.records, y_train, batch, True, workers, cfg.train.seed)
        val_loader = sequence_loader(val, y_val, max(batch, 128), False, workers, cfg.train.seed)
        atomic_write_text(labels_file, json.dumps(labels, ensure_ascii=False))
        params = sum(p.numel() for p in model.parameters())
        metadata: dict[str, Any] = {
            "task": self.name,
            "architecture": to_dict(cfg.model),
            "config": to_dict(cfg),
            "labels": labels,
            "input": {"channels": CHANNELS, "n": 0.25, "rna": train.is_rna},
            "parameters": params,
        }
        positives = ", ".join(f"{n} {int(c)}" for n, c in zip(labels, y_train.sum(0), strict=True))
        summary = (
            f"{model_line(cfg, params)}, {len(labels)} label(s) (train positives: "
            f"{positives[:200]}), {len(train.records)} train / {len(val)} val sequences -> {out}"
        )
        module = DnaModule(model, labels, cfg.train, total_steps=cfg.train.epochs * len(train_loader))
        counts = {"train_sequences": len(train.records), "val_sequences": len(val)}
        return Prepared(model, module, train_loader, val_loader, metadata, counts, summary)

    def describe(self, metrics: dict[str, float]) -> str:
        nan = float("nan")
        return f"val ROC-AUC {metrics.get('val_auroc', nan):.4f}, PR-AUC {metrics.get('val_auprc', nan):.4f}"
