"""What a task is: it owns the data, the loss, the decoding and the metrics; the model stays a plain module.

A :class:`Task` turns an experiment config into everything ``seqvision train`` needs (model,
Lightning module, loaders, the metadata saved with the model, the metric to select it by), so
the training loop, run folder, checkpoints and CLI are shared by every task.
"""

from __future__ import annotations

import argparse
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.errors import ConfigError

if TYPE_CHECKING:  # annotations only: registering a task imports neither torch nor Lightning
    from torch.utils.data import DataLoader

    from seqvision.config import ExperimentConfig
    from seqvision.nn.model import SeqModel
    from seqvision.tasks.predictor import Predictor
    from seqvision.training.module import TrainingModule


def model_line(cfg: ExperimentConfig, params: int, encoder: str = "") -> str:
    """The start of the line ``seqvision train`` opens with: preset, encoder -> sequence model -> head, size."""
    m = cfg.model
    return (
        f"seqvision: {m.preset} ({encoder or m.encoder.name} -> {m.sequence.name} -> {m.head.name}), "
        f"{params / 1e6:.2f} M parameters"
    )


def saved_metadata(task: str, cfg: ExperimentConfig, params: int, **sections: Any) -> dict[str, Any]:
    """The metadata saved with a model, in this order: its task, architecture and resolved config, the task's own
    ``sections`` (labels, input, ...) and the parameter count."""
    from seqvision.config import to_dict

    return {"task": task, "architecture": to_dict(cfg.model), "config": to_dict(cfg), **sections, "parameters": params}


@dataclass
class Prepared:
    """Everything a training run needs, made by :meth:`Task.prepare`."""

    model: SeqModel
    module: TrainingModule
    train: DataLoader
    val: DataLoader
    metadata: dict[str, Any]  # saved with the model: task, architecture, config, input, classes ...
    counts: dict[str, int]  # e.g. {"train_lines": 950, "val_lines": 50}, saved under "training"
    summary: str  # one line printed when training starts


