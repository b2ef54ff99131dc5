"""Emotion from face and voice (the EmotiW winners' design): frames -> CNN -> sequence model, the voice's
log-mel -> CNN -> sequence model, fused late; one class per clip.

``data.emotion.streams`` picks video, audio or both from the same command; the model is selected by
unweighted average recall (``val_uar``). Clips come from a folder (RAVDESS names give emotion and
actor) or a CSV list, and validation never shares a speaker with training.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.errors import DataError
from seqvision.registry import TASKS
from seqvision.tasks.base import Prepared, model_line
from seqvision.tasks.clip_task import ClipTask

if TYPE_CHECKING:
    from torch.utils.data import DataLoader

    from seqvision.config import ExperimentConfig
    from seqvision.tasks.emotion.clips import EmotionSample
    from seqvision.tasks.emotion.dataset import EmotionClip
    from seqvision.tasks.predictor import Predictor

SPEAKERS_APART = "clips of one speaker must stay on one side (or leave out --val to split by speaker automatically)"


def input_metadata(cfg: ExperimentConfig) -> dict[str, Any]:
    """What the model reads, saved with it: frames per clip and their size, the sound's log-mel settings."""
    from seqvision.data.clips import CLIP_NORMALISATION
    from seqvision.tasks.emotion.dataset import Hearing

    return {
        "frames": cfg.data.clip.frames,
        "sampling": "uniform",
        "height": cfg.model.height,
        "width": cfg.model.height,
        "channels": 3,
        "normalisation": CLIP_NORMALISATION,
        "audio": Hearing.of(cfg.data.emotion).to_dict(),
    }


