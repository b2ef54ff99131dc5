"""Text lines from whole-page transcriptions: PAGE-XML (2013/2019) and ALTO (v2-v4), plus line cropping.

>>> report = read_page_file(Path("page.xml"))              # doctest: +SKIP
>>> sample = report.samples[0]                             # doctest: +SKIP
>>> line = crop_line(Image.open(sample.image), sample.polygon)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageStat

from seqvision.data.samples import LineSample, ReadReport, normalize_text
from seqvision.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".jp2")
Polygon = tuple[tuple[float, float], ...]
MAX_COORDINATE = 1e9  # far beyond any page image Pillow will open


def local_name(tag: object) -> str:
    """Element tag without its ``{namespace}``; comments and processing instructions give ''."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def children(elem: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in elem if local_name(child.tag) == name]


def descendants(elem: ET.Element, name: str) -> Iterator[ET.Element]:
    return (node for node in elem.iter() if local_name(node.tag) == name)


def find_image(xml_path: Path, name: str | None) -> Path:
    """Find the page image: ``name`` beside the XML, else the stem of ``name`` or of the XML with an image suffix."""
    folder = xml_path.parent
    candidates: list[Path] = []
    if name and name.strip():
        name = name.strip()
        base = re.split(r"[\\/]", name)[-1]  # Windows or URL-ish paths: keep the file name
        candidates += [folder / name, folder / base]
        candidates += [folder / (Path(base).stem + suffix) for suffix in IMAGE_SUFFIXES]
    candidates += [xml_path.with_suffix(suffix) for suffix in IMAGE_SUFFIXES]
    for candidate in candidates:
        try:
            if candidate.is_file():
                return candidate
        except OSError:  # a name this file system cannot hold (too long, ...): no such image
            continue
    wanted = repr(name.strip()) if name and name.strip() else f"{xml_path.stem}.png/.jpg/..."
    raise DataError(f"{xml_path}: page image {wanted} not found beside the XML")


def parse_points(text: str, scale: float = 1.0) -> Polygon | str:
    """``"x,y x,y ..."`` (PAGE) or ``"x y x y ..."`` (ALTO) as a polygon, or a message saying what is wrong."""
    try:
        values = [float(v) * scale for v in text.replace(",", " ").split()]
    except ValueError:
        return "coordinates are not numbers"
    if len(values) % 2 or not all(math.isfinite(v) for v in values):
        return "coordinates are not (x, y) pairs"
    if any(abs(v) > MAX_COORDINATE for v in values):  # else widths and areas overflow to inf
        return f"coordinates beyond {MAX_COORDINATE:g} pixels"
    points = tuple(zip(values[0::2], values[1::2], strict=True))
    if len(set(points)) < 3:
        return f"polygon has {len(set(points))} distinct points (needs 3)"
    area = 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True)))
    if area <= 0:
        return "polygon has zero area"
    return points


