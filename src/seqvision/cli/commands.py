"""Handlers for each ``seqvision`` subcommand; all work happens in the library."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.cli.common import is_rank_zero
from seqvision.errors import ConfigError

if TYPE_CHECKING:
    from seqvision.compare import Study

MODEL_REGISTRIES = ("PRESETS", "ENCODERS", "SEQUENCES", "SPATIAL_SEQUENCES", "HEADS")  # seqvision.registry's names
MODEL_TITLES = ("presets", "encoders", "sequence models", "spatial sequence models (B, T, C, H, W)", "heads")


def resolve_config(args: argparse.Namespace):  # -> ExperimentConfig
    """Preset < config file < flags < ``--set``; a resumed run starts from its own config.yaml."""
    from seqvision.config import ExperimentConfig, apply_overrides, from_dict, load_yaml, update
    from seqvision.tasks import get_task

    if args.resume:
        saved = Path(args.resume) / "config.yaml"
        if not saved.is_file():
            raise ConfigError(f"{args.resume}: not a run folder (no config.yaml)")
        cfg = from_dict(ExperimentConfig, load_yaml(saved), "")
    else:
        file_cfg = load_yaml(args.config) if args.config else {}
        task = get_task(args.task or file_cfg.get("task") or ExperimentConfig.task)
        preset = args.preset or (file_cfg.get("model") or {}).get("preset") or task.default_preset
        from seqvision.nn.presets import get_preset  # torch: after the task is known

        cfg = ExperimentConfig(task=task.name, model=get_preset(preset))
        update(cfg, file_cfg)
        if args.task:
            cfg.task = task.name
    train = args.train or []
    if len(train) > 1:  # a mix of inputs: set as a list, not parsed as one YAML scalar
        update(cfg, {"data": {"train": list(train)}})
    flags = {
        "data.train": train[0] if len(train) == 1 else None,
        "data.val": args.val,
        "data.labels": getattr(args, "labels", None),
        "data.batch_size": args.batch_size,
        "train.epochs": args.epochs,
        "train.max_minutes": args.max_minutes,
        "train.threads": args.threads,
        "train.seed": args.seed,
        "train.init": args.init,
        "train.alphabet": args.alphabet,
        "train.precision": args.precision,
        "train.accelerator": args.accelerator,
        "train.devices": args.devices,
        "train.num_nodes": args.num_nodes,
        "train.strategy": args.strategy,
    }
    apply_overrides(cfg, [f"{k}={v}" for k, v in flags.items() if v is not None])
    apply_overrides(cfg, args.overrides)
    return cfg


def train(args: argparse.Namespace) -> int:
    from seqvision.tasks import get_task

    cfg = resolve_config(args)
    out = Path(args.resume or args.out or "")
    if not args.resume and not args.out:
        raise ConfigError("--out RUN_DIR is required (or --resume RUN_DIR)")
    from seqvision.training.run import train as run_training  # Lightning: after the flags are checked

    path = run_training(cfg, out, resume=bool(args.resume), progress=not args.quiet)
    if not is_rank_zero():  # the other data-parallel processes end quietly
        return 0
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    print(f"model: {path}  ({get_task(cfg.task).describe(meta.get('metrics', {}))})")
    return 0


def serve(args: argparse.Namespace) -> int:
    """``seqvision serve``: load the models once, then answer HTTP on ``--host:--port`` until interrupted."""
    import socket

    try:
        import uvicorn

        from seqvision.serving import ServeConfig, create_app, load_models
    except ImportError as exc:
        raise ConfigError(f"serve needs the [serve] extra: pip install 'seqvision[serve]' ({exc})") from None
    from seqvision.checkpoint import BUNDLED, DEFAULT_MODEL

    lms = {}
    for item in args.lm:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ConfigError(f"--lm {item}: expected NAME=ARPA")
        if not Path(path).is_file():
            raise ConfigError(f"--lm {item}: no such file {path}")
        lms[name] = path
    config = ServeConfig(
        workers=args.workers,
        threads=args.threads,
        queue=args.queue,
        batch=args.batch_size,
        timeout=args.timeout,
        max_upload_bytes=int(args.max_upload_mb * 2**20),
        max_pixels=args.max_pixels,
        max_lines=args.max_lines,
        max_clips=args.max_clips,
        max_beam_width=args.max_beam_width,
        page_workers=args.page_workers,
        lms=lms,
        lm_weight=args.lm_weight,
        lm_bonus=args.lm_bonus,
    )
    bundled = [DEFAULT_MODEL, *sorted(p.stem for p in BUNDLED.glob("*.json") if p.stem != DEFAULT_MODEL)]
    import torch

    segmenter = None if args.segmenter.lower() == "none" else args.segmenter
    app = create_app(
        load_models(args.models or bundled, args.backend, config.threads, not args.models), config, segmenter
    )
    if "torch" in sys.modules:  # a model on the torch backend (onnx models need no torch)
        import torch

        torch.set_num_threads(config.threads)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc})") from None
    host, port = sock.getsockname()[:2]
    where = f"http://{'[' + host + ']' if family == socket.AF_INET6 else host}:{port}"
    served = ", ".join(app.state.engine.models)
    pages = app.state.pages
    if segmenter and pages.problem:
        print(f"warning: POST /v1/read/page is off: {pages.problem}", file=sys.stderr)
    print(
        f"serving {served} on {where}  ({config.workers} workers x {config.threads} threads, queue {config.queue}, "
        f"batches of up to {config.batch} lines); "
        f"pages {'with ' + pages.segmenter if pages.segmenter else 'off'}; web page at /, API docs at /docs",
        file=sys.stderr,
        flush=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, log_level=args.log_level, access_log=args.access_log, timeout_graceful_shutdown=5)
    )
    server.run(sockets=[sock])
    return 0


def compare(args: argparse.Namespace) -> int:
    from seqvision.compare import Study, remeasure, run_study

    out = Path(args.out)
    if args.remeasure:
        study, cells = remeasure(out)
        return _report_study(study, cells, out)
    if not args.suite:
        raise ConfigError("--suite is required (or --remeasure to time a finished study again)")
    study = Study(
        suite=args.suite,
        sequences=[s.strip() for s in args.sequences.split(",") if s.strip()],
        seeds=args.seeds,
        max_minutes=args.max_minutes,
        epochs=args.epochs,
        batch_size=args.batch_size,
        threads=args.threads,
        data=args.data or "",
        train=args.train or "",
        val=args.val or "",
        train_samples=args.train_samples,
        val_samples=args.val_samples,
        overrides=list(args.overrides),
    )
    if not study.sequences:
        raise ConfigError("--sequences names no sequence model")
    if args.epochs < 1 or args.max_minutes < 0 or args.batch_size < 1:
        raise ConfigError("--epochs and --batch-size must be at least 1, --max-minutes not negative")
    return _report_study(study, run_study(study, out, progress=args.progress), out)


def _report_study(study: Study, cells: list[dict[str, Any]], out: Path) -> int:
    from seqvision.compare.report import write_reports

    rows = write_reports(study, cells, out)
    for r in rows:
        print(f"{r['sequence']:12s} {r['metric']} {r['mean']:.4f} ± {r['std']:.4f}  {r['latency_ms_batch1']:.2f} ms")
    print(f"results: {out / 'results.md'}")
    return 0


def models(args: argparse.Namespace) -> int:
    import seqvision.tasks
    from seqvision.checkpoint import BUNDLED, DEFAULT_MODEL
    from seqvision.registry import TASKS, declared

    # the model parts are read from their source (registry.declared): listing them imports no torch
    parts = declared(Path(seqvision.tasks.__file__).parents[1] / "nn", MODEL_REGISTRIES)
    for title, key in (("tasks", "TASKS"), *zip(MODEL_TITLES, MODEL_REGISTRIES, strict=True)):
        print(f"{title}:")
        listing = {name: TASKS.describe(name) for name in TASKS} if key == "TASKS" else parts[key]
        for name, line in listing.items():
            print(f"  {name:<14} {line}")
    print("bundled models:")
    bundled = sorted(BUNDLED.glob("*.json"))
    for meta_path in bundled:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        m = meta.get("metrics", {})
        default = "  (default)" if meta_path.stem == DEFAULT_MODEL else ""
        what = f"{meta['architecture']['preset']} at {meta['input']['height']} px"
        if meta.get("task") == "segment":  # a page segmenter: baseline F1 of the val pages
            print(f"  {meta_path.stem:<14} page segmenter, {what}, val baseline F1 {m.get('val_f1', float('nan')):.3f}")
            continue
        print(
            f"  {meta_path.stem:<14} {what}, "
            f"{len(meta['alphabet'])} characters, val CER {m.get('val_cer', float('nan')):.3f}{default}"
        )
    if not bundled:
        print("  (none)")
    return 0
