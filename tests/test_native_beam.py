"""Contracts of the compiled beam search: the same paths, scores and confidences as flashlight + the Python LM."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from seqvision.data.alphabet import Alphabet
from seqvision.errors import ConfigError
from seqvision.tasks.lines.decoding import beam
from seqvision.tasks.lines.decoding.beam import BeamSearch, DecoderSpec
from seqvision.tasks.lines.decoding.ctc import greedy_decode
from seqvision.tasks.lines.decoding.lm import BOS, NgramLM

CORPUS = ["the cat sat on the mat", "a cat and a hat", "the cat ate", "my cat is fat", "that cat sat"] * 4
ALPHABET = Alphabet(sorted(set(" abcdefghijklmnopqrstuvwxyz")))


@pytest.mark.parametrize("order", [3, 5, 6])
def test_short_contexts_are_not_cut_further(order: int) -> None:
    """A context shorter than ``order - 1`` is used whole: ``p(w | <s> t h)`` of a 5-gram is the stored 4-gram."""
    lm = NgramLM.build(CORPUS, order=order, unit="char")
    for n in range(2, order + 1):
        for gram, log10p in lm.probs[n - 1].items():
            if gram[0] == BOS:
                assert lm.logprob(gram[:-1], gram[-1]) == pytest.approx(log10p * math.log(10.0), abs=1e-12), gram


# -- the compiled search against flashlight + the Python LM ------------------------------------------
needs_both = pytest.mark.skipif(
    importlib.util.find_spec("numba") is None or importlib.util.find_spec("flashlight") is None,
    reason="the comparison needs numba and flashlight-text (the [lm] extra)",
)
SCORE_TOLERANCE = 1e-9  # absolute, on line scores of order 10-100: both add the same float64 terms in the same order
CONFIDENCE_TOLERANCE = 1e-9


def noisy_lines(alphabet: Alphabet, texts: list[str], seed: int) -> list[np.ndarray]:
    """Log-probabilities that spell each text unsurely: a character or blank per frame, a random rival beside it."""
    rng = np.random.default_rng(seed)
    K, out = len(alphabet), []
    for text in texts:
        path: list[int] = []
        for ch in text:
            path += [alphabet.index[ch]] * int(rng.integers(1, 3)) + [0] * int(rng.integers(0, 3))
        probs = rng.dirichlet(np.full(K, 0.2), size=len(path))
        rival = rng.integers(1, K, size=len(path))
        probs[np.arange(len(path)), rival] += rng.uniform(0.0, 2.0, size=len(path))
        probs[np.arange(len(path)), path] += rng.uniform(0.5, 2.5, size=len(path))
        out.append(np.log(probs / probs.sum(-1, keepdims=True)).astype(np.float32))
    return out


def assert_same(lm_path: Path, alphabet: Alphabet, lines: list[np.ndarray], **spec: float) -> int:
    """Both searches agree on every line; returns on how many lines the search differs from greedy decoding."""
    decoder = DecoderSpec("beam", lm=str(lm_path), **spec)  # type: ignore[arg-type]
    fast, ref = BeamSearch(decoder, alphabet, native=True), BeamSearch(decoder, alphabet, native=False)
    assert fast.native and not ref.native
    differs = 0
    for lp in lines:
        (path, score), (ref_path, ref_score) = fast.search(lp), ref.search(lp)  # type: ignore[misc]
        np.testing.assert_array_equal(path, ref_path)
        assert score == pytest.approx(ref_score, abs=SCORE_TOLERANCE)
        got, want = fast(lp, len(lp)), ref(lp, len(lp))
        assert got.text == want.text
        np.testing.assert_allclose(got.char_confidences, want.char_confidences, atol=CONFIDENCE_TOLERANCE)
        differs += got.text != greedy_decode(lp, len(lp), alphabet).text
    return differs


@needs_both
@pytest.mark.parametrize("order", [1, 2, 4, 6])
@pytest.mark.parametrize(("weight", "bonus", "beam"), [(0.8, 2.0, 16), (1.6, -1.0, 4), (0.3, 0.5, 1)])
def test_same_paths_and_scores_as_flashlight(
    tmp_path: Path, order: int, weight: float, bonus: float, beam: int
) -> None:
    path = tmp_path / "lm.arpa"
    NgramLM.build(CORPUS, order=order, unit="char").save(path)
    alphabet = Alphabet(sorted(set(" abcdefghijklmnopqrstuvwxyzQ7")))  # Q and 7: characters the LM never saw
    texts = [*CORPUS[:5], "the Q7 cat", "zebra quiz", "7 hats"]
    differs = assert_same(
        path, alphabet, noisy_lines(alphabet, texts, order), lm_weight=weight, bonus=bonus, beam_width=beam
    )
    if order > 1 and weight > 0.5:
        assert differs, "the LM never changed a line: the cases test nothing"


@needs_both
def test_same_without_a_space_class_and_with_every_class_tried(tmp_path: Path) -> None:
    """No space in the alphabet (flashlight's silence is then the blank), and ``token_beam`` above the class count."""
    path = tmp_path / "lm.arpa"
    NgramLM.build([t.replace(" ", "") for t in CORPUS], order=5, unit="char").save(path)
    alphabet = Alphabet(sorted(set("abcdefghijklmnopqrstuvwxyz")))
    lines = noisy_lines(alphabet, ["thecatsat", "ahat", "myfatcat", "zzz"], 3)
    assert assert_same(path, alphabet, lines, token_beam=100)


@needs_both
def test_same_with_an_arpa_file_missing_prefixes(tmp_path: Path) -> None:
    """A foreign ARPA file may lack the prefix of an n-gram it has: the table still walks it as the Python LM does."""
    lm = NgramLM.build(CORPUS, order=4, unit="char")
    dropped = [g for g in list(lm.probs[1]) if g[0] != BOS][::3]
    for gram in dropped:
        del lm.probs[1][gram]
        lm.backoffs[1].pop(gram, None)
    assert any(g[:2] in dropped for g in lm.probs[2])
    path = tmp_path / "holes.arpa"
    lm.save(path)
    assert_same(path, ALPHABET, noisy_lines(ALPHABET, CORPUS[:5], 4))


@needs_both
def test_same_on_real_lines(shared_data: Path, tmp_path: Path) -> None:
    """print-en on 40 ehri_en val lines, with a character 5-gram from the ehri_en train transcriptions."""
    from seqvision.data.images import load_line
    from seqvision.data.readers import read_lines
    from seqvision.tasks.lines.predictor import Recognizer

    path = tmp_path / "ehri.arpa"
    NgramLM.build([s.text for s in read_lines(shared_data / "printed/ehri_en/train").samples], 5, "char").save(path)
    rec = Recognizer.load("print-en")
    samples = read_lines(shared_data / "printed/ehri_en/val").samples[:40]
    lines = rec.log_probs([rec.prepare(load_line(s)) for s in samples], batch_size=8)
    assert assert_same(path, rec.alphabet, lines)


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed")
def test_compiled_search_needs_no_flashlight(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("flashlight", "flashlight.lib", "flashlight.lib.text", "flashlight.lib.text.decoder"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it now fails
    path = tmp_path / "lm.arpa"
    NgramLM.build(CORPUS, order=4, unit="char").save(path)
    search = BeamSearch(DecoderSpec("beam", lm=str(path)), ALPHABET)
    assert search.native and search.note is None
    lp = noisy_lines(ALPHABET, ["the cat sat"], 0)[0]
    assert search(lp, len(lp)).text
    with pytest.raises(ConfigError, match="flashlight"):  # plain beam search still needs it
        BeamSearch(DecoderSpec("beam"), ALPHABET)


def test_without_numba_a_note_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("flashlight.lib.text.decoder", reason="the fallback is flashlight-text")
    monkeypatch.setattr(beam, "_native_available", lambda: False)
    path = tmp_path / "lm.arpa"
    NgramLM.build(CORPUS, order=4, unit="char").save(path)
    search = BeamSearch(DecoderSpec("beam", lm=str(path)), ALPHABET)
    assert not search.native and search.note and "numba" in search.note
    with pytest.raises(ConfigError, match="numba"):
        BeamSearch(DecoderSpec("beam", lm=str(path)), ALPHABET, native=True)
