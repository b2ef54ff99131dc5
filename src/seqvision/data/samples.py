"""What every line reader yields: an image reference, its transcription, and where it came from."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class LineSample:
    """One text line: a whole image file, or a region of a page image when ``polygon`` is set.

    ``polygon`` holds ``(x, y)`` points in page-image pixels (a bounding box is a 4-point polygon).
    ``source`` names the file and line the sample was read from, for warnings. ``caseless``: the
    transcription does not record case (all upper case, say), so training and scoring ignore it.
    """

    image: Path
    text: str
    source: str
    polygon: tuple[tuple[float, float], ...] | None = None
    caseless: bool = False


@dataclass
class ReadReport:
    """Samples read from some input plus the problems skipped on the way (not fatal)."""

    samples: list[LineSample] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one message per skipped line

    def extend(self, other: ReadReport) -> None:
        self.samples.extend(other.samples)
        self.skipped.extend(other.skipped)


def normalize_text(text: str) -> str:
    """Unicode NFC, tabs and newlines to spaces, runs of spaces collapsed, ends stripped."""
    text = unicodedata.normalize("NFC", text)
    return " ".join(text.replace("\t", " ").replace("\r", " ").replace("\n", " ").split())
