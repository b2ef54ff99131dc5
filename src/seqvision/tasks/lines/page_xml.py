"""XML plumbing of the PAGE/ALTO writer: namespaces, new one-line documents, coordinates, schema order."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape

from seqvision import __version__

PAGE_2019 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
ALTO_4 = "http://www.loc.gov/standards/alto/ns-v4#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
Box = tuple[float, float, float, float]
CharBox = tuple[str, float, Box]


def one_line_xml(kind: str, name: str, w: int, h: int) -> str:
    """A one-region, one-line PAGE (2019) or ALTO (4.2) document of a ``w`` x ``h`` line image ``name`` (escaped)."""
    if kind == "page":
        xml = (
            f'<PcGts xmlns="{PAGE_2019}"><Metadata><Creator>seqvision {__version__}</Creator>'
            f"<Created>{_now()}</Created><LastChange>{_now()}</LastChange></Metadata>"
            f'<Page imageFilename="{name}" imageWidth="{w}" imageHeight="{h}">'
            f'<TextRegion id="r1"><Coords points="0,0 {w - 1},0 {w - 1},{h - 1} 0,{h - 1}"/>'
            f'<TextLine id="l1"><Coords points="0,0 {w - 1},0 {w - 1},{h - 1} 0,{h - 1}"/></TextLine>'
            "</TextRegion></Page></PcGts>"
        )
    elif kind == "alto":
        xml = (
            f'<alto xmlns="{ALTO_4}"><Description><MeasurementUnit>pixel</MeasurementUnit>'
            f"<sourceImageInformation><fileName>{name}</fileName></sourceImageInformation></Description>"
            f'<Layout><Page ID="p1" WIDTH="{w}" HEIGHT="{h}" PHYSICAL_IMG_NR="1">'
            f'<PrintSpace HPOS="0" VPOS="0" WIDTH="{w}" HEIGHT="{h}">'
            f'<TextBlock ID="b1" HPOS="0" VPOS="0" WIDTH="{w}" HEIGHT="{h}">'
            f'<TextLine ID="l1" HPOS="0" VPOS="0" WIDTH="{w}" HEIGHT="{h}"/>'
            "</TextBlock></PrintSpace></Page></Layout></alto>"
        )
    else:
        raise ValueError(f"kind must be page or alto, got {kind!r}")
    return xml


def _points(box: tuple[float, float, float, float]) -> str:
    x0, y0, x1, y1 = (round(v) for v in box)
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    return f"{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}"


def _num(value: float) -> str:
    return f"{max(value, 0.0):.0f}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _xml_escape(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _y_range(
    pts: list[tuple[float, float]] | tuple[tuple[float, float], ...],
    box: tuple[int, int, int, int],
    x0: float,
    x1: float,
) -> tuple[float, float]:
    """Top and bottom of the line polygon between ``x0`` and ``x1`` (the crop's when the strip misses it)."""
    ys: list[float] = []
    pts = list(pts)
    for (ax, ay), (bx, by) in zip(pts, pts[1:] + pts[:1], strict=True):
        lo, hi = max(min(ax, bx), x0), min(max(ax, bx), x1)
        if lo > hi:
            continue
        if ax == bx:
            ys += [ay, by]
        else:
            ys += [ay + (by - ay) * (x - ax) / (bx - ax) for x in (lo, hi)]
    if not ys:
        return float(box[1]), float(box[3] - 1)
    return min(ys), max(ys)
