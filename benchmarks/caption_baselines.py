"""Trivial captioning baselines on a val set, scored like ``seqvision eval``, so a model's figure means something.

- most frequent caption: the training caption (after tokenisation) written most often, for every photo;
- nearest neighbour: the photo of the training set closest in a 16x16 colour thumbnail (cosine), and
  of its captions the one that agrees most (word-overlap F1) with its other captions.

    python benchmarks/caption_baselines.py ../shared/data/flickr8k/train ../shared/data/flickr8k/val
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

import numpy as np

from seqvision.tasks.captioning.captions import load_image, read_captions
from seqvision.tasks.captioning.metrics import caption_scores
from seqvision.tasks.captioning.vocab import tokenize


def thumbnails(samples) -> np.ndarray:
    x = np.stack([load_image(s.image, 16).astype(np.float32).ravel() for s in samples])
    x -= x.mean(1, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)


def overlap(a: str, b: str) -> float:
    ca, cb = Counter(tokenize(a)), Counter(tokenize(b))
    common = sum((ca & cb).values())
    return 0.0 if not common else 2 * common / (sum(ca.values()) + sum(cb.values()))


def consensus(captions: tuple[str, ...]) -> str:
    return max(captions, key=lambda c: sum(overlap(c, o) for o in captions if o is not c))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("train")
    ap.add_argument("val")
    args = ap.parse_args()
    train, val = read_captions(args.train).samples, read_captions(args.val).samples
    refs = [list(s.captions) for s in val]
    counts = Counter(" ".join(tokenize(c)) for s in train for c in s.captions)
    frequent, times = counts.most_common(1)[0]
    nearest = (thumbnails(val) @ thumbnails(train).T).argmax(1)
    results = {
        f"most frequent caption ({frequent!r}, {times}x)": [frequent] * len(val),
        "nearest-neighbour caption (16x16 thumbnail)": [consensus(train[j].captions) for j in nearest],
    }
    for name, hyps in results.items():
        scores, notes = caption_scores(refs, hyps)
        print(json.dumps({"baseline": name, **{k: round(v, 4) for k, v in scores.items()}, "notes": notes}))


if __name__ == "__main__":
    main()
