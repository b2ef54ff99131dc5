"""``seqvision pack``: convert line data into tar shards that training streams (docs/scaling.md)."""

from __future__ import annotations

import argparse
import time


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
