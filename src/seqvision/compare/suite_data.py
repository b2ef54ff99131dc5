"""What a suite's data builder is given, and the stamp that lets a resumed study reuse the data it wrote.

A builder writes its data once into ``request.folder`` and then writes ``data.json`` (the request:
source and sample counts); a later call with the same request finds the stamp and writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from seqvision.errors import DataError
from seqvision.io import atomic_write_text

SYNTHETIC = "synthetic"  # a suite's source that is generated, not read


@dataclass(frozen=True)
class DataRequest:
    """What to build: the source (``--data``), how many samples, into which folder."""

    source: str
    folder: Path
    train_samples: int
    val_samples: int


def stamp(request: DataRequest) -> dict:
    source = request.source if request.source == SYNTHETIC else str(Path(request.source).resolve())
    return {"source": source, "train": request.train_samples, "val": request.val_samples}


def done(request: DataRequest) -> bool:
    """The data folder was written by an identical request (so a resumed study reuses it)."""
    saved = request.folder / "data.json"
    return saved.is_file() and json.loads(saved.read_text(encoding="utf-8")) == stamp(request)


def mark_done(request: DataRequest) -> None:
    """Stamp the data folder once everything in it is written."""
    atomic_write_text(request.folder / "data.json", json.dumps(stamp(request)))


def split_folders(source: str, what: str) -> Path:
    """A suite's ``--data`` folder, which must hold ``train/`` and ``val/`` sets of ``what``."""
    folder = Path(source)
    if not (folder / "train").exists() or not (folder / "val").exists():
        raise DataError(f"{folder}: expected train/ and val/ {what} inside (or pass --train and --val)")
    return folder
