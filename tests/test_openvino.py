"""The openvino backend (issue 21): OpenVINO reads the bundled ``.onnx`` files as onnxruntime and torch do, without
importing torch, from every CLI entry point; a clear one-line error when it is not installed."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from seqvision.checkpoint import BUNDLED
from seqvision.cli.main import main
from seqvision.data.images import open_image
from seqvision.errors import ConfigError
from seqvision.tasks.lines.predictor import Recognizer

ROOT = Path(__file__).resolve().parents[1]
LINES = sorted((ROOT / "examples" / "lines").glob("*.png"))
EXPORTED = sorted(p.stem for p in BUNDLED.glob("*.onnx"))  # the bundled models that ship an .onnx file
SHARED = ROOT.parent / "shared" / "data"
needs_openvino = pytest.mark.skipif(
    importlib.util.find_spec("openvino") is None, reason="openvino is not installed (pip install 'seqvision[openvino]')"
)


def sample_arrays(rec: Recognizer) -> list[np.ndarray]:
    """The example lines, and a few real handwritten and printed ones when the shared data is here."""
    paths = list(LINES)
    for folder in ("hooker/val/images", "printed/ehri_en/val/images"):
        paths += sorted((SHARED / folder).glob("*"))[:6]
    return [rec.prepare(open_image(p)) for p in paths]


def test_the_bundled_models_ship_onnx_files() -> None:
    assert {"print-en", "hooker-en"} <= set(EXPORTED)


@needs_openvino
@pytest.mark.parametrize("name", EXPORTED)
def test_openvino_reads_like_onnxruntime_and_torch(name: str) -> None:
    torch_rec, ort_rec, ov_rec = (Recognizer.load(name, b, 1) for b in ("torch", "onnx", "openvino"))
    assert [r.backend for r in (torch_rec, ort_rec, ov_rec)] == ["torch", "onnx", "openvino"]
    assert ov_rec.model is None and ov_rec.metadata == ort_rec.metadata  # the bundled file, no torch model built
    arrays = sample_arrays(ov_rec)
    for batch_size in (1, 8):  # batch 1 and padded batches of several widths (the width axis is dynamic)
        ov_lp = ov_rec.log_probs(arrays, batch_size)
        for ref in (ort_rec, torch_rec):
            for a, b in zip(ov_lp, ref.log_probs(arrays, batch_size), strict=True):
                assert a.shape == b.shape
                np.testing.assert_allclose(a, b, atol=2e-3)
    texts = [d.text for _, d in ov_rec.read_arrays(arrays)]
    assert texts == [d.text for _, d in torch_rec.read_arrays(arrays)]
    assert any(texts)


@needs_openvino
def test_openvino_exports_a_saved_model_in_memory_and_reads_onnx_files(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    for suffix in (".safetensors", ".json"):  # a saved model with no .onnx beside it: exported on the fly
        shutil.copy(BUNDLED / f"print-en{suffix}", tmp_path / f"model{suffix}")
    images = [open_image(p) for p in LINES]
    expected = [d.text for d in Recognizer.load("print-en", "torch", 1).read(images)]
    exported = Recognizer.load(tmp_path / "model.safetensors", "openvino", 1)
    assert exported.backend == "openvino" and exported.model is not None
    from_file = Recognizer.load(BUNDLED / "print-en.onnx", "openvino", 1)  # an .onnx path runs on openvino if asked
    assert from_file.backend == "openvino"
    assert Recognizer.load(BUNDLED / "print-en.onnx", None, 1).backend == "onnx"  # ... and onnxruntime by default
    for rec in (exported, from_file):
        assert [d.text for d in rec.read(images)] == expected


@needs_openvino
def test_one_openvino_session_serves_many_threads() -> None:
    rec = Recognizer.load("print-en", "openvino", 1)
    arrays = sample_arrays(rec)
    expected = [d.text for _, d in rec.read_arrays(arrays, 4)]
    results: list[list[str]] = []

    def work() -> None:
        for _ in range(3):
            results.append([d.text for _, d in rec.read_arrays(arrays, 4)])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12 and all(r == expected for r in results)


@needs_openvino
def test_read_eval_and_serve_on_openvino_import_no_torch() -> None:
    line, labels = str(LINES[0]), str(ROOT / "examples" / "lines" / "labels.tsv")
    script = f"""
import contextlib, io, json, sys
from seqvision.cli import main
out = {{}}
for key, argv in [("read", ["read", {line!r}, "--backend", "openvino", "--threads", "1"]),
                  ("eval", ["eval", "print-en", {labels!r}, "--backend", "openvino", "--json"])]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        out[key] = (main(argv), buf.getvalue())
try:
    from seqvision.serving import load_models
    out["serve"] = sorted({{m.backend for m in load_models(["print-en", "hooker-en"], "openvino", 1).values()}})
except ImportError:  # no [serve] extra
    out["serve"] = ["openvino"]
out["heavy"] = [m for m in ("torch", "lightning", "onnx") if m in sys.modules]
print(json.dumps(out))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    assert out["heavy"] == [], f"the openvino path imported {out['heavy']}"
    assert out["read"] == [0, "Kew Gardens, 14 March 1895.\n"]
    rc, text = out["eval"]
    result = json.loads(text)
    assert rc == 0 and result["backend"] == "openvino" and result["cer"] < 0.05
    assert out["serve"] == ["openvino"]


def test_missing_openvino_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "openvino", None)  # as if not installed
    assert main(["read", str(LINES[0]), "--backend", "openvino"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "seqvision: error: the openvino backend needs openvino: pip install 'seqvision[openvino]'"
    with pytest.raises(ConfigError, match=r"pip install 'seqvision\[openvino\]'"):
        Recognizer.load("hooker-en", "openvino", 1)


@needs_openvino
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize(("op", "gates"), [("LSTM", 4), ("GRU", 3), ("RNN", 1)])
def test_recurrent_layers_honour_sequence_lengths_on_openvino(op: str, gates: int, direction: str) -> None:
    """One ONNX recurrent node, a batch of sequences of lengths T, 7 and 1: OpenVINO as rewritten by
    ``honour_sequence_lengths`` gives onnxruntime's output, padding zeroed (unrewritten, it is off by up to ~1)."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import openvino as ov

    from seqvision.export.openvino_rnn import honour_sequence_lengths

    helper, numpy_helper, f32 = onnx.helper, onnx.numpy_helper, onnx.TensorProto.FLOAT
    rng = np.random.default_rng(0)
    steps, size, hidden, dirs = 10, 4, 3, 2 if direction == "bidirectional" else 1
    weights = [
        numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)
        for name, shape in (("W", (dirs, gates * hidden, size)), ("R", (dirs, gates * hidden, hidden)))
    ]
    weights.append(numpy_helper.from_array(rng.standard_normal((dirs, 2 * gates * hidden)).astype(np.float32), "B"))
    node = helper.make_node(op, ["x", "W", "R", "B", "lengths"], ["y"], direction=direction, hidden_size=hidden)
    inputs = [
        helper.make_tensor_value_info("x", f32, ["T", "N", size]),
        helper.make_tensor_value_info("lengths", onnx.TensorProto.INT32, ["N"]),
    ]
    graph = helper.make_graph([node], "rnn", inputs, [helper.make_tensor_value_info("y", f32, None)], weights)
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    feeds = {"x": rng.standard_normal((steps, 3, size)).astype(np.float32), "lengths": np.array([10, 7, 1], np.int32)}
    expected = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    core = ov.Core()
    model = core.read_model(data)
    assert honour_sequence_lengths(model) == 1
    got = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})(feeds)[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)
