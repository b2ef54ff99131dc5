"""Typed experiment configuration: one dataclass per component, YAML files and dotted overrides.

>>> cfg = ExperimentConfig()
>>> apply_overrides(cfg, ["model.sequence.name=gru", "train.lr=3e-4"])
>>> cfg.model.sequence.name, cfg.train.lr
('gru', 0.0003)

The tasks' own sections of ``data`` (``data.clip``, ``data.sound``, ...) live in :mod:`seqvision.config_tasks`
and are importable from here too.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from seqvision.config_tasks import (
    CaptionConfig,
    ClipConfig,
    EmotionConfig,
    ForecastConfig,
    GaitConfig,
    SegmentConfig,
    SoundConfig,
)
from seqvision.errors import ConfigError

T = TypeVar("T")


@dataclass
class EncoderConfig:
    name: str = "small"
    channels: list[int] = field(default_factory=list)  # empty: the encoder's own default widths
    dropout: float = 0.1
    grid: int = 8  # image input (captioning): the feature map is pooled to a grid x grid map of cells
    patch: int = 4  # frames input (forecasting): each patch x patch block of pixels becomes one cell's channels
    kernel: int = 26  # onehot-cnn1d: motif (filter) width in bases
    pool: int = 13  # onehot-cnn1d: max-pool size, the time stride


@dataclass
class SequenceConfig:
    name: str = "lstm"
    hidden: int = 192
    layers: int = 2
    bidirectional: bool = True
    dropout: float = 0.25
    kernel_size: int = 3  # tcn
    causal: bool = False  # tcn
    heads: int = 4  # transformer
    spatial_kernel: int = 5  # convlstm: gate convolution kernel (Shi et al. 2015 use 5x5 in the forecaster)


@dataclass
class HeadConfig:
    name: str = "ctc"
    pooling: str = "mean"  # classify: mean | max | last
    hidden: int = 256  # attention: LSTM decoder width
    embedding: int = 128  # attention: word embedding width; embed: the embedding's dimensions
    attention: int = 128  # attention: width of the additive attention layer
    dropout: float = 0.3  # attention: before the word classifier


@dataclass
class ModelConfig:
    preset: str = "crnn-small"
    input: str = "line"  # line: (B, C, H, W) images | clip: (B, T, C, H, W) frames | image: square photos -> grid
    # | frames: (B, T, C, H, W) past frames -> future frames (forecasting)
    # | sequence: one-hot DNA/RNA as (B, 4, 1, L) | page: (B, 1, H, W) whole pages -> line maps (segmentation)
    height: int = 48  # line height, the side of a square clip frame or (captioning) image, or a page's height
    in_channels: int = 1
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    sequence: SequenceConfig = field(default_factory=SequenceConfig)
    head: HeadConfig = field(default_factory=HeadConfig)


@dataclass
class DataConfig:
    # one input, or (line-format data) a list of them, each "PATH" or "PATH*N": N copies of its lines per
    # epoch, to weigh a small real set against a large synthetic one (README, "Mixing data sets")
    train: str | list[str] = ""
    val: str = ""
    val_fraction: float = 0.05  # held out of `train` when no `val` is given
    augment: bool = True
    warp: float = 0.0  # text lines: grid distortion of the augmentation, x line height (0.05 for handwriting)
    batch_size: int = 32
    num_workers: int = 1
    max_width: int = 2400  # wider lines (after height normalisation) are skipped with a warning
    labels: str = ""  # dna: a labels TSV (id<TAB>label(s)) for FASTA files whose headers carry none
    clip: ClipConfig = field(default_factory=ClipConfig)  # video task
    caption: CaptionConfig = field(default_factory=CaptionConfig)  # captioning task
    forecast: ForecastConfig = field(default_factory=ForecastConfig)  # forecast task
    segment: SegmentConfig = field(default_factory=SegmentConfig)  # segment task (pages)
    gait: GaitConfig = field(default_factory=GaitConfig)  # gait task (clip data from data.clip)
    sound: SoundConfig = field(default_factory=SoundConfig)  # sound task (sounds for silent video)
    emotion: EmotionConfig = field(default_factory=EmotionConfig)  # emotion task (frames and voice)

    @property
    def train_path(self) -> str:
        """``train`` as the one input the video, captioning, forecast and DNA tasks read; a list is refused."""
        if isinstance(self.train, list):
            if len(self.train) == 1:
                return self.train[0]
            raise ConfigError(
                "data.train: a list of inputs (with *N weights) is for line-format data (text lines, image classes); "
                "this task reads one --train input"
            )
        return self.train


@dataclass
class TrainConfig:
    epochs: int = 60
    max_minutes: float = 0.0  # 0: no time budget
    lr: float = 1.5e-3
    weight_decay: float = 1e-4
    grad_clip: float = 5.0
    patience: int = 12  # epochs without improvement of the task's validation metric before stopping
    seed: int = 0
    threads: int = 0  # 0: all cores
    accelerator: str = "cpu"  # cpu | gpu | auto (Lightning's choice)
    devices: int = 1  # processes per node (CPU) or GPUs per node; data.batch_size is split across all of them
    num_nodes: int = 1
    strategy: str = "auto"  # auto | ddp | ddp_spawn (Lightning's DDP: gloo on CPU, nccl on GPU)
    checkpoint_every: int = 0  # also write the resume checkpoint every N training steps (0: after each epoch only)
    val_every: int = 0  # validate every N training steps, not after each epoch (0: per epoch); patience counts these
    init: str = ""  # start from this saved or bundled model's weights (fine-tuning); "" trains from scratch
    alphabet: str = (
        "union"  # with init, text lines: union (base + new characters) | new (the data's) | keep (the base's)
    )
    init_partial: bool = False  # with init: copy the tensors whose name and shape match, the rest start fresh
    teacher: str = ""  # text lines: distil from this trained model's frame posteriors beside the CTC loss
    distill: float = 1.0  # with teacher: weight of the distillation loss (per character, as CTC's)
    distill_features: float = 0.0  # with teacher: weight of matching its encoder features (same shape needed)
    freeze_encoder_steps: int = 0  # keep the encoder (and its BatchNorm statistics) fixed for the first N steps
    freeze_sequence_steps: int = 0  # keep the sequence model and head fixed for the first N steps (a new encoder)
    precision: str = "32"  # 32 | bf16 (autocast; fast on CPUs with AVX-512 BF16 or AMX, and on GPUs)


@dataclass
class ExperimentConfig:
    task: str = "text_lines"  # text_lines | video | sound | gait | captioning | forecast | ... (seqvision.tasks)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def from_dict(cls: type[T], data: dict[str, Any], where: str = "") -> T:
    """Build a dataclass from nested dicts, rejecting unknown keys with a suggestion."""
    cfg = cls()
    update(cfg, data, where)
    return cfg


def update(cfg: Any, data: dict[str, Any], where: str = "") -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"config section {where or '<root>'!r} must be a mapping, got {type(data).__name__}")
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        hints = _hints(type(cfg))
        if key not in hints:
            raise ConfigError(_unknown_key(path, hints))
        current = getattr(cfg, key)
        if dataclasses.is_dataclass(current):
            update(current, value, path)
        else:
            setattr(cfg, key, _coerce(value, hints[key], path))


def apply_overrides(cfg: Any, overrides: list[str]) -> None:
    """Apply ``dotted.key=value`` strings; values are parsed as YAML scalars or lists."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not of the form key=value (e.g. model.sequence.name=gru)")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        nested: Any = value
        for part in reversed(key.strip().split(".")):
            nested = {part: nested}
        update(cfg, nested)


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror or exc})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file must hold a mapping at the top level")
    return data


def save_yaml(cfg: Any, path: str | Path) -> None:
    from seqvision.io import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(to_dict(cfg), sort_keys=False))


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _unknown_key(path: str, hints: dict[str, Any]) -> str:
    leaf = path.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(leaf, list(hints), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(hints)}"
    return f"unknown config key {path!r}{hint}"


def _coerce(value: Any, tp: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, path)
            except ConfigError:
                continue
        raise ConfigError(f"config key {path!r}: {value!r} is not a valid {tp}")
    if origin is list:
        (item_type,) = typing.get_args(tp)
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key {path!r}: expected a list, got {value!r}")
        return [_coerce(v, item_type, path) for v in value]
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"config key {path!r}: expected true or false, got {value!r}")
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):  # YAML 1.1 reads "3e-4" (no dot) as a string
        try:
            return float(value)
        except ValueError:
            pass
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp is str and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise ConfigError(f"config key {path!r}: expected {getattr(tp, '__name__', tp)}, got {value!r}")
