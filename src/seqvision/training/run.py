"""``seqvision train``: one run folder holding config, logs, curves, checkpoints and the exported model.

Run folder layout::

    config.yaml        resolved experiment config      alphabet.json   the model's characters (text lines)
    metrics.csv        per-step/epoch log (Lightning)   labels.json     the model's classes (video)
    checkpoints/       best.ckpt and last.ckpt, resume files written atomically (trusted: written by this run)
    model.safetensors  best model (+ model.json)        skipped.txt     every input left out, and why
    curves.png         loss and the task's validation metrics

The task (``cfg.task``, see :mod:`seqvision.tasks`) provides the data, model and metrics; the
loop, checkpoints, time budget and model export are the same for every task.
"""

from __future__ import annotations

import logging
import time
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger

from seqvision.checkpoint import save_model
from seqvision.config import ExperimentConfig, save_yaml
from seqvision.errors import DataError, OutputError
from seqvision.io import remove_stale_temps
from seqvision.tasks.base import TrainingModule, get_task, training_seconds
from seqvision.tasks.text_lines import model_metadata
from seqvision.training.faults import (
    AtomicCheckpointIO,
    ResumeCheckpoint,
    ResumeState,
    check_free_space,
    check_resume_file,
)
from seqvision.training.plot import plot_curves

__all__ = ["ExportBest", "model_metadata", "train"]


class ExportBest(Callback):
    """Writes the self-describing model (safetensors + JSON) whenever the task's validation metric improves."""

    def __init__(
        self, path: Path, metadata: dict[str, Any], extra: dict[str, Any], monitor: str = "val_cer", mode: str = "min"
    ):
        self.path, self.metadata, self.extra = path, metadata, extra
        self.monitor, self.sign = monitor, 1.0 if mode == "min" else -1.0
        self.best = float("inf")  # of sign * metric, so lower is always better
        self.started = time.monotonic()

    def on_validation_end(self, trainer: L.Trainer, pl_module: TrainingModule) -> None:  # type: ignore[override]
        value = trainer.callback_metrics.get(self.monitor)
        if trainer.sanity_checking or value is None or self.sign * float(value) >= self.best:
            return
        self.best = self.sign * float(value)
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
    """Train a model for ``cfg.task`` into run folder ``out``; returns the exported model path."""
    task = get_task(cfg.task)
    probe = out / ".write-test"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"{out}: run folder is not writable ({exc.strerror or exc})") from None
    last = out / "checkpoints" / "last.ckpt"
    for folder in (out, out / "checkpoints"):
        remove_stale_temps(folder)  # what a kill -9 during an atomic write left behind
    if resume and last.exists():
        check_resume_file(last)  # before reading the data: a bad checkpoint is a quick, clear error
    if cfg.train.threads > 0:
        torch.set_num_threads(cfg.train.threads)
    L.seed_everything(cfg.train.seed, verbose=False)
    skipped_log = out / "skipped.txt"
    skipped_log.unlink(missing_ok=True)

    prepared = task.prepare(cfg, out, resume, skipped_log)
    save_yaml(cfg, out / "config.yaml")
    print(prepared.summary)
    check_free_space(out, sum(p.numel() for p in prepared.model.parameters()))
    export = ExportBest(out / "model.safetensors", prepared.metadata, prepared.counts, task.monitor, task.mode)
    callbacks: list[Callback] = [
        ModelCheckpoint(out / "checkpoints", "best", monitor=task.monitor, mode=task.mode),
        ResumeCheckpoint(last, every_n_steps=cfg.train.checkpoint_every),
        ResumeState(prepared.train.batch_sampler),
        EarlyStopping(task.monitor, patience=cfg.train.patience, mode=task.mode),
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
        if hasattr(prepared.train.batch_sampler, "resume_at"):  # ResumeState makes it resumable mid-epoch
            warnings.filterwarnings("ignore", ".*your dataloader is not resumable.*")
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
            log_every_n_steps=min(10, len(prepared.train)),
            plugins=[AtomicCheckpointIO()],
        )
        # our own resume files only, and even those are loaded without unpickling arbitrary objects
        ckpt = last if resume and last.exists() else None
        trainer.fit(prepared.module, prepared.train, prepared.val, ckpt_path=ckpt, weights_only=True)
    plot_curves(metric_files(out), out / "curves.png", task.metric_names)
    model_path = out / "model.safetensors"
    if not model_path.exists():
        raise DataError(f"{out}: training ended before the first validation; no model was written")
    return model_path
