"""Inference for DNA/RNA models: load a saved model, give each sequence a probability per label.

>>> clf = SequenceClassifier.load("runs/pum2")                                  # doctest: +SKIP
>>> clf.probabilities(read_sequences("val.tsv").records)[:2]                    # doctest: +SKIP
array([[0.93], [0.08]], dtype=float32)
>>> clf.predict(read_sequences("val.tsv").records)[0]                           # doctest: +SKIP
SequenceScores(id='chr1:100-200', probabilities={'bound': 0.93})
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from seqvision.nn.model import SeqModel
from seqvision.tasks.dna.batches import collate_sequences, one_hot
from seqvision.tasks.dna.bio import SeqRecord
from seqvision.tasks.dna.module import check_lengths
from seqvision.tasks.predictor import load_torch_only

TORCH_ONLY = "DNA models run on the torch backend only (ONNX export of them is not supported yet)"


@dataclass
class SequenceScores:
    """One sequence's probability per label."""

    id: str
    probabilities: dict[str, float]


@dataclass
class SequenceClassifier:
    """A DNA/RNA model (task ``dna``) ready to score sequences."""

    task: ClassVar[str] = "dna"
    model: SeqModel
    labels: list[str]
    metadata: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str | None = "torch", threads: int = 0) -> SequenceClassifier:
        """A ``.safetensors`` file or run folder of a model trained with ``--task dna`` (torch backend only)."""
        model, meta, path = load_torch_only(name_or_path, backend, threads, cls.task, TORCH_ONLY)
        return cls(model, list(meta["labels"]), meta, path)

    def predict(self, inputs: list[SeqRecord], batch_size: int = 256) -> list[SequenceScores]:
        """Each record's probability per label, in order (:meth:`probabilities` gives them as one array)."""
        scores = self.probabilities(inputs, batch_size)
        return [
            SequenceScores(r.id, dict(zip(self.labels, map(float, s), strict=True)))
            for r, s in zip(inputs, scores, strict=True)
        ]

    @staticmethod
    def to_json(record: SequenceScores) -> dict[str, Any]:
        """``{"id": ..., "probabilities": {label: p}}``, as ``seqvision read --json`` writes each sequence."""
        return {"id": record.id, "probabilities": dict(record.probabilities)}

    @torch.no_grad()
    def probabilities(self, records: list[SeqRecord], batch_size: int = 256) -> np.ndarray:
        """``(N, K)`` probabilities, one column per label (``self.labels``), in the order of ``records``.

        Sequences are batched by length (sorted), so little padding is computed; results come back in order.
        """
        check_lengths(records, self.model)
        order = sorted(range(len(records)), key=lambda i: len(records[i].sequence))
        out = np.zeros((len(records), len(self.labels)), dtype=np.float32)
        for start in range(0, len(order), max(1, batch_size)):
            chunk = order[start : start + batch_size]
            batch = collate_sequences([(one_hot(records[i].sequence), np.zeros(0, np.float32)) for i in chunk])
            logits, _ = self.model(batch["images"], batch["widths"])  # (B, K)
            out[chunk] = torch.sigmoid(logits).numpy()
        return out
