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


def decoder_spec(args: argparse.Namespace):  # -> DecoderSpec
    """The ``--decoder/--beam-width/--lm/...`` flags; ``--lm`` or ``--lexicon`` alone mean beam search."""
    from seqvision.decoding.beam import DecoderSpec

    kind = args.decoder or ("beam" if args.lm or args.lexicon else "greedy")
    return DecoderSpec(kind, args.beam_width, args.lm, args.lm_weight, args.lm_bonus, args.lexicon)


def _recognizer(model: str, args: argparse.Namespace):  # -> Recognizer
    """The model with the ``--backend/--threads`` and decoding flags applied."""
    from seqvision.recognizer import Recognizer

    _threads(args.threads)
    rec = Recognizer.load(model, args.backend, args.threads)
    rec.set_decoder(decoder_spec(args))
    if rec.calibration_note and getattr(args, "func", None) is not calibrate:
        print(f"note: {rec.calibration_note}", file=sys.stderr)
    return rec


def _load_recognizer(args: argparse.Namespace, what: str):  # -> tuple[Recognizer, list[str]]
    model, inputs = split_model(args, what)
    return _recognizer(model, args), inputs


def _recognise(rec, samples, batch_size: int, keep_log_probs: bool = False):
    # -> tuple[dict[int, Decoded], list[tuple[int, SeqvisionError]]]
    """Read every sample: ``({index: decoded}, [(index, error)])`` for the lines that failed to load.

    Beam search runs on all cores, a block of lines at a time, after the network has read them
    (the network pass itself decodes greedily); the network's outputs are dropped once decoded
    unless ``keep_log_probs`` (tuning and calibration need them).
    """
    from seqvision.decoding.beam import DecoderSpec
    from seqvision.decoding.tune import decode_all

    spec = rec.decoder
    beam = spec.kind == "beam" and len(samples) > 1
    decoded_by_index, errors = {}, []
    pending: list = []  # (index, greedy result with log-probs) waiting for beam search

    def flush() -> None:
        lines, _ = decode_all(spec, [d.log_probs for _, d in pending], rec.alphabet, temperature=rec.temperature)
        for (i, old), new in zip(pending, lines, strict=True):
            new.width, new.log_probs = old.width, (old.log_probs if keep_log_probs else None)
            decoded_by_index[i] = new
        pending.clear()

    if beam:
        rec.set_decoder(DecoderSpec())
    try:
        with _progress(len(samples), "read") as bar:
            lines = rec.read_many(
                _page_loader(samples),
                len(samples),
                batch_size,
                on_batch=bar.update,
                keep_log_probs=keep_log_probs or beam,
            )
            for i, outcome in lines:
                if isinstance(outcome, SeqvisionError):
                    errors.append((i, outcome))
                elif beam:
                    pending.append((i, outcome))
                    if len(pending) >= 1024:
                        flush()
                else:
                    decoded_by_index[i] = outcome
            if pending:
                flush()
    finally:
        rec.set_decoder(spec)
    return decoded_by_index, errors


def _read_labelled(rec, data: str, batch_size: int, keep_log_probs: bool = False):
    # -> tuple[list[LineSample], list[Decoded], int, float]
    """Recognise every labelled line of ``data``; warns about skipped lines, fails when none is left."""
    from seqvision.data.readers import read_lines

    report = read_lines(data)
    samples, skipped = report.samples, list(report.skipped)
    start = time.perf_counter()
    decoded_by_index, errors = _recognise(rec, samples, batch_size, keep_log_probs)
    seconds = time.perf_counter() - start
    skipped += [str(e) for _, e in errors]
    for message in skipped[:5]:
        print(f"warning: skipped {message}", file=sys.stderr)
    if len(skipped) > 5:
        print(f"warning: ... {len(skipped) - 5} more lines skipped", file=sys.stderr)
    if not decoded_by_index:
        raise DataError(f"{data}: no readable labelled line ({len(skipped)} skipped)")
    order = sorted(decoded_by_index)
    return [samples[i] for i in order], [decoded_by_index[i] for i in order], len(skipped), seconds


