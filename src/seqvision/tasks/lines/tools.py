"""The text-line tools: ``synth`` (synthetic printed lines), ``pack`` (tar shards for streaming), ``lm build``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from seqvision.errors import ConfigError, DataError


def synth(args: argparse.Namespace) -> int:
    from seqvision.tasks.lines.synth import HELD_OUT, find_fonts, write_dataset

    if args.lines < 1:
        raise ConfigError(f"--lines must be at least 1, got {args.lines}")
    if args.augraphy and args.clean:
        raise ConfigError("--augraphy degrades lines; it cannot go with --clean")
    if args.augraphy:
        from seqvision.tasks.lines.synth.augment import require_augraphy

        require_augraphy()
    include = tuple(args.fonts or ()) + (HELD_OUT if args.held_out == "only" else ())
    exclude = tuple(args.exclude_fonts or ()) + (HELD_OUT if args.held_out == "exclude" else ())
    fonts = find_fonts(include, exclude, Path(args.font_dir) if args.font_dir else None)
    if args.list_fonts:
        for font in fonts:
            print(f"{font.name}\t{font.path}")
        return 0
    families = len({f.family for f in fonts})
    print(f"rendering {args.lines} lines with {len(fonts)} fonts ({families} families) -> {args.out}", file=sys.stderr)
    tsv = write_dataset(
        args.out,
        args.lines,
        fonts,
        seed=args.seed,
        height=args.height,
        clean=args.clean,
        max_chars=args.max_chars,
        workers=args.workers or None,
        augraphy=args.augraphy,
        progress=sys.stderr.isatty(),
    )
    stats = json.loads((tsv.parent / "synth.json").read_text(encoding="utf-8"))
    print(f"{tsv}  ({stats['lines_per_second']:.0f} lines/s with {stats['workers']} workers)")
    return 0


def pack(args: argparse.Namespace) -> int:
    from seqvision.data import loaders  # noqa: F401  (imported before the clock starts)
    from seqvision.tasks.lines.shards import pack as pack_shards

    start = time.perf_counter()
    index = pack_shards(args.data, args.out, shard_size=args.shard_size, shard_mb=args.shard_mb, height=args.height)
    seconds = time.perf_counter() - start
    size = sum(s["bytes"] for s in index["shards"]) / 1e6
    print(
        f"{args.out}  ({index['lines']} lines, {len(index['shards'])} shards, {size:.1f} MB, "
        f"{len(index['characters'])} characters, {index['skipped']} skipped, {index['lines'] / seconds:.0f} lines/s)"
    )
    return 0


def lm_build(args: argparse.Namespace) -> int:
    from seqvision.tasks.lines.decoding.lm import NgramLM

    order = args.order if args.order is not None else (6 if args.unit == "char" else 3)
    if order < 1:
        raise ConfigError(f"--order must be at least 1, got {order}")
    texts = [t for name in args.corpus for t in _corpus_lines(name)]
    if not texts:
        raise DataError(f"{' '.join(args.corpus)}: no text to build a language model from")
    start = time.perf_counter()
    lm = NgramLM.build(texts, order, args.unit)
    lm.info["corpus"] = [str(Path(c)) for c in args.corpus]
    lm.save(args.out)
    sizes = ", ".join(f"{len(p)} {n}-grams" for n, p in enumerate(lm.probs, 1))
    print(
        f"{args.out}  ({args.unit} {order}-gram from {lm.info['lines']} lines, {lm.info['tokens']} tokens: "
        f"{sizes}; {time.perf_counter() - start:.1f} s)"
    )
    if args.val:
        val = _corpus_lines(args.val)
        print(f"perplexity per {args.unit} on {args.val}: {lm.perplexity(val):.3f} ({len(val)} lines)")
    return 0


def _corpus_lines(name: str) -> list[str]:
    """Lines of a plain-text file, or the transcriptions of labelled data (TSV, PAGE/ALTO, sidecar folders)."""
    from seqvision.data.readers import read_lines

    path = Path(name)
    if path.is_file() and path.suffix.lower() in ("", ".txt", ".text"):
        from seqvision.io import read_text_lines

        return [line.strip() for line in read_text_lines(path, "text file") if line.strip()]
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    return [s.text for s in read_lines(path).samples]
