"""``seqvision compare`` contracts: a tiny study end to end, resumable cells, the stated table columns."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from seqvision.cli.main import main
from seqvision.compare.report import COLUMNS
from seqvision.compare.suite_data import SYNTHETIC, DataRequest
from seqvision.compare.suites import SUITES

TINY = [
    "--set=model.sequence.hidden=32",
    "--set=model.encoder.channels=[8,16,16,16]",
    "--set=data.num_workers=0",
    "--threads=1",
    "--seeds=1",
    "--epochs=1",
    "--max-minutes=0",
    "--batch-size=8",
    "--train-samples=24",
    "--val-samples=8",
]


@pytest.fixture(scope="module")
def fake_mnist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ``mnist.npz`` of 60 stroke images (not MNIST: the tests need no shared data), labels 0-9."""
    rng = np.random.default_rng(0)
    x = np.zeros((60, 28, 28), dtype=np.uint8)
    y = np.arange(60) % 10
    for i, label in enumerate(y):
        x[i, 4:24, 4 + 2 * label : 8 + 2 * label] = 255  # a bar whose position is the class
        x[i] |= (rng.random((28, 28)) < 0.03).astype(np.uint8) * 128
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:10], y_test=y[:10])
    return path


def study(suite: str, data: Path, out: Path, *extra: str) -> int:
    return main(["compare", "--suite", suite, "--data", str(data), "--out", str(out), *TINY, *extra])


