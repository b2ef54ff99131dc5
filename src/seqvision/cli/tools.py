"""Parsers of the tools around models: synthetic data, shards, the HTTP service and ``compare`` studies."""

from __future__ import annotations

from typing import Any


def add_tool_parsers(sub: Any) -> None:
    """``synth``, ``pack``, ``synth-video``, ``serve`` and ``compare`` (their handlers stay in their modules)."""
    from seqvision.cli import commands
    from seqvision.cli.common import add_set_option
    from seqvision.tasks.lines import pack as shards
    from seqvision.tasks.video import cli as video

    p = sub.add_parser("synth", help="render synthetic printed lines: images + labels.tsv")
    p.add_argument("--out", required=True, help="folder to write (images/, labels.tsv, fonts.tsv, synth.json)")
    p.add_argument("--lines", type=int, default=1000, help="number of lines (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same data set")
    p.add_argument("--height", type=int, default=48, help="image height in pixels (default 48)")
    p.add_argument("--fonts", nargs="+", metavar="FAMILY", help="only these font families (e.g. 'DejaVu Serif' Go)")
    p.add_argument("--exclude-fonts", nargs="+", metavar="FAMILY", help="not these font families")
    p.add_argument("--held-out", choices=["exclude", "only"], help="the benchmark's held-out font families")
    p.add_argument("--font-dir", help="use the .ttf/.otf files in this folder instead of the system's fonts")
    p.add_argument("--clean", action="store_true", help="plain black-on-white lines, no degradations")
    p.add_argument("--max-chars", type=int, default=80, help="longest line in characters (default 80)")
    p.add_argument("--workers", type=int, default=0, help="processes (default: all cores)")
    p.add_argument("--list-fonts", action="store_true", help="print the fonts that would be used, then stop")
    p.set_defaults(func=commands.synth)

    p = sub.add_parser("pack", help="convert line data into tar shards for streaming training (large collections)")
    p.add_argument("data", nargs="+", metavar="DATA", help="labels.tsv, sidecar folders, PAGE/ALTO files or folders")
    p.add_argument("--out", required=True, help="new folder for the shards and their index.json")
    p.add_argument("--shard-size", type=int, default=1000, help="lines per shard (default 1000)")
    p.add_argument("--shard-mb", type=float, default=0, help="also start a new shard past this many MB (default: off)")
    p.add_argument("--height", type=int, default=0, help="scale lines to this height when packing (default: keep)")
    p.set_defaults(func=shards.pack)

    p = sub.add_parser("synth-video", help="write synthetic video clips (motion, order and appearance classes)")
    p.add_argument("--out", required=True, help="folder to write (CLASS/*.mp4, clips.csv, synth-video.json)")
    p.add_argument("--clips", type=int, default=40, help="clips per class (default 40)")
    p.add_argument("--frames", type=int, default=16, help="frames per clip (default 16)")
    p.add_argument("--size", type=int, default=32, help="frame width and height in pixels, even (default 32)")
    p.add_argument("--fps", type=float, default=10.0, help="frame rate written to the files (default 10)")
    p.add_argument("--groups", type=int, default=5, help="scenes (gXX in file names), shared by clips (default 5)")
    p.add_argument(
        "--first-group",
        type=int,
        default=1,
        help="number of the first scene (default 1); a validation set with other numbers does not leak",
    )
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same clips")
    p.add_argument(
        "--container",
        choices=["mp4", "mkv", "webm", "avi", "frames"],
        default="mp4",
        help="file format, or PNG folders",
    )
    p.add_argument("--classes", nargs="+", metavar="CLASS", help="only these classes (default all eight)")
    p.set_defaults(func=video.synth_video)

    p = sub.add_parser("serve", help="HTTP service and web page for recognition (needs the [serve] extra)")
    p.add_argument(
        "models", nargs="*", metavar="MODEL", help="models to serve; the first is the default (default: all bundled)"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--backend", choices=["torch", "onnx"], default="torch", help="inference runtime (default torch)")
    p.add_argument("--workers", type=int, default=0, help="inference threads (default: one per core)")
    p.add_argument("--threads", type=int, default=1, help="compute threads per inference (default 1)")
    p.add_argument("--queue", type=int, default=64, help="requests waiting for a worker; more get 503 (default 64)")
    p.add_argument(
        "--batch-size",
        type=int,
        default=16,
        help="most lines per forward pass; waiting requests share one (default 16)",
    )
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request, waiting included (default 30)")
    p.add_argument("--max-upload-mb", type=float, default=10.0, help="image megabytes per request (default 10)")
    p.add_argument("--max-pixels", type=int, default=16_000_000, help="image pixels per request (default 16M)")
    p.add_argument("--max-lines", type=int, default=64, help="images per batch request (default 64)")
    p.add_argument("--max-beam-width", type=int, default=64, help="largest beam width clients may ask for (default 64)")
    p.add_argument(
        "--lm",
        action="append",
        default=[],
        metavar="NAME=ARPA",
        help="a language model clients may pick by NAME for beam search (repeatable; read once at start)",
    )
    p.add_argument("--lm-weight", type=float, default=0.8, help="weight of every --lm (default 0.8)")
    p.add_argument("--lm-bonus", type=float, default=2.0, help="insertion bonus with every --lm (default 2.0)")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default="info", help="server log")
    p.add_argument("--access-log", action="store_true", help="log every request (off: it costs throughput)")
    p.set_defaults(func=commands.serve)

    p = sub.add_parser("compare", help="train the same encoder and head with each sequence model; tables and a plot")
    p.add_argument("--suite", help="mnist, mnist-seq, lines or video (see docs/compare/README.md)")
    p.add_argument(
        "--sequences",
        default="none,lstm,gru,tcn,transformer",
        help="comma-separated sequence models (default none,lstm,gru,tcn,transformer)",
    )
    p.add_argument("--seeds", type=int, default=3, help="training seeds per sequence model (default 3)")
    p.add_argument("--max-minutes", type=float, default=1.0, help="training time per cell; 0: none (default 1)")
    p.add_argument("--epochs", type=int, default=30, help="at most this many epochs per cell (default 30)")
    p.add_argument("--batch-size", type=int, default=32, help="samples per batch (default 32)")
    p.add_argument("--threads", type=int, default=0, help="torch threads for training and timing (default: all)")
    p.add_argument(
        "--data",
        help="the suite's source: mnist.npz (mnist, mnist-seq), a folder with train/ and val/ (lines, video), "
        "or 'synthetic' (video, the default: generated clips)",
    )
    p.add_argument(
        "--train",
        help="your own training data (lines or clips, as the suite's task reads) instead of the suite's (with --val)",
    )
    p.add_argument("--val", help="your own validation data (with --train)")
    p.add_argument("--train-samples", type=int, default=0, help="training samples to use/generate (0: default)")
    p.add_argument("--val-samples", type=int, default=0, help="validation samples to use/generate (0: default)")
    add_set_option(p, "override a config key in every cell, e.g. --set model.sequence.layers=3")
    p.add_argument("--out", required=True, help="study folder: runs/, cells.csv, results.{md,csv,png}")
    p.add_argument("--progress", action="store_true", help="show each run's progress bar")
    p.add_argument(
        "--remeasure",
        action="store_true",
        help="time the finished cells in --out again (e.g. on an idle machine); trains nothing",
    )
    p.set_defaults(func=commands.compare)
