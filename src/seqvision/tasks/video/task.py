"""Video classification task (LRCN): a CNN per frame -> a sequence model over frames -> one class per clip.

Cross-entropy loss, accuracy (the model is selected by ``val_acc``); clips come from a folder per
class or a CSV/TSV list, and the validation split never separates clips of one group.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.errors import DataError
from seqvision.registry import TASKS
from seqvision.tasks.base import Prepared, model_line, saved_metadata
from seqvision.tasks.clip_task import ClipTask

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
class Video(ClipTask):
    """Video clips -> one class each (LRCN): a folder per class or path,label[,group] lists; accuracy."""

    name = "video"
    title = "video"
    default_preset = "lrcn-small"
    monitor, mode = "val_acc", "max"
    metric_names = ("val_acc",)

    @property
    def predictor(self) -> type[Predictor]:
        from seqvision.tasks.video.predictor import ClipClassifier

        return ClipClassifier

    def split(self, cfg: ExperimentConfig, log: Path | None) -> tuple[list[ClipSample], list[ClipSample]]:
        """Train and val clips: ``data.val`` when given (checked for leaks), else whole groups held out."""
        from seqvision.data.clip_lists import check_groups_apart, grouped_split
        from seqvision.data.loaders import read_train_val
        from seqvision.tasks.video.clips import read_clips

        return read_train_val(cfg, log, read_clips, check_groups_apart, grouped_split)

    def prepare(self, cfg: ExperimentConfig, out: Path, resume: bool, log: Path | None) -> Prepared:
        from seqvision.nn.model import build_model
        from seqvision.tasks.clip_task import class_labels, probe_both, save_labels
        from seqvision.tasks.video.dataset import probe_clips
        from seqvision.tasks.video.module import VideoTask

        self.check_model(cfg)
        train, val, train_bad = probe_both(self.split(cfg, log), probe_clips, log)
        if not train:
            raise DataError(f"{cfg.data.train_path}: no usable training clip ({len(train_bad)} skipped)")
        labels, val = class_labels(train, val, out, resume, log)
        if len(labels) < 2:
            print(f"warning: only one class ({labels[0]!r}) in the training data", file=sys.stderr)
        model = build_model(cfg.model, len(labels))
        train_loader = self._loader(train, labels, cfg, augment=True)
        val_loader = self._loader(val, labels, cfg, augment=False)
        save_labels(out, labels)
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
        from seqvision.tasks.clip_task import clip_loader
        from seqvision.tasks.video.dataset import ClipDataset, collate_clips

        ds = ClipDataset(clips, labels, cfg.model.height, cfg.data.clip, augment=augment and cfg.data.augment)
        return clip_loader(ds, cfg, collate_clips, shuffle=augment)

    def describe(self, metrics: dict[str, float]) -> str:
        return f"val accuracy {metrics.get('val_acc', float('nan')):.4f}"
