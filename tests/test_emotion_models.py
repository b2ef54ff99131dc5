"""Emotion-model contracts, parametrized over the sequence registry and the stream settings: shapes, padding
never read, every parameter learns, ONNX parity, and a tiny real training run on generated clips with sound
(encoded video + AAC) that must reduce the loss."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fitting import fit_quietly
from seqvision.config import EmotionConfig, ExperimentConfig, ModelConfig, apply_overrides
from seqvision.errors import ConfigError
from seqvision.nn.presets import emotion_small, get_preset
from seqvision.registry import SEQUENCES
from seqvision.tasks.emotion.model import build_emotion_model
from seqvision.tasks.emotion.module import emotion_loss
from seqvision.tasks.emotion.task import Emotion

SIZE, BANDS, K = 16, 16, 4


def small(sequence: str) -> ModelConfig:
    cfg = emotion_small(sequence=sequence, size=SIZE)
    cfg.encoder.channels, cfg.sequence.hidden, cfg.sequence.heads = [4, 8, 8, 8], 16, 2
    return cfg


def emotion(streams: str, fusion: str = "late") -> EmotionConfig:
    return EmotionConfig(streams=streams, fusion=fusion, bands=BANDS, audio_channels=[4, 8, 8, 8])


def batch(frames: list[int]) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(0)
    clips = torch.rand(len(frames), max(frames), 3, SIZE, SIZE, generator=gen)
    audio = torch.rand(len(frames), 12 * max(frames), BANDS, generator=gen)
    lengths = torch.tensor(frames)
    for i, n in enumerate(frames):
        clips[i, n:], audio[i, 12 * n :] = 0, 0
    return clips, lengths, audio, 12 * lengths


@pytest.mark.parametrize("sequence", SEQUENCES.names())
@pytest.mark.parametrize(
    ("streams", "fusion"), [("both", "late"), ("both", "sum"), ("video", "late"), ("audio", "late")]
)
def test_shapes_padding_and_gradients(sequence: str, streams: str, fusion: str) -> None:
    torch.manual_seed(0)
    model = build_emotion_model(small(sequence), emotion(streams, fusion), K)
    inputs = batch([6, 3, 5])
    fused, own = model.train()(*inputs)
    assert fused.shape == (3, K) and own.shape == (3, 2 if streams == "both" else 1, K)
    assert torch.isfinite(fused).all()
    emotion_loss(fused, own, torch.tensor([0, 1, 3]), 0.5, fusion).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing
    model.eval()
    with torch.no_grad():  # padding (frames and audio frames) is never read
        fused, _ = model(*inputs)
        for i, n in enumerate(inputs[1].tolist()):
            alone, _ = model(
                inputs[0][i : i + 1, :n], inputs[1][i : i + 1], inputs[2][i : i + 1, : 12 * n], inputs[3][i : i + 1]
            )
            torch.testing.assert_close(fused[i], alone[0], atol=1e-4, rtol=1e-4)


def test_weighted_sum_is_the_weighted_streams() -> None:
    model = build_emotion_model(
        small("gru"), EmotionConfig(streams="both", fusion="sum", video_weight=0.7, bands=BANDS), K
    )
    with torch.no_grad():
        fused, own = model.eval()(*batch([4, 4]))
    torch.testing.assert_close(fused, 0.7 * own[:, 0].log_softmax(-1) + 0.3 * own[:, 1].log_softmax(-1))


@pytest.mark.parametrize(
    "bad", ["data.emotion.streams=face", "data.emotion.fusion=early", "data.emotion.video_weight=2"]
)
def test_bad_settings_are_one_line(bad: str, tmp_path: Path) -> None:
    cfg = ExperimentConfig(task="emotion", model=get_preset("emotion-small"))
    apply_overrides(cfg, [bad])
    with pytest.raises(ConfigError, match=bad.split("=")[0]):
        Emotion().prepare(cfg, tmp_path, resume=False, log=None)


def test_task_refuses_a_line_model(tmp_path: Path) -> None:
    cfg = ExperimentConfig(task="emotion", model=get_preset("crnn-small"))
    with pytest.raises(ConfigError, match="needs a clip model"):
        Emotion().prepare(cfg, tmp_path, resume=False, log=None)


@pytest.mark.parametrize("streams", ["both", "video", "audio"])
def test_onnx_parity(streams: str) -> None:
    pytest.importorskip("onnxruntime")
    from seqvision.tasks.emotion.export import emotion_to_onnx, parity

    model = build_emotion_model(small("lstm"), emotion(streams), K).eval()
    meta = {"input": {"height": SIZE, "audio": {"bands": BANDS}}}
    data = emotion_to_onnx(model, meta)
    assert parity(model, meta, data) < 1e-3
    assert not model.training  # the export leaves the model as it found it


def test_tiny_training_run_reduces_the_loss(tmp_path: Path) -> None:
    pytest.importorskip("av")
    from seqvision.tasks.emotion.synth import write_emotion_clips

    write_emotion_clips(tmp_path / "clips", 4, actors=2, frames=6, size=SIZE, fps=6.0)
    cfg = ExperimentConfig(task="emotion", model=small("gru"))
    apply_overrides(cfg, [f"data.train={tmp_path / 'clips'}", "data.batch_size=8", "data.num_workers=0"])
    apply_overrides(cfg, ["data.clip.frames=6", f"data.emotion.bands={BANDS}", "data.emotion.audio_channels=[4,8,8,8]"])
    apply_overrides(cfg, ["train.lr=0.005", "train.epochs=40", "data.val_fraction=0.5", "data.emotion.fusion=sum"])
    torch.manual_seed(0)
    prepared = Emotion().prepare(cfg, tmp_path / "run", resume=False, log=None)
    batches = list(prepared.train)

    def mean_loss() -> float:
        prepared.module.train()  # batch statistics: 24 steps leave BatchNorm's running ones far behind
        with torch.no_grad():
            return sum(float(prepared.module.loss(b)[0]) for b in batches) / len(batches)

    before = mean_loss()
    fit_quietly(prepared.module, prepared.train, epochs=40)
    after = mean_loss()
    assert after < 0.7 * before, (before, after)
