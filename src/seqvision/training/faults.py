"""What a training run survives: ``kill -9`` (resume from ``checkpoints/last.ckpt``), a full disk, a torn write.

- :class:`AtomicCheckpointIO` writes Lightning's resume files through a temporary file, fsync and
  rename, so a kill or a full disk mid-save leaves the previous checkpoint whole; loading one that
  is truncated or corrupt anyway is a :class:`CheckpointError`, never a traceback.
- :class:`ResumeCheckpoint` writes ``last.ckpt`` at the end of every epoch and, with
  ``train.checkpoint_every=N``, every N training steps: a kill loses at most N steps (or one epoch).
- :class:`ResumeState` puts in the checkpoint what Lightning leaves out, the random number
  generators and how far into its epoch the data order had got, so a resumed run goes on like
  an uninterrupted one (samplers with ``resume_at``, see :class:`~seqvision.data.lines.WidthBucketSampler`).
- :func:`check_free_space` fails a run at its start when the disk cannot hold its checkpoints.
"""

from __future__ import annotations

import io
import random
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.fabric.plugins import TorchCheckpointIO
from lightning.pytorch.callbacks import Callback, Checkpoint

from seqvision.errors import CheckpointError, OutputError
from seqvision.io import atomic_write_bytes

MB = 1 << 20
# a run's files as multiples of the fp32 weights: last.ckpt and best.ckpt (weights + two AdamW
# moments each), model.safetensors, and the temporary copy of a checkpoint while it is replaced
SPACE_PER_WEIGHTS = 3 + 3 + 1 + 3
SPACE_FOR_LOGS = 16 * MB  # metrics.csv, curves.png, config, alphabet, skipped.txt


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint I/O with all-or-nothing writes and one clear error for a bad file."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        atomic_write_bytes(path, buffer.getvalue())  # a full disk: OutputError, the previous file kept

    def load_checkpoint(
        self, path: Any, map_location: Callable | None = lambda storage, loc: storage, weights_only: bool | None = None
    ) -> dict[str, Any]:
        return load_resume_file(Path(path))  # always weights_only, onto the CPU, whatever the caller asks


def load_resume_file(path: Path) -> dict[str, Any]:
    """A resume checkpoint, loaded without unpickling arbitrary objects; :class:`CheckpointError` when unusable."""
    check_resume_file(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch reports a bad archive as RuntimeError, UnpicklingError, EOFError, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: resume checkpoint cannot be loaded ({first[:200]})") from None
    if not isinstance(state, dict) or "state_dict" not in state:
        raise CheckpointError(f"{path}: not a training checkpoint (no model state in it)")
    return state


def check_resume_file(path: Path) -> None:
    """Cheap check of a resume checkpoint (a zip archive with a CRC per record): truncated or flipped bytes fail."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such resume checkpoint") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise CheckpointError(
            f"{path}: resume checkpoint is truncated or corrupt ({exc}); delete it to start over"
        ) from None
    if bad is not None:
        raise CheckpointError(
            f"{path}: resume checkpoint is corrupt ({bad} fails its checksum); delete it to start over"
        )


class ResumeCheckpoint(Checkpoint):
    """Writes the resume file at the end of every epoch and every ``every_n_steps`` training steps (0: never mid-epoch).

    A ``Checkpoint`` subclass, so Lightning runs it after the other callbacks: early stopping and the
    best-model export have already updated the state it saves.
    """

    def __init__(self, path: Path, every_n_steps: int = 0):
        self.path, self.every_n_steps = path, every_n_steps

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        step = trainer.global_step
        if self.every_n_steps <= 0 or step % self.every_n_steps or trainer.sanity_checking:
            return
        if trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            return  # the end of the epoch saves; a checkpoint taken just before would resume into it twice
        self._save(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._save(trainer)  # after the epoch's validation and early-stopping check, as Lightning's own

    def _save(self, trainer: L.Trainer) -> None:
        trainer.save_checkpoint(self.path)


def rng_states() -> dict[str, Any]:
    """Python, NumPy and torch generator states in types ``torch.load(weights_only=True)`` accepts."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()  # type: ignore[misc]
    return {
        "python": random.getstate(),
        "numpy": [kind, torch.from_numpy(np.asarray(keys, dtype=np.int64)), pos, has_gauss, gauss],
        "torch": torch.get_rng_state(),
    }


def set_rng_states(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])


class ResumeState(Callback):
    """Saves the random generators and the position in the epoch; restores them when a run resumes.

    Lightning restarts a plain DataLoader from its first batch when it resumes mid-epoch. Given the
    training loader's batch sampler, when that has ``resume_at(epoch, batches)`` (as
    :class:`~seqvision.data.lines.WidthBucketSampler` does), the resumed run instead gets the same
    order as the killed one without the batches it had done. Data augmentation drawn inside the
    dataset is not replayed (same distribution, other draws).
    """

    def __init__(self, batch_sampler: object = None) -> None:
        self.batch_sampler = batch_sampler
        self.epoch = self.batches = 0

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self.epoch, self.batches = trainer.current_epoch, batch_idx + 1

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "batches": self.batches, "rng": rng_states()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Runs while Lightning restores the checkpoint, before the training loader's iterator exists."""
        self.epoch, self.batches = state["epoch"], state["batches"]
        set_rng_states(state["rng"])
        if hasattr(self.batch_sampler, "resume_at"):
            self.batch_sampler.resume_at(self.epoch, self.batches)


def needed_space(params: int) -> int:
    """Bytes a run of a ``params``-parameter model writes at most at once (checkpoints, model, logs)."""
    return SPACE_PER_WEIGHTS * 4 * params + SPACE_FOR_LOGS


def check_free_space(out: Path, params: int, free: int | None = None) -> None:
    """Fail now, with one line, when ``out``'s disk cannot hold the run's files (those already there count)."""
    free = shutil.disk_usage(out).free if free is None else free
    present = sum(p.stat().st_size for p in [*out.glob("checkpoints/*.ckpt"), *out.glob("model.*")] if p.is_file())
    needed = max(needed_space(params) - present, 3 * 4 * params)
    if free < needed:
        raise OutputError(
            f"{out}: not enough free disk space: {free / MB:.1f} MB free, about {needed / MB:.0f} MB needed for the "
            f"checkpoints and model of a {params / 1e6:.2f} M-parameter run; free some space or choose another --out"
        )
