"""The synthetic line generator: texts, fonts, determinism, degradations, the `synth` command, and
agreement between rendered labels and what the bundled print-en model reads."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqvision.cli.main import main
from seqvision.data.readers import read_lines
from seqvision.errors import DataError
from seqvision.tasks.lines.metrics import ErrorRates
from seqvision.tasks.lines.predictor import Recognizer
from seqvision.tasks.lines.synth import CHARSET, HELD_OUT, LineGenerator, find_fonts, load_corpus, write_dataset
from seqvision.tasks.lines.synth.text import TextSampler

ROOT = Path(__file__).resolve().parents[1]


def test_texts_fit_the_charset_and_vary() -> None:
    sampler, rng = TextSampler(load_corpus()), random.Random(0)
    lines = [sampler.line(rng) for _ in range(400)]
    assert all(0 < len(t) <= 80 and set(t) <= set(CHARSET) for t in lines)
    assert min(map(len, lines)) <= 12 and max(map(len, lines)) >= 70  # one word up to a full line
    joined = "".join(lines)
    for kind in (str.isdigit, str.isupper, str.islower, lambda c: c in ".,;:'\"$%-"):
        assert sum(map(kind, joined)) > 20
    assert len(set(lines)) == len(lines)


def test_short_max_chars_is_respected() -> None:
    sampler, rng = TextSampler(load_corpus(), max_chars=10), random.Random(1)
    assert all(len(sampler.line(rng)) <= 10 for _ in range(200))


def test_generator_is_deterministic_per_seed_and_index(fonts) -> None:
    a, b = LineGenerator(fonts, seed=7, height=32), LineGenerator(fonts, seed=7, height=32)
    for i in (0, 5, 3):  # order of access does not matter
        img_a, text_a, font_a = a[i]
        img_b, text_b, font_b = b[i]
        assert text_a == text_b and font_a == font_b and img_a.tobytes() == img_b.tobytes()
    assert LineGenerator(fonts, seed=8)[0][1] != a[0][1]


def test_degraded_lines_are_real_images(fonts) -> None:
    gen = LineGenerator(fonts, seed=0, height=40)
    for i in range(30):
        img, text, _ = gen[i]
        pixels = np.asarray(img)
        assert img.mode == "L" and img.height == 40 and img.width >= 8
        assert pixels.std() > 5, f"line {i} ({text!r}) is blank"


def test_write_dataset_same_files_whatever_the_workers(fonts, tmp_path: Path) -> None:
    one = write_dataset(tmp_path / "one", 12, fonts, seed=3, height=32, workers=1)
    two = write_dataset(tmp_path / "two", 12, fonts, seed=3, height=32, workers=2)
    assert one.read_text() == two.read_text()
    for name in sorted((tmp_path / "one" / "images").iterdir()):
        assert name.read_bytes() == (tmp_path / "two" / "images" / name.name).read_bytes()
    report = read_lines(one)
    assert len(report.samples) == 12 and not report.skipped
    listed = (tmp_path / "one" / "fonts.tsv").read_text().splitlines()
    assert len(listed) == len(fonts) and sum(int(row.split("\t")[2]) for row in listed) == 12


def test_held_out_fonts_are_disjoint_from_training_fonts() -> None:
    try:
        held, train = find_fonts(include=HELD_OUT), find_fonts(exclude=HELD_OUT)
    except DataError as exc:
        pytest.skip(f"needs the Debian font packages that `make install` adds: {exc}")
    assert {f.family for f in held}.isdisjoint(f.family for f in train)
    assert not any("Math" in f.family or "Smallcaps" in f.family for f in train)


def test_no_fonts_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no usable fonts"):
        find_fonts(folder=tmp_path / "empty")
    assert main(["synth", "--out", str(tmp_path / "out"), "--font-dir", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("seqvision: error:") and "no usable fonts" in err and len(err.splitlines()) == 1
    assert main(["synth", "--out", str(tmp_path / "out"), "--fonts", "No Such Family"]) == 1
    assert "No Such Family" in capsys.readouterr().err
    assert not (tmp_path / "out" / "labels.tsv").exists()


def test_synth_command_round_trip(fonts, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["synth", "--out", str(tmp_path / "d"), "--lines", "6", "--seed", "2", "--height", "32"]
    assert main([*argv, "--fonts", "DejaVu Sans", "--workers", "1"]) == 0
    assert "labels.tsv" in capsys.readouterr().out
    samples = read_lines(tmp_path / "d" / "labels.tsv").samples
    assert len(samples) == 6 and all(s.image.is_file() for s in samples)
    assert (tmp_path / "d" / "synth.json").is_file()
    assert main(["synth", "--out", str(tmp_path / "x"), "--list-fonts", "--held-out", "only"]) == 0
    listed = capsys.readouterr().out
    assert "Caladea" in listed and "DejaVu" not in listed
    assert main(["synth", "--out", str(tmp_path / "x"), "--lines", "0"]) == 1


def test_print_en_reads_clean_rendered_lines(tmp_path: Path) -> None:
    """Labels agree with images: the bundled model reads clean lines in unseen fonts nearly perfectly."""
    try:
        held = find_fonts(include=HELD_OUT)
    except DataError as exc:
        pytest.skip(f"needs the Debian font packages that `make install` adds: {exc}")
    gen = LineGenerator(held, seed=11, height=48, clean=True, max_chars=40)
    rec = Recognizer.load("print-en")
    rates = ErrorRates()
    for i in range(40):
        img, text, _ = gen[i]
        rates.update(rec.read([img])[0].text, text)
    assert rates.cer < 0.08, f"print-en CER {rates.cer:.3f} on clean lines in held-out fonts"


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed (make install adds it)")
def test_vs_tesseract_benchmark_runs_on_five_lines(tmp_path: Path) -> None:
    out = tmp_path / "vs.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "vs_tesseract.py"), "--limit", "5", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "**ratio seqvision (print-en, torch, greedy) / tesseract**" in done.stdout
    rows = json.loads(out.read_text())["rows"]
    by_set: dict[str, set[str]] = {}
    for row in rows:
        assert row["lines"] == 5 and row["cer"] >= 0 and row["lines_per_s"] > 0
        by_set.setdefault(row["set"], set()).add(row["system"].split(" ")[0])
    assert all({"seqvision", "tesseract"} <= systems for systems in by_set.values())
    if (ROOT.parent / "shared" / "data" / "printed" / "ehri_en" / "val").is_dir():  # the real printed sets
        assert "ehri_en val (typewritten scans)" in by_set and "sroie val (receipts, case-folded)" in by_set


def test_unwritable_output_is_a_clear_error(fonts, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("not a folder")
    assert main(["synth", "--out", str(tmp_path / "file" / "sub"), "--lines", "3", "--fonts", "DejaVu Sans"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("seqvision: error:") == 1 and "file/sub" in err
