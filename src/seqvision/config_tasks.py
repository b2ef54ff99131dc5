"""The tasks' own sections of the data config (``data.clip``, ``data.caption``, ``data.forecast``,
``data.segment``, ``data.gait``, ``data.sound``, ``data.emotion``), nested into :class:`seqvision.config.DataConfig`.

>>> SoundConfig().bands
32
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ClipConfig:
    frames: int = 16  # frames sampled per clip (at most, when fps is set)
    fps: float = 0.0  # 0: spread the frames uniformly over the clip; > 0: sample at this rate
    crop: float = 0.8  # training: a random temporal crop covering at least this fraction of the clip


@dataclass
class CaptionConfig:
    min_count: int = 3  # words seen fewer times in the training captions become <unk>
    max_words: int = 20  # training captions are cut to this many words; decoding stops after it
    attention_reg: float = 1.0  # doubly stochastic attention: weight of sum_cells (1 - sum_t alpha)^2
    sampling: float = 0.0  # scheduled sampling: chance of feeding the model's own word, reached at the end
    beam_width: int = 1  # decoding during validation (1: greedy)


@dataclass
class ForecastConfig:
    frames_in: int = 10  # past frames the model reads
    frames_out: int = 10  # future frames it predicts
    sequences: int = 10000  # moving-mnist:PATH: fresh training sequences per epoch (validation: a tenth as many)
    stride: int = 2  # radar and array files: frames between the starts of consecutive training windows
    rain_fraction: float = 0.05  # radar: keep windows whose last input frame has this fraction >= 1 mm/h
    downsample: int = 2  # radar: average each downsample x downsample block of pixels (1 km -> 2 km)


@dataclass
class SegmentConfig:
    crop: int = 384  # training windows of crop x crop input pixels
    crops: int = 8  # windows per page and epoch
    baseline_weight: float = 8.0  # BCE weight of baseline pixels (a thin band: ~1 % of a page)


@dataclass
class GaitConfig:
    loss: str = "triplet"  # triplet (batch-hard) | arcface (a cosine classifier over the training subjects)
    margin: float = 0.0  # triplet: distance margin; 0: the soft margin log(1 + exp(d+ - d-))
    arc_margin: float = 0.3  # arcface: the additive angle margin (radians) ...
    scale: float = 16.0  # ... and the logit scale
    subjects: int = 8  # training batches hold this many subjects ...
    per_subject: int = 4  # ... with this many clips each (P x K sampling, for batch-hard mining)
    gallery: list[str] = field(default_factory=list)  # sequence names in the gallery (e.g. nm-01); []: first half


@dataclass
class SoundConfig:
    rate: int = 16000  # audio is resampled to this many samples per second
    bands: int = 32  # mel bands of the sound features
    steps: int = 4  # sound feature frames per video frame
    n_fft: int = 512  # STFT window in samples (Hann)
    loss: str = "l1"  # l1 | l2, on log-mel features
    bank: int = 256  # training clips kept for waveform retrieval (nearest training sound)


@dataclass
class EmotionConfig:
    streams: str = "both"  # video | audio | both: which streams the model has (one command trains each)
    fusion: str = "late"  # late: pooled stream features -> one classifier | sum: weighted sum of stream log-probs
    video_weight: float = 0.5  # fusion=sum: weight of the video stream's log-probabilities (audio: 1 - it)
    aux_weight: float = 0.5  # both streams: weight of each stream's own cross-entropy beside the fused one
    rate: int = 16000  # audio is resampled to this many samples per second
    bands: int = 32  # mel bands: the height of the audio "image"
    n_fft: int = 512  # STFT window in samples (Hann)
    hop: int = 160  # samples between log-mel frames (10 ms at 16 kHz)
    audio_encoder: str = "small"  # any registered line encoder reads the log-mel spectrogram (bands x frames)
    audio_channels: list[int] = field(default_factory=lambda: [16, 32, 48, 64])
