"""``train.teacher``: frame-wise distillation of a text-line model from a trained one."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from conftest import HEIGHT, TINY
from seqvision.checkpoint import load_state
from seqvision.cli.main import main
from seqvision.data.alphabet import Alphabet
from seqvision.errors import ConfigError
from seqvision.nn.model import build_model
from seqvision.nn.presets import get_preset
from seqvision.tasks.lines.distill import Teacher, distill_loss, feature_loss


def test_distill_loss_is_zero_on_the_teacher_and_pulls_the_student_towards_it() -> None:
    torch.manual_seed(0)
    teacher = torch.randn(2, 6, 5).log_softmax(-1)
    lengths, chars = torch.tensor([6, 4]), torch.tensor([3, 2])
    assert float(distill_loss(teacher, lengths, teacher, lengths, chars)) == pytest.approx(0.0, abs=1e-6)
    student = torch.randn(2, 6, 5, requires_grad=True)
    loss = distill_loss(student.log_softmax(-1), lengths, teacher, lengths, chars)
    assert float(loss.detach()) > 0
    loss.backward()
    assert student.grad is not None and float(student.grad[1, 4:].abs().sum()) == 0.0  # padding frames count nothing
    moved = (student - 0.5 * student.grad).detach().log_softmax(-1)
    assert float(distill_loss(moved, lengths, teacher, lengths, chars)) < float(loss.detach())


def test_feature_loss_is_relative_and_ignores_padding_frames() -> None:
    torch.manual_seed(0)
    teacher = torch.randn(2, 6, 8) * 5.0  # the scale does not matter: 1 is as far as predicting zeros
    lengths = torch.tensor([6, 4])
    assert float(feature_loss(teacher, teacher, lengths)) == pytest.approx(0.0, abs=1e-6)
    assert float(feature_loss(torch.zeros_like(teacher), teacher, lengths)) == pytest.approx(1.0)
    student = torch.randn(2, 6, 8, requires_grad=True)
    loss = feature_loss(student, teacher, lengths)
    loss.backward()
    assert student.grad is not None and float(student.grad[1, 4:].abs().sum()) == 0.0
    moved = (student - 0.5 * student.grad / student.grad.abs().max()).detach()
    assert float(feature_loss(moved, teacher, lengths)) < float(loss.detach())


def test_feature_distillation_needs_encoders_of_one_width() -> None:
    cfg = get_preset("crnn-mobile")
    teacher = Teacher(build_model(cfg, 4), Alphabet(["a", "b", "c"]), cfg.height, "t")
    teacher.check_features(build_model(cfg, 3))  # the same encoder: fine
    narrow = get_preset("crnn-mobile")
    narrow.encoder.channels = [16, 32, 48, 64, 80]  # a narrower last block: fewer features per frame
    with pytest.raises(ConfigError, match=r"encoder gives \d+ features per frame, this run's \d+"):
        teacher.check_features(build_model(narrow, 3))


def test_teacher_maps_its_classes_onto_the_students_alphabet() -> None:
    cfg = get_preset("crnn-mobile")
    model = build_model(cfg, 4)  # blank + a b c
    teacher = Teacher(model, Alphabet(["a", "b", "c"]), cfg.height, "t")
    teacher.check(build_model(cfg, 3), Alphabet(["c", "a"]), cfg.height)
    images, widths = torch.rand(1, 1, cfg.height, 64), torch.tensor([64])
    full, _ = model(images, widths)
    picked, _ = teacher.log_probs(images, widths)
    assert picked.shape[-1] == 3 and torch.allclose(picked.exp().sum(-1), torch.ones(1, picked.shape[1]))
    expected = full.float()[..., [0, 3, 1]]
    torch.testing.assert_close(picked, expected - expected.logsumexp(-1, keepdim=True))
    with pytest.raises(ConfigError, match=r"lacks 1 of this run's characters \('d'\)"):
        teacher.check(build_model(cfg, 3), Alphabet(["a", "d"]), cfg.height)
    with pytest.raises(ConfigError, match="reads 48-px lines, this run 32 px"):
        teacher.check(build_model(cfg, 3), Alphabet(["a"]), 32)


def test_distilled_training_reduces_the_loss_and_records_the_teacher(
    trained_run: Path, lines_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "student"
    argv = ["train", "--train", str(lines_dir / "labels.tsv"), "--out", str(out), "--epochs", "4", *TINY]
    argv += ["--set=model.sequence.hidden=16", f"--set=train.teacher={trained_run}", "--set=train.lr=0.005"]
    argv += ["--set=data.augment=false"]
    assert main(argv) == 0
    assert f"teacher: {trained_run / 'model.safetensors'}" in capsys.readouterr().out
    meta = json.loads((out / "model.json").read_text())
    assert meta["teacher"]["weight"] == 1.0 and meta["teacher"]["from"].endswith("model.safetensors")
    rows = [r for r in csv.DictReader((out / "metrics.csv").open()) if r.get("train_loss_epoch")]
    assert len(rows) >= 2 and float(rows[-1]["train_loss_epoch"]) < float(rows[0]["train_loss_epoch"])
    assert any(r.get("train_distill_epoch") for r in rows)
    saved = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert all(name.startswith("model.") for name in saved)  # the teacher's weights stay out of the run


def test_feature_distillation_into_the_teachers_own_sequence_model(
    trained_run: Path, lines_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A student that takes over the teacher's sequence model and head, with those frozen, learns its encoder."""
    base, _, _ = load_state(trained_run)
    out = tmp_path / "hinted"
    argv = ["train", "--train", str(lines_dir / "labels.tsv"), "--out", str(out), "--epochs", "3", *TINY]
    argv += ["--init", str(trained_run), "--set=train.init_partial=true", "--set=data.augment=false"]
    argv += [f"--set=train.teacher={trained_run}", "--set=train.distill_features=1.0", "--set=train.lr=0.005"]
    argv += ["--set=train.freeze_sequence_steps=1000", "--set=model.encoder.dropout=0.3"]
    assert main(argv) == 0
    assert "encoder features weight 1" in capsys.readouterr().out
    rows = [r for r in csv.DictReader((out / "metrics.csv").open()) if r.get("train_hint_epoch")]
    assert len(rows) >= 2 and float(rows[-1]["train_hint_epoch"]) < float(rows[0]["train_hint_epoch"])
    tensors, meta, _ = load_state(out)
    assert meta["teacher"]["features"] == 1.0
    fixed = [k for k in tensors if k.startswith(("sequence.", "head."))]
    assert fixed and all(torch.equal(tensors[k], base[k]) for k in fixed)  # frozen for all of the run
    assert any(not torch.equal(tensors[k], base[k]) for k in tensors if k.startswith("encoder."))


def test_a_teacher_at_another_height_is_one_clear_line(
    trained_run: Path, lines_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--train", str(lines_dir / "labels.tsv"), "--out", str(tmp_path / "x"), "--epochs", "1", *TINY]
    assert main([*argv, f"--set=model.height={HEIGHT + 16}", f"--set=train.teacher={trained_run}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("seqvision: error: train.teacher ") and f"reads {HEIGHT}-px lines" in err[-1]
    assert not any("Traceback" in line for line in err)
