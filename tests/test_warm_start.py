"""Starting a run from a saved model (``train --init``), alphabet merging, and bf16 training."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import torch

from conftest import HEIGHT, TINY
from seqvision.checkpoint import load_state
from seqvision.cli.main import main
from seqvision.data.readers import read_lines
from seqvision.errors import ConfigError
from seqvision.nn.model import build_model
from seqvision.nn.presets import get_preset
from seqvision.training.run import cpu_has_native_bf16
from seqvision.training.warm_start import BaseModel, load_base, merge_classes, warm_start


def test_merge_classes_modes() -> None:
    base, data = ["a", "b", "c"], ["b", "c", "d"]
    assert merge_classes(base, data, "union") == (["a", "b", "c", "d"], [0, 1, 2, None])
    assert merge_classes(base, data, "keep") == (["a", "b", "c"], [0, 1, 2])
    assert merge_classes(base, data, "new") == (["b", "c", "d"], [1, 2, None])
    with pytest.raises(ConfigError, match="union, new or keep"):
        merge_classes(base, data, "all")


def _with_new_character(lines_dir: Path, out: Path) -> Path:
    """The fixture's lines, one of them with a character the tiny model never saw ('§')."""
    samples = read_lines(lines_dir / "labels.tsv").samples
    rows = [f"{s.image}\t{s.text}" for s in samples]
    first = samples[0]
    rows[0] = f"{first.image}\t§{first.text[1:]}"
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out


@pytest.mark.parametrize("mode", ["union", "keep", "new"])
def test_init_copies_weights_and_maps_the_alphabet(trained_run: Path, lines_dir: Path, tmp_path: Path, mode: str):
    base_tensors, base_meta, _ = load_state(trained_run)
    data = _with_new_character(lines_dir, tmp_path / "labels.tsv")
    out = tmp_path / "ft"
    argv = ["train", "--train", str(data), "--val", str(lines_dir / "labels.tsv"), "--out", str(out), "--epochs", "1"]
    assert (
        main(
            [
                *argv,
                "--init",
                str(trained_run),
                "--alphabet",
                mode,
                *TINY,
                "--set=train.lr=1e-9",
                "--set=data.augment=false",
            ]
        )
        == 0
    )
    tensors, meta, _ = load_state(out)
    chars, base_chars = meta["alphabet"], base_meta["alphabet"]
    assert ("§" in chars) == (mode != "keep")
    if mode == "keep":
        assert chars == base_chars
    assert meta["init"]["alphabet"] == mode and meta["init"]["new"] == (0 if mode == "keep" else 1)
    # a learning rate of 1e-9: every weight is still the base model's, each output row that of its character
    # (BatchNorm's running statistics move without the optimiser, so they are not compared)
    for key, value in tensors.items():
        if not key.startswith("head.") and "running_" not in key and "num_batches" not in key:
            torch.testing.assert_close(value, base_tensors[key], atol=1e-5, rtol=0, msg=key)
    weight, base_weight = tensors["head.proj.weight"], base_tensors["head.proj.weight"]
    torch.testing.assert_close(weight[0], base_weight[0], atol=1e-5, rtol=0)  # the blank
    for i, c in enumerate(chars):
        if c in base_chars:
            torch.testing.assert_close(weight[i + 1], base_weight[base_chars.index(c) + 1], atol=1e-5, rtol=0)


def test_init_keep_drops_training_lines_with_unknown_characters(trained_run: Path, lines_dir: Path, tmp_path: Path):
    data = _with_new_character(lines_dir, tmp_path / "labels.tsv")
    out = tmp_path / "ft"
    argv = ["train", "--train", str(data), "--val", str(lines_dir / "labels.tsv"), "--out", str(out), "--epochs", "1"]
    assert main([*argv, "--init", str(trained_run), "--alphabet", "keep", *TINY]) == 0
    skipped = (out / "skipped.txt").read_text(encoding="utf-8")
    assert "characters outside the alphabet ('§')" in skipped


