"""Found lines merged into an existing PAGE-XML or ALTO file: ``fill`` the regions without lines, or ``replace``
every line's geometry and move the transcriptions onto the new lines.

Each found line goes to the region whose outline holds its baseline's midpoint (the smallest one, for
nested regions); lines outside every region go into one new region, read last. An old line's text moves
to the found line whose polygon overlaps it most (IoU at least :data:`MIN_IOU`); texts that overlap no
found line are counted, and their line ids named, in the summary.

>>> doc = ExistingPage.open(Path("page.xml"), Path("page.png"), img.size)      # doctest: +SKIP
>>> print(fill(doc, segmenter.predict([img])[0]))                             # doctest: +SKIP
page.xml: 12 lines found; 9 added to 2 regions without lines, 3 left out (their regions have lines)
"""

from __future__ import annotations

from seqvision.tasks.segment.existing import ExistingPage, OldLine, Region
from seqvision.tasks.segment.geometry import Line, Segmentation, contains, midpoint, polygon_area
from seqvision.tasks.segment.line_xml import add_line, fresh_ids, new_line, new_region
from seqvision.tasks.segment.metrics import iou_matrix
from seqvision.tasks.segment.page_out import outline

MIN_IOU = 0.1  # less overlap than this is a neighbouring line, not the same one
MODES = ("fill", "replace")


def _region_of(doc: ExistingPage, line: Line) -> Region | None:
    """The smallest region whose outline holds the midpoint of ``line``'s baseline."""
    point = midpoint(line.baseline)
    holding = [r for r in doc.regions if r.polygon is not None and contains(r.polygon, point)]
    return min(holding, key=lambda r: polygon_area(r.polygon or []), default=None)


def _place(doc: ExistingPage, seg: Segmentation, lines: list[tuple[Line, list[OldLine]]]) -> tuple[int, str]:
    """Write ``lines`` (each with the old lines it carries) into their regions; returns how many lay outside every
    region, and the id of the new region that took them ('' for none)."""
    number = {id(r): len(r.lines) for r in doc.regions}
    outside: list[tuple[Line, list[OldLine]]] = []
    ids = fresh_ids(doc, "sv_l")
    for line, old in lines:
        region = _region_of(doc, line)
        if region is None:
            outside.append((line, old))
            continue
        add_line(doc, region.elem, new_line(doc, line, outline(line, seg), next(ids), old))
        number[id(region)] += 1
    if not outside:
        return 0, ""
    polygons = [outline(line, seg) for line, _ in outside]
    region_id = next(fresh_ids(doc, "sv_r"))
    elem = new_region(doc, region_id, polygons)
    for (line, old), polygon in zip(outside, polygons, strict=True):
        add_line(doc, elem, new_line(doc, line, polygon, next(ids), old))
    return len(outside), region_id


def _outside(count: int, region_id: str) -> str:
    return f"{count} outside every region into a new region {region_id}" if count else "none outside the regions"


def fill(doc: ExistingPage, seg: Segmentation) -> str:
    """Add the found lines that fall in regions without lines (or outside every region); returns the summary."""
    old = [line for region in doc.regions for line in region.lines if line.polygon is not None]
    found = [outline(line, seg) for line in seg.lines]
    ious = iou_matrix([o.polygon or [] for o in old], found, doc.size)
    kept: list[tuple[Line, list[OldLine]]] = []
    filled, doubled, targets = 0, 0, set()
    for j, line in enumerate(seg.lines):
        region = _region_of(doc, line)
        if old and ious[:, j].max() >= MIN_IOU:
            doubled += 1  # the file has this line already (in a region drawn too tight, or none)
        elif region is not None and region.lines:
            filled += 1
        else:
            kept.append((line, []))
            targets |= {id(region)} if region is not None else set()
    count, region_id = _place(doc, seg, kept)
    text = f"{doc.path}: {len(seg.lines)} lines found; {len(kept) - count} added to {len(targets)} region(s) without "
    text += f"lines, {_outside(count, region_id)}"
    if filled:
        text += f", {filled} left out (their regions have lines)"
    if doubled:
        text += f", {doubled} left out (the file has them already)"
    return text


def replace(doc: ExistingPage, seg: Segmentation) -> str:
    """Put the found lines in place of the file's, with the old texts moved onto them; returns the summary."""
    old = [line for region in doc.regions for line in region.lines]
    texts = [o for o in old if o.text]
    usable = [o for o in texts if o.polygon is not None]
    found = [outline(line, seg) for line in seg.lines]
    ious = iou_matrix([o.polygon or [] for o in usable], found, doc.size)
    carried: list[list[OldLine]] = [[] for _ in seg.lines]
    lost = [o for o in texts if o.polygon is None]
    for i, line in enumerate(usable):
        j = int(ious[i].argmax()) if found else -1
        if j < 0 or ious[i, j] < MIN_IOU:
            lost.append(line)
        else:
            carried[j].append(line)
    for region in doc.regions:
        for line in region.lines:
            region.elem.remove(line.elem)
        region.lines = []
    count, region_id = _place(doc, seg, list(zip(seg.lines, carried, strict=True)))
    moved = sum(len(c) for c in carried)
    text = f"{doc.path}: {len(old)} lines replaced by {len(seg.lines)} found ({_outside(count, region_id)}); "
    text += f"{moved} transcriptions moved onto them"
    joined = sum(1 for c in carried if len(c) > 1)
    if joined:
        text += f", {joined} found line(s) took the texts of several old lines"
    if lost:
        key = "id" if doc.kind == "page" else "ID"
        names = ", ".join(o.elem.get(key, "?") for o in lost[:5]) + (", ..." if len(lost) > 5 else "")
        text += f"; {len(lost)} transcriptions matched no found line and are dropped ({names})"
    return text
