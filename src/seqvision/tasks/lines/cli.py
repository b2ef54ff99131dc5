"""Text-line recognition commands: ``eval`` and ``calibrate``, and the recognition loop they share
with ``read`` (batched network pass, beam search on all cores, skipped lines)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from types import SimpleNamespace

from seqvision.cli.common import require_one_input, set_threads, split_model, warn_skipped, write_predictions
from seqvision.errors import ConfigError, DataError, SeqvisionError


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
    if total < 64:  # a short job: no bar, and no tqdm import (a one-line read)
        return contextlib.nullcontext(SimpleNamespace(update=lambda n=1: None))
    from tqdm import tqdm

    return tqdm(total=total, desc=what, unit="line", file=sys.stderr, disable=None)


def decoder_spec(args: argparse.Namespace):  # -> DecoderSpec
    """The ``--decoder/--beam-width/--lm/...`` flags; ``--lm`` or ``--lexicon`` alone mean beam search."""
    from seqvision.tasks.lines.decoding.beam import DecoderSpec

    kind = args.decoder or ("beam" if args.lm or args.lexicon else "greedy")
    return DecoderSpec(kind, args.beam_width, args.lm, args.lm_weight, args.lm_bonus, args.lexicon)


def recognizer_for(model: str, args: argparse.Namespace):  # -> Recognizer
    """The model with the ``--backend/--threads`` and decoding flags applied."""
    from seqvision.tasks.lines.predictor import Recognizer

    rec = Recognizer.load(model, args.backend, args.threads)
    if rec.backend == "torch":  # an onnxruntime session took --threads when it was made (and needs no torch)
        set_threads(args.threads)
    rec.set_decoder(decoder_spec(args))
    notes = (rec.decode.note, getattr(args, "func", None) is not calibrate and rec.calibration_note)
    print(*(f"note: {n}\n" for n in notes if n), sep="", end="", file=sys.stderr)
    return rec


def _load_recognizer(args: argparse.Namespace, what: str):  # -> tuple[Recognizer, list[str]]
    model, inputs = split_model(args, what)
    return recognizer_for(model, args), inputs


def recognise(rec, samples, batch_size: int, keep_log_probs: bool = False, load=None, text_only: bool = False):
    # -> tuple[dict[int, Decoded], list[tuple[int, SeqvisionError]]]
    """Read every sample: ``({index: decoded}, [(index, error)])`` for the lines that failed to load.

    Beam search runs on all cores, a block of lines at a time, after the network has read them
    (the network pass itself decodes greedily); the network's outputs are dropped once decoded
    unless ``keep_log_probs`` (tuning and calibration need them). ``text_only`` keeps just the text and
    confidence of each line (``eval``: memory stays small for 100k lines), not the per-character details.
    """
    from seqvision.tasks.lines.decoding.beam import DecoderSpec
    from seqvision.tasks.lines.decoding.ctc import Decoded

    spec = rec.decoder
    beam = spec.kind == "beam" and len(samples) > 1
    decoded_by_index, errors = {}, []
    pending: list = []  # (index, greedy result with log-probs) waiting for beam search

    def flush() -> None:
        from seqvision.tasks.lines.decoding.tune import decode_all  # process pools: only for beam search

        lines, _ = decode_all(spec, [d.log_probs for _, d in pending], rec.alphabet, temperature=rec.temperature)
        for (i, old), new in zip(pending, lines, strict=True):
            new.width, new.log_probs = old.width, (old.log_probs if keep_log_probs else None)
            decoded_by_index[i] = Decoded(new.text, new.confidence) if text_only else new
        pending.clear()

    if beam:
        rec.set_decoder(DecoderSpec())
    try:
        with _progress(len(samples), "read") as bar:
            lines = rec.read_many(
                load or _page_loader(samples),
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
                    decoded_by_index[i] = Decoded(outcome.text, outcome.confidence) if text_only else outcome
            if pending:
                flush()
    finally:
        rec.set_decoder(spec)
    return decoded_by_index, errors


def _read_labelled(rec, data: str, batch_size: int, keep_log_probs: bool = False, text_only: bool = False):
    # -> tuple[list[LineSample], list[Decoded], int, float]
    """Recognise every labelled line of ``data``; warns about skipped lines, fails when none is left."""
    from seqvision.data.readers import read_input
    from seqvision.tasks.lines.shards import ShardImages, ShardIndex, is_shards

    start = time.perf_counter()
    if is_shards(data):  # streamed from the shards (the transcriptions in memory, never the images)
        shards = ShardImages(ShardIndex.load(data))
        samples, skipped = shards.samples, []
        start = time.perf_counter()
        try:
            decoded_by_index, errors = recognise(
                rec, samples, batch_size, keep_log_probs, load=shards.load, text_only=text_only
            )
        finally:
            shards.close()
    else:
        report = read_input(data)  # "caseless:PATH" scores without case
        samples, skipped = report.samples, list(report.skipped)
        start = time.perf_counter()
        decoded_by_index, errors = recognise(rec, samples, batch_size, keep_log_probs, text_only=text_only)
    seconds = time.perf_counter() - start
    skipped += [str(e) for _, e in errors]
    warn_skipped(skipped, "lines")
    if not decoded_by_index:
        raise DataError(f"{data}: no readable labelled line ({len(skipped)} skipped)")
    order = sorted(decoded_by_index)
    return [samples[i] for i in order], [decoded_by_index[i] for i in order], len(skipped), seconds


def _tune(rec, samples, decoded) -> list[str]:
    """``eval --tune-lm``: grid-search weight and bonus, print the trials, switch ``rec`` to the best; best texts."""
    from seqvision.tasks.lines.decoding.tune import decode_all, tune_lm

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


def evaluate(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    """``seqvision eval`` of a text-line model: CER and WER on one labelled data set."""
    from seqvision.tasks.lines.metrics import ErrorRates

    require_one_input(inputs)
    rec = recognizer_for(model, args)
    tune = args.tune_lm
    samples, decoded, skipped, seconds = _read_labelled(rec, inputs[0], args.batch_size, tune, text_only=not tune)
    texts = _tune(rec, samples, decoded) if tune else [d.text for d in decoded]
    unknown = rec.alphabet.unknown(s.text for s in samples)
    rates, rows = ErrorRates(), []
    for sample, text in zip(samples, texts, strict=True):
        fold = rec.alphabet.fold_case if sample.caseless else str  # caseless:PATH is scored case-folded
        rates.update(fold(text), fold(sample.text))
        rows.append(f"{sample.source}\t{sample.text}\t{text}\n")
    if args.predictions:
        write_predictions(args.predictions, rows)
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
    from seqvision.checkpoint import save_calibrated
    from seqvision.tasks.lines.calibration import check_plotting, fit_temperature, reliability_plot

    if args.plot:
        check_plotting()  # before the work: the diagram was asked for
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
