"""``seqvision`` CLI contracts: a train -> eval -> read round trip, resume, and one clear line for every bad input."""

from __future__ import annotations

import csv
import json
import math
import random
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

import seqvision.nn.model
import seqvision.nn.presets  # noqa: F401  (fill the registries)
from conftest import HEIGHT, TINY
from seqvision import __version__
from seqvision.checkpoint import save_model
from seqvision.cli.main import main
from seqvision.config import load_yaml
from seqvision.registry import ENCODERS, HEADS, PRESETS, SEQUENCES, SPATIAL_SEQUENCES
from seqvision.tasks.lines.predictor import Recognizer
from seqvision.tasks.lines.synth import render_text


def one_error(err: str, rc: int, *needles: str, only_line: bool = True) -> str:
    """Assert a clean failure: non-zero exit, no traceback, one ``seqvision: error:`` line holding ``needles``."""
    assert rc != 0
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("seqvision: error:")]
    assert len(errors) == 1, err
    if only_line:
        assert err.strip().splitlines() == errors, err
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def metric_rows(run: Path) -> list[dict[str, str]]:
    """Every row of a run's CSV logs (a resumed run may keep earlier segments as ``metrics-*.csv``)."""
    rows = []
    for path in sorted(run.glob("metrics*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            rows += list(csv.DictReader(fh))
    return rows


def validated_epochs(rows: list[dict[str, str]]) -> set[int]:
    return {int(r["epoch"]) for r in rows if r.get("val_cer")}


# ---------------------------------------------------------------------------------------------- round trip


def test_run_folder(trained_run: Path) -> None:
    for name in ("config.yaml", "metrics.csv", "curves.png", "model.safetensors", "model.json", "alphabet.json"):
        assert (trained_run / name).is_file(), name
    assert (trained_run / "checkpoints" / "last.ckpt").is_file()
    assert Image.open(trained_run / "curves.png").size[0] > 0

    cfg = load_yaml(trained_run / "config.yaml")
    assert cfg["model"]["height"] == HEIGHT
    assert cfg["model"]["sequence"]["hidden"] == 32
    assert cfg["model"]["encoder"]["channels"] == [8, 16, 16, 16]
    assert cfg["data"]["num_workers"] == 0
    assert cfg["data"]["augment"] is False
    assert cfg["train"]["epochs"] == 2
    assert cfg["train"]["lr"] == pytest.approx(0.005)

    meta = json.loads((trained_run / "model.json").read_text(encoding="utf-8"))
    assert meta["architecture"]["height"] == HEIGHT
    assert meta["architecture"]["sequence"]["hidden"] == 32
    assert meta["alphabet"] == json.loads((trained_run / "alphabet.json").read_text(encoding="utf-8"))
    assert meta["input"]["height"] == HEIGHT
    assert meta["input"]["normalisation"]
    assert meta["seqvision_version"] == __version__
    assert {"val_cer", "val_wer"} <= set(meta["metrics"])

    assert validated_epochs(metric_rows(trained_run)) == {0, 1}


def test_eval_json(trained_run: Path, lines_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    predictions = trained_run.parent / "predictions.tsv"
    argv = ["eval", str(trained_run), str(lines_dir / "labels.tsv"), "--json", "--threads", "1"]
    assert main([*argv, "--predictions", str(predictions)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"cer", "wer", "lines", "seconds"} <= set(result)
    assert result["lines"] == 40 and result["skipped"] == 0
    assert 0.0 <= result["cer"] < 5 and 0.0 <= result["wer"] < 5
    assert math.isfinite(result["seconds"]) and result["seconds"] >= 0
    assert len(predictions.read_text(encoding="utf-8").splitlines()) == 40


def test_eval_text(trained_run: Path, lines_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(trained_run / "model.safetensors"), str(lines_dir), "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CER ") and "on 40 lines" in out


@pytest.mark.parametrize("model", ["missing-run", "unfinished-run"])
def test_eval_names_a_model_that_is_not_there(
    model: str, lines_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``eval MODEL DATA`` with a model path that holds no model: one line about the model, not "two data paths"."""
    path = tmp_path / model
    if model == "unfinished-run":  # training started, no validation yet
        path.mkdir()
        (path / "config.yaml").write_text("task: text_lines\n")
    assert main(["eval", str(path), str(lines_dir)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    expected = "no such model file" if model == "missing-run" else "a run folder without model.safetensors yet"
    assert len(err) == 1 and err[0].startswith(f"seqvision: error: {path}: {expected}")


def test_read_plain(trained_run: Path, lines_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = lines_dir / "images" / "000000.png"
    assert main(["read", str(trained_run), str(image)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1  # just the text, possibly empty for a tiny model

    images = [str(p) for p in sorted((lines_dir / "images").glob("*.png"))[:3]]
    assert main(["read", str(trained_run / "model.json"), *images]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == images


def test_inputs_may_follow_options(trained_run: Path, lines_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``read MODEL --option IMAGES``: argparse alone would refuse the images after the option."""
    images = [str(p) for p in sorted((lines_dir / "images").glob("*.png"))[:2]]
    assert main(["read", str(trained_run), "--batch-size", "2", *images]) == 0
    assert [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()] == images
    assert main(["eval", str(trained_run), "--batch-size", "2", str(lines_dir)]) == 0
    assert "CER " in capsys.readouterr().out
    assert main(["read", str(trained_run), "--no-such-option", images[0]]) == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


@pytest.fixture(scope="module")
def reads_e(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with its head rigged to emit 'e' on every frame, so what it reads is known."""
    rec = Recognizer.load(trained_run)
    with torch.no_grad():
        rec.model.head.proj.weight.zero_()
        rec.model.head.proj.bias.fill_(-6.0)
        rec.model.head.proj.bias[rec.alphabet.index["e"]] = 6.0
    return save_model(tmp_path_factory.mktemp("rigged") / "reads-e", rec.model, rec.metadata)


def test_read_json(reads_e: Path, lines_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = [str(p) for p in sorted((lines_dir / "images").glob("*.png"))[:4]]
    assert main(["read", str(reads_e), *images, "--json"]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["image"] for r in results] == images
    for r in results:
        assert r["text"] == "e"
        assert 0.99 < r["confidence"] <= 1.0
        (char,) = r["chars"]
        assert char["char"] == "e" and 0.99 < char["confidence"] <= 1.0
        width = Image.open(r["image"]).width
        assert r["width"] == width
        assert (char["x0"], char["x1"]) == (0, width)  # fired on every frame: the whole line, in its own pixels
        (word,) = r["words"]
        assert word["text"] == "e" and (word["x0"], word["x1"]) == (0, width)

    assert main(["read", str(reads_e), images[0]]) == 0
    assert capsys.readouterr().out == "e\n"


def test_models_lists_every_component(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert SPATIAL_SEQUENCES.names()  # filled by `models` itself, or by any import of the forecast task
    for registry in (PRESETS, ENCODERS, SEQUENCES, SPATIAL_SEQUENCES, HEADS):
        for name in registry:
            assert f"  {name} " in out, name
    bundled = out.split("bundled models:")[1].splitlines()
    assert any(line.split()[0] == "print-en" and line.endswith("(default)") for line in bundled if line.strip())
    assert any(line.split()[0] == "hooker-en" for line in bundled if line.strip())
    assert any(line.split()[0] == "lines-seg" and "page segmenter" in line for line in bundled if line.strip())


@pytest.mark.filterwarnings("ignore:The dirpath has changed")  # the run folder was copied
def test_resume_trains_another_epoch(trained_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "resumed"
    shutil.copytree(trained_run, run)
    assert main(["train", "--resume", str(run), "--epochs", "3", "--quiet"]) == 0
    assert validated_epochs(metric_rows(run)) == {0, 1, 2}
    with (run / "metrics.csv").open(newline="", encoding="utf-8") as fh:
        assert 2 in validated_epochs(list(csv.DictReader(fh)))
    assert load_yaml(run / "config.yaml")["train"]["epochs"] == 3


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------- bad input


@pytest.fixture
def bad(tmp_path: Path, trained_run: Path) -> Path:
    """A folder of broken inputs, one of each kind."""
    rng = random.Random(0)
    (tmp_path / "corrupt.png").write_bytes(rng.randbytes(300))
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "empty.tsv").write_bytes(b"")
    (tmp_path / "allbad.tsv").write_bytes(b"images/a.png\tcaf\xe9 latin-1\nno tab on this line\n")
    (tmp_path / "broken.xml").write_text("<PcGts><Page imageFilename='page.png'>", encoding="utf-8")
    weights = (trained_run / "model.safetensors").read_bytes()
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    (tmp_path / "random").mkdir()
    (tmp_path / "random" / "model.safetensors").write_bytes(rng.randbytes(4000))
    save_file({"weight": torch.zeros(3)}, str(tmp_path / "foreign.safetensors"))
    (tmp_path / "afile").write_text("not a folder", encoding="utf-8")
    (tmp_path / "cfgdir").mkdir()
    (tmp_path / "bad.yaml").write_text("model: [1, 2\n", encoding="utf-8")
    return tmp_path


BAD_CASES = {
    # read
    "read missing image": (["read", "{model}", "{bad}/missing.png"], ["missing.png", "not found"]),
    "read corrupt image": (["read", "{model}", "{bad}/corrupt.png"], ["corrupt.png", "not a readable image"]),
    "read empty image": (["read", "{model}", "{bad}/empty.png"], ["empty.png"]),
    "read folder as image": (["read", "{model}", "{bad}/cfgdir"], ["cfgdir"]),
    "truncated model": (["read", "{bad}/half", "{image}"], ["half/model.safetensors", "truncated"]),
    "random model file": (["read", "{bad}/random/model.safetensors", "{image}"], ["random/model.safetensors"]),
    "foreign safetensors": (["read", "{bad}/foreign.safetensors", "{image}"], ["foreign", "not a seqvision model"]),
    "missing model": (["read", "{bad}/nomodel.safetensors", "{image}"], ["nomodel", "no such model"]),
    "model folder without model": (["read", "{bad}/cfgdir", "{image}"], ["cfgdir"]),
    # eval
    "eval missing data": (["eval", "{model}", "{bad}/nodata"], ["nodata", "no such file"]),
    "eval empty tsv": (["eval", "{model}", "{bad}/empty.tsv"], ["empty.tsv"]),
    "eval malformed xml": (["eval", "{model}", "{bad}/broken.xml"], ["broken.xml", "malformed XML"]),
    "eval empty folder": (["eval", "{model}", "{bad}/cfgdir"], ["cfgdir"]),
    "eval foreign model": (["eval", "{bad}/foreign.safetensors", "{data}"], ["not a seqvision model"]),
    "eval unwritable predictions": (
        ["eval", "{model}", "{data}", "--predictions", "{bad}/afile/p.tsv"],
        ["afile/p.tsv", "cannot write"],
    ),
    # train: configuration
    "unknown preset": (["train", "--preset", "nope", "--train", "{data}", "--out", "{bad}/r"], ["'nope'", "crnn"]),
    "misspelt key": (
        ["train", "--set", "model.sequence.nme=gru", "--train", "{data}", "--out", "{bad}/r"],
        ["model.sequence.nme", "'name'"],
    ),
    "wrong value type": (["train", "--set", "model.height=tall", "--train", "{data}", "--out", "{bad}/r"], ["height"]),
    "unknown component": (
        ["train", "--set", "model.sequence.name=nope", "--train", "{data}", "--out", "{bad}/r", *TINY],
        ["'nope'", "lstm"],
    ),
    "missing config": (
        ["train", "--config", "{bad}/none.yaml", "--train", "{data}", "--out", "{bad}/r"],
        ["none.yaml"],
    ),
    "config is a folder": (["train", "--config", "{bad}/cfgdir", "--train", "{data}", "--out", "{bad}/r"], ["cfgdir"]),
    "config not yaml": (["train", "--config", "{bad}/bad.yaml", "--train", "{data}", "--out", "{bad}/r"], ["bad.yaml"]),
    "no out": (["train", "--train", "{data}"], ["--out"]),
    "resume missing": (["train", "--resume", "{bad}/norun"], ["norun", "not a run folder"]),
    # train: data and output
    "train missing data": (["train", "--train", "{bad}/nodata", "--out", "{bad}/r", *TINY], ["nodata"]),
    "train empty tsv": (["train", "--train", "{bad}/empty.tsv", "--out", "{bad}/r", *TINY], ["empty.tsv"]),
    "train malformed xml": (["train", "--train", "{bad}/broken.xml", "--out", "{bad}/r", *TINY], ["broken.xml"]),
    "out below a file": (["train", "--train", "{data}", "--out", "{bad}/afile/run", *TINY], ["afile", "not writable"]),
    "out is a file": (["train", "--train", "{data}", "--out", "{bad}/afile", *TINY], ["afile", "not writable"]),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_one_clear_line(
    case: str, bad: Path, trained_run: Path, lines_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template, needles = BAD_CASES[case]
    values = {
        "model": str(trained_run),
        "bad": str(bad),
        "image": str(lines_dir / "images" / "000000.png"),
        "data": str(lines_dir / "labels.tsv"),
    }
    capsys.readouterr()
    rc = main([arg.format(**values) for arg in template])
    one_error(capsys.readouterr().err, rc, *needles)


@pytest.mark.parametrize("command", ["train", "eval"])
def test_every_line_bad(command: str, bad: Path, trained_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Skipped lines are listed as warnings, then one error line says nothing was left."""
    data = str(bad / "allbad.tsv")
    argv = (
        ["train", "--train", data, "--out", str(bad / "r"), *TINY]
        if command == "train"
        else ["eval", str(trained_run), data]
    )
    rc = main(argv)
    err = capsys.readouterr().err
    one_error(err, rc, "allbad.tsv", "2 skipped", only_line=False)
    assert "allbad.tsv:1: not valid UTF-8" in err
    assert "allbad.tsv:2: expected 'image<TAB>text'" in err


def test_eval_folder_of_broken_pages(trained_run: Path, bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pages = bad / "pages"
    pages.mkdir()
    shutil.copy(bad / "broken.xml", pages / "broken.xml")
    rc = main(["eval", str(trained_run), str(pages)])
    err = capsys.readouterr().err
    one_error(err, rc, "pages", "1 skipped", only_line=False)
    assert "broken.xml: malformed XML" in err


def test_train_every_image_bad(bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = "corrupt.png\tsome text\nempty.png\tmore text\nmissing.png\tyet more\n"
    (bad / "labels.tsv").write_text(rows, encoding="utf-8")
    rc = main(["train", "--train", str(bad / "labels.tsv"), "--out", str(bad / "r"), *TINY])
    err = capsys.readouterr().err
    assert rc != 0 and "Traceback" not in err
    assert "no training line is usable" in err
    for name in ("corrupt.png", "empty.png", "missing.png"):
        assert name in err


def test_resume_truncated_checkpoint(trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    last = run / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:3000])
    rc = main(["train", "--resume", str(run), "--epochs", "3", *TINY])
    one_error(capsys.readouterr().err, rc, "last.ckpt", "truncated")


def test_read_good_and_bad(trained_run: Path, lines_dir: Path, bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = str(lines_dir / "images" / "000001.png")
    rc = main(["read", str(trained_run), good, str(bad / "corrupt.png")])
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{good}\t") and len(captured.out.splitlines()) == 1
    one_error(captured.err, rc, "corrupt.png")


# ---------------------------------------------------------------------------------------------- messy data


@pytest.fixture
def messy(tmp_path: Path, lines_dir: Path) -> Path:
    """The synthetic lines plus five bad ones: bad UTF-8, no tab, missing image, corrupt image, too short."""
    folder = tmp_path / "messy"
    shutil.copytree(lines_dir, folder)
    (folder / "images" / "corrupt.png").write_bytes(random.Random(1).randbytes(200))
    render_text("x", HEIGHT).resize((6, HEIGHT)).save(folder / "images" / "short.png")
    with (folder / "labels.tsv").open("ab") as fh:
        fh.write(b"images/000000.png\tbad \xff utf-8\n")
        fh.write(b"images/000001.png has no tab\n")
        fh.write(b"images/gone.png\tthe image is missing\n")
        fh.write(b"images/corrupt.png\tthe image is corrupt\n")
        fh.write(b"images/short.png\t" + b"far too many characters for six pixels!!" + b"\n")
    return folder


def test_train_skips_bad_lines(messy: Path, lines_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = messy.parent / "run"
    argv = ["train", "--train", str(messy), "--val", str(lines_dir / "labels.tsv"), "--out", str(out), "--epochs", "1"]
    assert main([*argv, *TINY]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "skipped 2 line(s)" in captured.err  # unreadable TSV lines
    assert "skipped 3 line(s)" in captured.err  # missing, corrupt and too-short images
    assert "40 train / 40 val lines" in captured.out
    skipped = (out / "skipped.txt").read_text(encoding="utf-8")
    assert len(skipped.splitlines()) == 5
    for what in ("labels.tsv:41", "labels.tsv:42", "gone.png", "corrupt.png", "labels.tsv:45: line too short"):
        assert what in skipped, what
    assert (out / "model.safetensors").is_file()


def test_eval_skips_bad_lines(trained_run: Path, messy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(trained_run), str(messy / "labels.tsv"), "--json", "--threads", "1"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["skipped"] == 4  # the short line is readable, so it is evaluated
    assert result["lines"] == 41
    assert "Traceback" not in captured.err
    for what in ("labels.tsv:41", "labels.tsv:42", "gone.png", "corrupt.png"):
        assert what in captured.err, what


def test_read_and_eval_default_to_print_en(lines_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = str(lines_dir / "images" / "000001.png")
    assert main(["read", image]) == 0
    default = capsys.readouterr().out
    assert main(["read", "print-en", image]) == 0
    assert capsys.readouterr().out == default
    assert main(["read", "-m", "print-en", image]) == 0
    assert capsys.readouterr().out == default and default.strip()
    assert main(["eval", str(lines_dir / "labels.tsv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"].endswith("print-en.safetensors")


def test_a_model_without_inputs_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", "print-en"]) == 1
    assert "is a model; give the images" in capsys.readouterr().err
    assert main(["eval", "print-en"]) == 1
    assert "is a model; give the labelled data" in capsys.readouterr().err
