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


@PRESETS.register("crnn-laia")
def crnn_laia(*, sequence: str = "lstm", height: int = 64) -> ModelConfig:
    """PyLaia's CRNN as a reference for handwriting: conv 16-32-48-64-80 -> 5-layer BiLSTM(256), dropout 0.5 -> CTC.

    8.4 % CER on IAM in its paper (at 128 px). Here 8.3 M parameters and 1.2 GFLOPs per 64x475 line
    (crnn-small: 2.2 M, 1.05 GFLOPs at 48 px).

    >>> crnn_laia().sequence.layers
    5
    """
    return ModelConfig(
        preset="crnn-laia",
        height=height,
        encoder=EncoderConfig("laia", dropout=0.2),
        sequence=SequenceConfig(sequence, hidden=256, layers=5, dropout=0.5),
        head=HeadConfig("ctc"),
    )


@PRESETS.register("seg-small")
def seg_small(*, sequence: str = "lstm", height: int = 768) -> ModelConfig:
    """Page segmenter: U-Net 16-32-64-128 (1/2 to 1/16) with a row BiLSTM at 1/16 -> baseline and line maps at 1/2.

    >>> seg_small(sequence="none").input
    'page'
    """
    return ModelConfig(
        preset="seg-small",
        input="page",
        height=height,
        encoder=EncoderConfig("unet", dropout=0.1),
        sequence=SequenceConfig(sequence, hidden=128, layers=1),
        head=HeadConfig("maps"),
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


@PRESETS.register("lrcn-small")
def lrcn_small(*, sequence: str = "lstm", size: int = 48) -> ModelConfig:
    """Video (LRCN, Donahue et al. 2015): small VGG per RGB frame -> LSTM(128) over frames -> classify.

    >>> lrcn_small(sequence="transformer").input
    'clip'
    """
    return ModelConfig(
        preset="lrcn-small",
        input="clip",
        height=size,
        in_channels=3,
        encoder=EncoderConfig("small", channels=[16, 32, 48, 64], dropout=0.1),
        sequence=SequenceConfig(sequence, hidden=128, layers=1, bidirectional=False, dropout=0.1, heads=4),
        head=HeadConfig("classify", pooling="mean"),
    )


@PRESETS.register("vis-small")
def vis_small(*, sequence: str = "lstm", size: int = 32) -> ModelConfig:
    """Sounds for silent video (Owens et al. 2016): small VGG per RGB frame -> LSTM(128) -> sound features per frame.

    >>> vis_small(sequence="none").head.name
    'regress'
    """
    return ModelConfig(
        preset="vis-small",
        input="clip",
        height=size,
        in_channels=3,
        encoder=EncoderConfig("small", channels=[16, 32, 48, 64], dropout=0.0),
        sequence=SequenceConfig(sequence, hidden=128, layers=1, bidirectional=False, dropout=0.0, heads=4),
        head=HeadConfig("regress", hidden=128, dropout=0.0),
    )


@PRESETS.register("sat-small")
def sat_small(*, sequence: str = "none", size: int = 96, grid: int = 6) -> ModelConfig:
    """Captioning (Show, Attend and Tell, Xu et al. 2015): small VGG on 96 px RGB -> 6x6 cells -> attention LSTM.

    >>> sat_small().head.name
    'attention'
    """
    return ModelConfig(
        preset="sat-small",
        input="image",
        height=size,
        in_channels=3,
        encoder=EncoderConfig("small", channels=[16, 32, 64, 96], dropout=0.1, grid=grid),
        sequence=SequenceConfig(sequence, hidden=192, layers=1, bidirectional=True, dropout=0.1),
        head=HeadConfig("attention", hidden=256, embedding=128, attention=128, dropout=0.3),
    )


@PRESETS.register("digits-small")
def digits_small(*, sequence: str = "lstm", height: int = 32) -> ModelConfig:
    """Image classification (MNIST): small VGG CNN at 32 px -> 2-layer BiLSTM(128) over columns -> classify.

    >>> digits_small(sequence="none").head.name
    'classify'
    """
    return ModelConfig(
        preset="digits-small",
        height=height,
        encoder=EncoderConfig("small"),
        sequence=SequenceConfig(sequence, hidden=128, layers=2),
        head=HeadConfig("classify", pooling="mean"),
    )


@PRESETS.register("convlstm-small")
def convlstm_small(*, size: int = 64, patch: int = 4, hidden: int = 48) -> ModelConfig:
    """Forecasting (Shi et al. 2015): 4x4 space-to-depth -> 2-layer ConvLSTM encoder-forecaster (3x3 gates) -> frames.

    >>> convlstm_small().sequence.name
    'convlstm'
    """
    return ModelConfig(
        preset="convlstm-small",
        input="frames",
        height=size,
        in_channels=1,
        encoder=EncoderConfig("patch", dropout=0.0, patch=patch),
        sequence=SequenceConfig(
            "convlstm", hidden=hidden, layers=2, bidirectional=False, dropout=0.0, spatial_kernel=3
        ),
        head=HeadConfig("frames"),
    )


@PRESETS.register("danq-small")
def danq_small(*, sequence: str = "lstm", filters: int = 128) -> ModelConfig:
    """DNA/RNA (DanQ, Quang & Xie 2016) for CPUs: 128 motifs x 19 -> pool 5 -> BiLSTM(64) -> dense 64 -> sigmoid.

    DanQ itself (1000 bp): 320 motifs x 26 -> pool 13 -> dropout 0.2 -> BiLSTM(320) -> dense 925.

    >>> danq_small(sequence="none").encoder.name
    'onehot-cnn1d'
    """
    return ModelConfig(
        preset="danq-small",
        input="sequence",
        height=1,
        in_channels=4,
        encoder=EncoderConfig("onehot-cnn1d", channels=[filters], dropout=0.2, kernel=19, pool=5),
        sequence=SequenceConfig(sequence, hidden=64, layers=1, bidirectional=True, dropout=0.5, heads=4),
        head=HeadConfig("sigmoid", pooling="max", hidden=64, dropout=0.5),
    )


@PRESETS.register("gait-small")
def gait_small(*, sequence: str = "gru", size: int = 32, dim: int = 64) -> ModelConfig:
    """Gait: small VGG per silhouette frame -> GRU(96) over frames -> mean pool -> 64-d unit embedding.

    ``sequence="none"`` averages the per-frame features: the GEI-like baseline, blind to rhythm.

    >>> gait_small(sequence="none").head.name
    'embed'
    """
    return ModelConfig(
        preset="gait-small",
        input="clip",
        height=size,
        in_channels=1,
        encoder=EncoderConfig("small", channels=[8, 16, 24, 32], dropout=0.0),
        sequence=SequenceConfig(sequence, hidden=96, layers=1, bidirectional=False, dropout=0.0, heads=4),
        head=HeadConfig("embed", pooling="mean", embedding=dim),
    )


@PRESETS.register("emotion-small")
def emotion_small(*, sequence: str = "lstm", size: int = 32) -> ModelConfig:
    """Emotion (EmotiW-style): small VGG per face frame -> LSTM(96) -> pooled; the voice's log-mel -> its own CNN
    (``data.emotion``) -> the same kind of sequence model; the two fused late.

    >>> emotion_small(sequence="gru").sequence.name
    'gru'
    """
    return ModelConfig(
        preset="emotion-small",
        input="clip",
        height=size,
        in_channels=3,
        encoder=EncoderConfig("small", channels=[16, 32, 48, 64], dropout=0.0),
        sequence=SequenceConfig(sequence, hidden=96, layers=1, bidirectional=False, dropout=0.0, heads=4),
        head=HeadConfig("classify", pooling="mean"),
    )
