"""The sound task through ``main(argv)``: synth-sound -> train --task sound -> eval (loss vs the mean sound,
onset accuracy) -> read/predict (.wav by Griffin-Lim and by retrieval) -> export -> the ONNX file; bad input is
one clear line. All on generated clips."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from cli_checks import one_error
from seqvision.cli.main import main
from seqvision.data.video_write import write_video

pytest.importorskip("av")
CaptureFixture = pytest.CaptureFixture[str]

TINY = [
    "--set=model.encoder.channels=[8,8,12,16]",
    "--set=model.sequence.hidden=16",
    "--set=model.head.hidden=16",
    "--set=data.sound.bands=8",
    "--set=data.sound.steps=2",
    "--set=data.clip.frames=12",
    "--set=data.num_workers=0",
    "--set=data.batch_size=4",
    "--threads=1",
    "--quiet",
]


@pytest.fixture(scope="module")
def sound_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sound-cli") / "clips"
    assert main(["synth-sound", "--out", str(out), "--clips", "2", "--frames", "12", "--groups", "2"]) == 0
    assert (out / "synth-sound.json").is_file() and len(list(out.rglob("*.mkv"))) == 8
    return out


@pytest.fixture(scope="module")
def sound_run(sound_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sound-runs") / "run"
    argv = ["train", "--task", "sound", "--train", str(sound_data / "clips.csv"), "--out", str(out), "--epochs", "2"]
    assert main([*argv, "--set=data.val_fraction=0.5", *TINY]) == 0
    return out


def test_run_folder_describes_the_model(sound_run: Path) -> None:
    meta = json.loads((sound_run / "model.json").read_text())
    assert meta["task"] == "sound" and meta["architecture"]["head"]["name"] == "regress"
    assert meta["sound"]["bands"] == 8 and len(meta["sound"]["mean"]) == 8 and meta["sound"]["loss"] == "l1"
    assert {"val_loss", "val_mean_sound_loss", "val_onset_accuracy"} <= set(meta["metrics"])
    assert (sound_run / "sound-bank.safetensors").is_file()


def test_eval_text_and_json(sound_run: Path, sound_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = str(sound_run / "model.safetensors")
    assert main(["eval", model, str(sound_data / "clips.csv"), "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "l1 loss" in out and "mean sound" in out and "onset accuracy" in out
    assert main(["eval", model, str(sound_data), "--json", "--threads", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["clips"] == 8 and result["skipped"] == 0 and result["true_onsets"] > 8
    assert 0 < result["loss"] < 10 and result["mean_sound_loss"] > 0 and 0 <= result["onset_accuracy"] <= 1


def read_wav(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path)) as w:
        return w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def test_read_writes_wavs(
    sound_run: Path, sound_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = next(iter(sorted(sound_data.rglob("*.mkv"))))
    out = tmp_path / "wavs"
    assert main(["predict", str(sound_run), str(clip), "--out", str(out), "--json", "--threads", "1"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["frames"] == 12 and record["seconds"] == pytest.approx(0.75)
    rate, samples = read_wav(Path(record["wav"]))
    assert rate == 16000 and len(samples) == 12000 and np.abs(samples).max() > 0  # Griffin-Lim, as long as the clip
    nearest = Path(record["nearest"]["wav"])
    rate, retrieved = read_wav(nearest)
    assert len(retrieved) == 12000 and record["nearest"]["source"].endswith(".mkv")
    assert main(["read", str(sound_run), str(sound_data / "clips.csv"), "--out", str(out), "--threads", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 8 and len(list(out.glob("*.nearest.wav"))) == 8


def test_export_and_read_onnx(
    sound_run: Path, sound_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("onnxruntime")
    onnx = tmp_path / "sound.onnx"
    assert main(["export", str(sound_run / "model.safetensors"), "--out", str(onnx)]) == 0
    assert "mel bands" in capsys.readouterr().out
    data = str(sound_data / "clips.csv")
    assert main(["eval", str(sound_run / "model.safetensors"), data, "--json", "--threads", "1"]) == 0
    eager = json.loads(capsys.readouterr().out)
    assert main(["eval", str(onnx), data, "--json", "--threads", "1"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["backend"] == "onnx" and exported["loss"] == pytest.approx(eager["loss"], abs=1e-3)


def test_bad_inputs_are_one_line(sound_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mute = tmp_path / "mute.mkv"
    write_video(mute, [np.zeros((32, 32, 3), np.uint8)] * 8, 16.0)
    capsys.readouterr()
    rc = main(["eval", str(sound_run), str(mute)])
    one_error(capsys.readouterr().err, rc, "mute.mkv", "no audio track")
    rc = main(["read", str(sound_run), str(mute)])
    one_error(capsys.readouterr().err, rc, "--out FOLDER")
    rc = main(["read", str(sound_run), str(tmp_path / "nothing.mp4"), "--out", str(tmp_path / "w")])
    one_error(capsys.readouterr().err, rc, "nothing.mp4", "not found")
    rc = main(["train", "--task", "sound", "--train", str(mute), "--out", str(tmp_path / "r"), *TINY])
    one_error(capsys.readouterr().err, rc, "one group")
    rc = main(
        ["train", "--task", "sound", "--preset", "lrcn-small", "--train", str(mute), "--out", str(tmp_path / "r")]
    )
    one_error(capsys.readouterr().err, rc, "regress head")