@pytest.mark.parametrize("suite", ["mnist", "mnist-seq"])
def test_tiny_suite_end_to_end(suite: str, fake_mnist: Path, tmp_path: Path) -> None:
    assert study(suite, fake_mnist, tmp_path, "--sequences", "none,lstm") == 0
    with (tmp_path / "results.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == COLUMNS
    assert [r["sequence"] for r in rows] == ["none", "lstm"]
    assert int(rows[1]["parameters"]) > int(rows[0]["parameters"])  # the LSTM adds weights
    for r in rows:
        assert 0.0 <= float(r["mean"]) <= 1.0 and float(r["latency_ms_batch1"]) > 0
        assert float(r["mflops_per_sample"]) > 0 and float(r["throughput_per_s"]) > 0
    table = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert "| sequence |" in table and "latency ms (batch 1)" in table and "Budget per cell" in table
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"
    assert len((tmp_path / "cells.csv").read_text().splitlines()) == 3
    assert (tmp_path / "runs" / "lstm-seed0" / "model.safetensors").is_file()


def test_resume_skips_finished_cells(fake_mnist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert study("mnist", fake_mnist, tmp_path, "--sequences", "none,tcn") == 0
    finished = tmp_path / "runs" / "none-seed0" / "cell.json"
    before = finished.read_text()
    (tmp_path / "runs" / "tcn-seed0" / "cell.json").unlink()  # as if interrupted during this cell
    capsys.readouterr()
    assert study("mnist", fake_mnist, tmp_path, "--sequences", "none,tcn") == 0
    err = capsys.readouterr().err
    assert "none seed 0: finished earlier, skipped" in err
    assert "tcn seed 0: training" in err
    assert finished.read_text() == before
    assert json.loads((tmp_path / "runs" / "tcn-seed0" / "cell.json").read_text())["sequence"] == "tcn"
    # a call naming fewer sequence models trains nothing and still reports every finished cell
    assert study("mnist", fake_mnist, tmp_path, "--sequences", "none") == 0
    assert "training" not in capsys.readouterr().err
    with (tmp_path / "results.csv").open(newline="") as fh:
        assert [r["sequence"] for r in csv.DictReader(fh)] == ["none", "tcn"]


def test_video_suite_times_whole_clips(tmp_path: Path) -> None:
    """The video suite generates train and val clips from separate scenes (no leak) and times a whole clip."""
    pytest.importorskip("av")
    argv = ["compare", "--suite", "video", "--sequences", "none,lstm", "--out", str(tmp_path), *TINY]
    assert main(argv) == 0
    cells = {c["sequence"]: c for c in (json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*/cell.json"))}
    assert cells["none"]["input"] == "16x3x32x32" and cells["none"]["metric"] == "val_acc"
    assert cells["lstm"]["gflops"] > cells["none"]["gflops"] > 0.01  # 16 frames through the CNN, then the LSTM
    groups = {
        split: {row.split(",")[2] for row in (tmp_path / "data" / split / "clips.csv").read_text().splitlines()[1:]}
        for split in ("train", "val")
    }
    assert groups["train"] and groups["val"] and not groups["train"] & groups["val"]
    assert "frames x channels x height x width" in (tmp_path / "results.md").read_text(encoding="utf-8")


def test_remeasure_times_again_without_training(fake_mnist: Path, tmp_path: Path, capsys) -> None:
    assert study("mnist", fake_mnist, tmp_path, "--sequences", "none") == 0
    record = tmp_path / "runs" / "none-seed0" / "cell.json"
    cell = json.loads(record.read_text())
    record.write_text(json.dumps({**cell, "latency_ms": -1.0, "throughput": -1.0}))  # as if timed elsewhere
    capsys.readouterr()
    assert main(["compare", "--out", str(tmp_path), "--remeasure"]) == 0
    err = capsys.readouterr().err
    assert "timing again" in err and "training" not in err
    again = json.loads(record.read_text())
    assert again["latency_ms"] > 0 and again["throughput"] > 0
    assert again["value"] == cell["value"] and again["train_seconds"] == cell["train_seconds"]
    with (tmp_path / "results.csv").open(newline="") as fh:
        assert float(next(csv.DictReader(fh))["latency_ms_batch1"]) == again["latency_ms"]


def test_own_line_data(lines_dir: Path, tmp_path: Path) -> None:
    labels = str(lines_dir / "labels.tsv")
    argv = ["compare", "--suite", "lines", "--train", labels, "--val", labels, "--sequences", "gru"]
    argv += ["--out", str(tmp_path), "--set=model.height=32", *TINY]
    assert main(argv) == 0
    assert "| gru |" in (tmp_path / "results.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--suite", "nope"], "unknown suite 'nope'"),
        (["--suite", "mnist", "--sequences", "lstm,nope"], "nope"),
        (["--suite", "mnist", "--data", "/no/such/mnist.npz"], "no such file"),
        (["--suite", "mnist", "--train", "x.tsv"], "both --train and --val"),
        ([], "--suite is required"),
        (["--remeasure"], "no study here"),
    ],
)
def test_bad_input_one_line(extra: list[str], needle: str, tmp_path: Path, capsys) -> None:
    assert main(["compare", "--out", str(tmp_path / "s"), *extra]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("seqvision: error:") and needle in err[0]


def test_other_budget_in_same_folder_refused(fake_mnist: Path, tmp_path: Path, capsys) -> None:
    assert study("mnist", fake_mnist, tmp_path, "--sequences", "none") == 0
    capsys.readouterr()
    argv = ["compare", "--suite", "mnist", "--data", str(fake_mnist), "--out", str(tmp_path), *TINY, "--epochs=2"]
    assert main(argv) == 1
    assert "other settings (epochs)" in capsys.readouterr().err


@pytest.mark.parametrize("sequence", ["none", "lstm", "gru", "tcn", "transformer"])
def test_digits_preset_gives_class_logits(sequence: str) -> None:
    import torch

    from seqvision.nn.model import build_model
    from seqvision.nn.presets import get_preset

    cfg = get_preset("digits-small")
    cfg.sequence.name = sequence
    model = build_model(cfg, 10)
    images, widths = torch.rand(3, 1, cfg.height, 40), torch.tensor([40, 32, 28])
    logits, _ = model(images, widths)
    assert logits.shape == (3, 10) and torch.isfinite(logits).all()
    logits.logsumexp(-1).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_gru_flops_counted_once() -> None:
    """A GRU (3 gates) costs less than an LSTM (4 gates) of the same size; on CPU the counter sees the GRU's
    matmuls itself, and they were once added a second time."""
    from seqvision.nn.flops import forward_gflops
    from seqvision.nn.model import build_model
    from seqvision.nn.presets import get_preset

    flops = {}
    for sequence in ("none", "lstm", "gru"):
        cfg = get_preset("digits-small")
        cfg.sequence.name = sequence
        flops[sequence] = forward_gflops(build_model(cfg, 10), cfg.height, 64)
    assert flops["none"] < flops["gru"] < flops["lstm"]


def test_emotion_suite_splits_by_actor_and_times_both_streams(tmp_path: Path) -> None:
    """The emotion suite trains on some actors, validates on others, and times a clip through both streams."""
    pytest.importorskip("av")
    argv = ["compare", "--suite", "emotion", "--sequences", "none,gru", "--out", str(tmp_path), *TINY]
    assert main([*argv, "--train-samples", "8", "--val-samples", "4"]) == 0
    cells = {c["sequence"]: c for c in (json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*/cell.json"))}
    assert cells["none"]["metric"] == "val_uar" and "log-mel" in cells["none"]["input"]
    assert cells["gru"]["gflops"] > cells["none"]["gflops"] > 0.001
    speakers = {
        split: {row.split(",")[2] for row in (tmp_path / "data" / split / "clips.csv").read_text().splitlines()[1:]}
        for split in ("train", "val")
    }
    assert speakers["train"] and speakers["val"] and not speakers["train"] & speakers["val"]


GENERATED = [name for name, s in SUITES.items() if s.default_source == SYNTHETIC]
SMALL = {"emotion": ["--train-samples", "8", "--val-samples", "4"]}  # two streams: the slowest cells


@pytest.mark.parametrize("name", list(SUITES))
def test_suite_metric_is_one_its_task_logs(name: str) -> None:
    """A suite reports a metric its task logs at validation, with a head its task takes: a typo would only
    show once every cell had trained."""
    from seqvision.nn.presets import get_preset
    from seqvision.tasks import get_task

    suite = SUITES[name]
    task = get_task(suite.task)
    assert suite.metric in task.metric_names and suite.mode in ("max", "min")
    head = get_preset(suite.preset).head.name
    assert task.model_head in (None, head)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_suite_end_to_end(name: str, tmp_path: Path) -> None:
    """Every suite on generated data: a tiny study writes one cell per sequence model, timed on a whole clip."""
    pytest.importorskip("av")
    argv = ["compare", "--suite", name, "--sequences", "none,gru", "--out", str(tmp_path), *TINY, *SMALL.get(name, [])]
    assert main(argv) == 0
    cells = {c["sequence"]: c for c in (json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*/cell.json"))}
    assert sorted(cells) == ["gru", "none"]
    for cell in cells.values():
        assert cell["metric"] == SUITES[name].metric and np.isfinite(cell["value"])
        assert cell["input"].startswith("16x" if name in ("video", "emotion") else "24x")
    assert cells["gru"]["parameters"] > cells["none"]["parameters"]
    assert cells["gru"]["gflops"] > cells["none"]["gflops"] > 0.001
    with (tmp_path / "results.csv").open(newline="") as fh:
        assert [r["sequence"] for r in csv.DictReader(fh)] == ["none", "gru"]


def _groups(name: str, train: str, val: str) -> tuple[set[str], set[str]]:
    """Who is in each split: walkers (gait: subject folders), scenes (sound: the group column)."""
    if name == "gait":
        found = [{p.name for p in Path(split).iterdir() if p.is_dir()} for split in (train, val)]
    else:
        found = [{row.split(",")[1] for row in Path(split).read_text().splitlines()[1:]} for split in (train, val)]
    return found[0], found[1]


@pytest.mark.parametrize("name", ["gait", "sound"])
def test_generated_data_held_apart_and_written_once(name: str, tmp_path: Path) -> None:
    """Validation walkers / scenes are never training ones; the same request again reuses the data, other
    counts write it anew (no stale clip left from before)."""
    pytest.importorskip("av")
    suite = SUITES[name]
    request = DataRequest(SYNTHETIC, tmp_path, 16, 8)
    train, val = suite.build(request)
    seen, held = _groups(name, train, val)
    assert len(seen) >= 2 and len(held) >= 2 and not seen & held
    stamp = (tmp_path / "data.json").stat().st_mtime_ns
    first = sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file() and p.name != "data.json")
    assert suite.build(request) == (train, val) and (tmp_path / "data.json").stat().st_mtime_ns == stamp
    assert sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file() and p.name != "data.json") == first
    train, val = suite.build(DataRequest(SYNTHETIC, tmp_path, 8, 8))
    assert len(_groups(name, train, val)[0]) == len(seen) // 2  # half the walkers (gait) or scenes (sound) left
