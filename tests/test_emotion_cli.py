"""The emotion task through ``main(argv)``: synth-emotion -> train --task emotion (audio, video and fused models
from the same command) -> eval (accuracy, UAR, confusion PNG) -> read -> export -> the ONNX file; bad input is
one clear line. All on generated clips (encoded video with AAC sound, or .wav beside it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seqvision.cli.main import main

pytest.importorskip("av")
CaptureFixture = pytest.CaptureFixture[str]

TINY = [
    "--set=model.height=16",
    "--set=model.encoder.channels=[4,8,8,8]",
    "--set=model.sequence.hidden=16",
    "--set=data.emotion.bands=16",
    "--set=data.emotion.audio_channels=[4,8,8,8]",
    "--set=data.clip.frames=6",
    "--set=data.num_workers=0",
    "--set=data.batch_size=8",
    "--threads=1",
    "--quiet",
]


def one_error(err: str, rc: int, *needles: str) -> None:
    errors = [line for line in err.splitlines() if line.startswith("seqvision: error:")]
    assert rc == 1 and "Traceback" not in err and len(errors) == 1, err
    for needle in needles:
        assert needle in errors[0], errors[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("emotion-cli")
    for name, actors, first, audio in (("train", 2, 1, "inside"), ("val", 1, 3, "beside")):
        argv = ["synth-emotion", "--out", str(out / name), "--clips", "2", "--actors", str(actors)]
        argv += ["--first-actor", str(first), "--frames", "6", "--size", "16", "--fps", "6", "--audio", audio]
        assert main(argv) == 0
    assert len(list((out / "val").rglob("03-*.wav"))) == 8 and (out / "train" / "synth-emotion.json").is_file()
    return out


@pytest.fixture(scope="module")
def runs(data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("emotion-runs")
    base = ["train", "--task", "emotion", "--train", str(data / "train"), "--val", str(data / "val"), "--epochs", "1"]
    folders = {}
    for streams in ("both", "audio", "video"):
        folders[streams] = out / streams
        assert main([*base, "--out", str(out / streams), f"--set=data.emotion.streams={streams}", *TINY]) == 0
    return folders


def test_one_command_trains_each_stream_setting(runs: dict[str, Path]) -> None:
    for streams, folder in runs.items():
        meta = json.loads((folder / "model.json").read_text())
        assert meta["task"] == "emotion" and meta["emotion"]["streams"] == streams
        assert sorted(meta["labels"]) == ["angry", "happy", "sad", "surprised"]
        assert "val_uar" in meta["metrics"] and meta["input"]["audio"]["bands"] == 16


def test_eval_gives_accuracy_uar_and_a_confusion_png(
    runs: dict[str, Path], data: Path, tmp_path: Path, capsys: CaptureFixture
) -> None:
    png = tmp_path / "confusion.png"
    assert main(["eval", str(runs["both"]), str(data / "val"), "--json", "--confusion", str(png)]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert result["clips"] == 8 and result["skipped"] == 0 and 0 <= result["uar"] <= 1
    assert set(result["stream_uar"]) == {"video", "audio"}
    assert sum(map(sum, result["confusion"]["matrix"])) == 8
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_read_and_export_round_trip(runs: dict[str, Path], data: Path, tmp_path: Path, capsys: CaptureFixture) -> None:
    pytest.importorskip("onnxruntime")
    clip = sorted((data / "val").rglob("02-*.mp4"))[0]
    assert main(["read", str(runs["both"]), str(clip), "--json", "--top-k", "2"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["clip"] == str(clip) and len(record["top"]) == 2 and set(record["streams"]) == {"video", "audio"}
    for streams in ("both", "audio"):
        onnx = tmp_path / f"{streams}.onnx"
        assert main(["export", str(runs[streams]), "--out", str(onnx)]) == 0
        capsys.readouterr()
        assert main(["read", str(onnx), str(clip), "--json", "--top-k", "4"]) == 0
        exported = json.loads(capsys.readouterr().out)
        assert main(["read", str(runs[streams]), str(clip), "--json", "--top-k", "4"]) == 0
        eager = json.loads(capsys.readouterr().out)
        assert exported["label"] == eager["label"]
        for a, b in zip(exported["top"], eager["top"], strict=True):
            assert abs(a["probability"] - b["probability"]) < 1e-3


def test_bad_inputs_are_one_clear_line(
    runs: dict[str, Path], data: Path, tmp_path: Path, capsys: CaptureFixture
) -> None:
    wav = sorted((data / "val").rglob("03-*.wav"))[0]
    one_error(*_run(capsys, ["read", str(runs["video"]), str(wav)]), str(wav), "an audio file")
    missing = tmp_path / "missing.mp4"
    one_error(*_run(capsys, ["read", str(runs["both"]), str(missing)]), str(missing))
    listing = tmp_path / "leak.csv"
    first = sorted((data / "train").rglob("*.mp4"))[0]
    listing.write_text(f"path,label,speaker\n{first},happy,actor01\n")
    argv = [
        "train",
        "--task",
        "emotion",
        "--train",
        str(data / "train"),
        "--val",
        str(listing),
        "--out",
        str(tmp_path / "r"),
    ]
    one_error(*_run(capsys, [*argv, *TINY]), "the split leaks", "speaker")
    one_error(
        *_run(capsys, [*argv[:6], str(data / "val"), *argv[7:], "--set=data.emotion.streams=face", *TINY]),
        "data.emotion.streams",
    )


def _run(capsys: CaptureFixture, argv: list[str]) -> tuple[str, int]:
    rc = main(argv)
    return capsys.readouterr().err, rc
