"""``seqvision train``: one run folder holding config, logs, curves, checkpoints and the exported model.

Run folder layout::

    config.yaml        resolved experiment config      alphabet.json   the model's characters (text lines)
    metrics.csv        per-step/epoch log (Lightning)   labels.json     the model's classes (video)
    checkpoints/       best.ckpt and last.ckpt, resume files written atomically (trusted: written by this run)
    model.safetensors  best model (+ model.json)        skipped.txt     every input left out, and why
    curves.png         loss and the task's validation metrics (needs matplotlib, the [plot] extra)

The task (``cfg.task``, see :mod:`seqvision.tasks`) provides the data, model and metrics; the
loop, checkpoints, time budget and model export are the same for every task.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger

from seqvision.checkpoint import save_model
from seqvision.config import ExperimentConfig, TrainConfig, save_yaml
from seqvision.errors import ConfigError, DataError, OutputError
from seqvision.io import remove_stale_temps
from seqvision.tasks.base import get_task
from seqvision.training.distributed import launch_rank
from seqvision.training.faults import (
    AtomicCheckpointIO,
    ResumeCheckpoint,
    ResumeState,
    check_free_space,
    check_resume_file,
)
from seqvision.training.module import TrainingModule, training_seconds
from seqvision.training.plot import write_curves
from seqvision.training.warm_start import carried_init, load_base, warm_start

__all__ = ["ExportBest", "train"]


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
        self.best = self.sign * float(value)  # on every rank (the metric is summed over ranks), written by rank 0
        if not trainer.is_global_zero:
            return
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


NOISE = (
    "does not have many workers",
    "predefined batch_sampler",
    "LeafSpec",
    "exists and is not empty",
    "sync_dist=True",  # validation metrics are summed over ranks by the tasks themselves
    "IterableDataset. has .__len__. defined",  # shard streams know their epoch length from the index
)


def quiet() -> None:
    """No GPU/TPU banners, tips or known-harmless warnings (in this process)."""
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    for noise in NOISE:
        warnings.filterwarnings("ignore", f".*{noise}.*")


class Quiet(Callback):
    """:func:`quiet` in the processes ``--strategy ddp_spawn`` starts too (they do not inherit warning filters)."""

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        quiet()


def validation_options(cfg: TrainConfig) -> dict[str, Any]:
    """``train.val_every`` N > 0: validate every N steps, across epoch ends (an epoch of a large mixed set is hours)."""
    if cfg.val_every < 0:
        raise ConfigError(f"train.val_every must be 0 (after each epoch) or a number of steps, not {cfg.val_every}")
    return {"val_check_interval": cfg.val_every, "check_val_every_n_epoch": None} if cfg.val_every else {}


def parallel_options(cfg: TrainConfig) -> dict[str, Any]:
    """Trainer arguments for where and on how many processes to train (docs/scaling.md)."""
    if cfg.accelerator not in ("cpu", "gpu", "auto"):
        raise ConfigError(f"train.accelerator must be cpu, gpu or auto, not {cfg.accelerator!r}")
    if cfg.strategy not in ("auto", "ddp", "ddp_spawn"):
        raise ConfigError(f"train.strategy must be auto, ddp or ddp_spawn, not {cfg.strategy!r}")
    if cfg.devices < 1 or cfg.num_nodes < 1:
        raise ConfigError(f"train.devices and train.num_nodes must be at least 1, not {cfg.devices}, {cfg.num_nodes}")
    if cfg.accelerator == "gpu" and not torch.cuda.is_available():
        raise ConfigError("train.accelerator=gpu, but torch sees no CUDA GPU (use cpu or auto)")
    gpu = cfg.accelerator == "gpu" or (cfg.accelerator == "auto" and torch.cuda.is_available())
    parallel = cfg.devices * cfg.num_nodes > 1
    return {
        "accelerator": cfg.accelerator,
        "devices": cfg.devices,
        "num_nodes": cfg.num_nodes,
        "strategy": "ddp" if parallel and cfg.strategy == "auto" else cfg.strategy,
        # our batch samplers split each global batch across ranks; Lightning's sampler cannot wrap them
        "use_distributed_sampler": False,
        # same global batch, same BatchNorm statistics (torch's SyncBatchNorm runs on GPUs only)
        "sync_batchnorm": parallel and gpu,
    }


# train.precision -> Lightning's; bf16 autocasts convs, matmuls and LSTMs, keeps the weights in fp32
PRECISIONS: dict[str, Literal["32-true", "bf16-mixed"]] = {"32": "32-true", "bf16": "bf16-mixed"}


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool | None:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX); None where that cannot be told.

    Without either, bf16 autocast on the CPU is emulated and several times slower than fp32.
    """
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return None
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), None)
    return None if flags is None else bool({"avx512_bf16", "amx_bf16"} & set(flags))


