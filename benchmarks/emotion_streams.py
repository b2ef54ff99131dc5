"""Which stream, which fusion, which sequence model: the emotion task on generated clips (docs/emotion.md).

Trains one model per row from the same command with ``--set`` only (streams video / audio / both, late
fusion vs the weighted sum, sequence none / lstm / gru / tcn / transformer) on one thread, then scores
each on held-out actors with ``seqvision eval``. Generated data (``synth-emotion``), never real faces::

    python benchmarks/emotion_streams.py OUT [EPOCHS]
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from pathlib import Path

from seqvision.cli.main import main

ROWS = [  # name, overrides
    ("video / lstm", ["data.emotion.streams=video"]),
    ("audio / lstm", ["data.emotion.streams=audio"]),
    ("both, sum / lstm", ["data.emotion.fusion=sum"]),
    *[(f"both, late / {s}", [f"model.sequence.name={s}"]) for s in ("none", "lstm", "gru", "tcn", "transformer")],
]


def run(out: Path, epochs: int) -> None:
    train, val = out / "data" / "train", out / "data" / "val"
    if not (train / "clips.csv").exists():  # 4 train actors, 2 new ones for validation
        main(["synth-emotion", "--out", str(train), "--clips", "16", "--actors", "4", "--seed", "0"])
        main(
            ["synth-emotion", "--out", str(val), "--clips", "12", "--actors", "2", "--first-actor", "5", "--seed", "1"]
        )
    print("| model | params | val UAR | video alone | audio alone | train s |")
    print("|---|---|---|---|---|---|")
    for name, overrides in ROWS:
        folder = out / "runs" / name.replace(" ", "").replace("/", "-").replace(",", "-")
        start = time.perf_counter()
        if not (folder / "model.safetensors").exists():
            argv = ["train", "--task", "emotion", "--train", str(train), "--val", str(val), "--out", str(folder)]
            argv += ["--epochs", str(epochs), "--threads", "1", "--seed", "0", "--quiet"]
            argv += ["--set=data.num_workers=0", "--set=data.batch_size=16", "--set=train.patience=100"]
            main(argv + [f"--set={o}" for o in overrides])
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


if __name__ == "__main__":
    run(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 20)
