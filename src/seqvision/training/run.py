"""``seqvision train``: one run folder holding config, logs, curves, checkpoints and the exported model.

Run folder layout::

    config.yaml        resolved experiment config      alphabet.json   the model's characters
    metrics.csv        per-step/epoch log (Lightning)   curves.png      loss and CER/WER curves
    checkpoints/       Lightning's best/last resume files (trusted: written by this run)
    model.safetensors  best model (+ model.json)        skipped.txt     every line left out, and why
"""

from __future__ import annotations

import json
import logging
import time
import warnings
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger

from seqvision.checkpoint import save_model
from seqvision.config import ExperimentConfig, save_yaml, to_dict
from seqvision.data.images import NORMALISATION
from seqvision.decoding.alphabet import Alphabet
from seqvision.errors import CheckpointError, DataError
from seqvision.io import atomic_write_text
from seqvision.model import build_model
from seqvision.tasks.text_lines import TextLineTask, training_seconds
from seqvision.training.data import make_loaders, read_split
from seqvision.training.plot import plot_curves


def model_metadata(cfg: ExperimentConfig, alphabet: Alphabet, params: int) -> dict[str, Any]:
    return {
        "task": "text_lines",
        "architecture": to_dict(cfg.model),
        "config": to_dict(cfg),
        "alphabet": alphabet.chars,
        "input": {"height": cfg.model.height, "channels": cfg.model.in_channels, "normalisation": NORMALISATION},
        "parameters": params,
    }


class ExportBest(Callback):
    """Writes the self-describing model (safetensors + JSON) whenever validation CER improves."""

    def __init__(self, path: Path, metadata: dict[str, Any], extra: dict[str, Any]):
        self.path, self.metadata, self.extra = path, metadata, extra
        self.best = float("inf")
        self.started = time.monotonic()

    def on_validation_end(self, trainer: L.Trainer, pl_module: TextLineTask) -> None:  # type: ignore[override]
        cer = trainer.callback_metrics.get("val_cer")
        if trainer.sanity_checking or cer is None or float(cer) >= self.best:
            return
        self.best = float(cer)
        metrics = {k: round(float(v), 5) for k, v in trainer.callback_metrics.items() if k.startswith("val_")}
        seconds = training_seconds(trainer, self.started)
        training = {
            **self.extra,
            "epoch": trainer.current_epoch + 1,
            "step": trainer.global_step,
            "seconds": round(seconds, 1),
        }
        save_model(self.path, pl_module.model, {**self.metadata, "metrics": metrics, "training": training})

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state.get("best", self.best)


def metric_files(out: Path) -> list[Path]:
    """The run's CSV logs in order: earlier segments of a resumed run first, then ``metrics.csv``."""
    return sorted(out.glob("metrics-*.csv")) + [p for p in [out / "metrics.csv"] if p.exists()]


def keep_metrics_segment(out: Path) -> None:
    """Lightning's CSV logger deletes an existing ``metrics.csv``; move it aside as ``metrics-N.csv``."""
    current = out / "metrics.csv"
    if current.exists():
        current.rename(out / f"metrics-{len(list(out.glob('metrics-*.csv'))) + 1:02d}.csv")


def train(cfg: ExperimentConfig, out: Path, resume: bool = False, progress: bool = True) -> Path:
    """Train a text-line model into run folder ``out``; returns the exported model path."""
    probe = out / ".write-test"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise DataError(f"{out}: run folder is not writable ({exc.strerror or exc})") from None
    last = out / "checkpoints" / "last.ckpt"
    if resume and last.exists() and not zipfile.is_zipfile(last):
        raise CheckpointError(f"{last}: resume checkpoint is truncated or corrupt (delete it to start over)")
    if cfg.train.threads > 0:
        torch.set_num_threads(cfg.train.threads)
    L.seed_everything(cfg.train.seed, verbose=False)
    skipped_log = out / "skipped.txt"
    skipped_log.unlink(missing_ok=True)

    train_samples, val_samples = read_split(cfg.data, cfg.train.seed, skipped_log)
    alphabet_file = out / "alphabet.json"
    if resume and alphabet_file.exists():
        alphabet = Alphabet(json.loads(alphabet_file.read_text(encoding="utf-8")))
    else:
        alphabet = Alphabet.from_texts(s.text for s in train_samples)
    model = build_model(cfg.model, len(alphabet))
    loaders = make_loaders(
        train_samples, val_samples, alphabet, model, cfg.model.height, cfg.data, cfg.train.seed, skipped_log
    )
    save_yaml(cfg, out / "config.yaml")
    atomic_write_text(alphabet_file, json.dumps(alphabet.chars, ensure_ascii=False))

    params = sum(p.numel() for p in model.parameters())
    print(
        f"seqvision: {cfg.model.preset} ({cfg.model.encoder.name} -> {cfg.model.sequence.name} -> "
        f"{cfg.model.head.name}), {params / 1e6:.2f} M parameters, {len(alphabet) - 1} characters, "
        f"{loaders.train_lines} train / {loaders.val_lines} val lines -> {out}"
    )
    task = TextLineTask(model, alphabet, cfg.train, total_steps=cfg.train.epochs * len(loaders.train))
    export = ExportBest(
        out / "model.safetensors",
        model_metadata(cfg, alphabet, params),
        {"train_lines": loaders.train_lines, "val_lines": loaders.val_lines},
    )
    callbacks: list[Callback] = [
        ModelCheckpoint(out / "checkpoints", "best", monitor="val_cer", mode="min", save_last=True),
        EarlyStopping("val_cer", patience=cfg.train.patience, mode="min"),
        export,
    ]
    if progress:
        callbacks.append(TQDMProgressBar(refresh_rate=10))
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no GPU/TPU banners and tips
    if resume:
        keep_metrics_segment(out)
    with warnings.catch_warnings():
        for noise in ("does not have many workers", "predefined batch_sampler", "LeafSpec", "exists and is not empty"):
            warnings.filterwarnings("ignore", f".*{noise}.*")
        trainer = L.Trainer(
            max_epochs=cfg.train.epochs,
            max_time=timedelta(minutes=cfg.train.max_minutes) if cfg.train.max_minutes > 0 else None,
            accelerator="cpu",
            devices=1,
            logger=CSVLogger(out, name="", version=""),
            callbacks=callbacks,
            gradient_clip_val=cfg.train.grad_clip,
            enable_progress_bar=progress,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            log_every_n_steps=min(10, len(loaders.train)),
        )
        # our own resume files only, and even those are loaded without unpickling arbitrary objects
        ckpt = last if resume and last.exists() else None
        trainer.fit(task, loaders.train, loaders.val, ckpt_path=ckpt, weights_only=True)
    plot_curves(metric_files(out), out / "curves.png")
    model_path = out / "model.safetensors"
    if not model_path.exists():
        raise DataError(f"{out}: training ended before the first validation; no model was written")
    return model_path
