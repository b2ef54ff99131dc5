"""Line readers and training-data checks: formats, normalisation, skipped lines, and the real data when present."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from conftest import HEIGHT
from seqvision.config import DataConfig, EncoderConfig, ModelConfig, SequenceConfig
from seqvision.data.alphabet import Alphabet
from seqvision.data.lines import check_lines
from seqvision.data.loaders import make_loaders
from seqvision.data.readers import read_lines
from seqvision.data.samples import LineSample
from seqvision.errors import DataError
from seqvision.nn.model import SeqModel, build_model
from seqvision.tasks.lines.synth import render_text

TINY_MODEL = ModelConfig(
    height=HEIGHT, encoder=EncoderConfig("small", channels=[8, 16, 16, 16]), sequence=SequenceConfig(hidden=32)
)


def line_image(path: Path, text: str = "hello", width: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = render_text(text, HEIGHT)
    (img.resize((width, HEIGHT)) if width else img).save(path)
    return path


def output_length(model: SeqModel):
    def frames(width: int) -> int:
        import torch

        return int(model.encoder.output_lengths(torch.tensor([width]))[0])

    return frames


# ---------------------------------------------------------------------------------------------- labels.tsv


def test_tsv_relative_paths_and_nfc(tmp_path: Path) -> None:
    line_image(tmp_path / "images" / "a.png")
    decomposed = "caf" + "e\u0301" + "  au\tlait "
    assert len(unicodedata.normalize("NFC", decomposed)) < len(decomposed)
    (tmp_path / "labels.tsv").write_text(f"\ufeffimages/a.png\t{decomposed}\n\nsub/b.png\tb\n", encoding="utf-8")

    report = read_lines(tmp_path / "labels.tsv")
    assert report.skipped == []
    first, second = report.samples
    assert first.image == tmp_path / "images" / "a.png" and first.image.is_file()
    assert first.text == "caf\u00e9 au lait"  # composed é, whitespace collapsed
    assert first.source == f"{tmp_path / 'labels.tsv'}:1"
    assert second.image == tmp_path / "sub" / "b.png"
    assert [s.text for s in read_lines(tmp_path).samples] == [first.text, "b"]  # a folder holding labels.tsv


def test_tsv_bad_lines_skipped_and_counted(tmp_path: Path) -> None:
    rows = [
        b"a.png\tgood one",
        b"b.png\tcaf\xe9 in latin-1",
        b"no tab here",
        b"\tno image name",
        b"c.png\t   ",
        b"",
        b"d.png\tgood two",
    ]
    (tmp_path / "labels.tsv").write_bytes(b"\n".join(rows) + b"\n")
    report = read_lines(tmp_path / "labels.tsv")
    assert [s.text for s in report.samples] == ["good one", "good two"]
    assert len(report.skipped) == 4  # the blank line is not an error
    where = str(tmp_path / "labels.tsv")
    assert report.skipped[0] == f"{where}:2: not valid UTF-8"
    assert report.skipped[1].startswith(f"{where}:3: expected")
    assert report.skipped[2].startswith(f"{where}:4: expected")
    assert report.skipped[3] == f"{where}:5: empty transcription"


# ---------------------------------------------------------------------------------------------- other inputs


def test_gt_txt_sidecars(tmp_path: Path) -> None:
    line_image(tmp_path / "p1" / "l01.png")
    (tmp_path / "p1" / "l01.gt.txt").write_text("first  line\n", encoding="utf-8")
    line_image(tmp_path / "p2" / "l02.png").rename(tmp_path / "p2" / "l02.jpg")
    (tmp_path / "p2" / "l02.gt.txt").write_text("Se\u0301cond", encoding="utf-8")
    (tmp_path / "p2" / "orphan.gt.txt").write_text("no image", encoding="utf-8")
    line_image(tmp_path / "p2" / "blank.png")
    (tmp_path / "p2" / "blank.gt.txt").write_text(" \n", encoding="utf-8")
    line_image(tmp_path / "p2" / "latin1.png")
    (tmp_path / "p2" / "latin1.gt.txt").write_bytes(b"caf\xe9")

    report = read_lines(tmp_path)
    assert [(s.image.name, s.text) for s in report.samples] == [("l01.png", "first line"), ("l02.jpg", "S\u00e9cond")]
    assert len(report.skipped) == 3
    assert any("orphan.gt.txt" in m and "no image" in m for m in report.skipped)
    assert any("blank.gt.txt" in m and "empty" in m for m in report.skipped)
    assert any("latin1.gt.txt" in m and "UTF-8" in m for m in report.skipped)


PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">
  <Page imageFilename="page.png" imageWidth="300" imageHeight="40">
    <TextRegion id="r1"><TextLine id="l1"><Coords points="2,2 290,2 290,38 2,38"/>
      <TextEquiv><Unicode>Cafe\u0301 page</Unicode></TextEquiv></TextLine></TextRegion>
  </Page>
</PcGts>
"""


