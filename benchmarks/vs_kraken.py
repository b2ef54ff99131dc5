"""Handwriting recognisers trained side by side: ``seqvision train`` vs kraken's ``ketos train``, same budget.

    python benchmarks/vs_kraken.py --kraken-python ../kraken-venv/bin/python --minutes 60 --threads 1
    python benchmarks/vs_kraken.py --report /tmp/vs_kraken     # print the table of an earlier run again

Both start from random weights on the same training lines (default ``../shared/data/hooker/train``),
at the same time, with the same thread count and wall-clock budget; both validate on the same lines
(``hooker/val``) once per epoch. The script polls both run folders every ``--poll`` seconds and
records when each validation lands, so it prints validation CER over wall-clock time for both.

- seqvision: ``seqvision train --config configs/hooker.yaml`` (the bundled hooker-en recipe) with
  ``train.max_minutes`` = the budget, so its cosine schedule ends with it.
- kraken: ``ketos train -f path`` with its defaults (its VGSL network, batch 1, constant learning
  rate, early stopping) under ``timeout``; CER = 1 - its ``val_accuracy`` (character accuracy on
  the ``-e`` lines), read from the names of the checkpoints it writes after each validation.

kraken must live in its own venv (its torchvision does not load against seqvision's CPU torch):
``python -m venv kraken-venv && kraken-venv/bin/pip install kraken==7.1.1 torch==2.12.1
torchvision==0.27.1``. Writes benchmarks/results/vs_kraken.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "hooker"
CHECKPOINT = re.compile(r"checkpoint_(\d+)-([0-9.]+)\.ckpt$")


def ketos_lists(labels: Path, folder: Path, name: str) -> Path:
    """kraken's ``path`` format: each image beside a ``.gt.txt``; symlinks, so nothing is copied."""
    folder.mkdir(parents=True, exist_ok=True)
    listed = []
    for i, row in enumerate(labels.read_text(encoding="utf-8").splitlines()):
        if "\t" not in row:
            continue
        rel, text = row.split("\t", 1)
        image = (labels.parent / rel).resolve()
        link = folder / f"{name}{i:05d}{image.suffix}"
        if not link.exists():
            link.symlink_to(image)
        link.with_suffix(".gt.txt").write_text(text, encoding="utf-8")
        listed.append(str(link))
    out = folder.parent / f"{name}.lst"
    out.write_text("\n".join(listed) + "\n", encoding="utf-8")
    return out


def seqvision_cers(run: Path) -> list[float]:
    """Validation CERs so far, in order (Lightning rewrites the header as columns appear)."""
    rows = (run / "metrics.csv").read_text().splitlines()
    if not rows or "val_cer" not in rows[0].split(","):
        return []
    col = rows[0].split(",").index("val_cer")
    return [float(r.split(",")[col]) for r in rows[1:] if len(r.split(",")) > col and r.split(",")[col]]


def kraken_points(run: Path) -> dict[int, float]:
    """Epoch -> CER from the checkpoint names ketos writes after each validation."""
    found = {}
    for path in run.glob("checkpoint_*.ckpt"):
        match = CHECKPOINT.search(path.name)
        if match:
            found[int(match.group(1))] = 1.0 - float(match.group(2).rstrip("."))
    return found


def collect(seen: dict[str, list[tuple[float, float]]], minutes: float, seq_run: Path, kr_run: Path) -> None:
    """Add each validation not seen before, stamped with the minute it was first seen."""
    if seq_run.joinpath("metrics.csv").exists():
        cers = seqvision_cers(seq_run)
        seen["seqvision"] += [(minutes, c) for c in cers[len(seen["seqvision"]) :]]
    points = kraken_points(kr_run)
    seen["kraken"] += [(minutes, points[e]) for e in sorted(points)[len(seen["kraken"]) :]]


def watch(
    args: argparse.Namespace,
    procs: dict[str, subprocess.Popen[bytes]],
    seen: dict[str, list[tuple[float, float]]],
    start: float,
    runs: tuple[Path, Path],
) -> None:
    """Poll both run folders until both trainings end, noting the wall-clock minute of each new validation."""
    while any(p.poll() is None for p in procs.values()):
        time.sleep(args.poll)
        minutes = (time.monotonic() - start) / 60
        collect(seen, minutes, *runs)
        if minutes > args.minutes + 20:  # validation or export hung past the budget
            for p in procs.values():
                p.kill()
    collect(seen, (time.monotonic() - start) / 60, *runs)


