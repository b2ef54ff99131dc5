"""Build print-en's training list: synthetic lines plus the real scene-text word crops, twice each.

    seqvision synth --out data/synth-train --lines 100000 --seed 1 --held-out exclude --height 32
    seqvision synth --out data/synth-val --lines 1000 --seed 2 --held-out exclude --height 32
    python examples/print_en_data.py data/synth-train ../shared/data/scene --out data/train.tsv
    seqvision train --config configs/print-en.yaml --out runs/print-en

Scene words whose text has a character outside the synthetic alphabet are left out.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from seqvision.data.readers import read_tsv
from seqvision.io import atomic_write_text
from seqvision.tasks.lines.synth import CHARSET


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("synthetic", type=Path, help="folder written by `seqvision synth`")
    parser.add_argument("scene", type=Path, help="folder holding iiit5k_train, svt_train, ic15_train")
    parser.add_argument("--repeat", type=int, default=2, help="copies of each real word crop")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = [f"{s.image.resolve()}\t{s.text}\n" for s in read_tsv(args.synthetic / "labels.tsv").samples]
    real = []
    for name in ("iiit5k_train", "svt_train", "ic15_train"):
        samples = read_tsv(args.scene / name / "labels.tsv").samples
        real += [f"{s.image.resolve()}\t{s.text}\n" for s in samples if set(s.text) <= set(CHARSET)]
    atomic_write_text(args.out, "".join(rows + real * args.repeat))
    print(f"{args.out}: {len(rows)} synthetic + {len(real)} x {args.repeat} real lines")


if __name__ == "__main__":
    main()
