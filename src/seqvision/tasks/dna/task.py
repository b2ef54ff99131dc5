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
from typing import TYPE_CHECKING, Any

from seqvision.errors import DataError
from seqvision.io import atomic_write_text
from seqvision.registry import TASKS
from seqvision.tasks.base import Prepared, Task, model_line, saved_metadata

if TYPE_CHECKING:
    from seqvision.config import ExperimentConfig
    from seqvision.tasks.dna.bio import SeqData, SeqRecord
    from seqvision.tasks.predictor import Predictor


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
        from seqvision.tasks.dna.bio import SeqData, read_sequences

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
        from seqvision.nn.model import build_model
        from seqvision.tasks.dna.batches import CHANNELS
        from seqvision.tasks.dna.module import DnaModule, check_lengths, sequence_loader, target_matrix

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
        metadata: dict[str, Any] = saved_metadata(
            self.name,
            cfg,
            params,
            labels=labels,
            input={"channels": CHANNELS, "n": 0.25, "rna": train.is_rna},
        )
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
