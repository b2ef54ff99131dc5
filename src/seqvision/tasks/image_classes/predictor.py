"""Inference for image-class models: load a saved model, give each image its top-k classes.

>>> clf = ImageClassifier.load("runs/digits")                    # doctest: +SKIP
>>> clf.predict([Image.open("seven.png")])[0].label              # doctest: +SKIP
'7'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image

from seqvision.data.images import normalise, resize_to_height
from seqvision.data.lines import pad_batch
from seqvision.errors import CheckpointError, ConfigError
from seqvision.nn.model import SeqModel
from seqvision.tasks.predictor import load_torch_only

TORCH_ONLY = "image-class models run on the torch backend only (ONNX export of them is not supported yet)"


@dataclass
class ImageClass:
    """Class probabilities of one image, best first."""

    top: list[tuple[str, float]]

    @property
    def label(self) -> str:
        return self.top[0][0]


@dataclass
class ImageClassifier:
    """A model trained with ``--task image_classes``, ready to classify images (read as lines)."""

    task: ClassVar[str] = "image_classes"
    model: SeqModel
    labels: list[str]
    metadata: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str | None = "torch", threads: int = 0) -> ImageClassifier:
        """A ``.safetensors`` file or run folder (torch backend only)."""
        if str(name_or_path).endswith(".onnx"):
            raise ConfigError(TORCH_ONLY)
        model, meta, path = load_torch_only(name_or_path, backend, threads, cls.task, TORCH_ONLY)
        try:  # the metadata read later (input height) must be usable now, not mid-way through a job
            classifier = cls(model, list(meta["labels"]), meta, path)
            if classifier.height < 1:
                raise ValueError(f"input height {classifier.height}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"{path}: model metadata is corrupt ({str(exc).splitlines()[0][:120]})") from None
        return classifier

    @property
    def height(self) -> int:
        return int(self.metadata["input"]["height"])

    @torch.inference_mode()
    def predict(self, inputs: list[Image.Image], batch_size: int = 16, top_k: int = 5) -> list[ImageClass]:
        """The ``top_k`` classes of each image, in order; batches are formed by width."""
        arrays = [normalise(resize_to_height(img.convert("L"), self.height)) for img in inputs]
        order = sorted(range(len(arrays)), key=lambda i: arrays[i].shape[1])
        out: list[ImageClass] = [ImageClass([])] * len(arrays)
        for start in range(0, len(order), max(1, batch_size)):
            chunk = order[start : start + batch_size]
            logits, _ = self.model(*pad_batch([arrays[i] for i in chunk]))  # (B, K)
            probs = logits.float().softmax(-1).numpy()
            for row, i in enumerate(chunk):
                best = np.argsort(-probs[row])[:top_k]
                out[i] = ImageClass([(self.labels[j], float(probs[row, j])) for j in best])
        return out

    @staticmethod
    def to_json(record: ImageClass) -> dict[str, Any]:
        """The best class and the top-k classes with their probabilities."""
        top = [{"label": label, "probability": round(p, 4)} for label, p in record.top]
        return {"label": record.label, "top": top}
