"""Captioning handlers: ``caption``, and ``eval`` / ``read`` when the model is a captioning model."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from seqvision.cli.common import require_one_input, write_predictions
from seqvision.errors import ConfigError, DataError, SeqvisionError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


def image_paths(inputs: list[str]) -> list[Path]:
    """Image files as given; ``captions.csv``/JSON files -> their images; folders -> the images inside."""
    from seqvision.tasks.captioning.captions import read_captions

    paths: list[Path] = []
    for name in inputs:
        path = Path(name)
        if path.suffix.lower() in (".csv", ".json") and path.is_file():
            paths += [s.image for s in read_captions(path).samples]
        elif path.is_dir():
            paths += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        else:
            paths.append(path)
    return paths


def beam_width(args: argparse.Namespace) -> int:
    """``caption --beam-width N``; for ``read``/``eval``: ``--decoder beam`` uses ``--beam-width``, else greedy."""
    if getattr(args, "decoder", None) is None and args.command == "caption":
        return max(1, args.beam_width)
    return max(1, args.beam_width) if args.decoder == "beam" else 1


def caption(args: argparse.Namespace) -> int:
    from seqvision.cli.common import split_model
    from seqvision.tasks.captioning.predictor import Captioner, save_attention

    model, inputs = split_model(args, "images")
    if not inputs:
        raise ConfigError("give the images to caption after the model")
    cap = Captioner.load(model, threads=args.threads)
    paths = image_paths(inputs)
    if not paths:
        raise DataError(f"{' '.join(inputs)}: no images")
    failed = 0
    width = beam_width(args)
    for i, outcome in cap.caption_many(paths, args.batch_size, width, args.length_norm):
        if isinstance(outcome, SeqvisionError):
            print(f"seqvision: error: {outcome}", file=sys.stderr)
            failed += 1
            continue
        maps: list[Path] = []
        if getattr(args, "attention", None):  # `caption --attention DIR`; `read` has no such flag
            maps = save_attention(paths[i], outcome, Path(args.attention))
        if args.json:
            print(json.dumps({"image": str(paths[i]), "caption": outcome.text, "attention": [str(p) for p in maps]}))
        else:
            print(f"{paths[i]}\t{outcome.text}")
    return 1 if failed else 0


def evaluate(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    from seqvision.tasks.captioning.captions import read_captions
    from seqvision.tasks.captioning.metrics import caption_scores
    from seqvision.tasks.captioning.predictor import Captioner

    require_one_input(inputs)
    cap = Captioner.load(model, threads=args.threads)
    report = read_captions(inputs[0])
    skipped = list(report.skipped)
    width = beam_width(args)
    start = time.perf_counter()
    refs, hyps, rows = [], [], []
    samples = report.samples
    for i, outcome in cap.caption_many([s.image for s in samples], args.batch_size, width, args.length_norm):
        if isinstance(outcome, SeqvisionError):
            skipped.append(str(outcome))
            continue
        refs.append(list(samples[i].captions))
        hyps.append(outcome.text)
        rows.append(f"{samples[i].image}\t{outcome.text}\n")
    seconds = time.perf_counter() - start
    for message in skipped[:5]:
        print(f"warning: skipped {message}", file=sys.stderr)
    if not hyps:
        raise DataError(f"{inputs[0]}: no readable captioned image ({len(skipped)} skipped)")
    scores, notes = caption_scores(refs, hyps)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.predictions:
        write_predictions(args.predictions, rows)
    decoder = "greedy" if width == 1 else f"beam {width}, length norm {args.length_norm:g}"
    result = {
        "model": str(cap.path),
        "data": str(inputs[0]),
        **{k: round(v, 5) for k, v in scores.items()},
        "decoder": decoder,
        "images": len(hyps),
        "skipped": len(skipped),
        "seconds": round(seconds, 3),
        "notes": notes,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    names = {"bleu1": "BLEU-1", "bleu2": "BLEU-2", "bleu3": "BLEU-3", "bleu4": "BLEU-4", "meteor": "METEOR"}
    names |= {"rouge_l": "ROUGE-L", "cider": "CIDEr"}
    print("  ".join(f"{names[k]} {100 * v:.1f}" for k, v in scores.items()) + f"  (x100; {decoder})")
    print(f"on {len(hyps)} images ({len(skipped)} skipped) in {seconds:.1f} s")
    return 0


def add_parsers(sub: Any, after: str) -> None:
    """``seqvision caption``, listed after ``read``."""
    if after != "read":
        return
    p = sub.add_parser("caption", help="describe photos with a captioning model; optionally draw attention maps")
    p.add_argument(
        "inputs", nargs="+", metavar="MODEL IMAGE", help="captioning model, then images, folders or caption files"
    )
    p.add_argument("-m", "--model", help="captioning model (.safetensors or run folder)")
    p.add_argument("--beam-width", type=int, default=3, help="beam search width; 1 is greedy (default 3)")
    p.add_argument("--length-norm", type=float, default=1.0, help="rank captions by log P / length**this (default 1)")
    p.add_argument("--attention", metavar="DIR", help="write one PNG per word: the photo with its attention map")
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.add_argument("--batch-size", type=int, default=16, help="images per batch (default 16)")
    p.add_argument("--threads", type=int, default=0, help="compute threads (default: all cores)")
    p.set_defaults(func=caption)
