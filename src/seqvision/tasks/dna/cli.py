"""DNA/RNA commands: ``eval`` and ``read``/``predict`` when the model is a DNA model, and ``motifs``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from seqvision.cli.common import require_one_input, set_threads
from seqvision.errors import ConfigError, DataError

if TYPE_CHECKING:
    import numpy as np

# --batch-size defaults to 16 for line images; short sequences are cheap, and small batches leave the LSTM idle
MIN_BATCH = 256


def _write(path: str | None, text: str) -> None:
    """``text`` to ``path`` (atomically) or to standard output."""
    if not path:
        sys.stdout.write(text)
        return
    from seqvision.io import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise DataError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _load(model: str, args: argparse.Namespace):  # -> SequenceClassifier
    from seqvision.tasks.dna.predictor import SequenceClassifier

    if getattr(args, "backend", None) not in (None, "torch"):
        raise ConfigError("DNA models run on the torch backend only (ONNX export of them is not supported yet)")
    set_threads(args.threads)
    return SequenceClassifier.load(model, threads=args.threads)


def evaluate(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    """ROC-AUC and PR-AUC (macro over labels, and per label) of a DNA model on labelled sequences."""
    from seqvision.tasks.dna.bio import read_sequences
    from seqvision.tasks.dna.module import target_matrix
    from seqvision.tasks.dna.ranking import average_precision, macro, per_label, roc_auc

    require_one_input(inputs, "data file")
    clf = _load(model, args)
    records = read_sequences(inputs[0], getattr(args, "labels", None)).records
    truth = target_matrix(records, clf.labels, "the model's")
    start = time.perf_counter()
    scores = clf.probabilities(records, max(args.batch_size, MIN_BATCH))
    seconds = time.perf_counter() - start
    if args.predictions:
        _write(args.predictions, _table(records, clf.labels, scores, truth))
    labels = per_label(truth, scores, clf.labels)
    result = {
        "model": str(clf.path),
        "data": inputs[0],
        "roc_auc": macro(roc_auc, truth, scores),
        "pr_auc": macro(average_precision, truth, scores),
        "per_label": labels,
        "sequences": len(records),
        "seconds": round(seconds, 3),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(
        f"ROC-AUC {result['roc_auc']:.4f}  PR-AUC {result['pr_auc']:.4f}  "
        f"on {len(records)} sequences in {seconds:.1f} s"
    )
    if len(clf.labels) > 1:
        for name, m in labels.items():
            print(f"  {name:<20} ROC-AUC {m['roc_auc']:.4f}  PR-AUC {m['pr_auc']:.4f}  ({m['positives']} positives)")
    return 0


def _table(records, labels: list[str], scores: np.ndarray, truth: np.ndarray | None = None) -> str:
    """``id<TAB>p(label)...`` with a header; with ``truth``, the true 0/1 of each label follows its probability."""
    header = ["id"] + [f"{n}\ttrue_{n}" if truth is not None else n for n in labels]
    rows = ["\t".join(header)]
    for i, r in enumerate(records):
        cells = [f"{p:.5f}" + (f"\t{int(truth[i, k])}" if truth is not None else "") for k, p in enumerate(scores[i])]
        rows.append("\t".join([r.id, *cells]))
    return "\n".join(rows) + "\n"


def read(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    """``predict MODEL FILE...``: a TSV of each sequence's probability per label (FASTA ids, or TSV line numbers)."""
    from seqvision.tasks.dna.bio import read_sequences

    clf = _load(model, args)
    records = []
    for name in inputs:
        records += read_sequences(name, getattr(args, "labels", None), need_labels=False).records
    scores = clf.probabilities(records, max(args.batch_size, MIN_BATCH))
    if getattr(args, "json", False):
        text = "".join(
            json.dumps({"id": r.id, "probabilities": dict(zip(clf.labels, map(float, s), strict=True))}) + "\n"
            for r, s in zip(records, scores, strict=True)
        )
    else:
        text = _table(records, clf.labels, scores)
    _write(args.out, text)
    return 0


def motifs(args: argparse.Namespace) -> int:
    """``motifs MODEL --data FILE --out motifs.meme``: first-layer filters as activation-based PWMs (MEME)."""
    from seqvision.tasks.dna.bio import read_sequences
    from seqvision.tasks.dna.motifs import filter_motifs, meme_text

    if not 0 < args.threshold < 1:
        raise ConfigError(f"--threshold must be between 0 and 1, got {args.threshold}")
    clf = _load(args.model, args)
    data = read_sequences(args.data, args.labels, need_labels=False)
    found, background = filter_motifs(clf.model, data.records, args.threshold)
    rna = bool(clf.metadata.get("input", {}).get("rna", False)) if args.alphabet == "auto" else args.alphabet == "rna"
    _write(args.out, meme_text(found, background, rna=rna))
    filters = clf.model.encoder.motifs.conv.out_channels  # type: ignore[union-attr]
    print(
        f"{args.out or 'stdout'}: {len(found)} of {filters} filters as PWMs from {len(data.records)} sequences "
        f"({filters - len(found)} never activated)",
        file=sys.stderr,
    )
    return 0


def add_parsers(sub: Any, after: str) -> None:
    """``seqvision motifs``, listed after ``compare``."""
    if after != "compare":
        return
    p = sub.add_parser("motifs", help="DNA/RNA models: first-layer filters as position weight matrices (MEME format)")
    p.add_argument("model", help="a model trained with --task dna (.safetensors or run folder)")
    p.add_argument("--data", required=True, help="sequences (FASTA or TSV) whose most activating windows form the PWMs")
    p.add_argument("--labels", help="labels TSV for a FASTA --data file (not needed: labels are not used)")
    p.add_argument("--out", help="the .meme file to write (default: standard output)")
    p.add_argument("--threshold", type=float, default=0.5, help="a window counts above this x the filter's max (0.5)")
    p.add_argument("--alphabet", choices=["auto", "dna", "rna"], default="auto", help="ACGT or ACGU (auto: as trained)")
    p.add_argument("--threads", type=int, default=0, help="compute threads (default: all cores)")
    p.set_defaults(func=motifs)
