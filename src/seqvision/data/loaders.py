"""Turn reader inputs into checked train/val loaders for the text-line task."""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import torch
from torch.utils.data import DataLoader

from seqvision.config import DataConfig
from seqvision.data.alphabet import Alphabet
from seqvision.data.lines import LineDataset, WidthBucketSampler, check_lines, collate_lines
from seqvision.data.readers import read_input
from seqvision.data.samples import LineSample
from seqvision.errors import ConfigError, DataError
from seqvision.nn.model import SeqModel

if TYPE_CHECKING:
    from seqvision.config import ExperimentConfig

X = TypeVar("X")


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def report_skipped(what: str, skipped: list[str], log: Path | None, show: int = 3) -> None:
    """One summary line per dataset, a few examples, and the full list in the run folder."""
    if not skipped:
        return
    where = f"; all listed in {log}" if log else ""
    warn(f"{what}: skipped {len(skipped)} line(s){where}")
    for message in skipped[:show]:
        print(f"  {message}", file=sys.stderr)
    if log:
        with log.open("a", encoding="utf-8") as fh:
            fh.writelines(f"{what}\t{m}\n" for m in skipped)


class Listing(Protocol[X]):
    """What a task's reader returns: the samples, and a message per entry it passed over."""

    samples: list[X]
    skipped: list[str]


def read_train_val(
    cfg: ExperimentConfig,
    log: Path | None,
    read: Callable[[str], Listing[X]],
    check_no_leak: Callable[[list[X], list[X]], None],
    hold_out: Callable[[list[X], float, int], tuple[list[X], list[X]]],
    missing: str = "pass --train DATA (or set data.train)",
) -> tuple[list[X], list[X]]:
    """A task's train and val samples: ``data.val`` when given (read, then ``check_no_leak``), else ``hold_out``
    of ``data.train`` (``data.val_fraction``, seeded by ``train.seed``); what a reader passed over is reported.
    No ``data.train`` is a :class:`DataError` saying ``missing``."""
    if not cfg.data.train_path:
        raise DataError(f"no training data: {missing}")
    train = read(cfg.data.train_path)
    report_skipped(f"train data {cfg.data.train_path}", train.skipped, log)
    if cfg.data.val:
        val = read(cfg.data.val)
        report_skipped(f"val data {cfg.data.val}", val.skipped, log)
        check_no_leak(train.samples, val.samples)
        return train.samples, val.samples
    return hold_out(train.samples, cfg.data.val_fraction, cfg.train.seed)


WEIGHTED = re.compile(r"^(?P<path>.+)\*(?P<times>[0-9]+)$")


def weighted_input(spec: str) -> tuple[str, int]:
    """``PATH`` or ``PATH*N`` -> ``(PATH, N)``: the lines of PATH count N times per epoch.

    >>> weighted_input("real/train*8"), weighted_input("synth/labels.tsv")
    (('real/train', 8), ('synth/labels.tsv', 1))
    """
    match = WEIGHTED.match(spec.strip())
    if match is None or Path(spec).exists():  # a file really named "x*2" is read as it is
        return spec, 1
    times = int(match["times"])
    if times < 1:
        raise ConfigError(f"{spec}: the weight after '*' must be at least 1")
    return match["path"], times


def read_split(cfg: DataConfig, seed: int, log: Path | None) -> tuple[list[LineSample], list[LineSample]]:
    """Train and val samples: ``data.val`` when given, else a seeded ``data.val_fraction`` of train.

    ``data.train`` may list several inputs, each ``PATH`` or ``PATH*N``; each one's lines are repeated N
    times; ``caseless:PATH`` (train or val) marks a set whose labels do not record case. Without
    ``data.val`` the fraction is held out of every input before it is repeated, so no validation line
    is also trained on.
    """
    specs = [cfg.train] if isinstance(cfg.train, str) else list(cfg.train)
    if not any(s.strip() for s in specs):
        raise DataError("no training data: pass --train DATA (or set data.train)")
    train: list[LineSample] = []
    held: list[LineSample] = []
    for spec in specs:
        path, times = weighted_input(spec)
        report = read_input(path)
        report_skipped(f"train data {path}", report.skipped, log)
        if not report.samples:
            raise DataError(f"{path}: no usable lines ({len(report.skipped)} skipped)")
        samples = list(report.samples)
        if not cfg.val:
            random.Random(seed).shuffle(samples)
            n_val = max(1, round(len(samples) * cfg.val_fraction)) if len(samples) > 1 else 0
            samples, val_part = samples[n_val:] or samples, samples[:n_val] or samples
            held += val_part
        train += samples * times
    if len(specs) > 1:
        counts = ", ".join(f"{weighted_input(s)[0]} x{weighted_input(s)[1]}" for s in specs)
        print(f"training mix: {len(train)} lines from {counts}", file=sys.stderr)
    if cfg.val:
        val = read_input(cfg.val)
        report_skipped(f"val data {cfg.val}", val.skipped, log)
        return train, val.samples
    return train, held


@dataclass
class Loaders:
    train: DataLoader
    val: DataLoader
    train_lines: int
    val_lines: int


def make_loaders(
    train: list[LineSample],
    val: list[LineSample],
    alphabet: Alphabet,
    model: SeqModel,
    height: int,
    cfg: DataConfig,
    seed: int,
    log: Path | None,
) -> Loaders:
    unknown = alphabet.unknown(s.text for s in val)
    if unknown:
        examples = ", ".join(f"{c!r}x{n}" for c, n in unknown.most_common(8))
        warn(
            f"validation text has {sum(unknown.values())} character(s) never seen in training, "
            f"counted as errors: {examples}"
        )
    checked_train = check_lines(train, alphabet, height, model.encoder.output_length, cfg.max_width, known_only=True)
    checked_val = check_lines(val, alphabet, height, model.encoder.output_length, cfg.max_width)
    report_skipped("train lines", checked_train.skipped, log)
    report_skipped("val lines", checked_val.skipped, log)
    if not checked_train.samples:
        raise DataError("no training line is usable (see the warnings above)")
    if not checked_val.samples:
        raise DataError("no validation line is usable (see the warnings above)")
    train_ds = LineDataset(checked_train.samples, alphabet, height, augment=cfg.augment, seed=seed, warp=cfg.warp)
    val_ds = LineDataset(checked_val.samples, alphabet, height, augment=False)

    def loader(ds: LineDataset, sampler: WidthBucketSampler) -> DataLoader:
        workers = cfg.num_workers
        return DataLoader(
            ds,
            batch_sampler=sampler,
            collate_fn=collate_lines,
            num_workers=workers,
            persistent_workers=workers > 0,
            # its own generator: starting an epoch draws nothing from torch's global one, so a run
            # resumed mid-epoch (which starts a fresh iterator) keeps the dropout draws of the killed one
            generator=torch.Generator().manual_seed(seed),
        )

    return Loaders(
        loader(train_ds, WidthBucketSampler(checked_train.widths, cfg.batch_size, True, seed)),
        loader(val_ds, WidthBucketSampler(checked_val.widths, cfg.batch_size, False)),
        len(checked_train.samples),
        len(checked_val.samples),
    )
