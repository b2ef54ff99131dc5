"""What the clip tasks (video, gait, sound, emotion) share: their verbs and ONNX export, and the steps of
``prepare`` they take alike (probing both splits, the class list, loaders of batches).

A clip task keeps its verbs in ``cli.py`` beside its ``task.py`` (functions ``read``, ``evaluate`` and
``add_parsers``); :class:`ClipTask` answers ``seqvision read``, ``eval`` and ``--help`` with them. Like
``task.py``, this module imports no torch: the helpers import what they need when called.
"""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Callable, Sized
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from seqvision.data.clip_lists import Listed
from seqvision.errors import DataError
from seqvision.tasks.base import Task

if TYPE_CHECKING:
    from torch.utils.data import DataLoader, Dataset

    from seqvision.config import ExperimentConfig
    from seqvision.data.batches import RankBatches

LABELS = "labels.json"  # a classifier's classes in the run folder, read again on --resume


class ClipVerbs(Protocol):
    """A clip task's ``cli.py``: the verbs a saved model answers and the task's own parsers."""

    def read(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int: ...

    def evaluate(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int: ...

    def add_parsers(self, sub: Any, after: str) -> None: ...


class Labelled(Listed, Protocol):
    """A listed clip with its class."""

    @property
    def label(self) -> str: ...


class Probed(Protocol):
    """A labelled clip once probed: the listed sample it came from."""

    @property
    def sample(self) -> Labelled: ...


S = TypeVar("S")
P = TypeVar("P")
C = TypeVar("C", bound=Probed)


class ClipTask(Task):
    """A task whose models read clips; its verbs live in its ``cli.py``, its ONNX export is one clip model's."""

    model_input = "clip"
    export_output = "logits"  # the name of the exported model's result

    @property
    def verbs(self) -> ClipVerbs:
        """The ``cli`` module beside the module that defines the task, imported when a verb needs it."""
        package = type(self).__module__.rpartition(".")[0]
        return cast(ClipVerbs, importlib.import_module(f"{package}.cli"))

    def add_parsers(self, sub: Any, after: str) -> None:
        self.verbs.add_parsers(sub, after)

    def read(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        return self.verbs.read(args, model, inputs)

    def evaluate(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        return self.verbs.evaluate(args, model, inputs)

    def export(self, args: argparse.Namespace, model: str, out: Path) -> int:
        from seqvision.export.onnx import export_clip_model

        return export_clip_model(self.predictor, model, out, args.int8, output=self.export_output)


def probe_both(
    split: tuple[list[S], list[S]], probe: Callable[[list[S]], tuple[list[P], list[str]]], log: Path | None
) -> tuple[list[P], list[P], list[str]]:
    """Probe the train and val clips of ``split`` once; what ``probe`` refused is reported (and logged).
    Returns ``(train, val, train clips refused)``."""
    from seqvision.data.loaders import report_skipped

    train, train_bad = probe(split[0])
    val, val_bad = probe(split[1])
    report_skipped("train clips", train_bad, log)
    report_skipped("val clips", val_bad, log)
    return train, val, train_bad


def class_labels(train: list[C], val: list[C], out: Path, resume: bool, log: Path | None) -> tuple[list[str], list[C]]:
    """A classifier's classes: those saved in ``out`` when resuming, else the training clips' (sorted); the val
    clips of another class are reported and dropped. Returns ``(labels, val)``.

    Raises:
        DataError: when no validation clip is left.
    """
    from seqvision.data.loaders import report_skipped

    labels_file = out / LABELS
    if resume and labels_file.exists():
        labels: list[str] = json.loads(labels_file.read_text(encoding="utf-8"))
    else:
        labels = sorted({c.sample.label for c in train})
    unseen = [c for c in val if c.sample.label not in labels]
    report_skipped("val clips", [f"{c.sample.source}: label {c.sample.label!r} not in training" for c in unseen], log)
    val = [c for c in val if c.sample.label in labels]
    if not val:
        raise DataError("no usable validation clip (see the warnings above)")
    return labels, val


def save_labels(out: Path, labels: list[str]) -> None:
    """The classes into the run folder, where :func:`class_labels` finds them on ``--resume``."""
    from seqvision.io import atomic_write_text

    atomic_write_text(out / LABELS, json.dumps(labels, ensure_ascii=False))


def clip_loader(
    ds: Dataset,
    cfg: ExperimentConfig,
    collate: Callable[..., Any],
    shuffle: bool = False,
    batches: RankBatches | None = None,
) -> DataLoader:
    """Batches of ``ds`` on ``data.num_workers`` workers: ``batches``, else ``data.batch_size`` clips at a time,
    shuffled (seeded by ``train.seed``) for training."""
    from torch.utils.data import DataLoader

    from seqvision.data.batches import RandomBatches

    if batches is None:
        batches = RandomBatches(len(cast(Sized, ds)), cfg.data.batch_size, shuffle=shuffle, seed=cfg.train.seed)
    workers = cfg.data.num_workers
    return DataLoader(
        ds, batch_sampler=batches, collate_fn=collate, num_workers=workers, persistent_workers=workers > 0
    )
