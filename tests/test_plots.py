"""Charts by matplotlib (the [plot] extra): each PNG is written with its curves, and without matplotlib
a training run or a study skips its chart in one line while a verb that was asked for one refuses it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import TINY
from seqvision.cli.main import main
from seqvision.compare.report import plot
from seqvision.tasks.lines.calibration import RELIABILITY_COLOURS, reliability_plot
from seqvision.training.plot import COLOURS, PlotUnavailable, check_plotting, plot_confusion, plot_curves, write_curves

pytest.importorskip("matplotlib")


def block_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import matplotlib`` (and its submodules) fail, as where the extra is not installed."""
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)


def pixels_near(img: Image.Image, colour: str, tolerance: int = 40) -> int:
    """How many pixels of ``img`` are within ``tolerance`` (per channel) of the ``#rrggbb`` colour."""
    rgb = np.asarray(img.convert("RGB"), dtype=np.int16)
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    return int((np.abs(rgb - target).max(axis=-1) <= tolerance).sum())


def metrics_csv(path: Path, epochs: int = 6) -> Path:
    rows = ["epoch,step,train_loss_epoch,val_loss,val_cer,val_wer"]
    for e in range(epochs):
        rows.append(f"{e},{10 * e},{3 / (e + 1)},{3.5 / (e + 1)},,")
        rows.append(f"{e},{10 * e},,,{0.9 / (e + 1)},{1 / (e + 1) ** 0.5}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_curves_png_has_both_panels_and_their_curves(tmp_path: Path) -> None:
    png = tmp_path / "curves.png"
    plot_curves([metrics_csv(tmp_path / "metrics.csv")], png)
    with Image.open(png) as img:
        assert img.format == "PNG" and img.size == (900, 360)
        left, right = img.crop((0, 0, 450, 360)), img.crop((450, 0, 900, 360))
        for panel in (left, right):  # first series blue, second red, in each panel
            assert pixels_near(panel, COLOURS[0]) > 200 and pixels_near(panel, COLOURS[1]) > 200
        assert pixels_near(img, "#ffffff", 0) < 0.97 * 900 * 360  # not blank


def test_empty_metrics_still_give_a_png(tmp_path: Path) -> None:
    empty = tmp_path / "metrics.csv"
    empty.write_text("epoch,step,train_loss_step\n0,1,2.0\n", encoding="utf-8")  # no epoch-level values
    plot_curves([empty], tmp_path / "curves.png")
    with Image.open(tmp_path / "curves.png") as img:
        assert img.size == (900, 360) and pixels_near(img, COLOURS[0]) == 0


def test_confusion_reliability_and_study_charts(tmp_path: Path) -> None:
    plot_confusion([[5, 1, 0], [2, 3, 1], [0, 0, 6]], ["circle", "square", "a long label"], tmp_path / "c.png")
    rng = np.random.default_rng(0)
    conf = rng.random(300)
    right = list(rng.random(300) < conf)
    reliability_plot(tmp_path / "r.png", {"before": (list(conf), right), "after": (list(conf**1.3), right)})
    rows = [
        {"sequence": "lstm", "mean": 0.12, "std": 0.01, "latency_ms_batch1": 3.0},
        {"sequence": "none", "mean": 0.30, "std": 0.0, "latency_ms_batch1": 1.0},
    ]
    plot(rows, "CER", tmp_path / "s.png")
    with Image.open(tmp_path / "c.png") as img:
        assert img.format == "PNG" and min(img.size) > 200
        assert pixels_near(img, "#08306b", 30) > 500  # the darkest Blues cell: the diagonal's 6 of 6
    with Image.open(tmp_path / "r.png") as img:
        assert img.size == (640, 640)
        assert all(pixels_near(img, c) > 300 for c in RELIABILITY_COLOURS[:2])  # both curves drawn
    with Image.open(tmp_path / "s.png") as img:
        assert img.size == (720, 440) and pixels_near(img, COLOURS[0]) > 50 and pixels_near(img, COLOURS[1]) > 50


def test_without_matplotlib_curves_are_skipped_in_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    block_matplotlib(monkeypatch)
    with pytest.raises(PlotUnavailable, match=r"pip install 'seqvision\[plot\]'"):
        check_plotting()
    assert write_curves([metrics_csv(tmp_path / "metrics.csv")], tmp_path / "curves.png", ("val_cer",)) is False
    assert capsys.readouterr().out == "curves.png skipped: install seqvision[plot]\n"
    assert not (tmp_path / "curves.png").exists()
    with pytest.raises(PlotUnavailable):
        reliability_plot(tmp_path / "r.png", {"x": ([0.5], [True])})


def test_training_run_without_matplotlib(lines_dir: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    block_matplotlib(monkeypatch)
    out = tmp_path / "run"
    argv = ["train", "--train", str(lines_dir / "labels.tsv"), "--out", str(out), "--epochs", "1", "--seed", "0"]
    assert main([*argv, *TINY, "--set=data.augment=false"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed.count("curves.png skipped: install seqvision[plot]") == 1
    assert (out / "model.safetensors").is_file() and (out / "metrics.csv").is_file()
    assert not (out / "curves.png").exists()


def test_calibrate_plot_without_matplotlib_is_one_line_before_any_work(tmp_path: Path, capsys, monkeypatch) -> None:
    block_matplotlib(monkeypatch)
    missing = tmp_path / "no-such-labels.tsv"  # never read: the plot check comes first
    argv = ["calibrate", "print-en", str(missing), "--out", str(tmp_path / "c"), "--plot", str(tmp_path / "r.png")]
    assert main(argv) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "seqvision[plot]" in err[0] and "Traceback" not in err[0]


def test_plot_module_imports_matplotlib_only_when_drawing() -> None:
    # (``seqvision --help`` imports Lightning, whose torchmetrics imports pyplot wherever matplotlib is
    # installed; seqvision's own modules leave it to the first chart)
    code = "import sys, seqvision.training.plot\nprint('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
