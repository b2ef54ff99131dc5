"""Clip-model contracts, parametrized over the sequence registry: every sequence model swaps into the
video task; shapes, padding invariance, gradients, ONNX parity, and a tiny real training run that
must reduce the loss."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn.functional as F

from fitting import fit_quietly
from seqvision.config import EncoderConfig, ExperimentConfig, HeadConfig, ModelConfig, SequenceConfig, apply_overrides
from seqvision.nn.encoders import encoders_for
from seqvision.nn.encoders.frames import FrameEncoder
from seqvision.nn.model import SeqModel, build_model
from seqvision.nn.presets import get_preset
from seqvision.registry import ENCODERS, PRESETS, SEQUENCES
from seqvision.tasks.video.module import VideoTask
from seqvision.tasks.video.task import Video

NUM_CLASSES = 5
SIZE = 32
SMALL_CHANNELS = {"small": [8, 8, 12, 16], "vgg": [8, 8, 12, 12, 16], "resnet": [8, 8, 12, 16]}
SMALL_CHANNELS["mobile"] = [8, 8, 12, 12, 16]
SMALL_CHANNELS["laia"] = [4, 8, 8, 12, 16]
# per-frame regression presets (sound: vis-small) have their own contracts in tests/test_sound_models.py
CLIP_PRESETS = [n for n in PRESETS if get_preset(n).input == "clip" and get_preset(n).head.name != "regress"]


def clip_config(sequence: str, encoder: str = "small", pooling: str = "mean") -> ModelConfig:
    return ModelConfig(
        preset="test",
        input="clip",
        height=SIZE,
        in_channels=3,
        encoder=EncoderConfig(encoder, channels=SMALL_CHANNELS[encoder], dropout=0.1),
        sequence=SequenceConfig(sequence, hidden=16, layers=2, dropout=0.1, heads=2),
        head=HeadConfig("classify", pooling),
    )


def padded_batch(lengths: list[int], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Clips of ``lengths`` frames padded to the longest, with noise (not zeros) in the padding."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(len(lengths), max(lengths), 3, SIZE, SIZE, generator=gen), torch.tensor(lengths)


def test_every_component_is_covered() -> None:
    # every image encoder; the one-hot sequence encoders refuse clips (tests/test_dna.py checks that)
    assert CLIP_PRESETS and set(SMALL_CHANNELS) == set(encoders_for("clip")) and ENCODERS.names()


@pytest.mark.parametrize("pooling", ["mean", "max", "last"])
@pytest.mark.parametrize("sequence", SEQUENCES.names())
def test_shapes_and_padding_invariance(sequence: str, pooling: str) -> None:
    """A padded clip gives the same logits as the clip alone: padding frames are never read."""
    torch.manual_seed(0)
    model = build_model(clip_config(sequence, pooling=pooling), NUM_CLASSES).eval()
    assert isinstance(model.encoder, FrameEncoder) and model.encoder.time_stride == 1
    clips, lengths = padded_batch([7, 3, 5])
    with torch.no_grad():
        logits, out_lengths = model(clips, lengths)
        assert logits.shape == (3, NUM_CLASSES) and torch.isfinite(logits).all()
        assert out_lengths.tolist() == [7, 3, 5]
        for i, n in enumerate(lengths.tolist()):
            alone, _ = model(clips[i : i + 1, :n], lengths[i : i + 1])
            torch.testing.assert_close(logits[i], alone[0], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("encoder", encoders_for("clip"))
def test_every_encoder_runs_per_frame(encoder: str) -> None:
    model = build_model(clip_config("gru", encoder), NUM_CLASSES).eval()
    with torch.no_grad():
        logits, _ = model(*padded_batch([4, 2]))
    assert logits.shape == (2, NUM_CLASSES) and torch.isfinite(logits).all()


@pytest.mark.parametrize("sequence", SEQUENCES.names())
def test_every_parameter_gets_a_gradient(sequence: str) -> None:
    torch.manual_seed(0)
    model = build_model(clip_config(sequence), NUM_CLASSES).train()
    logits, _ = model(*padded_batch([6, 4, 5]))
    F.cross_entropy(logits, torch.tensor([0, 1, 2])).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing


@pytest.mark.parametrize("name", CLIP_PRESETS)
def test_clip_presets(name: str) -> None:
    model = build_model(get_preset(name), NUM_CLASSES).eval()
    size, channels = get_preset(name).height, get_preset(name).in_channels  # RGB frames, or silhouettes (gait)
    with torch.no_grad():
        logits, _ = model(torch.rand(2, 4, channels, size, size), torch.tensor([4, 3]))
    assert logits.shape == (2, NUM_CLASSES) and torch.isfinite(logits).all()


@pytest.mark.parametrize("sequence", SEQUENCES.names())
def test_onnx_export_parity(sequence: str) -> None:
    pytest.importorskip("onnxruntime")
    from seqvision.export.onnx import check_clip_parity, clip_to_onnx

    torch.manual_seed(0)
    model = build_model(clip_config(sequence), NUM_CLASSES).eval()
    data = clip_to_onnx(model)  # checked inside; checked again here on other clips
    assert check_clip_parity(model, data, sequence) < 1e-4


def mean_loss(task: VideoTask, loader) -> float:
    task.eval()
    with torch.no_grad():
        losses = [float(task.loss(batch)[0]) for batch in loader]
    return sum(losses) / len(losses)


@pytest.mark.parametrize("sequence", SEQUENCES.names())
def test_tiny_training_reduces_loss(sequence: str, tmp_path: Path) -> None:
    """The real video task on real clips (8 frames of 32x32, 6 for training): the loss must clearly drop.

    Classes separable by appearance too, so that ``none`` can learn them: this is about the training loop.
    PNG frame folders, not mp4: x264 output can differ by a few pixel values from run to run."""
    pytest.importorskip("av")
    from seqvision.tasks.video.synth import write_clips

    torch.set_num_threads(1)
    L.seed_everything(0, verbose=False)
    classes = ("move-right", "grow", "ring")
    write_clips(tmp_path / "clips", 4, frames=8, size=SIZE, groups=2, classes=classes, container="frames")
    cfg = ExperimentConfig(task="video", model=clip_config(sequence))
    apply_overrides(cfg, [f"data.train={tmp_path / 'clips'}", "data.clip.frames=8", "data.val_fraction=0.5"])
    apply_overrides(cfg, ["data.batch_size=2", "data.num_workers=0", "data.augment=false", "train.lr=0.005"])
    apply_overrides(cfg, ["train.epochs=15", "model.sequence.layers=1", "model.encoder.dropout=0", "train.seed=0"])
    prepared = Video().prepare(cfg, tmp_path, resume=False, log=None)
    assert prepared.counts == {"train_clips": 6, "val_clips": 6}  # one group each side
    task = prepared.module
    assert isinstance(task, VideoTask) and isinstance(prepared.model, SeqModel)
    initial = mean_loss(task, prepared.train)
    fit_quietly(task, prepared.train, cfg.train.epochs)
    final = mean_loss(task, prepared.train)
    assert torch.isfinite(torch.tensor([initial, final])).all()
    assert final < 0.7 * initial, f"{sequence}: loss {initial:.3f} -> {final:.3f}"
