"""The suites of ``seqvision compare``: a data set (real, or generated from real data), a task and a model.

Each suite fixes the encoder and head; the study swaps only the sequence model. Built-in data
comes from a path (``--data``, default under ``../shared/data``) and is written once into
``OUT/data/``; ``--train``/``--val`` run a suite on any line-format data set instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqvision.compare.clip_suites import gait_walkers, sound_clips
from seqvision.compare.suite_data import SYNTHETIC, DataRequest, done, mark_done, split_folders
from seqvision.errors import ConfigError
from seqvision.io import atomic_write_text

SHARED_DATA = Path("../shared/data")


@dataclass(frozen=True)
class Suite:
    name: str
    about: str
    task: str  # see seqvision.tasks
    preset: str  # the encoder and head every cell shares
    metric: str  # the validation metric reported, of the model the task's own monitor kept
    label: str  # its name in tables
    mode: str  # "max" or "min": which way is better
    default_source: str
    default_samples: tuple[int, int]  # train, val; 0: all
    build: Callable[[DataRequest], tuple[str, str]]  # -> (train, val) paths in line format
    overrides: tuple[str, ...] = ()  # config keys every cell of the suite shares, e.g. the line height


def _mnist_digits(request: DataRequest) -> tuple[str, str]:
    from seqvision.tasks.image_classes.synth_digits import load_mnist, write_digits

    train, val = request.folder / "train", request.folder / "val"
    if not done(request):
        x, y = _shuffled(*load_mnist(request.source, "train"))
        n_train, n_val = _counts(request, len(x))
        write_digits(x[:n_train], y[:n_train], train)
        write_digits(x[-n_val:], y[-n_val:], val)  # held-out digits of x_train; x_test stays untouched
        mark_done(request)
    return str(train / "labels.tsv"), str(val / "labels.tsv")


def _mnist_strings(request: DataRequest) -> tuple[str, str]:
    from seqvision.tasks.image_classes.synth_digits import load_mnist, write_digit_strings

    train, val = request.folder / "train", request.folder / "val"
    if not done(request):
        x, y = _shuffled(*load_mnist(request.source, "train"))
        cut = len(x) * 5 // 6  # strings of val are made of digits no training string contains
        n_train, n_val = request.train_samples or 20000, request.val_samples or 1000
        write_digit_strings(x[:cut], y[:cut], train, n_train, seed=1)
        write_digit_strings(x[cut:], y[cut:], val, n_val, seed=2)
        mark_done(request)
    return str(train / "labels.tsv"), str(val / "labels.tsv")


def _lines(request: DataRequest) -> tuple[str, str]:
    """A folder with ``train/`` and ``val/`` line sets (hooker's layout); ``--train-samples`` keeps the first N."""
    from seqvision.data.readers import read_lines

    source = split_folders(request.source, "line data sets")
    paths = []
    for split, limit in (("train", request.train_samples), ("val", request.val_samples)):
        if not limit:
            paths.append(str(source / split))
            continue
        samples = read_lines(source / split).samples[:limit]
        tsv = request.folder / f"{split}.tsv"
        request.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(tsv, "".join(f"{s.image.resolve()}\t{s.text}\n" for s in samples))
        paths.append(str(tsv))
    return paths[0], paths[1]


def _video_clips(request: DataRequest) -> tuple[str, str]:
    """Synthetic clips of the video task (``synth-video``), or a folder with ``train/`` and ``val/`` clip sets.

    Generated training and validation clips come from different scenes and seeds; the sample counts
    are totals, spread evenly over the 8 classes (6 told apart only by the order of frames, 2 by appearance).
    """
    from seqvision.tasks.video.synth import CLASSES, write_clips

    if request.source != SYNTHETIC:
        source = split_folders(request.source, "clip sets")
        return str(source / "train"), str(source / "val")
    # (clips, scenes, first scene, seed): validation scenes are new ones, drawn with another seed
    sets = {"train": (request.train_samples, 8, 1, 0), "val": (request.val_samples, 4, 9, 1)}
    if not done(request):
        for split, (clips, scenes, first, seed) in sets.items():
            per_class = max(1, -(-clips // len(CLASSES)))
            write_clips(
                request.folder / split, per_class, frames=16, size=32, groups=scenes, first_group=first, seed=seed
            )
        mark_done(request)
    return str(request.folder / "train" / "clips.csv"), str(request.folder / "val" / "clips.csv")


def _emotion_clips(request: DataRequest) -> tuple[str, str]:
    """Synthetic emotion clips (the task writes them: ``synth-emotion``), or a folder with ``train/`` and ``val/``."""
    from seqvision.tasks.base import get_task

    if request.source != SYNTHETIC:
        source = split_folders(request.source, "clip sets")
        return str(source / "train"), str(source / "val")
    paths = str(request.folder / "train" / "clips.csv"), str(request.folder / "val" / "clips.csv")
    if not done(request):
        paths = get_task("emotion").write_compare_data(request.folder, request.train_samples, request.val_samples)
        mark_done(request)
    return paths


def _shuffled(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A fixed random order: a file may be sorted by class (the shared mnist.npz is)."""
    order = np.random.default_rng(0).permutation(len(x))
    return x[order], y[order]


def _counts(request: DataRequest, available: int) -> tuple[int, int]:
    n_val = min(request.val_samples or 1000, available // 2)
    return min(request.train_samples or available - n_val, available - n_val), n_val


SUITES: dict[str, Suite] = {
    s.name: s
    for s in [
        Suite(
            "mnist",
            "single MNIST digits, the digit's rows as the sequence; accuracy",
            "image_classes",
            "digits-small",
            "val_acc",
            "accuracy",
            "max",
            str(SHARED_DATA / "mnist.npz"),
            (10000, 2000),
            _mnist_digits,
            ("model.height=32",),
        ),
        Suite(
            "mnist-seq",
            "strings of 1-10 real MNIST digits, random spacing and overlap, read with CTC; CER",
            "text_lines",
            "crnn-small",
            "val_cer",
            "CER",
            "min",
            str(SHARED_DATA / "mnist.npz"),
            (10000, 1000),
            _mnist_strings,
            ("model.height=32", "model.sequence.hidden=128"),
        ),
        Suite(
            "lines",
            "real handwritten lines (hooker: 19th-century letters), read with CTC; CER",
            "text_lines",
            "crnn-small",
            "val_cer",
            "CER",
            "min",
            str(SHARED_DATA / "hooker"),
            (0, 0),
            _lines,
            ("model.height=32", "model.sequence.hidden=128"),
        ),
        Suite(
            "video",
            "synthetic 16-frame clips of 8 classes, 6 told apart only by the order of frames; accuracy",
            "video",
            "lrcn-small",
            "val_acc",
            "accuracy",
            "max",
            SYNTHETIC,
            (320, 160),
            _video_clips,
            ("model.height=32", "data.clip.frames=16"),
        ),
        Suite(
            "emotion",
            "synthetic face + voice clips of 4 emotions, each stream carrying one factor in how it changes; UAR",
            "emotion",
            "emotion-small",
            "val_uar",
            "UAR",
            "max",
            SYNTHETIC,
            (64, 48),
            _emotion_clips,
            ("model.height=32", "data.clip.frames=16"),
        ),
        Suite(
            "gait",
            "synthetic walkers told apart only by cadence, step and arm phase; rank-1 on unseen walkers",
            "gait",
            "gait-small",
            "val_rank1",
            "rank-1",
            "max",
            SYNTHETIC,
            (160, 120),
            gait_walkers,
            ("model.height=32", "data.clip.frames=24"),
        ),
        Suite(
            "sound",
            "synthetic stick-hits-a-surface videos, their sound predicted per frame; onset accuracy (F1)",
            "sound",
            "vis-small",
            "val_onset_accuracy",
            "onset accuracy",
            "max",
            SYNTHETIC,
            (160, 40),
            sound_clips,
            ("model.height=32", "data.clip.frames=24"),
        ),
    ]
}


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        raise ConfigError(f"unknown suite {name!r}; choose from {', '.join(SUITES)}")
    return SUITES[name]
