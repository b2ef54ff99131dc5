"""A tiny real training run per sequence model: the CTC loss on the training lines must clearly go down."""

from __future__ import annotations

import csv
from pathlib import Path

import lightning as L
import pytest
import torch

import seqvision.nn.model  # noqa: F401  (fill the registries)
from conftest import HEIGHT, TINY
from fitting import fit_quietly
from seqvision.cli.main import main
from seqvision.config import ExperimentConfig, TrainConfig, apply_overrides
from seqvision.data.alphabet import Alphabet
from seqvision.data.loaders import make_loaders
from seqvision.data.readers import read_lines
from seqvision.errors import ConfigError
from seqvision.nn.model import build_model
from seqvision.nn.presets import get_preset
from seqvision.registry import SEQUENCES
from seqvision.tasks.lines.module import TextLineTask
from seqvision.training.run import validation_options

EPOCHS = 10


def mean_loss(task: TextLineTask, loader) -> float:
    """Mean CTC loss over a loader, in eval mode (no dropout), without gradients."""
    task.eval()
    with torch.no_grad():
        losses = [float(task.ctc_loss(batch)[0]) for batch in loader]
    return sum(losses) / len(losses)


@pytest.mark.parametrize("sequence", SEQUENCES.names())
def test_tiny_training_reduces_loss(sequence: str, lines_dir: Path) -> None:
    torch.set_num_threads(1)
    L.seed_everything(0, verbose=False)
    cfg = ExperimentConfig(model=get_preset("crnn-small"))
    overrides = [f"model.height={HEIGHT}", "model.encoder.channels=[8,16,16,16]", f"model.sequence.name={sequence}"]
    overrides += ["model.sequence.hidden=32", "model.sequence.layers=1", "model.sequence.heads=2"]
    overrides += ["data.batch_size=8", "data.num_workers=0", "data.augment=false", "train.lr=0.005"]
    apply_overrides(cfg, overrides)
    samples = read_lines(lines_dir / "labels.tsv").samples[:32]
    alphabet = Alphabet.from_texts(s.text for s in samples)
    model = build_model(cfg.model, len(alphabet))
    loaders = make_loaders(samples, samples[:8], alphabet, model, HEIGHT, cfg.data, seed=0, log=None)
    task = TextLineTask(model, alphabet, cfg.train, total_steps=EPOCHS * len(loaders.train))

    initial = mean_loss(task, loaders.train)
    fit_quietly(task, loaders.train, EPOCHS)
    final = mean_loss(task, loaders.train)

    assert torch.isfinite(torch.tensor([initial, final])).all()
    assert final < 0.7 * initial, f"{sequence}: loss {initial:.3f} -> {final:.3f}"


def test_val_every_validates_every_n_steps_across_epochs(lines_dir: Path, tmp_path: Path):
    out = tmp_path / "run"
    argv = ["train", "--train", str(lines_dir / "labels.tsv"), "--out", str(out), "--epochs", "2", *TINY]
    assert main([*argv, "--set=data.augment=false", "--set=data.batch_size=4", "--set=train.val_every=3"]) == 0
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    val_steps = [int(r["step"]) for r in rows if r.get("val_cer")]
    steps = max(int(r["step"]) for r in rows)
    assert val_steps and all((s + 1) % 3 == 0 or s % 3 == 0 for s in val_steps)
    assert len(val_steps) == steps // 3  # every third step, none at the epochs' ends in between
    with pytest.raises(ConfigError, match="val_every"):
        validation_options(TrainConfig(val_every=-1))
