"""Image captioning task (Show, Attend and Tell): a CNN grid of cells -> an attention LSTM writes the words.

Cross-entropy over the words plus the paper's doubly stochastic attention regulariser
``lambda * sum_cells (1 - sum_t alpha_t)^2``, optional scheduled sampling (its chance rises
linearly with training progress to ``data.caption.sampling``). Validation decodes every val photo
and scores it against all its references with BLEU-4 and CIDEr (pycocoevalcap); the model is
selected by ``val_cider``. The vocabulary, built from the training captions, is saved in the model.
"""

from __future__ import annotations

import argparse
import json
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.errors import DataError
from seqvision.io import atomic_write_text
from seqvision.registry import TASKS
from seqvision.tasks.base import Prepared, Task, saved_metadata

if TYPE_CHECKING:
    from seqvision.config import ExperimentConfig
    from seqvision.tasks.captioning.captions import CaptionSample
    from seqvision.tasks.predictor import Predictor


@TASKS.register("captioning")
class Captioning(Task):
    """Photos -> captions (Show, Attend and Tell): captions.csv or COCO/Karpathy JSON; BLEU, CIDEr."""

    name = "captioning"
    title = "captioning"

    def add_parsers(self, sub: Any, after: str) -> None:
        from seqvision.tasks.captioning.cli import add_parsers

        add_parsers(sub, after)

    @property
    def predictor(self) -> type[Predictor]:
        from seqvision.tasks.captioning.predictor import Captioner

        return Captioner

    def read(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        from seqvision.tasks.captioning.cli import caption

        return caption(args)

    def evaluate(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        from seqvision.tasks.captioning.cli import evaluate

        return evaluate(args, model, inputs)

    default_preset = "sat-small"
    monitor, mode = "val_cider", "max"
    metric_names = ("val_bleu4", "val_cider")
    model_input = "image"
    model_head = "attention"

    def split(self, cfg: ExperimentConfig, log: Path | None) -> tuple[list[CaptionSample], list[CaptionSample]]:
        from seqvision.data.loaders import read_train_val
        from seqvision.tasks.captioning.captions import read_captions

        missing = "pass --train DATA (captions.csv, a caption JSON or their folder)"
        return read_train_val(cfg, log, read_captions, check_no_leak, hold_out, missing)

    def prepare(self, cfg: ExperimentConfig, out: Path, resume: bool, log: Path | None) -> Prepared:
        from torch.utils.data import DataLoader

        from seqvision.data.batches import RandomBatches
        from seqvision.data.loaders import report_skipped
        from seqvision.nn.model import build_model
        from seqvision.tasks.captioning.dataset import (
            CAPTION_NORMALISATION,
            CaptionDataset,
            collate_captions,
            load_samples,
        )
        from seqvision.tasks.captioning.metrics import _require
        from seqvision.tasks.captioning.module import CaptioningModule
        from seqvision.tasks.captioning.vocab import Vocabulary

        self.check_model(cfg)
        _require()  # the metrics, before any time is spent
        train_samples, val_samples = self.split(cfg, log)
        size = cfg.model.height
        train_images, train_samples, bad = load_samples(train_samples, size)
        report_skipped("train images", bad, log)
        val_images, val_samples, bad = load_samples(val_samples, size)
        report_skipped("val images", bad, log)
        if not train_samples:
            raise DataError(f"{cfg.data.train_path}: no usable captioned image")
        if not val_samples:
            raise DataError("no usable validation image (see the warnings above)")
        vocab_file = out / "vocabulary.json"
        if resume and vocab_file.exists():
            vocab = Vocabulary(json.loads(vocab_file.read_text(encoding="utf-8")))
        else:
            vocab = Vocabulary.build((c for s in train_samples for c in s.captions), cfg.data.caption.min_count)
        atomic_write_text(vocab_file, json.dumps(vocab.words, ensure_ascii=False))
        model = build_model(cfg.model, len(vocab))
        max_words = cfg.data.caption.max_words
        flip = cfg.data.augment
        train_ds = CaptionDataset(train_images, train_samples, vocab, max_words, flip=flip)
        val_ds = CaptionDataset(val_images, val_samples, vocab, max_words, flip=False)
        batch, seed = cfg.data.batch_size, cfg.train.seed
        train_batches = RandomBatches(len(train_ds), batch, shuffle=True, seed=seed)
        train_loader = DataLoader(train_ds, batch_sampler=train_batches, collate_fn=collate_captions)
        val_batches = RandomBatches(len(val_ds), batch, shuffle=False)
        val_loader = DataLoader(val_ds, batch_sampler=val_batches, collate_fn=collate_captions)
        params = sum(p.numel() for p in model.parameters())
        metadata: dict[str, Any] = saved_metadata(
            self.name,
            cfg,
            params,
            vocabulary=vocab.words,
            input={"height": size, "width": size, "channels": 3, "normalisation": CAPTION_NORMALISATION},
            decoding={"max_words": max_words},
        )
        n_captions = sum(len(s.captions) for s in train_samples)
        grid = cfg.model.encoder.grid
        summary = (
            f"seqvision: {cfg.model.preset} ({cfg.model.encoder.name} {grid}x{grid} "
            f"cells -> {cfg.model.sequence.name} -> attention LSTM), {params / 1e6:.2f} M parameters, "
            f"{len(vocab)} words, {len(train_samples)} train images ({n_captions} captions) / "
            f"{len(val_samples)} val images at {size} px -> {out}"
        )
        module = CaptioningModule(model, vocab, cfg, total_steps=cfg.train.epochs * len(train_loader))  # type: ignore[arg-type]
        counts = {"train_images": len(train_samples), "train_captions": n_captions, "val_images": len(val_samples)}
        return Prepared(model, module, train_loader, val_loader, metadata, counts, summary)

    def describe(self, metrics: dict[str, float]) -> str:
        nan = float("nan")
        return f"val BLEU-4 {metrics.get('val_bleu4', nan):.4f}, CIDEr {metrics.get('val_cider', nan):.4f}"


def check_no_leak(train: list[CaptionSample], val: list[CaptionSample]) -> None:
    """A given validation set must hold other photos than the training set."""
    seen = {s.image.resolve() for s in train}
    leaked = [s for s in val if s.image.resolve() in seen]
    if leaked:
        raise DataError(f"{leaked[0].source}: image {leaked[0].image} is in the training data too")


def hold_out(
    samples: list[CaptionSample], val_fraction: float, seed: int
) -> tuple[list[CaptionSample], list[CaptionSample]]:
    """A seeded ``val_fraction`` of the photos (at least one), in an order set by a hash of each photo's path."""
    n_val = max(1, round(len(samples) * val_fraction))
    order = sorted(samples, key=lambda s: zlib.crc32(f"{seed}:{s.image}".encode()))
    return order[n_val:], order[:n_val]
