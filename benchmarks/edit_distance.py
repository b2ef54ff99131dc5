"""Edit distance per line pair: rapidfuzz's C++ Levenshtein against the pure-Python fallback, by line length.

    python benchmarks/edit_distance.py [--lengths 40 200 1000] [--pairs 50] [--out FILE]

Pairs are random lowercase text with about 10 % of the characters substituted, a few deleted and
a few inserted, like a read line against its transcription. The "words" rows do the same on the
lines' words (WER). Prints a Markdown table and writes benchmarks/results/edit_distance.json;
both implementations must agree on every pair (the script stops if they do not). Times are
medians of three passes over all pairs; compare the ratio, not absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from seqvision.tasks.lines.metrics import python_edit_distance

ROOT = Path(__file__).resolve().parents[1]


def noisy_pair(rng: random.Random, length: int) -> tuple[str, str]:
    reference = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz     ") for _ in range(length))
    read = []
    for c in reference:
        r = rng.random()
        if r < 0.1:
            read.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))
        elif r < 0.13:
            continue
        else:
            read.append(c)
        if rng.random() < 0.03:
            read.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))
    return "".join(read), reference


def median_us(distance: Callable[[Sequence, Sequence], int], pairs: list[tuple], repeats: int = 3) -> float:
    """Median over ``repeats`` passes of the time per pair, in microseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for a, b in pairs:
            distance(a, b)
        times.append((time.perf_counter() - start) / len(pairs) * 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[40, 200, 1000])
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "edit_distance.json")
    args = parser.parse_args()
    rng = random.Random(0)
    rows = []
    for length in args.lengths:
        chars = [noisy_pair(rng, length) for _ in range(args.pairs)]
        for unit, pairs in (("chars", chars), ("words", [(a.split(), b.split()) for a, b in chars])):
            if any(Levenshtein.distance(a, b) != python_edit_distance(a, b) for a, b in pairs):
                raise SystemExit(f"rapidfuzz and the Python fallback disagree at length {length} ({unit})")
            python_us = median_us(python_edit_distance, pairs)
            rapidfuzz_us = median_us(Levenshtein.distance, pairs)
            rows.append(
                {
                    "line_chars": length,
                    "unit": unit,
                    "pairs": len(pairs),
                    "python_us": round(python_us, 2),
                    "rapidfuzz_us": round(rapidfuzz_us, 2),
                    "speedup": round(python_us / rapidfuzz_us, 1),
                }
            )
    print("| line length (chars) | unit | pairs | pure Python µs/pair | rapidfuzz µs/pair | speed-up |")
    print("|---:|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['line_chars']} | {r['unit']} | {r['pairs']} | {r['python_us']:.1f} | {r['rapidfuzz_us']:.2f} "
            f"| {r['speedup']:.0f}x |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "processor": platform.processor() or platform.machine()}
    args.out.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
