"""PAGE-XML / ALTO line reading and line cropping, on small synthetic files and (when present) real pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from seqvision.data.pages import crop_line, read_page_file
from seqvision.errors import DataError

PAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "pages"
REAL_FILES = sorted(PAGES.glob("*/*.xml")) if PAGES.is_dir() else []
needs_data = pytest.mark.skipif(not REAL_FILES, reason=f"real page data not found at {PAGES}")

PAGE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">
  <Page imageFilename="{image}" imageWidth="200" imageHeight="80">
    <TextRegion id="r1">
      <Coords points="0,0 200,0 200,80 0,80"/>
      <TextLine id="l1">
        <Coords points="10,10 150,10 150,30 10,30"/>
        <TextEquiv index="1"><Unicode>second choice</Unicode></TextEquiv>
        <TextEquiv index="0"><Unicode>Hello  world</Unicode></TextEquiv>
      </TextLine>
      <TextLine id="l2">
        <Coords points="10,40 190,42 188,70 12,68"/>
        <TextEquiv><Unicode>Line\ttwo</Unicode></TextEquiv>
      </TextLine>
      <TextLine id="l3">
        <Coords points="10,72 50,72 50,78 10,78"/>
        <TextEquiv><Unicode>   </Unicode></TextEquiv>
      </TextLine>
      <TextLine id="l4">
        <Coords points="10,72 50,72"/>
        <TextEquiv><Unicode>too few points</Unicode></TextEquiv>
      </TextLine>
      <TextEquiv><Unicode>region text is not a line</Unicode></TextEquiv>
    </TextRegion>
  </Page>
</PcGts>
"""

ALTO_XML = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#">
  <Description>
    <MeasurementUnit>pixel</MeasurementUnit>
    <sourceImageInformation><fileName>C:\\scans\\page.png</fileName></sourceImageInformation>
  </Description>
  <Layout><Page ID="p1" WIDTH="200" HEIGHT="80"><PrintSpace>
    <TextBlock ID="b1">
      <TextLine ID="t1" HPOS="10" VPOS="10" WIDTH="140" HEIGHT="20">
        <String CONTENT="Hello"/><SP/><String CONTENT="wor"/><HYP CONTENT="-"/>
      </TextLine>
      <TextLine ID="t2" HPOS="5" VPOS="40" WIDTH="150" HEIGHT="30">
        <Shape><Polygon POINTS="10 40 190 42 188 70 12 68"/></Shape>
        <String CONTENT="ld"/><String CONTENT="again"/>
      </TextLine>
      <TextLine ID="t3" HPOS="5" VPOS="72" WIDTH="0" HEIGHT="5"><String CONTENT="flat"/></TextLine>
    </TextBlock>
  </PrintSpace></Page></Layout>
</alto>
"""


def _page_image(path: Path) -> Path:
    image = Image.new("RGB", (200, 80), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 15, 140, 25), fill="black")
    draw.rectangle((20, 50, 180, 60), fill="black")
    image.save(path)
    return path


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_page_xml_lines(tmp_path: Path) -> None:
    image = _page_image(tmp_path / "scan.png")
    report = read_page_file(_write(tmp_path, "scan.xml", PAGE_XML.format(image="scan.png")))
    assert [s.text for s in report.samples] == ["Hello world", "Line two"]
    first = report.samples[0]
    assert first.image == image
    assert first.source == f"{tmp_path / 'scan.xml'}:l1"
    assert first.polygon == ((10.0, 10.0), (150.0, 10.0), (150.0, 30.0), (10.0, 30.0))
    assert len(report.skipped) == 2
    assert report.skipped[0].startswith(f"{tmp_path / 'scan.xml'}:l3: ")
    assert "l4" in report.skipped[1]


def test_page_image_found_by_stem(tmp_path: Path) -> None:
    image = _page_image(tmp_path / "scan.jpg")
    report = read_page_file(_write(tmp_path, "scan.xml", PAGE_XML.format(image="scan.tif")))
    assert report.samples[0].image == image


def test_alto_lines(tmp_path: Path) -> None:
    image = _page_image(tmp_path / "page.png")
    report = read_page_file(_write(tmp_path, "page.xml", ALTO_XML))
    assert [s.text for s in report.samples] == ["Hello wor-", "ld again"]
    assert all(s.image == image for s in report.samples)
    assert report.samples[0].polygon == ((10.0, 10.0), (150.0, 10.0), (150.0, 30.0), (10.0, 30.0))
    assert report.samples[1].polygon == ((10.0, 40.0), (190.0, 42.0), (188.0, 70.0), (12.0, 68.0))
    assert len(report.skipped) == 1 and ":t3: " in report.skipped[0]


def test_alto_mm10_uses_dpi(tmp_path: Path) -> None:
    Image.new("L", (400, 200), 255).save(tmp_path / "page.png", dpi=(254, 254))
    xml = ALTO_XML.replace(">pixel<", ">mm10<")
    report = read_page_file(_write(tmp_path, "page.xml", xml))
    assert report.samples[0].polygon[2] == pytest.approx((150.0, 30.0))  # 254 dpi: 1 mm10 unit = 1 px


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<PcGts><Page imageFilename='x.png'>", "malformed XML"),
        ("<html><body/></html>", "neither PAGE-XML"),
        (PAGE_XML.format(image="missing.png"), "not found"),
        (ALTO_XML, "not found"),
    ],
)
def test_bad_files_raise(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, "broken.xml", text)
    with pytest.raises(DataError, match=expected) as info:
        read_page_file(path)
    assert "broken.xml" in str(info.value)
    assert "\n" not in str(info.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nothing\.xml"):
        read_page_file(tmp_path / "nothing.xml")


def test_crop_line_masks_outside(tmp_path: Path) -> None:
    page = Image.open(_page_image(tmp_path / "scan.png"))
    triangle = ((10.0, 10.0), (150.0, 10.0), (10.0, 30.0))
    crop = crop_line(page, triangle, pad=0)
    assert crop.mode == "L"
    assert crop.size == (141, 21)
    assert crop.getpixel((20, 5)) == 0  # ink inside the triangle is kept
    assert crop.getpixel((130, 15)) == 255  # outside it: painted with the background
    padded = crop_line(page, triangle, pad=3)
    assert padded.size == (147, 27)
    with pytest.raises(DataError, match="outside"):
        crop_line(page, ((300.0, 300.0), (400.0, 300.0), (400.0, 400.0)))
    with pytest.raises(DataError):
        crop_line(page, ())


@needs_data
@pytest.mark.parametrize("xml", REAL_FILES, ids=lambda p: p.name)
def test_real_pages(xml: Path) -> None:
    report = read_page_file(xml)
    assert len(report.samples) >= 10
    assert len(report.skipped) <= 2
    with Image.open(report.samples[0].image) as page:
        page.load()
    widths = 0
    for sample in report.samples:
        assert sample.text and sample.text == sample.text.strip()
        assert sample.source.startswith(f"{xml}:")
        assert sample.polygon and len(sample.polygon) >= 3
        assert all(0 <= x <= page.width and 0 <= y <= page.height for x, y in sample.polygon)
        crop = crop_line(page, sample.polygon)
        assert crop.mode == "L" and crop.width > 0 and crop.height > 0
        assert crop.getextrema()[0] < crop.getextrema()[1]  # not a blank crop
        widths += crop.width > crop.height
    assert widths >= 0.8 * len(report.samples)
