"""Video classification task (LRCN): a CNN per frame -> a sequence model over frames -> one class per clip.

Cross-entropy loss, accuracy (the model is selected by ``val_acc``); clips come from a folder per
class or a CSV/TSV list, and the validation split never separates clips of one group.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.errors import DataError
from seqvision.io import atomic_write_text
from seqvision.registry import TASKS
from seqvision.tasks.base import Prepared, Task, model_line, saved_metadata

if TYPE_CHECKING:
    from torch.utils.data import DataLoader

    from seqvision.config import ExperimentConfig
    from seqvision.tasks.predictor import Predictor
    from seqvision.tasks.video.clips import ClipSample
    from seqvision.tasks.video.dataset import ProbedClip


def input_metadata(cfg: ExperimentConfig) -> dict[str, Any]:
    from seqvision.data.clips import CLIP_NORMALISATION

    clip = cfg.data.clip
    return {
        "frames": clip.frames,
        "fps": clip.fps,
        "sampling": f"{clip.fps:g} fps" if clip.fps > 0 else "uniform",
        "height": cfg.model.height,
        "width": cfg.model.height,
        "channels": cfg.model.in_channels,
        "normalisation": CLIP_NORMALISATION,
    }


@TASKS.register("video")
class Video(Task):
    """Video clips -> one class each (LRCN): a folder per class or path,label[,group] lists; accuracy."""

    name = "video"
    title = "video"

    def add_parsers(self, sub: Any, after: str) -> None:
        from seqvision.tasks.video.cli import add_parsers

        add_parsers(sub, after)

    @property
    def predictor(self) -> type[Predictor]:
        from seqvision.tasks.video.predictor import ClipClassifier

        return ClipClassifier

    def read(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        from seqvision.tasks.video.cli import read

        return read(args, model, inputs)

    def evaluate(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        from seqvision.tasks.video.cli import evaluate

        return evaluate(args, model, inputs)

    def export(self, args: argparse.Namespace, model: str, out: Path) -> int:
        from seqvision.export.onnx import export_clip_model
        from seqvision.tasks.video.predictor import ClipClassifier

        return export_clip_model(ClipClassifier, model, out, args.int8)

    default_preset = "lrcn-small"
    monitor, mode = "val_acc", "max"
    metric_names = ("val_acc",)
    model_input = "clip"

    def split(self, cfg: ExperimentConfig, log: Path | None) -> tuple[list[ClipSample], list[ClipSample]]:
        """Train and val clips: ``data.val`` when given (checked for leaks), else whole groups held out."""
        from seqvision.data.clip_lists import check_groups_apart, grouped_split
        from seqvision.data.loaders import read_train_val
        from seqvision.tasks.video.clips import read_clips

        return read_train_val(cfg, log, read_clips, check_groups_apart, grouped_split)

    def prepare(self, cfg: ExperimentConfig, out: Path, resume: bool, log: Path | None) -> Prepared:
        from seqvision.data.loaders import report_skipped
        from seqvision.nn.model import build_model
        from seqvision.tasks.video.dataset import probe_clips
        from seqvision.tasks.video.module import VideoTask

        self.check_model(cfg)
        train_samples, val_samples = self.split(cfg, log)
        train, train_bad = probe_clips(train_samples)
        val, val_bad = probe_clips(val_samples)
        report_skipped("train clips", train_bad, log)
        report_skipped("val clips", val_bad, log)
        if not train:
            raise DataError(f"{cfg.data.train_path}: no usable training clip ({len(train_bad)} skipped)")
        labels_file = out / "labels.json"
        if resume and labels_file.exists():
            labels = json.loads(labels_file.read_text(encoding="utf-8"))
        else:
            labels = sorted({c.sample.label for c in train})
        unknown = [c for c in val if c.sample.label not in labels]
        report_skipped(
            "val clips", [f"{c.sample.source}: label {c.sample.label!r} not in training" for c in unknown], log
        )
        val = [c for c in val if c.sample.label in labels]
        if not val:
            raise DataError("no usable validation clip (see the warnings above)")
        if len(labels) < 2:
            print(f"warning: only one class ({labels[0]!r}) in the training data", file=sys.stderr)
        model = build_model(cfg.model, len(labels))
        train_loader = self._loader(train, labels, cfg, augment=True)
        val_loader = self._loader(val, labels, cfg, augment=False)
        atomic_write_text(labels_file, json.dumps(labels, ensure_ascii=False))
        params = sum(p.numel() for p in model.parameters())
        metadata = saved_metadata(
            self.name,
            cfg,
            params,
            labels=labels,
            input=input_metadata(cfg),
        )
        summary = (
            f"{model_line(cfg, params, f'{cfg.model.encoder.name} per frame')}, {len(labels)} classes, "
            f"{len(train)} train / {len(val)} val clips of {cfg.data.clip.frames} frames -> {out}"
        )
        module = VideoTask(model, labels, cfg.train, total_steps=cfg.train.epochs * len(train_loader))
        counts = {"train_clips": len(train), "val_clips": len(val)}
        return Prepared(model, module, train_loader, val_loader, metadata, counts, summary)

    @staticmethod
    def _loader(clips: list[ProbedClip], labels: list[str], cfg: ExperimentConfig, augment: bool) -> DataLoader:
        from torch.utils.data import DataLoader

        from seqvision.data.batches import RandomBatches
        from seqvision.tasks.video.dataset import ClipDataset, collate_clips

        ds = ClipDataset(clips, labels, cfg.model.height, cfg.data.clip, augment=augment and cfg.data.augment)
        workers = cfg.data.num_workers
        batches = RandomBatches(len(ds), cfg.data.batch_size, shuffle=augment, seed=cfg.train.seed)
        return DataLoader(
            ds, batch_sampler=batches, collate_fn=collate_clips, num_workers=workers, persistent_workers=workers > 0
        )

    def describe(self, metrics: dict[str, float]) -> str:
        return f"val accuracy {metrics.get('val_acc', float('nan')):.4f}"
