"""A contact sheet: real printed lines beside synthetic ones at the same height, so the gap shows.

    python examples/contact_sheet.py ../shared/data/printed/ehri_en/train ../shared/data/printed/gt4hist_en/train \
        ../shared/data/printed/sroie/train --lines 12 --seed 0 --out docs/images/synth-vs-real.png

Left column: ``--lines`` real lines drawn evenly (seeded) from the given sets, each tagged with its set.
Right column: the synthetic lines ``0..N-1`` of ``LineGenerator(seed=--seed)`` in the training fonts,
tagged with their font. Lines wider than a column are cut at its right edge (never shrunk), so both
columns show pixels at the scale the model sees them. The sheet is grayscale PNG.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from seqvision.data.readers import read_lines
from seqvision.errors import SeqvisionError
from seqvision.tasks.lines.synth import HELD_OUT, LineGenerator, find_fonts

TAG = 14  # px of caption above each line
GAP = 6  # px between lines and columns


def real_lines(sets: list[Path], n: int, height: int, seed: int) -> list[tuple[Image.Image, str]]:
    """``n`` lines drawn round-robin over ``sets`` (a seeded sample of each), scaled to ``height``."""
    rng = random.Random(seed)
    pools = []
    for folder in sets:
        samples = list(read_lines(folder).samples)
        rng.shuffle(samples)
        pools.append((folder.parent.name if folder.name in ("train", "val") else folder.name, samples))
    picked = []
    for i in range(n):
        name, samples = pools[i % len(pools)]
        sample = samples[i // len(pools)]
        img = Image.open(sample.image).convert("L")
        img = img.resize((max(1, round(img.width * height / img.height)), height), Image.Resampling.BILINEAR)
        picked.append((img, f"real {name}: {sample.text[:60]}"))
    return picked


def synthetic_lines(n: int, height: int, seed: int, augraphy: bool = False) -> list[tuple[Image.Image, str]]:
    """Lines ``0..n-1`` of the generator in the training fonts (the held-out families excluded)."""
    gen = LineGenerator(find_fonts(exclude=HELD_OUT), seed=seed, height=height, augraphy=augraphy)
    out = []
    for i in range(n):
        img, text, font = gen[i]
        out.append((img, f"synth {font.name}: {text[:60]}"))
    return out


def _caption(text: str) -> str:
    """``text`` in characters Pillow's built-in font draws (Latin-1; others become '?')."""
    return "".join(ch if ord(ch) < 256 else "?" for ch in text)


def sheet(columns: list[tuple[str, list[tuple[Image.Image, str]]]], width: int, height: int) -> Image.Image:
    """Columns of captioned lines side by side, each ``width`` px wide, on mid-gray."""
    font = ImageFont.load_default(11)
    rows = max(len(lines) for _, lines in columns)
    canvas = Image.new("L", (len(columns) * (width + GAP) + GAP, TAG + 6 + rows * (TAG + height + GAP)), 128)
    draw = ImageDraw.Draw(canvas)
    for c, (title, lines) in enumerate(columns):
        x = GAP + c * (width + GAP)
        draw.text((x, 2), title, fill=255, font=font)
        for r, (img, caption) in enumerate(lines):
            y = TAG + 6 + r * (TAG + height + GAP)
            draw.text((x, y), _caption(caption), fill=235, font=font)
            canvas.paste(img.crop((0, 0, min(img.width, width), height)), (x, y + TAG))
    return canvas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+", type=Path, help="real line sets (folders holding labels.tsv)")
    parser.add_argument("--out", type=Path, required=True, help="PNG file to write")
    parser.add_argument("--lines", type=int, default=12, help="lines per column (default 12)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed and real-line sample (default 0)")
    parser.add_argument("--height", type=int, default=48, help="line height in px (default 48)")
    parser.add_argument("--width", type=int, default=560, help="column width in px (default 560)")
    parser.add_argument("--augraphy", action="store_true", help="synthetic lines through the augraphy pipeline")
    args = parser.parse_args(argv)
    try:
        real = real_lines(args.sets, args.lines, args.height, args.seed)
        synth = synthetic_lines(args.lines, args.height, args.seed, args.augraphy)
    except (SeqvisionError, IndexError, OSError) as exc:
        print(f"contact_sheet: error: {exc}", file=sys.stderr)
        return 1
    title = f"synthetic (seqvision synth, seed {args.seed}{', --augraphy' if args.augraphy else ''})"
    img = sheet([("real scans", real), (title, synth)], args.width, args.height)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    img.save(args.out, optimize=True)
    print(f"{args.out}  ({img.width}x{img.height}, {args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