def test_init_with_other_settings_names_the_mismatching_part(
    trained_run: Path, lines_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--train", str(lines_dir / "labels.tsv"), "--out", str(tmp_path / "x"), "--epochs", "1"]
    assert main([*argv, "--init", str(trained_run), *TINY, "--set=model.sequence.hidden=48"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("seqvision: error: --init ") and "sequence.rnn.weight_ih_l0 is (128, " in err[-1]
    assert "Traceback" not in "\n".join(err)


def test_warm_start_refuses_missing_parts(tmp_path: Path) -> None:
    model = build_model(get_preset("crnn-mobile"), 5)
    base = BaseModel({k: v.clone() for k, v in model.state_dict().items()}, {"task": "text_lines"}, tmp_path / "m")
    assert warm_start(model, base).copied == len(model.state_dict())
    del base.tensors["head.proj.bias"]
    with pytest.raises(ConfigError, match=r"the architectures differ .*head\.proj\.bias"):
        warm_start(model, base)


@pytest.mark.parametrize("change", ["layers", "hidden"])
def test_partial_warm_start_copies_what_fits_and_keeps_the_rest_fresh(tmp_path: Path, change: str) -> None:
    """``train.init_partial``: one recurrent layer instead of two, or another hidden size, from a larger model."""
    saved_cfg, cfg = get_preset("crnn-mobile"), get_preset("crnn-mobile")
    if change == "layers":
        cfg.sequence.layers = 1
    else:
        cfg.sequence.hidden = 48
    saved, model = build_model(saved_cfg, 7), build_model(cfg, 7)
    fresh_before = {k: v.clone() for k, v in model.state_dict().items()}
    meta = {"task": "text_lines", "architecture": {"height": saved_cfg.height}}
    base = warm_start(model, BaseModel(dict(saved.state_dict()), meta, tmp_path / "m"), partial=True)
    own, theirs = model.state_dict(), saved.state_dict()
    layer1 = {k for k in theirs if k.startswith("sequence.") and "_l1" in k}
    if change == "layers":
        assert base.fresh == [] and set(base.unused) == layer1
    else:  # every recurrent tensor and the head's weight (it reads 2 x hidden) start fresh
        assert set(base.fresh) == {k for k in own if k.startswith("sequence.")} | {"head.proj.weight"}
        assert set(base.unused) == layer1 | set(base.fresh)
    assert base.copied == len(own) - len(base.fresh)
    for name, tensor in own.items():
        expected = fresh_before[name] if name in base.fresh else theirs[name]
        torch.testing.assert_close(tensor, expected)
    with pytest.raises(ConfigError):  # without partial the same pair is refused
        warm_start(build_model(cfg, 7), BaseModel(dict(saved.state_dict()), meta, tmp_path / "m"))


def test_partial_init_round_trips_and_is_recorded(
    trained_run: Path, lines_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lean"
    argv = ["train", "--train", str(lines_dir / "labels.tsv"), "--out", str(out), "--epochs", "1", *TINY]
    argv += ["--init", str(trained_run), "--set=model.sequence.hidden=48", "--set=train.init_partial=true"]
    assert main(argv) == 0
    summary = capsys.readouterr().out
    assert "init: partial, " in summary and "start fresh (sequence.rnn layer 0" in summary
    started = json.loads((out / "model.json").read_text())["init"]
    assert "sequence.rnn.weight_hh_l0" in started["fresh"] and started["tensors"] > 0
    assert started["tensors"] + len(started["fresh"]) == len(load_state(str(out))[0])


def test_init_from_another_task_is_refused(trained_run: Path) -> None:
    with pytest.raises(ConfigError, match="a text_lines model; this run trains video"):
        load_base(str(trained_run), "video")


def test_bf16_training_reduces_the_loss(lines_dir: Path, tmp_path: Path) -> None:
    if not torch.backends.mkldnn.is_available():
        pytest.skip("no oneDNN: bf16 autocast on this CPU is not supported")
    out = tmp_path / "bf16"
    argv = ["train", "--train", str(lines_dir / "labels.tsv"), "--out", str(out), "--epochs", "3", "--seed", "0"]
    assert main([*argv, "--precision", "bf16", *TINY, "--set=train.lr=0.005", "--set=data.augment=false"]) == 0
    with (out / "metrics.csv").open() as f:
        losses = [float(r["train_loss_epoch"]) for r in csv.DictReader(f) if r.get("train_loss_epoch")]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert json.loads((out / "model.json").read_text())["config"]["train"]["precision"] == "bf16"


@pytest.mark.parametrize(
    ("flags", "native"),
    [("fpu avx2 avx512f avx512_bf16", True), ("fpu avx2 amx_bf16 amx_tile", True), ("fpu avx avx2 fma", False)],
)
def test_native_bf16_is_read_from_the_cpu_flags(tmp_path: Path, flags: str, native: bool) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(f"processor\t: 0\nmodel name\t: test\nflags\t\t: {flags}\n")
    assert cpu_has_native_bf16(info) is native
    assert cpu_has_native_bf16(tmp_path / "missing") is None
    info.write_text("processor\t: 0\n")  # no flags line (not x86, say): cannot tell, so no warning
    assert cpu_has_native_bf16(info) is None


def test_unknown_precision_is_a_config_error(lines_dir: Path, tmp_path: Path) -> None:
    argv = ["train", "--train", str(lines_dir / "labels.tsv"), "--out", str(tmp_path / "p"), *TINY]
    assert main([*argv, "--set=train.precision=fp8"]) != 0


def test_freeze_encoder_steps_keeps_the_encoder_fixed(trained_run: Path, lines_dir: Path, tmp_path: Path) -> None:
    base, _, _ = load_state(trained_run)
    out = tmp_path / "frozen"
    argv = ["train", "--train", str(lines_dir / "labels.tsv"), "--out", str(out), "--epochs", "2", "--seed", "0"]
    argv += ["--init", str(trained_run), *TINY, "--set=train.lr=0.01", "--set=train.freeze_encoder_steps=1000"]
    assert main(argv) == 0
    tensors, meta, _ = load_state(out)
    assert meta["config"]["train"]["freeze_encoder_steps"] == 1000
    encoder = [k for k in tensors if k.startswith("encoder.")]
    assert encoder and all(torch.equal(tensors[k], base[k]) for k in encoder)  # running statistics too
    assert not torch.equal(tensors["head.proj.weight"], base["head.proj.weight"])


def test_resumed_init_run_needs_the_base_model_no_more(trained_run: Path, lines_dir: Path, tmp_path: Path):
    """--resume of an --init run takes the weights from its checkpoint and its ``init`` record from model.json."""
    base = tmp_path / "base"
    shutil.copytree(trained_run, base)
    out = tmp_path / "ft"
    data = str(lines_dir / "labels.tsv")
    argv = ["train", "--train", data, "--val", data, "--out", str(out), "--epochs", "1", "--init", str(base)]
    assert main([*argv, *TINY, "--set=data.augment=false"]) == 0
    started = json.loads((out / "model.json").read_text())["init"]
    shutil.rmtree(base)  # the base model is gone: a resume that reads it would fail
    assert main(["train", "--resume", str(out), "--epochs", "2"]) == 0
    meta = json.loads((out / "model.json").read_text())
    assert meta["init"] == started and meta["training"]["epoch"] == 1


@pytest.mark.parametrize("sequence", ["lstm", "gru", "transformer", "tcn", "none"])
def test_warm_start_at_another_height_keeps_what_the_layers_compute(tmp_path: Path, sequence: str) -> None:
    """A 32-px model started at 48 px: on features whose rows are alike, the first layer computes the same."""
    cfg32 = get_preset("crnn-mobile")
    cfg32.sequence.name, cfg32.height = sequence, 32
    cfg48 = get_preset("crnn-mobile")
    cfg48.sequence.name, cfg48.height = sequence, 48
    small, large = build_model(cfg32, 7), build_model(cfg48, 7)
    meta = {"task": "text_lines", "architecture": {"height": 32}}
    base = warm_start(large, BaseModel(dict(small.state_dict()), meta, tmp_path / "m"))
    assert base.resampled and base.copied == len(large.state_dict())
    old, new = small.encoder.out_height, large.encoder.out_height
    assert (old, new) == (2, 3)
    channels = small.encoder.out_channels // old
    column = torch.randn(4, channels, 1)  # (B, C*H') features with equal rows, at both heights
    features, wide = column.repeat(1, 1, old).flatten(1), column.repeat(1, 1, new).flatten(1)
    for name in base.resampled:
        before, after = small.state_dict()[name], large.state_dict()[name]
        assert after.shape[1] == channels * new
        moved = torch.einsum("oi...,bi->bo...", after, wide)
        torch.testing.assert_close(moved, torch.einsum("oi...,bi->bo...", before, features), rtol=1e-4, atol=1e-4)


def test_warm_start_at_the_same_height_resamples_nothing(tmp_path: Path) -> None:
    model = build_model(get_preset("crnn-mobile"), 5)
    meta = {"task": "text_lines", "architecture": {"height": model.encoder.height}}
    base = warm_start(model, BaseModel(dict(model.state_dict()), meta, tmp_path / "m"))
    assert base.resampled == []


def test_init_at_another_height_round_trips(trained_run: Path, lines_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "taller"
    argv = ["train", "--train", str(lines_dir / "labels.tsv"), "--out", str(out), "--epochs", "1"]
    assert main([*argv, "--init", str(trained_run), *TINY, f"--set=model.height={HEIGHT + 16}"]) == 0
    meta = json.loads((out / "model.json").read_text())
    assert meta["architecture"]["height"] == HEIGHT + 16
    moved = meta["init"]["height"]
    assert moved["from"] == HEIGHT and moved["to"] == HEIGHT + 16 and moved["resampled"]
