"""The text-line data tools: ``seqvision synth`` (synthetic printed lines) and ``pack`` (tar shards for streaming)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from seqvision.errors import ConfigError


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