class Task(ABC):
    """A kind of problem (text lines, video clips, ...): data, loss, metrics; registered in ``TASKS``."""

    name: str
    default_preset: str
    monitor: str  # validation metric that selects the best model, e.g. "val_cer"
    mode: str  # "min" or "max"
    metric_names: tuple[str, ...]  # validation metrics plotted in curves.png
    model_input: str = "line"  # the ModelConfig.input its models read: line, clip, image, frames, sequence
    model_head: str | None = None  # the head its models must end with, when only one fits

    def check_model(self, cfg: ExperimentConfig) -> None:
        """One clear line, before any data is read, when the configured model does not fit this task."""
        wrong_head = self.model_head is not None and cfg.model.head.name != self.model_head
        if cfg.model.input != self.model_input or wrong_head:
            head = f" with a {self.model_head} head" if self.model_head else ""
            article = "an" if self.model_input[0] in "aeiou" else "a"
            raise ConfigError(
                f"task {self.name} needs {article} {self.model_input} model{head} "
                f"(e.g. --preset {self.default_preset}), not {cfg.model.preset!r}"
            )

    @abstractmethod
    def prepare(self, cfg: ExperimentConfig, out: Path, resume: bool, log: Path | None) -> Prepared:
        """Read and check the data, build the model and its Lightning module."""

    def describe(self, metrics: dict[str, float]) -> str:
        """The validation metrics of a saved model, for the line ``seqvision train`` ends with."""
        return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())

    # The verbs a saved model answers: `seqvision read`, `eval` and `export` find the model's task in
    # the registry and call these (seqvision.cli.dispatch); a task without one says so in one line.
    title: str = "this kind of"  # how messages name its models: "a video model"
    reads_pages: bool = False  # `seqvision read --page XML` goes to this task, whatever the model

    @property
    def predictor(self) -> type[Predictor]:
        """The class that loads this task's models for inference (:class:`~seqvision.tasks.predictor.Predictor`)."""
        raise NotImplementedError(f"task {self.name} has no predictor")

    def add_parsers(self, sub: Any, after: str) -> None:
        """Add the task's own verbs (``sub.add_parser``) that ``seqvision --help`` lists after shared verb ``after``.

        ``seqvision`` calls this after each shared verb (train, eval, read, export, serve, compare,
        models), so the listing keeps one order; keep the imports light (``--help`` stays fast).
        """
        return None  # a task without verbs of its own

    def read(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        """``seqvision read MODEL INPUT...``: print or write predictions; returns the exit status."""
        raise ConfigError(f"{model}: `seqvision read` does not take {self.title} models")

    def read_pages(self, args: argparse.Namespace, model: str | None, pages: list[Path], layout: Any) -> int:
        """``seqvision read page.jpg``: whole page images, their lines found by ``layout`` (a page segmenter's).

        ``layout(image)`` segments one page and returns ``kind -> bytes``, its PAGE-XML (``"page"``) or ALTO
        document without text; ``model`` is None when the task should choose one. Only a task that
        ``reads_pages`` answers.
        """
        raise ConfigError(f"{model}: {self.title} models do not read pages")

    def page_reader(self, recognizers: dict[str, Any], layout: Any, batch_size: int = 16) -> Any:
        """A reader of whole pages with models already loaded (the HTTP service's): ``reader.read(image, kinds,
        name=..., model=...)`` segments a page image (a file or a decoded PIL image) with ``layout`` and returns
        its text, lines and documents (``.text``, ``.to_json()``, ``.documents[kind].to_bytes()``). Only a task
        that ``reads_pages`` answers.
        """
        raise ConfigError(f"{self.title} models do not read pages")

    def cli_page_reader(self, args: argparse.Namespace, model: str | None, layout: Any) -> Any:
        """What ``read_pages`` reads with, for other verbs (a segmenter's ``eval`` scores page CER with it).

        It has ``read(image: Path) -> page`` (``page.text``: the lines in reading order, ``page.model``)
        and ``rates()``: a fresh accumulator with ``update(found, expected)``, ``cer`` and ``wer``.
        """
        raise ConfigError(f"{model}: {self.title} models do not read pages")

    def evaluate(self, args: argparse.Namespace, model: str, inputs: list[str]) -> int:
        """``seqvision eval MODEL DATA``: scores on labelled data; returns the exit status."""
        raise ConfigError(f"{model}: `seqvision eval` does not take {self.title} models")

    def write_compare_data(self, folder: Path, train: int, val: int) -> tuple[str, str]:
        """For a ``seqvision compare`` suite on generated data: write about ``train`` / ``val`` samples under
        ``folder`` (validation never sharing a group with training); returns the two data paths."""
        raise ConfigError(f"task {self.name} generates no data for compare")

    def timed_model(self, path: Path, cfg: ExperimentConfig) -> tuple[Any, Any] | None:
        """For ``seqvision compare``: ``(model, example)`` when the task's models are not one :class:`SeqModel`;
        ``example(batch)`` gives ``(size in words, forward arguments)`` of a typical input. None: the default."""
        return None

    def export(self, args: argparse.Namespace, model: str, out: Path) -> int:
        """``seqvision export MODEL --out FILE.onnx``: write the ONNX file; returns the exit status."""
        raise ConfigError(f"{model}: ONNX export of {self.title} models is not supported yet (use the torch backend)")


def get_task(name: str) -> Task:
    """The task registered under ``name`` (importing the task modules fills the registry)."""
    import seqvision.tasks  # noqa: F401
    from seqvision.registry import TASKS

    return TASKS.get(name)()


def all_tasks() -> list[Task]:
    """Every registered task, by name."""
    import seqvision.tasks  # noqa: F401
    from seqvision.registry import TASKS

    return [TASKS.get(name)() for name in TASKS]
