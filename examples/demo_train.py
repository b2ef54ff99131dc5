"""`make demo-train`: train a small text-line recogniser of your own in three minutes.

Needs no outside data. Renders short clean lines in a few plain font families (or Pillow's
built-in font), trains a small model on them for three minutes, evaluates it on held-out
generated lines and reads the sample lines under examples/lines/ with it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from seqvision.cli import main
from seqvision.errors import DataError
from seqvision.tasks.lines.synth import PILLOW_FONT, find_fonts, write_dataset

HERE = Path(__file__).resolve().parent
RUN = Path.cwd() / "demo-run"
DEMO_FONTS = ("DejaVu Sans", "DejaVu Serif", "Liberation Sans", "Liberation Serif")  # a few plain families


def step(title: str, argv: list[str]) -> None:
    print(f"\n== {title}\n$ seqvision {' '.join(argv)}", flush=True)
    if main(argv) != 0:
        sys.exit(f"demo step failed: {title}")


def main_demo_train() -> None:
    examples = sorted(str(p) for p in (HERE / "lines").glob("*.png"))
    try:
        fonts = list(find_fonts(include=DEMO_FONTS))
    except DataError as exc:
        print(f"note: {exc}\nusing Pillow's built-in font")
        fonts = [PILLOW_FONT]
    print(f"\nrendering short clean lines with {len(fonts)} font(s) -> {RUN / 'data'}")
    train = write_dataset(RUN / "data" / "train", 1500, fonts, seed=1, height=32, clean=True, max_chars=30)
    val = write_dataset(RUN / "data" / "val", 100, fonts, seed=2, height=32, clean=True, max_chars=30)
    train_argv = f"train --preset crnn-mobile --train {train} --val {val} --out {RUN / 'model'} --max-minutes 3"
    train_argv += (
        " --epochs 100 --batch-size 16 --quiet --set model.height=32 --set train.lr=2e-3 --set data.augment=false"
    )
    step("train for three minutes (crnn-mobile at 32 px)", train_argv.split())
    step("evaluate on held-out generated lines", ["eval", str(RUN / "model"), str(val)])
    step("read the sample lines with the new model", ["read", str(RUN / "model"), *examples])
    print(f"\nrun folder with config, curves.png and the model: {RUN / 'model'}")


if __name__ == "__main__":
    main_demo_train()