def _tune(rec, samples, decoded) -> list[str]:
    """``eval --tune-lm``: grid-search weight and bonus, print the trials, switch ``rec`` to the best; best texts."""
    from seqvision.decoding.tune import decode_all, tune_lm

    spec = rec.decoder
    if not spec.lm:
        raise ConfigError("--tune-lm needs --lm ARPA (the language model whose weight to tune)")
    log_probs = [d.log_probs for d in decoded]
    references = [s.text for s in samples]
    print(f"tuning LM weight and bonus on {len(samples)} lines ({spec.describe()}):", file=sys.stderr)

    def show(t) -> None:
        print(
            f"  weight {t.lm_weight:<4g} bonus {t.bonus:<4g} CER {100 * t.cer:6.2f} %  WER {100 * t.wer:6.2f} %",
            file=sys.stderr,
        )

    best, _ = tune_lm(spec, log_probs, references, rec.alphabet, on_trial=show)
    print(f"best: --lm-weight {best.lm_weight:g} --lm-bonus {best.bonus:g}", file=sys.stderr)
    rec.set_decoder(best)
    return [d.text for d in decode_all(best, log_probs, rec.alphabet)[0]]


def evaluate(args: argparse.Namespace) -> int:
    from seqvision.metrics import ErrorRates

    model, inputs = split_model(args, "labelled data")
    if model_task(model) == "captioning":
        from seqvision.cli import captions

        return captions.evaluate(args, model, inputs)
    if model_task(model) == "video":
        from seqvision.cli import video

        return video.evaluate(args, model, inputs)
    if len(inputs) != 1:
        raise ConfigError(f"eval takes one data path after the model, got {len(inputs)}: {' '.join(inputs)}")
    rec = _recognizer(model, args)
    samples, decoded, skipped, seconds = _read_labelled(rec, inputs[0], args.batch_size, args.tune_lm)
    texts = _tune(rec, samples, decoded) if args.tune_lm else [d.text for d in decoded]
    unknown = rec.alphabet.unknown(s.text for s in samples)
    rates = ErrorRates()
    rows = []
    for sample, text in zip(samples, texts, strict=True):
        rates.update(text, sample.text)
        rows.append(f"{sample.source}\t{sample.text}\t{text}\n")
    if args.predictions:
        from seqvision.io import atomic_write_text

        try:
            atomic_write_text(args.predictions, "".join(rows))
        except OSError as exc:
            raise DataError(f"{args.predictions}: cannot write predictions ({exc.strerror or exc})") from None
    spec = rec.decoder
    result = {
        "model": str(rec.path),
        "backend": rec.backend,
        "decoder": spec.describe(),
        "data": str(inputs[0]),
        "cer": round(rates.cer, 5),
        "wer": round(rates.wer, 5),
        "lines": rates.lines,
        "chars": rates.chars,
        "words": rates.words,
        "skipped": skipped,
        "unknown_chars": sum(unknown.values()),
        "seconds": round(seconds, 3),
    }
    if spec.lm:
        result.update(lm=spec.lm, lm_weight=spec.lm_weight, lm_bonus=spec.bonus)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(
            f"CER {100 * rates.cer:.2f} %  WER {100 * rates.wer:.2f} %  on {rates.lines} lines "
            f"({skipped} skipped) in {seconds:.1f} s  [{spec.describe()}]"
        )
        if unknown:
            print(
                f"note: {sum(unknown.values())} reference character(s) are not in the model's alphabet: "
                + ", ".join(repr(c) for c, _ in unknown.most_common(8))
            )
    return 0


def calibrate(args: argparse.Namespace) -> int:
    from seqvision.calibration import fit_temperature, reliability_plot
    from seqvision.checkpoint import save_calibrated

    rec, inputs = _load_recognizer(args, "labelled data")
    if len(inputs) != 1:
        raise ConfigError(f"calibrate takes one data path after the model, got {len(inputs)}: {' '.join(inputs)}")
    if rec.path is None or rec.path.suffix == ".onnx":
        raise ConfigError("calibrate needs a saved model (.safetensors or bundled name), not an .onnx file")
    if "calibration" in rec.metadata:
        print(
            f"note: {rec.path.name} was calibrated before (T = {rec.temperature:.3f}); fitting again from T = 1",
            file=sys.stderr,
        )
        rec.metadata = {k: v for k, v in rec.metadata.items() if k != "calibration"}
        rec.set_decoder(rec.decoder)
    samples, decoded, _, _ = _read_labelled(rec, inputs[0], args.batch_size, keep_log_probs=True)
    log_probs, references = [d.log_probs for d in decoded], [s.text for s in samples]
    fit = fit_temperature(decoded, log_probs, references, rec.alphabet, rec.decode.char_confidences)
    record = {
        **fit.summary(),
        "method": "character confidence ** temperature, fitted by word-correctness NLL",
        "data": str(inputs[0]),
        "decoder": rec.decoder.describe(),
        "with_lm": bool(rec.decoder.lm),
    }
    out = save_calibrated(rec.path, args.out, record)
    if args.plot:
        reliability_plot(args.plot, {"before (T = 1)": fit.before, f"after (T = {fit.temperature:.2f})": fit.after})
    print(
        f"{out}  temperature {fit.temperature:.3f}: word-confidence ECE {100 * fit.ece_before:.2f} % -> "
        f"{100 * fit.ece_after:.2f} % on {fit.words} words ({100 * fit.accuracy:.1f} % right)"
    )
    return 0


