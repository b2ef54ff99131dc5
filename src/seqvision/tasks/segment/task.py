"""Page segmentation task: find the text lines of a page (baselines and polygons) with a U-Net + row BiLSTM.

Training data are pages with PAGE-XML or ALTO ground truth (``--train pages/train --val pages/val``:
folders of XML files with their images beside them). Lines the files describe badly are mended or
skipped and counted (:mod:`~seqvision.tasks.segment.ground_truth`); pages without any usable line are
left out. The model is selected by ``val_f1``, the cBAD-style baseline F1 of the whole val pages.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.errors import DataError
from seqvision.registry import TASKS
from seqvision.tasks.base import Prepared, Task, model_line, saved_metadata

if TYPE_CHECKING:
    from seqvision.config import ExperimentConfig
    from seqvision.tasks.predictor import Predictor
    from seqvision.tasks.segment.ground_truth import PageLayout

NORMALISATION = {"method": "ink-percentile", "percentiles": [2, 98], "invert": True, "range": [0.0, 1.0]}


def read_pages(data: str, what: str, log: Path | None) -> list[PageLayout]:
    """The usable pages of ``data``; skipped lines and empty pages are counted on stderr and listed in ``log``."""
    from seqvision.data.loaders import report_skipped
    from seqvision.tasks.segment.ground_truth import read_layouts

    pages = read_layouts(data)
    report_skipped(f"{what} {data}", [m for p in pages for m in p.skipped], log)
    empty = [f"{p.source}: no usable text line" for p in pages if not p.segmentation.lines]
    report_skipped(f"{what} pages", empty, log)
    usable = [p for p in pages if p.segmentation.lines]
    if not usable:
        raise DataError(f"{data}: no page with a usable text line")
    return usable


@TASKS.register("segment")
class SegmentPages(Task):
    """Pages -> text lines: baseline and line maps, vectorised into polylines and polygons in reading order."""

    name = "segment"
    title = "page-segmentation"
    default_preset = "seg-small"
    monitor, mode = "val_f1", "max"
    metric_names = ("val_f1", "val_precision", "val_recall")
    model_input = "page"
    model_head = "maps"

    @property
    def predictor(self) -> type[Predictor]:
        from seqvision.tasks.segment.predictor import Segmenter

        return Segmenter

    def prepare(self, cfg: ExperimentConfig, out: Path, resume: bool, log: Path | None) -> Prepared:
        from torch.utils.data import DataLoader

        from seqvision.data.batches import RandomBatches
        from seqvision.tasks.segment.data import PageCrops, WholePages, collate_whole
        from seqvision.tasks.segment.model import MAPS, STRIDE, build_segmenter
        from seqvision.tasks.segment.module import SegmentModule

        self.check_model(cfg)
        train = read_pages(cfg.data.train_path, "train data", log)
        if cfg.data.val:
            val = read_pages(cfg.data.val, "val data", log)
        else:  # a seeded fraction of the pages, never a page in both
            random.Random(cfg.train.seed).shuffle(train)
            n_val = max(1, round(len(train) * cfg.data.val_fraction))
            if len(train) < 2:
                raise DataError(f"{cfg.data.train_path}: one page only; pass --val PAGES to validate on others")
            val, train = train[:n_val], train[n_val:]
        model = build_segmenter(cfg.model)
        seg, workers = cfg.data.segment, cfg.data.num_workers
        crops = PageCrops(train, cfg.model.height, seg.crop, seg.crops, seed=cfg.train.seed)
        batches = RandomBatches(len(crops), cfg.data.batch_size, shuffle=True, seed=cfg.train.seed)
        train_loader = DataLoader(crops, batch_sampler=batches, num_workers=workers, persistent_workers=workers > 0)
        val_loader = DataLoader(WholePages(val, cfg.model.height), batch_size=1, collate_fn=collate_whole)
        params = sum(p.numel() for p in model.parameters())
        metadata: dict[str, Any] = saved_metadata(
            self.name,
            cfg,
            params,
            maps=list(MAPS),
            input={"height": cfg.model.height, "channels": 1, "stride": STRIDE, "normalisation": NORMALISATION},
        )
        lines = sum(len(p.segmentation.lines) for p in train)
        summary = f"{model_line(cfg, params)}, {len(train)} train pages ({lines} lines) / {len(val)} val pages -> {out}"
        steps = cfg.train.epochs * len(train_loader)
        module = SegmentModule(model, val, seg.baseline_weight, cfg.train, steps)
        counts = {"train_pages": len(train), "val_pages": len(val), "train_lines": lines}
        return Prepared(model, module, train_loader, val_loader, metadata, counts, summary)  # type: ignore[arg-type]

    def describe(self, metrics: dict[str, float]) -> str:
        return (
            f"val baseline F1 {metrics.get('val_f1', float('nan')):.4f} (precision "
            f"{metrics.get('val_precision', float('nan')):.4f}, recall {metrics.get('val_recall', float('nan')):.4f})"
        )

    def add_parsers(self, sub: Any, after: str) -> None:
        if after == "read":
            from seqvision.tasks.segment.cli import add_segment

            add_segment(sub)

    def read(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        from seqvision.tasks.segment.cli import segment_files

        return segment_files(model, inputs, getattr(args, "page_out", None), getattr(args, "threads", 0))

    def evaluate(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        from seqvision.tasks.segment.cli import evaluate

        return evaluate(args, model, inputs)
