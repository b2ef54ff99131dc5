"""Running a study: one run folder per (sequence model, seed) cell, measured once, skipped when finished.

``OUT/study.json`` holds the settings; a later call with other settings is refused rather than
mixing budgets in one table. ``OUT/runs/<sequence>-seed<k>/`` is an ordinary ``seqvision train``
run folder plus ``cell.json`` (metric, parameters, FLOPs, timings); a folder without it was
interrupted and is trained again from scratch, so every cell gets the same budget.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from seqvision.compare.suites import DataRequest, Suite, get_suite
from seqvision.config import ExperimentConfig, apply_overrides
from seqvision.errors import ConfigError
from seqvision.io import atomic_write_text

SEQUENCES = ("none", "lstm", "gru", "tcn", "transformer")


@dataclass
class Study:
    suite: str
    sequences: list[str] = field(default_factory=lambda: list(SEQUENCES))
    seeds: int = 3
    max_minutes: float = 1.0  # per cell; 0: epochs only
    epochs: int = 30  # per cell, at most
    batch_size: int = 32
    threads: int = 0  # 0: all cores
    data: str = ""  # the suite's source (default: its shared data)
    train: str = ""  # own line-format data instead of the suite's
    val: str = ""
    train_samples: int = 0  # 0: the suite's default
    val_samples: int = 0
    overrides: list[str] = field(default_factory=list)  # further config keys for every cell


def cell_config(study: Study, suite: Suite, sequence: str, seed: int, train: str, val: str) -> ExperimentConfig:
    from seqvision.nn.presets import get_preset

    cfg = ExperimentConfig(task=suite.task, model=get_preset(suite.preset))
    apply_overrides(cfg, list(suite.overrides))
    apply_overrides(
        cfg,
        [
            f"model.sequence.name={sequence}",
            f"data.train={train}",
            f"data.val={val}",
            "data.augment=false",
            f"data.batch_size={study.batch_size}",
            f"train.epochs={study.epochs}",
            f"train.max_minutes={study.max_minutes}",
            f"train.patience={study.epochs}",  # the budget ends a cell, never early stopping
            f"train.seed={seed}",
            f"train.threads={study.threads}",
        ],
    )
    apply_overrides(cfg, study.overrides)
    return cfg


def check_settings(study: Study, out: Path) -> None:
    """Write ``study.json``, or refuse when ``out`` holds a study with other settings."""
    saved = out / "study.json"
    mine = asdict(study)
    if saved.is_file():
        theirs = json.loads(saved.read_text(encoding="utf-8"))
        budget = {k: v for k, v in mine.items() if k not in ("sequences", "seeds")}
        differ = [k for k, v in budget.items() if theirs.get(k) != v]
        if differ:
            raise ConfigError(
                f"{out} holds a study with other settings ({', '.join(differ)}); use another --out to compare those"
            )
        # more sequence models or seeds extend the same study
        mine["sequences"] = list(dict.fromkeys([*theirs.get("sequences", []), *study.sequences]))
        mine["seeds"] = max(theirs.get("seeds", 0), study.seeds)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(saved, json.dumps(mine, indent=2))


def run_study(study: Study, out: Path, progress: bool = False) -> list[dict[str, Any]]:
    """Train and measure every cell not yet finished; returns the records of all finished cells in ``out``."""
    import seqvision.nn.sequence  # noqa: F401  (fill the registry)
    from seqvision.registry import SEQUENCES as REGISTRY

    suite = get_suite(study.suite)
    for name in study.sequences:
        REGISTRY.get(name)  # an unknown name fails here, with the valid ones, before anything runs
    if study.seeds < 1:
        raise ConfigError("--seeds must be at least 1")
    if bool(study.train) != bool(study.val):
        raise ConfigError("give both --train and --val (your own data), or neither (the suite's data)")
    check_settings(study, out)
    if study.train:
        train, val = study.train, study.val
    else:
        n_train, n_val = suite.default_samples
        source = study.data or suite.default_source
        request = DataRequest(source, out / "data", study.train_samples or n_train, study.val_samples or n_val)
        train, val = suite.build(request)
    for seed in range(study.seeds):
        for sequence in study.sequences:
            folder = out / "runs" / f"{sequence}-seed{seed}"
            record = folder / "cell.json"
            if record.is_file():
                print(f"compare: {sequence} seed {seed}: finished earlier, skipped", file=sys.stderr)
            else:
                cfg = cell_config(study, suite, sequence, seed, train, val)
                print(f"compare: {sequence} seed {seed}: training -> {folder}", file=sys.stderr)
                measured = run_cell(cfg, suite, folder, progress)
                measured.update(sequence=sequence, seed=seed)
                atomic_write_text(record, json.dumps(measured, indent=2))
    return finished_cells(out)


def remeasure(out: Path) -> tuple[Study, list[dict[str, Any]]]:
    """Time every finished cell in ``out`` again (e.g. on an idle machine), without training anything.

    Latency, throughput and FLOPs are replaced in each ``cell.json``; the metric and training time stay.
    """
    from seqvision.config import from_dict, load_yaml

    saved = out / "study.json"
    if not saved.is_file():
        raise ConfigError(f"{out}: no study here (study.json is missing)")
    study = Study(**json.loads(saved.read_text(encoding="utf-8")))
    for record in sorted((out / "runs").glob("*/cell.json")):
        cell = json.loads(record.read_text(encoding="utf-8"))
        cfg = from_dict(ExperimentConfig, load_yaml(record.parent / "config.yaml"), "")
        print(f"compare: {cell['sequence']} seed {cell['seed']}: timing again", file=sys.stderr)
        cell.update(measure(record.parent / "model.safetensors", cfg))
        atomic_write_text(record, json.dumps(cell, indent=2))
    return study, finished_cells(out)


def finished_cells(out: Path) -> list[dict[str, Any]]:
    """Every finished cell of the study in ``out``, also those of earlier calls (more seeds or sequence models),
    in the order of the study's sequence models, then by seed."""
    order = json.loads((out / "study.json").read_text(encoding="utf-8"))["sequences"]
    cells = [json.loads(p.read_text(encoding="utf-8")) for p in (out / "runs").glob("*/cell.json")]
    rank = {name: i for i, name in enumerate(order)}
    return sorted(cells, key=lambda c: (rank.get(c["sequence"], len(rank)), c["seed"]))


