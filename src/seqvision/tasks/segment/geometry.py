"""What a page segmentation is made of: text lines as a baseline polyline and a polygon, in page pixels."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

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

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values: points as ``[x, y]`` lists rounded to 0.1 px."""

        def points(pts: list[Point]) -> list[list[float]]:
            return [[round(float(x), 1), round(float(y), 1)] for x, y in pts]

        lines = [
            {
                "baseline": points(line.baseline),
                "polygon": points(line.polygon),
                "region": line.region,
                "confidence": round(float(line.confidence), 4),
                "text": line.text,
            }
            for line in self.lines
        ]
        return {"width": self.width, "height": self.height, "lines": lines}


def polygon_area(polygon: list[Point]) -> float:
    """The area enclosed by ``polygon`` (shoelace formula; 0 for fewer than three points)."""
    pts = list(polygon)
    return 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True)))


def contains(polygon: list[Point], point: Point) -> bool:
    """Whether ``point`` lies inside ``polygon`` (even-odd rule, points on an edge may go either way)."""
    x, y = point
    inside = False
    pts = list(polygon)
    for (ax, ay), (bx, by) in zip(pts, pts[1:] + pts[:1], strict=True):
        if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
            inside = not inside
    return inside


def midpoint(polyline: list[Point]) -> Point:
    """The point halfway along ``polyline`` (by length)."""
    pairs = list(itertools.pairwise(polyline))
    steps = [math.hypot(bx - ax, by - ay) for (ax, ay), (bx, by) in pairs]
    half = sum(steps) / 2
    for ((ax, ay), (bx, by)), step in zip(pairs, steps, strict=True):
        if step >= half and step > 0:
            t = half / step
            return ax + t * (bx - ax), ay + t * (by - ay)
        half -= step
    return polyline[-1]
