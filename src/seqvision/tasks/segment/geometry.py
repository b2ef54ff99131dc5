"""What a page segmentation is made of: text lines as a baseline polyline and a polygon, in page pixels."""

from __future__ import annotations

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
