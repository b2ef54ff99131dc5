"""Whole pages: seqvision's segmenter vs kraken's default baseline segmenter, and page reading vs Tesseract.

On the Hooker val pages (``../shared/data/pages/hooker/val``: 33 real handwritten letter pages with
PAGE-XML baselines, polygons and transcriptions), in one run, one thread each:

* **segmentation**: baseline precision / recall / F1 (cBAD-style, tolerance from the line height)
  and line-polygon F1 (IoU 0.5) of ``lines-seg`` and of kraken's ``blla.mlmodel`` (the segmenter
  inside the kraken wheel, run in its own venv: ``--kraken-python``), seconds per page;
* **page reading**: page CER/WER of the text in reading order, against the transcribed lines in
  the file's order, whitespace (line breaks included) collapsed to one space: seqvision
  segment + read (``--reader``, default hooker-en), the kraken lines read by the same recogniser
  (the segmenter's share of the errors), and Tesseract 5 whole-page mode (``--psm 1``, ``-l eng``, one
  process over a list file, ``OMP_THREAD_LIMIT=1``).

kraken: ``python -m venv kraken-venv && kraken-venv/bin/pip install kraken==7.1.1 torch==2.12.1
torchvision==0.27.1`` (torchvision does not load beside seqvision's torch, hence the second venv).

    python benchmarks/pages.py --kraken-python ../kraken-venv/bin/python
    python benchmarks/pages.py --limit 3          # a smoke run (without kraken if it is not given)
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
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

from seqvision.data.images import open_image
from seqvision.tasks.lines.metrics import ErrorRates
from seqvision.tasks.lines.page_images import PageReader
from seqvision.tasks.segment.geometry import Line, Segmentation
from seqvision.tasks.segment.metrics import aggregate_scores, page_scores
from seqvision.tasks.segment.page_out import to_page_xml
from seqvision.tasks.segment.predictor import Segmenter
from seqvision.tasks.segment.task import read_pages

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

KRAKEN_SCRIPT = """
import json, sys, time
import torch
torch.set_num_threads(1)
from PIL import Image
from kraken import blla
out = []
for path in open(sys.argv[1]).read().split():
    im = Image.open(path)
    start = time.perf_counter()
    res = blla.segment(im)
    seconds = time.perf_counter() - start
    lines = [{"baseline": l.baseline, "boundary": l.boundary} for l in res.lines]
    out.append({"image": path, "seconds": seconds, "lines": lines})
    print(f"kraken {path}: {len(lines)} lines in {seconds:.1f} s", file=sys.stderr, flush=True)
