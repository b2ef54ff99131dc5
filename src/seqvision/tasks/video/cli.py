"""Video handlers: ``synth-video``, and ``eval`` / ``read`` when the model is a video model."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.cli.common import (
    add_frame_options,
    add_scene_options,
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
    from seqvision.tasks.video.predictor import Prediction


def synth_video(args: argparse.Namespace) -> int:
    from seqvision.tasks.video.synth import write_clips

    classes: dict[str, Any] = {"classes": tuple(args.classes)} if args.classes else {}
    options = given(args, "frames", "size", "fps", "groups", "first_group", "seed", "container")
    return print_written(lambda: write_clips(args.out, args.clips, **options, **classes))


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
    paths = require_found(clip_paths(inputs), inputs, "video files or frame folders")

    def show(i: int, outcome: Prediction) -> None:
        print_clip(args.json, paths[i], clf.to_json(outcome), ranked(outcome.top))

    return print_each(clf.predict_many(paths, args.batch_size, max(1, args.top_k)), show)


def evaluate(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    from seqvision.tasks.video.clips import read_clips
    from seqvision.tasks.video.metrics import Confusion
    from seqvision.tasks.video.predictor import ClipClassifier
    from seqvision.training.plot import check_plotting

    require_one_input(inputs)
    if args.confusion:
        check_plotting()  # before the work: the chart was asked for
    clf = ClipClassifier.load(model, args.backend, args.threads)
    report = read_clips(inputs[0])
    index, known, unknown = split_known(report.samples, clf.labels)
    skipped = [*report.skipped, *(f"{s.source}: label {s.label!r} is not one of the model's classes" for s in unknown)]
    confusion = Confusion(clf.labels)
    start = time.perf_counter()
    rows = []
    for i, outcome in succeeded(clf.predict_many([s.path for s in known], args.batch_size, 1), skipped):
        confusion.update([index[known[i].label]], [index[outcome.label]])
        rows.append(f"{known[i].source}\t{known[i].label}\t{outcome.label}\n")
    seconds = time.perf_counter() - start
    warn_skipped(skipped)
    if not confusion.total:
        raise DataError(f"{inputs[0]}: no readable labelled clip ({len(skipped)} skipped)")
    write_eval_files(args, confusion.matrix, clf.labels, rows)
    per_class = confusion.per_class()
    scores = {
        "accuracy": round(confusion.accuracy, 5),
        "per_class": rounded(per_class),
        "confusion": {"labels": clf.labels, "matrix": confusion.matrix},
        "clips": confusion.total,
    }
    result = eval_result(clf, inputs[0], scores, skipped, seconds)
    if args.json:
        return print_json(result)
    overall = f"accuracy {100 * confusion.accuracy:.2f} %"
    print(f"{overall}  on {confusion.total} clips ({len(skipped)} skipped) in {seconds:.1f} s")
    print_per_class(per_class, args.confusion)
    return 0


def add_parsers(sub: Any, after: str) -> None:
    """``seqvision synth-video``, listed after ``export``."""
    if after != "export":
        return
    p = sub.add_parser("synth-video", help="write synthetic video clips (motion, order and appearance classes)")
    p.add_argument("--out", required=True, help="folder to write (CLASS/*.mp4, clips.csv, synth-video.json)")
    p.add_argument("--clips", type=int, default=40, help="clips per class (default 40)")
    add_frame_options(p, frames=16)
    p.add_argument("--fps", type=float, default=10.0, help="frame rate written to the files (default 10)")
    add_scene_options(p, groups=5, note="; a validation set with other numbers does not leak")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same clips")
    p.add_argument(
        "--container",
        choices=["mp4", "mkv", "webm", "avi", "frames"],
        default="mp4",
        help="file format, or PNG folders",
    )
    p.add_argument("--classes", nargs="+", metavar="CLASS", help="only these classes (default all eight)")
    p.set_defaults(func=synth_video)
