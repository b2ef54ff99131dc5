"""What the verbs' handlers and parsers share: thread count, ``[MODEL] INPUT...``, common options, the loops of
``read`` and ``eval`` over a predictor's outcomes and how they print, and the options of the ``synth-*`` verbs.

Task CLIs import this module only, never :mod:`seqvision.cli.main` or :mod:`seqvision.cli.commands`,
which import them: that keeps the CLI free of import circles.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

from seqvision.checkpoint import DEFAULT_MODEL
from seqvision.errors import ConfigError, DataError, SeqvisionError

T = TypeVar("T")


class Labelled(Protocol):
    """A labelled sample an ``eval`` reads."""

    @property
    def label(self) -> str: ...


L = TypeVar("L", bound=Labelled)


class Loaded(Protocol):
    """A loaded model as ``eval`` names it."""

    @property
    def path(self) -> Path | None: ...

    @property
    def backend(self) -> str: ...


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


def require_found(paths: list[Path], inputs: list[str], what: str) -> list[Path]:
    """The inputs of ``read`` expanded into ``paths``; finding none is a :class:`DataError` naming the inputs and
    ``what`` was looked for."""
    if not paths:
        raise DataError(f"{' '.join(inputs)}: no {what}")
    return paths


def print_each(results: Iterable[tuple[int, T | SeqvisionError]], show: Callable[[int, T], None]) -> int:
    """``read``'s loop over ``(i, outcome)``: ``show(i, outcome)`` for each input read, one ``seqvision: error:``
    line (stderr) for each that failed. Returns the exit status: 1 when any failed."""
    failed = 0
    for i, outcome in results:
        if isinstance(outcome, SeqvisionError):
            print(f"seqvision: error: {outcome}", file=sys.stderr)
            failed += 1
        else:
            show(i, outcome)
    return 1 if failed else 0


def succeeded(results: Iterable[tuple[int, T | SeqvisionError]], skipped: list[str]) -> Iterator[tuple[int, T]]:
    """``eval``'s loop over ``(i, outcome)``: the outcomes read; each failure is added to ``skipped``."""
    for i, outcome in results:
        if isinstance(outcome, SeqvisionError):
            skipped.append(str(outcome))
        else:
            yield i, outcome


def split_known(samples: list[L], labels: list[str]) -> tuple[dict[str, int], list[L], list[L]]:
    """A classifier's ``eval``: each of the model's labels -> its index, the samples with one of them, the others."""
    index = {label: i for i, label in enumerate(labels)}
    return index, [s for s in samples if s.label in index], [s for s in samples if s.label not in index]


def eval_result(model: Loaded, data: str, scores: dict[str, Any], skipped: list[str], seconds: float) -> dict[str, Any]:
    """What ``eval`` reports (``--json`` prints it): the model, its backend and the data, the task's ``scores``,
    then how many inputs were skipped and the time taken."""
    head = {"model": str(model.path), "backend": model.backend, "data": str(data)}
    return {**head, **scores, "skipped": len(skipped), "seconds": round(seconds, 3)}


def print_json(result: dict[str, Any]) -> int:
    """``--json``: the result as one line of JSON; returns the exit status (0)."""
    import json

    print(json.dumps(result, ensure_ascii=False))
    return 0


def ranked(pairs: Iterable[tuple[str, float]]) -> str:
    """``read``'s best classes (or nearest subjects), each with its probability (or distance)."""
    return "  ".join(f"{name} {value:.3f}" for name, value in pairs)


def print_clip(as_json: bool, path: Path, record: dict[str, Any], text: str) -> None:
    """One clip's ``read`` result: ``{"clip": PATH, **record}`` as a line of JSON (``--json``), else ``PATH\ttext``."""
    if as_json:
        print_json({"clip": str(path), **record})
    else:
        print(f"{path}\t{text}")


def rounded(scores: dict[str, float | None]) -> dict[str, float | None]:
    """Per-class scores for JSON: five decimals, None (a class never seen) as it is."""
    return {k: None if v is None else round(v, 5) for k, v in scores.items()}


def print_per_class(scores: dict[str, float | None], chart: str | None) -> None:
    """The lines a classifier's ``eval`` ends with: each class's score in %, then where the confusion chart is."""
    for label, score in scores.items():
        print(f"  {label:<20} {'-' if score is None else f'{100 * score:.1f} %'}")
    if chart:
        print(f"confusion matrix: {chart}")


def write_eval_files(args: argparse.Namespace, matrix: list[list[int]], labels: list[str], rows: list[str]) -> None:
    """A classifier's ``eval --confusion PNG`` chart and ``--predictions FILE`` rows, where they were asked for."""
    if args.confusion:
        from seqvision.training.plot import plot_confusion

        plot_confusion(matrix, labels, args.confusion)
    if args.predictions:
        write_predictions(args.predictions, rows)


def given(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The named options of a verb as keywords, for a function that takes them under the same names."""
    return {name: getattr(args, name) for name in names}


def print_written(write: Callable[[], Any], note: str = "") -> int:
    """A ``synth-*`` verb: ``write()``, then print what it wrote and how long it took (after ``note``)."""
    start = time.perf_counter()
    written = write()
    print(f"{written}  ({note}{time.perf_counter() - start:.1f} s)")
    return 0


def add_frame_options(p: argparse.ArgumentParser, frames: int, per: str = "clip", even: bool = True) -> None:
    """``--frames`` and ``--size`` of a ``synth-*`` verb that writes clips of square frames."""
    p.add_argument("--frames", type=int, default=frames, help=f"frames per {per} (default {frames})")
    parity = ", even" if even else ""
    p.add_argument("--size", type=int, default=32, help=f"frame width and height in pixels{parity} (default 32)")


def add_scene_options(p: argparse.ArgumentParser, groups: int, note: str = "") -> None:
    """``--groups`` and ``--first-group`` of a ``synth-*`` verb: the scenes (``gXX``) its clips share."""
    p.add_argument(
        "--groups", type=int, default=groups, help=f"scenes (gXX in file names), shared by clips (default {groups})"
    )
    p.add_argument("--first-group", type=int, default=1, help=f"number of the first scene (default 1){note}")
