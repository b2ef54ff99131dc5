"""Recognised text back into PAGE-XML and ALTO: lines, words, characters, confidences and boxes.

An existing file is read, every ``TextLine`` with a usable polygon is cut out of the page image
and recognised, and a new file of the same format and schema version is written: PAGE gets
``Word``/``Glyph`` elements with ``Coords`` and ``TextEquiv@conf`` (the line's and region's
``TextEquiv`` replaced), ALTO gets ``String`` elements with ``CONTENT``, ``WC``, ``CC`` and their
boxes, separated by ``SP``. Everything else in the file is kept as it was, except vendor elements
that the PAGE schema forbids in ``Metadata`` (Transkribus writes one), which are dropped with a
note so that the output validates. The input file is never modified.

Line images without a page (``read --format page|alto``) get a new one-line document each.

>>> doc = PageDocument.open(Path("page.xml"))                      # doctest: +SKIP
>>> for line, decoded in zip(doc.lines, rec.read(doc.crops())):    # doctest: +SKIP
...     doc.fill(line, decoded)
>>> doc.save(Path("out.xml"))                                      # doctest: +SKIP
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from seqvision import __version__
from seqvision.data.images import open_image
from seqvision.data.page_tree import insert_before as _insert_before
from seqvision.data.page_tree import parse_xml, qualified, read_xml_bytes, stamp_page_metadata, tree_bytes
from seqvision.data.page_tree import position_after as _position_after
from seqvision.data.pages import (
    Polygon,
    alto_scale,
    children,
    crop_box,
    crop_line,
    descendants,
    find_image,
    line_polygon,
    local_name,
)
from seqvision.data.samples import ReadReport
from seqvision.errors import DataError
from seqvision.io import atomic_write_bytes
from seqvision.tasks.lines.decoding.ctc import Decoded
from seqvision.tasks.lines.page_xml import (
    ALTO_4,
    PAGE_2019,
    Box,
    CharBox,
    _num,
    _points,
    _xml_escape,
    _y_range,
    one_line_xml,
)

PAD = 2  # pixels kept around a line polygon when cutting it out (as for training)


@dataclass
class PageLine:
    elem: ET.Element
    line_id: str
    polygon: Polygon  # page pixels
    box: tuple[int, int, int, int]  # the crop (left, top, right, bottom) in page pixels


@dataclass
class PageDocument:
    """One PAGE-XML or ALTO file held in memory, with the lines that can be recognised."""

    path: Path
    kind: str  # "page" or "alto"
    root: ET.Element
    namespaces: dict[str, str]  # prefix -> URI as declared in the file, to write them back unchanged
    image: Path
    scale: float = 1.0  # ALTO units -> pixels
    lines: list[PageLine] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pixels: Image.Image | None = None  # the page image already decoded (served uploads): ``image`` is only its name

    # -- reading ----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, image: str | Path | None = None) -> PageDocument:
        """Parse ``path``; the page image is ``image`` or the one the file names, beside it."""
        path = Path(path)
        return cls.parse(read_xml_bytes(path), path, image)

    @classmethod
    def parse(
        cls, raw: bytes, path: Path, image: str | Path | None = None, pixels: Image.Image | None = None
    ) -> PageDocument:
        """A document from its bytes; ``pixels``: the page image itself, decoded (nothing is read from disk)."""
        root, namespaces, kind, name = parse_xml(raw, path)
        image_path = Path(image) if image else find_image(path, name)
        if pixels is None and not image_path.is_file():
            raise DataError(f"{image_path}: page image not found")
        doc = cls(path, kind, root, namespaces, image_path, pixels=pixels)
        if kind == "alto":
            report = ReadReport()
            doc.scale = alto_scale(path, root, image_path, report)
            doc.notes += report.skipped
        doc._find_lines()
        return doc

    def _find_lines(self) -> None:
        if self.pixels is not None:
            size = self.pixels.size
        else:
            with Image.open(self.image) as img:
                size = img.size
        for number, line in enumerate(descendants(self.root, "TextLine"), 1):
            line_id = line.get("id" if self.kind == "page" else "ID") or f"line{number}"
            polygon = line_polygon(line, self.kind, self.scale)
            if isinstance(polygon, str):
                self.skipped.append(f"{self.path}:{line_id}: {polygon}; left as it was")
                continue
            try:
                box = crop_box(polygon, size, PAD)
            except DataError as exc:
                self.skipped.append(f"{self.path}:{line_id}: {str(exc).removeprefix('crop_line: ')}; left as it was")
                continue
            self.lines.append(PageLine(line, line_id, polygon, box))

    def crops(self) -> list[Image.Image]:
        """The line images, cut out of the page as for training (polygon mask, 2 px margin)."""
        page = self.pixels.convert("L") if self.pixels is not None else open_image(self.image)
        return [crop_line(page, line.polygon, PAD) for line in self.lines]

    # -- writing ----------------------------------------------------------------------------
    def fill(self, line: PageLine, decoded: Decoded) -> None:
        """Put ``decoded`` (read from ``line``'s crop) into the document."""
        if self.kind == "page":
            self._fill_page(line, decoded)
        else:
            self._fill_alto(line, decoded)

    def _word_boxes(self, line: PageLine, decoded: Decoded) -> list[tuple[str, float, Box, list[CharBox]]]:
        """``(text, confidence, box, [(char, confidence, box)])`` per word; boxes ``(x0, y0, x1, y1)``, page pixels."""
        left, width = line.box[0], line.box[2] - line.box[0]
        spans = decoded.char_spans(width)

        def box(x0: float, x1: float) -> Box:
            top, bottom = _y_range(line.polygon, line.box, left + x0, left + x1)
            return left + x0, top, left + x1, bottom

        return [
            (
                word.text,
                word.confidence,
                box(word.x0, word.x1),
                [(decoded.text[i], decoded.char_confidences[i], box(*spans[i])) for i in range(*word.chars)],
            )
            for word in decoded.words(width)
        ]

    def _fill_page(self, line: PageLine, decoded: Decoded) -> None:
        q = self._q
        for child in [*children(line.elem, "Word"), *children(line.elem, "TextEquiv")]:
            line.elem.remove(child)
        words = []
        for n, (text, conf, box, chars) in enumerate(self._word_boxes(line, decoded), 1):
            word = ET.Element(q("Word"), {"id": f"{line.line_id}_w{n}"})
            ET.SubElement(word, q("Coords"), {"points": _points(box)})
            for k, (char, char_conf, char_box) in enumerate(chars, 1):
                glyph = ET.SubElement(word, q("Glyph"), {"id": f"{line.line_id}_w{n}_g{k}"})
                ET.SubElement(glyph, q("Coords"), {"points": _points(char_box)})
                glyph.append(self._text_equiv(char, char_conf))
            word.append(self._text_equiv(text, conf))
            words.append(word)
        at = _position_after(line.elem, ("Coords", "Baseline", "AlternativeImage"))
        for k, word in enumerate(words):
            line.elem.insert(at + k, word)
        _insert_before(
            line.elem, self._text_equiv(decoded.text, decoded.confidence), ("TextStyle", "UserDefined", "Labels")
        )

    def _q(self, name: str) -> str:
        return qualified(self.root, name)

    def _text_equiv(self, text: str, conf: float) -> ET.Element:
        equiv = ET.Element(self._q("TextEquiv"), {"conf": f"{min(max(conf, 0.0), 1.0):.4f}"})
        ET.SubElement(equiv, self._q("Unicode")).text = text
        return equiv

    def _fill_alto(self, line: PageLine, decoded: Decoded) -> None:
        q, s = self._q, self.scale
        for child in list(line.elem):
            if local_name(child.tag) in ("String", "SP", "HYP"):
                line.elem.remove(child)
        words = self._word_boxes(line, decoded)
        if not words:  # ALTO needs at least one String in a line
            words = [("", 0.0, tuple(float(v) for v in line.box), [])]  # type: ignore[list-item]
        for n, (text, conf, (x0, y0, x1, y1), chars) in enumerate(words, 1):
            if n > 1:
                ET.SubElement(line.elem, q("SP"))
            attrs = {
                "ID": f"{line.line_id}_s{n}",
                "CONTENT": text,
                "HPOS": _num(x0 / s),
                "VPOS": _num(y0 / s),
                "WIDTH": _num((x1 - x0) / s),
                "HEIGHT": _num((y1 - y0) / s),
                "WC": f"{min(max(conf, 0.0), 1.0):.4f}",
            }
            if chars:  # ALTO's CC: one digit per character, 0 = sure ... 9 = unsure
                attrs["CC"] = " ".join(str(min(9, int((1 - c) * 10))) for _, c, _ in chars)
            ET.SubElement(line.elem, q("String"), attrs)

    def finish(self) -> None:
        """Before writing: note the software and time, drop Metadata elements the PAGE schema forbids."""
        if self.kind == "page":
            self.notes += stamp_page_metadata(self.root, self.path, f"Text recognised by seqvision {__version__}.")

    def to_bytes(self) -> bytes:
        return tree_bytes(self.root, self.namespaces)

    def save(self, out: str | Path) -> None:
        """Write atomically to ``out``, which must not be the file that was read."""
        out = Path(out)
        if out.exists() and self.path.exists() and out.resolve() == self.path.resolve():
            raise DataError(f"{out}: is the input file; write the result to a new file")
        self.finish()
        try:
            atomic_write_bytes(out, self.to_bytes())
        except OSError as exc:
            raise DataError(f"{out}: cannot write ({exc.strerror or exc})") from None

    # -- new documents for bare line images -------------------------------------------------------
    @classmethod
    def for_line_image(cls, image: Path, size: tuple[int, int], kind: str) -> PageDocument:
        """A one-region, one-line PAGE (2019) or ALTO (4.2) document whose line is the whole image."""
        w, h = size
        xml = one_line_xml(kind, _xml_escape(image.name), w, h)
        root = ET.fromstring(xml)
        ns = PAGE_2019 if kind == "page" else ALTO_4
        doc = cls(image.with_suffix(".xml"), kind, root, {"": ns}, image)
        line = next(descendants(root, "TextLine"))
        polygon = ((0.0, 0.0), (w - 1.0, 0.0), (w - 1.0, h - 1.0), (0.0, h - 1.0))
        doc.lines.append(PageLine(line, "l1", polygon, (0, 0, w, h)))
        return doc

    def fill_regions(self) -> None:
        """PAGE: each text region's ``TextEquiv`` becomes its lines' texts, one per line (confidence: the mean)."""
        if self.kind != "page":
            return
        for region in descendants(self.root, "TextRegion"):
            lines = children(region, "TextLine")
            equivs = [next(iter(children(line, "TextEquiv")), None) for line in lines]
            if not lines or any(e is None for e in equivs):
                continue
            texts = ["".join(children(e, "Unicode")[0].itertext()) for e in equivs if e is not None]
            confs = [float(e.get("conf", 0)) for e in equivs if e is not None]
            for old in children(region, "TextEquiv"):
                region.remove(old)
            equiv = self._text_equiv("\n".join(texts), sum(confs) / len(confs))
            _insert_before(region, equiv, ("TextStyle",))  # a region's UserDefined/Labels come before its lines