def test_folder_with_a_broken_page(tmp_path: Path) -> None:
    """A malformed or foreign XML file in a folder is skipped with its name; the other pages still load."""
    line_image(tmp_path / "good" / "page.png", "Cafe page")
    (tmp_path / "good" / "page.xml").write_text(PAGE, encoding="utf-8")
    (tmp_path / "good" / "broken.xml").write_text("<PcGts><Page imageFilename='page.png'>", encoding="utf-8")
    (tmp_path / "good" / "mets.xml").write_text("<mets/>", encoding="utf-8")

    report = read_lines(tmp_path)
    assert [s.text for s in report.samples] == ["Caf\u00e9 page"]
    assert report.samples[0].source.endswith("page.xml:l1") and report.samples[0].polygon
    assert len(report.skipped) == 2
    assert "broken.xml: malformed XML" in report.skipped[0]
    assert "mets.xml: root element <mets>" in report.skipped[1]


def test_missing_or_empty_input(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_lines(tmp_path / "nothing")
    with pytest.raises(DataError, match=r"no labels\.tsv"):
        read_lines(tmp_path)


# ---------------------------------------------------------------------------------------------- training checks


def test_line_too_short_is_skipped(tmp_path: Path) -> None:
    text = "forty characters is too much for 6 pixel"
    assert len(text) == 40
    short = LineSample(line_image(tmp_path / "short.png", "x", width=6), text, "labels.tsv:7")
    good = LineSample(line_image(tmp_path / "good.png", "hello"), "hello", "labels.tsv:8")
    wide = LineSample(line_image(tmp_path / "wide.png", "hello", width=900), "hello", "labels.tsv:9")
    broken = LineSample(tmp_path / "missing.png", "hello", "labels.tsv:10")
    model = build_model(TINY_MODEL, 60)
    alphabet = Alphabet.from_texts([text, "hello"])

    checked = check_lines([short, good, wide, broken], alphabet, HEIGHT, output_length(model), max_width=800)
    assert checked.samples == [good]
    assert checked.widths == [Image.open(good.image).width]
    assert len(checked.skipped) == 3
    assert checked.skipped[0].startswith("labels.tsv:7: line too short") and "40 characters" in checked.skipped[0]
    assert checked.skipped[1].startswith("labels.tsv:9: line wider than data.max_width")
    assert "missing.png" in checked.skipped[2]


def test_unseen_validation_characters_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = [LineSample(line_image(tmp_path / f"t{i}.png", "abc"), "abc", f"t{i}") for i in range(3)]
    val = [LineSample(line_image(tmp_path / "v.png", "abc"), "a\u0416b\u0416c\u00df", "v")]
    alphabet = Alphabet.from_texts(s.text for s in train)
    model = build_model(TINY_MODEL, len(alphabet))
    cfg = DataConfig(batch_size=2, num_workers=0, augment=False)

    loaders = make_loaders(train, val, alphabet, model, HEIGHT, cfg, seed=0, log=None)
    err = capsys.readouterr().err
    assert "3 character(s) never seen in training" in err
    assert "'\u0416'x2" in err
    assert (loaders.train_lines, loaders.val_lines) == (3, 1)
    (batch,) = list(loaders.val)
    assert batch["texts"] == [val[0].text] and int(batch["target_lengths"][0]) == 3  # unknown characters dropped


# ---------------------------------------------------------------------------------------------- real data


def test_hooker_val_labels(shared_data: Path) -> None:
    tsv = shared_data / "hooker" / "val" / "labels.tsv"
    if not tsv.is_file():
        pytest.skip(f"{tsv} not found")
    report = read_lines(tsv)
    assert len(report.samples) == 732 and report.skipped == []
    assert all(s.image.parent == tsv.parent / "images" for s in report.samples)
    assert all(s.text == unicodedata.normalize("NFC", s.text) for s in report.samples)
    assert all(s.image.is_file() for s in report.samples[:20])


def test_real_pages(shared_data: Path) -> None:
    pages = shared_data / "pages"
    if not pages.is_dir():
        pytest.skip(f"{pages} not found")
    # the two small sample folders (pages/hooker, the segmentation set, is read by its own tests)
    report = read_lines(pages / "page-xml")
    alto_report = read_lines(pages / "alto")
    report.samples += alto_report.samples
    report.skipped += alto_report.skipped
    assert len(report.samples) == 97
    page_xml = [s for s in report.samples if "page-xml" in s.source]
    alto = [s for s in report.samples if "alto" in s.source]
    assert page_xml and alto and len(page_xml) + len(alto) == 97
    assert all(s.polygon and len(s.polygon) >= 3 and s.image.is_file() for s in report.samples)
    assert all(m.endswith("empty transcription") for m in report.skipped)
