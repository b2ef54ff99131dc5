"""`make demo`: train a small line recogniser on generated lines for three minutes, then read lines.

Needs no outside data: text lines are rendered with the fonts this machine has (or Pillow's
built-in font). Then evaluates the model on held-out generated lines and reads the printed
sample lines under examples/lines/ with it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from seqvision.cli import main
from seqvision.data.synthetic import system_fonts, write_dataset

HERE = Path(__file__).resolve().parent
RUN = Path.cwd() / "demo-run"


def step(title: str, argv: list[str]) -> None:
    print(f"\n== {title}\n$ seqvision {' '.join(argv)}", flush=True)
    if main(argv) != 0:
        sys.exit(f"demo step failed: {title}")


def main_demo() -> None:
    fonts = system_fonts()
    print(f"rendering synthetic lines with {len(fonts) or 'Pillow built-in'} font(s) -> {RUN / 'data'}")
    train = write_dataset(RUN / "data" / "train", 1500, height=32, seed=1, fonts=list(fonts))
    val = write_dataset(RUN / "data" / "val", 100, height=32, seed=2, fonts=list(fonts))
    examples = sorted(str(p) for p in (HERE / "lines").glob("*.png"))
    train_argv = f"train --preset crnn-mobile --train {train} --val {val} --out {RUN / 'model'} --max-minutes 3"
    train_argv += (
        " --epochs 100 --batch-size 16 --quiet --set model.height=32 --set train.lr=2e-3 --set data.augment=false"
    )
    step("train for three minutes (crnn-mobile at 32 px)", train_argv.split())
    step("evaluate on held-out generated lines", ["eval", str(RUN / "model"), str(val)])
    step("read the sample lines in examples/lines", ["read", str(RUN / "model"), *examples])
    print(f"\nrun folder with config, curves.png and the model: {RUN / 'model'}")


if __name__ == "__main__":
    main_demo()
