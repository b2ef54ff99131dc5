"""Captioned images: ``captions.csv`` (``image,caption``, several rows per image) and JSON caption files.

JSON may be the COCO layout (``images`` with ``id``/``file_name``, ``annotations`` with
``image_id``/``caption``) or the Karpathy split files used for Flickr8k/COCO (``images`` with
``filename`` [``filepath``] and ``sentences`` of ``raw`` text). Image paths are relative to the file.
A folder stands for the ``captions.csv`` or ``captions.json`` inside it.

>>> report = read_captions("data/flickr8k/val")   # doctest: +SKIP
>>> len(report.samples), report.samples[0].captions[0]   # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from seqvision.errors import DataError


@dataclass(frozen=True)
class CaptionSample:
    image: Path
    captions: tuple[str, ...]
    source: str  # file:line (CSV) or file (JSON), for messages


@dataclass
class CaptionReport:
    samples: list[CaptionSample] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def read_captions(path: str | Path) -> CaptionReport:
    """Every image with at least one non-empty caption; images named but missing are skipped with a reason."""
    path = Path(path)
    if path.is_dir():
        found = [p for p in (path / "captions.csv", path / "captions.json") if p.is_file()]
        if not found:
            raise DataError(f"{path}: no captions.csv or captions.json in this folder")
        path = found[0]
    if not path.is_file():
        raise DataError(f"{path}: no such caption file or folder")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read caption file ({getattr(exc, 'strerror', None) or exc})") from None
    pairs = _read_json(path, text) if path.suffix.lower() == ".json" else _read_csv(path, text)
    report = CaptionReport()
    grouped: dict[Path, list[str]] = {}
    where: dict[Path, str] = {}
    for image, caption, source in pairs:
        if not caption.strip():
            report.skipped.append(f"{source}: empty caption")
            continue
        grouped.setdefault(image, []).append(" ".join(caption.split()))
        where.setdefault(image, source)
    for image, captions in grouped.items():
        if image.is_file():
            report.samples.append(CaptionSample(image, tuple(captions), where[image]))
        else:
            report.skipped.append(f"{where[image]}: image {image} not found")
    return report


def _read_csv(path: Path, text: str) -> list[tuple[Path, str, str]]:
    rows = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(rows, [])]
    if "image" not in header or "caption" not in header:
        raise DataError(f"{path}: expected a CSV header with columns image and caption, got {','.join(header)!r}")
    i, j = header.index("image"), header.index("caption")
    out = []
    for number, row in enumerate(rows, 2):
        if not row:
            continue
        if len(row) <= max(i, j):
            raise DataError(f"{path}:{number}: expected image,caption")
        out.append((path.parent / row[i].strip(), row[j], f"{path}:{number}"))
    return out


def _read_json(path: Path, text: str) -> list[tuple[Path, str, str]]:
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list):
        raise DataError(f"{path}: expected a JSON object with an 'images' list (COCO or Karpathy caption format)")
    src = str(path)
    try:
        if "annotations" in data:  # COCO: captions refer to images by id
            names = {im["id"]: path.parent / im["file_name"] for im in images}
            return [(names[a["image_id"]], str(a["caption"]), src) for a in data["annotations"]]
        out = []
        for im in images:  # Karpathy: sentences inside each image
            image = path.parent / im.get("filepath", "") / im["filename"]
            out += [(image, str(s.get("raw") or " ".join(s.get("tokens", []))), src) for s in im["sentences"]]
        return out
    except (KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{path}: not a COCO or Karpathy caption file (missing or wrong key {exc})") from None


def load_image(path: Path, size: int) -> np.ndarray:
    """An RGB photo squashed to ``size x size``: ``(3, size, size)`` uint8. Raises :class:`DataError` naming it."""
    try:
        with Image.open(path) as im:
            rgb = im.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"{path}: cannot read image ({exc})") from None
    return np.asarray(rgb).transpose(2, 0, 1).copy()  # (H, W, 3) -> (3, H, W)
