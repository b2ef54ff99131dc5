"""Recognised text written into PAGE-XML and ALTO: valid against the official schemas, and it reads back."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from seqvision.cli import main
from seqvision.data.pages import read_page_file
from seqvision.tasks.lines.page_writer import PageDocument
from seqvision.tasks.lines.predictor import Recognizer

pytest.importorskip("lxml", reason="schema validation needs lxml (in the [dev] extra)")
from seqvision.data.schemas import validate

PAGE_2013 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15"
ALTO_4 = "http://www.loc.gov/standards/alto/ns-v4#"
LINES = [("Invoice 2024 total", (40, 30)), ("Paid in full, thank you", (40, 110))]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@pytest.fixture(scope="module")
def page_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A printed page image with two lines, described by a PAGE 2013 file and an ALTO 4 file."""
    folder = tmp_path_factory.mktemp("page")
    img = Image.new("L", (700, 200), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=30)
    boxes = []
    for text, (x, y) in LINES:
        draw.text((x, y), text, fill=0, font=font)
        left, top, right, bottom = draw.textbbox((x, y), text, font=font)
        boxes.append((left - 6, top - 8, right + 6, bottom + 8))
    img.save(folder / "page.png")
    (a, b) = boxes
    page = f"""<?xml version="1.0" encoding="UTF-8"?>
<PcGts xmlns="{PAGE_2013}"><Metadata><Creator>test</Creator><Created>2020-01-01T00:00:00</Created>
<LastChange>2020-01-01T00:00:00</LastChange><TranskribusMetadata docId="1"/></Metadata>
<Page imageFilename="page.png" imageWidth="700" imageHeight="200"><TextRegion id="r1">
<Coords points="0,0 699,0 699,199 0,199"/>
<TextLine id="l1"><Coords points="{a[0]},{a[1]} {a[2]},{a[1] + 4} {a[2]},{a[3] + 4} {a[0]},{a[3]}"/>
<TextEquiv><Unicode>ground truth one</Unicode></TextEquiv></TextLine>
<TextLine id="l2"><Coords points="{b[0]},{b[1]} {b[2]},{b[1]} {b[2]},{b[3]} {b[0]},{b[3]}"/></TextLine>
<TextLine id="bad"><Coords points="1,1 2,2"/><TextEquiv><Unicode>keep me</Unicode></TextEquiv></TextLine>
<TextEquiv><Unicode>old region text</Unicode></TextEquiv></TextRegion></Page></PcGts>
"""
    (folder / "page.xml").write_text(page, encoding="utf-8")
    strings = "".join(
        f'<TextLine ID="t{i}" HPOS="{x0}" VPOS="{y0}" WIDTH="{x1 - x0}" HEIGHT="{y1 - y0}">'
        f'<String CONTENT="old" HPOS="{x0}" VPOS="{y0}" WIDTH="10" HEIGHT="10"/></TextLine>'
        for i, (x0, y0, x1, y1) in enumerate(boxes)
    )
    alto = f"""<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="{ALTO_4}"><Description><MeasurementUnit>pixel</MeasurementUnit>
<sourceImageInformation><fileName>page.png</fileName></sourceImageInformation></Description>
<Layout><Page ID="p" WIDTH="700" HEIGHT="200" PHYSICAL_IMG_NR="1"><PrintSpace>
<TextBlock ID="b">{strings}</TextBlock></PrintSpace></Page></Layout></alto>
"""
    (folder / "alto.xml").write_text(alto, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def print_en() -> Recognizer:
    return Recognizer.load("print-en")


def _expected(xml: Path, rec: Recognizer) -> tuple[list[str], list[list[tuple[int, int, int, int]]]]:
    """What the writer should put in: each line's text and word boxes, from the library directly."""
    doc = PageDocument.open(xml)
    texts, boxes = [], []
    for line, d in zip(doc.lines, rec.read(doc.crops()), strict=True):
        texts.append(d.text)
        boxes.append([tuple(round(v) for v in box) for _, _, box, _ in doc._word_boxes(line, d)])
    return texts, boxes


def test_page_round_trip_is_valid_and_reads_back(page_dir: Path, tmp_path: Path, print_en: Recognizer, capsys) -> None:
    source = page_dir / "page.xml"
    before = source.read_bytes()
    out = page_dir / "out-page.xml"  # beside the image, which it names
    assert main(["read", "print-en", "--page", str(source), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "bad: polygon has 2 distinct points" in captured.err and "dropped <TranskribusMetadata>" in captured.err
    assert source.read_bytes() == before  # the input is never modified
    assert validate(out.read_bytes()) == []
    assert validate(before) != []  # the Transkribus element really was invalid

    texts, boxes = _expected(source, print_en)
    assert any("Invoice" in t or "total" in t for t in texts), texts  # print-en really reads the page
    back = read_page_file(out)
    assert [s.text for s in back.samples[:2]] == texts
    root = ET.parse(out).getroot()
    lines = [e for e in root.iter() if _local(e.tag) == "TextLine"]
    assert "".join(lines[2].itertext()).strip() == "keep me"  # the unusable line is left as it was
    for line, want in zip(lines[:2], boxes, strict=True):
        words = [w for w in line if _local(w.tag) == "Word"]
        got = []
        for word in words:
            xs, ys = zip(*(map(int, p.split(",")) for p in word[0].get("points").split()), strict=True)
            got.append((min(xs), min(ys), max(xs), max(ys)))
            assert 0.0 <= float(word[-1].get("conf")) <= 1.0 and _local(word[1].tag) == "Glyph"
        assert [(g[0], g[1], g[2]) for g in got] == [(w[0], w[1], max(w[2], w[0] + 1)) for w in want]
    region = next(e for e in root.iter() if _local(e.tag) == "TextRegion")
    equiv = [e for e in region if _local(e.tag) == "TextEquiv"]
    assert len(equiv) == 1 and "".join(equiv[0].itertext()) == "\n".join([*texts, "keep me"])


def test_alto_round_trip_is_valid_and_reads_back(page_dir: Path, tmp_path: Path, print_en: Recognizer) -> None:
    out = page_dir / "out-alto.xml"
    assert main(["read", "print-en", "--page", str(page_dir / "alto.xml"), "--out", str(out)]) == 0
    assert validate(out.read_bytes()) == []
    texts, boxes = _expected(page_dir / "alto.xml", print_en)
    assert [s.text for s in read_page_file(out).samples] == texts
    root = ET.parse(out).getroot()
    for line, want in zip([e for e in root.iter() if _local(e.tag) == "TextLine"], boxes, strict=True):
        strings = [s for s in line if _local(s.tag) == "String"]
        got = [tuple(int(s.get(k)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")) for s in strings]
        assert [(x, y) for x, y, _, _ in got] == [(b[0], b[1]) for b in want]
        assert all(len(s.get("CC").split()) == len(s.get("CONTENT")) for s in strings)
        assert "old" not in [s.get("CONTENT") for s in strings]


def test_page_output_refuses_to_overwrite_its_input(page_dir: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "page.xml"
    copy.write_bytes((page_dir / "page.xml").read_bytes())
    (tmp_path / "page.png").write_bytes((page_dir / "page.png").read_bytes())
    assert main(["read", "--page", str(copy), "--out", str(copy)]) == 1
    assert "is the input file" in capsys.readouterr().err
    assert copy.read_bytes() == (page_dir / "page.xml").read_bytes()
    assert main(["read", "--page", str(copy)]) == 1
    assert "--page needs --out" in capsys.readouterr().err
    assert main(["read", "--page", str(tmp_path / "nope.xml"), "--out", str(tmp_path / "o.xml")]) == 1
    assert "nope.xml: no such XML file" in capsys.readouterr().err
    (tmp_path / "broken.xml").write_text("<PcGts><Page>", encoding="utf-8")
    assert main(["read", "--page", str(tmp_path / "broken.xml"), "--out", str(tmp_path / "o.xml")]) == 1
    assert "broken.xml: malformed XML" in capsys.readouterr().err
    assert not (tmp_path / "o.xml").exists()


@pytest.mark.parametrize("fmt", ["page", "alto"])
def test_line_images_to_new_documents(fmt: str, lines_dir: Path, tmp_path: Path, capsys) -> None:
    images = sorted(str(p) for p in (lines_dir / "images").glob("*.png"))[:3]
    assert main(["read", "print-en", *images]) == 0
    texts = [line.split("\t")[1] for line in capsys.readouterr().out.splitlines()]
    assert main(["read", "print-en", *images, "--format", fmt, "--out", str(tmp_path / "xml")]) == 0
    for image, text in zip(images, texts, strict=True):
        out = tmp_path / "xml" / (Path(image).stem + ".xml")
        assert validate(out.read_bytes()) == []
        (tmp_path / "xml" / Path(image).name).write_bytes(Path(image).read_bytes())  # the reader wants the image beside
        assert [s.text for s in read_page_file(out).samples] == [text]
    assert main(["read", "print-en", images[0], "--format", fmt]) == 1
    assert "give --out FOLDER" in capsys.readouterr().err


def test_real_pages_validate(shared_data: Path, tmp_path: Path) -> None:
    pages = sorted((shared_data / "pages").glob("*/*.xml"))
    assert len(pages) >= 5
    for xml in pages:
        out = tmp_path / xml.name
        assert main(["read", "hooker-en", "--page", str(xml), "--out", str(out)]) == 0
        image = read_page_file(xml).samples[0].image
        (tmp_path / image.name).write_bytes(image.read_bytes())  # PAGE and ALTO name their image beside them
        assert validate(out.read_bytes()) == [], xml
        original, written = PageDocument.open(xml), PageDocument.open(out)
        assert [line.polygon for line in written.lines] == [line.polygon for line in original.lines]  # same places
        recognised = read_page_file(out).samples  # every line now has text (unlabelled lines included)
        assert len(recognised) == len(written.lines) >= len(read_page_file(xml).samples)