def race(args: argparse.Namespace) -> dict[str, Any]:
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    train_list = ketos_lists(args.train / "labels.tsv", work / "ketos-data", "train")
    val_list = ketos_lists(args.val / "labels.tsv", work / "ketos-data", "val")
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    seq_run, kr_run = work / "seqvision", work / "kraken"
    seq_cmd = [sys.executable, "-m", "seqvision", "train", "--config", str(args.config), "--out", str(seq_run)]
    seq_cmd += ["--train", str(args.train), "--val", str(args.val), "--threads", str(args.threads), "--quiet"]
    seq_cmd += ["--set", f"train.max_minutes={args.minutes}", "--set", "train.patience=1000"]
    ketos = str(Path(args.kraken_python).parent / "ketos")
    kr_cmd = ["timeout", "--signal=INT", f"{int(args.minutes * 60)}", ketos, "--threads", str(args.threads)]
    kr_cmd += ["--device", "cpu", "train", "-f", "path", "-t", str(train_list), "-e", str(val_list), "-o", str(kr_run)]
    start = time.monotonic()
    with (work / "seqvision.log").open("w") as seq_log, (work / "kraken.log").open("w") as kr_log:
        procs = {
            "seqvision": subprocess.Popen(seq_cmd, stdout=seq_log, stderr=subprocess.STDOUT, env=env),
            "kraken": subprocess.Popen(kr_cmd, stdout=kr_log, stderr=subprocess.STDOUT, env=env),
        }
        seen: dict[str, list[tuple[float, float]]] = {"seqvision": [], "kraken": []}
        try:
            watch(args, procs, seen, start, (seq_run, kr_run))
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
    codes = {name: p.returncode for name, p in procs.items()}
    versions = subprocess.run(
        [args.kraken_python, "-c", "import kraken, torch; print(kraken.__version__, torch.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    report = {
        "train": str(args.train),
        "val": str(args.val),
        "minutes": args.minutes,
        "threads": args.threads,
        "seqvision_config": str(args.config),
        "kraken_version": versions[0] if versions else None,
        "kraken_torch": versions[1] if len(versions) > 1 else None,
        "exit_codes": codes,
        "timeline": {name: [{"minutes": round(m, 1), "cer": c} for m, c in pts] for name, pts in seen.items()},
    }
    (work / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def table(report: dict[str, Any]) -> str:
    """CER of each system at its validations, merged on one wall-clock axis."""
    lines = [
        f"train {report['train']} · val {report['val']} · {report['minutes']} min · {report['threads']} thread(s) each",
        f"kraken {report['kraken_version']} (torch {report['kraken_torch']}), ketos train defaults; "
        f"seqvision {report['seqvision_config']}",
        "",
        "| minutes | seqvision val CER | kraken val CER |",
        "|---:|---:|---:|",
    ]
    events = sorted((p["minutes"], name, p["cer"]) for name, pts in report["timeline"].items() for p in pts)
    for minutes, name, cer in events:
        cells = (f"{cer:.2%}", "") if name == "seqvision" else ("", f"{cer:.2%}")
        lines.append(f"| {minutes:.1f} | {cells[0]} | {cells[1]} |")
    for name, pts in report["timeline"].items():
        best = min((p["cer"] for p in pts), default=None)
        lines.append(f"\n{name}: best val CER {best:.2%}" if best is not None else f"\n{name}: no validation finished")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kraken-python", help="python of the venv that holds kraken (ketos beside it)")
    p.add_argument("--minutes", type=float, default=60, help="wall-clock budget of each training")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--train", type=Path, default=DATA / "train")
    p.add_argument("--val", type=Path, default=DATA / "val")
    p.add_argument("--config", type=Path, default=ROOT / "configs" / "hooker.yaml")
    p.add_argument("--poll", type=float, default=20, help="seconds between looks at the run folders")
    p.add_argument("--work", type=Path, default=Path("/tmp/vs_kraken"))
    p.add_argument("--report", type=Path, metavar="WORK", help="print the table of an earlier run and stop")
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "vs_kraken.json")
    args = p.parse_args(argv)
    if args.report:
        print(table(json.loads((args.report / "report.json").read_text())))
        return
    if not args.kraken_python or not Path(args.kraken_python).exists():
        sys.exit("--kraken-python: give the python of a venv with kraken 7 installed (see this script's docstring)")
    report = race(args)
    print(table(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten {args.json}")


if __name__ == "__main__":
    main()
