"""Inference for video models: load a saved or exported model, classify clips, top-k labels.

The same two backends as text lines: eager PyTorch (``torch``) and onnxruntime (``onnx``), the
latter from an exported ``.onnx`` file or exported on the fly (checked against eager).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from seqvision.config import ClipConfig
from seqvision.data.clips import pad_clips, probe
from seqvision.errors import CheckpointError, SeqvisionError
from seqvision.nn.model import SeqModel
from seqvision.tasks.predictor import ClipNetwork, load_network, prefetch_batches
from seqvision.tasks.video.clips import ClipSample
from seqvision.tasks.video.dataset import ProbedClip, load_clip


@dataclass
class Prediction:
    """Class probabilities of one clip, best first."""

    top: list[tuple[str, float]]

    @property
    def label(self) -> str:
        return self.top[0][0]


@dataclass
class ClipClassifier(ClipNetwork):
    """A video model ready to classify clips; ``run``: ``(B, T, 3, S, S)`` clips -> ``(B, K)`` logits.

    >>> clf = ClipClassifier.load("runs/video")                    # doctest: +SKIP
    >>> clf.predict([Path("clip.mp4")])[0].label                   # doctest: +SKIP
    """

    task: ClassVar[str] = "video"
    model: SeqModel | None
    labels: list[str]
    metadata: dict[str, Any]
    path: Path | None = None
    session: Any = None

    @property
    def clip_config(self) -> ClipConfig:
        inp = self.metadata["input"]
        return ClipConfig(frames=int(inp["frames"]), fps=float(inp.get("fps", 0.0)), crop=1.0)

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str | None = "torch", threads: int = 0) -> ClipClassifier:
        """A ``.safetensors`` file, run folder or exported ``.onnx`` file of a video model."""
        from seqvision.export.onnx import clip_to_onnx

        model, meta, path, session = load_network(
            name_or_path,
            backend,
            threads,
            classes=lambda meta: len(meta["labels"]),
            export=lambda model, meta: clip_to_onnx(model),
            task="video",
        )
        try:  # the metadata read later (frame size, frames per clip) must be usable now, not mid-way through a job
            classifier = cls(model, list(meta["labels"]), meta, path, session)
            if classifier.size < 1 or classifier.clip_config.frames < 1:
                raise ValueError(f"input {meta['input']}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"{path}: model metadata is corrupt ({str(exc).splitlines()[0][:120]})") from None
        return classifier

    def prepare(self, path: Path) -> np.ndarray:
        """The clip's frames as the model was trained on them: ``(T, 3, S, S)``; raises ``DataError``."""
        sample = ClipSample(path, "", str(path), str(path))
        return load_clip(ProbedClip(sample, probe(path)), self.size, self.clip_config)

    def predictions(self, logits: np.ndarray, top_k: int) -> list[Prediction]:
        probs = torch.from_numpy(logits).float().softmax(-1).numpy()
        order = np.argsort(-probs, axis=1)[:, :top_k]
        return [Prediction([(self.labels[j], float(p[j])) for j in row]) for p, row in zip(probs, order, strict=True)]

    def classify(self, prepared: list[np.ndarray], top_k: int = 5) -> list[Prediction]:
        """Clips already :meth:`prepare`-d, classified in one pass (what ``read`` and the HTTP service call)."""
        return self.predictions(self.run(*pad_clips(prepared)), top_k)

    def predict(self, paths: list[Path], batch_size: int = 8, top_k: int = 5) -> list[Prediction]:
        """Classify clips; raises on the first unreadable one (see :meth:`predict_many` to skip them)."""
        arrays = [self.prepare(p) for p in paths]
        out: list[Prediction] = []
        for start in range(0, len(arrays), batch_size):
            out += self.classify(arrays[start : start + batch_size], top_k)
        return out

    @staticmethod
    def to_json(record: Prediction) -> dict[str, Any]:
        """The best label and the top-k labels with their probabilities (``read --json``)."""
        top = [{"label": label, "probability": round(p, 4)} for label, p in record.top]
        return {"label": record.label, "top": top}

    def predict_many(
        self,
        paths: list[Path],
        batch_size: int = 8,
        top_k: int = 5,
        workers: int = 2,
        on_batch: Callable[[int], None] | None = None,
    ) -> Iterator[tuple[int, Prediction | SeqvisionError]]:
        """Yield ``(i, prediction)`` or ``(i, error)`` for each clip; decoding runs on threads ahead of the model."""

        def infer(batch: list[tuple[int, np.ndarray]]) -> list[Prediction]:
            return self.classify([a for _, a in batch], top_k)

        return prefetch_batches(paths, self.prepare, infer, batch_size, workers, "seqvision-clips", on_batch)
