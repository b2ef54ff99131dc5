"""seqvision vs Tesseract (and RapidOCR) on the same text lines, one thread each: CER, WER, lines/s, ratios.

Sets: synthetic printed lines in font families held out of print-en's training (a separate seed),
clean and degraded; when ``../shared/data`` is present, the real printed validation lines of
``printed/{ehri_en,gt4hist_en,sroie}`` (typewritten archive scans, 19th-century print, receipts;
SROIE's labels are upper case, so that set is scored case-folded) and the real handwritten
hooker/poilus validation lines. Tesseract 5 runs as its own peer would be run: ``--psm 7`` (one
text line), ``-l eng``, one process over a list file of all images (its model loads once),
``OMP_THREAD_LIMIT=1``. RapidOCR (PyPI ``rapidocr-onnxruntime``: PaddleOCR's PP-OCRv4 recognition
model inside its wheel, offline) reads each crop with ``use_det=False, use_cls=False`` on one
onnxruntime thread, when it is installed (``pip install 'seqvision[bench]'``). seqvision runs once
per backend (``--backends``) and, with ``--lm``, once more with beam search and that language model.
Every system's time includes decoding and normalising the images.

Both outputs and references go through the same normalisation before scoring: Unicode NFKC (so
Tesseract's ligatures such as "ﬁ" count as "fi"), curly quotes to straight ones, dashes to "-".

    python benchmarks/vs_tesseract.py                 # the full table (about 10 minutes)
    python benchmarks/vs_tesseract.py --limit 5       # a smoke run
    python benchmarks/vs_tesseract.py --sets printed --lm print-en.arpa   # real printed lines, with an LM
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqvision.data.images import open_image
from seqvision.data.readers import read_lines
from seqvision.tasks.lines.decoding.beam import DecoderSpec
from seqvision.tasks.lines.metrics import ErrorRates
from seqvision.tasks.lines.predictor import Recognizer
from seqvision.tasks.lines.synth import HELD_OUT, find_fonts, write_dataset

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
FAIR = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def fair(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(FAIR).split())


@dataclass
class Row:
    set: str
    system: str
    lines: int
    cer: float
    wer: float
    lines_per_s: float
    ms_per_line: float


def score(name: str, system: str, hyps: list[str], refs: list[str], seconds: float, fold: bool = False) -> Row:
    """Error rates after :func:`fair`; ``fold``: case-insensitive (for references written in upper case)."""
    rates = ErrorRates()
    for hyp, ref in zip(hyps, refs, strict=True):
        h, r = fair(hyp), fair(ref)
        rates.update(h.upper() if fold else h, r.upper() if fold else r)
    n = len(refs)
    return Row(name, system, n, rates.cer, rates.wer, n / seconds, 1000 * seconds / n)


def run_tesseract(images: list[Path], workdir: Path) -> tuple[list[str], float]:
    """All images through one Tesseract process; returns the texts and the wall time."""
    listing = workdir / "tesseract-list.txt"
    listing.write_text("".join(f"{p.resolve()}\n" for p in images), encoding="utf-8")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    start = time.perf_counter()
    done = subprocess.run(
        ["tesseract", str(listing), "stdout", "--psm", "7", "-l", "eng"], capture_output=True, env=env, check=False
    )
    seconds = time.perf_counter() - start
    pages = done.stdout.decode("utf-8", errors="replace").split("\f")
    texts = [" ".join(p.split()) for p in pages]
    if done.returncode != 0 or len(texts) < len(images):
        sys.exit(f"tesseract failed (exit {done.returncode}): {done.stderr.decode(errors='replace')[-400:]}")
    return texts[: len(images)], seconds


def rapidocr_engine() -> Any:
    """RapidOCR on one onnxruntime thread, or None when ``rapidocr-onnxruntime`` is not installed."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    return RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)


def run_rapidocr(engine: Any, images: list[Path]) -> tuple[list[str], float]:
    """Recognition only (the crops are lines already): no detection, no angle classifier."""
    start = time.perf_counter()
    texts = []
    for p in images:
        result, _ = engine(np.asarray(open_image(p, "RGB")), use_det=False, use_cls=False)
        texts.append(result[0][0] if result else "")
    return texts, time.perf_counter() - start


def run_seqvision(model: Recognizer, images: list[Path], batch_size: int) -> tuple[list[str], float]:
    start = time.perf_counter()
    arrays = [model.prepare(open_image(p)) for p in images]
    texts = [d.text for _, d in model.read_arrays(arrays, batch_size)]
    return texts, time.perf_counter() - start


PRINTED = {"ehri_en": "typewritten scans", "gt4hist_en": "19th-c. print", "sroie": "receipts, case-folded"}


