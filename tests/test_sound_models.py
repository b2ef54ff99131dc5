"""Sound-model contracts, parametrized over the sequence registry: every sequence model swaps into the sound
task (per-frame regression head); shapes, padding, gradients, ONNX parity, and a tiny real training run on
generated clips with sound that must reduce the L1 loss."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch

from fitting import fit_quietly
from seqvision.config import EncoderConfig, ExperimentConfig, HeadConfig, ModelConfig, SequenceConfig, apply_overrides
from seqvision.errors import ConfigError
from seqvision.nn.model import build_model
from seqvision.nn.presets import get_preset
from seqvision.registry import SEQUENCES
from seqvision.tasks.sound.module import SoundModule, feature_loss
from seqvision.tasks.sound.task import Sound

SIZE, STEPS, BANDS = 32, 2, 8
CAUSAL = ("lstm", "gru", "none")  # one direction in these configs: a frame's output never reads later frames


def sound_config(sequence: str) -> ModelConfig:
    return ModelConfig(
        preset="test",
        input="clip",
        height=SIZE,
        in_channels=3,
        encoder=EncoderConfig("small", channels=[8, 8, 12, 16], dropout=0.0),
        sequence=SequenceConfig(sequence, hidden=16, layers=1, bidirectional=False, dropout=0.0, heads=2),
        head=HeadConfig("regress", hidden=16, dropout=0.0),
    )


def padded_batch(lengths: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return torch.rand(len(lengths), max(lengths), 3, SIZE, SIZE, generator=gen), torch.tensor(lengths)


def test_preset_builds_a_per_frame_regressor() -> None:
    cfg = get_preset("vis-small")
    model = build_model(cfg, STEPS * BANDS).eval()
    with torch.no_grad():
        out, lengths = model(*padded_batch([5, 3]))
    assert out.shape == (2, 5, STEPS * BANDS) and lengths.tolist() == [5, 3]
    assert (out[1, 3:] == 0).all()  # padding frames give nothing


def test_task_refuses_a_classifier(tmp_path: Path) -> None:
    cfg = ExperimentConfig(task="sound", model=get_preset("lrcn-small"))
    with pytest.raises(ConfigError, match="regress head"):
        Sound().prepare(cfg, tmp_path, resume=False, log=None)


@pytest.mark.parametrize("sequence", SEQUENCES.names())
def test_shapes_padding_and_gradients(sequence: str) -> None:
    torch.manual_seed(0)
    model = build_model(sound_config(sequence), STEPS * BANDS)
    clips, lengths = padded_batch([6, 3, 5])
    out, _ = model.train()(clips, lengths)
    assert out.shape == (3, 6, STEPS * BANDS) and torch.isfinite(out).all()
    feature_loss(out, torch.randn_like(out), lengths, "l1").backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing
    model.eval()
    with torch.no_grad():
        out, _ = model(clips, lengths)
        for i, n in enumerate(lengths.tolist()):  # padding frames are never read
            alone, _ = model(clips[i : i + 1, :n], lengths[i : i + 1])
            torch.testing.assert_close(out[i, :n], alone[0], atol=1e-5, rtol=1e-4)
        if sequence in CAUSAL:  # and a causal model's frame k does not hear the future
            cut, _ = model(clips[:1, :3], torch.tensor([3]))
            torch.testing.assert_close(out[0, :3], cut[0], atol=1e-5, rtol=1e-4)


def test_feature_loss_ignores_padding() -> None:
    pred, target = torch.zeros(2, 4, 3), torch.ones(2, 4, 3)
    target[1, 2:] = 100.0  # beyond the second clip's length
    assert float(feature_loss(pred, target, torch.tensor([4, 2]), "l1")) == pytest.approx(1.0)
    assert float(feature_loss(2 * target, target, torch.tensor([4, 4]), "l2")) > 100


@pytest.mark.parametrize("sequence", SEQUENCES.names())
def test_onnx_export_parity(sequence: str) -> None:
    pytest.importorskip("onnxruntime")
    from seqvision.export.onnx import check_clip_parity, clip_to_onnx
    from seqvision.export.runtime import session

    torch.manual_seed(0)
    model = build_model(sound_config(sequence), STEPS * BANDS).eval()
    data = clip_to_onnx(model, output="features")  # checked inside on untraced lengths
    assert check_clip_parity(model, data, sequence) < 1e-4
    clips, lengths = padded_batch([11, 4])  # longer than traced: the time axis is dynamic
    got = session(data).run(None, {"clips": clips.numpy(), "lengths": lengths.numpy()})[0]
    assert got.shape == (2, 11, STEPS * BANDS)


def mean_loss(task: SoundModule, loader) -> float:
    task.eval()
    with torch.no_grad():
        losses = [float(task.loss(batch)) for batch in loader]
    return sum(losses) / len(losses)


@pytest.mark.parametrize("sequence", SEQUENCES.names())
def test_tiny_training_reduces_loss(sequence: str, sound_clips: Path, tmp_path: Path) -> None:
    """The real sound task on real files (x264 + PCM): the L1 loss on the training clips must drop from the
    mean sound it starts at."""
    torch.set_num_threads(1)
    L.seed_everything(0, verbose=False)
    cfg = ExperimentConfig(task="sound", model=sound_config(sequence))
    apply_overrides(cfg, [f"data.train={sound_clips / 'clips.csv'}", "data.val_fraction=0.5", "data.augment=false"])
    apply_overrides(cfg, ["data.batch_size=2", "data.num_workers=0", "train.lr=0.003", "train.epochs=30"])
    apply_overrides(cfg, [f"data.sound.steps={STEPS}", f"data.sound.bands={BANDS}", "data.clip.frames=12"])
    prepared = Sound().prepare(cfg, tmp_path, resume=False, log=None)
    assert prepared.counts == {"train_clips": 4, "val_clips": 4}  # one scene each side
    assert (tmp_path / "sound-bank.safetensors").is_file()
    task = prepared.module
    assert isinstance(task, SoundModule)
    initial = mean_loss(task, prepared.train)
    fit_quietly(task, prepared.train, cfg.train.epochs)
    final = mean_loss(task, prepared.train)
    assert final < 0.8 * initial, f"{sequence}: loss {initial:.3f} -> {final:.3f}"
