"""Emotion handlers: ``synth-emotion``, and ``eval`` / ``read`` when the model is an emotion model."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from seqvision.errors import ConfigError, DataError, SeqvisionError


def synth_emotion(args: argparse.Namespace) -> int:
    from seqvision.tasks.emotion.synth import write_emotion_clips

    start = time.perf_counter()
    csv = write_emotion_clips(
        args.out,
        args.clips,
        actors=args.actors,
        first_actor=args.first_actor,
        frames=args.frames,
        size=args.size,
        fps=args.fps,
        audio=args.audio,
        container=args.container,
        seed=args.seed,
    )
    print(f"{csv}  ({time.perf_counter() - start:.1f} s)")
    return 0


def clip_paths(inputs: list[str]) -> list[Path]:
    """Clips as given; CSV/TSV lists and folders -> the clips they list (a video's .wav is not a clip of its own)."""
    from seqvision.data.clip_lists import expand_clip_inputs
    from seqvision.tasks.emotion.clips import is_clip, read_emotion_clips

    return expand_clip_inputs(inputs, lambda source: [s.path for s in read_emotion_clips(source).samples], is_clip)


def read(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    from seqvision.tasks.emotion.predictor import EmotionPredictor

    predictor = EmotionPredictor.load(model, args.backend, args.threads)
    paths = clip_paths(inputs)
    if not paths:
        raise DataError(f"{' '.join(inputs)}: no clips")
    failed = 0
    for i, outcome in predictor.predict_many(paths, args.batch_size, max(1, args.top_k)):
        if isinstance(outcome, SeqvisionError):
            print(f"seqvision: error: {outcome}", file=sys.stderr)
            failed += 1
        elif args.json:
            print(json.dumps({"clip": str(paths[i]), **predictor.to_json(outcome)}, ensure_ascii=False))
        else:
            streams = "".join(f"  [{s}: {label}]" for s, (label, _) in outcome.streams.items())
            print(f"{paths[i]}\t" + "  ".join(f"{label} {p:.3f}" for label, p in outcome.top) + streams)
    return 1 if failed else 0


def evaluate(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    from seqvision.tasks.emotion.clips import read_emotion_clips
    from seqvision.tasks.emotion.metrics import accuracy, confusion, recalls, uar
    from seqvision.tasks.emotion.predictor import EmotionPredictor
    from seqvision.training.plot import check_plotting, plot_confusion

    if len(inputs) != 1:
        raise ConfigError(f"eval takes one data path after the model, got {len(inputs)}: {' '.join(inputs)}")
    if args.confusion:
        check_plotting()  # before the work: the chart was asked for
    predictor = EmotionPredictor.load(model, args.backend, args.threads)
    report = read_emotion_clips(inputs[0])
    index = {label: i for i, label in enumerate(predictor.labels)}
    known = [s for s in report.samples if s.label in index]
    skipped = [
        *report.skipped,
        *(f"{s.source}: label {s.label!r} is not one of the model's" for s in report.samples if s.label not in index),
    ]
    truth, guesses, streams, rows = [], [], {s: [] for s in predictor.streams}, []  # type: ignore[var-annotated]
    start = time.perf_counter()
    for i, outcome in predictor.predict_many([s.path for s in known], args.batch_size, 1):
        if isinstance(outcome, SeqvisionError):
            skipped.append(str(outcome))
            continue
        truth.append(index[known[i].label])
        guesses.append(index[outcome.label])
        for s, (label, _) in outcome.streams.items():
            streams[s].append(index[label])
        rows.append(f"{known[i].source}\t{known[i].label}\t{outcome.label}\n")
    seconds = time.perf_counter() - start
    for message in skipped[:5]:
        print(f"warning: skipped {message}", file=sys.stderr)
    if len(skipped) > 5:
        print(f"warning: ... {len(skipped) - 5} more clips skipped", file=sys.stderr)
    if not truth:
        raise DataError(f"{inputs[0]}: no readable labelled clip ({len(skipped)} skipped)")
    matrix = confusion(truth, guesses, len(predictor.labels))
    if args.confusion:
        plot_confusion(matrix.tolist(), predictor.labels, args.confusion)
    if args.predictions:
        from seqvision.io import atomic_write_text

        try:
            atomic_write_text(args.predictions, "".join(rows))
        except OSError as exc:
            raise DataError(f"{args.predictions}: cannot write predictions ({exc.strerror or exc})") from None
    per_class = dict(zip(predictor.labels, recalls(matrix), strict=True))
    own = {s: round(uar(confusion(truth, g, len(predictor.labels))), 5) for s, g in streams.items() if g}
    result = {
        "model": str(predictor.path),
        "backend": predictor.backend,
        "data": str(inputs[0]),
        "streams": predictor.streams_name,
        "accuracy": round(accuracy(matrix), 5),
        "uar": round(uar(matrix), 5),
        **({"stream_uar": own} if own else {}),
        "recall": {k: None if v is None else round(v, 5) for k, v in per_class.items()},
        "confusion": {"labels": predictor.labels, "matrix": matrix.tolist()},
        "clips": len(truth),
        "skipped": len(skipped),
        "seconds": round(seconds, 3),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    alone = "".join(f", {s} alone {100 * v:.2f} %" for s, v in own.items())
    print(
        f"UAR {100 * uar(matrix):.2f} %, accuracy {100 * accuracy(matrix):.2f} %{alone}  on {len(truth)} clips "
        f"({len(skipped)} skipped) in {seconds:.1f} s"
    )
    for label, recall in per_class.items():
        print(f"  {label:<20} {'-' if recall is None else f'{100 * recall:.1f} %'}")
    if args.confusion:
        print(f"confusion matrix: {args.confusion}")
    return 0


def add_parsers(sub: Any, after: str) -> None:
    """``seqvision synth-emotion``, listed after ``export``."""
    from seqvision.data.video_write import FORMATS

    if after != "export":
        return
    p = sub.add_parser("synth-emotion", help="write synthetic emotion clips (a face and a voice that change over time)")
    p.add_argument("--out", required=True, help="folder to write (Actor_XX/RAVDESS-named clips, clips.csv)")
    p.add_argument("--clips", type=int, default=16, help="clips per emotion, spread over the actors (default 16)")
    p.add_argument("--actors", type=int, default=4, help="actors (speakers), each with a face colour and pitch")
    p.add_argument("--first-actor", type=int, default=1, help="number of the first actor; other numbers never leak")
    p.add_argument("--frames", type=int, default=16, help="frames per clip (default 16)")
    p.add_argument("--size", type=int, default=32, help="frame width and height in pixels, even (default 32)")
    p.add_argument("--fps", type=float, default=8.0, help="frame rate (default 8: 2 s clips)")
    p.add_argument("--audio", choices=["inside", "beside"], default="inside", help="sound in the video or a .wav")
    p.add_argument("--container", choices=list(FORMATS), default="mp4", help="video file format (default mp4)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same clips")
    p.set_defaults(func=synth_emotion)
