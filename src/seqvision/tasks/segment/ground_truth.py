"""Ground-truth page layouts from PAGE-XML and ALTO: each text line's baseline, polygon, block and text.

What the segmenter learns from and is scored against. Real files have real defects (lines
without a baseline, polygons a few pixels outside the image, baselines drawn right to left):
such lines are mended where that is safe (clipped, reversed) and otherwise skipped with a message.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from seqvision.data.pages import (
    alto_line_text,
    alto_scale,
    children,
    descendants,
    find_image,
    line_polygon,
    local_name,
    page_line_text,
    read_xml,
)
from seqvision.data.samples import ReadReport, normalize_text
from seqvision.errors import DataError
from seqvision.tasks.segment.geometry import Line, Point, Segmentation


@dataclass
class PageLayout:
    """One page's ground truth: the image it describes and its lines in the file's order."""

    image: Path
    segmentation: Segmentation
    source: Path
    skipped: list[str] = field(default_factory=list)  # one message per line left out, naming the file and line


def parse_polyline(text: str, scale: float = 1.0) -> list[Point] | str:
    """``"x,y x,y ..."`` (PAGE) or ``"x y x y ..."`` (ALTO 4) as at least two distinct points, or what is wrong."""
    try:
        values = [float(v) * scale for v in text.replace(",", " ").split()]
    except ValueError:
        return "baseline coordinates are not numbers"
    if len(values) % 2:
        return "baseline coordinates are not (x, y) pairs"
    points = list(zip(values[0::2], values[1::2], strict=True))
    if len(set(points)) < 2:
        return "baseline has fewer than 2 distinct points"
    return points


def _clip(points: list[Point], width: int, height: int) -> list[Point]:
    return [(min(max(x, 0.0), width - 1.0), min(max(y, 0.0), height - 1.0)) for x, y in points]


def _line(
    baseline: list[Point] | str, polygon: tuple[Point, ...] | str, size: tuple[int, int], region: str, text: str
) -> Line | str:
    """A ground-truth line clipped to the image, its baseline left to right; or why it is left out."""
    if isinstance(baseline, str):
        return baseline
    if isinstance(polygon, str):
        return polygon
    width, height = size
    if baseline[0][0] > baseline[-1][0]:  # drawn right to left
        baseline = baseline[::-1]
    baseline = _clip(baseline, width, height)
    if max(x for x, _ in baseline) - min(x for x, _ in baseline) < 2:
        return "baseline lies outside the image or is vertical"
    return Line(baseline, _clip(list(polygon), width, height), region=region, text=normalize_text(text))


def _image_size(image: Path, page: ET.Element | None) -> tuple[int, int]:
    """The page image's size: PAGE's ``imageWidth``/``imageHeight`` when the file says, else the image's own."""
    try:
        with Image.open(image) as img:
            actual = img.size
    except OSError as exc:
        raise DataError(f"{image}: cannot open page image ({exc})") from None
    return (
        actual
        if page is None
        else (int(page.get("imageWidth") or actual[0]), int(page.get("imageHeight") or actual[1]))
    )


def _page_lines(path: Path, root: ET.Element) -> PageLayout:
    page = next(descendants(root, "Page"), None)
    if page is None:
        raise DataError(f"{path}: PAGE-XML file has no <Page> element")
    image = find_image(path, page.get("imageFilename"))
    size = _image_size(image, page)
    layout = PageLayout(image, Segmentation(*size), path)
    regions = [r for r in descendants(page, "TextRegion")] or [page]
    for r_number, region in enumerate(regions, 1):
        region_id = region.get("id") or f"r{r_number}"
        for number, elem in enumerate(children(region, "TextLine"), 1):
            base = children(elem, "Baseline")
            baseline = parse_polyline(base[0].get("points", "")) if base else "no <Baseline> element"
            line = _line(baseline, line_polygon(elem, "page"), size, region_id, page_line_text(elem))
            _keep(layout, line, elem.get("id") or f"{region_id}l{number}")
    return layout


def alto_baseline(elem: ET.Element, scale: float) -> list[Point] | str:
    """ALTO ``BASELINE``: points (ALTO 4) or one y for the whole line (earlier versions)."""
    value = (elem.get("BASELINE") or "").strip()
    if not value:
        return "no BASELINE attribute"
    if len(value.replace(",", " ").split()) > 1:
        return parse_polyline(value, scale)
    try:
        y, x, w = float(value) * scale, float(elem.get("HPOS", "")) * scale, float(elem.get("WIDTH", "")) * scale
    except ValueError:
        return "BASELINE, HPOS or WIDTH is not a number"
    return [(x, y), (x + w, y)]


def _alto_lines(path: Path, root: ET.Element) -> PageLayout:
    file_name = next(descendants(root, "fileName"), None)
    image = find_image(path, file_name.text if file_name is not None else None)
    report = ReadReport()
    scale = alto_scale(path, root, image, report)
    layout = PageLayout(image, Segmentation(*_image_size(image, None)), path, report.skipped)
    size = (layout.segmentation.width, layout.segmentation.height)
    for b_number, block in enumerate(descendants(root, "TextBlock"), 1):
        block_id = block.get("ID") or f"r{b_number}"
        for number, elem in enumerate(children(block, "TextLine"), 1):
            polygon = line_polygon(elem, "alto", scale)
            line = _line(alto_baseline(elem, scale), polygon, size, block_id, alto_line_text(elem))
            _keep(layout, line, elem.get("ID") or f"{block_id}l{number}")
    return layout


def _keep(layout: PageLayout, line: Line | str, line_id: str) -> None:
    if isinstance(line, str):
        layout.skipped.append(f"{layout.source}:{line_id}: {line}")
    else:
        layout.segmentation.lines.append(line)


def read_layout(path: str | Path) -> PageLayout:
    """The ground-truth lines of one PAGE-XML or ALTO file (its page image beside it)."""
    path = Path(path)
    root = read_xml(path)
    kind = local_name(root.tag)
    if kind == "PcGts":
        return _page_lines(path, root)
    if kind.lower() == "alto":
        return _alto_lines(path, root)
    raise DataError(f"{path}: root element <{kind}> is neither PAGE-XML <PcGts> nor ALTO <alto>")


def read_layouts(data: str | Path) -> list[PageLayout]:
    """Every page of a folder of PAGE/ALTO files (or one file); a folder without any is a one-line error."""
    data = Path(data)
    if data.is_file():
        return [read_layout(data)]
    if not data.is_dir():
        raise DataError(f"{data}: no such file or folder")
    files = sorted(p for p in data.iterdir() if p.suffix.lower() == ".xml")
    if not files:
        raise DataError(f"{data}: no PAGE-XML or ALTO .xml files")
    return [read_layout(p) for p in files]
