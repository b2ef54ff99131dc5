"""The page segmentation task: ground truth from PAGE/ALTO, PAGE/ALTO out, a tiny training run, the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from seqvision.cli.main import main
from seqvision.data.schemas import validate
from seqvision.tasks.segment.geometry import Line, Segmentation
from seqvision.tasks.segment.ground_truth import read_layout, read_layouts
from seqvision.tasks.segment.page_out import to_alto, to_page_xml

PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
WORDS = ["the quick brown fox", "jumps over the lazy dog", "pack my box with", "five dozen liquor jugs"]
TINY = [
    "--task=segment",
    "--preset=seg-small",
    "--set=model.height=128",
    "--set=model.encoder.channels=[4,8,8,8]",
    "--set=data.segment.crop=64",
    "--set=data.segment.crops=12",
    "--set=data.batch_size=4",
    "--set=data.num_workers=0",
    "--set=train.lr=0.01",
    "--threads=1",
    "--quiet",
]


def render_page(folder: Path, name: str, lines: list[str], extra: str = "") -> Path:
    """A 400 x 300 page of printed lines and its PAGE-XML (baselines under the letters, polygons around them)."""
    img = Image.new("L", (300, 400), 235)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=18)
    xml_lines = []
    for i, text in enumerate(lines):
        x, y = 20, 30 + 45 * i
        draw.text((x, y), text, fill=20, font=font)
        x0, y0, x1, y1 = draw.textbbox((x, y), text, font=font)
        base = y0 + 0.8 * (y1 - y0)
        xml_lines.append(
            f'<TextLine id="l{i}"><Coords points="{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}"/>'
            f'<Baseline points="{x0},{base:.0f} {x1},{base:.0f}"/>'
            f"<TextEquiv><Unicode>{text}</Unicode></TextEquiv></TextLine>"
        )
    folder.mkdir(parents=True, exist_ok=True)
    img.save(folder / f"{name}.png")
    xml = (
        f'<PcGts xmlns="{PAGE_NS}"><Metadata><Creator>t</Creator><Created>2026-01-01T00:00:00</Created>'
        f"<LastChange>2026-01-01T00:00:00</LastChange></Metadata>"
        f'<Page imageFilename="{name}.png" imageWidth="300" imageHeight="400">'
        f'<TextRegion id="r1"><Coords points="0,0 299,0 299,399 0,399"/>{"".join(xml_lines)}{extra}</TextRegion>'
        "</Page></PcGts>"
    )
    (folder / f"{name}.xml").write_text(xml, encoding="utf-8")
    return folder / f"{name}.xml"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pages")
    for k in range(3):
        render_page(folder, f"p{k}", WORDS[k:] + WORDS[:k])
    return folder


def test_ground_truth_mends_or_skips_defective_lines(tmp_path: Path):
    extra = (
        '<TextLine id="nobase"><Coords points="5,5 50,5 50,20 5,20"/></TextLine>'
        '<TextLine id="rtl"><Coords points="5,300 80,300 80,330 5,330"/><Baseline points="80,325 5,325"/></TextLine>'
        '<TextLine id="outside"><Coords points="250,350 340,350 340,380 250,380"/>'
        '<Baseline points="250,375 340,375"/></TextLine>'
    )
    layout = read_layout(render_page(tmp_path, "p", WORDS[:2], extra))
    assert [m.split(": ", 1)[1] for m in layout.skipped] == ["no <Baseline> element"]
    assert "nobase" in layout.skipped[0] and str(tmp_path) in layout.skipped[0]
    lines = layout.segmentation.lines
    assert len(lines) == 4 and lines[0].text == WORDS[0]
    assert lines[2].baseline == [(5.0, 325.0), (80.0, 325.0)]  # drawn right to left, read left to right
    assert max(x for x, _ in lines[3].baseline) == 299.0  # clipped to the 300 px wide image


@pytest.mark.parametrize("kind", ["page", "alto"])
def test_written_segmentation_validates_and_reads_back(tmp_path: Path, kind: str):
    pytest.importorskip("lxml")
    seg = Segmentation(300, 400)
    seg.lines = [
        Line([(20.0, 50.0), (200.0, 52.0)], [(20, 30), (200, 30), (200, 58), (20, 58)], "r1", 0.9),
        Line([(20.0, 95.0), (180.0, 95.0)], [(20, 75), (180, 75), (180, 102), (20, 102)], "r1", 0.8),
        Line([(230.0, 300.0), (290.0, 301.0)], [], "r2", 0.7),  # no polygon: a band is written
    ]
    Image.new("L", (300, 400), 255).save(tmp_path / "page.png")
    data = (to_page_xml if kind == "page" else to_alto)(seg, "page.png")
    path = tmp_path / "page.xml"
    path.write_bytes(data)
    assert validate(path.read_bytes()) == []
    back = read_layout(path)
    assert [line.baseline for line in back.segmentation.lines] == [line.baseline for line in seg.lines]
    assert [line.region for line in back.segmentation.lines] == ["r1", "r1", "r2"]


def test_empty_segmentation_is_a_valid_document(tmp_path: Path):
    pytest.importorskip("lxml")
    path = tmp_path / "empty.xml"
    path.write_bytes(to_page_xml(Segmentation(10, 10), "x.png"))
    assert validate(path.read_bytes()) == []


@pytest.fixture(scope="module")
def trained(pages: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "seg"
    assert main(["train", "--train", str(pages), "--val", str(pages), "--out", str(out), "--epochs", "5", *TINY]) == 0
    return out


def test_tiny_training_run_reduces_the_loss(trained: Path):
    meta = json.loads((trained / "model.json").read_text())
    assert meta["task"] == "segment" and meta["maps"] == ["baseline", "region"]
    rows = list(csv.DictReader((trained / "metrics.csv").open()))
    losses = [float(r["train_loss_epoch"]) for r in rows if r.get("train_loss_epoch")]
    assert len(losses) == 5 and losses[-1] < 0.7 * losses[0]
    assert any(r.get("val_f1") for r in rows)


@pytest.mark.parametrize("fmt", ["page", "alto", "json"])
def test_segment_cli_writes_a_document_per_page(trained: Path, pages: Path, tmp_path: Path, fmt: str):
    out = tmp_path / "out"
    images = [str(pages / "p0.png"), str(pages / "p1.png")]
    assert main(["segment", *images, "--model", str(trained), "--out", str(out), "--format", fmt]) == 0
    suffix = ".json" if fmt == "json" else ".xml"
    assert sorted(p.name for p in out.iterdir()) == [f"p0{suffix}", f"p1{suffix}"]
    if fmt == "json":
        record = json.loads((out / "p0.json").read_text())
        assert record["width"] == 300 and isinstance(record["lines"], list)
    else:
        pytest.importorskip("lxml")
        Image.open(pages / "p0.png").save(out / "p0.png")
        assert validate((out / "p0.xml").read_bytes()) == []


def test_segment_cli_bad_inputs_are_one_line(trained: Path, tmp_path: Path, capsys):
    (tmp_path / "not.png").write_text("not an image")
    assert main(["segment", str(tmp_path / "not.png"), "--model", str(trained)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not.png" in err[0] and "Traceback" not in err[0]
    assert main(["segment", str(tmp_path / "missing.png"), "--model", str(trained)]) != 0
    assert "no such page image" in capsys.readouterr().err
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 260), 255).save(blank)
    assert main(["segment", str(blank), "--model", str(trained), "--out", str(tmp_path / "blank.xml")]) == 0
    assert read_layout(tmp_path / "blank.xml").segmentation.lines == []


def test_eval_of_a_segmenter_prints_baseline_and_polygon_scores(trained: Path, pages: Path, capsys):
    assert main(["eval", str(trained), str(pages), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["pages"] == 3
    assert all(0.0 <= result[k] <= 1.0 for k in result if k.endswith("f1"))
    assert result["page_cer"] >= 0.0 and sum(result["readers"].values()) == 3  # read with a bundled model
    assert main(["eval", str(trained), str(pages), "--json", "--reader", "none"]) == 0
    assert "page_cer" not in json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_the_bundled_segmenter_finds_and_reads_printed_pages(pages: Path, capsys):
    assert main(["eval", "lines-seg", str(pages), "--json", "--reader", "print-en", "--threads", "1"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["micro_baseline_f1"] > 0.9 and result["page_cer"] < 0.1, result


def test_hooker_ground_truth_reads(shared_data: Path):
    pages = read_layouts(shared_data / "pages" / "hooker" / "val")
    assert len(pages) == 33
    lines = [line for p in pages for line in p.segmentation.lines]
    assert len(lines) > 500 and all(len(line.baseline) >= 2 for line in lines)
    assert all(0 <= x < p.segmentation.width for p in pages for line in p.segmentation.lines for x, _ in line.polygon)
    assert np.mean([len(p.skipped) for p in pages]) < 1
