"""``read``, ``eval`` and ``export``: the verbs whose work depends on the model's task.

Each looks up the saved model's task in the registry and hands over to it (:class:`~seqvision.tasks.base.Task`
``read`` / ``evaluate`` / ``export``); nothing here knows one task from another.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from seqvision.checkpoint import DEFAULT_MODEL, model_task
from seqvision.cli.common import split_model
from seqvision.errors import ConfigError


def read(args: argparse.Namespace) -> int:
    from seqvision.tasks import all_tasks, get_task

    fmt = "json" if args.json else (args.format or "txt")
    if args.json and args.format not in (None, "json"):
        raise ConfigError(f"--json and --format {args.format} disagree; give one")
    if args.page:
        if len(args.inputs) > 1 or (args.inputs and args.model):
            raise ConfigError("with --page, give at most a model before it (the lines come from the XML)")
        if args.format not in (None, "page", "alto"):
            raise ConfigError(f"--page writes the XML's own format; --format {args.format} does not apply")
        model = args.model or (args.inputs[0] if args.inputs else DEFAULT_MODEL)
        page_task = next(task for task in all_tasks() if task.reads_pages)  # a page holds text lines
        return page_task.read(args, model, [])  # whatever the model: that task's loader names a wrong one
    if args.image:
        raise ConfigError("--image goes with --page (the page image of a PAGE/ALTO file)")
    if not args.inputs:
        raise ConfigError("give images, folders or TSV/PAGE/ALTO files to read (or --page XML)")
    if fmt in ("page", "alto") and not args.out:
        raise ConfigError(f"--format {fmt} writes one XML file per image: give --out FOLDER")
    model, inputs = split_model(args, "images")
    args.json = fmt == "json"
    return get_task(model_task(model)).read(args, model, inputs)


def evaluate(args: argparse.Namespace) -> int:
    from seqvision.tasks import get_task

    model, inputs = split_model(args, "labelled data")
    return get_task(model_task(model)).evaluate(args, model, inputs)


def export(args: argparse.Namespace) -> int:
    from seqvision.tasks import get_task

    out = Path(args.out)
    if out.suffix != ".onnx":
        raise ConfigError(f"{out}: the output file should end in .onnx")
    return get_task(model_task(args.model)).export(args, args.model, out)
