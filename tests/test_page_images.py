"""``seqvision read page.jpg``: a whole page, its lines found by the bundled segmenter and read in reading order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from rapidfuzz.distance import Levenshtein

from seqvision.cli.main import main
from seqvision.data.images import looks_like_page
from seqvision.data.schemas import validate

LINES = [
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs,",
    "and sphinx of black quartz, judge my vow.",
    "Herman Kohn, 233 Sutter St, San Francisco.",
    "We beg to acknowledge receipt of your letter",
    "of the 14th instant regarding the officers.",
]


def cer(found: str, expected: str) -> float:
    return Levenshtein.distance(found, expected) / len(expected)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 900 x 1200 page of six printed lines in Pillow's own font (no system fonts needed)."""
    img = Image.new("L", (900, 1200), 250)
    draw, font = ImageDraw.Draw(img), ImageFont.load_default(size=26)
    for i, text in enumerate(LINES):
        draw.text((80, 120 + 60 * i), text, font=font, fill=25)
    path = tmp_path_factory.mktemp("pages") / "letter.png"
    img.save(path)
    return path


@pytest.mark.parametrize(
    ("size", "is_page"), [((900, 1200), True), ((2400, 1600), True), ((1800, 64), False), ((300, 300), False)]
)
def test_pages_are_told_from_lines_by_their_size(tmp_path: Path, size: tuple[int, int], is_page: bool) -> None:
    path = tmp_path / "image.png"
    Image.new("L", size, 255).save(path)
    assert looks_like_page(path) is is_page


def test_a_page_is_read_in_reading_order(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(page), "--threads", "1"]) == 0
    out, err = capsys.readouterr()
    assert "6 lines with print-en" in err  # chosen over hooker-en by confidence
    found = out.splitlines()
    assert len(found) == len(LINES)
    assert cer("\n".join(found), "\n".join(LINES)) < 0.05, found


@pytest.mark.parametrize("fmt", ["page", "alto"])
def test_page_documents_validate_and_hold_the_text(page: Path, tmp_path: Path, fmt: str) -> None:
    out, page_out = tmp_path / f"letter.{fmt}.xml", tmp_path / "letter.page.xml"
    args = ["read", str(page), "--format", fmt, "--out", str(out), "--page-out", str(page_out), "--threads", "1"]
    assert main(args) == 0
    for path in (out, page_out):
        data = path.read_bytes()
        assert validate(data) == [], path
        assert b"sphinx" in data and (b"<pc:Word" in data or b"<Word" in data or b"<String" in data)
    assert (b"<alto" in out.read_bytes()) is (fmt == "alto")


def test_json_has_lines_polygons_and_words(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(page), "--json", "--threads", "1"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["model"] == "print-en" and len(record["lines"]) == len(LINES)
    first = record["lines"][0]
    assert len(first["polygon"]) >= 4 and first["words"][0]["text"] == "The"
    ys = [line["box"][1] for line in record["lines"]]
    assert ys == sorted(ys)  # top to bottom


def test_the_chosen_model_is_used(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", "hooker-en", str(page), "--threads", "1"]) == 0
    assert "with hooker-en;" in capsys.readouterr().err


def test_a_blank_page_gives_an_empty_valid_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blank = tmp_path / "blank.png"
    Image.new("L", (800, 1100), 255).save(blank)
    assert main(["read", str(blank), "--page-out", str(tmp_path / "blank.xml"), "--threads", "1"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "no text line found" in err
    assert validate((tmp_path / "blank.xml").read_bytes()) == []


def test_bad_page_inputs_are_one_clear_line(page: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = tmp_path / "line.png"
    Image.new("L", (600, 40), 255).save(line)
    assert main(["read", str(page), str(line)]) == 1
    assert "read pages and lines in two calls" in capsys.readouterr().err
    not_image = tmp_path / "notes.png"
    not_image.write_text("not an image")
    assert main(["read", "--page-image", str(not_image)]) == 1
    assert f"{not_image}: not a readable image" in capsys.readouterr().err
    assert main(["read", str(page), "--segmenter", "print-en"]) == 1
    assert "not a page segmenter" in capsys.readouterr().err
    assert main(["read", str(page), "--format", "page"]) == 1
    assert "give --out" in capsys.readouterr().err


def test_the_committed_sample_page_is_what_its_script_makes_and_reads_well(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    import numpy as np

    examples = Path(__file__).resolve().parents[1] / "examples"
    spec = importlib.util.spec_from_file_location("make_sample_page", examples / "make_sample_page.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--out", str(tmp_path / "letter.png")]) == 0
    committed = examples / "pages" / "letter.png"
    truth = (examples / "pages" / "letter.txt").read_text(encoding="utf-8")
    assert (tmp_path / "letter.txt").read_text(encoding="utf-8") == truth
    assert committed.stat().st_size < 300 * 1024
    made, kept = (np.asarray(Image.open(p), np.float32) for p in (tmp_path / "letter.png", committed))
    assert made.shape == kept.shape and np.abs(made - kept).mean() < 1.0  # the same page (font rendering may drift)
    capsys.readouterr()
    assert main(["read", str(committed), "--threads", "1"]) == 0
    assert cer(capsys.readouterr().out, truth) < 0.03
