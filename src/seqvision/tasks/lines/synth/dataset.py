"""Writing a synthetic data set to disk: PNG lines, ``labels.tsv`` (the format the readers take), the
font list and the generator settings, in parallel and deterministic for a seed.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tqdm import tqdm

from seqvision.errors import DataError
from seqvision.io import atomic_write_text
from seqvision.tasks.lines.synth.fonts import Font
from seqvision.tasks.lines.synth.generator import LineGenerator
from seqvision.tasks.lines.synth.text import load_corpus

_worker: LineGenerator | None = None


def _init(fonts: Sequence[Font], seed: int, height: int, clean: bool, max_chars: int, augraphy: bool) -> None:
    global _worker
    _worker = LineGenerator(fonts, seed, height, clean, max_chars, augraphy=augraphy)


def _render_range(out: Path, start: int, stop: int) -> list[tuple[str, str, str]]:
    assert _worker is not None
    rows = []
    for i in range(start, stop):
        image, text, font = _worker[i]
        name = f"images/{i:06d}.png"
        image.save(out / name)
        rows.append((name, text, str(font.path)))
    return rows


def _chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(n, start + size)


def write_dataset(
    out: str | Path,
    lines: int,
    fonts: Sequence[Font],
    seed: int = 0,
    height: int = 48,
    clean: bool = False,
    max_chars: int = 80,
    workers: int | None = None,
    progress: bool = False,
    augraphy: bool = False,
) -> Path:
    """Render ``lines`` lines into ``out`` and return the path of its ``labels.tsv``.

    Also writes ``fonts.tsv`` (each font's file and line count) and ``synth.json`` (the settings, text
    sources and speed). The same arguments give the same files, whatever ``workers`` is.
    ``augraphy``: augraphy's paper and scan stages (:mod:`.augment`); needs the ``augraphy`` extra.
    """
    if augraphy and not clean:  # fail here with one line, not inside a worker process
        from seqvision.tasks.lines.synth.augment import require_augraphy

        require_augraphy()
    out = Path(out)
    try:
        (out / "images").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{out}: cannot create the output folder ({exc.strerror or exc})") from None
    workers = workers or min(8, os.cpu_count() or 1)
    sources = load_corpus().sources  # read once here, so forked workers inherit it
    args = (list(fonts), seed, height, clean, max_chars, augraphy)
    start = time.perf_counter()
    rows: list[tuple[str, str, str]] = []
    bar = tqdm(total=lines, desc="rendering", unit="line", disable=not progress, dynamic_ncols=True)
    chunk = max(1, min(256, lines // (4 * workers) or 1))
    if workers == 1:
        _init(*args)
        for a, b in _chunks(lines, chunk):
            rows += _render_range(out, a, b)
            bar.update(b - a)
    else:
        with ProcessPoolExecutor(workers, initializer=_init, initargs=args) as pool:
            for part in pool.map(_render_range, *zip(*((out, a, b) for a, b in _chunks(lines, chunk)), strict=True)):
                rows += part
                bar.update(len(part))
    bar.close()
    seconds = time.perf_counter() - start
    counts = Counter(path for _, _, path in rows)
    atomic_write_text(out / "fonts.tsv", "".join(f"{f.name}\t{f.path}\t{counts[str(f.path)]}\n" for f in fonts))
    settings = {
        "generator": "seqvision.tasks.lines.synth",
        "lines": lines,
        "seed": seed,
        "height": height,
        "clean": clean,
        "augraphy": augraphy and not clean,
        "max_chars": max_chars,
        "fonts": len(fonts),
        "text_sources": list(sources),
        "seconds": round(seconds, 2),
        "lines_per_second": round(lines / max(seconds, 1e-9), 1),
        "workers": workers,
    }
    atomic_write_text(out / "synth.json", json.dumps(settings, indent=2) + "\n")
    atomic_write_text(out / "labels.tsv", "".join(f"{name}\t{text}\n" for name, text, _ in rows))
    return out / "labels.tsv"
