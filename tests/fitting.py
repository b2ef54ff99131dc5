"""Tiny real training runs for tests: fit a Lightning task quietly, on the CPU, with nothing written."""

from __future__ import annotations

import warnings

import lightning as L


def fit_quietly(task: L.LightningModule, loader, epochs: int) -> None:
    """Train ``task`` on ``loader`` for ``epochs`` without logs, checkpoints, progress bars or validation."""
    task.train()
    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", ".*(many workers|predefined batch_sampler|log_every_n_steps|no `val_dataloader`).*"
        )
        trainer.fit(task, loader)
