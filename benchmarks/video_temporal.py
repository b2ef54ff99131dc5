"""Synthetic temporal benchmark: the same LRCN (small CNN per frame -> sequence model -> classify) with
each sequence model, trained for the same number of epochs; accuracy on order-only and appearance classes.

    python benchmarks/video_temporal.py [--epochs 15] [--threads 2] [--sequences none,lstm,gru,tcn,transformer]

Data: `seqvision synth-video` clips (16 frames of 32x32 px, mp4): 40 per class for training (8 scenes,
one held out for validation by group), 20 per class for the test set (4 other scenes, another seed).
Six order-only classes come in reversed pairs (the same frames backwards), so a model that averages
frame features (`none`) can only guess the direction within a pair (50 %); the two appearance classes
are a control. A fixed number of epochs (not a time budget) keeps accuracy independent of whatever
else runs on the machine; training time is the wall time of all epochs, with the epoch of the saved
(best-validation) model. Inference clips/s is the model alone (eager torch, batches of 16 decoded
clips), models taking turns over five passes, the best pass of each kept. Prints a Markdown table and writes
benchmarks/results/video_temporal.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from seqvision.config import ExperimentConfig, apply_overrides
from seqvision.data.clips import pad_clips
from seqvision.nn.presets import lrcn_small
from seqvision.tasks.video.clips import read_clips
from seqvision.tasks.video.predictor import ClipClassifier
from seqvision.tasks.video.synth import APPEARANCE, ORDER_ONLY, write_clips
from seqvision.training.run import train

ROOT = Path(__file__).resolve().parents[1]


def make_data(root: Path, args: argparse.Namespace) -> tuple[Path, Path]:
    common = {"frames": args.frames, "size": args.size, "fps": 10.0}
    sets = {"train": (args.clips, 8, 0), "test": (args.test_clips, 4, 1)}
    for name, (clips, groups, seed) in sets.items():
        folder = root / name
        wanted = {"clips_per_class": clips, "groups": groups, "seed": seed, **common}
        stats = folder / "synth-video.json"
        if not stats.exists() or any(json.loads(stats.read_text())[k] != v for k, v in wanted.items()):
            write_clips(folder, clips, groups=groups, seed=seed, **common)  # type: ignore[arg-type]
    return root / "train" / "clips.csv", root / "test" / "clips.csv"


def test_batches(clf: ClipClassifier, test_csv: Path) -> tuple[list, list[str]]:
    """The test clips decoded once (the timing below is the model alone), in batches of 16, and their labels."""
    samples = read_clips(test_csv).samples
    arrays = [clf.prepare(s.path) for s in samples]
    return [pad_clips(arrays[i : i + 16]) for i in range(0, len(arrays), 16)], [s.label for s in samples]


def evaluate(run: Path, test_csv: Path) -> dict:
    clf = ClipClassifier.load(run)
    batches, truth = test_batches(clf, test_csv)
    predicted = [clf.labels[i] for i in np.concatenate([clf.run(*b) for b in batches]).argmax(1)]

    def accuracy(classes: tuple[str, ...]) -> float:
        pairs = [(t, p) for t, p in zip(truth, predicted, strict=True) if t in classes]
        return sum(t == p for t, p in pairs) / len(pairs)

    meta = json.loads((run / "model.json").read_text(encoding="utf-8"))
    return {
        "accuracy": accuracy(tuple(set(truth))),
        "order_only": accuracy(ORDER_ONLY),
        "appearance": accuracy(APPEARANCE),
        "val_acc": meta["metrics"].get("val_acc"),
        "params": meta["parameters"],
        "best_epoch": meta["training"]["epoch"],
        "test_clips": len(truth),
    }


def inference_speed(runs: dict[str, Path], test_csv: Path, threads: int, rounds: int = 5) -> dict[str, float]:
    """Clips/s of each model on the decoded test set: models take turns, ``rounds`` times, best pass kept,
    so a job elsewhere on the machine slows every model alike and only ever hides in slower passes."""
    torch.set_num_threads(threads)
    models = {name: ClipClassifier.load(run) for name, run in runs.items()}
    batches, _ = test_batches(next(iter(models.values())), test_csv)
    clips = sum(len(b[1]) for b in batches)
    best = dict.fromkeys(models, float("inf"))
    for _ in range(rounds):
        for name, clf in models.items():
            clf.run(*batches[0])  # warm-up
            start = time.perf_counter()
            for b in batches:
                clf.run(*b)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: clips / seconds for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="/tmp/seqvision-bench-video", help="where the clips are written")
    parser.add_argument("--runs", default="/tmp/seqvision-bench-video-runs", help="run folders")
    parser.add_argument("--clips", type=int, default=40, help="training clips per class")
    parser.add_argument("--test-clips", type=int, default=20, help="test clips per class")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=15, help="training epochs per model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sequences", default="none,lstm,gru,tcn,transformer")
    parser.add_argument("--reuse", action="store_true", help="keep runs trained before (their training times too)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "video_temporal.json"))
    args = parser.parse_args()
    train_csv, test_csv = make_data(Path(args.data), args)
    rows, runs = [], {}
    for sequence in args.sequences.split(","):
        run = runs[sequence] = Path(args.runs) / sequence
        timing = run / "benchmark-train.json"
        if not (args.reuse and timing.exists() and (run / "model.safetensors").exists()):
            cfg = ExperimentConfig(task="video", model=lrcn_small(sequence=sequence, size=args.size))
            apply_overrides(
                cfg, [f"data.train={train_csv}", "data.val_fraction=0.125", f"data.clip.frames={args.frames}"]
            )
            apply_overrides(cfg, ["data.batch_size=16", "data.num_workers=1", "train.lr=0.003", "train.patience=1000"])
            apply_overrides(cfg, [f"train.epochs={args.epochs}", f"train.threads={args.threads}"])
            start = time.perf_counter()
            train(cfg, run, progress=False)
            timing.write_text(json.dumps({"train_s": time.perf_counter() - start}) + "\n")
        rows.append({"sequence": sequence, **json.loads(timing.read_text()), **evaluate(run, test_csv)})
        print(json.dumps(rows[-1]), flush=True)
    speeds = inference_speed(runs, test_csv, args.threads)
    for r in rows:
        r["infer_clips_s"] = speeds[r["sequence"]]
    print(
        f"\n{args.clips} train / {args.test_clips} test clips per class ({len(ORDER_ONLY)} order-only + "
        f"{len(APPEARANCE)} appearance classes), {args.frames} frames of {args.size} px, {args.epochs} epochs "
        f"per model, {args.threads} threads, torch {torch.__version__}, {platform.processor() or platform.machine()}\n"
    )
    print(
        "| sequence | test accuracy | order-only classes | appearance classes | parameters | training time |"
        " inference clips/s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['sequence']} | {100 * r['accuracy']:.1f} % | {100 * r['order_only']:.1f} % | "
            f"{100 * r['appearance']:.1f} % | {r['params']:,} | {r['train_s']:.0f} s "
            f"(best epoch {r['best_epoch']}) | {r['infer_clips_s']:.0f} |"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    setup = {k: v for k, v in vars(args).items() if k not in ("out",)} | {"torch": torch.__version__}
    out.write_text(json.dumps({"setup": setup, "results": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
