"""A segmentation as a PAGE-XML (2019) or ALTO (4.2) document: regions, lines with polygons and baselines, order.

The documents validate against the schemas in :mod:`seqvision.data.schemas`. Lines carry no text
yet (ALTO's one empty ``String`` per line is what its schema asks for); ``seqvision read`` fills
them with the recogniser's text, words and confidences (:mod:`seqvision.tasks.lines.page_writer`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import quoteattr

from seqvision import __version__
from seqvision.tasks.segment.geometry import Line, Point, Segmentation

PAGE_2019 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
ALTO_4 = "http://www.loc.gov/standards/alto/ns-v4#"


def _blocks(seg: Segmentation) -> list[tuple[str, list[Line]]]:
    """The lines grouped by region id, regions in the order of their first line (the reading order)."""
    blocks: dict[str, list[Line]] = {}
    for line in seg.lines:
        blocks.setdefault(line.region or "r1", []).append(line)
    return list(blocks.items())


def _clip(points: list[Point], seg: Segmentation) -> list[tuple[int, int]]:
    return [(min(max(round(x), 0), seg.width - 1), min(max(round(y), 0), seg.height - 1)) for x, y in points]


def _page_points(points: list[tuple[int, int]]) -> str:
    return " ".join(f"{x},{y}" for x, y in points)


def _box(lines: list[Line], seg: Segmentation) -> tuple[int, int, int, int]:
    pts = _clip([p for line in lines for p in (line.polygon or line.baseline)], seg)
    xs, ys = [x for x, _ in pts], [y for _, y in pts]
    return min(xs), min(ys), max(max(xs), min(xs) + 1), max(max(ys), min(ys) + 1)


def outline(line: Line, seg: Segmentation) -> list[tuple[int, int]]:
    """The line's polygon in image pixels; a band under a baseline when a polygon is missing or degenerate."""
    points = _clip(line.polygon, seg)
    if len(set(points)) >= 3:
        return points
    base = _clip(line.baseline, seg)
    return base + [(x, max(y - 20, 0)) for x, y in reversed(base)]


def to_page_xml(seg: Segmentation, image_name: str) -> bytes:
    """PAGE-XML 2019 with one ``TextRegion`` per block, lines with ``Coords`` and ``Baseline``, a ``ReadingOrder``."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    blocks = _blocks(seg)
    out = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<PcGts xmlns="{PAGE_2019}">',
        f"<Metadata><Creator>seqvision {__version__}</Creator><Created>{now}</Created>"
        f"<LastChange>{now}</LastChange></Metadata>",
        f'<Page imageFilename={quoteattr(image_name)} imageWidth="{seg.width}" imageHeight="{seg.height}">',
    ]
    if blocks:
        refs = "".join(f'<RegionRefIndexed index="{i}" regionRef="{rid}"/>' for i, (rid, _) in enumerate(blocks))
        out.append(f'<ReadingOrder><OrderedGroup id="ro1" caption="reading order">{refs}</OrderedGroup></ReadingOrder>')
    number = 0
    for rid, lines in blocks:
        x0, y0, x1, y1 = _box(lines, seg)
        out.append(
            f'<TextRegion id="{rid}" type="paragraph"><Coords points="{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}"/>'
        )
        for line in lines:
            number += 1
            coords, baseline = _page_points(outline(line, seg)), _page_points(_clip(line.baseline, seg))
            out.append(
                f'<TextLine id="{rid}l{number}"><Coords points="{coords}"/>'
                f'<Baseline points="{baseline}" conf="{line.confidence:.4f}"/></TextLine>'
            )
        out.append("</TextRegion>")
    out.append("</Page></PcGts>\n")
    return "\n".join(out).encode("utf-8")


def to_alto(seg: Segmentation, image_name: str) -> bytes:
    """ALTO 4.2 with one ``TextBlock`` per block, lines with ``BASELINE`` points and a ``Shape/Polygon``."""
    out = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<alto xmlns="{ALTO_4}">',
        "<Description><MeasurementUnit>pixel</MeasurementUnit><sourceImageInformation>"
        f"<fileName>{_escape(image_name)}</fileName></sourceImageInformation></Description>",
        f'<Layout><Page ID="p1" WIDTH="{seg.width}" HEIGHT="{seg.height}" PHYSICAL_IMG_NR="1">',
        f'<PrintSpace HPOS="0" VPOS="0" WIDTH="{seg.width}" HEIGHT="{seg.height}">',
    ]
    number = 0
    for rid, lines in _blocks(seg):
        x0, y0, x1, y1 = _box(lines, seg)
        out.append(f'<TextBlock ID="{rid}" HPOS="{x0}" VPOS="{y0}" WIDTH="{x1 - x0}" HEIGHT="{y1 - y0}">')
        for line in lines:
            number += 1
            polygon = outline(line, seg)
            lx0, ly0 = min(x for x, _ in polygon), min(y for _, y in polygon)
            lw, lh = max(max(x for x, _ in polygon) - lx0, 1), max(max(y for _, y in polygon) - ly0, 1)
            box = f'HPOS="{lx0}" VPOS="{ly0}" WIDTH="{lw}" HEIGHT="{lh}"'
            baseline = " ".join(f"{x},{y}" for x, y in _clip(line.baseline, seg))
            shape = " ".join(f"{x},{y}" for x, y in polygon)
            out.append(
                f'<TextLine ID="{rid}l{number}" {box} BASELINE="{baseline}"><Shape><Polygon POINTS="{shape}"/></Shape>'
                f'<String CONTENT="" {box} WC="{line.confidence:.4f}"/></TextLine>'
            )
        out.append("</TextBlock>")
    out.append("</PrintSpace></Page></Layout></alto>\n")
    return "\n".join(out).encode("utf-8")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
