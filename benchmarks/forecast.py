"""ConvLSTM forecasting on a CPU budget: Moving MNIST (10 -> 10 frames) and real radar (5 -> 6 frames) vs persistence.

    python benchmarks/forecast.py --part mnist --minutes 25 --threads 1
    python benchmarks/forecast.py --part radar --minutes 15 --threads 1 [--val-event bom_prcp-cscn_radar2_20180616.npz]

mnist: `convlstm-small` trained for a wall-clock budget on fresh Moving MNIST sequences (2 digits of
x_train bouncing in 64x64), selected on validation sequences from held-out x_train digits, then
scored on the fixed-seed test set (1,000 sequences of x_test digits, `seqvision.tasks.forecast.moving_mnist.test_set`)
against copying the last input frame: MSE and MAE per frame (summed over the 64x64 pixels, values
0-1, as OpenSTL reports) and SSIM, per lead time.

radar: the same model on the real pysteps events in ../shared/data/radar, decoded to mm/h,
averaged to ~2 km, 64x64 windows with rain; one event held out for validation (by event, never by
frame), the others for training. Scored on the held-out event against persistence: MSE/MAE per
pixel in mm/h (no-data pixels excluded) and CSI at 1 mm/h, per lead time.

Each part writes benchmarks/results/forecast_<part>.json and a PNG strip + GIF of one example, and
prints a Markdown table. Training runs go to runs/forecast-bench/ (ignored by git).
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
from seqvision.nn.presets import convlstm_small
from seqvision.tasks.forecast import render
from seqvision.tasks.forecast.data import eval_set
from seqvision.tasks.forecast.evaluate import evaluate, load_forecaster, table
from seqvision.tasks.forecast.normalise import Normalisation
from seqvision.training.run import train

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
VAL_EVENT = "bom_prcp-cscn_radar2_20180616.npz"


def name_of(args: argparse.Namespace) -> str:
    """``mnist``, ``radar`` (the default held-out event), or ``radar-<event>`` for another fold."""
    if args.part == "radar" and args.val_event != VAL_EVENT:
        return f"radar-{Path(args.val_event).stem.split('_')[0]}"
    return args.part


def run(part: str, args: argparse.Namespace) -> dict:
    cfg = ExperimentConfig(task="forecast", model=convlstm_small(hidden=args.hidden))
    if part == "mnist":
        source = f"moving-mnist:{DATA / 'mnist.npz'}"
        overrides = [f"data.train={source}", f"data.forecast.sequences={args.sequences}"]
        evaluation = source
    else:
        radar = DATA / "radar"
        val = radar / args.val_event
        overrides = [
            f"data.train={radar}",
            f"data.val={val}",
            "data.forecast.frames_in=5",
            "data.forecast.frames_out=6",
        ]
        evaluation = str(val)
    overrides += [
        f"train.max_minutes={args.minutes}",
        "train.epochs=1000",
        "train.patience=1000",
        f"train.threads={args.threads}",
        f"data.batch_size={args.batch_size}",
        "data.num_workers=0",
    ]
    apply_overrides(cfg, overrides)
    out = ROOT / "runs" / "forecast-bench" / name_of(args)
    start, cpu_start = time.monotonic(), time.process_time()
    train(cfg, out, progress=False)
    wall, cpu = time.monotonic() - start, time.process_time() - cpu_start
    model, meta = load_forecaster(out / "model.safetensors")
    data = eval_set(evaluation, meta, test_sequences=args.test_sequences)
    result = evaluate(model, meta, data)
    result.update(
        part=part,
        data=evaluation.replace(str(DATA), "../shared/data"),
        held_out=args.val_event if part == "radar" else "x_test digits (fixed seed)",
        train_minutes_budget=args.minutes,
        train_wall_s=round(wall, 1),
        train_cpu_s=round(cpu, 1),  # on a shared machine far less than wall x threads
        training=meta["training"],
        parameters=meta["parameters"],
        threads=args.threads,
        batch_size=args.batch_size,
        hidden=args.hidden,
        cpu=platform.processor() or platform.machine(),
        torch=torch.__version__,
    )
    picture(model, meta, data, RESULTS / f"forecast_{name_of(args)}", args.example)
    return result


def picture(model: torch.nn.Module, meta: dict, data, stem: Path, index: int) -> None:
    item = data[min(index, len(data) - 1)]
    with torch.no_grad():
        pred = model(item["inputs"][None])[0]
    norm = Normalisation.from_dict(meta["input"]["normalisation"])
    vmax = 1.0 if norm.transform == "linear" else float(norm.forward(np.float32(30.0)))  # radar: up to 30 mm/h
    frames = [x[:, 0].numpy() for x in (item["inputs"], item["targets"], pred)]
    frames[2] = frames[2] * item["mask"][:, 0].numpy()  # no-data pixels blank in the prediction too
    for suffix in (".png", ".gif"):
        render.save(stem.with_suffix(suffix), *frames, vmax=vmax)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=["mnist", "radar"], required=True)
    p.add_argument("--minutes", type=float, default=25.0, help="training budget (wall clock)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--hidden", type=int, default=48, help="ConvLSTM channels per layer")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--sequences", type=int, default=2000, help="mnist: fresh training sequences per epoch")
    p.add_argument("--test-sequences", type=int, default=1000, help="mnist: fixed-seed test sequences")
    p.add_argument("--val-event", default=VAL_EVENT, help="radar: held-out event (another: results/forecast_radar-X)")
    p.add_argument("--example", type=int, default=0, help="which test window to draw")
    args = p.parse_args()
    result = run(args.part, args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"forecast_{name_of(args)}.json").write_text(json.dumps(result, indent=1) + "\n")
    m, b = result["model"]["summary"], result["persistence"]["summary"]
    print(
        f"\n{args.part}: {result['windows']} test windows, {result['units']}, budget {args.minutes:g} min "
        f"({result['threads']} thread(s)), stopped at epoch {result['training']['epoch']}, "
        f"step {result['training']['step']}"
    )
    print(table(result))
    print(f"\n| | MSE/frame | MAE/frame | MSE/pixel | SSIM |{' CSI@1 |' if 'csi' in m else ''}")
    print(f"|---|---|---|---|---|{'---|' if 'csi' in m else ''}")
    for name, s in (("ConvLSTM", m), ("persistence", b)):
        csi = f" {s['csi']:.3f} |" if "csi" in s else ""
        print(f"| {name} | {s['mse_frame']:.2f} | {s['mae_frame']:.2f} | {s['mse']:.4f} | {s['ssim']:.3f} |{csi}")


if __name__ == "__main__":
    main()
