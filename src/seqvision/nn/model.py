"""The one composition class: encoder -> sequence model -> head, built from a :class:`ModelConfig`."""

from __future__ import annotations

import torch
from torch import Tensor, nn

import seqvision.nn.encoders
import seqvision.nn.heads
import seqvision.nn.sequence  # noqa: F401  (fill the registries)
from seqvision.config import ModelConfig
from seqvision.errors import ConfigError
from seqvision.nn.encoders.base import Encoder
from seqvision.nn.encoders.frames import FrameEncoder
from seqvision.nn.encoders.grid import GridEncoder
from seqvision.nn.encoders.onehot import SEQUENCE_ENCODERS
from seqvision.nn.sequence.base import SequenceModel
from seqvision.registry import ENCODERS, HEADS, SEQUENCES


class SeqModel(nn.Module):
    """``(B, C, H, W)`` images + ``(B,)`` true widths -> (head output, ``(B,)`` output lengths).

    A pure module returning tensors, so it exports to ONNX as it is. For the CTC head the output
    is ``(B, T, K)`` log-probabilities with ``T = W // encoder.time_stride``. A clip model
    (``input: clip``) takes ``(B, T, C, H, W)`` frames + ``(B,)`` frame counts instead; its
    encoder is a :class:`FrameEncoder`, and the classify head gives ``(B, K)`` logits.
    """

    encoder: Encoder | FrameEncoder | GridEncoder
    sequence: SequenceModel

    def __init__(self, encoder: Encoder | FrameEncoder | GridEncoder, sequence: SequenceModel, head: nn.Module):
        super().__init__()
        self.encoder, self.sequence, self.head = encoder, sequence, head
        self.parts: dict[str, str] = {}  # registry names of the parts, for messages

    def forward(self, images: Tensor, widths: Tensor) -> tuple[Tensor, Tensor]:
        out, lengths, _ = self.forward_features(images, widths)
        return out, lengths

    def forward_features(self, images: Tensor, widths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """:meth:`forward`, and the encoder's ``(B, T, C)`` features on the way (for feature distillation)."""
        feats, lengths = self.encoder(images, widths)  # (B, T, C)
        return self.head(self.sequence(feats, lengths), lengths), lengths, feats


class CaptionModel(SeqModel):
    """Photos -> words (``input: image``): a :class:`GridEncoder`, a sequence model over the cells, an attention head.

    ``forward(images, words)`` is teacher forcing: ``(B, 3, S, S)`` + ``(B, L)`` input words ->
    ``(B, L, V)`` logits and ``(B, L, G*G)`` attention. :meth:`cells` gives what decoding attends to.
    """

    def cells(self, images: Tensor) -> Tensor:
        widths = torch.full_like(images[:, 0, 0, 0], images.shape[-1], dtype=torch.int64)  # (B,) no padding
        feats, lengths = self.encoder(images, widths)  # (B, G*G, C)
        return self.sequence(feats, lengths)  # (B, G*G, C')

    def forward(self, images: Tensor, words: Tensor, sampling: float = 0.0) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        return self.head(self.cells(images), words, sampling)


def build_model(cfg: ModelConfig, num_classes: int) -> SeqModel:
    """Instantiate the model a config describes.

    >>> from seqvision.nn.presets import get_preset
    >>> model = build_model(get_preset("crnn-small"), num_classes=80)
    >>> model.encoder.time_stride
    4
    """
    if cfg.input not in ("line", "clip", "image", "sequence"):
        raise ConfigError(f"model.input must be line, clip, image or sequence, not {cfg.input!r}")
    if cfg.encoder.name in SEQUENCE_ENCODERS and cfg.input != "sequence":
        raise ConfigError(
            f"encoder {cfg.encoder.name!r} reads one-hot sequences (model.input=sequence), not {cfg.input}"
        )
    if cfg.input == "sequence" and cfg.encoder.name in ENCODERS and cfg.encoder.name not in SEQUENCE_ENCODERS:
        choices = ", ".join(sorted(SEQUENCE_ENCODERS))
        raise ConfigError(f"model.input=sequence needs a sequence encoder ({choices}), not {cfg.encoder.name!r}")
    try:
        frame_or_line: Encoder = ENCODERS.get(cfg.encoder.name)(cfg.encoder, cfg.height, cfg.in_channels)
        encoder: Encoder | FrameEncoder | GridEncoder = frame_or_line
        if cfg.input == "clip":
            encoder = FrameEncoder(frame_or_line, cfg.height)
        elif cfg.input == "image":
            encoder = GridEncoder(frame_or_line, cfg.height, cfg.encoder.grid)
        sequence = SEQUENCES.get(cfg.sequence.name)(cfg.sequence, encoder.out_channels)
        head = HEADS.get(cfg.head.name)(cfg.head, sequence.out_channels, num_classes)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if (cfg.head.name == "attention") != (cfg.input == "image"):
        raise ConfigError("the attention head needs image input (model.input=image) and image input needs it")
    model = (CaptionModel if cfg.input == "image" else SeqModel)(encoder, sequence, head)
    model.parts = {"encoder": cfg.encoder.name, "sequence": cfg.sequence.name, "head": cfg.head.name}
    return model
