"""Inference for video models: load a saved or exported model, classify clips, top-k labels.

The same two backends as text lines: eager PyTorch (``torch``) and onnxruntime (``onnx``), the
latter from an exported ``.onnx`` file or exported on the fly (checked against eager).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqvision.checkpoint import load_state
from seqvision.config import ClipConfig, ModelConfig, from_dict
from seqvision.data.clip_dataset import ProbedClip, load_clip, pad_clips
from seqvision.data.clips import ClipSample
from seqvision.data.decode import probe
from seqvision.errors import CheckpointError, ConfigError, SeqvisionError
from seqvision.model import SeqModel, build_model
from seqvision.recognizer import BACKENDS


@dataclass
class Prediction:
    """Class probabilities of one clip, best first."""

    top: list[tuple[str, float]]

    @property
    def label(self) -> str:
        return self.top[0][0]


@dataclass
class ClipClassifier:
    """A video model ready to classify clips.

    >>> clf = ClipClassifier.load("runs/video")                    # doctest: +SKIP
    >>> clf.predict([Path("clip.mp4")])[0].label                   # doctest: +SKIP
    """

    model: SeqModel | None
    labels: list[str]
    metadata: dict[str, Any]
    path: Path | None = None
    session: Any = None

    @property
    def backend(self) -> str:
        return "onnx" if self.session is not None else "torch"

    @property
    def size(self) -> int:
        return int(self.metadata["input"]["height"])

    @property
    def clip_config(self) -> ClipConfig:
        inp = self.metadata["input"]
        return ClipConfig(frames=int(inp["frames"]), fps=float(inp.get("fps", 0.0)), crop=1.0)

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str = "torch", threads: int = 0) -> ClipClassifier:
        """A ``.safetensors`` file, run folder or exported ``.onnx`` file of a video model."""
        if backend not in BACKENDS:
            raise ConfigError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
        threads = threads or torch.get_num_threads()
        if str(name_or_path).endswith(".onnx"):
            from seqvision.export import _session, read_metadata

            path = Path(name_or_path)
            if not path.is_file():
                raise CheckpointError(f"{path}: no such ONNX file")
            meta = read_metadata(path)
            return cls(None, list(meta["labels"]), meta, path, _session(path.read_bytes(), threads))
        tensors, meta, path = load_state(name_or_path)
        if meta.get("task") != "video":
            raise CheckpointError(f"{path}: not a video model (task {meta.get('task', 'text_lines')!r})")
        try:
            labels = list(meta["labels"])
            model = build_model(from_dict(ModelConfig, meta["architecture"]), len(labels))
            model.load_state_dict(tensors, strict=True)
        except (KeyError, TypeError, ValueError, ConfigError, RuntimeError) as exc:
            raise CheckpointError(
                f"{path}: metadata and weights do not fit together ({str(exc).splitlines()[0]})"
            ) from None
        clf = cls(model.eval(), labels, meta, path)
        if backend == "onnx":
            from seqvision.export import _session, clip_to_onnx

            clf.session = _session(clip_to_onnx(model), threads)
        return clf

    def run(self, clips: torch.Tensor, lengths: torch.Tensor) -> np.ndarray:
        """Padded ``(B, T, 3, S, S)`` clips + frame counts -> ``(B, K)`` logits."""
        if self.session is not None:
            return self.session.run(None, {"clips": clips.numpy(), "lengths": lengths.numpy()})[0]
        assert self.model is not None
        with torch.inference_mode():
            logits, _ = self.model(clips, lengths)
        return logits.float().numpy()

    def prepare(self, path: Path) -> np.ndarray:
        """The clip's frames as the model was trained on them: ``(T, 3, S, S)``; raises ``DataError``."""
        sample = ClipSample(path, "", str(path), str(path))
        return load_clip(ProbedClip(sample, probe(path)), self.size, self.clip_config)

    def predictions(self, logits: np.ndarray, top_k: int) -> list[Prediction]:
        probs = torch.from_numpy(logits).float().softmax(-1).numpy()
        order = np.argsort(-probs, axis=1)[:, :top_k]
        return [Prediction([(self.labels[j], float(p[j])) for j in row]) for p, row in zip(probs, order, strict=True)]

    def predict(self, paths: list[Path], batch_size: int = 8, top_k: int = 5) -> list[Prediction]:
        """Classify clips; raises on the first unreadable one (see :meth:`predict_many` to skip them)."""
        arrays = [self.prepare(p) for p in paths]
        out: list[Prediction] = []
        for start in range(0, len(arrays), batch_size):
            out += self.predictions(self.run(*pad_clips(arrays[start : start + batch_size])), top_k)
        return out

    def predict_many(
        self,
        paths: list[Path],
        batch_size: int = 8,
        top_k: int = 5,
        workers: int = 2,
        on_batch: Callable[[int], None] | None = None,
    ) -> Iterator[tuple[int, Prediction | SeqvisionError]]:
        """Yield ``(i, prediction)`` or ``(i, error)`` for each clip; decoding runs on threads ahead of the model."""

        def prepare(p: Path) -> np.ndarray | SeqvisionError:
            try:
                return self.prepare(p)
            except SeqvisionError as exc:
                return exc

        with ThreadPoolExecutor(max(1, workers), thread_name_prefix="seqvision-clips") as pool:
            prepared = pool.map(prepare, paths)
            batch: list[tuple[int, np.ndarray]] = []
            for i, item in enumerate(prepared):
                if isinstance(item, SeqvisionError):
                    yield i, item
                else:
                    batch.append((i, item))
                if batch and (len(batch) == batch_size or i == len(paths) - 1):
                    logits = self.run(*pad_clips([a for _, a in batch]))
                    yield from zip([j for j, _ in batch], self.predictions(logits, top_k), strict=True)
                    if on_batch:
                        on_batch(len(batch))
                    batch = []
