"""DanQ's claim on real RNA data: does the recurrent layer beat the CNN-only model? PUM2 CLIP-seq, train -> val.

    python benchmarks/dna.py [--data ../shared/data/pum2] [--sequences none,lstm,tcn,transformer,none-wide,tcn-4]
                             [--seeds 3] [--epochs 8] [--threads 1]

The same `danq-small` model (128 motif filters x 19 -> max-pool 5 -> sequence model -> max-pool
over steps -> dense 64 -> sigmoid) with each sequence model: `none` (CNN only, the DeepSEA-like
baseline), `lstm` (BiLSTM 64, DanQ), `tcn` (one dilated block), `transformer` (one layer), and two
rows with about the BiLSTM model's parameter count: `none-wide`, the CNN-only model grown (320
filters, dense 256), so that a win of the recurrent layer is not just a win of size, and `tcn-4`
(four dilated blocks, which see the whole 40-step map). A fixed number of epochs per run (not a time budget,
so the figures do not depend on whatever else runs on the machine) and several seeds.

Reported on val (8,294 train / 1,037 val sequences of 200 nt; the test split is held out and not
used): ROC-AUC and PR-AUC of the saved model (best validation ROC-AUC over the epochs, recomputed
here through `SequenceClassifier` from the saved file) and of the last epoch (no selection on val
at all), mean +- std over seeds; parameters; training CPU seconds (process time, one thread: less
sensitive to a shared machine than wall time, which is also recorded). Finished runs are reused,
so an interrupted benchmark resumes. Prints a Markdown table and writes benchmarks/results/dna.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from seqvision.config import ExperimentConfig, apply_overrides
from seqvision.nn.presets import danq_small
from seqvision.tasks.dna.bio import read_sequences
from seqvision.tasks.dna.module import target_matrix
from seqvision.tasks.dna.predictor import SequenceClassifier
from seqvision.tasks.dna.ranking import average_precision, macro, roc_auc
from seqvision.training.run import train

ROOT = Path(__file__).resolve().parents[1]
# rows beyond the preset, each with about the BiLSTM model's parameters: a CNN-only model grown wider,
# and a TCN deep enough (4 dilated blocks) to see all 40 steps of a 200-nt window
VARIANTS = {
    "none-wide": ("none", ["model.encoder.channels=[320]", "model.head.hidden=256"]),
    "tcn-4": ("tcn", ["model.sequence.layers=4"]),
}


def last_epoch(run: Path) -> dict[str, float]:
    """Validation metrics of the final epoch, from the run's metrics.csv."""
    rows = [r for r in csv.DictReader((run / "metrics.csv").open(encoding="utf-8")) if r.get("val_auroc")]
    return {"last_auroc": float(rows[-1]["val_auroc"]), "last_auprc": float(rows[-1]["val_auprc"])}


def run_cell(sequence: str, seed: int, args: argparse.Namespace) -> dict:
    run = Path(args.runs) / f"{sequence}-seed{seed}"
    result_file = run / "benchmark.json"
    if result_file.exists():
        return json.loads(result_file.read_text())
    data = Path(args.data)
    base, overrides = VARIANTS.get(sequence, (sequence, []))
    cfg = ExperimentConfig(task="dna", model=danq_small(sequence=base))
    apply_overrides(cfg, overrides)
    apply_overrides(cfg, [f"data.train={data / 'train.tsv'}", f"data.val={data / 'val.tsv'}", "data.num_workers=0"])
    apply_overrides(cfg, [f"data.batch_size={args.batch_size}", f"train.epochs={args.epochs}", "train.patience=1000"])
    apply_overrides(cfg, [f"train.seed={seed}", f"train.threads={args.threads}"])
    wall, cpu = time.perf_counter(), time.process_time()
    train(cfg, run, progress=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    clf = SequenceClassifier.load(run)
    val = read_sequences(data / "val.tsv").records
    truth, scores = target_matrix(val, clf.labels, "the model's"), clf.probabilities(val)
    meta = clf.metadata
    result = {
        "sequence": sequence,
        "seed": seed,
        "auroc": macro(roc_auc, truth, scores),
        "auprc": macro(average_precision, truth, scores),
        "logged_auroc": meta["metrics"]["val_auroc"],  # what training logged for the saved epoch: must agree
        "best_epoch": meta["training"]["epoch"],
        **last_epoch(run),
        "params": meta["parameters"],
        "train_cpu_s": cpu,
        "train_wall_s": wall,
    }
    result_file.write_text(json.dumps(result) + "\n")
    return result


def mean_std(values: list[float]) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {std:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "pum2"), help="train.tsv, val.tsv")
    parser.add_argument("--runs", default="/tmp/seqvision-bench-dna", help="run folders (reused when finished)")
    parser.add_argument("--sequences", default="none,lstm,tcn,transformer,none-wide,tcn-4")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "dna.json"))
    args = parser.parse_args()
    sequences = args.sequences.split(",")
    rows = []
    for seed in range(args.seeds):  # seed-major: an interrupted run still has every model at the first seeds
        for sequence in sequences:
            rows.append(run_cell(sequence, seed, args))
            print(json.dumps(rows[-1]), flush=True)
    print(
        f"\nPUM2 (train -> val, 200 nt), danq-small, {args.epochs} epochs, batch {args.batch_size}, "
        f"{args.seeds} seeds, {args.threads} thread(s), torch {torch.__version__}, "
        f"{platform.processor() or platform.machine()}\n"
    )
    print(
        "| sequence | val ROC-AUC | val PR-AUC | last-epoch ROC-AUC | last-epoch PR-AUC | parameters | training CPU s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    summary = []
    for sequence in sequences:
        cells = [r for r in rows if r["sequence"] == sequence]
        row = {
            "sequence": sequence,
            "seeds": len(cells),
            **{
                f"{k}_{stat}": fn([c[k] for c in cells])
                for k in ("auroc", "auprc", "last_auroc", "last_auprc", "train_cpu_s")
                for stat, fn in (("mean", statistics.mean), ("std", lambda v: statistics.stdev(v) if len(v) > 1 else 0))
            },
            "params": cells[0]["params"],
        }
        summary.append(row)
        print(
            f"| {sequence} | {mean_std([c['auroc'] for c in cells])} | {mean_std([c['auprc'] for c in cells])} | "
            f"{mean_std([c['last_auroc'] for c in cells])} | {mean_std([c['last_auprc'] for c in cells])} | "
            f"{row['params']:,} | {row['train_cpu_s_mean']:.0f} |"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    setup = {k: v for k, v in vars(args).items() if k != "out"} | {"torch": torch.__version__}
    out.write_text(json.dumps({"setup": setup, "summary": summary, "runs": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
