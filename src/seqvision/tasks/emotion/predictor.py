"""Inference for emotion models: load a saved or exported model, read clips (frames and sound), top-k emotions.

Two backends, as every task: eager PyTorch (``torch``) and onnxruntime (``onnx``), the latter from an
exported ``.onnx`` file or exported on the fly (checked against eager). A two-stream model also says
what each stream alone would answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from seqvision.config import EmotionConfig, ModelConfig, from_dict
from seqvision.errors import CheckpointError, ConfigError, SeqvisionError
from seqvision.tasks.emotion.clips import EmotionSample, audio_of
from seqvision.tasks.emotion.dataset import Hearing, load_frames, pad_streams, probe_clip
from seqvision.tasks.emotion.model import STREAMS, EmotionModel, build_emotion_model
from seqvision.tasks.predictor import check_backend, check_task, open_onnx, prefetch_batches

Inputs = tuple[np.ndarray | None, np.ndarray | None]  # frames (T, 3, S, S), log-mel (T_a, bands)


@dataclass
class Prediction:
    """Emotion probabilities of one clip, best first; ``streams``: each stream's own best (two-stream models)."""

    top: list[tuple[str, float]]
    streams: dict[str, tuple[str, float]]

    @property
    def label(self) -> str:
        return self.top[0][0]


def load_emotion(name_or_path: str | Path) -> tuple[EmotionModel, dict[str, Any], Path]:
    """A saved emotion model in eval mode, its metadata and path; a wrong or damaged file: :class:`CheckpointError`."""
    from seqvision.checkpoint import load_state

    tensors, meta, path = load_state(name_or_path)
    check_task(meta, path, "emotion")
    try:
        arch, emotion = from_dict(ModelConfig, meta["architecture"]), from_dict(EmotionConfig, meta["emotion"])
        model = build_emotion_model(arch, emotion, len(meta["labels"]))
        model.load_state_dict(tensors, strict=True)
    except (KeyError, TypeError, ValueError, ConfigError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path}: metadata and weights do not fit together ({str(exc).splitlines()[0]})"
        ) from None
    return model.eval(), meta, path


@dataclass
class EmotionPredictor:
    """An emotion model ready to read clips.

    >>> p = EmotionPredictor.load("runs/emotion")                # doctest: +SKIP
    >>> p.predict([Path("01-01-03-02-01-01-12.mp4")])[0].label   # doctest: +SKIP
    """

    task: ClassVar[str] = "emotion"
    model: EmotionModel | None
    labels: list[str]
    metadata: dict[str, Any]
    path: Path | None = None
    session: Any = None

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str | None = "torch", threads: int = 0) -> EmotionPredictor:
        """A ``.safetensors`` file, run folder or exported ``.onnx`` file of an emotion model."""
        from seqvision.export.runtime import session
        from seqvision.tasks.emotion.export import emotion_to_onnx

        threads = check_backend(backend, threads)
        if str(name_or_path).endswith(".onnx"):
            meta, path, onnx = open_onnx(name_or_path, threads, "emotion")
            model = None
        else:
            model, meta, path = load_emotion(name_or_path)
            onnx = session(emotion_to_onnx(model, meta), threads) if backend == "onnx" else None
        try:  # what reading needs later must be usable now, not half-way through a job
            predictor = cls(model, list(meta["labels"]), meta, path, onnx)
            if predictor.streams_name not in STREAMS or predictor.frames < 1 or predictor.size < 1:
                raise ValueError(f"input {meta['input']}, streams {predictor.streams_name!r}")
            Hearing.from_dict(meta["input"]["audio"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: model metadata is corrupt ({str(exc).splitlines()[0][:120]})") from None
        return predictor

    @property
    def backend(self) -> str:
        return "onnx" if self.session is not None else "torch"

    @property
    def streams_name(self) -> str:
        return str(self.metadata["emotion"]["streams"])

    @property
    def streams(self) -> tuple[str, ...]:
        return STREAMS[self.streams_name]

    @property
    def hearing(self) -> Hearing:
        return Hearing.from_dict(self.metadata["input"]["audio"])

    @property
    def frames(self) -> int:
        return int(self.metadata["input"]["frames"])

    @property
    def size(self) -> int:
        return int(self.metadata["input"]["height"])

    def prepare(self, path: Path) -> Inputs:
        """What the model's streams read of one clip; raises ``DataError`` naming the file."""
        clip = probe_clip(
            EmotionSample(path, "", str(path), str(path), audio_of(path)), self.streams_name, self.hearing
        )
        return load_frames(clip, self.frames, self.size), clip.mel

    def run(self, items: list[Inputs]) -> tuple[np.ndarray, np.ndarray]:
        """Prepared clips -> fused ``(B, K)`` and per-stream ``(B, S, K)`` logits."""
        batch = pad_streams(items)
        if self.session is not None:
            from seqvision.tasks.emotion.export import NAMES

            names = [n for s in self.streams for n in NAMES[s]]
            logits, own = self.session.run(None, {n: batch[n].numpy() for n in names})
            return logits, own
        assert self.model is not None
        with torch.inference_mode():
            logits, own = self.model(batch["clips"], batch["lengths"], batch["audio"], batch["audio_lengths"])
        return logits.float().numpy(), own.float().numpy()

    def predictions(self, logits: np.ndarray, own: np.ndarray, top_k: int) -> list[Prediction]:
        probs = torch.from_numpy(logits).float().softmax(-1).numpy()
        per_stream = torch.from_numpy(own).float().softmax(-1).numpy()  # (B, S, K)
        out = []
        for p, q in zip(probs, per_stream, strict=True):
            top = [(self.labels[j], float(p[j])) for j in np.argsort(-p)[:top_k]]
            streams = {s: (self.labels[int(q[i].argmax())], float(q[i].max())) for i, s in enumerate(self.streams)}
            out.append(Prediction(top, streams if len(self.streams) > 1 else {}))
        return out

    def classify(self, prepared: list[Inputs], top_k: int = 5) -> list[Prediction]:
        """Clips already :meth:`prepare`-d, classified in one pass (what ``read`` and the HTTP service call)."""
        return self.predictions(*self.run(prepared), top_k)

    def predict(self, inputs: list[Path], batch_size: int = 8, top_k: int = 5) -> list[Prediction]:
        """Classify clips; raises on the first unreadable one (see :meth:`predict_many` to skip them)."""
        prepared = [self.prepare(Path(p)) for p in inputs]
        out: list[Prediction] = []
        for start in range(0, len(prepared), batch_size):
            out += self.classify(prepared[start : start + batch_size], top_k)
        return out

    @staticmethod
    def to_json(record: Prediction) -> dict[str, Any]:
        """The best emotion, the top-k with probabilities, and (two streams) each stream's own best."""
        top = [{"label": label, "probability": round(p, 4)} for label, p in record.top]
        streams = {s: {"label": label, "probability": round(p, 4)} for s, (label, p) in record.streams.items()}
        return {"label": record.label, "top": top, **({"streams": streams} if streams else {})}

    def predict_many(
        self, paths: list[Path], batch_size: int = 8, top_k: int = 5, workers: int = 2
    ) -> Iterator[tuple[int, Prediction | SeqvisionError]]:
        """Yield ``(i, prediction)`` or ``(i, error)`` for each clip; decoding runs on threads ahead of the model."""

        def infer(batch: list[tuple[int, Inputs]]) -> list[Prediction]:
            return self.classify([a for _, a in batch], top_k)

        return prefetch_batches(paths, self.prepare, infer, batch_size, workers, "seqvision-emotion")