def line_sets(args: argparse.Namespace, workdir: Path) -> list[tuple[str, str, list[Path], list[str], bool]]:
    """(set name, model, images, references, case-folded) for every requested set on this machine."""
    sets = []
    if "synthetic" in args.sets:
        held_out = find_fonts(include=HELD_OUT)
        for clean in (True, False):
            folder = workdir / ("clean" if clean else "degraded")
            write_dataset(folder, args.synthetic, held_out, seed=args.seed, height=args.height, clean=clean)
            samples = read_lines(folder / "labels.tsv").samples
            label = f"synthetic {'clean' if clean else 'degraded'}, unseen fonts"
            sets.append((label, args.model, [s.image for s in samples], [s.text for s in samples], False))
    real = [(f"printed/{n}", f"{n} val ({what})", args.model, n == "sroie") for n, what in PRINTED.items()]
    real = [r for r in real if "printed" in args.sets]
    if "handwritten" in args.sets:
        real += [(n, f"{n} val (handwritten)", args.handwriting_model, False) for n in ("hooker", "poilus")]
    for folder, label, model, fold in real:
        path = SHARED / folder / "val"
        if path.is_dir():
            samples = read_lines(path).samples[: args.limit or None]
            sets.append((label, model, [s.image for s in samples], [s.text for s in samples], fold))
    return sets


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def table(rows: list[Row]) -> str:
    out = ["| set | system | lines | CER | WER | lines/s | ms/line |", "|---|---|---:|---:|---:|---:|---:|"]
    by_set: dict[str, list[Row]] = {}
    for r in rows:
        by_set.setdefault(r.set, []).append(r)
        out.append(
            f"| {r.set} | {r.system} | {r.lines} | {r.cer:.2%} | {r.wer:.2%} "
            f"| {r.lines_per_s:.1f} | {r.ms_per_line:.1f} |"
        )
    for name, group in by_set.items():
        t = next(r for r in group if r.system.startswith("tesseract"))
        for r in group:
            if r is not t:
                out.append(
                    f"| {name} | **ratio {r.system} / tesseract** | | {ratio(r.cer, t.cer)} | {ratio(r.wer, t.wer)} | "
                    f"{ratio(r.lines_per_s, t.lines_per_s)} | |"
                )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="print-en", help="model for the printed sets")
    parser.add_argument("--handwriting-model", default="hooker-en", help="model for the handwritten sets")
    parser.add_argument("--synthetic", type=int, default=500, help="synthetic lines per set")
    parser.add_argument("--limit", type=int, default=0, help="at most this many lines per set (0: all)")
    parser.add_argument("--height", type=int, default=48, help="synthetic line height in pixels")
    parser.add_argument("--seed", type=int, default=3, help="synthetic set seed (print-en trains on 1, tunes on 2)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--backends", default="torch,onnx", help="seqvision's runtimes, comma-separated")
    parser.add_argument("--lm", metavar="ARPA", help="also run seqvision (torch) with beam search and this LM")
    parser.add_argument("--lm-weight", type=float, default=0.8)
    parser.add_argument("--lm-bonus", type=float, default=2.0)
    parser.add_argument(
        "--sets", default="synthetic,printed,handwritten", help="comma-separated: synthetic, printed, handwritten"
    )
    parser.add_argument("--no-rapidocr", action="store_true", help="leave RapidOCR out even when installed")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "vs_tesseract.json"))
    args = parser.parse_args()
    if shutil.which("tesseract") is None:
        sys.exit("tesseract not found: apt-get install tesseract-ocr (make install does this as root)")
    args.sets = {s.strip() for s in args.sets.split(",") if s.strip()}
    if args.limit:
        args.synthetic = min(args.synthetic, args.limit)
    torch.set_num_threads(1)
    engine = None if args.no_rapidocr else rapidocr_engine()
    if engine is None and not args.no_rapidocr:
        print("note: rapidocr-onnxruntime is not installed; RapidOCR left out", file=sys.stderr)
    runs = [(b, DecoderSpec()) for b in args.backends.split(",") if b]
    if args.lm:
        runs.append(("torch", DecoderSpec(kind="beam", lm=args.lm, lm_weight=args.lm_weight, bonus=args.lm_bonus)))
    rows = []
    with tempfile.TemporaryDirectory(prefix="seqvision-vs-tesseract-") as tmp:
        for name, model_name, images, refs, fold in line_sets(args, Path(tmp)):
            for backend, spec in runs:
                model = Recognizer.load(model_name, backend=backend, threads=1)
                model.set_decoder(spec)
                run_seqvision(model, images[:8], args.batch_size)  # warm-up: first-call allocations
                texts, seconds = run_seqvision(model, images, args.batch_size)
                what = f"{backend}, {spec.describe()}"
                rows.append(score(name, f"seqvision ({model_name}, {what})", texts, refs, seconds, fold))
            texts, seconds = run_tesseract(images, Path(tmp))
            rows.append(score(name, "tesseract (eng, psm 7)", texts, refs, seconds, fold))
            if engine is not None:
                run_rapidocr(engine, images[:4])  # warm-up
                texts, seconds = run_rapidocr(engine, images)
                rows.append(score(name, "rapidocr (PP-OCRv4 rec)", texts, refs, seconds, fold))
            print(f"{name}: done", file=sys.stderr)
    version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    header = (
        f"one thread each; {version}; torch {torch.__version__}; {platform.processor() or platform.machine()}; "
        f"synthetic lines {args.height} px high, seed {args.seed}, held-out fonts: {', '.join(HELD_OUT)}"
    )
    print(f"\n{header}\n\n{table(rows)}")
    payload = {"header": header, "args": {**vars(args), "sets": sorted(args.sets)}, "rows": [asdict(r) for r in rows]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
