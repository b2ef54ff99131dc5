"""``segment PAGE --into XML``: the bundled segmenter's lines merged into existing PAGE/ALTO files of the sample page.

Round trips via ``main(argv)`` on ``examples/pages/letter.png``; the outputs validate against the bundled
schemas and read back with the ground-truth reader. The segmenter is loaded once for the module.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from PIL import Image

from seqvision.cli.main import main
from seqvision.tasks.segment.geometry import Segmentation
from seqvision.tasks.segment.ground_truth import read_layout
from seqvision.tasks.segment.predictor import Segmenter

pytest.importorskip("lxml", reason="schema validation needs lxml (in the [dev] extra)")
from seqvision.data.schemas import validate

SAMPLE = Path(__file__).parents[1] / "examples" / "pages"
PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
TEXTS = (SAMPLE / "letter.txt").read_text(encoding="utf-8").splitlines()
META = "<Metadata><Creator>someone</Creator><Created>2020-01-01T00:00:00</Created><LastChange>2020-01-01T00:00:00"


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Segmentation]]:
    """The sample page in a folder, and its lines; every ``main`` call in the module gets the one segmenter."""
    folder = tmp_path_factory.mktemp("into")
    (folder / "letter.png").write_bytes((SAMPLE / "letter.png").read_bytes())
    segmenter = Segmenter.load("lines-seg", threads=1)
    with Image.open(folder / "letter.png") as img:
        (seg,) = segmenter.predict([img])
    assert len(seg.lines) == len(TEXTS)  # the sample's ten lines, in reading order
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Segmenter, "load", classmethod(lambda cls, *a, **k: segmenter))
        yield folder, seg


def _page(folder: Path, name: str, body: str, size: tuple[int, int] = (1000, 1300)) -> Path:
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<PcGts xmlns="{PAGE_NS}">{META}</LastChange></Metadata>'
        f'<Page imageFilename="letter.png" imageWidth="{size[0]}" imageHeight="{size[1]}">{body}</Page></PcGts>'
    )
    (folder / name).write_text(xml, encoding="utf-8")
    return folder / name


def _box(line, dx: float = 0) -> tuple[int, int, int, int]:
    xs, ys = [x for x, _ in line.polygon], [y for _, y in line.polygon]
    return round(min(xs) + dx), round(min(ys)), round(max(xs) + dx), round(max(ys))


def _ids(path: Path, name: str) -> list[str]:
    return [e.get("id") or e.get("ID") or "" for e in ET.parse(path).iter() if e.tag.endswith(name)]


def test_fill_adds_lines_to_regions_without_any(found, capsys) -> None:
    folder, seg = found
    x0, y0, x1, y1 = _box(seg.lines[-1])
    done = (
        f'<TextLine id="kept"><Coords points="{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}"/>'
        f'<Baseline points="{x0},{y1 - 8} {x1},{y1 - 8}"/></TextLine>'
    )
    body = (
        '<ReadingOrder><OrderedGroup id="ro"><RegionRefIndexed index="0" regionRef="head"/>'
        '<RegionRefIndexed index="1" regionRef="body"/></OrderedGroup></ReadingOrder><!-- kept too -->'
        '<TextRegion id="head" type="heading"><Coords points="500,100 990,100 990,190 500,190"/></TextRegion>'
        '<TextRegion id="body"><Coords points="50,300 990,300 990,690 50,690"/>'
        "<TextEquiv><Unicode>region text</Unicode></TextEquiv></TextRegion>"
        f'<TextRegion id="done"><Coords points="50,740 990,740 990,800 50,800"/>{done}</TextRegion>'
    )
    source = _page(folder, "regions.xml", body)
    before = source.read_bytes()
    out = folder / "filled.xml"
    assert (
        main(["segment", "-m", "lines-seg", str(folder / "letter.png"), "--into", str(source), "--out", str(out)]) == 0
    )
    err = capsys.readouterr().err
    assert source.read_bytes() == before and validate(out.read_bytes()) == []
    # head: 1 line, body: lines 3-8 (midpoints y 351..661), "Dear Mr." (y 258) and line 9 (y 724) outside: new region
    assert "7 added to 2 region(s) without lines, 2 outside every region into a new region sv_r1" in err, err
    assert "1 left out (the file has them already)" in err, err
    layout = read_layout(out)
    regions = [line.region for line in layout.segmentation.lines]
    assert regions == ["head", *["body"] * 6, "done", "sv_r1", "sv_r1"]
    text = out.read_text(encoding="utf-8")
    assert "someone" in text and "<!-- kept too -->" in text and "region text" in text and "(--fill)" in text
    assert 'regionRef="sv_r1"' in text and _ids(out, "TextLine").count("kept") == 1


@pytest.mark.parametrize("kind", ["page", "alto"])
def test_replace_moves_each_text_onto_the_new_line(found, kind: str, capsys) -> None:
    folder, seg = found
    lines = []  # the old lines: boxes shifted 6 px off the found ones, in reverse file order, plus one nowhere
    for n, (line, text) in reversed(list(enumerate(zip(seg.lines, TEXTS, strict=True)))):
        x0, y0, x1, y1 = _box(line, dx=6)
        lines.append((f"old{n}", (x0, y0, x1, y1), text))
    lines.append(("lost", (100, 1100, 400, 1140), "a line the segmenter never sees"))
    if kind == "page":
        body = "".join(
            f'<TextLine id="{i}"><Coords points="{a},{b} {c},{b} {c},{d} {a},{d}"/>'
            f'<Word id="{i}w"><Coords points="{a},{b} {a + 5},{b} {a + 5},{d}"/></Word>'
            f"<TextEquiv><Unicode>{escape(t)}</Unicode></TextEquiv></TextLine>"
            for i, (a, b, c, d), t in lines
        )
        source = _page(
            folder, "lines.xml", f'<TextRegion id="all"><Coords points="0,0 999,0 999,1299 0,1299"/>{body}</TextRegion>'
        )
    else:
        body = "".join(
            f'<TextLine ID="{i}" HPOS="{a}" VPOS="{b}" WIDTH="{c - a}" HEIGHT="{d - b}" LANG="en">'
            + "<SP/>".join(
                f'<String CONTENT={quoteattr(w)} HPOS="{a}" VPOS="{b}" WIDTH="9" HEIGHT="9"/>' for w in t.split()
            )
            + "</TextLine>"
            for i, (a, b, c, d), t in lines
        )
        source = folder / "lines-alto.xml"
        source.write_text(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<alto xmlns="{ALTO_NS}"><Description><MeasurementUnit>pixel'
            "</MeasurementUnit><sourceImageInformation><fileName>letter.png</fileName></sourceImageInformation>"
            '</Description><Layout><Page ID="p1" WIDTH="1000" HEIGHT="1300" PHYSICAL_IMG_NR="1"><PrintSpace>'
            f'<TextBlock ID="all" HPOS="0" VPOS="0" WIDTH="1000" HEIGHT="1300">{body}</TextBlock>'
            "</PrintSpace></Page></Layout></alto>\n",
            encoding="utf-8",
        )
    out = folder / f"replaced-{kind}.xml"
    argv = ["segment", "-m", "lines-seg", str(folder / "letter.png"), "--into", str(source), "--replace"]
    assert main([*argv, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert validate(out.read_bytes()) == [], validate(out.read_bytes())
    assert "11 lines replaced by 10 found" in err and "10 transcriptions moved onto them" in err, err
    assert "1 transcriptions matched no found line and are dropped (lost)" in err, err
    back = read_layout(out).segmentation.lines
    assert [line.text for line in back] == TEXTS  # each text on its own line, now in reading order
    starts = [v for line in back for v in line.baseline[0]]
    assert starts == pytest.approx([v for line in seg.lines for v in line.baseline[0]], abs=1)
    assert _ids(out, "TextLine") == [f"old{n}" for n in range(10)]  # the old lines' ids stay with their texts
    if kind == "page":
        assert not _ids(out, "Word") and "someone" in out.read_text(encoding="utf-8")
    else:
        assert all(e.get("LANG") == "en" for e in ET.parse(out).iter() if e.tag.endswith("TextLine"))
    assert main(argv) == 0  # no --out: the document on stdout, nothing written
    assert capsys.readouterr().out.startswith('<?xml version="1.0" encoding="UTF-8"?>')


@pytest.mark.parametrize("kind", ["page", "alto"])
def test_a_file_for_another_image_size_is_rescaled(found, kind: str, capsys) -> None:
    """A PAGE region over the whole half-size page; an ALTO page without blocks (its lines go into a new one)."""
    folder, seg = found
    if kind == "page":
        source = _page(
            folder, "half.xml", '<TextRegion id="r"><Coords points="0,0 499,0 499,649 0,649"/></TextRegion>', (500, 650)
        )
    else:
        source = folder / "half-alto.xml"
        source.write_text(
            f'<alto xmlns="{ALTO_NS}"><Description><MeasurementUnit>pixel</MeasurementUnit></Description><Layout>'
            '<Page ID="p1" WIDTH="500" HEIGHT="650" PHYSICAL_IMG_NR="1"><PrintSpace/></Page></Layout></alto>',
            encoding="utf-8",
        )
    out = folder / f"half-{kind}-out.xml"
    assert (
        main(["segment", "-m", "lines-seg", str(folder / "letter.png"), "--into", str(source), "--out", str(out)]) == 0
    )
    err = capsys.readouterr().err
    assert "declares a 500 x 650 page but letter.png is 1000 x 1300" in err
    assert ("10 added to 1 region(s)" if kind == "page" else "10 outside every region into a new region") in err, err
    assert validate(out.read_bytes()) == []
    root = ET.parse(out).getroot()
    line = next(e for e in root.iter() if e.tag.endswith("TextLine"))
    base = (line.get("BASELINE") or next(e for e in line if e.tag.endswith("Baseline")).get("points")).split()
    x, y = (int(v) for v in base[0].split(","))
    assert (x, y) == pytest.approx((seg.lines[0].baseline[0][0] / 2, seg.lines[0].baseline[0][1] / 2), abs=1)


def test_bad_inputs_are_one_line_and_the_input_is_kept(found, tmp_path: Path, capsys) -> None:
    folder, _ = found
    image = str(folder / "letter.png")
    broken = tmp_path / "broken.xml"
    broken.write_text("<PcGts><Page>", encoding="utf-8")
    source = _page(tmp_path, "p.xml", '<TextRegion id="r"><Coords points="0,0 9,0 9,9 0,9"/></TextRegion>')
    before = source.read_bytes()
    cases = [
        (["--into", str(broken), "--out", str(tmp_path / "o.xml")], "broken.xml: malformed XML"),
        (["--into", str(tmp_path / "nope.xml")], "nope.xml: no such XML file"),
        (["--replace"], "--replace needs --into XML"),
        (["--into", str(source), "--format", "alto"], f"--format alto: {source} is PAGE-XML"),
        (["--into", str(source), "--out", str(tmp_path)], "would overwrite"),
        ([image, "--into", str(source)], "--into takes one page image, got 2"),
    ]
    for extra, message in cases:
        assert main(["segment", "-m", "lines-seg", image, *extra]) == 1, extra
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert source.read_bytes() == before and not (tmp_path / "o.xml").exists()
    assert main(["segment", "-m", "lines-seg", image, "--into", str(source), "--out", str(source)]) == 0  # explicit
    assert source.read_bytes() != before and validate(source.read_bytes()) == []
