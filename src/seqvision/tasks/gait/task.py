"""Gait recognition task: a CNN per silhouette frame -> a sequence model over frames -> a unit embedding per clip.

Trained with a metric loss (batch-hard triplet, or ArcFace over the training subjects); the model
is selected by rank-1 accuracy of validation probes against a validation gallery, on subjects never
seen in training. Clips come from the CASIA-B folder layout or a path,subject list.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.errors import ConfigError, DataError
from seqvision.registry import TASKS
from seqvision.tasks.base import Prepared, model_line, saved_metadata
from seqvision.tasks.clip_task import ClipTask

if TYPE_CHECKING:
    from torch.utils.data import DataLoader

    from seqvision.config import ExperimentConfig
    from seqvision.tasks.gait.dataset import ProbedWalk
    from seqvision.tasks.gait.sequences import GaitSample
    from seqvision.tasks.predictor import Predictor


def input_metadata(cfg: ExperimentConfig) -> dict[str, Any]:
    from seqvision.data.clips import CLIP_NORMALISATION

    return {
        "frames": cfg.data.clip.frames,
        "sampling": "consecutive frames at the clip's own rate, from the middle",
        "height": cfg.model.height,
        "width": cfg.model.height,
        "channels": cfg.model.in_channels,
        "normalisation": {**CLIP_NORMALISATION, "method": "grey (mean of R, G, B)"},
    }


@TASKS.register("gait")
class Gait(ClipTask):
    """Walking clips -> identity embeddings: CASIA-B folders or path,subject lists; gallery/probe rank-1, mAP."""

    name = "gait"
    title = "gait"
    default_preset = "gait-small"
    monitor, mode = "val_rank1", "max"
    metric_names = ("val_rank1", "val_map")
    model_head = "embed"

    @property
    def predictor(self) -> type[Predictor]:
        from seqvision.tasks.gait.predictor import GaitEmbedder

        return GaitEmbedder

    def split(self, cfg: ExperimentConfig, log: Path | None) -> tuple[list[GaitSample], list[GaitSample]]:
        """Train and val clips: ``data.val`` when given (checked for leaks), else whole subjects held out."""
        from seqvision.data.loaders import read_train_val
        from seqvision.tasks.gait.sequences import check_no_leak, read_gait, subject_split

        return read_train_val(cfg, log, read_gait, check_no_leak, subject_split)

    def prepare(self, cfg: ExperimentConfig, out: Path, resume: bool, log: Path | None) -> Prepared:
        from seqvision.config import to_dict
        from seqvision.data.loaders import report_skipped
        from seqvision.nn.model import build_model
        from seqvision.tasks.clip_task import probe_both
        from seqvision.tasks.gait.dataset import probe_walks
        from seqvision.tasks.gait.module import LOSSES, GaitTask
        from seqvision.tasks.gait.sequences import drop_single_sequence, gallery_split

        self.check_model(cfg)
        if cfg.data.gait.loss not in LOSSES:
            raise ConfigError(f"data.gait.loss must be {' or '.join(LOSSES)}, not {cfg.data.gait.loss!r}")
        train, val, train_bad = probe_both(self.split(cfg, log), probe_walks, log)
        kept, alone = drop_single_sequence([w.sample for w in val])  # a subject may have lost a sequence to probing
        report_skipped("val clips", alone, log)
        val = [w for w in val if w.sample in set(kept)]
        subjects = sorted({w.sample.subject for w in train})
        if len(subjects) < 2:
            raise DataError(
                f"{cfg.data.train_path}: fewer than two usable training subjects ({len(train_bad)} skipped)"
            )
        gallery, probes = gallery_split([w.sample for w in val], cfg.data.gait.gallery)
        if not gallery or not probes:
            raise DataError(
                f"validation needs gallery and probe clips; data.gait.gallery={cfg.data.gait.gallery} gives "
                f"{len(gallery)} gallery and {len(probes)} probe clips"
            )
        dim = cfg.model.head.embedding
        model = build_model(cfg.model, dim)
        train_loader = self._loader(train, subjects, cfg, augment=True)
        val_subjects = sorted({w.sample.subject for w in val})
        val_loader = self._loader(val, val_subjects, cfg, augment=False, gallery=gallery)
        params = sum(p.numel() for p in model.parameters())
        metadata = saved_metadata(
            self.name,
            cfg,
            params,
            input=input_metadata(cfg),
            gait=to_dict(cfg.data.gait),
        )
        summary = (
            f"{model_line(cfg, params, f'{cfg.model.encoder.name} per frame')}, {dim}-d embedding, "
            f"{cfg.data.gait.loss} loss, {len(subjects)} train subjects ({len(train)} clips) / "
            f"{len(val_subjects)} val subjects ({len(gallery)} gallery + {len(probes)} probe clips) -> {out}"
        )
        steps = cfg.train.epochs * len(train_loader)
        module = GaitTask(model, len(subjects), dim, cfg.data.gait, cfg.train, total_steps=steps)
        counts = {"train_clips": len(train), "val_clips": len(val), "train_subjects": len(subjects)}
        return Prepared(model, module, train_loader, val_loader, metadata, counts, summary)

    @staticmethod
    def _loader(
        walks: list[ProbedWalk],
        subjects: list[str],
        cfg: ExperimentConfig,
        augment: bool,
        gallery: list[GaitSample] | None = None,
    ) -> DataLoader:
        from seqvision.tasks.clip_task import clip_loader
        from seqvision.tasks.gait.dataset import SubjectBatches, WalkDataset, collate_walks

        frames, aug = cfg.data.clip.frames, augment and cfg.data.augment
        ds = WalkDataset(walks, subjects, cfg.model.height, frames, aug, gallery)
        if not augment:  # validation: data.batch_size clips at a time, in order
            return clip_loader(ds, cfg, collate_walks)
        labels = [ds.index[w.sample.subject] for w in walks]  # training: P subjects x K clips, for batch-hard mining
        batches = SubjectBatches(labels, cfg.data.gait.subjects, cfg.data.gait.per_subject, cfg.train.seed)
        return clip_loader(ds, cfg, collate_walks, batches=batches)

    def describe(self, metrics: dict[str, float]) -> str:
        return (
            f"val rank-1 {metrics.get('val_rank1', float('nan')):.4f}, mAP {metrics.get('val_map', float('nan')):.4f}"
        )

    def write_compare_data(self, folder: Path, train: int, val: int) -> tuple[str, str]:
        """Generated walkers, 4 sequences of 40 frames each: validation walkers are other people, another seed."""
        from seqvision.tasks.gait.synth import write_walkers

        sequences = 4  # half the gallery, half the probes of validation
        subjects = [max(2, -(-n // sequences)) for n in (train, val)]
        paths = folder / "train", folder / "val"
        for path, count, first, seed in ((paths[0], subjects[0], 1, 0), (paths[1], subjects[1], subjects[0] + 1, 1)):
            write_walkers(path, count, sequences=sequences, frames=40, first_subject=first, seed=seed)
        return str(paths[0]), str(paths[1])
