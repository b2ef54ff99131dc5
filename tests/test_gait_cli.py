"""The gait task through ``main(argv)``: synth-gait -> train --task gait -> eval (rank-1, rank-5, mAP) -> read /
predict with a gallery -> export -> read the ONNX file; bad input is one clear line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli_checks import one_error
from seqvision.cli.main import main
from seqvision.config import load_yaml

TINY_GAIT = [
    "--set=model.encoder.channels=[4,8,8,8]",
    "--set=model.sequence.hidden=16",
    "--set=model.head.embedding=16",
    "--set=data.clip.frames=10",
    "--set=data.num_workers=0",
    "--set=data.gait.subjects=4",
    "--set=data.gait.per_subject=2",
    "--threads=1",
    "--quiet",
]


@pytest.fixture(scope="module")
def gait_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gait")
    common = ["--sequences", "2", "--frames", "14", "--size", "32"]
    assert main(["synth-gait", "--out", str(root / "train"), "--subjects", "6", *common]) == 0
    assert main(["synth-gait", "--out", str(root / "test"), "--subjects", "3", "--first-subject", "101", *common]) == 0
    return root


@pytest.fixture(scope="module")
def gait_run(gait_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gait-runs") / "run"
    argv = ["train", "--task", "gait", "--train", str(gait_data / "train"), "--val", str(gait_data / "test")]
    assert main([*argv, "--out", str(out), "--epochs", "2", *TINY_GAIT]) == 0
    return out


def test_run_folder_describes_the_model(gait_run: Path) -> None:
    for name in ("config.yaml", "model.safetensors", "model.json", "metrics.csv"):
        assert (gait_run / name).is_file(), name
    assert load_yaml(gait_run / "config.yaml")["task"] == "gait"
    meta = json.loads((gait_run / "model.json").read_text(encoding="utf-8"))
    assert meta["task"] == "gait" and meta["architecture"]["head"]["name"] == "embed"
    assert meta["input"]["frames"] == 10 and meta["input"]["channels"] == 1 and meta["gait"]["loss"] == "triplet"
    assert set(meta["metrics"]) >= {"val_rank1", "val_rank5", "val_map"}


def test_eval_prints_rank1_rank5_map(gait_run: Path, gait_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(gait_run), str(gait_data / "test"), "--threads", "1"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("rank-1 ") and " rank-5 " in line and " mAP " in line
    assert "on 3 probes against 3 gallery clips of 3 subjects" in line
    assert main(["eval", str(gait_run), str(gait_data / "test"), "--json", "--threads", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["probes"] == 3 and result["gallery"] == 3 and 0 <= result["rank1"] <= result["rank5"] <= 1
    assert result["rank5"] == 1.0  # three subjects: the right one is always among the five nearest
    # --gallery: DATA is all probes; the test subjects are not in the training gallery, so nothing ranks
    rc = main(["eval", str(gait_run), str(gait_data / "test"), "--gallery", str(gait_data / "train")])
    one_error(capsys.readouterr().err, rc, "no probe's subject is in the gallery")


def test_read_and_predict_rank_the_gallery(gait_run: Path, gait_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    probe = gait_data / "test" / "102" / "nm-02" / "090"
    for verb in ("read", "predict"):
        assert main([verb, str(gait_run), str(probe), "--gallery", str(gait_data / "test"), "--top-k", "2"]) == 0
        path, ranked = capsys.readouterr().out.strip().split("\t")
        assert path == str(probe)
        (s1, d1), (s2, d2) = (pair.split(" ") for pair in ranked.split("  "))
        assert {s1, s2} <= {"101", "102", "103"} and s1 != s2
        assert s1 == "102" and float(d1) == 0.0 <= float(d2)  # the probe is in this gallery: distance 0
    argv = ["read", str(gait_run), str(gait_data / "test" / "101"), "--gallery", str(gait_data / "test"), "--json"]
    assert main(argv) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 2 and all(len(r["nearest"]) == 3 and len(r["embedding"]) == 16 for r in records)
    rc = main(["read", str(gait_run), str(probe)])
    one_error(capsys.readouterr().err, rc, "give --gallery DATA")


def test_export_and_read_onnx(gait_run: Path, gait_data: Path, tmp_path: Path, capsys) -> None:
    pytest.importorskip("onnxruntime")
    onnx = tmp_path / "gait.onnx"
    assert main(["export", str(gait_run), "--out", str(onnx)]) == 0
    assert "16-d embedding" in capsys.readouterr().out
    argv = [str(gait_data / "test" / "103"), "--gallery", str(gait_data / "test"), "--json", "--threads", "1"]
    assert main(["read", str(gait_run), *argv]) == 0
    eager = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["read", str(onnx), *argv]) == 0
    exported = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for a, b in zip(eager, exported, strict=True):
        assert [n["subject"] for n in a["nearest"]] == [n["subject"] for n in b["nearest"]]
        for x, y in zip(a["nearest"], b["nearest"], strict=True):
            assert abs(x["distance"] - y["distance"]) < 1e-3


def test_val_split_that_leaks_is_refused(gait_data: Path, tmp_path: Path, capsys) -> None:
    argv = ["train", "--task", "gait", "--train", str(gait_data / "train"), "--val", str(gait_data / "train")]
    rc = main([*argv, "--out", str(tmp_path / "run"), "--epochs", "1", *TINY_GAIT])
    one_error(capsys.readouterr().err, rc, "the split leaks: 6 subject(s) walk in both train and val")


def test_bad_gait_inputs(gait_run: Path, gait_data: Path, tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    rc = main(["read", str(gait_run), str(tmp_path / "nope"), "--gallery", str(gait_data / "test")])
    one_error(capsys.readouterr().err, rc, f"{tmp_path / 'nope'}")
    rc = main(["eval", str(gait_run), str(empty)])
    one_error(capsys.readouterr().err, rc, f"{empty}: no subject folders")
    one_subject = tmp_path / "one"
    shutil.copytree(gait_data / "test" / "101", one_subject / "101")
    shutil.rmtree(one_subject / "101" / "nm-02")
    rc = main(["train", "--task", "gait", "--train", str(one_subject), "--out", str(tmp_path / "r"), *TINY_GAIT])
    err = capsys.readouterr().err
    assert "subject 101: only one sequence (nm-01)" in err
    one_error(err, rc, "0 subject(s) with two sequences or more")
    rc = main(
        [
            "train",
            "--task",
            "gait",
            "--preset",
            "lrcn-small",
            "--train",
            str(gait_data / "train"),
            "--out",
            str(tmp_path / "x"),
        ]
    )
    one_error(capsys.readouterr().err, rc, "task gait needs a clip model with a embed head (e.g. --preset gait-small)")
