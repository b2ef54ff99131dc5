"""An existing PAGE-XML or ALTO file that found lines are merged into: its regions, lines and texts.

The element tree is kept whole (metadata, regions, comments, namespace prefixes); geometry is read into
page-image pixels, so it compares directly with the segmenter's lines. When the file describes an image of
another size (a scan at a different resolution), its coordinates are scaled and a note says so; ALTO files
in ``mm10`` or ``inch1200`` units are scaled by their page size or the image's DPI.

>>> doc = ExistingPage.open(Path("page.xml"), Path("page.png"), (1000, 1300))   # doctest: +SKIP
>>> [len(region.lines) for region in doc.regions]                              # doctest: +SKIP
[0, 3]
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from seqvision.data.page_tree import parse_xml, read_xml_bytes, tree_bytes
from seqvision.data.pages import (
    alto_line_text,
    alto_scale,
    children,
    descendants,
    line_polygon,
    page_line_text,
)
from seqvision.data.samples import ReadReport, normalize_text
from seqvision.errors import DataError
from seqvision.tasks.segment.geometry import Point
from seqvision.tasks.segment.ground_truth import alto_baseline, parse_polyline

BAND = 20.0  # pixels above a baseline taken as a line's outline when the file gives no usable polygon


@dataclass
class OldLine:
    """A ``TextLine`` of the file: its element, outline in image pixels (``None``: unusable) and text."""

    elem: ET.Element
    polygon: list[Point] | None
    text: str


@dataclass
class Region:
    """A PAGE ``TextRegion`` or ALTO ``TextBlock``: its element, outline in image pixels and its lines."""

    elem: ET.Element
    polygon: list[Point] | None
    lines: list[OldLine] = field(default_factory=list)


@dataclass
class ExistingPage:
    """The file held in memory; ``sx``, ``sy``: image pixels per file unit."""

    path: Path
    kind: str  # "page" or "alto"
    root: ET.Element
    namespaces: dict[str, str]
    page: ET.Element
    size: tuple[int, int]  # the page image's (width, height) in pixels
    sx: float = 1.0
    sy: float = 1.0
    regions: list[Region] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, path: Path, image: Path, size: tuple[int, int]) -> ExistingPage:
        """Read ``path``, the PAGE/ALTO file of ``image`` (``size`` pixels); bad XML is one-line :class:`DataError`."""
        root, namespaces, kind, name = parse_xml(read_xml_bytes(path), path)
        page = next(descendants(root, "Page"), None)
        if page is None:
            raise DataError(f"{path}: {'PAGE-XML' if kind == 'page' else 'ALTO'} file has no <Page> element")
        doc = cls(path, kind, root, namespaces, page, size)
        if name and Path(name.replace("\\", "/")).stem != image.stem:
            doc.notes.append(f"{path}: describes {name!r}; its lines are found in {image.name}")
        doc._scale(image)
        doc._read_regions()
        return doc

    @property
    def ids(self) -> set[str]:
        """Every ``id`` / ``ID`` in the file (new elements need fresh ones)."""
        key = "id" if self.kind == "page" else "ID"
        return {elem.get(key, "") for elem in self.root.iter()} - {""}

    def declared(self) -> tuple[float, float]:
        """The page's size in file units."""
        return self.size[0] / self.sx, self.size[1] / self.sy

    def to_file(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Image pixels -> file units, inside the declared page."""
        w, h = self.declared()
        return [(min(max(x / self.sx, 0.0), w - 1), min(max(y / self.sy, 0.0), h - 1)) for x, y in points]

    def _scale(self, image: Path) -> None:
        keys = ("imageWidth", "imageHeight") if self.kind == "page" else ("WIDTH", "HEIGHT")
        values = [self.page.get(key) for key in keys]
        pixel_units = True
        if self.kind == "alto":
            unit = next(descendants(self.root, "MeasurementUnit"), None)
            pixel_units = unit is None or (unit.text or "").strip().lower() in ("", "pixel")
        if None in values:  # no declared size: PAGE pixels, ALTO by its unit and the image's DPI
            if self.kind == "alto":
                report = ReadReport()
                self.sx = self.sy = alto_scale(self.path, self.root, image, report)
                self.notes += report.skipped
            return
        try:
            w, h = (float(v or "") for v in values)
        except ValueError:
            raise DataError(f"{self.path}: page size {keys[0]}/{keys[1]} is not a number") from None
        if not (w > 0 and h > 0):
            raise DataError(f"{self.path}: page size {w:g} x {h:g} is not positive")
        self.sx, self.sy = self.size[0] / w, self.size[1] / h
        if pixel_units and (abs(w - self.size[0]) > 1 or abs(h - self.size[1]) > 1):
            self.notes.append(
                f"{self.path}: declares a {w:g} x {h:g} page but {image.name} is {self.size[0]} x {self.size[1]}; "
                f"the found lines are scaled into the file's coordinates (x {1 / self.sx:.3f}, y {1 / self.sy:.3f})"
            )

    def _pixels(self, points: tuple[Point, ...] | list[Point]) -> list[Point]:
        return [(x * self.sx, y * self.sy) for x, y in points]

    def _read_regions(self) -> None:
        name = "TextRegion" if self.kind == "page" else "TextBlock"
        for elem in descendants(self.page, name):
            region = Region(elem, self._outline(elem))
            for line in children(elem, "TextLine"):
                region.lines.append(OldLine(line, self._line_outline(line), self._text(line)))
            self.regions.append(region)

    def _outline(self, region: ET.Element) -> list[Point] | None:
        polygon = line_polygon(region, self.kind)  # a region's Coords / Shape / box read as a line's
        return None if isinstance(polygon, str) else self._pixels(polygon)

    def _line_outline(self, line: ET.Element) -> list[Point] | None:
        polygon = self._outline(line)
        if polygon is not None:
            return polygon
        if self.kind == "page":
            base = children(line, "Baseline")
            baseline = parse_polyline(base[0].get("points", "")) if base else "no baseline"
        else:
            baseline = alto_baseline(line, 1.0)
        if isinstance(baseline, str):
            return None
        pixels = self._pixels(baseline)
        return pixels + [(x, y - BAND) for x, y in reversed(pixels)]  # a band above the baseline

    def _text(self, line: ET.Element) -> str:
        return normalize_text(page_line_text(line) if self.kind == "page" else alto_line_text(line))

    def to_bytes(self) -> bytes:
        return tree_bytes(self.root, self.namespaces)