def run_cell(cfg: ExperimentConfig, suite: Suite, folder: Path, progress: bool) -> dict[str, Any]:
    """Train one cell from scratch, then measure its best model."""
    from seqvision.training.run import train

    if folder.exists():
        shutil.rmtree(folder)  # interrupted earlier: start over, so the budget stays equal
    started = time.monotonic()
    model_path = train(cfg, folder, resume=False, progress=progress)
    seconds = time.monotonic() - started
    meta = json.loads(model_path.with_suffix(".json").read_text(encoding="utf-8"))
    epochs = _epochs(folder / "metrics.csv")
    return {
        "metric": suite.metric,
        "value": meta["metrics"][suite.metric],
        "best_epoch": meta["training"]["epoch"],
        "epochs": epochs,
        "train_seconds": round(seconds, 1),
        **measure(model_path, cfg),
    }


def _epochs(log: Path) -> int:
    import csv

    with log.open(newline="", encoding="utf-8") as fh:
        return 1 + max((int(r["epoch"]) for r in csv.DictReader(fh) if r.get("epoch")), default=-1)


def typical_width(cfg: ExperimentConfig) -> int:
    """Median width of the validation images once scaled to the model's height: the input timed."""
    from seqvision.data.images import image_size
    from seqvision.data.readers import read_lines

    samples = read_lines(cfg.data.val).samples[:500]
    widths = []
    for s in samples:
        w, h = image_size(s)
        widths.append(max(4, round(w * cfg.model.height / h)))
    return int(statistics.median(widths)) if widths else cfg.model.height


def example_input(cfg: ExperimentConfig, batch: int) -> tuple[str, tuple[torch.Tensor, torch.Tensor]]:
    """A typical input of the suite's model, repeated ``batch`` times, and its size in words.

    Clips: the configured frames at the model's size; lines and digits: the model's height by the
    median validation width.
    """
    height, channels = cfg.model.height, cfg.model.in_channels
    if cfg.model.input == "clip":
        frames = cfg.data.clip.frames
        clips = torch.rand(batch, frames, channels, height, height)
        return f"{frames}x{channels}x{height}x{height}", (clips, torch.full((batch,), frames))
    width = typical_width(cfg)
    return f"{height}x{width}", (torch.rand(batch, channels, height, width), torch.full((batch,), width))


def measure(model_path: Path, cfg: ExperimentConfig, runs: int = 30) -> dict[str, Any]:
    """Parameters, FLOPs per sample, latency at batch 1 (median ms) and throughput at batch 32 (samples/s)."""
    from seqvision.checkpoint import load_metadata
    from seqvision.data.alphabet import Alphabet
    from seqvision.nn.flops import count_gflops
    from seqvision.tasks.predictor import load_network

    def classes(meta: dict[str, Any]) -> int:
        return len(meta["labels"]) if "labels" in meta else len(Alphabet(meta["alphabet"]))

    from seqvision.tasks import get_task

    task = get_task(cfg.task)
    timed = task.timed_model(model_path, cfg)  # a task whose models are not one SeqModel
    if timed is None:
        meta = load_metadata(model_path)[0]
        if "labels" in meta or "alphabet" in meta:
            model, meta, _, _ = load_network(model_path, "torch", cfg.train.threads, classes, lambda m, d: b"", None)
        else:  # an embedding or a regression: the task's predictor knows the head's size, and holds the network
            model = getattr(task.predictor.load(model_path, "torch", cfg.train.threads), "model", None)
        assert model is not None, f"{cfg.task}: its predictor holds no torch network to time"
        example = lambda batch: example_input(cfg, batch)  # noqa: E731
    else:
        (model, meta), example = timed
    size, one = example(1)
    _, many = example(32)
    with torch.inference_mode():
        for _ in range(3):
            model(*one)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            model(*one)
            times.append(time.perf_counter() - start)
        for _ in range(2):
            model(*many)
        start = time.perf_counter()
        for _ in range(5):
            model(*many)
        batch_seconds = (time.perf_counter() - start) / 5
    return {
        "parameters": meta["parameters"],
        "gflops": round(count_gflops(model, one), 4),
        "input": size,
        "latency_ms": round(1000 * statistics.median(times), 2),
        "throughput": round(32 / batch_seconds, 1),
        "threads": torch.get_num_threads(),
    }
