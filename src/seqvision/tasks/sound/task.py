"""Sounds for silent video (Owens et al. 2016): a CNN per frame -> a sequence model -> sound features per frame.

The targets are log-mel frames of each clip's own audio track, ``steps`` per video frame, aligned
by timestamp; the loss is L1 (or L2); validation also scores a "mean sound" (the training clips'
average feature frame, everywhere) and onset detection. Waveforms come from Griffin-Lim or from
the nearest training clip (a bank of them is saved beside the model, ``sound-bank.safetensors``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.errors import ConfigError, DataError
from seqvision.registry import TASKS
from seqvision.tasks.base import Prepared, model_line, saved_metadata
from seqvision.tasks.clip_task import ClipTask

if TYPE_CHECKING:
    import numpy as np
    from torch.utils.data import DataLoader

    from seqvision.config import ExperimentConfig
    from seqvision.tasks.predictor import Predictor
    from seqvision.tasks.sound.clips import SoundSample
    from seqvision.tasks.sound.dataset import SoundClip

BANK = "sound-bank.safetensors"


@TASKS.register("sound")
class Sound(ClipTask):
    """Video files with sound -> their sound, predicted from the pictures alone; L1/L2 on log-mel, onsets."""

    name = "sound"
    title = "sound"
    default_preset = "vis-small"
    monitor, mode = "val_loss", "min"
    metric_names = ("val_loss", "val_mean_sound_loss", "val_onset_accuracy")
    model_head = "regress"
    export_output = "features"

    @property
    def predictor(self) -> type[Predictor]:
        from seqvision.tasks.sound.predictor import SoundPredictor

        return SoundPredictor

    def split(self, cfg: ExperimentConfig, log: Path | None) -> tuple[list[SoundSample], list[SoundSample]]:
        from seqvision.data.clip_lists import grouped_split
        from seqvision.data.loaders import read_train_val
        from seqvision.tasks.sound.clips import check_no_leak, read_sound_clips

        return read_train_val(cfg, log, read_sound_clips, check_no_leak, grouped_split)

    def prepare(self, cfg: ExperimentConfig, out: Path, resume: bool, log: Path | None) -> Prepared:
        import numpy as np

        from seqvision.nn.model import build_model
        from seqvision.tasks.clip_task import probe_both
        from seqvision.tasks.sound.dataset import probe_all
        from seqvision.tasks.sound.features import Features
        from seqvision.tasks.sound.module import SoundModule

        self.check_model(cfg)
        sound = cfg.data.sound
        if sound.loss not in ("l1", "l2"):
            raise ConfigError(f"data.sound.loss must be l1 or l2, not {sound.loss!r}")
        if sound.steps < 1 or sound.bands < 2 or sound.n_fft < 16 or sound.rate < 1000:
            raise ConfigError("data.sound: steps >= 1, bands >= 2, n_fft >= 16 and rate >= 1000 are needed")
        features = Features.of(sound)
        train, val, train_bad = probe_both(self.split(cfg, log), lambda s: probe_all(s, features), log)
        if not train:
            raise DataError(f"{cfg.data.train_path}: no usable training clip ({len(train_bad)} skipped)")
        if not val:
            raise DataError("no usable validation clip (see the warnings above)")
        mean = np.concatenate([c.features for c in train]).mean(0)  # (bands,): the "mean sound"
        model = build_model(cfg.model, sound.steps * sound.bands)
        start_at_mean(model, mean, sound.steps)
        write_bank(out / BANK, train[: sound.bank])
        params = sum(p.numel() for p in model.parameters())
        metadata = saved_metadata(
            self.name,
            cfg,
            params,
            input=input_metadata(cfg),
            sound={
                **features.to_dict(),
                "loss": sound.loss,
                "mean": [round(float(v), 5) for v in mean],
                "bank": BANK,
            },
        )
        train_loader = self._loader(train, cfg, augment=True)
        summary = (
            f"{model_line(cfg, params, f'{cfg.model.encoder.name} per frame')}, {sound.bands} mel bands x "
            f"{sound.steps} per frame, {len(train)} train / {len(val)} val clips -> {out}"
        )
        total = cfg.train.epochs * len(train_loader)
        module = SoundModule(model, mean, sound.bands, sound.loss, cfg.train, total_steps=total)
        counts = {"train_clips": len(train), "val_clips": len(val)}
        return Prepared(model, module, train_loader, self._loader(val, cfg, augment=False), metadata, counts, summary)

    @staticmethod
    def _loader(clips: list[SoundClip], cfg: ExperimentConfig, augment: bool) -> DataLoader:
        from seqvision.tasks.clip_task import clip_loader
        from seqvision.tasks.sound.dataset import SoundDataset, pad_batch

        frames = cfg.data.clip.frames if augment else 0  # validation: whole clips
        ds = SoundDataset(clips, cfg.model.height, frames, cfg.data.sound.steps, augment=augment and cfg.data.augment)
        return clip_loader(ds, cfg, pad_batch, shuffle=augment)

    def write_compare_data(self, folder: Path, train: int, val: int) -> tuple[str, str]:
        """Generated hits spread over the 4 materials, 4 scenes per split: validation scenes are new, another seed."""
        from seqvision.tasks.sound.synth import MATERIALS, write_sound_clips

        groups = 4  # scenes per split: a background and a stick colour each
        for split, clips, first, seed in (("train", train, 1, 0), ("val", val, 1 + groups, 1)):
            per_material = max(1, -(-clips // len(MATERIALS)))
            write_sound_clips(folder / split, per_material, groups=groups, first_group=first, seed=seed)
        return str(folder / "train" / "clips.csv"), str(folder / "val" / "clips.csv")

    def describe(self, metrics: dict[str, float]) -> str:
        return (
            f"val loss {metrics.get('val_loss', float('nan')):.4f} (mean sound "
            f"{metrics.get('val_mean_sound_loss', float('nan')):.4f}), onset accuracy "
            f"{metrics.get('val_onset_accuracy', float('nan')):.3f}"
        )


def start_at_mean(model: Any, mean: np.ndarray, steps: int) -> None:
    """The regression starts from the mean sound (its last layer's bias), not from silence at log 0."""
    import numpy as np
    import torch

    last = model.head.mlp[-1]
    with torch.no_grad():
        last.bias.copy_(torch.from_numpy(np.tile(mean, steps)))  # (M,) -> (steps * M,), step-major
        last.weight.mul_(0.1)


def input_metadata(cfg: ExperimentConfig) -> dict[str, Any]:
    from seqvision.data.clips import CLIP_NORMALISATION

    return {
        "frames": cfg.data.clip.frames,
        "sampling": "every frame, from the start",
        "height": cfg.model.height,
        "width": cfg.model.height,
        "channels": cfg.model.in_channels,
        "normalisation": CLIP_NORMALISATION,
    }


def write_bank(path: Path, clips: list[SoundClip]) -> None:
    """The training sounds kept for retrieval: padded features and waveforms + lengths, sources in the metadata."""
    import json

    import torch
    from safetensors.torch import save

    from seqvision.io import atomic_write_bytes

    def padded(arrays: list[np.ndarray]) -> torch.Tensor:
        out = torch.zeros(len(arrays), max(len(a) for a in arrays), *arrays[0].shape[1:])
        for i, a in enumerate(arrays):
            out[i, : len(a)] = torch.from_numpy(a)
        return out

    tensors = {
        "features": padded([c.features for c in clips]),  # (N, T_max * steps, M)
        "feature_lengths": torch.tensor([len(c.features) for c in clips]),
        "waves": padded([c.wave for c in clips]),  # (N, samples_max)
        "wave_lengths": torch.tensor([len(c.wave) for c in clips]),
    }
    sources = json.dumps([str(c.sample.path) for c in clips], ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, save(tensors, metadata={"sources": sources}))
