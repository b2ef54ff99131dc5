"""Inference speed per bundled model and backend, one thread: ms/line at batch 1, lines/s at the best
batch size, the share of this machine's measured fp32 peak, and Tesseract on the same lines.

Backends: eager PyTorch, torch.compile (where it works), onnxruntime fp32 and int8 (LSTM/linear
weights; convolutions stay fp32), OpenVINO fp32 (``--backend openvino``: the same fp32 ONNX graph) and,
for comparison only, OpenVINO bf16 (its default on CPUs with AVX512-BF16; not what seqvision runs).
The model timings start from normalised arrays (decoding and
normalising images is the same for every backend and runs on a thread pool in the CLI); Tesseract's
include reading the images, as it cannot skip that. The peak is a large onnxruntime matmul
measured in the same run.

    python benchmarks/inference_speed.py              # ~10 minutes
    python benchmarks/inference_speed.py --lines 16   # a smoke run
    python benchmarks/inference_speed.py --backends "torch eager,onnxruntime fp32,openvino fp32"
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from vs_tesseract import run_tesseract  # this folder: one process over a list file, one thread

from seqvision.data.images import open_image
from seqvision.data.readers import read_lines
from seqvision.export.onnx import quantize_int8, to_onnx
from seqvision.export.runtime import OpenVinoSession, runtime_available
from seqvision.export.runtime import session as ort_session
from seqvision.nn.flops import forward_gflops
from seqvision.tasks.lines.metrics import ErrorRates
from seqvision.tasks.lines.predictor import Recognizer
from seqvision.tasks.lines.synth import find_fonts, write_dataset

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BATCH_SIZES = (1, 8, 16, 32, 64)


def peak_gflops(sizes: tuple[int, ...] = (256, 512, 1024, 2048), seconds: float = 0.5) -> float:
    """fp32 GFLOP/s of the best square matmul in onnxruntime on one thread (the practical peak here)."""
    from onnx import TensorProto, helper

    best_rate = 0.0
    for n in sizes:
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["a", "b"], ["c"])],
            "peak",
            [helper.make_tensor_value_info(x, TensorProto.FLOAT, [n, n]) for x in "ab"],
            [helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])],
        )
        session = ort_session(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
        a = np.random.default_rng(0).random((n, n), dtype=np.float32)
        session.run(None, {"a": a, "b": a})
        reps = max(1, int(seconds * 100e9 / (2 * n**3)))
        for _ in range(3):
            elapsed = _timed(lambda: [session.run(None, {"a": a, "b": a}) for _ in range(reps)])  # noqa: B023
            best_rate = max(best_rate, 2 * n**3 * reps / elapsed / 1e9)
    return best_rate


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def backends(rec: Recognizer, wanted: set[str] | None = None) -> dict[str, Recognizer | str]:
    """Backend name -> the recognizer running on it, or the reason it is unavailable (``wanted``: these only)."""
    assert rec.model is not None
    found: dict[str, Recognizer | str] = {"torch eager": rec}
    if wanted is None or "torch.compile" in wanted:
        found |= compiled(rec)
    fp32 = to_onnx(rec.model, rec.height)
    for name, data in (("onnxruntime fp32", fp32), ("onnxruntime int8", quantize_int8(fp32))):
        found[name] = replace(rec, session=ort_session(data, threads=1))
    for name, precision in (("openvino fp32", "f32"), ("openvino bf16", "bf16")):
        ok = runtime_available("openvino")
        found[name] = replace(rec, session=OpenVinoSession(fp32, 1, precision)) if ok else "not installed"
    return {k: v for k, v in found.items() if wanted is None or k in wanted}


def compiled(rec: Recognizer) -> dict[str, Recognizer | str]:
    assert rec.model is not None
    found: dict[str, Recognizer | str] = {}
    try:
        compiled = torch.compile(rec.model, dynamic=True)
        with torch.inference_mode():
            compiled(torch.zeros(2, 1, rec.height, 256), torch.tensor([256, 200]))
        found["torch.compile"] = replace(rec, model=compiled)
    except Exception as exc:  # compilation fails in many ways; report, don't stop
        found["torch.compile"] = f"fails: {str(exc).splitlines()[0][:80]}"
    return found


def throughput(rec: Recognizer, arrays: list[np.ndarray], batch_size: int) -> tuple[float, list[str]]:
    """Lines/s over all arrays in width-sorted batches (CTC decoding included) and the texts, in input order."""
    start = time.perf_counter()
    texts = [d.text for _, d in rec.read_arrays(arrays, batch_size)]
    return len(arrays) / (time.perf_counter() - start), texts


def tesseract_rate(images: list[Path], workdir: Path) -> float | None:
    if shutil.which("tesseract") is None:
        return None
    _, seconds = run_tesseract(images, workdir)
    return len(images) / seconds


def line_sets(args: argparse.Namespace, workdir: Path) -> list[tuple[str, list[Path]]]:
    sets = []
    if (SHARED / "hooker" / "val").is_dir():
        samples = read_lines(SHARED / "hooker" / "val").samples[: args.lines]
        sets.append(("hooker val", [s.image for s in samples]))
    tsv = write_dataset(workdir / "synthetic", args.lines, find_fonts(), seed=4, height=48)
    sets.append(("synthetic", [s.image for s in read_lines(tsv).samples]))
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="print-en,hooker-en")
    parser.add_argument("--lines", type=int, default=300, help="lines per set")
    parser.add_argument("--backends", help="comma-separated backend names to run (default: all)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "inference_speed.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch._logging.set_logs(dynamo=logging.ERROR)  # torch.compile's recompilation chatter
    peak = peak_gflops()
    rows = []
    with tempfile.TemporaryDirectory(prefix="seqvision-speed-") as tmp:
        sets = line_sets(args, Path(tmp))
        tess = {name: tesseract_rate(images, Path(tmp)) for name, images in sets}
        for model_name in args.models.split(","):
            rec = Recognizer.load(model_name)
            variants = backends(rec, set(args.backends.split(",")) if args.backends else None)
            for set_name, images in sets:
                arrays = [rec.prepare(open_image(p)) for p in images]
                median_width = int(np.median([a.shape[1] for a in arrays]))
                gflops = forward_gflops(rec.model, rec.height, median_width)  # type: ignore[arg-type]
                reference: list[str] | None = None
                eager_rate = None
                for backend, variant in variants.items():
                    if isinstance(variant, str):
                        rows.append({"model": model_name, "set": set_name, "backend": backend, "note": variant})
                        continue
                    throughput(variant, arrays[:8], 8)  # warm-up
                    rates = {b: throughput(variant, arrays, b) for b in BATCH_SIZES}
                    best = max(rates, key=lambda b: rates[b][0])
                    texts = rates[1][1]
                    reference = reference or texts
                    drift = ErrorRates()
                    for text, ref in zip(texts, reference, strict=True):
                        drift.update(text, ref)
                    eager_rate = eager_rate or rates[1][0]
                    rows.append(
                        {
                            "model": model_name,
                            "set": set_name,
                            "backend": backend,
                            "gflops_per_line": round(gflops, 3),
                            "ms_per_line_batch1": round(1000 / rates[1][0], 2),
                            "best_batch": best,
                            "lines_per_s_best": round(rates[best][0], 1),
                            "x_eager_batch1": round(rates[1][0] / eager_rate, 2),
                            "x_tesseract": round(rates[best][0] / tess[set_name], 2) if tess[set_name] else None,
                            "peak_fraction": round(gflops * rates[best][0] / peak, 3),
                            "cer_vs_eager": round(drift.cer, 4),
                        }
                    )
    header = (
        f"one thread; {args.lines} lines per set; peak fp32 (best onnxruntime square matmul) {peak:.0f} GFLOP/s; "
        f"torch {torch.__version__}; {platform.processor() or platform.machine()}; "
        + "; ".join(f"tesseract {name}: {rate:.1f} lines/s" for name, rate in tess.items() if rate)
    )
    print(f"\n{header}\n")
    print("| model | set | backend | GFLOPs/line | ms/line (batch 1) | lines/s (best batch) | vs eager (b1) "
          "| vs tesseract | % of fp32 peak | CER vs eager |")  # fmt: skip
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "note" in r:
            print(f"| {r['model']} | {r['set']} | {r['backend']} | {r['note']} | | | | | | |")
            continue
        low = next((f" ({p} ops)" for p in ("int8", "bf16") if p in r["backend"]), "")  # not fp32 FLOPs
        print(
            f"| {r['model']} | {r['set']} | {r['backend']} | {r['gflops_per_line']} | {r['ms_per_line_batch1']} "
            f"| {r['lines_per_s_best']} (b{r['best_batch']}) | {r['x_eager_batch1']}x | {r['x_tesseract']}x "
            f"| {100 * r['peak_fraction']:.0f} %{low} "
            f"| {100 * r['cer_vs_eager']:.2f} % |"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"header": header, "rows": rows}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
