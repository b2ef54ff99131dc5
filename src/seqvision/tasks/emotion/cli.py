"""Emotion handlers: ``synth-emotion``, and ``eval`` / ``read`` when the model is an emotion model."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.cli.common import (
    add_frame_options,
    eval_result,
    given,
    print_clip,
    print_each,
    print_json,
    print_per_class,
    print_written,
    ranked,
    require_found,
    require_one_input,
    rounded,
    split_known,
    succeeded,
    warn_skipped,
    write_eval_files,
)
from seqvision.errors import DataError

if TYPE_CHECKING:
    from seqvision.tasks.emotion.predictor import Prediction


def synth_emotion(args: argparse.Namespace) -> int:
    from seqvision.tasks.emotion.synth import write_emotion_clips

    options = given(args, "actors", "first_actor", "frames", "size", "fps", "audio", "container", "seed")
    return print_written(lambda: write_emotion_clips(args.out, args.clips, **options))


def clip_paths(inputs: list[str]) -> list[Path]:
    """Clips as given; CSV/TSV lists and folders -> the clips they list (a video's .wav is not a clip of its own)."""
    from seqvision.data.clip_lists import expand_clip_inputs
    from seqvision.tasks.emotion.clips import is_clip, read_emotion_clips

    return expand_clip_inputs(inputs, lambda source: [s.path for s in read_emotion_clips(source).samples], is_clip)


def read(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    from seqvision.tasks.emotion.predictor import EmotionPredictor

    predictor = EmotionPredictor.load(model, args.backend, args.threads)
    paths = require_found(clip_paths(inputs), inputs, "clips")

    def show(i: int, outcome: Prediction) -> None:
        streams = "".join(f"  [{s}: {label}]" for s, (label, _) in outcome.streams.items())
        print_clip(args.json, paths[i], predictor.to_json(outcome), ranked(outcome.top) + streams)

    return print_each(predictor.predict_many(paths, args.batch_size, max(1, args.top_k)), show)


def evaluate(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    from seqvision.tasks.emotion.clips import read_emotion_clips
    from seqvision.tasks.emotion.metrics import accuracy, confusion, recalls, uar
    from seqvision.tasks.emotion.predictor import EmotionPredictor
    from seqvision.training.plot import check_plotting

    require_one_input(inputs)
    if args.confusion:
        check_plotting()  # before the work: the chart was asked for
    predictor = EmotionPredictor.load(model, args.backend, args.threads)
    report = read_emotion_clips(inputs[0])
    index, known, unknown = split_known(report.samples, predictor.labels)
    skipped = [*report.skipped, *(f"{s.source}: label {s.label!r} is not one of the model's" for s in unknown)]
    truth, guesses, streams, rows = [], [], {s: [] for s in predictor.streams}, []  # type: ignore[var-annotated]
    start = time.perf_counter()
    for i, outcome in succeeded(predictor.predict_many([s.path for s in known], args.batch_size, 1), skipped):
        truth.append(index[known[i].label])
        guesses.append(index[outcome.label])
        for s, (label, _) in outcome.streams.items():
            streams[s].append(index[label])
        rows.append(f"{known[i].source}\t{known[i].label}\t{outcome.label}\n")
    seconds = time.perf_counter() - start
    warn_skipped(skipped)
    if not truth:
        raise DataError(f"{inputs[0]}: no readable labelled clip ({len(skipped)} skipped)")
    matrix = confusion(truth, guesses, len(predictor.labels))
    write_eval_files(args, matrix.tolist(), predictor.labels, rows)
    per_class = dict(zip(predictor.labels, recalls(matrix), strict=True))
    own = {s: round(uar(confusion(truth, g, len(predictor.labels))), 5) for s, g in streams.items() if g}
    scores = {
        "streams": predictor.streams_name,
        "accuracy": round(accuracy(matrix), 5),
        "uar": round(uar(matrix), 5),
        **({"stream_uar": own} if own else {}),
        "recall": rounded(per_class),
        "confusion": {"labels": predictor.labels, "matrix": matrix.tolist()},
        "clips": len(truth),
    }
    result = eval_result(predictor, inputs[0], scores, skipped, seconds)
    if args.json:
        return print_json(result)
    alone = "".join(f", {s} alone {100 * v:.2f} %" for s, v in own.items())
    print(
        f"UAR {100 * uar(matrix):.2f} %, accuracy {100 * accuracy(matrix):.2f} %{alone}  on {len(truth)} clips "
        f"({len(skipped)} skipped) in {seconds:.1f} s"
    )
    print_per_class(per_class, args.confusion)
    return 0


def add_parsers(sub: Any, after: str) -> None:
    """``seqvision synth-emotion``, listed after ``export``."""
    if after != "export":
        return
    from seqvision.data.containers import FORMATS  # not video_write: --help needs no numpy

    p = sub.add_parser("synth-emotion", help="write synthetic emotion clips (a face and a voice that change over time)")
    p.add_argument("--out", required=True, help="folder to write (Actor_XX/RAVDESS-named clips, clips.csv)")
    p.add_argument("--clips", type=int, default=16, help="clips per emotion, spread over the actors (default 16)")
    p.add_argument("--actors", type=int, default=4, help="actors (speakers), each with a face colour and pitch")
    p.add_argument("--first-actor", type=int, default=1, help="number of the first actor; other numbers never leak")
    add_frame_options(p, frames=16)
    p.add_argument("--fps", type=float, default=8.0, help="frame rate (default 8: 2 s clips)")
    p.add_argument("--audio", choices=["inside", "beside"], default="inside", help="sound in the video or a .wav")
    p.add_argument("--container", choices=list(FORMATS), default="mp4", help="video file format (default mp4)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same clips")
    p.set_defaults(func=synth_emotion)
