"""Video handlers: ``synth-video``, and ``eval`` / ``read`` when the model is a video model."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from seqvision.cli.common import require_one_input, warn_skipped, write_predictions
from seqvision.errors import DataError, SeqvisionError


def synth_video(args: argparse.Namespace) -> int:
    from seqvision.tasks.video.synth import write_clips

    classes = tuple(args.classes) if args.classes else None
    start = time.perf_counter()
    csv = write_clips(
        args.out,
        args.clips,
        frames=args.frames,
        size=args.size,
        fps=args.fps,
        groups=args.groups,
        first_group=args.first_group,
        seed=args.seed,
        container=args.container,
        **({"classes": classes} if classes else {}),
    )
    print(f"{csv}  ({time.perf_counter() - start:.1f} s)")
    return 0


def clip_paths(inputs: list[str]) -> list[Path]:
    """Video files and frame folders as given; CSV/TSV lists -> their clips; other folders -> the clips inside."""
    from seqvision.data.clip_lists import expand_clip_inputs
    from seqvision.tasks.video.clips import is_clip, read_clips

    def inside(folder: Path) -> list[Path]:
        return sorted(p for p in folder.rglob("*") if is_clip(p) and p.is_file())

    return expand_clip_inputs(inputs, lambda table: [s.path for s in read_clips(table).samples], is_clip, inside)


def read(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    from seqvision.tasks.video.predictor import ClipClassifier

    clf = ClipClassifier.load(model, args.backend, args.threads)
    paths = clip_paths(inputs)
    if not paths:
        raise DataError(f"{' '.join(inputs)}: no video files or frame folders")
    failed = 0
    for i, outcome in clf.predict_many(paths, args.batch_size, max(1, args.top_k)):
        if isinstance(outcome, SeqvisionError):
            print(f"seqvision: error: {outcome}", file=sys.stderr)
            failed += 1
        elif args.json:
            print(json.dumps({"clip": str(paths[i]), **clf.to_json(outcome)}, ensure_ascii=False))
        else:
            print(f"{paths[i]}\t" + "  ".join(f"{label} {p:.3f}" for label, p in outcome.top))
    return 1 if failed else 0


def evaluate(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    from seqvision.tasks.video.clips import read_clips
    from seqvision.tasks.video.metrics import Confusion
    from seqvision.tasks.video.predictor import ClipClassifier
    from seqvision.training.plot import check_plotting, plot_confusion

    require_one_input(inputs)
    if args.confusion:
        check_plotting()  # before the work: the chart was asked for
    clf = ClipClassifier.load(model, args.backend, args.threads)
    report = read_clips(inputs[0])
    skipped = list(report.skipped)
    index = {label: i for i, label in enumerate(clf.labels)}
    known = [s for s in report.samples if s.label in index]
    skipped += [
        f"{s.source}: label {s.label!r} is not one of the model's classes"
        for s in report.samples
        if s.label not in index
    ]
    confusion = Confusion(clf.labels)
    start = time.perf_counter()
    rows = []
    for i, outcome in clf.predict_many([s.path for s in known], args.batch_size, 1):
        if isinstance(outcome, SeqvisionError):
            skipped.append(str(outcome))
        else:
            confusion.update([index[known[i].label]], [index[outcome.label]])
            rows.append(f"{known[i].source}\t{known[i].label}\t{outcome.label}\n")
    seconds = time.perf_counter() - start
    warn_skipped(skipped)
    if not confusion.total:
        raise DataError(f"{inputs[0]}: no readable labelled clip ({len(skipped)} skipped)")
    if args.confusion:
        plot_confusion(confusion.matrix, clf.labels, args.confusion)
    if args.predictions:
        write_predictions(args.predictions, rows)
    per_class = confusion.per_class()
    result = {
        "model": str(clf.path),
        "backend": clf.backend,
        "data": str(inputs[0]),
        "accuracy": round(confusion.accuracy, 5),
        "per_class": {k: None if v is None else round(v, 5) for k, v in per_class.items()},
        "confusion": {"labels": clf.labels, "matrix": confusion.matrix},
        "clips": confusion.total,
        "skipped": len(skipped),
        "seconds": round(seconds, 3),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    overall = f"accuracy {100 * confusion.accuracy:.2f} %"
    print(f"{overall}  on {confusion.total} clips ({len(skipped)} skipped) in {seconds:.1f} s")
    for label, acc in per_class.items():
        print(f"  {label:<20} {'-' if acc is None else f'{100 * acc:.1f} %'}")
    if args.confusion:
        print(f"confusion matrix: {args.confusion}")
    return 0


def add_parsers(sub: Any, after: str) -> None:
    """``seqvision synth-video``, listed after ``export``."""
    if after != "export":
        return
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
    p.set_defaults(func=synth_video)
