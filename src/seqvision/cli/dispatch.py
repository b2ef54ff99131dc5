"""``read``, ``eval`` and ``export``: the verbs whose work depends on the model's task.

Each looks up the saved model's task in the registry and hands over to it (:class:`~seqvision.tasks.base.Task`
``read`` / ``evaluate`` / ``export``); nothing here knows one task from another.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from seqvision.checkpoint import DEFAULT_MODEL, is_model, model_task
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
    task = get_task(model_task(model))
    pages = _page_images(args, inputs) if task.reads_pages else []
    if pages:
        chosen = None if model == DEFAULT_MODEL and not args.model and not is_model(args.inputs[0]) else model
        return task.read_pages(args, chosen, pages, _layout(args))
    if args.page_out or getattr(args, "as_page", None):
        raise ConfigError("--page-out and --page-image go with page images read by a text-line model")
    return task.read(args, model, inputs)


def _page_images(args: argparse.Namespace, inputs: list[str]) -> list[Path]:
    """The inputs as page images when ``--page-image`` says so or every one of them looks like a page."""
    from seqvision.data.images import looks_like_page
    from seqvision.data.readers import IMAGE_SUFFIXES

    if args.as_page is False:
        return []
    paths = [Path(p) for p in inputs]
    if args.as_page:
        if not all(p.suffix.lower() in IMAGE_SUFFIXES for p in paths):
            raise ConfigError("--page-image takes image files (JPEG, PNG, TIFF, ...), one page each")
        return paths
    pages = [p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() and looks_like_page(p)]
    if pages and len(pages) < len(paths):
        raise ConfigError(
            f"{pages[0]} looks like a whole page and {next(p for p in paths if p not in pages)} does not: "
            "read pages and lines in two calls (or say which with --page-image / --line-image)"
        )
    return pages


def _layout(args: argparse.Namespace):  # -> Callable[[Path], Callable[[str], bytes]]
    """The page segmenter's ``layout``, loaded once; a model that is not a page segmenter is one clear line."""
    from seqvision.tasks.predictor import load_predictor

    segmenter = load_predictor(args.segmenter, "torch", args.threads)
    layout = getattr(segmenter, "layout", None)
    if layout is None:
        raise ConfigError(f"--segmenter {args.segmenter}: not a page segmenter (train one with --task segment)")
    return layout


def evaluate(args: argparse.Namespace) -> int:
    from seqvision.tasks import get_task

    model, inputs = split_model(args, "labelled data")
    if not args.model and len(inputs) == 2:  # MODEL DATA where MODEL names nothing: say so, not "two data paths"
        from seqvision.checkpoint import resolve

        resolve(inputs[0])
    return get_task(model_task(model)).evaluate(args, model, inputs)


def export(args: argparse.Namespace) -> int:
    from seqvision.tasks import get_task

    out = Path(args.out)
    if out.suffix != ".onnx":
        raise ConfigError(f"{out}: the output file should end in .onnx")
    return get_task(model_task(args.model)).export(args, args.model, out)