@TASKS.register("emotion")
class Emotion(ClipTask):
    """Clips with sound -> one emotion each: a face stream and a voice stream fused late; accuracy and UAR."""

    name = "emotion"
    title = "emotion"
    default_preset = "emotion-small"
    monitor, mode = "val_uar", "max"
    metric_names = ("val_uar", "val_acc")
    model_head = "classify"

    @property
    def predictor(self) -> type[Predictor]:
        from seqvision.tasks.emotion.predictor import EmotionPredictor

        return EmotionPredictor

    def export(self, args: argparse.Namespace, model: str, out: Path) -> int:
        from seqvision.tasks.emotion.export import export_emotion

        return export_emotion(model, out, args.int8)

    def write_compare_data(self, folder: Path, train: int, val: int) -> tuple[str, str]:
        """Generated clips, the totals spread over the 4 emotions: actors 1-4 train, actors 5-6 validate."""
        from seqvision.tasks.emotion.synth import CLASSES, write_emotion_clips

        paths = []
        for split, clips, actors, first, seed in (("train", train, 4, 1, 0), ("val", val, 2, 5, 1)):
            per_class = min(8 * actors, max(1, -(-clips // len(CLASSES))))
            paths.append(
                str(write_emotion_clips(folder / split, per_class, actors=actors, first_actor=first, seed=seed))
            )
        return paths[0], paths[1]

    def timed_model(self, path: Path, cfg: ExperimentConfig) -> tuple[Any, Any]:
        """The saved model and a typical clip for ``compare``: F frames and 10 F log-mel frames of each stream."""
        import torch

        from seqvision.tasks.emotion.export import example
        from seqvision.tasks.emotion.predictor import load_emotion

        model, meta, _ = load_emotion(path)
        frames, size, bands = cfg.data.clip.frames, cfg.model.height, cfg.data.emotion.bands

        def typical(batch: int) -> tuple[str, tuple[Any, ...]]:
            given = example(model, meta, [frames] * batch, seed=0)
            empty, none = torch.zeros(batch, 0), torch.zeros(batch, dtype=torch.int64)
            names = ("clips", "lengths", "audio", "audio_lengths")
            args = tuple(given.get(n, none if n.endswith("lengths") else empty) for n in names)
            return f"{frames}x3x{size}x{size} + {10 * frames}x{bands} log-mel", args

        return (model, meta), typical

    def split(self, cfg: ExperimentConfig, log: Path | None) -> tuple[list[EmotionSample], list[EmotionSample]]:
        """Train and val clips: ``data.val`` when given (checked: no speaker on both sides), else whole speakers."""
        from seqvision.data.clip_lists import check_groups_apart, grouped_split
        from seqvision.data.loaders import report_skipped
        from seqvision.tasks.emotion.clips import read_emotion_clips

        if not cfg.data.train_path:
            raise DataError("no training data: pass --train DATA (or set data.train)")
        train = read_emotion_clips(cfg.data.train_path)
        report_skipped(f"train data {cfg.data.train_path}", train.skipped, log)
        unknown = train.unknown_speakers
        if cfg.data.val:
            val = read_emotion_clips(cfg.data.val)
            report_skipped(f"val data {cfg.data.val}", val.skipped, log)
            check_groups_apart(train.samples, val.samples, SPEAKERS_APART, "speaker")
            unknown += val.unknown_speakers
        if unknown:
            print(
                f"warning: {unknown} clips name no speaker (no RAVDESS name, no speaker column): "
                "each is its own group, so a speaker may be on both sides of the split",
                file=sys.stderr,
            )
        if cfg.data.val:
            return train.samples, val.samples
        return grouped_split(train.samples, cfg.data.val_fraction, cfg.train.seed, "speaker")

    def prepare(self, cfg: ExperimentConfig, out: Path, resume: bool, log: Path | None) -> Prepared:
        from seqvision.config import to_dict
        from seqvision.tasks.clip_task import class_labels, probe_both, save_labels
        from seqvision.tasks.emotion.dataset import Hearing, probe_all
        from seqvision.tasks.emotion.model import build_emotion_model, check_emotion
        from seqvision.tasks.emotion.module import EmotionModule

        self.check_model(cfg)
        emotion = cfg.data.emotion
        check_emotion(emotion)
        hearing = Hearing.of(emotion)
        train, val, train_bad = probe_both(self.split(cfg, log), lambda s: probe_all(s, emotion.streams, hearing), log)
        if not train:
            raise DataError(f"{cfg.data.train_path}: no usable training clip ({len(train_bad)} skipped)")
        labels, val = class_labels(train, val, out, resume, log)
        model = build_emotion_model(cfg.model, emotion, len(labels))
        save_labels(out, labels)
        params = sum(p.numel() for p in model.parameters())
        metadata = {
            "task": self.name,
            "architecture": to_dict(cfg.model),
            "emotion": to_dict(emotion),  # the streams, their fusion and the audio encoder: the model is built from it
            "config": to_dict(cfg),
            "labels": labels,
            "input": input_metadata(cfg),
            "parameters": params,
        }
        names = {"video": f"{cfg.model.encoder.name} per frame", "audio": f"{emotion.audio_encoder} on log-mel"}
        encoders = " + ".join(names[s] for s in model.streams)
        fusion = f", {emotion.fusion} fusion" if len(model.streams) > 1 else ""
        summary = (
            f"{model_line(cfg, params, encoders)}{fusion}, {len(labels)} classes, "
            f"{len(train)} train / {len(val)} val clips -> {out}"
        )
        train_loader = self._loader(train, labels, cfg, shuffle=True)
        total = cfg.train.epochs * len(train_loader)
        module = EmotionModule(model, labels, emotion.aux_weight, cfg.train, total)
        counts = {"train_clips": len(train), "val_clips": len(val)}
        val_loader = self._loader(val, labels, cfg, shuffle=False)
        return Prepared(model, module, train_loader, val_loader, metadata, counts, summary)  # type: ignore[arg-type]

    @staticmethod
    def _loader(clips: list[EmotionClip], labels: list[str], cfg: ExperimentConfig, shuffle: bool) -> DataLoader:
        from seqvision.tasks.clip_task import clip_loader
        from seqvision.tasks.emotion.dataset import EmotionDataset, collate

        ds = EmotionDataset(clips, labels, cfg.data.clip.frames, cfg.model.height)
        return clip_loader(ds, cfg, collate, shuffle=shuffle)

    def describe(self, metrics: dict[str, float]) -> str:
        return (
            f"val UAR {metrics.get('val_uar', float('nan')):.4f}, accuracy {metrics.get('val_acc', float('nan')):.4f}"
        )
