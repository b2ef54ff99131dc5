"""New ``TextLine`` and region elements for an existing PAGE-XML or ALTO file, in the file's own namespace,
units and schema order; the texts of old lines carried onto new ones.

A carried PAGE line keeps its ``id``, attributes, ``TextEquiv``, ``TextStyle``, ``UserDefined`` and ``Labels``
(its ``Word``/``Glyph`` boxes belong to the old geometry and are dropped); a carried ALTO line keeps its
``ID``, style attributes and ``String``/``SP``/``HYP`` contents without their old positions. When several old
lines fall on one new line, their texts are joined with a space, in the file's order.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

from seqvision.data.page_tree import insert_before, namespace, qualified
from seqvision.data.pages import children, descendants, local_name
from seqvision.tasks.segment.existing import ExistingPage, OldLine
from seqvision.tasks.segment.geometry import Line

GEOMETRY = {"HPOS", "VPOS", "WIDTH", "HEIGHT", "BASELINE", "ROTATION"}
PAGE_CARRIED = ("TextEquiv", "TextStyle", "UserDefined", "Labels")
ALTO_CONTENT = ("String", "SP", "HYP")


def fresh_ids(doc: ExistingPage, prefix: str) -> Iterator[str]:
    """``prefix1``, ``prefix2``, ... skipping every id the file already uses."""
    taken, number = doc.ids, 0
    while True:
        number += 1
        if f"{prefix}{number}" not in taken:
            yield f"{prefix}{number}"


def _points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{round(x)},{round(y)}" for x, y in points)


def _box(points: list[tuple[float, float]]) -> dict[str, str]:
    xs, ys = [round(x) for x, _ in points], [round(y) for _, y in points]
    return {
        "HPOS": str(min(xs)),
        "VPOS": str(min(ys)),
        "WIDTH": str(max(max(xs) - min(xs), 1)),
        "HEIGHT": str(max(max(ys) - min(ys), 1)),
    }


def new_line(
    doc: ExistingPage, line: Line, polygon: list[tuple[int, int]], line_id: str, old: list[OldLine]
) -> ET.Element:
    """The ``TextLine`` element of a found ``line`` (image pixels; ``polygon``: its outline), carrying ``old``."""
    q = lambda name: qualified(doc.root, name)  # noqa: E731
    outline, baseline = doc.to_file([(float(x), float(y)) for x, y in polygon]), doc.to_file(line.baseline)
    first = old[0].elem.attrib if old else {}
    if doc.kind == "page":
        elem = ET.Element(q("TextLine"), {**first, "id": first.get("id", line_id)})
        ET.SubElement(elem, q("Coords"), {"points": _points(outline)})
        base = ET.SubElement(elem, q("Baseline"), {"points": _points(baseline)})
        if namespace(doc.root).endswith("2019-07-15"):  # conf on Baseline is new in PAGE 2019
            base.set("conf", f"{min(max(line.confidence, 0.0), 1.0):.4f}")
        _carry_page(doc, elem, old)
        return elem
    attrs = {k: v for k, v in first.items() if k not in GEOMETRY}
    elem = ET.Element(q("TextLine"), {**attrs, "ID": first.get("ID", line_id), **_box(outline)})
    if "ns-v4" in namespace(doc.root):
        elem.set("BASELINE", _points(baseline))
    else:  # ALTO 2 and 3: one height for the whole line
        elem.set("BASELINE", str(round(sum(y for _, y in baseline) / len(baseline))))
    shape = ET.SubElement(elem, q("Shape"))
    ET.SubElement(shape, q("Polygon"), {"POINTS": _points(outline)})
    _carry_alto(doc, elem, old)
    return elem


def _carry_page(doc: ExistingPage, elem: ET.Element, old: list[OldLine]) -> None:
    if not old:
        return
    kept = [c for c in old[0].elem if local_name(c.tag) in PAGE_CARRIED]
    if len(old) > 1:  # several old lines on this one: their texts joined, the first one's style kept
        equiv = ET.Element(qualified(doc.root, "TextEquiv"))
        ET.SubElement(equiv, qualified(doc.root, "Unicode")).text = " ".join(o.text for o in old if o.text)
        kept = [equiv, *(c for c in kept if local_name(c.tag) != "TextEquiv")]
    for child in kept:
        elem.append(child)


def _carry_alto(doc: ExistingPage, elem: ET.Element, old: list[OldLine]) -> None:
    content: list[ET.Element] = []
    for line in old:
        words = [c for c in line.elem if local_name(c.tag) in ALTO_CONTENT]
        if content and words:
            content.append(ET.Element(qualified(doc.root, "SP")))
        content += words
    for child in content:
        for key in GEOMETRY & set(child.attrib):  # positions of the old geometry
            del child.attrib[key]
        elem.append(child)
    if not any(local_name(c.tag) == "String" for c in content):  # ALTO needs one String in a line
        ET.SubElement(elem, qualified(doc.root, "String"), {"CONTENT": ""})


def add_line(doc: ExistingPage, region: ET.Element, elem: ET.Element) -> None:
    """Append ``elem`` to the region's lines (PAGE: before the region's own text and style)."""
    if doc.kind == "page":
        insert_before(region, elem, ("TextEquiv", "TextStyle"))
    else:
        region.append(elem)


def new_region(doc: ExistingPage, region_id: str, lines: list[list[tuple[int, int]]]) -> ET.Element:
    """A region (PAGE ``TextRegion``, ALTO ``TextBlock``) around ``lines`` (outlines, image pixels), in the page."""
    box = doc.to_file([(float(x), float(y)) for outline in lines for x, y in outline])
    q = lambda name: qualified(doc.root, name)  # noqa: E731
    if doc.kind == "page":
        attrs = _box(box)
        x0, y0 = int(attrs["HPOS"]), int(attrs["VPOS"])
        x1, y1 = x0 + int(attrs["WIDTH"]), y0 + int(attrs["HEIGHT"])
        elem = ET.Element(q("TextRegion"), {"id": region_id, "type": "paragraph"})
        ET.SubElement(elem, q("Coords"), {"points": f"{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}"})
        doc.page.append(elem)
        _add_to_reading_order(doc, region_id)
        return elem
    elem = ET.Element(q("TextBlock"), {"ID": region_id, **_box(box)})
    space = next(iter(children(doc.page, "PrintSpace")), None)
    if space is None:
        space = ET.SubElement(doc.page, q("PrintSpace"))
    space.append(elem)
    return elem


def _add_to_reading_order(doc: ExistingPage, region_id: str) -> None:
    """PAGE: the new region is read last in the file's top-level reading order, when it has one."""
    order = next(descendants(doc.page, "ReadingOrder"), None)
    names = ("OrderedGroup", "UnorderedGroup")
    groups = [c for c in (order if order is not None else []) if local_name(c.tag) in names]
    if not groups:
        return
    group = groups[0]
    if local_name(group.tag) == "OrderedGroup":
        indexed = [c.get("index", "") for c in group if local_name(c.tag).endswith("Indexed")]
        at = max((int(i) for i in indexed if i.isdigit()), default=-1) + 1
        ET.SubElement(group, qualified(doc.root, "RegionRefIndexed"), {"index": str(at), "regionRef": region_id})
    elif local_name(group.tag) == "UnorderedGroup":
        ET.SubElement(group, qualified(doc.root, "RegionRef"), {"regionRef": region_id})