def lm_build(args: argparse.Namespace) -> int:
    from seqvision.decoding.lm import NgramLM

    order = args.order if args.order is not None else (6 if args.unit == "char" else 3)
    if order < 1:
        raise ConfigError(f"--order must be at least 1, got {order}")
    texts = [t for name in args.corpus for t in _corpus_lines(name)]
    if not texts:
        raise DataError(f"{' '.join(args.corpus)}: no text to build a language model from")
    start = time.perf_counter()
    lm = NgramLM.build(texts, order, args.unit)
    lm.info["corpus"] = [str(Path(c)) for c in args.corpus]
    lm.save(args.out)
    sizes = ", ".join(f"{len(p)} {n}-grams" for n, p in enumerate(lm.probs, 1))
    print(
        f"{args.out}  ({args.unit} {order}-gram from {lm.info['lines']} lines, {lm.info['tokens']} tokens: "
        f"{sizes}; {time.perf_counter() - start:.1f} s)"
    )
    if args.val:
        val = _corpus_lines(args.val)
        print(f"perplexity per {args.unit} on {args.val}: {lm.perplexity(val):.3f} ({len(val)} lines)")
    return 0


def _corpus_lines(name: str) -> list[str]:
    """Lines of a plain-text file, or the transcriptions of labelled data (TSV, PAGE/ALTO, sidecar folders)."""
    from seqvision.data.readers import read_lines

    path = Path(name)
    if path.is_file() and path.suffix.lower() in ("", ".txt", ".text"):
        from seqvision.io import read_text_lines

        return [line.strip() for line in read_text_lines(path, "text file") if line.strip()]
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    return [s.text for s in read_lines(path).samples]


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


def _line_record(name: str, d) -> dict:
    """``read --format json``: text, confidences and x-ranges (pixels of the line image) per character and word."""
    spans = d.char_spans()
    chars = [
        {"char": c, "confidence": round(p, 4), "x0": a, "x1": b}
        for c, p, (a, b) in zip(d.text, d.char_confidences, spans, strict=True)
    ]
    words = [{"text": w.text, "confidence": round(w.confidence, 4), "x0": w.x0, "x1": w.x1} for w in d.words()]
    return {
        "image": name,
        "text": d.text,
        "confidence": round(d.confidence, 4),
        "width": d.width,
        "words": words,
        "chars": chars,
    }


def _read_page(rec, args: argparse.Namespace) -> int:
    """``read --page XML --out XML``: every line of a PAGE/ALTO file recognised into a new file of the same format."""
    from seqvision.data.page_writer import PageDocument

    if not args.out:
        raise ConfigError("--page needs --out OUT.xml (the input file is never modified)")
    doc = PageDocument.open(args.page, args.image)
    for message in doc.skipped:
        print(f"warning: {message}", file=sys.stderr)
    if not doc.lines:
        raise DataError(f"{args.page}: no text line with a usable polygon")
    crops = doc.crops()
    start = time.perf_counter()
    decoded = rec.read(crops, args.batch_size)
    for line, d in zip(doc.lines, decoded, strict=True):
        doc.fill(line, d)
    doc.fill_regions()
    doc.save(args.out)
    for message in doc.notes:
        print(f"note: {message}", file=sys.stderr)
    words = sum(len(d.words()) for d in decoded)
    print(
        f"{args.out}  ({doc.kind.upper() if doc.kind == 'alto' else 'PAGE'}: {len(doc.lines)} lines, {words} words "
        f"in {time.perf_counter() - start:.1f} s; {len(doc.skipped)} lines left as they were)"
    )
    return 0


