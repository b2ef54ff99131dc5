"""What a task is: it owns the data, the loss, the decoding and the metrics; the model stays a plain module.

A :class:`Task` turns an experiment config into everything ``seqvision train`` needs (model,
Lightning module, loaders, the metadata saved with the model, the metric to select it by), so
the training loop, run folder, checkpoints and CLI are shared by every task.
"""

from __future__ import annotations

import argparse
import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Timer
from torch.utils.data import DataLoader

from seqvision.config import ExperimentConfig, TrainConfig
from seqvision.errors import ConfigError
from seqvision.nn.model import SeqModel
from seqvision.tasks.predictor import Predictor
from seqvision.training.distributed import sum_across_ranks


def training_seconds(trainer: L.Trainer, since: float) -> float:
    """Training time so far: from Lightning's ``Timer`` (which survives ``--resume``), else since ``since``."""
    timer = next((c for c in trainer.callbacks if isinstance(c, Timer)), None)  # type: ignore[attr-defined]
    return timer.time_elapsed("train") if timer else time.monotonic() - since


class TrainingModule(L.LightningModule):
    """The Lightning side shared by every task: AdamW, warm-up + cosine schedule that ends with the budget."""

    def __init__(self, model: SeqModel, train_cfg: TrainConfig, total_steps: int):
        super().__init__()
        self.model, self.cfg = model, train_cfg
        self.total_steps = max(total_steps, 1)
        self.budget_s = train_cfg.max_minutes * 60
        self.start_time = time.monotonic()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # Lightning's mixed precision refuses to clip the gradients of a fused optimizer (it would unscale them)
        fused = self.cfg.precision == "32"
        return torch.optim.AdamW(
            self.model.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay, fused=fused
        )

    def progress(self) -> float:
        """Fraction of training done: by steps, or by the time budget when that comes first.

        Time comes from Lightning's ``Timer`` (which survives ``--resume``) when the trainer has one.
        """
        done = self.global_step / self.total_steps
        if self.budget_s > 0:
            done = max(done, training_seconds(self.trainer, self.start_time) / self.budget_s)
        return min(done, 1.0)

    def _schedule(self) -> None:
        """Linear warm-up over the first 3 %, then cosine decay to 2 % of the peak, ending with the budget."""
        p = self.progress()
        factor = p / 0.03 if p < 0.03 else 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * (p - 0.03) / 0.97))
        for group in self.optimizers().param_groups:  # type: ignore[union-attr]
            group["lr"] = self.cfg.lr * factor
        self.log("lr", self.cfg.lr * factor, on_step=True, on_epoch=False)
        self._freeze_encoder(self.global_step < self.cfg.freeze_encoder_steps)

    def _freeze_encoder(self, frozen: bool) -> None:
        """``train.freeze_encoder_steps``: a fine-tuned head and sequence model first learn on fixed features."""
        encoder = self.model.encoder
        if frozen:
            encoder.eval()  # every step: Lightning puts the whole model back in train mode each epoch
        elif not encoder.training and self.model.training:
            encoder.train()
        if next(encoder.parameters()).requires_grad == frozen:
            encoder.requires_grad_(not frozen)


class ClassifierModule(TrainingModule):
    """A model with a ``classify`` head trained with cross-entropy; logs ``val_acc`` and ``val_loss``.

    Subclasses say how a batch becomes ``(loss, logits (B, K), target (B,))`` in :meth:`loss`; a
    target of -100 (a class never seen in training) is ignored by the loss and counted wrong.
    """

    def __init__(self, model: SeqModel, labels: list[str], train_cfg: TrainConfig, total_steps: int):
        super().__init__(model, train_cfg, total_steps)
        self.labels = labels
        self.correct = self.total = 0
        self.val_losses: list[float] = []

    @abstractmethod
    def loss(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        self._schedule()
        loss, _, target = self.loss(batch)
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(target))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        loss, logits, target = self.loss(batch)
        self.val_losses.append(float(loss))
        self.correct += int((logits.argmax(-1) == target).sum())
        self.total += len(target)

    def on_validation_epoch_end(self) -> None:
        # counts summed over data-parallel ranks first, so every rank logs the accuracy of the whole val set
        correct, total, loss_sum, batches = sum_across_ranks(
            self, [self.correct, self.total, sum(self.val_losses), len(self.val_losses)]
        )
        if total:
            self.log("val_acc", correct / total, prog_bar=True)
            self.log("val_loss", loss_sum / max(batches, 1))
        self.correct = self.total = 0
        self.val_losses = []


