"""Caption metrics by the standard implementation (pycocoevalcap, the ``[caption]`` extra).

BLEU-1..4, METEOR, ROUGE-L and CIDEr over a corpus of hypotheses, each with its references.
Captions are tokenised by :func:`seqvision.tasks.captioning.vocab.tokenize` (lower case, no punctuation)
rather than the Stanford PTB tokenizer, which needs Java for every call. METEOR runs the
METEOR 1.5 jar shipped with pycocoevalcap and therefore needs ``java``; where it is missing,
METEOR is left out and :func:`caption_scores` says why in ``notes``.

>>> scores, notes = caption_scores([["a dog runs on the grass"]], ["a dog runs on the grass"], meteor=False)
>>> round(scores["bleu4"], 3), round(scores["rouge_l"], 3)
(1.0, 1.0)
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from seqvision.errors import ConfigError
from seqvision.tasks.captioning.vocab import tokenize

METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge_l", "cider")


def _require():
    try:
        from pycocoevalcap.bleu.bleu import Bleu
        from pycocoevalcap.cider.cider import Cider
        from pycocoevalcap.rouge.rouge import Rouge
    except ImportError:
        raise ConfigError("caption metrics need pycocoevalcap: pip install 'seqvision[caption]'") from None
    return Bleu, Rouge, Cider


def caption_scores(
    references: Sequence[Sequence[str]], hypotheses: Sequence[str], meteor: bool = True, cider: bool = True
) -> tuple[dict[str, float], list[str]]:
    """Corpus scores (0..1; CIDEr 0..10) of ``hypotheses[i]`` against ``references[i]``, and notes.

    CIDEr's document frequencies come from the references given, so it needs many images to mean
    much (pycocoevalcap's behaviour); on one image it is 0.
    """
    if len(references) != len(hypotheses) or not hypotheses:
        raise ValueError("caption_scores needs one list of references per hypothesis, and at least one")
    Bleu, Rouge, Cider = _require()
    gts = {i: [" ".join(tokenize(r)) for r in refs] for i, refs in enumerate(references)}
    res = {i: [" ".join(tokenize(h))] for i, h in enumerate(hypotheses)}
    notes: list[str] = []
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    scores = {f"bleu{n + 1}": float(b) for n, b in enumerate(bleu)}
    if meteor and shutil.which("java"):
        from pycocoevalcap.meteor.meteor import Meteor

        scorer = Meteor()
        try:
            scores["meteor"] = float(scorer.compute_score(gts, {i: [h[0] or "-"] for i, h in res.items()})[0])
        finally:
            del scorer
    elif meteor:
        notes.append("METEOR skipped: it runs on Java and no `java` is on PATH (apt-get install default-jre-headless)")
    scores["rouge_l"] = float(Rouge().compute_score(gts, res)[0])
    if cider:
        scores["cider"] = float(Cider().compute_score(gts, res)[0])
    return scores, notes
