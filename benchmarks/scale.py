"""Memory and throughput of training and evaluation streamed from shards, for 1k, 10k and 100k lines.

    python benchmarks/scale.py [--sizes 1000 10000 100000] [--steps 100] [--workers 1] [--threads 1]

Renders ``--base`` (1000) synthetic lines once (``seqvision synth`` at 32 px), then writes shard folders
of each size by cycling through them (line ``i`` is base line ``i % base``: the bytes on disk and
the work per line are those of real lines, only repeated). For each size, in a fresh process:

* train: ``TextLines.prepare`` (the loaders ``seqvision train`` uses) and ``--steps`` optimiser steps
  of a small crnn (channels 16-64, LSTM 64) at 32 px, global batch 32, no validation;
* eval: ``seqvision eval MODEL SHARDS`` over every line of the folder.

Peak RSS is that of the whole process tree (main process plus loader workers), sampled from
/proc every 50 ms (Linux), and ``ru_maxrss`` of the main process. Prints a Markdown table and
writes benchmarks/results/scale.json. The aim: peak memory flat as the collection grows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "scale.json"
# a small CRNN, so the data pipeline (what this measures) is a real share of the time
MODEL_SETTINGS = [
    "model.height=32",
    "model.encoder.channels=[16,32,48,64]",
    "model.sequence.hidden=64",
    "data.batch_size=32",
    "data.augment=false",
]


def tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in KiB (0 once it is gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(x for x in status.splitlines() if x.startswith("VmRSS:")).split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def run_measured(argv: list[str]) -> tuple[dict, float]:
    """Run ``argv``; its last stdout line is JSON. Returns it and the peak RSS of its process tree in MiB."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_kb(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1]), peak[0] / 1024


def make_shards(base: Path, out: Path, n: int, shard_size: int) -> None:
    """``n`` lines cycling through the rendered ``base`` set, written with the same writer as ``seqvision pack``."""
    from PIL import Image

    from seqvision.data.readers import read_lines
    from seqvision.tasks.lines.shards import ShardWriter

    if (out / "index.json").exists():
        return
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for s in read_lines(base).samples:
        with Image.open(s.image) as img:
            lines.append((s.image.read_bytes(), s.text, img.width, img.height, s.source))
    writer = ShardWriter(out, shard_size)
    for i in range(n):
        writer.add(*lines[i % len(lines)])
    writer.close(height=0, inputs=[str(base)], skipped=0)


def child_train(args: argparse.Namespace) -> None:
    """One measured training run (in its own process)."""
    import resource
    import warnings

    import lightning as L
    import torch

    from seqvision.config import ExperimentConfig, apply_overrides
    from seqvision.nn.presets import get_preset
    from seqvision.tasks import get_task

    torch.set_num_threads(args.threads)
    cfg = ExperimentConfig(model=get_preset("crnn-small"))
    apply_overrides(cfg, [*MODEL_SETTINGS, f"data.train={args.shards}", f"data.val={args.shards}"])
    apply_overrides(cfg, [f"data.num_workers={args.workers}"])
    L.seed_everything(0, verbose=False)
    start = time.perf_counter()
    prepared = get_task("text_lines").prepare(cfg, Path(args.run), False, None)
    prepare_s = time.perf_counter() - start
    trainer = L.Trainer(
        max_steps=args.steps,
        limit_val_batches=0,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        use_distributed_sampler=False,
        enable_checkpointing=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        trainer.fit(prepared.module, prepared.train)
    seconds = time.perf_counter() - start
    from seqvision.checkpoint import save_model

    save_model(Path(args.run) / "model.safetensors", prepared.model, prepared.metadata)
    lines = trainer.global_step * cfg.data.batch_size
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "steps": trainer.global_step,
                "lines": lines,
                "seconds": seconds,
                "prepare_s": prepare_s,
                "main_maxrss_mb": rss,
            }
        )
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    p.add_argument("--base", type=int, default=1000, help="distinct rendered lines (default 1000)")
    p.add_argument("--shard-size", type=int, default=1000)
    p.add_argument("--steps", type=int, default=60, help="training steps per size (default 60)")
    p.add_argument("--workers", type=int, default=1, help="loader worker processes (default 1)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--work", default="/tmp/seqvision-scale", help="scratch folder for the data (default /tmp)")
    p.add_argument("--child", choices=["train"], help=argparse.SUPPRESS)
    p.add_argument("--shards", help=argparse.SUPPRESS)
    p.add_argument("--run", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child_train(args)
        return

    from seqvision.tasks.lines.synth import find_fonts, write_dataset

    work = Path(args.work)
    base = work / f"base-{args.base}"
    if not (base / "labels.tsv").exists():
        print(f"rendering {args.base} base lines ...", file=sys.stderr)
        write_dataset(base, args.base, find_fonts(), seed=7, height=32, max_chars=40, workers=2)
    rows = []
    for n in args.sizes:
        shards = work / f"shards-{n}"
        start = time.perf_counter()
        make_shards(base, shards, n, args.shard_size)
        print(f"{n} lines: shards ready ({time.perf_counter() - start:.0f} s); training ...", file=sys.stderr)
        run = work / f"run-{n}"
        run.mkdir(parents=True, exist_ok=True)
        me = [sys.executable, str(Path(__file__).resolve()), "--child", "train", "--shards", str(shards)]
        me += ["--run", str(run), "--steps", str(args.steps), "--workers", str(args.workers)]
        train, train_peak = run_measured([*me, "--threads", str(args.threads)])
        print(f"{n} lines: evaluating ...", file=sys.stderr)
        argv = [sys.executable, "-m", "seqvision", "eval", str(run / "model.safetensors"), str(shards), "--json"]
        evaluation, eval_peak = run_measured([*argv, "--threads", str(args.threads)])
        size_mb = sum(f.stat().st_size for f in shards.glob("*.tar")) / 2**20
        rows.append(
            {
                "lines": n,
                "shards": len(list(shards.glob("*.tar"))),
                "shard_mb": round(size_mb, 1),
                "train_steps": train["steps"],
                "train_lines_per_s": round(train["lines"] / train["seconds"], 1),
                "train_prepare_s": round(train["prepare_s"], 2),
                "train_peak_rss_mb": round(train_peak, 1),
                "train_main_maxrss_mb": round(train["main_maxrss_mb"], 1),
                "eval_lines": evaluation["lines"],
                "eval_lines_per_s": round(evaluation["lines"] / evaluation["seconds"], 1),
                "eval_peak_rss_mb": round(eval_peak, 1),
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr)
    print("| lines | shards | MB | train lines/s | train peak RSS (MiB) | eval lines/s | eval peak RSS (MiB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['lines']} | {r['shards']} | {r['shard_mb']} | {r['train_lines_per_s']} | "
            f"{r['train_peak_rss_mb']} | {r['eval_lines_per_s']} | {r['eval_peak_rss_mb']} |"
        )
    result = {
        "settings": {**vars(args), "model": MODEL_SETTINGS},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "rows": rows,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
