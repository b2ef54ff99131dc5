"""What a page segmentation is made of: text lines as a baseline polyline and a polygon, in page pixels."""

from __future__ import annotations

from dataclasses import dataclass, field

Point = tuple[float, float]


@dataclass
class Line:
    """One text line of a page: ``baseline`` left to right, ``polygon`` around its ink, both ``(x, y)`` page pixels.

    ``region`` names the block the line belongs to (a column, a marginal note), ``confidence`` is
    the segmenter's mean baseline probability along it (1.0 for ground truth).
    """

    baseline: list[Point]
    polygon: list[Point]
    region: str = ""
    confidence: float = 1.0
    text: str = ""


@dataclass
class Segmentation:
    """All lines of one page image, in reading order."""

    width: int
    height: int
    lines: list[Line] = field(default_factory=list)