def train(cfg: ExperimentConfig, out: Path, resume: bool = False, progress: bool = True) -> Path:
    """Train a model for ``cfg.task`` into run folder ``out``; returns the exported model path."""
    task = get_task(cfg.task)
    if cfg.train.precision not in PRECISIONS:
        raise ConfigError(f"train.precision must be 32 or bf16, not {cfg.train.precision!r}")
    parallel = parallel_options(cfg.train)  # checked before any data is read
    if cfg.train.precision == "bf16" and cfg.train.accelerator == "cpu" and cpu_has_native_bf16() is False:
        print(
            "warning: train.precision=bf16, but this CPU has neither AVX-512 BF16 nor AMX: bf16 is emulated "
            "here and several times slower than fp32 (use --precision 32)",
            file=sys.stderr,
        )
    rank = launch_rank(cfg.train.devices)  # 0 unless this is an extra process of a data-parallel run
    probe = out / f".write-test-{os.getpid()}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"{out}: run folder is not writable ({exc.strerror or exc})") from None
    last = out / "checkpoints" / "last.ckpt"
    for folder in (out, out / "checkpoints") if rank == 0 else ():
        remove_stale_temps(folder)  # what a kill -9 during an atomic write left behind
    if resume and last.exists():
        check_resume_file(last)  # before reading the data: a bad checkpoint is a quick, clear error
    if cfg.train.threads > 0:
        torch.set_num_threads(cfg.train.threads)
    L.seed_everything(cfg.train.seed, verbose=False)
    skipped_log: Path | None = out / "skipped.txt" if rank == 0 else None
    if skipped_log:
        skipped_log.unlink(missing_ok=True)

    with contextlib.redirect_stderr(sys.stderr if rank == 0 else io.StringIO()):  # data warnings once, not per rank
        prepared = task.prepare(cfg, out, resume, skipped_log)
    carried = carried_init(out, resume) if cfg.train.init and "init" not in prepared.metadata else None
    if carried:  # resumed: the checkpoint holds the weights
        prepared.metadata["init"] = carried
    elif cfg.train.init and "init" not in prepared.metadata:  # tasks without their own class merging: exact match
        base = warm_start(prepared.model, load_base(cfg.train.init, cfg.task), partial=cfg.train.init_partial)
        prepared.metadata["init"] = {"from": str(base.path), "tensors": base.copied} | base.record()
        prepared.summary += f"\n{base.describe()}"
    if rank == 0:
        save_yaml(cfg, out / "config.yaml")
        print(prepared.summary)
    check_free_space(out, sum(p.numel() for p in prepared.model.parameters()))  # every rank: none may go on alone
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
    if resume and rank == 0:
        keep_metrics_segment(out)
    callbacks.append(Quiet())
    with warnings.catch_warnings():
        quiet()
        if hasattr(prepared.train.batch_sampler, "resume_at"):  # ResumeState makes it resumable mid-epoch
            warnings.filterwarnings("ignore", ".*your dataloader is not resumable.*")
        trainer = L.Trainer(
            max_epochs=cfg.train.epochs,
            max_time=timedelta(minutes=cfg.train.max_minutes) if cfg.train.max_minutes > 0 else None,
            **parallel,
            logger=CSVLogger(out, name="", version=""),
            callbacks=callbacks,
            gradient_clip_val=cfg.train.grad_clip,
            enable_progress_bar=progress,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            log_every_n_steps=min(10, len(prepared.train)),
            **validation_options(cfg.train),
            plugins=[AtomicCheckpointIO()],
            precision=PRECISIONS[cfg.train.precision],
        )
        # our own resume files only, and even those are loaded without unpickling arbitrary objects
        ckpt = last if resume and last.exists() else None
        trainer.fit(prepared.module, prepared.train, prepared.val, ckpt_path=ckpt, weights_only=True)
    if not trainer.is_global_zero:
        return out / "model.safetensors"
    write_curves(metric_files(out), out / "curves.png", task.metric_names)  # or one line: skipped
    model_path = out / "model.safetensors"
    if not model_path.exists():
        raise DataError(f"{out}: training ended before the first validation; no model was written")
    return model_path
