"""Sound handlers: ``synth-sound``, and ``eval`` / ``read`` (alias ``predict``) when the model is a sound model."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqvision.cli.common import (
    add_frame_options,
    add_scene_options,
    eval_result,
    given,
    print_clip,
    print_each,
    print_json,
    print_written,
    require_found,
    require_one_input,
    succeeded,
    warn_skipped,
)
from seqvision.errors import ConfigError, DataError

if TYPE_CHECKING:
    from seqvision.tasks.sound.predictor import SoundPrediction


def synth_sound(args: argparse.Namespace) -> int:
    from seqvision.tasks.sound.synth import write_sound_clips

    options = given(args, "frames", "size", "fps", "rate", "groups", "first_group", "seed", "container")
    return print_written(lambda: write_sound_clips(args.out, args.clips, **options))


def clip_paths(inputs: list[str]) -> list[Path]:
    """Video files as given; CSV/TSV lists and folders -> the clips they hold."""
    from seqvision.data.clip_lists import expand_clip_inputs
    from seqvision.tasks.sound.clips import read_sound_clips

    return expand_clip_inputs(inputs, lambda source: [s.path for s in read_sound_clips(source).samples])


def read(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    """Predict each clip's sound from its pictures; write ``OUT/NAME.wav`` (Griffin-Lim) and, when the model's
    sound bank is beside it, ``OUT/NAME.nearest.wav`` (the nearest training sound)."""
    from seqvision.tasks.sound.features import write_wav
    from seqvision.tasks.sound.predictor import SoundPredictor

    if not args.out:
        raise ConfigError("a sound model writes .wav files: pass --out FOLDER")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: --out must be a folder for a sound model's .wav files")
    predictor = SoundPredictor.load(model, args.backend, args.threads)
    paths = require_found(clip_paths(inputs), inputs, "video files")
    out.mkdir(parents=True, exist_ok=True)
    rate = predictor.features.rate

    def write(i: int, outcome: SoundPrediction) -> None:
        record = predictor.to_json(outcome)
        wav = out / f"{paths[i].stem}.wav"
        write_wav(wav, predictor.griffin_lim(outcome), rate)
        record["wav"] = str(wav)
        nearest = predictor.retrieve(outcome)
        if nearest is not None:
            record["nearest"]["wav"] = str(out / f"{paths[i].stem}.nearest.wav")
            write_wav(record["nearest"]["wav"], nearest[0], rate)
        times = " ".join(f"{t:.2f}" for t in record["onsets"]) or "none"
        near = f"; nearest training sound {Path(nearest[1]).name}" if nearest else ""
        print_clip(args.json, paths[i], record, f"{wav}  ({record['seconds']:.2f} s, onsets at {times} s{near})")

    return print_each(predictor.predict_many(paths, max(1, min(args.batch_size, 8))), write)


def evaluate(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    """The feature loss against a "mean sound" baseline, and onset accuracy, on clips with their real audio."""
    from seqvision.tasks.sound.clips import read_sound_clips
    from seqvision.tasks.sound.dataset import probe_all
    from seqvision.tasks.sound.metrics import SoundScores
    from seqvision.tasks.sound.predictor import SoundPredictor

    require_one_input(inputs)
    predictor = SoundPredictor.load(model, args.backend, args.threads)
    report = read_sound_clips(inputs[0])
    start = time.perf_counter()
    clips, skipped = probe_all(report.samples, predictor.features)
    skipped = list(report.skipped) + skipped
    scores = SoundScores(str(predictor.metadata["sound"].get("loss", "l1")))
    truth = {c.sample.path: c for c in clips}
    predictions = predictor.predict_many([c.sample.path for c in clips], max(1, min(args.batch_size, 8)))
    for i, outcome in succeeded(predictions, skipped):
        clip = truth[clips[i].sample.path]
        n = min(len(outcome.features), len(clip.features))
        scores.update(outcome.features[:n], clip.features[:n], predictor.mean, outcome.fps * predictor.features.steps)
    seconds = time.perf_counter() - start
    warn_skipped(skipped)
    if not scores.clips:
        first = f"; first: {skipped[0]}" if skipped else ""
        raise DataError(f"{inputs[0]}: no readable clip with sound ({len(skipped)} skipped{first})")
    s = scores.summary()
    summary = {"loss": scores.loss} | {k: round(v, 5) for k, v in s.items()} | {"clips": scores.clips}
    result = eval_result(predictor, inputs[0], summary, skipped, seconds)
    if args.json:
        return print_json(result)
    gain = 100 * (1 - s["loss"] / s["mean_sound_loss"]) if s["mean_sound_loss"] else 0.0
    print(
        f"{scores.loss} loss {s['loss']:.4f}  (mean sound {s['mean_sound_loss']:.4f}: {gain:.1f} % lower)  "
        f"on {scores.clips} clips ({len(skipped)} skipped) in {seconds:.1f} s"
    )
    print(
        f"onset accuracy {s['onset_accuracy']:.3f}  (precision {s['onset_precision']:.3f}, recall "
        f"{s['onset_recall']:.3f}, {int(s['true_onsets'])} true onsets; mean sound: 0)"
    )
    return 0


def add_parsers(sub: Any, after: str) -> None:
    """``seqvision synth-sound``, listed after ``export``."""
    if after != "export":
        return
    p = sub.add_parser("synth-sound", help="write synthetic clips with sound (a stick hits wood, metal, glass, cloth)")
    p.add_argument("--out", required=True, help="folder to write (MATERIAL/*.mkv, clips.csv, synth-sound.json)")
    p.add_argument("--clips", type=int, default=40, help="clips per material (default 40)")
    add_frame_options(p, frames=24)
    p.add_argument("--fps", type=float, default=16.0, help="frame rate (default 16)")
    p.add_argument("--rate", type=int, default=16000, help="audio samples per second (default 16000)")
    add_scene_options(p, groups=4)
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same clips")
    p.add_argument("--container", choices=["mkv", "mp4", "avi"], default="mkv", help="mkv: x264 + PCM; mp4: AAC")
    p.set_defaults(func=synth_sound)
