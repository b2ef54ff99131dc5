"""seqvision vs Tesseract on the same text lines, one thread each: CER, WER, lines/s and the ratios.

Sets: synthetic printed lines in font families held out of print-en's training (a separate seed),
clean and degraded, and the real handwritten hooker/poilus validation lines when ``../shared/data``
is present. Tesseract 5 runs as its own peer would be run: ``--psm 7`` (one text line), ``-l eng``,
one process over a list file of all images (its model loads once), ``OMP_THREAD_LIMIT=1``.
seqvision's time includes decoding and normalising the images, as Tesseract's does.

Both outputs and references go through the same normalisation before scoring: Unicode NFKC (so
Tesseract's ligatures such as "ﬁ" count as "fi"), curly quotes to straight ones, dashes to "-".

    python benchmarks/vs_tesseract.py                 # the full table (about 10 minutes)
    python benchmarks/vs_tesseract.py --limit 5       # a smoke run
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

import torch

from seqvision.data.images import open_image
from seqvision.data.readers import read_lines
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


def score(name: str, system: str, hyps: list[str], refs: list[str], seconds: float) -> Row:
    rates = ErrorRates()
    for hyp, ref in zip(hyps, refs, strict=True):
        rates.update(fair(hyp), fair(ref))
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


def run_seqvision(model: Recognizer, images: list[Path], batch_size: int) -> tuple[list[str], float]:
    start = time.perf_counter()
    arrays = [model.prepare(open_image(p)) for p in images]
    texts = [d.text for _, d in model.read_arrays(arrays, batch_size)]
    return texts, time.perf_counter() - start


def line_sets(args: argparse.Namespace, workdir: Path) -> list[tuple[str, str, list[Path], list[str]]]:
    """(set name, model, images, references) for every set available on this machine."""
    sets = []
    held_out = find_fonts(include=HELD_OUT)
    for clean in (True, False):
        folder = workdir / ("clean" if clean else "degraded")
        write_dataset(folder, args.synthetic, held_out, seed=args.seed, height=args.height, clean=clean)
        samples = read_lines(folder / "labels.tsv").samples
        label = f"synthetic {'clean' if clean else 'degraded'}, unseen fonts"
        sets.append((label, args.model, [s.image for s in samples], [s.text for s in samples]))
    for name in ("hooker", "poilus"):
        path = SHARED / name / "val"
        if path.is_dir() and not args.no_real:
            samples = read_lines(path).samples[: args.limit or None]
            sets.append((f"{name} val (handwritten)", args.handwriting_model, [s.image for s in samples],
                         [s.text for s in samples]))  # fmt: skip
    return sets


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def table(rows: list[Row]) -> str:
    out = ["| set | system | lines | CER | WER | lines/s | ms/line |", "|---|---|---:|---:|---:|---:|---:|"]
    by_set: dict[str, dict[str, Row]] = {}
    for r in rows:
        by_set.setdefault(r.set, {})[r.system.split()[0]] = r
        out.append(
            f"| {r.set} | {r.system} | {r.lines} | {r.cer:.2%} | {r.wer:.2%} "
            f"| {r.lines_per_s:.1f} | {r.ms_per_line:.1f} |"
        )
    for name, pair in by_set.items():
        s, t = pair["seqvision"], pair["tesseract"]
        out.append(
            f"| {name} | **ratio seqvision / tesseract** | | {ratio(s.cer, t.cer)} | {ratio(s.wer, t.wer)} | "
            f"{ratio(s.lines_per_s, t.lines_per_s)} | |"
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
    parser.add_argument("--backend", choices=["torch", "onnx"], default="torch", help="seqvision's runtime")
    parser.add_argument("--no-real", action="store_true", help="skip the handwritten sets")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "vs_tesseract.json"))
    args = parser.parse_args()
    if shutil.which("tesseract") is None:
        sys.exit("tesseract not found: apt-get install tesseract-ocr (make install does this as root)")
    if args.limit:
        args.synthetic = min(args.synthetic, args.limit)
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="seqvision-vs-tesseract-") as tmp:
        for name, model_name, images, refs in line_sets(args, Path(tmp)):
            model = Recognizer.load(model_name, backend=args.backend, threads=1)
            run_seqvision(model, images[:8], args.batch_size)  # warm-up: first-call allocations
            texts, seconds = run_seqvision(model, images, args.batch_size)
            rows.append(score(name, f"seqvision ({model_name}, {args.backend})", texts, refs, seconds))
            texts, seconds = run_tesseract(images, Path(tmp))
            rows.append(score(name, "tesseract (eng, psm 7)", texts, refs, seconds))
            print(f"{name}: done", file=sys.stderr)
    version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    header = (
        f"one thread each; {version}; torch {torch.__version__}; {platform.processor() or platform.machine()}; "
        f"synthetic lines {args.height} px high, seed {args.seed}, held-out fonts: {', '.join(HELD_OUT)}"
    )
    print(f"\n{header}\n\n{table(rows)}")
    payload = {"header": header, "args": vars(args), "rows": [asdict(r) for r in rows]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
