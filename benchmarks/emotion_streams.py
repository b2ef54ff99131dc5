"""Which stream, which fusion, which sequence model: the emotion task on generated clips (docs/emotion.md).

Trains one model per row from the same command with ``--set`` only (streams video / audio / both, late
fusion vs the weighted sum, sequence none / lstm / gru / tcn / transformer) on one thread, then scores
each on held-out actors with ``seqvision eval``. Generated data (``synth-emotion``), never real faces::

    python benchmarks/emotion_streams.py OUT [--epochs 20] [--actors 4] [--rows lstm]

``--actors`` training actors of 16 clips each (validation: 2 other actors, 24 clips each;
``synth-emotion --clips`` counts clips per emotion); ``--rows`` keeps the rows whose name contains
that text. The table is printed and
written as JSON into ``OUT/results-eEPOCHS-aACTORS.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
from pathlib import Path

from seqvision.cli.main import main

ROWS = [  # name, overrides
    ("video / lstm", ["data.emotion.streams=video"]),
    ("audio / lstm", ["data.emotion.streams=audio"]),
    ("both, sum / lstm", ["data.emotion.fusion=sum"]),
    *[(f"both, late / {s}", [f"model.sequence.name={s}"]) for s in ("none", "lstm", "gru", "tcn", "transformer")],
]


def run(out: Path, epochs: int, actors: int, rows: str) -> None:
    data = out / "data" / f"actors{actors}"
    train, val = data / "train", data / "val"
    if not (train / "clips.csv").exists():  # the training actors, then 2 new ones for validation
        main(["synth-emotion", "--out", str(train), "--clips", str(4 * actors), "--actors", str(actors), "--seed", "0"])
        new = ["--actors", "2", "--first-actor", str(actors + 1), "--seed", "1"]
        main(["synth-emotion", "--out", str(val), "--clips", "12", *new])
    print(f"{epochs} epochs, {actors} training actors")
    print("| model | params | val UAR | video alone | audio alone | train s |")
    print("|---|---|---|---|---|---|")
    results = []
    for name, overrides in [r for r in ROWS if rows in r[0]]:
        folder = out / "runs" / f"e{epochs}-a{actors}" / name.replace(" ", "").replace("/", "-").replace(",", "-")
        start = time.perf_counter()
        if not (folder / "model.safetensors").exists():
            argv = ["train", "--task", "emotion", "--train", str(train), "--val", str(val), "--out", str(folder)]
            argv += ["--epochs", str(epochs), "--threads", "1", "--seed", "0", "--quiet"]
            argv += ["--set=data.num_workers=0", "--set=data.batch_size=16", "--set=train.patience=100"]
            if main(argv + [f"--set={o}" for o in overrides]) != 0:
                print(f"| {name} | training failed (see above) | | | | |", flush=True)
                continue
        seconds = time.perf_counter() - start
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            main(["eval", str(folder), str(val), "--json", "--threads", "1"])
        result = json.loads(buffer.getvalue())
        params = json.loads((folder / "model.json").read_text(encoding="utf-8"))["parameters"]
        alone = result.get("stream_uar", {})
        cells = [f"{100 * alone[s]:.1f} %" if s in alone else "-" for s in ("video", "audio")]
        print(
            f"| {name} | {params / 1e3:.0f} k | {100 * result['uar']:.1f} % | {' | '.join(cells)} | {seconds:.0f} |",
            flush=True,
        )
        results.append({"model": name, "parameters": params, "uar": result["uar"], "stream_uar": alone})
        results[-1]["train_seconds"] = round(seconds, 1)
    summary = {"epochs": epochs, "train_actors": actors, "train_clips": 16 * actors, "val_clips": 48, "rows": results}
    (out / f"results-e{epochs}-a{actors}.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--actors", type=int, default=4, help="training actors (16 clips each)")
    parser.add_argument("--rows", default="", help="only the rows whose name contains this")
    args = parser.parse_args()
    run(args.out, args.epochs, args.actors, args.rows)
