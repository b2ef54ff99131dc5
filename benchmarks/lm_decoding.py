"""Greedy vs beam search vs beam search with a language model, and confidence calibration, on real lines.

The LMs (character and word n-grams) and the lexicon are built from the *training* transcriptions
only. Validation lines are split in two halves by index: weights and temperatures are fitted on
half A and reported on half B (held out from every choice), and on all of val for reference.
The network runs once; every decoder then reads the same log-probabilities.

    python benchmarks/lm_decoding.py                      # hooker-en on ../shared/data/hooker
    python benchmarks/lm_decoding.py --limit 200          # quicker
    python benchmarks/lm_decoding.py --model print-en --train ../shared/data/printed/ehri_en/train \
        --val ../shared/data/printed/ehri_en/val --orders 5 --out benchmarks/results/lm_decoding_print-en.json

One thread throughout (the network, and decoding in this process). The character-LM search runs
twice more on every line, compiled (numba) and through flashlight + the Python LM (the reference),
to report both speeds (CPU ms/line, after a first call that compiles) and that they agree.

Writes ``benchmarks/results/lm_decoding.json`` and a reliability diagram PNG.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

from seqvision.data.images import load_line
from seqvision.data.readers import read_lines
from seqvision.tasks.lines.calibration import (
    expected_calibration_error,
    fit_temperature,
    matched_words,
    reliability_plot,
    word_confidences,
)
from seqvision.tasks.lines.decoding.beam import BeamSearch, DecoderSpec, make_decoder
from seqvision.tasks.lines.decoding.lm import NgramLM
from seqvision.tasks.lines.decoding.tune import decode_all, score, tune_lm
from seqvision.tasks.lines.predictor import Recognizer

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "hooker"
RESULTS = ROOT / "benchmarks" / "results"


def ece_of(decoded, log_probs, refs, decoder, temperature: float) -> tuple[float, list[float], list[bool]]:
    confs: list[float] = []
    right: list[bool] = []
    for d, lp, ref in zip(decoded, log_probs, refs, strict=True):
        confs += word_confidences(d, lp, decoder.alphabet, temperature, decoder.char_confidences)
        right += matched_words(d.text.split(), ref.split())
    return expected_calibration_error(confs, right), confs, right


def compare_engines(spec: DecoderSpec, log_probs, refs, alphabet) -> dict:
    """Decode every line with the compiled search and with flashlight + the Python LM: speed and agreement."""
    found, engines = {}, {}
    for name, native in (("flashlight + Python LM", False), ("compiled (numba)", True)):
        start = time.perf_counter()
        search = BeamSearch(spec, alphabet, native=native)
        search(log_probs[0], len(log_probs[0]))  # loads the LM, builds the table, compiles (or loads the cache)
        first = time.perf_counter() - start
        start = time.process_time()
        lines = [search(lp, len(lp)) for lp in log_probs]
        cpu = time.process_time() - start
        found[name] = (lines, [search.search(lp) for lp in log_probs])
        engines[name] = {
            "ms_per_line": 1000 * cpu / len(log_probs),
            "first_call_s": first,
            "cer": score([d.text for d in lines], refs).cer,
        }
    (ref_lines, ref_best), (lines, best) = found.values()
    return {
        "spec": spec.describe(),
        "engines": engines,
        "speedup": engines["flashlight + Python LM"]["ms_per_line"] / engines["compiled (numba)"]["ms_per_line"],
        "identical_texts": sum(a.text == b.text for a, b in zip(ref_lines, lines, strict=True)),
        "identical_paths": sum(bool((a[0] == b[0]).all()) for a, b in zip(ref_best, best, strict=True)),
        "max_abs_score_diff": max(abs(a[1] - b[1]) for a, b in zip(ref_best, best, strict=True)),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="hooker-en")
    p.add_argument("--train", default=str(DATA / "train"))
    p.add_argument("--val", default=str(DATA / "val"))
    p.add_argument("--orders", default="3,4,5,6,7,8", help="character LM orders to compare by val perplexity")
    p.add_argument("--word-order", type=int, default=3)
    p.add_argument("--beam-width", type=int, default=16)
    p.add_argument("--limit", type=int, default=0, help="at most this many val lines (0: all)")
    p.add_argument("--threads", type=int, default=1, help="torch threads and decoding processes")
    p.add_argument("--out", default=str(RESULTS / "lm_decoding.json"))
    args = p.parse_args()
    if not Path(args.val).exists():
        print(f"no data at {args.val}: this benchmark needs ../shared/data/hooker", file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)

    train_texts = [s.text for s in read_lines(args.train).samples]
    val = read_lines(args.val).samples
    if args.limit:
        val = val[: args.limit]
    refs = [s.text for s in val]
    tmp = Path(tempfile.mkdtemp(prefix="seqvision-lm-"))

    # -- language models from the training transcriptions -----------------------------------------
    perplexities = {}
    for order in (int(o) for o in args.orders.split(",")):
        perplexities[order] = NgramLM.build(train_texts, order, "char").perplexity(refs)
    order = min(perplexities, key=perplexities.get)
    start = time.perf_counter()
    char_lm = NgramLM.build(train_texts, order, "char")
    build_s = time.perf_counter() - start
    char_lm.save(tmp / "char.arpa")
    NgramLM.build(train_texts, args.word_order, "word").save(tmp / "word.arpa")
    (tmp / "lexicon.txt").write_text("\n".join(sorted({w for t in train_texts for w in t.split()})), encoding="utf-8")
    print(
        f"character LM: order {order} (val perplexity by order: "
        + ", ".join(f"{k}: {v:.2f}" for k, v in perplexities.items())
        + f"), built in {build_s:.1f} s"
    )

    # -- the network, once ---------------------------------------------------------------------------
    rec = Recognizer.load(args.model)
    arrays = [rec.prepare(load_line(s)) for s in val]
    start = time.perf_counter()
    log_probs = rec.log_probs(arrays, batch_size=16)
    network_ms = 1000 * (time.perf_counter() - start) / len(val)
    half_a = list(range(0, len(val), 2))
    half_b = list(range(1, len(val), 2))

    def pick(items, idx):
        return [items[i] for i in idx]

    # -- decoders --------------------------------------------------------------------------------------
    char_spec = DecoderSpec("beam", args.beam_width, str(tmp / "char.arpa"), lm_weight=0.8, bonus=2.0)
    start = time.perf_counter()
    tuned, trials = tune_lm(char_spec, pick(log_probs, half_a), pick(refs, half_a), rec.alphabet, workers=args.threads)
    tune_s = time.perf_counter() - start
    word_spec = DecoderSpec("beam", args.beam_width, str(tmp / "word.arpa"), lm_weight=0.5, bonus=1.0)
    word_tuned, _ = tune_lm(
        word_spec,
        pick(log_probs, half_a),
        pick(refs, half_a),
        rec.alphabet,
        weights=(0.2, 0.5, 1.0),
        bonuses=(0.0, 1.0, 2.0, 4.0),
        workers=args.threads,
    )
    configs = {
        "greedy": DecoderSpec(),
        f"beam {args.beam_width}": DecoderSpec("beam", args.beam_width),
        "beam + lexicon": DecoderSpec("beam", args.beam_width, lexicon=str(tmp / "lexicon.txt")),
        f"beam + word {args.word_order}-gram (tuned on A)": word_tuned,
        f"beam + char {order}-gram (defaults 0.8/2)": char_spec,
        f"beam + char {order}-gram (tuned on A)": tuned,
    }
    rows = []
    decoded_by = {}
    for name, spec in configs.items():
        lines, cpu_s = decode_all(spec, log_probs, rec.alphabet, workers=args.threads)
        decoded_by[name] = lines
        texts = [d.text for d in lines]
        all_rates, b_rates = score(texts, refs), score(pick(texts, half_b), pick(refs, half_b))
        rows.append(
            {
                "decoder": name,
                "spec": spec.describe(),
                "cer": all_rates.cer,
                "wer": all_rates.wer,
                "cer_b": b_rates.cer,
                "wer_b": b_rates.wer,
                "decode_ms_per_line": 1000 * cpu_s / len(val),
            }
        )
    greedy_b = rows[0]["cer_b"]
    print(
        f"\n{args.model} on {len(val)} lines of {args.val} (network {network_ms:.1f} ms/line, {args.threads} thread(s))"
    )
    print(f"{'decoder':44s} {'CER':>7s} {'WER':>7s} {'CER B':>7s} {'WER B':>7s} {'rel. B':>7s} {'ms/line':>8s}")
    for r in rows:
        rel = (r["cer_b"] - greedy_b) / greedy_b
        r["relative_cer_b"] = rel
        print(
            f"{r['decoder']:44s} {100 * r['cer']:6.2f}% {100 * r['wer']:6.2f}% {100 * r['cer_b']:6.2f}% "
            f"{100 * r['wer_b']:6.2f}% {100 * rel:+6.1f}% {r['decode_ms_per_line']:8.1f}"
        )

    # -- the character-LM search compiled vs flashlight + the Python LM ------------------------------
    engines = compare_engines(char_spec, log_probs, refs, rec.alphabet)
    engines["tune_lm_s"], engines["tune_lm_trials"], engines["tune_lm_lines"] = tune_s, len(trials), len(half_a)
    print(f"\n{char_spec.describe()}: decoding alone, one thread, CPU ms/line")
    print(f"{'search':28s} {'ms/line':>8s} {'first call':>10s} {'CER':>7s}")
    for name, e in engines["engines"].items():
        print(f"{name:28s} {e['ms_per_line']:8.2f} {e['first_call_s']:9.2f}s {100 * e['cer']:6.2f}%")
    print(
        f"same text on {engines['identical_texts']}/{len(val)} lines, same path on {engines['identical_paths']}; "
        f"largest score difference {engines['max_abs_score_diff']:.2e}; "
        f"tune_lm ({len(trials)} trials on {len(half_a)} lines): {tune_s:.1f} s"
    )

    # -- calibration: fit T on A, measure ECE on B ------------------------------------------------
    calibration = {}
    plot_curves = {}
    for name in ("greedy", f"beam + char {order}-gram (tuned on A)"):
        lines, decoder = decoded_by[name], make_decoder(configs[name], rec.alphabet)
        a = (pick(lines, half_a), pick(log_probs, half_a), pick(refs, half_a))
        b = (pick(lines, half_b), pick(log_probs, half_b), pick(refs, half_b))
        fit = fit_temperature(*a, rec.alphabet, decoder.char_confidences)
        ece_b0, c0, r0 = ece_of(*b, decoder, 1.0)
        ece_b1, c1, r1 = ece_of(*b, decoder, fit.temperature)
        full = fit_temperature(lines, log_probs, refs, rec.alphabet, decoder.char_confidences)
        calibration[name] = {
            "temperature_from_A": fit.temperature,
            "ece_B_before": ece_b0,
            "ece_B_after": ece_b1,
            "words_B": len(r0),
            "temperature_all_val": full.temperature,
            "ece_all_before": full.ece_before,
            "ece_all_after": full.ece_after,
        }
        short = "greedy" if name == "greedy" else "char LM"
        plot_curves[f"{short}, T = 1"] = (c0, r0)
        plot_curves[f"{short}, T = {fit.temperature:.2f}"] = (c1, r1)
    print("\nword-confidence calibration (temperature fitted on half A, ECE on half B):")
    for name, c in calibration.items():
        print(
            f"  {name:40s} T = {c['temperature_from_A']:.3f}: ECE {100 * c['ece_B_before']:.2f} % -> "
            f"{100 * c['ece_B_after']:.2f} % on {c['words_B']} words "
            f"(all val: T = {c['temperature_all_val']:.3f}, {100 * c['ece_all_before']:.2f} % -> "
            f"{100 * c['ece_all_after']:.2f} %)"
        )
    png = Path(args.out).with_name(f"{args.model}-reliability.png")
    reliability_plot(png, plot_curves)
    result = {
        "model": args.model,
        "val": args.val,
        "lines": len(val),
        "char_lm_order": order,
        "char_lm_perplexity_by_order": perplexities,
        "network_ms_per_line": network_ms,
        "decoders": rows,
        "char_lm_search": engines,
        "calibration": calibration,
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"\n{args.out}\n{png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
