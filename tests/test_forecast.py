"""Forecasting: Moving MNIST generator, radar decoding and masking, frame arrays, metrics, and CLI round trips.

The tiny training run learns a square moving at constant speed and must beat persistence (repeat
the last frame), which an untrained model equals exactly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from seqvision.cli.main import main
from seqvision.errors import DataError
from seqvision.tasks.forecast.arrays import read_frames
from seqvision.tasks.forecast.metrics import ForecastScores, ssim
from seqvision.tasks.forecast.module import masked_mse
from seqvision.tasks.forecast.moving_mnist import MovingMnist, moving_mnist_sequence
from seqvision.tasks.forecast.normalise import Normalisation
from seqvision.tasks.forecast.radar import decode, downsample, marshall_palmer, read_event
from seqvision.tasks.forecast.windows import FrameWindows, Source, find_windows

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
RADAR = SHARED / "radar"
needs_radar = pytest.mark.skipif(not (RADAR / "knmi_20100826.npz").is_file(), reason="../shared/data/radar absent")


# -------------------------------------------------------------------------------------- Moving MNIST


def test_moving_mnist_is_deterministic_and_keeps_both_digits_in_frame() -> None:
    digits = np.zeros((4, 28, 28), np.uint8)
    digits[:, 4:24, 10:18] = 255  # a bar 20x8 px, 160 lit pixels
    a = moving_mnist_sequence(digits, 20, seed=3)
    assert a.shape == (20, 64, 64) and a.dtype == np.uint8
    assert np.array_equal(a, moving_mnist_sequence(digits, 20, seed=3))
    assert not np.array_equal(a, moving_mnist_sequence(digits, 20, seed=4))
    lit = (a > 0).reshape(20, -1).sum(1)
    assert (lit >= 160).all() and (lit <= 320).all()  # never cut by the border: bounced, not clipped
    assert not np.array_equal(a[0], a[-1])  # it moves


def test_moving_mnist_dataset_items() -> None:
    digits = np.random.default_rng(0).integers(0, 256, (10, 28, 28), dtype=np.uint8)
    fixed = MovingMnist(digits, 5, seed=1, frames_in=3, frames_out=2)
    item = fixed[2]
    assert item["inputs"].shape == (3, 1, 64, 64) and item["targets"].shape == (2, 1, 64, 64)
    assert float(item["inputs"].min()) >= 0 and float(item["inputs"].max()) <= 1
    assert torch.equal(fixed[2]["inputs"], item["inputs"])  # a fixed set: the same sequence every time
    fresh = MovingMnist(digits, 5, seed=1, frames_in=3, frames_out=2, fresh=True)
    assert not torch.equal(fresh[2]["inputs"], fresh[2]["inputs"])  # training: a new sequence per draw


@pytest.mark.skipif(not (SHARED / "mnist.npz").is_file(), reason="../shared/data/mnist.npz absent")
def test_moving_mnist_from_real_digits_has_a_fixed_test_set() -> None:
    from seqvision.tasks.forecast.moving_mnist import test_set, train_val

    a, b = test_set(SHARED / "mnist.npz", n=3), test_set(SHARED / "mnist.npz", n=3)
    assert len(a) == 3 and torch.equal(a[2]["targets"], b[2]["targets"])  # the same on every call and machine
    assert a[0]["inputs"].shape == (10, 1, 64, 64) and float(a[0]["inputs"].max()) > 0.9
    train, val = train_val(SHARED / "mnist.npz", n=50, seed=0, frames_in=10, frames_out=10)
    assert len(train) == 50 and len(val) == 5
    assert not np.shares_memory(train.digits, val.digits) and len(train.digits) + len(val.digits) == 60000


# ---------------------------------------------------------------------------------------------- radar


def test_radar_decoding_per_provider() -> None:
    rain, valid = decode(np.array([[[0, 100, 65535]]], np.uint16), "knmi", 5)
    assert rain.tolist() == [[[0.0, 12.0, 0.0]]] and valid.tolist() == [[[True, True, False]]]
    # FMI: dBZ = 0.5 pv - 32; 23 dBZ is ~1 mm/h by Marshall-Palmer (Z = 200 R^1.6)
    rain, valid = decode(np.array([[[110, 255, 0]]], np.uint8), "fmi", 5)
    assert rain[0, 0, 0] == pytest.approx((10**2.3 / 200) ** (1 / 1.6), rel=1e-5)
    assert rain[0, 0, 0] == pytest.approx(1.0, abs=0.01)
    assert valid.tolist() == [[[True, False, True]]] and rain[0, 0, 2] < 1e-3
    assert marshall_palmer(np.array([10 * math.log10(200)]))[0] == pytest.approx(1.0)
    rain, valid = decode(np.array([[[20, -1, 0]]], np.int16), "bom", 6)  # 1 mm per 6 min = 10 mm/h
    assert rain.tolist() == [[[10.0, 0.0, 0.0]]] and valid.tolist() == [[[True, False, True]]]
    with pytest.raises(DataError, match="provider"):
        decode(np.zeros((1, 1, 1)), "dwd", 5)


def test_radar_downsample_means_and_invalid_blocks() -> None:
    rain = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    valid = np.ones((1, 4, 4), bool)
    valid[0, 3, 3] = False
    mean, ok = downsample(rain, valid, 2)
    assert mean.shape == (1, 2, 2)
    assert mean[0, 0, 0] == pytest.approx((0 + 1 + 4 + 5) / 4)
    assert ok.tolist() == [[[True, True], [True, False]]] and mean[0, 1, 1] == 0.0


def test_radar_file_interval_from_meta_json(tmp_path: Path) -> None:
    np.savez(tmp_path / "bom_test.npz", pv=np.full((3, 4, 4), 20, np.int16), times=np.array(["a", "b", "c"]))
    (tmp_path / "meta.json").write_text(json.dumps({"bom_test.npz": {"interval_min": 10}}))
    event = read_event(tmp_path / "bom_test.npz")
    assert event.interval_min == 10 and float(event.rain[0, 0, 0]) == pytest.approx(6.0)  # 1 mm per 10 min
    np.savez(tmp_path / "radar.npz", pv=np.zeros((3, 4, 4)))
    with pytest.raises(DataError, match="provider"):
        read_event(tmp_path / "radar.npz")


@needs_radar
def test_real_radar_event_decodes() -> None:
    event = read_event(RADAR / "knmi_20100826.npz", 2)
    assert event.rain.shape == (92, 382, 350) and event.interval_min == 5
    assert 0.1 < event.valid.mean() < 0.9  # the Dutch composite inside a rectangle: much is outside
    assert np.isfinite(event.rain).all() and event.rain.min() >= 0 and event.rain.max() < 300
    assert (event.rain[~event.valid] == 0).all() and (event.rain[event.valid] >= 1).mean() > 0.01


def test_masked_pixels_count_nowhere() -> None:
    gen = torch.Generator().manual_seed(0)
    pred, target = torch.rand(2, 3, 1, 16, 16, generator=gen), torch.rand(2, 3, 1, 16, 16, generator=gen)
    mask = (torch.rand(2, 3, 1, 16, 16, generator=gen) > 0.3).float()
    wild = torch.where(mask > 0, pred, torch.full_like(pred, 1e6))  # garbage where there is no data
    assert masked_mse(wild, target, mask) == pytest.approx(float(masked_mse(pred, target, mask)))
    assert float(masked_mse(pred, target, torch.zeros_like(mask))) == 0.0
    a, b = ForecastScores(3, threshold=0.5), ForecastScores(3, threshold=0.5)
    a.update(pred, target, mask, pred, target)
    b.update(wild, target, mask, pred, target)
    for k in ("mse", "mae", "csi"):
        assert a.summary()[k] == pytest.approx(b.summary()[k])
    per_lead = ((pred - target) ** 2 * mask).sum((0, 2, 3, 4)) / mask.sum((0, 2, 3, 4))  # (T_out,)
    assert a.summary()["mse"] == pytest.approx(float(per_lead.mean()), rel=1e-5)
    nan = torch.where(mask > 0, pred, torch.full_like(pred, math.nan))  # even NaN where there is no data
    assert float(masked_mse(nan, target, mask)) == pytest.approx(float(masked_mse(pred, target, mask)))


def test_csi_counts_hits_misses_and_false_alarms() -> None:
    target = torch.tensor([2.0, 2.0, 0.0, 0.0, 2.0]).reshape(1, 1, 1, 1, 5)
    pred = torch.tensor([2.0, 0.0, 2.0, 0.0, 2.0]).reshape(1, 1, 1, 1, 5)
    s = ForecastScores(1, threshold=1.0)
    s.update(pred, target, torch.ones_like(pred), pred, target)
    assert s.summary()["csi"] == pytest.approx(2 / 4)  # 2 hits, 1 miss, 1 false alarm
    row = s.per_lead()[0]
    assert row["mse_frame"] == pytest.approx(8.0) and row["mse"] == pytest.approx(8.0 / 5)


def test_ssim() -> None:
    x = torch.rand(3, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(ssim(x, x), torch.ones(3))
    assert (ssim(x, 1 - x) < 0.2).all()
    noisy = (x + 0.1 * torch.randn(3, 1, 32, 32, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    assert (ssim(x, noisy) < 0.99).all() and (ssim(x, noisy) > ssim(x, 1 - x)).all()
    torch.testing.assert_close(ssim(x, noisy), ssim(noisy, x))


def test_windows_skip_missing_data_and_dry_patches() -> None:
    frames = np.zeros((6, 8, 16), np.float32)
    valid = np.ones_like(frames, bool)
    valid[:, :, 8:] = False  # right half: no data
    wet = np.zeros_like(valid)
    wet[3, :4, :4] = True  # rain in the last input frame of windows starting at 0, top-left only
    src = Source("e", frames, valid, wet)
    found = find_windows([src], frames_in=4, frames_out=2, size=8, stride=1, min_wet=0.2)
    assert found == [(0, 0, 0, 0)]  # the half-valid windows and the dry one are left out
    ds = FrameWindows([src], found, 4, 2, 8)
    assert ds[0]["mask"].shape == (2, 1, 8, 8) and float(ds[0]["mask"].mean()) == 1.0


def test_normalisation_round_trip() -> None:
    v = np.array([0.0, 0.5, 12.0, 80.0], np.float32)
    log = Normalisation("log1p", units="mm/h")
    np.testing.assert_allclose(log.inverse(log.forward(v)), v, rtol=1e-5)
    lin = Normalisation("linear", offset=2.0, scale=4.0)
    assert lin.forward(np.float32(6.0)) == 1.0 and Normalisation.from_dict(lin.to_dict()) == lin


# ---------------------------------------------------------------------------------- arrays and CLI


def moving_squares(n: int, frames: int, size: int = 16, seed: int = 0) -> np.ndarray:
    """``(n, frames, size, size)`` uint8: a 4x4 square moving one pixel per frame (right or down), wrapping."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, frames, size, size), np.uint8)
    for i in range(n):
        y, x = rng.integers(0, size, 2)
        dy, dx = [(0, 1), (1, 0), (0, -1), (-1, 0)][rng.integers(4)]
        for t in range(frames):
            rows = (np.arange(4) + y + dy * t) % size
            cols = (np.arange(4) + x + dx * t) % size
            out[i, t][np.ix_(rows, cols)] = 255
    return out


