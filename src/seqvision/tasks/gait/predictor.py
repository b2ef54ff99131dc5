"""Inference for gait models: clips -> unit embeddings; with an enrolled gallery, the nearest identities.

The same backends as every task: eager PyTorch (``torch``) and onnxruntime (``onnx``), from an
exported ``.onnx`` file or exported on the fly (checked against eager).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seqvision.data.clips import pad_clips, probe
from seqvision.errors import CheckpointError, SeqvisionError
from seqvision.nn.model import SeqModel
from seqvision.tasks.gait.dataset import ProbedWalk, load_walk
from seqvision.tasks.gait.metrics import distance_matrix, nearest_subjects
from seqvision.tasks.gait.sequences import GaitSample
from seqvision.tasks.predictor import ClipNetwork, load_network, prefetch_batches


@dataclass
class Match:
    """One clip's embedding and, when a gallery is enrolled, its nearest subjects with their distances."""

    embedding: np.ndarray
    nearest: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class GaitEmbedder(ClipNetwork):
    """A gait model ready to embed walks and rank them against a gallery; ``run``: ``(B, T, 1, S, S)`` silhouettes
    -> ``(B, D)`` unit embeddings.

    >>> gait = GaitEmbedder.load("runs/gait")                        # doctest: +SKIP
    >>> gait.enroll(read_gait("data/gallery").samples)              # doctest: +SKIP
    >>> gait.predict([Path("probe/001/nm-05/090")])[0].nearest[0]   # doctest: +SKIP
    ('001', 0.41)
    """

    task: ClassVar[str] = "gait"
    model: SeqModel | None
    metadata: dict[str, Any]
    path: Path | None = None
    session: Any = None
    gallery: np.ndarray | None = None  # (M, D) embeddings of the enrolled clips
    gallery_ids: list[str] = field(default_factory=list)
    top_k: int = 5

    @property
    def frames(self) -> int:
        return int(self.metadata["input"]["frames"])

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str | None = "torch", threads: int = 0) -> GaitEmbedder:
        """A ``.safetensors`` file, run folder or exported ``.onnx`` file of a gait model."""
        from seqvision.export.onnx import clip_to_onnx

        model, meta, path, session = load_network(
            name_or_path,
            backend,
            threads,
            classes=lambda meta: int(meta["architecture"]["head"]["embedding"]),
            export=lambda model, meta: clip_to_onnx(model),
            task="gait",
        )
        try:  # the metadata read later must be usable now, not mid-way through a job
            embedder = cls(model, meta, path, session)
            if embedder.size < 1 or embedder.frames < 1:
                raise ValueError(f"input {meta['input']}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"{path}: model metadata is corrupt ({str(exc).splitlines()[0][:120]})") from None
        return embedder

    def prepare(self, path: Path) -> np.ndarray:
        """The clip's frames as the model was trained on them: ``(T, 1, S, S)``; raises ``DataError``."""
        sample = GaitSample(path, "", "", "", str(path))
        return load_walk(ProbedWalk(sample, probe(path)), self.size, self.frames)

    def embed_many(
        self, paths: list[Path], batch_size: int = 8, workers: int = 2
    ) -> Iterator[tuple[int, np.ndarray | SeqvisionError]]:
        """Yield ``(i, embedding)`` or ``(i, error)`` per clip; decoding runs on threads ahead of the model."""

        def infer(batch: list[tuple[int, np.ndarray]]) -> np.ndarray:
            return self.run(*pad_clips([a for _, a in batch]))  # (B, D): one row per clip

        return prefetch_batches(paths, self.prepare, infer, batch_size, workers, "seqvision-gait")

    def enroll(self, samples: list[GaitSample], batch_size: int = 8) -> list[str]:
        """Embed the gallery clips (their subjects are the identities :meth:`predict` names); returns what failed."""
        rows, ids, failed = [], [], []
        for i, outcome in self.embed_many([s.path for s in samples], batch_size):
            if isinstance(outcome, SeqvisionError):
                failed.append(str(outcome))
            else:
                rows.append(outcome)
                ids.append(samples[i].subject)
        self.gallery = np.stack(rows) if rows else None
        self.gallery_ids = ids
        return failed

    def match(self, embedding: np.ndarray) -> Match:
        if self.gallery is None:
            return Match(embedding)
        d = distance_matrix(embedding[None], self.gallery)[0]
        return Match(embedding, nearest_subjects(d, self.gallery_ids, self.top_k))

    def predict(self, paths: list[Path], batch_size: int = 8) -> list[Match]:
        """Embed clips (and rank them against the gallery); raises on the first unreadable one."""
        out: list[Match] = []
        for _, outcome in self.embed_many(list(paths), batch_size):
            if isinstance(outcome, SeqvisionError):
                raise outcome
            out.append(self.match(outcome))
        return out

    @staticmethod
    def to_json(record: Match) -> dict[str, Any]:
        """The nearest subjects with their distances, and the embedding (``read --json``)."""
        nearest = [{"subject": s, "distance": round(d, 4)} for s, d in record.nearest]
        return {"nearest": nearest, "embedding": [round(float(v), 5) for v in record.embedding]}
