"""Synthetic gait benchmark: gait-small (small CNN per silhouette -> sequence model -> 64-d embedding) with
each sequence model, trained for the same number of epochs; CMC rank-1/rank-5 and mAP on unseen walkers.

    python benchmarks/gait.py [--epochs 30] [--threads 1] [--sequences none,lstm,gru]

Data (generated: `seqvision synth-gait`, 40 frames of 32x32 px per sequence, 4 sequences per subject): 40
training subjects, 10 validation subjects (model selection), 30 test subjects; all three sets hold different
people. Test protocol: gallery nm-01/nm-02, probes nm-03/nm-04, every probe ranked against every gallery clip.
Every walker has the same silhouette; identity is cadence, step length and arm-swing phase. `none` averages
the per-frame features (the GEI-like baseline). Prints a Markdown table and writes benchmarks/results/gait.json.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import time
from pathlib import Path

import torch

from seqvision.cli.main import main

RESULTS = Path(__file__).resolve().parent / "results" / "gait.json"


def run(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(argv)
    if status:
        raise SystemExit(f"seqvision {' '.join(argv)} failed ({status})")
    return out.getvalue()


def main_(args: argparse.Namespace) -> None:
    work = Path(args.work)
    sets = {"train": (40, 1, 0), "val": (10, 201, 2), "test": (30, 101, 1)}  # subjects, first subject, seed
    for name, (subjects, first, seed) in sets.items():
        if not (work / name).is_dir():
            synth = f"--subjects {subjects} --first-subject {first} --seed {seed} --frames 40 --size 32"
            run(["synth-gait", "--out", str(work / name), *synth.split()])
    rows = []
    for sequence in args.sequences.split(","):
        out = work / f"run-{sequence}"
        start = time.perf_counter()
        options = f"--epochs {args.epochs} --threads {args.threads} --seed 0 --quiet --set=data.clip.frames=24"
        options += " --set=train.lr=3e-3 --set=train.patience=1000 --set=data.num_workers=0"
        data = ["--train", str(work / "train"), "--val", str(work / "val"), "--out", str(out)]
        run(["train", "--task", "gait", *data, *options.split(), f"--set=model.sequence.name={sequence}"])
        seconds = time.perf_counter() - start
        scores = json.loads(run(["eval", str(out), str(work / "test"), "--json", "--threads", str(args.threads)]))
        meta = json.loads((out / "model.json").read_text())
        rows.append(
            {
                "sequence": sequence,
                "rank1": scores["rank1"],
                "rank5": scores["rank5"],
                "map": scores["map"],
                "probes": scores["probes"],
                "parameters": meta["parameters"],
                "train_s": round(seconds, 1),
            }
        )
        print(f"{sequence}: {rows[-1]}", flush=True)
    print("\n| sequence model | rank-1 | rank-5 | mAP | parameters | training (s) |\n|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['sequence']} | {100 * r['rank1']:.1f} % | {100 * r['rank5']:.1f} % | {100 * r['map']:.1f} % "
            f"| {r['parameters'] / 1e3:.0f} k | {r['train_s']:.0f} |"
        )
    info = {"epochs": args.epochs, "threads": args.threads, "torch": torch.__version__, "cpu": platform.processor()}
    RESULTS.write_text(json.dumps({"data": "generated (seqvision synth-gait)", **info, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sequences", default="none,lstm,gru")
    parser.add_argument("--work", default="/tmp/seqvision-gait-bench", help="where the data and runs go")
    main_(parser.parse_args())
