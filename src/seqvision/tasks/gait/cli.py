"""Gait handlers: ``synth-gait``, and ``eval`` / ``read`` when the model is a gait model."""

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
    print_written,
    ranked,
    require_found,
    require_one_input,
    succeeded,
    warn_skipped,
)
from seqvision.errors import ConfigError, DataError

if TYPE_CHECKING:
    import numpy as np


def synth_gait(args: argparse.Namespace) -> int:
    from seqvision.tasks.gait.synth import write_walkers

    options = given(args, "sequences", "frames", "size", "first_subject", "seed")
    return print_written(
        lambda: write_walkers(args.out, args.subjects, **options, conditions=tuple(args.conditions)),
        note=f"{args.subjects} subjects, ",
    )


def probe_paths(inputs: list[str]) -> list[Path]:
    """Clips as given (video files, frame folders); CSV/TSV lists -> their clips; other folders -> the clips inside."""
    from seqvision.data.clip_lists import expand_clip_inputs
    from seqvision.data.clips import is_clip
    from seqvision.tasks.gait.sequences import read_gait

    def inside(folder: Path) -> list[Path]:
        return sorted(p for p in folder.rglob("*") if not p.name.startswith(".") and is_clip(p))

    return expand_clip_inputs(inputs, lambda table: [s.path for s in read_gait(table).samples], is_clip, inside)


def read(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    from seqvision.tasks.gait.predictor import GaitEmbedder
    from seqvision.tasks.gait.sequences import read_gait

    if not getattr(args, "gallery", None):
        raise ConfigError(
            "a gait model ranks probes against known walkers: give --gallery DATA (subject folders or CSV)"
        )
    gait = GaitEmbedder.load(model, args.backend, args.threads)
    gait.top_k = max(1, args.top_k)
    paths = require_found(probe_paths(inputs), inputs, "video files or frame folders")
    report = read_gait(args.gallery)
    skipped = report.skipped + gait.enroll(report.samples, args.batch_size)
    warn_skipped(skipped)
    if gait.gallery is None:
        raise DataError(f"{args.gallery}: no usable gallery clip ({len(skipped)} skipped)")

    def show(i: int, embedding: np.ndarray) -> None:
        match = gait.match(embedding)
        print_clip(args.json, paths[i], gait.to_json(match), ranked(match.nearest))

    return print_each(gait.embed_many(paths, args.batch_size), show)


def evaluate(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    """Probes ranked against a gallery: ``--gallery`` and DATA, or DATA split as in training (``data.gait.gallery``)."""
    import numpy as np

    from seqvision.tasks.gait.metrics import retrieval_scores
    from seqvision.tasks.gait.predictor import GaitEmbedder
    from seqvision.tasks.gait.sequences import gallery_split, read_gait

    require_one_input(inputs)
    gait = GaitEmbedder.load(model, args.backend, args.threads)
    report = read_gait(inputs[0])
    skipped = list(report.skipped)
    if getattr(args, "gallery", None):
        gallery_report = read_gait(args.gallery)
        skipped += gallery_report.skipped
        gallery, probes = gallery_report.samples, report.samples
    else:
        gallery, probes = gallery_split(report.samples, list(gait.metadata.get("gait", {}).get("gallery", [])))
    start = time.perf_counter()
    skipped += gait.enroll(gallery, args.batch_size)
    rows, ids = [], []
    for i, embedding in succeeded(gait.embed_many([s.path for s in probes], args.batch_size), skipped):
        rows.append(embedding)
        ids.append(probes[i].subject)
    seconds = time.perf_counter() - start
    warn_skipped(skipped)
    if gait.gallery is None or not rows:
        raise DataError(f"{inputs[0]}: no readable gallery or probe clip ({len(skipped)} skipped)")
    scores = retrieval_scores(np.stack(rows), ids, gait.gallery, gait.gallery_ids)
    if not scores["probes"]:
        raise DataError(f"{inputs[0]}: no probe's subject is in the gallery, nothing to rank")
    ranked_probes: dict[str, Any] = {k: round(float(v), 5) for k, v in scores.items() if k in ("rank1", "rank5", "map")}
    ranked_probes |= {"probes": scores["probes"], "unranked": scores["unranked"]}
    enrolled = {"gallery": len(gait.gallery_ids), "subjects": len(set(gait.gallery_ids))}
    result = eval_result(gait, inputs[0], ranked_probes | enrolled, skipped, seconds)
    if args.json:
        return print_json(result)
    print(
        f"rank-1 {100 * scores['rank1']:.2f} %  rank-5 {100 * scores['rank5']:.2f} %  mAP {100 * scores['map']:.2f} %"
        f"  on {scores['probes']} probes against {result['gallery']} gallery clips of {result['subjects']} subjects "
        f"({scores['unranked']} unranked, {len(skipped)} skipped) in {seconds:.1f} s"
    )
    return 0


def add_parsers(sub: Any, after: str) -> None:
    """``seqvision synth-gait``, listed after ``export``."""
    if after != "export":
        return
    p = sub.add_parser("synth-gait", help="write synthetic walkers told apart by stride and rhythm (CASIA-B layout)")
    p.add_argument("--out", required=True, help="folder to write (SUBJECT/COND-SEQ/090/*.png, synth-gait.json)")
    p.add_argument("--subjects", type=int, default=40, help="walkers (default 40)")
    p.add_argument("--sequences", type=int, default=4, help="sequences per subject and condition (default 4)")
    add_frame_options(p, frames=40, per="sequence", even=False)
    p.add_argument(
        "--first-subject",
        type=int,
        default=1,
        help="number of the first subject (default 1); a test set with other numbers holds other people",
    )
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same walkers")
    p.add_argument(
        "--conditions", nargs="+", default=["nm"], choices=["nm", "bg", "cl"], help="nm (normal), bg (bag), cl (coat)"
    )
    p.set_defaults(func=synth_gait)
