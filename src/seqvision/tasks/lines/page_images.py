"""``seqvision read page.jpg``: a whole page image, its lines found by a page segmenter, read in reading order.

The segmenter comes from outside this task: ``layout(image)`` segments the page once and returns
a writer ``kind -> bytes`` of PAGE-XML (``"page"``) or ALTO (``"alto"``) documents with line
polygons and baselines but no text. The lines are then cut out and read exactly as for
``read --page XML`` (:class:`~seqvision.tasks.lines.page_writer.PageDocument`), so words,
confidences and the documents' validity are the same whichever way the lines were found.

Without ``--model`` the recogniser is chosen per page among the bundled text-line models: the one
with the higher mean confidence on a sample of the page's lines (printed or handwritten).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from seqvision.errors import ConfigError, DataError
from seqvision.tasks.lines.decoding.ctc import Decoded
from seqvision.tasks.lines.page_writer import PageDocument

Layout = Callable[..., Callable[[str], bytes]]  # (page image file, or decoded image and its name) -> kind -> XML
SAMPLE_LINES = 8  # lines every candidate model reads when the recogniser is chosen by confidence


@dataclass
class PageText:
    """One page read: its documents (by kind), the lines' results in reading order, the model, the timings."""

    image: Path
    documents: dict[str, PageDocument]
    decoded: list[Decoded] = field(default_factory=list)
    model: str = ""
    why: str = ""  # how the model was chosen, or why nothing was read
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The page's text, one line per line, in reading order."""
        return "".join(d.text + "\n" for d in self.decoded)

    def to_json(self) -> dict[str, Any]:
        """Lines in reading order with id, polygon, baseline (PAGE; else None), box, text, words (with page boxes)."""
        from seqvision.tasks.lines.predictor import Recognizer

        doc = next(iter(self.documents.values()))
        lines = []
        for line, d in zip(doc.lines, self.decoded, strict=True):
            record = {
                "id": line.line_id,
                "polygon": [[round(x, 1), round(y, 1)] for x, y in line.polygon],
                "baseline": _baseline(line.elem),
                "box": list(line.box),
            } | Recognizer.to_json(d)
            for word, (_, _, box, _) in zip(record["words"], doc._word_boxes(line, d), strict=True):
                word["box"] = [round(v, 1) for v in box]  # (x0, y0, x1, y1) in page pixels; x0/x1 are in the crop's
            lines.append(record)
        seconds = {k: round(v, 3) for k, v in self.seconds.items()}
        return {"image": str(self.image), "model": self.model, "text": self.text, "lines": lines, "seconds": seconds}


def _baseline(elem: Any) -> list[list[float]] | None:
    from seqvision.data.pages import children, parse_points

    found = children(elem, "Baseline")
    points = parse_points(found[0].get("points", "")) if found else None
    return [[round(x, 1), round(y, 1)] for x, y in points] if points and not isinstance(points, str) else None


def bundled_text_models() -> list[str]:
    """The bundled models of this task: the candidates when no ``--model`` is given."""
    from seqvision.checkpoint import BUNDLED, model_task

    return [p.stem for p in sorted(BUNDLED.glob("*.safetensors")) if model_task(p) == "text_lines"]


class PageReader:
    """Recognisers loaded once, then any number of pages: ``read(image) -> PageText``.

    >>> reader = PageReader({"print-en": Recognizer.load("print-en")}, segmenter.layout)   # doctest: +SKIP
    >>> reader.read(Image.open("letter.png"), name="letter.png").text                       # doctest: +SKIP

    Args:
        recognizers: Name -> loaded text-line model (``read(crops, batch_size)``); with several, each page is
            read by the one most confident on it unless ``read(model=...)`` names one.
        layout: A page segmenter's ``layout``.
    """

    def __init__(self, recognizers: dict[str, Any], layout: Layout, batch_size: int = 16):
        if not recognizers:
            raise ConfigError("no text-line model to read pages with; give --model")
        self.recognizers, self.layout, self.batch_size = dict(recognizers), layout, batch_size

    @classmethod
    def from_args(cls, args: argparse.Namespace, model: str | None, layout: Layout) -> PageReader:
        """``model`` (or, when None, every bundled text-line model) loaded with the CLI's backend and decoding flags."""
        from seqvision.tasks.lines.cli import recognizer_for

        names = [model] if model else bundled_text_models()
        if not names:
            raise ConfigError("no bundled text-line model to read pages with; give --model")
        return cls({name: recognizer_for(name, args) for name in names}, layout, args.batch_size)

    @staticmethod
    def rates() -> Any:
        """A fresh CER/WER accumulator (:class:`~seqvision.tasks.lines.metrics.ErrorRates`) for scoring pages."""
        from seqvision.tasks.lines.metrics import ErrorRates

        return ErrorRates()

    def choose(self, crops: list) -> tuple[str, str]:
        """The model to read these lines with and, when there was a choice, why."""
        if len(self.recognizers) == 1:
            return next(iter(self.recognizers)), ""
        sample = sorted(crops, key=lambda c: -c.width)[:SAMPLE_LINES]
        scores = {}
        for name, rec in self.recognizers.items():
            decoded = rec.read(sample, self.batch_size)
            scores[name] = sum(d.confidence for d in decoded) / max(len(decoded), 1)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        return ranked[0][0], "mean confidence " + ", ".join(f"{n} {s:.2f}" for n, s in ranked)

    def read(
        self,
        image: Path | Image.Image,
        kinds: tuple[str, ...] = ("page",),
        targets: dict[str, Path] | None = None,
        name: str | None = None,
        model: str | None = None,
    ) -> PageText:
        """Segment a page and read its lines into one document per kind.

        Args:
            image: The page image file, or the image itself, decoded (then nothing is read from disk).
            targets: Where each kind's document is saved (named in it); default beside the image.
            name: The decoded image's file name, written into the documents (default ``page.png``).
            model: One of the loaded recognisers to read with (default: chosen by confidence).
        """
        if model is not None and model not in self.recognizers:
            raise ConfigError(f"no model {model!r} loaded to read pages; loaded: {', '.join(self.recognizers)}")
        start = time.perf_counter()
        if isinstance(image, Image.Image):
            where, pixels = Path(name or "page.png"), image
            write = self.layout(image, where.name)
        else:
            where, pixels = image, None
            write = self.layout(image)
        found = time.perf_counter()
        docs = {
            kind: PageDocument.parse(write(kind), (targets or {}).get(kind) or where.with_suffix(".xml"), where, pixels)
            for kind in kinds
        }
        first = docs[kinds[0]]
        if not first.lines:
            return PageText(where, docs, why="no text line found", seconds={"segment": found - start, "read": 0.0})
        crops = first.crops()
        chosen, why = (model, "") if model else self.choose(crops)
        decoded = self.recognizers[chosen].read(crops, self.batch_size)
        for doc in docs.values():
            for line, d in zip(doc.lines, decoded, strict=True):
                doc.fill(line, d)
            doc.fill_regions()
        seconds = {"segment": found - start, "read": time.perf_counter() - found}
        return PageText(where, docs, decoded, chosen, why, seconds)


