"""Handlers for each ``seqvision`` subcommand; all work happens in the library."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from seqvision.checkpoint import model_task
from seqvision.errors import ConfigError, DataError, SeqvisionError


def _threads(n: int) -> None:
    if n and n > 0:
        torch.set_num_threads(n)


def split_model(args: argparse.Namespace, what: str) -> tuple[str, list[str]]:
    """``[MODEL] INPUT...`` -> (model, inputs): the first input is the model if it names one, else the default."""
    from seqvision.checkpoint import DEFAULT_MODEL, is_model

    inputs = list(args.inputs)
    if args.model:
        return args.model, inputs
    looks_like_model = Path(inputs[0]).suffix in (".safetensors", ".onnx")  # even if missing: say so
    if len(inputs) > 1 and (looks_like_model or is_model(inputs[0])):
        return inputs[0], inputs[1:]
    if len(inputs) == 1 and is_model(inputs[0]):
        raise ConfigError(f"{inputs[0]} is a model; give the {what} to read after it")
    return DEFAULT_MODEL, inputs


def resolve_config(args: argparse.Namespace):  # -> ExperimentConfig
    """Preset < config file < flags < ``--set``; a resumed run starts from its own config.yaml."""
    from seqvision.config import ExperimentConfig, apply_overrides, from_dict, load_yaml, update
    from seqvision.presets import get_preset
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
        cfg = ExperimentConfig(task=task.name, model=get_preset(preset))
        update(cfg, file_cfg)
        if args.task:
            cfg.task = task.name
    flags = {
        "data.train": args.train,
        "data.val": args.val,
        "data.batch_size": args.batch_size,
        "train.epochs": args.epochs,
        "train.max_minutes": args.max_minutes,
        "train.threads": args.threads,
        "train.seed": args.seed,
    }
    apply_overrides(cfg, [f"{k}={v}" for k, v in flags.items() if v is not None])
    apply_overrides(cfg, args.overrides)
    return cfg


def train(args: argparse.Namespace) -> int:
    from seqvision.tasks import get_task
    from seqvision.training.run import train as run_training

    cfg = resolve_config(args)
    out = Path(args.resume or args.out or "")
    if not args.resume and not args.out:
        raise ConfigError("--out RUN_DIR is required (or --resume RUN_DIR)")
    path = run_training(cfg, out, resume=bool(args.resume), progress=not args.quiet)
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    print(f"model: {path}  ({get_task(cfg.task).describe(meta.get('metrics', {}))})")
    return 0


def _page_loader(samples):
    """``load(i)`` for the i-th sample; each loader thread keeps its own last page (PAGE/ALTO lines share one)."""
    import threading

    from seqvision.data.images import PageCache, load_line

    local = threading.local()

    def load(i: int):
        if not hasattr(local, "pages"):
            local.pages = PageCache()
        return load_line(samples[i], local.pages)

    return load


def _progress(total: int, what: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=what, unit="line", file=sys.stderr, disable=None if total >= 64 else True)


def evaluate(args: argparse.Namespace) -> int:
    from seqvision.data.readers import read_lines
    from seqvision.metrics import ErrorRates
    from seqvision.recognizer import Recognizer

    _threads(args.threads)
    model, inputs = split_model(args, "labelled data")
    if model_task(model) == "video":
        from seqvision.cli import video

        return video.evaluate(args, model, inputs)
    if len(inputs) != 1:
        raise ConfigError(f"eval takes one data path after the model, got {len(inputs)}: {' '.join(inputs)}")
    rec = Recognizer.load(model, args.backend, args.threads)
    report = read_lines(inputs[0])
    samples, skipped = report.samples, list(report.skipped)
    start = time.perf_counter()
    decoded_by_index = {}
    with _progress(len(samples), "eval") as bar:
        for i, outcome in rec.read_many(_page_loader(samples), len(samples), args.batch_size, on_batch=bar.update):
            if isinstance(outcome, SeqvisionError):
                skipped.append(str(outcome))
            else:
                decoded_by_index[i] = outcome
    seconds = time.perf_counter() - start
    for message in skipped[:5]:
        print(f"warning: skipped {message}", file=sys.stderr)
    if len(skipped) > 5:
        print(f"warning: ... {len(skipped) - 5} more lines skipped", file=sys.stderr)
    if not decoded_by_index:
        raise DataError(f"{inputs[0]}: no readable labelled line ({len(skipped)} skipped)")
    kept = [samples[i] for i in sorted(decoded_by_index)]
    unknown = rec.alphabet.unknown(s.text for s in kept)
    rates = ErrorRates()
    rows = []
    for i in sorted(decoded_by_index):
        rates.update(decoded_by_index[i].text, samples[i].text)
        rows.append(f"{samples[i].source}\t{samples[i].text}\t{decoded_by_index[i].text}\n")
    if args.predictions:
        from seqvision.io import atomic_write_text

        try:
            atomic_write_text(args.predictions, "".join(rows))
        except OSError as exc:
            raise DataError(f"{args.predictions}: cannot write predictions ({exc.strerror or exc})") from None
    result = {
        "model": str(rec.path),
        "backend": rec.backend,
        "data": str(inputs[0]),
        "cer": round(rates.cer, 5),
        "wer": round(rates.wer, 5),
        "lines": rates.lines,
        "chars": rates.chars,
        "words": rates.words,
        "skipped": len(skipped),
        "unknown_chars": sum(unknown.values()),
        "seconds": round(seconds, 3),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(
            f"CER {100 * rates.cer:.2f} %  WER {100 * rates.wer:.2f} %  on {rates.lines} lines "
            f"({len(skipped)} skipped) in {seconds:.1f} s"
        )
        if unknown:
            print(
                f"note: {sum(unknown.values())} reference character(s) are not in the model's alphabet: "
                + ", ".join(repr(c) for c, _ in unknown.most_common(8))
            )
    return 0


def _read_inputs(inputs: list[str]) -> list:  # -> list[LineSample]
    """Image files as given; folders -> their images (sorted); TSV, PAGE-XML and ALTO files -> their lines."""
    from seqvision.data.readers import IMAGE_SUFFIXES, read_lines
    from seqvision.data.samples import LineSample

    samples = []
    for name in inputs:
        path = Path(name)
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if path.is_dir() else []
        if images:
            samples += [LineSample(p, "", str(p)) for p in images]
        elif path.is_dir() or path.suffix.lower() in (".tsv", ".xml"):
            report = read_lines(path)
            for message in report.skipped:
                print(f"warning: skipped {message}", file=sys.stderr)
            samples += report.samples
        else:
            samples.append(LineSample(path, "", name))
    return samples


def read(args: argparse.Namespace) -> int:
    from seqvision.recognizer import Recognizer

    _threads(args.threads)
    model, inputs = split_model(args, "images")
    if model_task(model) == "video":
        from seqvision.cli import video

        return video.read(args, model, inputs)
    rec = Recognizer.load(model, args.backend, args.threads)
    samples = _read_inputs(inputs)
    results, failed = {}, 0
    with _progress(len(samples), "read") as bar:
        for i, result in rec.read_many(_page_loader(samples), len(samples), args.batch_size, on_batch=bar.update):
            if isinstance(result, SeqvisionError):
                print(f"seqvision: error: {result}", file=sys.stderr)
                failed += 1
            else:
                results[i] = result
    for i in sorted(results):
        d, name = results[i], samples[i].source
        if args.json:
            chars = [
                {"char": c, "confidence": round(p, 4), "frames": list(f)}
                for c, p, f in zip(d.text, d.char_confidences, d.char_frames, strict=False)
            ]
            record = {"image": name, "text": d.text, "confidence": round(d.confidence, 4), "chars": chars}
            print(json.dumps(record, ensure_ascii=False))
        elif len(samples) > 1:
            print(f"{name}\t{d.text}")
        else:
            print(d.text)
    return 1 if failed else 0


def export(args: argparse.Namespace) -> int:
    from seqvision.export import export_model

    out = Path(args.out)
    if out.suffix != ".onnx":
        raise ConfigError(f"{out}: the output file should end in .onnx")
    start = time.perf_counter()
    meta = export_model(args.model, out, int8=args.int8)
    size = out.stat().st_size / 1e6
    kind = "int8 (LSTM/MatMul/Gemm weights)" if args.int8 else "fp32"
    classes = f"{len(meta['labels'])} classes" if "labels" in meta else f"{len(meta['alphabet'])} characters"
    print(f"{out}  ({kind}, {size:.1f} MB, {classes}, {time.perf_counter() - start:.1f} s)")
    return 0


def synth(args: argparse.Namespace) -> int:
    from seqvision.data.synth import HELD_OUT, find_fonts, write_dataset

    if args.lines < 1:
        raise ConfigError(f"--lines must be at least 1, got {args.lines}")
    include = tuple(args.fonts or ()) + (HELD_OUT if args.held_out == "only" else ())
    exclude = tuple(args.exclude_fonts or ()) + (HELD_OUT if args.held_out == "exclude" else ())
    fonts = find_fonts(include, exclude, Path(args.font_dir) if args.font_dir else None)
    if args.list_fonts:
        for font in fonts:
            print(f"{font.name}\t{font.path}")
        return 0
    families = len({f.family for f in fonts})
    print(f"rendering {args.lines} lines with {len(fonts)} fonts ({families} families) -> {args.out}", file=sys.stderr)
    tsv = write_dataset(
        args.out,
        args.lines,
        fonts,
        seed=args.seed,
        height=args.height,
        clean=args.clean,
        max_chars=args.max_chars,
        workers=args.workers or None,
        progress=sys.stderr.isatty(),
    )
    stats = json.loads((tsv.parent / "synth.json").read_text(encoding="utf-8"))
    print(f"{tsv}  ({stats['lines_per_second']:.0f} lines/s with {stats['workers']} workers)")
    return 0


def models(args: argparse.Namespace) -> int:
    import seqvision.model
    import seqvision.presets
    import seqvision.tasks  # noqa: F401
    from seqvision.checkpoint import BUNDLED, DEFAULT_MODEL
    from seqvision.registry import ENCODERS, HEADS, PRESETS, SEQUENCES, TASKS

    for title, registry in (
        ("tasks", TASKS),
        ("presets", PRESETS),
        ("encoders", ENCODERS),
        ("sequence models", SEQUENCES),
        ("heads", HEADS),
    ):
        print(f"{title}:")
        for name in registry:
            print(f"  {name:<14} {registry.describe(name)}")
    print("bundled models:")
    bundled = sorted(BUNDLED.glob("*.json"))
    for meta_path in bundled:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        m = meta.get("metrics", {})
        default = "  (default)" if meta_path.stem == DEFAULT_MODEL else ""
        print(
            f"  {meta_path.stem:<14} {meta['architecture']['preset']} at {meta['input']['height']} px, "
            f"{len(meta['alphabet'])} characters, val CER {m.get('val_cer', float('nan')):.3f}{default}"
        )
    if not bundled:
        print("  (none)")
    return 0