def _box(elem: ET.Element, scale: float) -> Polygon | str:
    """ALTO ``HPOS/VPOS/WIDTH/HEIGHT`` as a 4-point polygon."""
    try:
        x, y, w, h = (float(elem.attrib[key]) for key in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
    except KeyError as exc:
        return f"no polygon and no {exc.args[0]} attribute"
    except ValueError:
        return "HPOS/VPOS/WIDTH/HEIGHT are not numbers"
    return parse_points(f"{x} {y} {x + w} {y} {x + w} {y + h} {x} {y + h}", scale)


def line_polygon(line: ET.Element, kind: str, scale: float = 1.0) -> Polygon | str:
    """A ``TextLine``'s polygon in pixels (PAGE ``Coords``; ALTO ``Shape/Polygon``, else its box), or what is wrong."""
    if kind == "page":
        coords = children(line, "Coords")
        return parse_points(coords[0].get("points", "")) if coords else "no <Coords> element"
    shape = next((p for s in children(line, "Shape") for p in children(s, "Polygon")), None)
    if shape is not None and shape.get("POINTS"):
        return parse_points(shape.get("POINTS", ""), scale)
    return _box(line, scale)


def _add(report: ReadReport, image: Path, path: Path, line_id: str, text: str, polygon: Polygon | str) -> None:
    where = f"{path}:{line_id}"
    text = normalize_text(text)
    if not text:
        report.skipped.append(f"{where}: empty transcription")
    elif isinstance(polygon, str):
        report.skipped.append(f"{where}: {polygon}")
    else:
        report.samples.append(LineSample(image=image, text=text, source=where, polygon=polygon))


def page_line_text(line: ET.Element) -> str:
    """Return the line's own TextEquiv (index="0" preferred, else the first), else its words joined."""
    equivs = children(line, "TextEquiv")
    if equivs:
        chosen = next((e for e in equivs if e.get("index") == "0"), equivs[0])
        unicode = children(chosen, "Unicode")
        return "".join(unicode[0].itertext()) if unicode else ""
    return " ".join(page_line_text(word) for word in children(line, "Word"))


def _read_page(path: Path, root: ET.Element) -> ReadReport:
    page = next(descendants(root, "Page"), None)
    if page is None:
        raise DataError(f"{path}: PAGE-XML file has no <Page> element")
    image = find_image(path, page.get("imageFilename"))
    report = ReadReport()
    for number, line in enumerate(descendants(page, "TextLine"), 1):
        line_id = line.get("id") or f"line{number}"
        _add(report, image, path, line_id, page_line_text(line), line_polygon(line, "page"))
    return report


def alto_line_text(line: ET.Element) -> str:
    """``String@CONTENT`` joined by single spaces; ``HYP`` glued to the preceding word."""
    text = ""
    for child in line:
        kind = local_name(child.tag)
        if kind == "String":
            content = child.get("CONTENT", "")
            text += content if not text or text.endswith(" ") else " " + content
        elif kind == "SP":
            text += " "
        elif kind == "HYP":
            text += child.get("CONTENT", "-")
    return text


def alto_scale(path: Path, root: ET.Element, image: Path, report: ReadReport) -> float:
    """Factor from the file's MeasurementUnit to pixels (1 for pixel, or when the image has no DPI)."""
    unit_elem = next(descendants(root, "MeasurementUnit"), None)
    unit = (unit_elem.text or "").strip().lower() if unit_elem is not None else "pixel"
    per_inch = {"mm10": 254.0, "inch1200": 1200.0}.get(unit)
    if per_inch is None:
        return 1.0
    try:
        with Image.open(image) as img:
            dpi = float(img.info.get("dpi", (0, 0))[0])
    except (OSError, TypeError, ValueError, IndexError):
        dpi = 0.0
    if dpi > 1:
        return dpi / per_inch
    report.skipped.append(f"{path}: MeasurementUnit {unit} but the image has no DPI; coordinates read as pixels")
    return 1.0


def _read_alto(path: Path, root: ET.Element) -> ReadReport:
    file_name = next(descendants(root, "fileName"), None)
    image = find_image(path, file_name.text if file_name is not None else None)
    report = ReadReport()
    scale = alto_scale(path, root, image, report)
    for number, line in enumerate(descendants(root, "TextLine"), 1):
        line_id = line.get("ID") or f"line{number}"
        _add(report, image, path, line_id, alto_line_text(line), line_polygon(line, "alto", scale))
    return report


def read_xml(path: Path) -> ET.Element:
    """The root element of an XML file; an unreadable or malformed file is a one-line :class:`DataError`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read XML file ({exc.strerror or exc})") from None
    try:
        return ET.fromstring(raw)
    except (ET.ParseError, LookupError, ValueError) as exc:
        raise malformed_xml(path, exc) from None


def malformed_xml(path: Path, exc: Exception) -> DataError:
    """The one-line error for XML the parser refused: a syntax error, or an unknown ``encoding="..."``."""
    detail = exc if isinstance(exc, ET.ParseError) else str(exc).splitlines()[0][:120]
    return DataError(f"{path}: malformed XML ({detail})")


def read_page_file(path: Path) -> ReadReport:
    """Read the text lines of one PAGE-XML or ALTO file.

    Args:
        path: The XML file; its page image must lie beside it.

    Returns:
        One ``LineSample`` per line with text and a usable polygon; other lines are listed in ``skipped``.

    Raises:
        DataError: Unreadable or malformed XML, neither PAGE nor ALTO, or no page image.
    """
    path = Path(path)
    root = read_xml(path)
    kind = local_name(root.tag)
    if kind == "PcGts":
        return _read_page(path, root)
    if kind.lower() == "alto":
        return _read_alto(path, root)
    raise DataError(f"{path}: root element <{kind}> is neither PAGE-XML <PcGts> nor ALTO <alto>")


def crop_box(polygon: Sequence[tuple[float, float]], size: tuple[int, int], pad: int = 2) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` that :func:`crop_line` cuts for ``polygon`` from a page of ``size``."""
    if not polygon:
        raise DataError("crop_line: empty polygon")
    pad = max(0, int(pad))
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    left, top = max(0, math.floor(min(xs)) - pad), max(0, math.floor(min(ys)) - pad)
    right, bottom = min(size[0], math.ceil(max(xs)) + pad + 1), min(size[1], math.ceil(max(ys)) + pad + 1)
    if right <= left or bottom <= top:
        raise DataError(
            f"crop_line: polygon box ({min(xs):g},{min(ys):g})-({max(xs):g},{max(ys):g}) "
            f"is outside the {size[0]}x{size[1]} image"
        )
    return left, top, right, bottom


def crop_line(page: Image.Image, polygon: Sequence[tuple[float, float]], pad: int = 2) -> Image.Image:
    """Cut one line out of a page image, blanking what lies outside its polygon.

    Args:
        page: The whole page image (any mode).
        polygon: ``(x, y)`` points in page pixels.
        pad: Pixels kept around the polygon (the box grows by ``pad`` and the mask is dilated by ``pad``).

    Returns:
        A grayscale ("L") crop of the polygon's bounding box; pixels outside the polygon take the crop's median.

    Raises:
        DataError: The polygon has no points or its box lies outside the image.
    """
    left, top, right, bottom = crop_box(polygon, page.size, pad)
    pad = max(0, int(pad))
    gray = page.convert("L") if page.mode != "L" else page
    crop = gray.crop((left, top, right, bottom))
    mask = Image.new("L", crop.size, 0)
    ImageDraw.Draw(mask).polygon([(x - left, y - top) for x, y in polygon], fill=255, outline=255)
    if pad:
        mask = mask.filter(ImageFilter.MaxFilter(2 * pad + 1))
    background = Image.new("L", crop.size, int(ImageStat.Stat(crop).median[0]))
    return Image.composite(crop, background, mask)
