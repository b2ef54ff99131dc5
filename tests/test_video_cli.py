"""The video task through ``main(argv)``: synth-video -> train --task video -> eval / read / predict ->
export -> read the ONNX file; bad input is one clear line."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from cli_checks import one_error
from seqvision.cli.main import main
from seqvision.config import load_yaml
from seqvision.tasks.video.synth import CLASSES

pytest.importorskip("av")

TINY_VIDEO = [
    "--set=model.height=32",
    "--set=model.encoder.channels=[8,8,12,16]",
    "--set=model.sequence.hidden=16",
    "--set=data.clip.frames=8",
    "--set=data.num_workers=0",
    "--set=data.batch_size=4",
    "--threads=1",
    "--quiet",
]


@pytest.fixture(scope="module")
def video_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("video") / "clips"
    argv = ["synth-video", "--out", str(out), "--clips", "2", "--frames", "8", "--size", "32", "--groups", "2"]
    assert main(argv) == 0
    return out


@pytest.fixture(scope="module")
def video_run(video_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("video-runs") / "run"
    argv = ["train", "--task", "video", "--train", str(video_data / "clips.csv"), "--out", str(out)]
    assert main([*argv, "--epochs", "2", "--set=data.val_fraction=0.5", *TINY_VIDEO]) == 0
    return out


def test_run_folder_describes_the_model(video_run: Path, video_data: Path) -> None:
    for name in ("config.yaml", "labels.json", "model.safetensors", "model.json", "curves.png", "metrics.csv"):
        assert (video_run / name).is_file(), name
    assert load_yaml(video_run / "config.yaml")["task"] == "video"
    meta = json.loads((video_run / "model.json").read_text(encoding="utf-8"))
    assert meta["task"] == "video" and meta["labels"] == sorted(CLASSES)
    assert meta["architecture"]["input"] == "clip" and meta["architecture"]["preset"] == "lrcn-small"
    assert meta["input"]["frames"] == 8 and meta["input"]["height"] == meta["input"]["width"] == 32
    assert meta["input"]["channels"] == 3 and meta["input"]["normalisation"]["range"] == [0.0, 1.0]
    assert set(meta["metrics"]) >= {"val_acc", "val_loss"} and meta["parameters"] > 0
    assert meta["training"]["train_clips"] == meta["training"]["val_clips"] == 8  # one group of two each side


def test_eval_json_and_confusion_png(video_run: Path, video_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png, tsv = video_run.parent / "confusion.png", video_run.parent / "predictions.tsv"
    argv = ["eval", str(video_run), str(video_data), "--json", "--confusion", str(png), "--predictions", str(tsv)]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["clips"] == 2 * len(CLASSES) and result["skipped"] == 0
    assert set(result["per_class"]) == set(CLASSES)
    matrix = result["confusion"]["matrix"]
    assert sum(map(sum, matrix)) == result["clips"] and all(sum(row) == 2 for row in matrix)
    assert result["accuracy"] == pytest.approx(
        sum(matrix[i][i] for i in range(len(matrix))) / result["clips"], abs=1e-4
    )
    with Image.open(png) as img:
        assert img.format == "PNG" and img.width > 100
    rows = [line.split("\t") for line in tsv.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == result["clips"] and {r[1] for r in rows} == set(CLASSES)
    correct = sum(r[1] == r[2] for r in rows)
    assert correct == sum(matrix[i][i] for i in range(len(matrix)))


def test_eval_text(video_run: Path, video_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(video_run), str(video_data / "clips.csv")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("accuracy ") and "on 16 clips (0 skipped)" in out[0]
    assert [line.split()[0] for line in out[1:]] == sorted(CLASSES)


def top_k(line: str) -> list[tuple[str, float]]:
    parts = line.split("\t")[1].split()
    return [(parts[i], float(parts[i + 1])) for i in range(0, len(parts), 2)]


def test_read_and_predict_top_k(video_run: Path, video_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = video_data / "grow" / "v_grow_g01_c01.mp4"
    assert main(["read", str(video_run), str(clip), str(video_data / "ring"), "--top-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rings = sorted(str(p) for p in (video_data / "ring").iterdir())
    assert [line.split("\t")[0] for line in lines] == [str(clip), *rings]
    for line in lines:
        top = top_k(line)
        assert len(top) == 3 and {label for label, _ in top} <= set(CLASSES)
        probs = [p for _, p in top]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.001
    assert main(["predict", str(video_run), str(clip), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["clip"] == str(clip) and len(record["top"]) == 5
    assert record["label"] == record["top"][0]["label"] == top_k(lines[0])[0][0]


def test_export_and_read_onnx(video_run: Path, video_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("onnxruntime")
    onnx_path = video_run.parent / "video.onnx"
    assert main(["export", str(video_run), "--out", str(onnx_path)]) == 0
    assert "8 classes" in capsys.readouterr().out
    clip = str(video_data / "shrink" / "v_shrink_g02_c01.mp4")
    outputs = []
    for argv in (["read", str(video_run), clip], ["read", str(onnx_path), clip], ["read", str(video_run), clip]):
        assert main([*argv[:3], "--json", *(["--backend", "onnx"] if len(outputs) == 2 else [])]) == 0
        outputs.append(json.loads(capsys.readouterr().out)["top"])
    if importlib.util.find_spec("openvino") is not None:  # the same file, and the run exported in memory, on OpenVINO
        for model in (onnx_path, video_run):
            assert main(["read", str(model), clip, "--json", "--backend", "openvino"]) == 0
            outputs.append(json.loads(capsys.readouterr().out)["top"])
    for other in outputs[1:]:
        assert [t["label"] for t in other] == [t["label"] for t in outputs[0]]
        for a, b in zip(other, outputs[0], strict=True):
            assert a["probability"] == pytest.approx(b["probability"], abs=2e-4)


def test_val_split_that_leaks_is_refused(video_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = (video_data / "clips.csv").read_text(encoding="utf-8").splitlines()
    (video_data / "val-g01.csv").write_text("\n".join([rows[0], rows[1]]) + "\n", encoding="utf-8")
    try:
        argv = ["train", "--task", "video", "--train", str(video_data / "clips.csv"), "--out", str(tmp_path / "r")]
        rc = main([*argv, "--val", str(video_data / "val-g01.csv"), *TINY_VIDEO])
    finally:
        (video_data / "val-g01.csv").unlink()
    one_error(capsys.readouterr().err, rc, "split leaks", "g01")


def test_training_on_only_corrupt_clips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for label in ("a", "b"):
        (tmp_path / "data" / label).mkdir(parents=True)
        (tmp_path / "data" / label / f"{label}_g01_c01.mp4").write_bytes(b"\x00" * 100)
        (tmp_path / "data" / label / f"{label}_g02_c01.mp4").write_bytes(b"")
    argv = ["train", "--task", "video", "--train", str(tmp_path / "data"), "--out", str(tmp_path / "r"), *TINY_VIDEO]
    rc = main(argv)
    err = capsys.readouterr().err
    one_error(err, rc, "no usable training clip", "skipped")
    assert "a_g01_c01.mp4" in err and "warning: train clips: skipped" in err


def test_bad_video_inputs(video_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x01" * 64)
    assert main(["read", str(video_run), str(tmp_path / "broken.mp4")]) == 1
    one_error(capsys.readouterr().err, 1, "broken.mp4", "corrupt")
    rc = main(["train", "--task", "video", "--preset", "crnn-small", "--train", "x", "--out", str(tmp_path / "r")])
    one_error(capsys.readouterr().err, rc, "task video needs a clip model")
    rc = main(["train", "--task", "cartoons", "--train", "x", "--out", str(tmp_path / "r")])
    one_error(capsys.readouterr().err, rc, "unknown task 'cartoons'", "video")
    rc = main(["synth-video", "--out", str(tmp_path / "s"), "--size", "33"])
    one_error(capsys.readouterr().err, rc, "even")


@pytest.mark.filterwarnings("ignore:The dirpath has changed")  # the run folder was copied
def test_resume_keeps_labels(video_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(video_run, run)
    assert main(["train", "--resume", str(run), "--epochs", "3", "--quiet"]) == 0
    assert json.loads((run / "labels.json").read_text(encoding="utf-8")) == sorted(CLASSES)
    assert load_yaml(run / "config.yaml")["train"]["epochs"] == 3
