"""Image classification task: one class per image, read as a sequence (columns) by encoder -> sequence -> classify.

The data is the text-line format (``labels.tsv``, sidecars, ...), the transcription being the class
name, so any line reader works; cross-entropy loss, accuracy (the model is selected by ``val_acc``).
Used by ``seqvision compare --suite mnist``; a digit is a short "line" whose columns are the steps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from seqvision.data.alphabet import Alphabet
from seqvision.errors import DataError
from seqvision.io import atomic_write_text
from seqvision.registry import TASKS
from seqvision.tasks.base import Prepared, Task, model_line, saved_metadata

if TYPE_CHECKING:
    from seqvision.config import ExperimentConfig
    from seqvision.tasks.predictor import Predictor


@TASKS.register("image_classes")
class ImageClasses(Task):
    """Images -> one class each: line-format data whose transcription is the class name; accuracy."""

    name = "image_classes"
    title = "image-class"

    @property
    def predictor(self) -> type[Predictor]:
        from seqvision.tasks.image_classes.predictor import ImageClassifier

        return ImageClassifier

    default_preset = "digits-small"
    monitor, mode = "val_acc", "max"
    metric_names = ("val_acc",)
    model_input = "line"
    model_head = "classify"

    def prepare(self, cfg: ExperimentConfig, out: Path, resume: bool, log: Path | None) -> Prepared:
        from seqvision.data.images import NORMALISATION
        from seqvision.data.loaders import make_loaders, read_split
        from seqvision.nn.model import build_model
        from seqvision.tasks.image_classes.module import ImageClassTask

        self.check_model(cfg)
        train_samples, val_samples = read_split(cfg.data, cfg.train.seed, log)
        labels_file = out / "labels.json"
        if resume and labels_file.exists():
            labels = json.loads(labels_file.read_text(encoding="utf-8"))
        else:
            labels = sorted({s.text for s in train_samples})
        if len(labels) < 2:
            raise DataError(f"{cfg.data.train}: image classification needs at least two classes, found {labels}")
        model = build_model(cfg.model, len(labels))
        # the line loaders check and batch images by width; the alphabet only serves their checks
        alphabet = Alphabet.from_texts(labels)
        loaders = make_loaders(
            train_samples, val_samples, alphabet, model, cfg.model.height, cfg.data, cfg.train.seed, log
        )
        atomic_write_text(labels_file, json.dumps(labels, ensure_ascii=False))
        params = sum(p.numel() for p in model.parameters())
        metadata = saved_metadata(
            self.name,
            cfg,
            params,
            labels=labels,
            input={"height": cfg.model.height, "channels": cfg.model.in_channels, "normalisation": NORMALISATION},
        )
        summary = (
            f"{model_line(cfg, params)}, {len(labels)} classes, "
            f"{loaders.train_lines} train / {loaders.val_lines} val images -> {out}"
        )
        module = ImageClassTask(model, labels, cfg.train, total_steps=cfg.train.epochs * len(loaders.train))
        counts = {"train_images": loaders.train_lines, "val_images": loaders.val_lines}
        return Prepared(model, module, loaders.train, loaders.val, metadata, counts, summary)

    def describe(self, metrics: dict[str, float]) -> str:
        return f"val accuracy {metrics.get('val_acc', float('nan')):.4f}"
