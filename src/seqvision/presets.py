"""Named presets: thin keyword-only builders of a :class:`ModelConfig`."""

from __future__ import annotations

from seqvision.config import EncoderConfig, HeadConfig, ModelConfig, SequenceConfig
from seqvision.registry import PRESETS

DEFAULT_PRESET = "crnn-small"


def get_preset(name: str) -> ModelConfig:
    return PRESETS.get(name)()


@PRESETS.register("crnn-small")
def crnn_small(*, sequence: str = "lstm", height: int = 48) -> ModelConfig:
    """Default: CPU-sized VGG CNN at 48 px -> 2-layer BiLSTM(192) -> CTC.

    >>> crnn_small(sequence="gru").sequence.name
    'gru'
    """
    return ModelConfig(
        preset="crnn-small",
        height=height,
        encoder=EncoderConfig("small"),
        sequence=SequenceConfig(sequence, hidden=192, layers=2),
        head=HeadConfig("ctc"),
    )


@PRESETS.register("crnn-vgg")
def crnn_vgg(*, sequence: str = "lstm", height: int = 32) -> ModelConfig:
    """The CRNN paper (Shi et al. 2015): VGG CNN at 32 px -> 2-layer BiLSTM(256) -> CTC.

    >>> crnn_vgg().encoder.name
    'vgg'
    """
    return ModelConfig(
        preset="crnn-vgg",
        height=height,
        encoder=EncoderConfig("vgg", dropout=0.0),
        sequence=SequenceConfig(sequence, hidden=256, layers=2, dropout=0.0),
        head=HeadConfig("ctc"),
    )


@PRESETS.register("crnn-res")
def crnn_res(*, sequence: str = "lstm", height: int = 48) -> ModelConfig:
    """Small residual CNN at 48 px -> 2-layer BiLSTM(192) -> CTC.

    >>> crnn_res().encoder.name
    'resnet'
    """
    return ModelConfig(
        preset="crnn-res",
        height=height,
        encoder=EncoderConfig("resnet"),
        sequence=SequenceConfig(sequence, hidden=192, layers=2),
        head=HeadConfig("ctc"),
    )


@PRESETS.register("crnn-mobile")
def crnn_mobile(*, sequence: str = "lstm", height: int = 48) -> ModelConfig:
    """Depthwise-separable CNN at 48 px -> 2-layer BiLSTM(128) -> CTC: the fastest.

    >>> crnn_mobile().sequence.hidden
    128
    """
    return ModelConfig(
        preset="crnn-mobile",
        height=height,
        encoder=EncoderConfig("mobile"),
        sequence=SequenceConfig(sequence, hidden=128, layers=2),
        head=HeadConfig("ctc"),
    )
