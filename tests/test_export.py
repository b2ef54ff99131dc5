"""ONNX export and the onnxruntime backend: self-contained files, same answers as PyTorch, int8 close
to fp32, and clear errors for what cannot be exported. (Shape parity for every encoder x sequence
model lives in test_models.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import Tensor

from seqvision.cli.main import main
from seqvision.data.readers import read_lines
from seqvision.errors import DataError
from seqvision.export.onnx import ExportError, read_metadata, to_onnx
from seqvision.nn.model import SeqModel
from seqvision.nn.sequence.base import SequenceModel
from seqvision.tasks.lines.metrics import ErrorRates
from seqvision.tasks.lines.predictor import Recognizer
from seqvision.tasks.lines.synth import HELD_OUT, LineGenerator, find_fonts

pytest.importorskip("onnxruntime")


def texts(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[str]:
    assert main(argv) == 0
    return capsys.readouterr().out.splitlines()


@pytest.fixture(scope="module")
def exported(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    assert main(["export", str(trained_run), "--out", str(out)]) == 0
    return out


def test_exported_file_is_self_contained(exported: Path, trained_run: Path) -> None:
    meta = read_metadata(exported)
    saved = json.loads((trained_run / "model.json").read_text())
    assert meta["alphabet"] == saved["alphabet"] and meta["input"] == saved["input"]
    assert meta["onnx"]["int8"] is False


def test_onnx_file_and_backend_read_like_torch(
    exported: Path, trained_run: Path, lines_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = sorted(str(p) for p in (lines_dir / "images").glob("*.png"))[:12]
    eager = texts(capsys, ["read", str(trained_run), *images])
    assert texts(capsys, ["read", str(exported), *images]) == eager
    assert texts(capsys, ["read", "--backend", "onnx", str(trained_run), *images]) == eager
    assert main(["eval", str(exported), str(lines_dir / "labels.tsv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["backend"] == "onnx"


def test_int8_transcriptions_stay_close_to_fp32(tmp_path: Path) -> None:
    """print-en int8 (LSTM/linear weights) vs fp32 on clean lines in unseen fonts: CER within 1 point."""
    try:
        fonts = find_fonts(include=HELD_OUT)
    except DataError as exc:
        pytest.skip(f"needs the Debian font packages that `make install` adds: {exc}")
    assert main(["export", "print-en", "--out", str(tmp_path / "p8.onnx"), "--int8"]) == 0
    fp32, int8 = Recognizer.load("print-en"), Recognizer.load(tmp_path / "p8.onnx")
    assert read_metadata(tmp_path / "p8.onnx")["onnx"]["int8"] is True
    gen = LineGenerator(fonts, seed=21, height=48, clean=True, max_chars=40)
    lines = [gen[i] for i in range(30)]
    images, refs = [img for img, _, _ in lines], [text for _, text, _ in lines]
    rates = {name: ErrorRates() for name in ("fp32", "int8")}
    for name, rec in (("fp32", fp32), ("int8", int8)):
        for decoded, ref in zip(rec.read(images), refs, strict=True):
            rates[name].update(decoded.text, ref)
    assert abs(rates["int8"].cer - rates["fp32"].cer) <= 0.01, {k: v.cer for k, v in rates.items()}


def test_onnx_backend_matches_torch_on_real_lines(shared_data: Path) -> None:
    """Identical greedy transcriptions from hooker-en on real handwritten lines."""
    samples = read_lines(shared_data / "hooker" / "val").samples[:24]
    from seqvision.data.images import load_line

    images = [load_line(s) for s in samples]
    eager = [d.text for d in Recognizer.load("hooker-en").read(images)]
    assert [d.text for d in Recognizer.load("hooker-en", backend="onnx").read(images)] == eager


class FixedLength(SequenceModel):
    """Not exportable: slicing to a Python int bakes the traced length into the graph."""

    def __init__(self, channels: int):
        super().__init__()
        self.in_channels = self.out_channels = channels

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        steps = int(lengths.max())
        return torch.nn.functional.pad(x[:, :steps], (0, 0, 0, x.shape[1] - steps))


def test_unexportable_part_is_named(trained_run: Path) -> None:
    rec = Recognizer.load(trained_run)
    assert rec.model is not None
    model = SeqModel(rec.model.encoder, FixedLength(rec.model.encoder.out_channels), torch.nn.Identity())
    model.parts = {"encoder": "small", "sequence": "fixed-length", "head": "identity"}
    with pytest.raises(ExportError, match="sequence 'fixed-length'"):
        to_onnx(model, rec.height)


def test_bad_onnx_files_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], lines_dir: Path) -> None:
    image = str(next((lines_dir / "images").glob("*.png")))
    (tmp_path / "junk.onnx").write_bytes(b"not a protobuf at all \x00\xff")
    assert main(["read", str(tmp_path / "junk.onnx"), image]) == 1
    err = capsys.readouterr().err
    assert "junk.onnx" in err and ("not a readable ONNX file" in err or "without seqvision metadata" in err)
    assert main(["export", "print-en", "--out", str(tmp_path / "model.bin")]) == 1
    assert "should end in .onnx" in capsys.readouterr().err
