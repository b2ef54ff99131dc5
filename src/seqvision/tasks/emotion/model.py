"""The two-stream emotion model: face frames and the voice, each encoder -> sequence model -> pooled, fused late.

- *video*: any registered encoder per frame (:class:`FrameEncoder`) -> a sequence model over frames;
- *audio*: the log-mel spectrogram as a one-channel image ``(B, 1, bands, T_a)``, read by any registered
  line encoder (a 2-D CNN whose width is time) -> a sequence model of the same kind;
- *fusion* (the head): ``late`` concatenates the two pooled sequences into one linear classifier;
  ``sum`` is the weighted-sum baseline of the streams' own log-probabilities (``video_weight``).

Each stream also keeps its own classifier, trained beside the fused one (``aux_weight``), so a two-stream
model can say what each stream alone would have answered. A one-stream model is that stream's classifier.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

import seqvision.nn.encoders
import seqvision.nn.sequence  # noqa: F401  (fill the registries)
from seqvision.config import EmotionConfig, EncoderConfig, ModelConfig
from seqvision.errors import ConfigError
from seqvision.nn.encoders.frames import FrameEncoder
from seqvision.nn.heads.classify import pool_steps
from seqvision.registry import ENCODERS, SEQUENCES

STREAMS = {"video": ("video",), "audio": ("audio",), "both": ("video", "audio")}
FUSIONS = ("late", "sum")


class EmotionModel(nn.Module):
    """``forward(clips (B, T, 3, S, S), lengths (B,), audio (B, T_a, bands), audio_lengths (B,))`` ->
    fused logits ``(B, K)`` and each stream's own logits ``(B, streams, K)``.

    A stream the model lacks ignores its inputs (they may be empty tensors).
    """

    def __init__(self, encoders: dict[str, nn.Module], sequences: dict[str, nn.Module], classes: int, cfg: Fusion):
        super().__init__()
        self.streams = tuple(s for s in ("video", "audio") if s in encoders)
        self.encoder = nn.ModuleDict(encoders)
        self.sequence = nn.ModuleDict(sequences)
        widths = {s: int(sequences[s].out_channels) for s in self.streams}  # type: ignore[arg-type]
        self.classify = nn.ModuleDict({s: nn.Linear(widths[s], classes) for s in self.streams})
        self.fusion, self.pooling, self.video_weight = cfg.fusion, cfg.pooling, cfg.video_weight
        self.late = nn.Linear(sum(widths.values()), classes) if cfg.fusion == "late" and len(self.streams) > 1 else None
        self.parts: dict[str, str] = {}

    def pooled(self, stream: str, x: Tensor, lengths: Tensor) -> Tensor:
        """One stream's input -> ``(B, C)``: encoder, sequence model, mean (max, last) over valid steps."""
        if stream == "audio":
            x = x.transpose(1, 2).unsqueeze(1)  # (B, T_a, M) -> (B, 1, M, T_a): time is the image's width
        feats, steps = self.encoder[stream](x, lengths)  # (B, T', C)
        return pool_steps(self.sequence[stream](feats, steps), steps, self.pooling)  # (B, T', C') -> (B, C')

    def forward(self, clips: Tensor, lengths: Tensor, audio: Tensor, audio_lengths: Tensor) -> tuple[Tensor, Tensor]:
        inputs = {"video": (clips, lengths), "audio": (audio, audio_lengths)}
        pooled = {s: self.pooled(s, *inputs[s]) for s in self.streams}
        own = torch.stack([self.classify[s](pooled[s]) for s in self.streams], 1)  # (B, streams, K)
        if len(self.streams) == 1:
            return own[:, 0], own
        if self.late is not None:
            return self.late(torch.cat([pooled[s] for s in self.streams], 1)), own  # (B, C_v + C_a) -> (B, K)
        w = self.video_weight
        log_p = own.log_softmax(-1)  # (B, 2, K): video first
        return w * log_p[:, 0] + (1 - w) * log_p[:, 1], own


@dataclass(frozen=True)
class Fusion:
    """How the streams meet: the ``data.emotion`` fusion and weight, the head's pooling."""

    fusion: str
    video_weight: float
    pooling: str


def audio_encoder_config(emotion: EmotionConfig) -> EncoderConfig:
    return EncoderConfig(emotion.audio_encoder, channels=list(emotion.audio_channels), dropout=0.0)


def check_emotion(emotion: EmotionConfig) -> None:
    """One clear line for a ``data.emotion`` setting no model can be built with."""
    if emotion.streams not in STREAMS:
        raise ConfigError(f"data.emotion.streams must be video, audio or both, not {emotion.streams!r}")
    if emotion.fusion not in FUSIONS:
        raise ConfigError(f"data.emotion.fusion must be late or sum, not {emotion.fusion!r}")
    if not 0.0 <= emotion.video_weight <= 1.0:
        raise ConfigError(f"data.emotion.video_weight must lie in [0, 1], not {emotion.video_weight}")
    if emotion.rate < 1000 or emotion.hop < 1 or emotion.n_fft < 16 or emotion.bands < 2:
        raise ConfigError("data.emotion: rate >= 1000, hop >= 1, n_fft >= 16 and bands >= 2 are needed")


def build_emotion_model(cfg: ModelConfig, emotion: EmotionConfig, classes: int) -> EmotionModel:
    """The model a clip config (video stream, sequence model, pooling) and ``data.emotion`` describe.

    >>> from seqvision.nn.presets import get_preset
    >>> build_emotion_model(get_preset("emotion-small"), EmotionConfig(streams="audio"), 4).streams
    ('audio',)
    """
    check_emotion(emotion)
    if cfg.input != "clip" or cfg.head.name != "classify":
        raise ConfigError(f"an emotion model needs a clip model with a classify head, not {cfg.preset!r}")
    encoders: dict[str, nn.Module] = {}
    sequences: dict[str, nn.Module] = {}
    try:
        for stream in STREAMS[emotion.streams]:
            if stream == "video":
                encoder: nn.Module = FrameEncoder(
                    ENCODERS.get(cfg.encoder.name)(cfg.encoder, cfg.height, 3), cfg.height
                )
            else:
                encoder = ENCODERS.get(emotion.audio_encoder)(audio_encoder_config(emotion), emotion.bands, 1)
            encoders[stream] = encoder
            sequences[stream] = SEQUENCES.get(cfg.sequence.name)(cfg.sequence, encoder.out_channels)  # type: ignore[arg-type]
        model = EmotionModel(
            encoders, sequences, classes, Fusion(emotion.fusion, emotion.video_weight, cfg.head.pooling)
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    model.parts = {"encoder": cfg.encoder.name, "audio": emotion.audio_encoder, "sequence": cfg.sequence.name}
    return model
