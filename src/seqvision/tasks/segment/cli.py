"""``seqvision segment``: find the text lines of page images and write PAGE-XML, ALTO or JSON; ``eval`` of segmenters.

Light at import (the parser is built for every ``seqvision --help``); the model and torch load in
the command functions.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from seqvision.errors import ConfigError, DataError

FORMATS = ("page", "alto", "json")


def add_segment(sub: Any) -> None:
    p = sub.add_parser("segment", help="find the text lines of page images (baselines, polygons, reading order)")
    p.add_argument("pages", nargs="+", metavar="PAGE", help="page images (JPEG, PNG, TIFF, ...)")
    p.add_argument("-m", "--model", required=True, help="a page segmenter (run folder or .safetensors)")
    p.add_argument(
        "--out", help="the file to write (one page), or a folder (one STEM.xml/.json per page); default: stdout"
    )
    p.add_argument("--format", choices=FORMATS, help="PAGE-XML 2019 (default), ALTO 4.2 or JSON")
    p.add_argument(
        "--into",
        metavar="XML",
        help="an existing PAGE-XML or ALTO file of the (one) page: its metadata, regions and texts are kept, the "
        "found lines go into it (--fill or --replace); the result goes to --out or stdout, never over XML "
        "unless --out names it",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--fill",
        dest="merge",
        action="store_const",
        const="fill",
        help="with --into (the default): add lines only to regions that have none; lines outside every region "
        "go into a new one",
    )
    mode.add_argument(
        "--replace",
        dest="merge",
        action="store_const",
        const="replace",
        help="with --into: replace every line with the found ones, each old text moved onto the found line that "
        "overlaps it most",
    )
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    p.set_defaults(func=run_segment)


def run_segment(args: argparse.Namespace) -> int:
    if args.into:
        from seqvision.tasks.segment.into import segment_into

        mode = args.merge or "fill"
        return segment_into(args.model, args.pages, args.into, args.out, mode, args.threads, args.format)
    if args.merge:
        raise ConfigError(f"--{args.merge} needs --into XML (the existing PAGE/ALTO file of the page)")
    return segment_files(args.model, args.pages, args.out, args.threads, args.format or "page")


def _document(seg: Any, image: Path, fmt: str) -> bytes:
    from seqvision.tasks.segment.page_out import to_alto, to_page_xml

    if fmt == "json":
        return (json.dumps({"image": str(image), **seg.to_json()}, ensure_ascii=False) + "\n").encode()
    return (to_alto if fmt == "alto" else to_page_xml)(seg, image.name)


def segment_files(model: str, pages: list[str], out: str | None, threads: int = 0, fmt: str = "page") -> int:
    """Segment each page image; write one document per page (to ``out``) or print them; returns the exit status."""
    from seqvision.data.images import open_image
    from seqvision.io import atomic_write_bytes
    from seqvision.tasks.segment.predictor import Segmenter

    paths = [Path(p) for p in pages]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DataError(f"{missing[0]}: no such page image")
    folder = Path(out) if out and (len(paths) > 1 or Path(out).is_dir()) else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out {out}: several pages need a folder, and this is a file")
    segmenter = Segmenter.load(model, threads=threads)
    suffix = ".json" if fmt == "json" else ".xml"
    for path in paths:
        with open_image(path) as img:
            (seg,) = segmenter.predict([img])
        doc = _document(seg, path, fmt)
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / (path.stem + suffix)
        elif out:
            target = Path(out)
        else:
            sys.stdout.write(doc.decode("utf-8"))
            continue
        atomic_write_bytes(target, doc)
        print(f"{path}: {len(seg.lines)} lines -> {target}", file=sys.stderr)
    return 0


def _page_reader(args: argparse.Namespace, holder: dict[str, Any]) -> Any:
    """The text-line task's page reader (``--reader``, default: chosen per page), or None for ``--reader none``."""
    from seqvision.tasks.base import all_tasks

    reader = getattr(args, "reader", None)
    if reader == "none":
        return None
    page_task = next(task for task in all_tasks() if task.reads_pages)
    return page_task.cli_page_reader(args, reader, lambda _image: holder["write"])  # the lines found already


def evaluate(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    """``seqvision eval SEGMENTER PAGES``: baseline P/R/F1 (cBAD-style), line-polygon F1 and page CER/WER.

    Page CER/WER compare the text read from the found lines, in their reading order, with the
    transcribed lines in the file's order, whitespace (line breaks included) collapsed to one space.
    """
    from seqvision.data.images import open_image
    from seqvision.tasks.segment.metrics import aggregate_scores, page_scores
    from seqvision.tasks.segment.page_out import to_alto, to_page_xml
    from seqvision.tasks.segment.predictor import Segmenter
    from seqvision.tasks.segment.task import read_pages

    if len(inputs) != 1:
        raise ConfigError(f"eval takes one folder of PAGE/ALTO pages after the model, got {len(inputs)}")
    segmenter = Segmenter.load(model, threads=getattr(args, "threads", 0) or 0)
    holder: dict[str, Any] = {}
    reader = _page_reader(args, holder)
    rates: Any = reader.rates() if reader is not None else None
    scores, models, seconds = [], dict[str, int](), 0.0
    for page in read_pages(inputs[0], "eval data", None):
        start = time.perf_counter()
        with open_image(page.image) as img:
            (found,) = segmenter.predict([img])
        seconds += time.perf_counter() - start
        scores.append(page_scores(page.segmentation, found))
        if reader is not None:
            holder["write"] = lambda kind, seg=found, name=page.image.name: (
                to_alto if kind == "alto" else to_page_xml
            )(seg, name)
            result = reader.read(page.image)
            expected = " ".join(line.text for line in page.segmentation.lines if line.text)
            rates.update(" ".join(result.text.split()), " ".join(expected.split()))
            models[result.model or "-"] = models.get(result.model or "-", 0) + 1
    result = {"model": str(segmenter.path), "data": inputs[0], **aggregate_scores(scores), "pages": len(scores)}
    result["seconds_per_page"] = seconds / max(len(scores), 1)
    if rates is not None:
        result |= {"page_cer": rates.cer, "page_wer": rates.wer, "readers": models}
    if getattr(args, "json", False):
        print(json.dumps(result))
    else:
        print(" ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items()))
    return 0
