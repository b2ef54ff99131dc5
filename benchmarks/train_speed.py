"""Per preset: parameters, forward GFLOPs for the median Hooker line, training and inference lines/s.

    python benchmarks/train_speed.py [--data ../shared/data/hooker/train] [--lines 256] [--threads 2]
        [--precision 32,bf16]

Uses real Hooker lines when present (synthetic lines otherwise), the training data pipeline
(width-bucketed batches, augmentation for training) and all presets unless --presets is given.
With ``--precision 32,bf16`` each preset is also measured under bf16 autocast (what
``train --precision bf16`` does), with its speed-up over fp32 from the same run.
Prints a Markdown table and writes benchmarks/results/train_speed.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from seqvision.data.alphabet import Alphabet
from seqvision.data.lines import LineDataset, WidthBucketSampler, check_lines, collate_lines
from seqvision.data.readers import read_lines
from seqvision.nn.flops import forward_gflops
from seqvision.nn.model import build_model
from seqvision.nn.presets import get_preset
from seqvision.registry import PRESETS
from seqvision.tasks.lines.synth import find_fonts, write_dataset

ROOT = Path(__file__).resolve().parents[1]
HOOKER = ROOT.parent / "shared" / "data" / "hooker" / "train"


def batches(samples, alphabet, model, height, batch_size, augment):
    checked = check_lines(samples, alphabet, height, model.encoder.output_length, max_width=4000)
    ds = LineDataset(checked.samples, alphabet, height, augment=augment)
    sampler = WidthBucketSampler(checked.widths, batch_size, shuffle=True, seed=0)
    # decode once up front: this measures the model, not JPEG decoding
    return [collate_lines([ds[i] for i in idx]) for idx in sampler]


def measure(name: str, samples, batch_size: int, precision: str = "32") -> dict:
    cfg = get_preset(name)
    alphabet = Alphabet.from_texts(s.text for s in samples)
    model = build_model(cfg, len(alphabet))
    params = sum(p.numel() for p in model.parameters())
    gflops = forward_gflops(model, cfg.height, round(475 * cfg.height / 64))
    train_batches = batches(samples, alphabet, model, cfg.height, batch_size, augment=True)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=precision == "32")
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")
    model.train()
    lines, start = 0, time.perf_counter()
    warm_up = min(2, len(train_batches) - 1)  # two warm-up steps when there are enough batches
    for i, b in enumerate(train_batches):
        if i == warm_up:
            lines, start = 0, time.perf_counter()
        with autocast:
            log_probs, lengths = model(b["images"], b["widths"])
        log_probs = log_probs.float()
        loss = F.ctc_loss(log_probs.transpose(0, 1), b["targets"], lengths, b["target_lengths"], zero_infinity=True)
        opt.zero_grad()
        loss.backward()
        opt.step()
        lines += len(b["texts"])
    train_lps = lines / (time.perf_counter() - start)
    model.eval()
    infer_batches = batches(samples, alphabet, model, cfg.height, batch_size, augment=False)
    with torch.inference_mode(), autocast:
        model(infer_batches[0]["images"], infer_batches[0]["widths"])
        start = time.perf_counter()
        lines = 0
        for b in infer_batches:
            model(b["images"], b["widths"])
            lines += len(b["texts"])
    infer_lps = lines / (time.perf_counter() - start)
    return {
        "preset": name,
        "precision": precision,
        "height": cfg.height,
        "params_m": round(params / 1e6, 2),
        "gflops_64x475": round(gflops, 3),
        "train_lines_s": round(train_lps, 1),
        "infer_lines_s": round(infer_lps, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(HOOKER), help="line data (default: hooker train)")
    parser.add_argument("--lines", type=int, default=256, help="lines per measurement")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--presets", default=",".join(PRESETS.names()))
    parser.add_argument("--precision", default="32", help="comma-separated: 32, bf16 (autocast)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "train_speed.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if Path(args.data).exists():
        source = args.data
        samples = read_lines(args.data).samples
    else:
        source = "synthetic (hooker data not found)"
        tsv = write_dataset(Path("/tmp/seqvision-bench-lines"), args.lines, find_fonts(), height=64)
        samples = read_lines(tsv).samples
    samples = random.Random(0).sample(samples, min(args.lines, len(samples)))
    precisions = args.precision.split(",")
    rows = [measure(name, samples, args.batch_size, p) for name in args.presets.split(",") for p in precisions]
    fp32 = {r["preset"]: r for r in rows if r["precision"] == "32"}
    for r in rows:  # speed-ups over fp32, measured in this run
        base = fp32.get(r["preset"])
        r["train_speedup"] = round(r["train_lines_s"] / base["train_lines_s"], 2) if base else None
        r["infer_speedup"] = round(r["infer_lines_s"] / base["infer_lines_s"], 2) if base else None
    print(
        f"\n{len(samples)} lines from {source}, batch {args.batch_size}, {args.threads} threads, "
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}\n"
    )
    print("| preset | precision | height | params (M) | GFLOPs 64x475 line | train lines/s | inference lines/s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        up = f" ({r['train_speedup']}x)" if r["precision"] != "32" and r["train_speedup"] else ""
        up_infer = f" ({r['infer_speedup']}x)" if r["precision"] != "32" and r["infer_speedup"] else ""
        print(
            f"| {r['preset']} | {r['precision']} | {r['height']} | {r['params_m']} | {r['gflops_64x475']} | "
            f"{r['train_lines_s']}{up} | {r['infer_lines_s']}{up_infer} |"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "data": source,
        "lines": len(samples),
        "batch_size": args.batch_size,
        "threads": args.threads,
        "torch": torch.__version__,
    }
    out.write_text(json.dumps({"setup": meta, "results": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
