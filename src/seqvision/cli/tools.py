"""Parsers of the shared tools around models: the HTTP service and ``compare`` studies (handlers in :mod:`.commands`).

A task's own tools (``synth``, ``pack``, ``synth-video``, ``motifs`` ...) come from its folder (``Task.add_parsers``).
"""

from __future__ import annotations

from typing import Any


def add_serve(sub: Any) -> None:
    """``seqvision serve``."""
    from seqvision.cli import commands
    from seqvision.cli.common import add_backend_option

    p = sub.add_parser(
        "serve", help="HTTP service and web page for recognition and clip classification (needs the [serve] extra)"
    )
    p.add_argument(
        "models",
        nargs="*",
        metavar="MODEL",
        help="text-line and clip (video, emotion) models to serve; the first of each kind is its default "
        "(default: all bundled)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    add_backend_option(p)
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
    p.add_argument("--max-upload-mb", type=float, default=10.0, help="image or clip megabytes per request (default 10)")
    p.add_argument("--max-pixels", type=int, default=16_000_000, help="image pixels per request (default 16M)")
    p.add_argument("--max-lines", type=int, default=64, help="images per batch request (default 64)")
    p.add_argument("--max-clips", type=int, default=8, help="clips per /v1/clips request (default 8)")
    p.add_argument(
        "--segmenter",
        default="lines-seg",
        help="page segmenter behind POST /v1/read/page (default: the bundled lines-seg; 'none': no pages)",
    )
    p.add_argument("--page-workers", type=int, default=1, help="pages read at once (default 1)")
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


def add_compare(sub: Any) -> None:
    """``seqvision compare``."""
    from seqvision.cli import commands
    from seqvision.cli.common import add_set_option

    p = sub.add_parser("compare", help="train the same encoder and head with each sequence model; tables and a plot")
    p.add_argument("--suite", help="mnist, mnist-seq, lines, video, emotion, gait, sound (docs/compare/README.md)")
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
        help="the suite's source: mnist.npz (mnist, mnist-seq), a folder with train/ and val/ (lines and the clip "
        "suites), or 'synthetic' (video, emotion, gait, sound: the default, generated clips)",
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