def _targets(pages: list[Path], out: str | None, suffix: str) -> list[Path | None]:
    """Where each page's output goes: ``out`` itself (one page, not a folder), ``out/STEM.suffix``, or stdout."""
    if not out:
        return [None] * len(pages)
    where = Path(out)
    if len(pages) == 1 and not where.is_dir():
        return [where]
    if where.exists() and not where.is_dir():
        raise ConfigError(f"--out {out}: several pages need a folder, and this is a file")
    stems = [p.stem for p in pages]
    return [where / (f"{s}{suffix}" if stems.count(s) == 1 else f"{s}-{i}{suffix}") for i, s in enumerate(stems)]


def _body(result: PageText, fmt: str) -> bytes:
    if fmt in ("page", "alto"):
        return result.documents[fmt].to_bytes()
    if fmt == "json":
        return (json.dumps(result.to_json(), ensure_ascii=False) + "\n").encode()
    return result.text.encode()


def read_page_images(args: argparse.Namespace, model: str | None, pages: list[Path], layout: Layout) -> int:
    """``read`` of whole page images: text (default), JSON, PAGE-XML or ALTO; ``--page-out`` adds PAGE-XML files."""
    from seqvision.io import atomic_write_bytes

    fmt = "json" if args.json else (args.format or "txt")
    missing = [p for p in pages if not p.is_file()]
    if missing:
        raise DataError(f"{missing[0]}: no such page image")
    if fmt in ("page", "alto") and not args.out:
        raise ConfigError(f"--format {fmt} writes XML: give --out FILE (one page) or --out FOLDER (several)")
    outs = _targets(pages, args.out, {"txt": ".txt", "json": ".json"}.get(fmt, ".xml"))
    page_outs = _targets(pages, args.page_out, ".xml")
    kinds = tuple(dict.fromkeys([fmt if fmt in ("page", "alto") else "page", *(["page"] if args.page_out else [])]))
    reader = PageReader.from_args(args, model, layout)
    for page, out, page_out in zip(pages, outs, page_outs, strict=True):
        targets = {k: p for k, p in ((fmt, out), ("page", page_out)) if p is not None and k in kinds}
        result = reader.read(page, kinds, targets)
        for message in next(iter(result.documents.values())).skipped:
            print(f"warning: {page}: {message}", file=sys.stderr)
        body = _body(result, fmt)
        if out is not None:
            atomic_write_bytes(out, body)
        elif len(pages) > 1 and fmt == "txt":
            sys.stdout.write(f"==> {page} <==\n{body.decode()}\n")
        else:
            sys.stdout.write(body.decode())
        if page_out is not None:
            atomic_write_bytes(page_out, result.documents["page"].to_bytes())
        _report(page, result, [p for p in (out, page_out) if p is not None])
    return 0


def _report(page: Path, result: PageText, written: list[Path]) -> None:
    how = f" with {result.model}" + (f" ({result.why})" if result.why else "") if result.model else f" ({result.why})"
    seconds = result.seconds
    timing = f"segment {seconds['segment']:.1f} s, read {seconds['read']:.1f} s"
    where = f" -> {', '.join(map(str, written))}" if written else ""
    print(f"{page}: {len(result.decoded)} lines{how}; {timing}{where}", file=sys.stderr)
