"""Start-up contracts (issue 21): help, listings and argument errors import no heavy module; text lines read on
onnxruntime without torch; the bundled ONNX files read exactly what their torch models read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seqvision.checkpoint import BUNDLED, load_metadata
from seqvision.data.images import open_image
from seqvision.export.runtime import ExportError, read_metadata
from seqvision.registry import declared
from seqvision.tasks.lines.predictor import Recognizer
from seqvision.tasks.predictor import onnx_beside

ROOT = Path(__file__).resolve().parents[1]
LINES = sorted((ROOT / "examples" / "lines").glob("*.png"))
MODELS = ("print-en", "hooker-en")
HEAVY = ("torch", "lightning", "matplotlib", "onnx")

# Runs each argv through main() in this one process and fails, naming the command, as soon as one of them has
# imported a heavy module; the commands run in order, so a light one is never blamed for an earlier import.
PROBE = """
import contextlib, io, json, sys
from seqvision.cli import main
heavy, report = {heavy!r}, []
for argv in json.loads(sys.argv[1]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = main(argv)
    loaded = [m for m in heavy if m in sys.modules]
    report.append({{"argv": argv, "rc": rc, "loaded": loaded, "out": out.getvalue()}})
    if loaded:
        break
print(json.dumps(report))
"""


def probe(*commands: list[str], heavy: tuple[str, ...] = HEAVY) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    env["OMP_NUM_THREADS"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=heavy), json.dumps(list(commands))],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_help_listing_and_errors_import_nothing_heavy() -> None:
    commands = [
        ["--help"],
        *([verb, "--help"] for verb in ("train", "eval", "read", "export", "serve", "compare", "calibrate", "lm")),
        ["forecast", "--help"],
        ["models"],
        ["bogus"],  # argparse errors
        ["eval"],
        ["read", "-m", "print-en"],  # our own argument errors
        ["train", "--task", "nope"],
        ["read", "nope.png", "--format", "page"],
    ]
    report = probe(*commands)
    for run in report:
        assert not run["loaded"], f"seqvision {' '.join(run['argv'])} imported {run['loaded']}"
    assert len(report) == len(commands)
    assert [r["rc"] for r in report[-5:]] == [2, 2, 1, 1, 1]
    assert "hooker-en" in report[len(commands) - 6]["out"]  # `models` still lists the bundled models


def test_top_level_help_imports_not_even_numpy() -> None:
    """`seqvision --help` builds every verb's parser: none of them may reach for numpy or Pillow to do it."""
    (run,) = probe(["--help"], heavy=("numpy", "PIL"))
    assert run["rc"] == 0 and not run["loaded"], f"seqvision --help imported {run['loaded']}"
    assert "synth-emotion" in run["out"]  # the parser that once imported the video writer is still listed


def test_read_and_eval_on_onnx_import_no_torch() -> None:
    line = str(LINES[0])
    labels = str(ROOT / "examples" / "lines" / "labels.tsv")
    report = probe(
        ["read", "--backend", "onnx", line, "--threads", "1"],
        ["read", "hooker-en", line, "--backend", "onnx", "--format", "json"],
        ["read", "print-en", line],  # the default backend: onnx, the bundled model has its .onnx
        ["eval", "print-en", labels, "--json", "--threads", "2"],
        heavy=("torch", "lightning", "matplotlib"),
    )
    for run in report:
        assert not run["loaded"], f"seqvision {' '.join(run['argv'])} imported {run['loaded']}"
        assert run["rc"] == 0, run
    assert report[0]["out"].strip() == report[2]["out"].strip() == "Kew Gardens, 14 March 1895."
    assert json.loads(report[1]["out"])["text"]
    result = json.loads(report[3]["out"])
    assert result["backend"] == "onnx" and result["lines"] == len(LINES) and result["cer"] < 0.05


def test_serving_the_bundled_models_imports_no_torch() -> None:
    pytest.importorskip("fastapi")
    script = (
        "import sys; from seqvision.serving import ServeConfig, create_app, load_models; "
        "models = load_models(['print-en', 'hooker-en'], None, 1); create_app(models, ServeConfig()); "
        "print(sorted({m.backend for m in models.values()}), [m for m in ('torch', 'lightning') if m in sys.modules])"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["['onnx']", "[]"]


def sample_images(shared: Path | None) -> list:
    images = [open_image(p) for p in LINES]
    if shared is not None:  # a few real handwritten and printed lines too, when the data is here
        for folder in ("hooker/val/images", "printed/ehri_en/val/images"):
            images += [open_image(p) for p in sorted((shared / folder).glob("*"))[:6]]
    return images


@pytest.mark.parametrize("name", MODELS)
def test_bundled_onnx_reads_like_torch(name: str) -> None:
    shared = ROOT.parent / "shared" / "data"
    images = sample_images(shared if shared.is_dir() else None)
    torch_rec, onnx_rec = Recognizer.load(name, "torch", 1), Recognizer.load(name, None, 1)
    assert torch_rec.backend == "torch" and onnx_rec.backend == "onnx" and onnx_rec.model is None
    assert onnx_rec.path == torch_rec.path and onnx_rec.metadata == torch_rec.metadata
    for a, b in zip(torch_rec.read(images), onnx_rec.read(images), strict=True):
        assert a.text == b.text
        assert a.confidence == pytest.approx(b.confidence, abs=1e-3)
        assert a.char_confidences == pytest.approx(b.char_confidences, abs=1e-3)


@pytest.mark.parametrize("name", MODELS)
def test_bundled_onnx_is_up_to_date(name: str) -> None:
    meta, path = load_metadata(name)
    assert onnx_beside(path, meta) == path.with_suffix(".onnx"), (
        f"{path.with_suffix('.onnx')} is missing or stale: seqvision export {name} --out {path.with_suffix('.onnx')}"
    )
    assert path.with_suffix(".onnx").stat().st_size < 1.05 * path.stat().st_size + 100_000  # fp32, no more


def test_stale_onnx_beside_a_model_is_not_used(tmp_path: Path) -> None:
    for suffix in (".safetensors", ".json"):
        shutil.copy(BUNDLED / f"print-en{suffix}", tmp_path / f"model{suffix}")
    shutil.copy(BUNDLED / "hooker-en.onnx", tmp_path / "model.onnx")  # another model's export
    meta, path = load_metadata(tmp_path / "model.safetensors")
    assert onnx_beside(path, meta) is None
    rec = Recognizer.load(path, None, 1)
    assert rec.backend == "torch" and rec.model is not None
    shutil.copy(BUNDLED / "print-en.onnx", tmp_path / "model.onnx")  # the model's own export: used
    assert Recognizer.load(path, None, 1).backend == "onnx"


def test_onnx_metadata_is_read_without_the_onnx_package(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    path = BUNDLED / "print-en.onnx"
    proto = onnx.load(str(path), load_external_data=False)
    expected = json.loads(next(e.value for e in proto.metadata_props if e.key == "seqvision"))
    assert read_metadata(path) == expected
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ExportError, match=r"broken\.onnx: not a readable ONNX file"):
        read_metadata(broken)
    del proto.metadata_props[:]
    bare = tmp_path / "bare.onnx"
    bare.write_bytes(proto.SerializeToString())
    with pytest.raises(ExportError, match="without seqvision metadata"):
        read_metadata(bare)


def test_models_listing_from_source_matches_the_registries() -> None:
    import seqvision.nn.model
    import seqvision.nn.presets  # noqa: F401
    from seqvision import registry

    names = ("PRESETS", "ENCODERS", "SEQUENCES", "SPATIAL_SEQUENCES", "HEADS")
    found = declared(ROOT / "src" / "seqvision" / "nn", names)
    for name in names:
        live = getattr(registry, name)
        assert found[name] == {n: live.describe(n) for n in live}, name
