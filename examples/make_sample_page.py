"""Make ``examples/pages/letter.png``, the demo's sample page: a short printed letter with mild scan wear.

    python examples/make_sample_page.py            # rewrites examples/pages/letter.png and letter.txt

The page is generated, not scanned: the text below, set in Pillow's own font (no system fonts
needed), then turned by less than a degree, laid on slightly uneven paper with grain and a few
specks, and blurred towards its right edge, as an old flatbed scan would be. Everything is
seeded, so the same Pillow and numpy give the same file. The image and its text are released
under CC0 (public domain): copy them freely.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
LETTER = [
    "14 Harbour Street, Falmouth",
    "Dear Mr. Pendleton,",
    "Thank you for your letter of the third of May",
    "and for the samples of cloth, which arrived safely",
    "by the morning train. We have examined them with",
    "care and find the quality quite satisfactory.",
    "Please send us forty yards of the grey serge and",
    "twenty of the blue, at the prices you quoted.",
    "We shall pay on delivery, as before.",
    "Yours faithfully, J. Trewin & Sons",
]
SIZE = (1000, 1300)  # width, height in pixels (about 120 dpi for a letter sheet)
SEED = 20240514


def render(lines: list[str] = LETTER, seed: int = SEED) -> Image.Image:
    """The letter as an 8-bit grayscale page."""
    rng = np.random.default_rng(seed)
    font = ImageFont.load_default(size=30)
    ink = Image.new("L", SIZE, 0)  # ink coverage, 0 = none
    draw = ImageDraw.Draw(ink)
    y = 130
    for i, text in enumerate(lines):
        x = 560 if i == 0 else 110  # the sender's address on the right, the rest at the margin
        draw.text((x, y), text, font=font, fill=255)
        y += 95 if i in (0, 1) else 62  # a gap after the address and after the greeting
    ink = ink.rotate(0.6, resample=Image.Resampling.BICUBIC, fillcolor=0)  # a slightly skewed sheet
    coverage = np.asarray(ink, np.float32) / 255.0
    # paper: a smooth brightness gradient with soft blotches, fine grain, a few dark specks
    h, w = coverage.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    paper = 238 - 10 * (xx / w) - 6 * (yy / h)
    blotches = Image.fromarray((rng.random((h // 50, w // 50)) * 255).astype(np.uint8)).resize(
        (w, h), Image.Resampling.BICUBIC
    )
    paper += (np.asarray(blotches, np.float32) - 128) / 128 * 5
    grain = rng.random((h, w)) < 0.08  # fine grain on a few pixels, not all (keeps the PNG small)
    paper[grain] += rng.choice([-6.0, -3.0, 3.0], int(grain.sum()))
    specks = rng.random((h, w)) < 0.0004
    paper[specks] -= rng.uniform(40, 120, int(specks.sum()))
    page = paper * (1 - 0.85 * coverage) + 20 * coverage * 0.15
    levels = np.clip(page, 0, 255) // 4 * 4  # 64 grey levels, as a cheap scanner gives (and a PNG under 300 KB)
    img = Image.fromarray(levels.astype(np.uint8))
    # the scanner lid lifted on the right: that edge of the page is out of focus
    edge = int(w * 0.82)
    blurred = img.crop((edge, 0, w, h)).filter(ImageFilter.GaussianBlur(1.2))
    img.paste(blurred, (edge, 0))
    return img


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "pages" / "letter.png", help="where the PNG goes")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    render().save(args.out, optimize=True)
    args.out.with_suffix(".txt").write_text("\n".join(LETTER) + "\n", encoding="utf-8")
    print(f"{args.out}: {args.out.stat().st_size // 1024} KB, {len(LETTER)} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
