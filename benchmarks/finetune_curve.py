"""Learning curve of fine-tuning: CER on val after training on N of a user's lines, from a base model and from scratch.

    python benchmarks/finetune_curve.py --base hooker-en --train ../shared/data/poilus/train \
        --val ../shared/data/poilus/val --sizes 50,100,250,500,all --steps 600 [--scratch] \
        [--work /tmp/curve] [--threads 1]

What a person with a new collection asks: how many lines must I transcribe before the model reads
my documents? Each size N is a seeded random subset of ``--train`` (nested: the 50 lines are among
the 100), written as a labels.tsv under ``--work``. For each N the script runs
``seqvision train --init BASE --alphabet union`` (and, with ``--scratch``, the same training from
random weights) for the same number of optimiser steps, and evaluates the best checkpoint on
``--val`` (greedy). A step budget, not a time budget, so the curve does not depend on how busy the
machine is; each subset is repeated (``PATH*K``) to about ``--epoch-lines`` lines per epoch, so
validation (once per epoch) costs the same share of every run.
Runs already finished under ``--work`` are reused, so an interrupted curve continues.
Prints a Markdown table and writes benchmarks/results/finetune_curve.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def subsets(train: Path, sizes: list[str], work: Path, seed: int) -> dict[str, Path]:
    """One labels.tsv per size, with absolute image paths; nested so a larger set adds lines to a smaller one."""
    rows = [line for line in (train / "labels.tsv").read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(seed).shuffle(rows)
    out = {}
    for size in sizes:
        n = len(rows) if size == "all" else int(size)
        if n > len(rows):
            sys.exit(f"--sizes: {n} lines asked for, {train} has {len(rows)}")
        folder = work / "data" / f"n{n}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f"{(train / r.split(chr(9), 1)[0]).resolve()}\t{r.split(chr(9), 1)[1]}" for r in rows[:n]]
        (folder / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        out[str(n)] = folder
    return out


def run(cmd: list[str], log: Path, threads: int) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    with log.open("w") as f:
        done = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, check=False)
    if done.returncode:
        sys.exit(f"{' '.join(cmd[:4])} ... failed (exit {done.returncode}); see {log}")


def train_and_eval(args, data: Path, name: str, init: str | None) -> dict:
    out = args.work / name
    seqvision = [sys.executable, "-m", "seqvision"]
    lines = len((data / "labels.tsv").read_text(encoding="utf-8").splitlines())
    repeat = max(1, round(args.epoch_lines / lines))
    epochs = max(1, round(args.steps / math.ceil(lines * repeat / args.batch_size)))
    if not (out / "model.safetensors").exists() or not (out / "done").exists():
        shutil.rmtree(out, ignore_errors=True)  # an interrupted run starts again: its schedule is by steps
        cmd = [*seqvision, "train", "--preset", args.preset, "--train", f"{data}*{repeat}", "--val", str(args.val)]
        cmd += ["--out", str(out), "--epochs", str(epochs), "--batch-size", str(args.batch_size), "--threads"]
        cmd += [str(args.threads), "--precision", args.precision, "--quiet", "--set", "train.patience=1000"]
        cmd += ["--init", init, "--alphabet", "union"] if init else []
        cmd += [x for kv in args.set for x in ("--set", kv)]
        run(cmd, args.work / f"{name}.train.log", args.threads)
        (out / "done").write_text("")
        (args.work / f"{name}.eval.json").unlink(missing_ok=True)
    result = args.work / f"{name}.eval.json"
    if not result.exists():
        cmd = [*seqvision, "eval", str(out), str(args.val), "--json", "--threads", str(args.threads)]
        run(cmd, result, args.threads)
    scores = json.loads(result.read_text().strip().splitlines()[-1])
    meta = json.loads((out / "model.json").read_text())
    training = meta["training"]
    return {"cer": scores["cer"], "wer": scores["wer"], "steps": training["step"], "minutes": training["seconds"] / 60}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", default="hooker-en", help="bundled name, model file or run folder to fine-tune")
    p.add_argument("--train", type=Path, required=True, help="a labels.tsv folder: the user's lines")
    p.add_argument("--val", type=Path, required=True)
    p.add_argument("--sizes", default="50,100,250,500,all", help="comma-separated line counts, 'all' for every line")
    p.add_argument("--steps", type=int, default=600, help="optimiser steps per training run")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--epoch-lines", type=int, default=1000, help="each subset repeated to about this many lines")
    p.add_argument("--scratch", action="store_true", help="also train from random weights on the same lines")
    p.add_argument("--preset", default="crnn-small", help="the base model's preset (shapes must match)")
    p.add_argument("--precision", default="bf16", choices=["32", "bf16"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0, help="which lines each subset takes")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="passed to every training run")
    p.add_argument("--work", type=Path, default=Path("/tmp/finetune_curve"), help="subsets, run folders, logs")
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "finetune_curve.json")
    args = p.parse_args(argv)
    base = subprocess.run(
        [sys.executable, "-m", "seqvision", "eval", args.base, str(args.val), "--json", "--threads", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    zero_shot = json.loads(base.stdout.strip().splitlines()[-1])["cer"]
    rows = []
    for n, data in subsets(args.train, args.sizes.split(","), args.work, args.seed).items():
        row = {"lines": int(n), "finetuned": train_and_eval(args, data, f"init-n{n}", args.base)}
        if args.scratch:
            row["scratch"] = train_and_eval(args, data, f"scratch-n{n}", None)
        rows.append(row)
        print(f"{n} lines: fine-tuned CER {row['finetuned']['cer']:.2%}", flush=True)
    print(
        f"\nval: {args.val} · base {args.base} zero-shot CER {zero_shot:.2%}\n"
        f"{args.steps} steps of {args.batch_size} lines per run, "
        f"{args.threads} thread(s), {args.precision}\n"
    )
    head = "| lines | fine-tuned from base CER | WER | minutes |"
    head += " from scratch CER | WER |" if args.scratch else ""
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        f = r["finetuned"]
        line = f"| {r['lines']} | {f['cer']:.2%} | {f['wer']:.2%} | {f['minutes']:.1f} |"
        if args.scratch:
            line += f" {r['scratch']['cer']:.2%} | {r['scratch']['wer']:.2%} |"
        print(line)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "base": args.base,
        "zero_shot_cer": zero_shot,
        "train": str(args.train),
        "val": str(args.val),
        "steps": args.steps,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "precision": args.precision,
        "rows": rows,
    }
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten {args.json}")


if __name__ == "__main__":
    main()
