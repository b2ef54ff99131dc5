"""Build the character 5-gram that print-en's beam search uses in docs/models.md.

    python examples/print_lm.py [--data ../shared/data/printed] [--out lm/print-en-5.arpa]

The corpus is the English prose the line synthesiser draws from (the ``fortunes`` and
``base-files`` licence texts, one passage per line, written to ``lm/prose.txt``) plus the
transcriptions of the real printed training lines (``ehri_en/train``, ``gt4hist_en/train``);
never their val lines. Takes about 30 s and writes a 13 MB ARPA file; use it with
``seqvision read print-en LINE --beam 16 --lm lm/print-en-5.arpa``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqvision.cli.main import main as seqvision
from seqvision.io import atomic_write_text
from seqvision.tasks.lines.synth.text import load_corpus

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "printed")
    p.add_argument("--out", type=Path, default=ROOT / "lm" / "print-en-5.arpa")
    p.add_argument("--order", type=int, default=5)
    args = p.parse_args(argv)
    corpora = [args.data / name / "train" for name in ("ehri_en", "gt4hist_en")]
    missing = [str(c) for c in corpora if not (c / "labels.tsv").exists()]
    if missing:
        print(f"print_lm: no labels.tsv in {', '.join(missing)} (see ../shared/data/README.md)", file=sys.stderr)
        return 1
    prose = args.out.parent / "prose.txt"
    prose.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(prose, "\n".join(" ".join(words) for words in load_corpus().passages) + "\n")
    argv = ["lm", "build", str(prose), *map(str, corpora), "--order", str(args.order), "--out", str(args.out)]
    return seqvision(argv)


if __name__ == "__main__":
    sys.exit(main())
