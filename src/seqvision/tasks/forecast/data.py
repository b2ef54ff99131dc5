"""Where forecasting data comes from: generated Moving MNIST, radar events, or user frame arrays.

``data.train`` (and ``data.val``, and ``seqvision eval``'s data) is one of

- ``moving-mnist:PATH`` with ``PATH`` an ``mnist.npz``: sequences generated from its digits
  (training: ``data.forecast.sequences`` from ``x_train``; validation: a tenth as many from held-out
  ``x_train`` digits; ``eval``: the fixed-seed test set from ``x_test``);
- radar ``.npz`` events (``pv`` + provider prefix, see :mod:`seqvision.tasks.forecast.radar`), files or
  folders, comma-separated; decoded to mm/h, ``log1p``-normalised, windows with rain only;
- ``.npy``/``.npz`` frame arrays ``(N, T, H, W)`` or ``(T, H, W)`` (:mod:`seqvision.tasks.forecast.arrays`).

Radar and arrays are split by event or sequence, never by frame: files named by ``data.val`` are
left out of the training folders, and without ``data.val`` whole sequences are held out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from seqvision.config import ExperimentConfig, ForecastConfig
from seqvision.errors import ConfigError, DataError
from seqvision.tasks.forecast.arrays import expand, read_frames
from seqvision.tasks.forecast.normalise import Normalisation
from seqvision.tasks.forecast.radar import is_radar_file, read_event
from seqvision.tasks.forecast.windows import FrameWindows, Source, find_windows

MNIST = "moving-mnist:"
RAIN_THRESHOLD = 1.0  # mm/h: CSI threshold and what counts as rain when choosing radar windows


@dataclass
class ForecastData:
    train: Dataset
    val: Dataset
    kind: str  # moving-mnist | radar | arrays
    normalisation: Normalisation
    threshold: float | None  # CSI threshold in data units (radar: 1 mm/h)
    interval_min: float | None  # minutes between frames, when known
    counts: dict[str, int]


def load(cfg: ExperimentConfig) -> ForecastData:
    """The training and validation sets ``cfg.data`` names, windows of ``cfg.model.height`` pixels."""
    fc, size = cfg.data.forecast, cfg.model.height
    if fc.frames_in < 1 or fc.frames_out < 1:
        raise ConfigError("data.forecast.frames_in and frames_out must be at least 1")
    if not cfg.data.train_path:
        raise DataError("no training data: pass --train moving-mnist:mnist.npz, radar .npz events or frame arrays")
    if cfg.data.train_path.startswith(MNIST):
        from seqvision.tasks.forecast.moving_mnist import SIZE, train_val

        if size != SIZE:
            raise ConfigError(f"Moving MNIST frames are {SIZE} px; set model.height={SIZE}")
        mnist_train, mnist_val = train_val(
            cfg.data.train_path[len(MNIST) :], fc.sequences, cfg.train.seed, fc.frames_in, fc.frames_out
        )
        norm = Normalisation("linear", units="intensity 0-1")
        counts = {"train_sequences": len(mnist_train), "val_sequences": len(mnist_val)}
        return ForecastData(mnist_train, mnist_val, "moving-mnist", norm, None, None, counts)
    val_paths = expand(cfg.data.val) if cfg.data.val else []
    held = {p.resolve() for p in val_paths}
    train_paths = [p for p in expand(cfg.data.train_path) if p.resolve() not in held]
    if not train_paths:
        raise DataError(f"{cfg.data.train_path}: no training files left once the validation files are taken out")
    radar = [is_radar_file(p) for p in train_paths + val_paths]
    if any(radar) and not all(radar):
        raise DataError("mix of radar events and plain frame arrays; train on one kind at a time")
    if all(radar):
        train_src, interval = radar_sources(train_paths, fc.downsample)
        if not val_paths:
            raise DataError("radar data is split by event: name the validation event(s) with --val")
        val_src, _ = radar_sources(val_paths, fc.downsample)
        norm = Normalisation("log1p", units="mm/h")
        for src in train_src + val_src:
            src.frames = norm.forward(src.frames)
        kind, threshold = "radar", RAIN_THRESHOLD
    else:
        train_src = array_sources(train_paths, fc.frames_in + fc.frames_out)
        val_src = array_sources(val_paths, fc.frames_in + fc.frames_out) if val_paths else []
        if not val_src:
            if len(train_src) < 2:
                raise DataError(
                    f"{cfg.data.train_path}: one sequence only; give --val (sequences are split whole, never by frame)"
                )
            n_val = max(1, round(len(train_src) * cfg.data.val_fraction))
            train_src, val_src = train_src[:-n_val], train_src[-n_val:]
        norm = fit_linear(train_src)
        for src in train_src + val_src:
            src.frames = norm.forward(src.frames).astype(np.float32)
        kind, threshold, interval = "arrays", None, None
    min_wet = fc.rain_fraction if kind == "radar" else 0.0
    train = windows(train_src, fc, size, min_wet=min_wet, what=cfg.data.train_path)
    val = windows(val_src, fc, size, min_wet=min_wet, what=cfg.data.val or "val")
    counts = {"train_windows": len(train), "val_windows": len(val), "train_sequences": len(train_src)}
    return ForecastData(train, val, kind, norm, threshold, interval, counts)


def eval_set(spec: str, meta: dict[str, Any], test_sequences: int = 1000) -> Dataset:
    """What ``seqvision eval`` scores a saved model on: the Moving MNIST test set, or windows of the given files."""
    inp = meta["input"]
    fc = ForecastConfig(**{k: inp[k] for k in ("frames_in", "frames_out", "stride", "rain_fraction", "downsample")})
    norm = Normalisation.from_dict(inp["normalisation"])
    if spec.startswith(MNIST):
        from seqvision.tasks.forecast.moving_mnist import test_set

        if inp.get("kind") != "moving-mnist":
            raise DataError(f"{spec}: this model was trained on {inp.get('kind')} data, not on Moving MNIST")
        return test_set(spec[len(MNIST) :], test_sequences, fc.frames_in, fc.frames_out)
    paths = expand(spec)
    if inp.get("kind") == "radar":
        if not all(is_radar_file(p) for p in paths):
            raise DataError(f"{spec}: a radar model evaluates on radar events (.npz with 'pv', provider prefix)")
        sources, interval = radar_sources(paths, fc.downsample)
        for src in sources:
            src.frames = norm.forward(src.frames)
        found = windows(sources, fc, inp["height"], min_wet=fc.rain_fraction, what=spec)
        found.interval_min = interval
        return found
    sources = array_sources(paths, fc.frames_in + fc.frames_out)
    for src in sources:
        src.frames = norm.forward(src.frames).astype(np.float32)
    return windows(sources, fc, inp["height"], min_wet=0.0, what=spec)


def radar_sources(paths: list[Path], downsample: int) -> tuple[list[Source], float]:
    sources, intervals = [], []
    for p in paths:
        event = read_event(p, downsample)
        sources.append(Source(event.name, event.rain, event.valid, event.rain >= RAIN_THRESHOLD))
        intervals.append(event.interval_min)
    return sources, float(np.median(intervals))


def array_sources(paths: list[Path], min_frames: int) -> list[Source]:
    sources = []
    for p in paths:
        array = read_frames(p, min_frames)
        sources += [Source(f"{p.stem}[{i}]", seq.astype(np.float32)) for i, seq in enumerate(array)]
    return sources


def fit_linear(sources: list[Source]) -> Normalisation:
    """Scale the training values to [0, 1]: their minimum and range (uint8-looking data: /255)."""
    lo = min(float(s.frames.min()) for s in sources)
    hi = max(float(s.frames.max()) for s in sources)
    if lo >= 0 and 1 < hi <= 255:
        lo, hi = 0.0, 255.0
    return Normalisation("linear", offset=lo, scale=(hi - lo) or 1.0, units="array values")


def windows(sources: list[Source], fc: ForecastConfig, size: int, min_wet: float, what: str) -> FrameWindows:
    small = [s.name for s in sources if min(s.frames.shape[1:]) < size]
    if small:
        raise DataError(f"{what}: frames of {small[0]} are smaller than the model's {size} px (model.height)")
    found = find_windows(sources, fc.frames_in, fc.frames_out, size, fc.stride, min_wet=min_wet)
    if not found:
        need = fc.frames_in + fc.frames_out
        raise DataError(f"{what}: no window of {need} frames x {size} px with enough valid data (and rain, for radar)")
    return FrameWindows(sources, found, fc.frames_in, fc.frames_out, size)
