"""The ``seqvision`` command: one subcommand per verb, a thin layer over the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from seqvision import __version__
from seqvision.checkpoint import DEFAULT_MODEL
from seqvision.cli.common import MODEL_HELP, add_decoder_options, add_inference_options, add_set_option
from seqvision.errors import SeqvisionError


def build_parser() -> argparse.ArgumentParser:
    """The parser of every verb: the shared ones here, each task's own from its folder (``Task.add_parsers``)."""
    from seqvision.cli import tools
    from seqvision.tasks import all_tasks

    parser = argparse.ArgumentParser(
        prog="seqvision", description="Hybrid CNN + RNN vision models: train, evaluate, read."
    )
    parser.add_argument("--version", action="version", version=f"seqvision {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    tasks = all_tasks()
    shared = (
        ("train", add_train),
        ("eval", add_eval),
        ("read", add_read),
        ("export", add_export),
        ("serve", tools.add_serve),
        ("compare", tools.add_compare),
        ("models", add_models),
    )
    for verb, add in shared:
        add(sub)
        for task in tasks:  # a task's own verbs, listed after the shared verb they go with
            task.add_parsers(sub, after=verb)
    return parser


def add_train(sub: Any) -> None:
    from seqvision.cli import commands

    p = sub.add_parser("train", help="train a model (text lines or video clips) into a run folder")
    p.add_argument(
        "--task",
        help="what to learn: text_lines (default), video, sound, gait, captioning, image_classes, forecast, dna or "
        "segment (see `seqvision models`)",
    )
    p.add_argument(
        "--preset",
        help="named model preset (see `seqvision models`); "
        "default crnn-small, lrcn-small for video, sat-small for captioning, convlstm-small for forecast",
    )
    p.add_argument(
        "--train",
        nargs="+",
        metavar="DATA",
        help="training data: labels.tsv, folder with .gt.txt sidecars, PAGE/ALTO XML or folder, "
        "a shard folder (seqvision pack); several line-format inputs mix, each PATH or PATH*N "
        "(its lines N times per epoch), caseless:PATH for labels without case; "
        "video: a folder per class or a path,label[,group] CSV/TSV; "
        "sound: a folder of video files with audio or a path[,group] CSV/TSV; "
        "forecast: moving-mnist:mnist.npz, radar .npz events or .npy/.npz frame arrays",
    )
    p.add_argument("--val", help="validation data (default: a held-out fraction of --train)")
    p.add_argument("--labels", help="dna: labels TSV (id<TAB>label(s)) for FASTA files whose headers carry none")
    p.add_argument("--out", help="run folder to create (config, logs, curves, checkpoints, model)")
    p.add_argument("--config", help="YAML experiment config (sections model, data, train)")
    add_set_option(p, "override a config key, e.g. --set model.sequence.name=gru (repeatable)")
    p.add_argument("--epochs", type=int, help="maximum epochs")
    p.add_argument("--max-minutes", type=float, help="time budget; the learning-rate schedule ends with it")
    p.add_argument("--batch-size", type=int, help="lines per batch")
    p.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last checkpoint")
    p.add_argument(
        "--init",
        metavar="MODEL",
        help="start from a saved or bundled model's weights (fine-tuning); the model settings must match it",
    )
    p.add_argument(
        "--alphabet",
        choices=["union", "new", "keep"],
        help="with --init, text lines: union (default: the model's characters and the data's new ones), "
        "new (the data's only) or keep (the model's only)",
    )
    p.add_argument(
        "--precision", choices=["32", "bf16"], help="32 (default) or bf16 autocast (fast on AVX-512 BF16/AMX)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    g = p.add_argument_group("data-parallel training (docs/scaling.md)")
    g.add_argument("--accelerator", choices=["cpu", "gpu", "auto"], help="where to train (default cpu)")
    g.add_argument("--devices", type=int, help="processes (CPU) or GPUs per node; --batch-size is split across all")
    g.add_argument("--num-nodes", type=int, help="machines taking part (default 1)")
    g.add_argument("--strategy", choices=["auto", "ddp", "ddp_spawn"], help="Lightning strategy (gloo/nccl DDP)")
    p.set_defaults(func=commands.train)


def add_eval(sub: Any) -> None:
    from seqvision.cli import dispatch

    p = sub.add_parser("eval", help="character and word error rates of a model on labelled data")
    p.add_argument("inputs", nargs="+", metavar="[MODEL] DATA", help=f"model (default {DEFAULT_MODEL}), then data")
    p.add_argument("-m", "--model", help=MODEL_HELP)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_inference_options(p)
    add_decoder_options(p)
    p.add_argument(
        "--predictions", metavar="TSV", help="also write source<TAB>reference<TAB>prediction lines (or labels)"
    )
    p.add_argument("--confusion", metavar="PNG", help="video models: also draw the confusion matrix")
    p.add_argument(
        "--reader",
        help="page segmenters: the text-line model whose page CER/WER is reported (default: chosen per page "
        "among the bundled ones; 'none': segmentation scores only)",
    )
    p.add_argument("--labels", help="DNA models: labels TSV (id<TAB>label(s)) for a FASTA data file")
    p.add_argument("--gallery", help="gait models: gallery data; DATA is then the probes (default: DATA split)")
    p.add_argument(
        "--tune-lm",
        action="store_true",
        help="pick --lm-weight and --lm-bonus by CER on this data (run on validation lines, not test lines)",
    )
    p.set_defaults(func=dispatch.evaluate)


def add_read(sub: Any) -> None:
    from seqvision.cli import dispatch

    p = sub.add_parser("read", aliases=["predict"], help="recognise line images, or classify video clips")
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="[MODEL] INPUT",
        help=f"model (default {DEFAULT_MODEL}), then image files, folders of images, or TSV/PAGE/ALTO files; "
        "for a video model: video files, frame folders, folders of clips or CSV/TSV lists",
    )
    p.add_argument("-m", "--model", help=MODEL_HELP)
    p.add_argument(
        "--format",
        choices=["txt", "json", "page", "alto"],
        help="txt (default): the text; json: text, confidences, character and word boxes per line; "
        "page/alto: one XML file per image, in --out",
    )
    p.add_argument("--json", action="store_true", help="same as --format json (for a video model: one object per clip)")
    p.add_argument("--top-k", type=int, default=5, help="video, gait models: how many labels or subjects (default 5)")
    p.add_argument("--labels", help="DNA models: labels TSV for FASTA input (labels are optional for prediction)")
    p.add_argument(
        "--gallery", help="gait models: the known walkers (subject folders or CSV) to rank each clip against"
    )
    p.add_argument(
        "--page",
        metavar="XML",
        help="recognise every line of this PAGE-XML or ALTO file; writes --out in the same format",
    )
    p.add_argument("--image", help="with --page: the page image (default: as the XML names it, beside it)")
    p.add_argument("--out", help="file (--page, txt, json) or folder (page, alto) to write; default: standard output")
    g = p.add_argument_group("whole pages (an image at least 400 px high and not much wider than high)")
    g.add_argument(
        "--page-image",
        dest="as_page",
        action="store_const",
        const=True,
        help="the images are whole pages: find their lines, read them in reading order (default: by their size)",
    )
    g.add_argument("--line-image", dest="as_page", action="store_const", const=False, help="the images are lines")
    g.add_argument(
        "--segmenter", default="lines-seg", help="the page segmenter that finds the lines (default lines-seg)"
    )
    g.add_argument("--page-out", metavar="XML", help="also write each page's PAGE-XML (a file; a folder for several)")
    add_inference_options(p)
    add_decoder_options(p)
    p.set_defaults(func=dispatch.read)


def add_export(sub: Any) -> None:
    from seqvision.cli import dispatch

    p = sub.add_parser("export", help="export a model to a self-contained ONNX file")
    p.add_argument("model", help=MODEL_HELP)
    p.add_argument("--out", required=True, help="the .onnx file to write")
    p.add_argument("--int8", action="store_true", help="dynamic int8 weights for the LSTM and linear layers")
    p.set_defaults(func=dispatch.export)


def add_models(sub: Any) -> None:
    from seqvision.cli import commands

    p = sub.add_parser("models", help="list presets, encoders, sequence models, heads and bundled models")
    p.set_defaults(func=commands.models)


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """``parse_args``, except that ``read``/``eval`` inputs may also come after options.

    argparse ends a ``nargs`` positional at the first option, so ``read print-en --backend onnx a.png``
    would refuse ``a.png``; the words left over are appended to ``inputs`` when none looks like an option.
    """
    args, extra = parser.parse_known_args(argv)
    if extra:
        if isinstance(getattr(args, "inputs", None), list) and not any(x.startswith("-") for x in extra):
            args.inputs += extra
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 bad input, 2 usage error, 130 interrupted)."""
    parser = build_parser()
    try:
        args = parse(parser, argv)
        return int(args.func(args) or 0)
    except SystemExit as exc:  # argparse usage errors and --help
        return exc.code if isinstance(exc.code, int) else 2
    except SeqvisionError as exc:
        print(f"seqvision: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file problem no reader anticipated (disk full, permissions): still one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"seqvision: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("seqvision: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