FAST = [
    "--set=model.height=16",
    "--set=model.sequence.hidden=16",
    "--set=data.forecast.frames_in=3",
    "--set=data.forecast.frames_out=3",
    "--set=data.num_workers=0",
    "--set=train.lr=0.01",
    "--threads=1",
    "--quiet",
]


@pytest.fixture(scope="module")
def squares_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny forecaster trained on moving squares: (run folder, validation array file)."""
    root = tmp_path_factory.mktemp("squares")
    np.save(root / "train.npy", moving_squares(96, 6, seed=0))
    np.save(root / "val.npy", moving_squares(24, 6, seed=1))
    out = root / "run"
    argv = ["train", "--task", "forecast", "--train", str(root / "train.npy"), "--val", str(root / "val.npy")]
    assert main([*argv, "--out", str(out), "--epochs", "12", "--batch-size", "8", "--seed", "0", *FAST]) == 0
    return out, root / "val.npy"


def test_tiny_run_beats_persistence(squares_run: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    run, val = squares_run
    meta = json.loads((run / "model.json").read_text())
    assert meta["task"] == "forecast" and meta["input"]["frames_in"] == 3 and meta["input"]["frames_out"] == 3
    assert meta["input"]["normalisation"] == {
        "transform": "linear",
        "offset": 0.0,
        "scale": 255.0,
        "units": "array values",
    }
    capsys.readouterr()
    assert main(["eval", str(run), str(val), "--json", "--threads", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    model, baseline = result["model"]["summary"], result["persistence"]["summary"]
    assert result["windows"] == 24
    assert model["mse_frame"] < 0.7 * baseline["mse_frame"], (model, baseline)
    assert main(["eval", str(run), str(val), "--threads", "1"]) == 0
    table = capsys.readouterr().out
    assert "persist" in table and "mean" in table and "+3" in table


def test_forecast_writes_strip_gif_and_npy(squares_run: tuple[Path, Path], tmp_path: Path) -> None:
    run, val = squares_run
    assert main(["forecast", str(run), str(val), "--out", str(tmp_path / "s.png"), "--index", "2"]) == 0
    with Image.open(tmp_path / "s.png") as im:
        assert im.width > 6 * 16 and im.height > 3 * 16
    assert main(["forecast", str(run), str(val), "--out", str(tmp_path / "s.gif")]) == 0
    with Image.open(tmp_path / "s.gif") as im:
        assert im.n_frames == 6
    assert main(["forecast", str(run), str(val), "--out", str(tmp_path / "p.npy")]) == 0
    preds = np.load(tmp_path / "p.npy")
    assert preds.shape == (24, 3, 16, 16) and 0 <= preds.mean() < 255  # in the data's units (0-255)
    # past frames only (fewer than frames_in + frames_out): forecast beyond their end
    np.save(tmp_path / "past.npy", moving_squares(2, 3, seed=5))
    assert main(["forecast", str(run), str(tmp_path / "past.npy"), "--out", str(tmp_path / "f.npy")]) == 0
    assert np.load(tmp_path / "f.npy").shape == (2, 3, 16, 16)


def test_forecast_model_refused_by_other_commands(squares_run: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    run, val = squares_run
    assert main(["read", str(run), str(val)]) == 1
    assert "seqvision forecast" in capsys.readouterr().err
    assert main(["forecast", "print-en", str(val), "--out", str(tmp_path / "x.png")]) == 1
    assert "not a forecasting model" in capsys.readouterr().err
    assert main(["eval", str(run), "moving-mnist:mnist.npz"]) == 1  # trained on arrays, not on Moving MNIST
    assert "not on Moving MNIST" in capsys.readouterr().err


def test_onnx_export_matches_eager(squares_run: tuple[Path, Path], tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from seqvision.tasks.forecast.evaluate import load_forecaster

    run, val = squares_run
    assert main(["export", str(run), "--out", str(tmp_path / "f.onnx")]) == 0
    model, _ = load_forecaster(run)
    frames = torch.from_numpy(np.load(val)[:5, :3, None].astype(np.float32) / 255)  # batch 5: not the traced 2
    session = ort.InferenceSession(str(tmp_path / "f.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"frames": frames.numpy()})
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(got), model(frames), atol=1e-4, rtol=0)
    assert main(["export", str(run), "--out", str(tmp_path / "q.onnx"), "--int8"]) == 1


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 4)), "must be (N, T, H, W) or (T, H, W)"),
        (np.zeros((0, 6, 16, 16)), "no frames"),
        (np.full((1, 6, 16, 16), np.nan), "NaN"),
        (np.zeros((1, 2, 16, 16)), "a window needs 6"),
        (np.array([["a"]]), "must be numbers"),
    ],
    ids=["ndim", "empty", "nan", "few-frames", "strings"],
)
def test_bad_arrays_give_one_clear_line(
    array: np.ndarray, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.npy"
    np.save(bad, array)
    np.save(tmp_path / "val.npy", moving_squares(2, 6))
    argv = ["train", "--task", "forecast", "--train", str(bad), "--val", str(tmp_path / "val.npy")]
    assert main([*argv, "--out", str(tmp_path / "run"), *FAST]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and message in err, err


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_frames(tmp_path / "nope.npy")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable"):
        read_frames(tmp_path / "junk.npz")
    np.savez(tmp_path / "two.npz", a=np.zeros((3, 4, 4)), b=np.zeros((3, 4, 4)))
    with pytest.raises(DataError, match="name the frames array 'frames'"):
        read_frames(tmp_path / "two.npz")


def test_single_sequence_needs_a_validation_event(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "one.npy", moving_squares(1, 30)[0])  # (T, H, W): one event
    argv = ["train", "--task", "forecast", "--train", str(tmp_path / "one.npy"), "--out", str(tmp_path / "r"), *FAST]
    assert main(argv) == 1
    assert "never by frame" in capsys.readouterr().err
