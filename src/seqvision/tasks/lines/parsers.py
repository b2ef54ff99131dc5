"""The text-line verbs: ``calibrate`` and ``lm`` (listed after ``eval``), ``synth`` and ``pack`` (after ``export``)."""

from __future__ import annotations

from typing import Any


def add_parsers(sub: Any, after: str) -> None:
    """Add the text-line verbs that ``seqvision --help`` lists after the shared verb ``after``."""
    if after == "eval":
        _add_model_tools(sub)
    elif after == "export":
        _add_data_tools(sub)


def _add_model_tools(sub: Any) -> None:
    from seqvision.checkpoint import DEFAULT_MODEL
    from seqvision.cli.common import MODEL_HELP, add_decoder_options, add_inference_options
    from seqvision.tasks.lines import cli, tools

    p = sub.add_parser("calibrate", help="fit a confidence temperature on labelled lines; write a calibrated model")
    p.add_argument("inputs", nargs="+", metavar="[MODEL] DATA", help=f"model (default {DEFAULT_MODEL}), then data")
    p.add_argument("-m", "--model", help=MODEL_HELP)
    p.add_argument("--out", required=True, help="the calibrated model to write (.safetensors + .json)")
    p.add_argument("--plot", metavar="PNG", help="also draw a reliability diagram, before and after")
    add_inference_options(p)
    add_decoder_options(p)
    p.set_defaults(func=cli.calibrate)

    p = sub.add_parser("lm", help="n-gram language models for beam search")
    lm_sub = p.add_subparsers(dest="lm_command", required=True, metavar="ACTION")
    q = lm_sub.add_parser("build", help="estimate an n-gram LM (modified Kneser-Ney) from text; writes ARPA")
    q.add_argument(
        "corpus", nargs="+", help="plain-text files (one line per line), or labelled data (TSV, PAGE/ALTO, folders)"
    )
    q.add_argument("--out", required=True, help="the .arpa file to write")
    q.add_argument("--unit", choices=["char", "word"], default="char", help="characters (default) or words")
    q.add_argument("--order", type=int, help="n-gram order (default 6 for characters, 3 for words)")
    q.add_argument("--val", metavar="TEXT", help="report perplexity on these lines (text file or labelled data)")
    q.set_defaults(func=tools.lm_build)


def _add_data_tools(sub: Any) -> None:
    from seqvision.tasks.lines import tools

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
    p.add_argument(
        "--augraphy",
        action="store_true",
        help="paper and scan stages from augraphy instead of the built-in ones (the [augraphy] extra; slower)",
    )
    p.add_argument("--max-chars", type=int, default=80, help="longest line in characters (default 80)")
    p.add_argument("--workers", type=int, default=0, help="processes (default: all cores)")
    p.add_argument("--list-fonts", action="store_true", help="print the fonts that would be used, then stop")
    p.set_defaults(func=tools.synth)

    p = sub.add_parser("pack", help="convert line data into tar shards for streaming training (large collections)")
    p.add_argument("data", nargs="+", metavar="DATA", help="labels.tsv, sidecar folders, PAGE/ALTO files or folders")
    p.add_argument("--out", required=True, help="new folder for the shards and their index.json")
    p.add_argument("--shard-size", type=int, default=1000, help="lines per shard (default 1000)")
    p.add_argument("--shard-mb", type=float, default=0, help="also start a new shard past this many MB (default: off)")
    p.add_argument("--height", type=int, default=0, help="scale lines to this height when packing (default: keep)")
    p.set_defaults(func=tools.pack)