json.dump(out, open(sys.argv[2], "w"))
"""


def page_text(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


def kraken_pages(python: str, images: list[Path], work: Path, cache: Path | None) -> list[dict[str, Any]]:
    """kraken's blla on every image in one process (model loaded once), torch on one thread.

    With ``cache`` (``--kraken-json``), a file from an earlier run on the same images is reused.
    """
    if cache is not None and cache.is_file():
        records = json.loads(cache.read_text())
        if [r["image"] for r in records] == [str(p) for p in images]:
            return records
    (work / "list.txt").write_text("\n".join(str(p) for p in images))
    (work / "kraken_seg.py").write_text(KRAKEN_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [python, str(work / "kraken_seg.py"), str(work / "list.txt"), str(work / "k.json")], check=True, env=env
    )
    if cache is not None:
        shutil.copyfile(work / "k.json", cache)
    return json.loads((work / "k.json").read_text())


def tesseract_pages(images: list[Path], work: Path) -> tuple[list[str], float]:
    """Tesseract's text of each page (``--psm 1``: automatic layout with orientation), one process, one thread."""
    (work / "t.txt").write_text("\n".join(str(p) for p in images) + "\n")
    start = time.perf_counter()
    out = subprocess.run(
        ["tesseract", str(work / "t.txt"), "stdout", "--psm", "1", "-l", "eng"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    ).stdout
    seconds = time.perf_counter() - start
    texts = out.split("\f")[: len(images)]
    return texts + [""] * (len(images) - len(texts)), seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=Path, default=SHARED / "pages" / "hooker" / "val")
    ap.add_argument("--segmenter", default="lines-seg")
    ap.add_argument("--reader", default="hooker-en", help="the text-line model that reads the found lines")
    ap.add_argument("--kraken-python", help="python of a venv with kraken 7 (skipped without it)")
    ap.add_argument("--kraken-json", type=Path, help="keep kraken's segmentation in this file and reuse it")
    ap.add_argument("--limit", type=int, default=0, help="only the first N pages")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "pages.json")
    args = ap.parse_args()
    torch.set_num_threads(1)

    truth = read_pages(str(args.pages), "pages", None)
    truth = truth[: args.limit] if args.limit else truth
    images = [p.image for p in truth]
    expected = [page_text([ln.text for ln in p.segmentation.lines if ln.text]) for p in truth]
    segmenter = Segmenter.load(args.segmenter, threads=1)
    holder: dict[str, Any] = {}
    opts = SimpleNamespace(
        backend=None, threads=1, batch_size=16, decoder=None, beam_width=16, lm=None, lm_weight=0.8, lm_bonus=2.0
    )
    opts.lexicon = None
    reader = PageReader.from_args(opts, args.reader, lambda _image: holder["write"])  # type: ignore[arg-type]

    def read_with(seg: Segmentation, image: Path) -> tuple[str, float]:
        holder["write"] = lambda kind: to_page_xml(seg, image.name)
        start = time.perf_counter()
        result = reader.read(image)
        return page_text([d.text for d in result.decoded]), time.perf_counter() - start

    systems: dict[str, dict[str, Any]] = {}

    def score(name: str, found: list[Segmentation] | None, texts: list[str], seg_s: float, read_s: float) -> None:
        rates = ErrorRates()
        for got, want in zip(texts, expected, strict=True):
            rates.update(got, want)
        row: dict[str, Any] = {"page_cer": rates.cer, "page_wer": rates.wer, "read_s_per_page": read_s / len(truth)}
        if found is not None:
            row |= aggregate_scores([page_scores(t.segmentation, f) for t, f in zip(truth, found, strict=True)])
            row["segment_s_per_page"] = seg_s / len(truth)
        systems[name] = row

    found, texts, seg_s, read_s = [], [], 0.0, 0.0
    for page in truth:
        with open_image(page.image) as img:
            start = time.perf_counter()
            (seg,) = segmenter.predict([img])
            seg_s += time.perf_counter() - start
        found.append(seg)
        text, seconds = read_with(seg, page.image)
        texts.append(text)
        read_s += seconds
    score(f"seqvision {args.segmenter} + {args.reader}", found, texts, seg_s, read_s)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.kraken_python:
            k_found, k_texts, k_seg, k_read = [], [], 0.0, 0.0
            records = kraken_pages(args.kraken_python, images, work, args.kraken_json)
            for page, record in zip(truth, records, strict=True):
                seg = Segmentation(page.segmentation.width, page.segmentation.height)
                seg.lines = [
                    Line([tuple(map(float, p)) for p in ln["baseline"]], [tuple(map(float, p)) for p in ln["boundary"]])
                    for ln in record["lines"]
                ]
                k_found.append(seg)
                k_seg += record["seconds"]
                text, seconds = read_with(seg, page.image)
                k_texts.append(text)
                k_read += seconds
            score(f"kraken blla + {args.reader}", k_found, k_texts, k_seg, k_read)
        else:
            print("note: no --kraken-python: kraken's segmenter is not compared", file=sys.stderr)
        if shutil.which("tesseract"):
            t_texts, t_s = tesseract_pages(images, work)
            score("Tesseract 5 --psm 1 (eng)", None, [page_text([t]) for t in t_texts], 0.0, t_s)
        else:
            print("note: tesseract is not installed: no whole-page Tesseract row", file=sys.stderr)

    print(f"\n{len(truth)} pages of {args.pages}, one thread each\n")
    print("| system | baseline P | R | F1 | polygon F1 | segment s/page | page CER | page WER |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in systems.items():
        seg_cols = (
            f"{r['micro_baseline_precision']:.3f} | {r['micro_baseline_recall']:.3f} | {r['micro_baseline_f1']:.3f} | "
            f"{r['micro_polygon_f1']:.3f} | {r['segment_s_per_page']:.2f}"
            if "micro_baseline_f1" in r
            else "- | - | - | - | -"
        )
        print(f"| {name} | {seg_cols} | {100 * r['page_cer']:.1f} % | {100 * r['page_wer']:.1f} % |")
    ours = next(iter(systems.values()))
    for name, r in list(systems.items())[1:]:
        if "segment_s_per_page" in r:
            ratio = r["segment_s_per_page"] / ours["segment_s_per_page"]
            print(f"\nsegmentation, seconds per page: {name} / seqvision = {ratio:.1f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"pages": len(truth), "data": str(args.pages), "machine": platform.processor() or platform.machine()}
    args.out.write_text(json.dumps({**meta, "systems": systems}, indent=2) + "\n")
    print(f"\n-> {args.out}")


if __name__ == "__main__":
    main()
