"""What every verb's handler and parser shares (thread count, ``[MODEL] INPUT...``, common options).

Task CLIs import this module only, never :mod:`seqvision.cli.main` or :mod:`seqvision.cli.commands`,
which import them: that keeps the CLI free of import circles.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqvision.checkpoint import DEFAULT_MODEL
from seqvision.errors import ConfigError, DataError

MODEL_HELP = f"saved model (.safetensors), run folder, or bundled model name (default {DEFAULT_MODEL})"


def add_backend_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backend",
        choices=["torch", "onnx", "openvino"],
        help="inference runtime: torch, onnx (onnxruntime) or openvino (OpenVINO, the [openvino] extra) (default: "
        "onnx where onnxruntime is installed and the model has an .onnx file beside it, as the bundled ones do; "
        "else torch)",
    )


def add_inference_options(p: argparse.ArgumentParser) -> None:
    add_backend_option(p)
    p.add_argument("--batch-size", type=int, default=16, help="lines per batch, formed by width (default 16)")
    p.add_argument("--threads", type=int, default=0, help="compute threads (default: all cores)")


def add_set_option(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help)


def add_decoder_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("decoding")
    g.add_argument(
        "--decoder",
        choices=["greedy", "beam"],
        help="best path, or CTC beam search (default: beam when --lm or --lexicon is given, else greedy)",
    )
    g.add_argument("--beam-width", type=int, default=16, help="hypotheses kept per frame (default 16)")
    g.add_argument("--lm", metavar="ARPA", help="n-gram language model from `seqvision lm build` (or any ARPA file)")
    g.add_argument("--lm-weight", type=float, default=0.8, help="weight of the LM's log-probability (default 0.8)")
    g.add_argument(
        "--lm-bonus",
        type=float,
        default=2.0,
        help="insertion bonus per character (character LM) or per word (word LM) (default 2.0)",
    )
    g.add_argument("--lexicon", metavar="FILE", help="only words from this list (one per line); closed vocabulary")
    g.add_argument(
        "--length-norm",
        type=float,
        default=1.0,
        help="captioning beam search: rank finished captions by log P / length**this (default 1.0)",
    )


def set_threads(n: int) -> None:
    """Torch's thread count (the torch backend and training; onnxruntime sessions take theirs when made)."""
    if n and n > 0:
        import torch

        torch.set_num_threads(n)


def is_rank_zero() -> bool:
    """False in the extra processes of a data-parallel run (Lightning sets the rank when training starts)."""
    from lightning.pytorch.utilities import rank_zero_only

    return getattr(rank_zero_only, "rank", 0) == 0


def split_model(args: argparse.Namespace, what: str) -> tuple[str, list[str]]:
    """``[MODEL] INPUT...`` -> (model, inputs): the first input is the model if it names one, else the default."""
    from seqvision.checkpoint import DEFAULT_MODEL, is_model

    inputs = list(args.inputs)
    if args.model:
        return args.model, inputs
    looks_like_model = Path(inputs[0]).suffix in (".safetensors", ".onnx")  # even if missing: say so
    if len(inputs) > 1 and (looks_like_model or is_model(inputs[0])):
        return inputs[0], inputs[1:]
    if len(inputs) == 1 and is_model(inputs[0]):
        raise ConfigError(f"{inputs[0]} is a model; give the {what} to read after it")
    return DEFAULT_MODEL, inputs


def require_one_input(inputs: list[str], what: str = "data path") -> None:
    """``eval`` scores one labelled data set: anything but one input after the model is a :class:`ConfigError`."""
    if len(inputs) != 1:
        raise ConfigError(f"eval takes one {what} after the model, got {len(inputs)}: {' '.join(inputs)}")


def warn_skipped(skipped: list[str], what: str = "clips", show: int = 5) -> None:
    """The first ``show`` messages of what an ``eval`` or ``read`` passed over, then how many more (stderr)."""
    for message in skipped[:show]:
        print(f"warning: skipped {message}", file=sys.stderr)
    if len(skipped) > show:
        print(f"warning: ... {len(skipped) - show} more {what} skipped", file=sys.stderr)


def write_predictions(path: str, rows: list[str]) -> None:
    """``eval --predictions FILE``: the rows (each ending in a newline), atomically; failing is one clear line."""
    from seqvision.io import atomic_write_text

    try:
        atomic_write_text(path, "".join(rows))
    except OSError as exc:
        raise DataError(f"{path}: cannot write predictions ({exc.strerror or exc})") from None
