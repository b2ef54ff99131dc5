"""What a resume checkpoint costs per preset: size, atomic save (temp file + fsync + rename) and load time.

    python benchmarks/checkpoint_cost.py [--presets crnn-small ...] [--repeats 5] [--out DIR]

A checkpoint holds what Lightning's holds for these runs: weights plus the AdamW moments (after
one real step, so they exist). "plain save" is ``torch.save`` straight to the file, what Lightning
does without the plugin, for the cost of atomicity. Use it to pick ``train.checkpoint_every``:
a save every N steps costs ``save ms / N`` per step. Prints a Markdown table and writes
benchmarks/results/checkpoint_cost.json. ``--out`` picks the disk to measure (default: a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from seqvision.nn.model import build_model
from seqvision.nn.presets import get_preset
from seqvision.registry import PRESETS
from seqvision.training.faults import AtomicCheckpointIO, load_resume_file

ROOT = Path(__file__).resolve().parents[1]


def checkpoint_of(name: str) -> tuple[dict, int]:
    """A Lightning-shaped checkpoint of preset ``name`` after one AdamW step, and its parameter count."""
    model = build_model(get_preset(name), 80)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    opt.step()
    state = {"epoch": 1, "global_step": 100, "state_dict": model.state_dict(), "optimizer_states": [opt.state_dict()]}
    return state, sum(p.numel() for p in model.parameters())


def median_ms(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(1000 * (time.perf_counter() - start))
    return round(statistics.median(times), 1)


def measure(name: str, folder: Path, repeats: int) -> dict:
    state, params = checkpoint_of(name)
    path = folder / f"{name}.ckpt"
    io_plugin = AtomicCheckpointIO()
    atomic = median_ms(lambda: io_plugin.save_checkpoint(state, path), repeats)
    plain = median_ms(lambda: torch.save(state, path), repeats)
    load = median_ms(lambda: load_resume_file(path), repeats)
    return {
        "preset": name,
        "parameters_m": round(params / 1e6, 2),
        "checkpoint_mb": round(path.stat().st_size / 2**20, 1),
        "atomic_save_ms": atomic,
        "plain_save_ms": plain,
        "load_ms": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="*", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="folder on the disk to measure")
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = args.presets or PRESETS.names()
    with tempfile.TemporaryDirectory(dir=args.out) as tmp:
        rows = [measure(name, Path(tmp), args.repeats) for name in names]
    print("| preset | params (M) | checkpoint (MB) | atomic save (ms) | plain save (ms) | load, checked (ms) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['preset']} | {r['parameters_m']} | {r['checkpoint_mb']} | {r['atomic_save_ms']} | "
            f"{r['plain_save_ms']} | {r['load_ms']} |"
        )
    result = {"machine": platform.processor() or platform.machine(), "repeats": args.repeats, "rows": rows}
    out = ROOT / "benchmarks" / "results" / "checkpoint_cost.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