def read(args: argparse.Namespace) -> int:
    fmt = "json" if args.json else (args.format or "txt")
    if args.json and args.format not in (None, "json"):
        raise ConfigError(f"--json and --format {args.format} disagree; give one")
    if args.page:
        if len(args.inputs) > 1 or (args.inputs and args.model):
            raise ConfigError("with --page, give at most a model before it (the lines come from the XML)")
        if args.format not in (None, "page", "alto"):
            raise ConfigError(f"--page writes the XML's own format; --format {args.format} does not apply")
        from seqvision.checkpoint import DEFAULT_MODEL

        rec = _recognizer(args.model or (args.inputs[0] if args.inputs else DEFAULT_MODEL), args)
        return _read_page(rec, args)
    if args.image:
        raise ConfigError("--image goes with --page (the page image of a PAGE/ALTO file)")
    if not args.inputs:
        raise ConfigError("give images, folders or TSV/PAGE/ALTO files to read (or --page XML)")
    if fmt in ("page", "alto") and not args.out:
        raise ConfigError(f"--format {fmt} writes one XML file per image: give --out FOLDER")
    model, inputs = split_model(args, "images")
    if model_task(model) == "captioning":
        from seqvision.cli import captions

        args.json = fmt == "json"
        return captions.caption(args)
    if model_task(model) == "video":
        from seqvision.cli import video

        args.json = fmt == "json"
        return video.read(args, model, inputs)
    rec = _recognizer(model, args)
    samples = _read_inputs(inputs)
    if fmt in ("page", "alto") and any(s.polygon is not None for s in samples):
        raise ConfigError(
            f"lines from PAGE/ALTO files keep their page: use --page XML --out OUT.xml, not --format {fmt}"
        )
    results, errors = _recognise(rec, samples, args.batch_size)
    for _, error in sorted(errors, key=lambda e: e[0]):
        print(f"seqvision: error: {error}", file=sys.stderr)
    failed = len(errors)
    if fmt in ("page", "alto"):
        _write_line_documents(samples, results, fmt, Path(args.out))
        return 1 if failed else 0
    out = []
    for i in sorted(results):
        d, name = results[i], samples[i].source
        if fmt == "json":
            out.append(json.dumps(_line_record(name, d), ensure_ascii=False))
        elif len(samples) > 1:
            out.append(f"{name}\t{d.text}")
        else:
            out.append(d.text)
    text = "".join(line + "\n" for line in out)
    if args.out:
        from seqvision.io import atomic_write_text

        try:
            atomic_write_text(args.out, text)
        except OSError as exc:
            raise DataError(f"{args.out}: cannot write ({exc.strerror or exc})") from None
    else:
        sys.stdout.write(text)
    return 1 if failed else 0


def _write_line_documents(samples, results, fmt: str, folder: Path) -> None:
    """``read --format page|alto``: one new one-line document per image, named after it, in ``folder``."""
    from seqvision.data.page_writer import PageDocument

    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder}: exists and is not a folder")
    names: set[str] = set()
    for i in sorted(results):
        image = Path(samples[i].image)
        name = f"{image.stem}.xml"
        if name in names:  # two inputs with the same stem from different folders: keep both
            name = f"{image.stem}-{i}.xml"
        names.add(name)
        d = results[i]
        doc = PageDocument.for_line_image(image, (int(d.width), _height(image)), fmt)
        doc.fill(doc.lines[0], d)
        doc.fill_regions()
        doc.save(folder / name)
    print(f"{folder}  ({len(results)} {fmt.upper() if fmt == 'alto' else 'PAGE'} files)", file=sys.stderr)


def _height(image: Path) -> int:
    from PIL import Image

    with Image.open(image) as img:
        return img.height


def export(args: argparse.Namespace) -> int:
    from seqvision.export import export_model

    out = Path(args.out)
    if out.suffix != ".onnx":
        raise ConfigError(f"{out}: the output file should end in .onnx")
    if model_task(args.model) == "captioning":
        raise ConfigError(
            f"{args.model}: ONNX export of captioning models is not supported yet (use the torch backend)"
        )
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
        max_beam_width=args.max_beam_width,
        lms=lms,
        lm_weight=args.lm_weight,
        lm_bonus=args.lm_bonus,
    )
    bundled = [DEFAULT_MODEL, *sorted(p.stem for p in BUNDLED.glob("*.json") if p.stem != DEFAULT_MODEL)]
    torch.set_num_threads(config.threads)
    app = create_app(load_models(args.models or bundled, args.backend, config.threads), config)
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
    print(
        f"serving {served} on {where}  ({config.workers} workers x {config.threads} threads, queue {config.queue}, "
        f"batches of up to {config.batch} lines); "
        f"page at /, API docs at /docs",
        file=sys.stderr,
        flush=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, log_level=args.log_level, access_log=args.access_log, timeout_graceful_shutdown=5)
    )
    server.run(sockets=[sock])
    return 0


def compare(args: argparse.Namespace) -> int:
    from seqvision.compare import Study, run_study
    from seqvision.compare.report import write_reports

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
    out = Path(args.out)
    cells = run_study(study, out, progress=args.progress)
    rows = write_reports(study, cells, out)
    for r in rows:
        print(f"{r['sequence']:12s} {r['metric']} {r['mean']:.4f} ± {r['std']:.4f}  {r['latency_ms_batch1']:.2f} ms")
    print(f"results: {out / 'results.md'}")
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