def model_line(cfg: ExperimentConfig, params: int, encoder: str = "") -> str:
    """The start of the line ``seqvision train`` opens with: preset, encoder -> sequence model -> head, size."""
    m = cfg.model
    return (
        f"seqvision: {m.preset} ({encoder or m.encoder.name} -> {m.sequence.name} -> {m.head.name}), "
        f"{params / 1e6:.2f} M parameters"
    )


@dataclass
class Prepared:
    """Everything a training run needs, made by :meth:`Task.prepare`."""

    model: SeqModel
    module: TrainingModule
    train: DataLoader
    val: DataLoader
    metadata: dict[str, Any]  # saved with the model: task, architecture, config, input, classes ...
    counts: dict[str, int]  # e.g. {"train_lines": 950, "val_lines": 50}, saved under "training"
    summary: str  # one line printed when training starts


class Task(ABC):
    """A kind of problem (text lines, video clips, ...): data, loss, metrics; registered in ``TASKS``."""

    name: str
    default_preset: str
    monitor: str  # validation metric that selects the best model, e.g. "val_cer"
    mode: str  # "min" or "max"
    metric_names: tuple[str, ...]  # validation metrics plotted in curves.png
    model_input: str = "line"  # the ModelConfig.input its models read: line, clip, image, frames, sequence
    model_head: str | None = None  # the head its models must end with, when only one fits

    def check_model(self, cfg: ExperimentConfig) -> None:
        """One clear line, before any data is read, when the configured model does not fit this task."""
        wrong_head = self.model_head is not None and cfg.model.head.name != self.model_head
        if cfg.model.input != self.model_input or wrong_head:
            head = f" with a {self.model_head} head" if self.model_head else ""
            article = "an" if self.model_input[0] in "aeiou" else "a"
            raise ConfigError(
                f"task {self.name} needs {article} {self.model_input} model{head} "
                f"(e.g. --preset {self.default_preset}), not {cfg.model.preset!r}"
            )

    @abstractmethod
    def prepare(self, cfg: ExperimentConfig, out: Path, resume: bool, log: Path | None) -> Prepared:
        """Read and check the data, build the model and its Lightning module."""

    def describe(self, metrics: dict[str, float]) -> str:
        """The validation metrics of a saved model, for the line ``seqvision train`` ends with."""
        return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())

    # The verbs a saved model answers: `seqvision read`, `eval` and `export` find the model's task in
    # the registry and call these (seqvision.cli.dispatch); a task without one says so in one line.
    title: str = "this kind of"  # how messages name its models: "a video model"
    reads_pages: bool = False  # `seqvision read --page XML` goes to this task, whatever the model

    @property
    def predictor(self) -> type[Predictor]:
        """The class that loads this task's models for inference (:class:`~seqvision.tasks.predictor.Predictor`)."""
        raise NotImplementedError(f"task {self.name} has no predictor")

    def add_parsers(self, sub: Any, after: str) -> None:
        """Add the task's own verbs (``sub.add_parser``) that ``seqvision --help`` lists after shared verb ``after``.

        ``seqvision`` calls this after each shared verb (train, eval, read, export, serve, compare,
        models), so the listing keeps one order; keep the imports light (``--help`` stays fast).
        """
        return None  # a task without verbs of its own

    def read(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        """``seqvision read MODEL INPUT...``: print or write predictions; returns the exit status."""
        raise ConfigError(f"{model}: `seqvision read` does not take {self.title} models")

    def evaluate(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        """``seqvision eval MODEL DATA``: scores on labelled data; returns the exit status."""
        raise ConfigError(f"{model}: `seqvision eval` does not take {self.title} models")

    def export(self, args: argparse.Namespace, model: str, out: Path) -> int:
        """``seqvision export MODEL --out FILE.onnx``: write the ONNX file; returns the exit status."""
        raise ConfigError(f"{model}: ONNX export of {self.title} models is not supported yet (use the torch backend)")


def get_task(name: str) -> Task:
    """The task registered under ``name`` (importing the task modules fills the registry)."""
    import seqvision.tasks  # noqa: F401
    from seqvision.registry import TASKS

    return TASKS.get(name)()


def all_tasks() -> list[Task]:
    """Every registered task, by name."""
    import seqvision.tasks  # noqa: F401
    from seqvision.registry import TASKS

    return [TASKS.get(name)() for name in TASKS]
