"""rapidfuzz's Levenshtein against the pure-Python fallback: the same integers on every input, and CER without it."""

from __future__ import annotations

import importlib.util
import random
import sys

import pytest

import seqvision.tasks.lines.metrics as metrics
from seqvision.tasks.lines.metrics import ErrorRates, edit_distance, python_edit_distance

pytest.importorskip("rapidfuzz")  # the [text] extra, in [dev]: without it there is nothing to compare

_rng = random.Random(18)
_LONG_A = "".join(_rng.choice("abcdefgh ") for _ in range(400))
_LONG_B = "".join(c if _rng.random() > 0.1 else _rng.choice("xyz") for c in _LONG_A)[:-7] + "tail"
PAIRS = [
    ("", ""),
    ("", "abc"),
    ("abc", ""),
    ("kitten", "sitting"),
    ("ab", "ba"),
    ("Grüße", "Grusse"),  # precomposed umlaut and sharp s
    ("e\u0301te\u0301", "été"),  # combining accents vs precomposed: different code points, counted as such
    ("日本語の文章", "日本の文章です"),
    ("emoji 🙂🙃", "emoji 🙃"),  # astral-plane code points are one character each
    ("  two  spaces ", " two spaces"),
    (_LONG_A, _LONG_B),
    (_LONG_A, ""),
    (_LONG_A, _LONG_A[::-1]),
    ("the cat sat on the mat".split(), "the cat sat on a mat".split()),
    ("a b c".split(), []),
    ([], []),
    (["Grüße", "日本", "🙂"], ["Grusse", "日本", "🙂", "x"]),
    (_LONG_A.split(), _LONG_B.split()),
]


@pytest.mark.parametrize(("a", "b"), PAIRS, ids=range(len(PAIRS)))
def test_rapidfuzz_agrees_with_python(a, b) -> None:
    assert metrics._rapidfuzz is not None  # the fast path is the one under test
    expected = python_edit_distance(a, b)
    assert edit_distance(a, b) == expected
    assert edit_distance(b, a) == expected
    assert isinstance(edit_distance(a, b), int)


def test_long_pair_is_not_trivial() -> None:
    # the long case must exercise real alignments, neither 0 nor the length of the longer line
    d = python_edit_distance(_LONG_A, _LONG_B)
    assert 10 < d < len(_LONG_A) // 2


def test_random_pairs_agree() -> None:
    rng = random.Random(0)
    for _ in range(300):
        a = "".join(rng.choice("ab c") for _ in range(rng.randrange(0, 30)))
        b = "".join(rng.choice("ab c") for _ in range(rng.randrange(0, 30)))
        assert edit_distance(a, b) == python_edit_distance(a, b), (a, b)
        assert edit_distance(a.split(), b.split()) == python_edit_distance(a.split(), b.split()), (a, b)


def test_error_rates_without_rapidfuzz(monkeypatch: pytest.MonkeyPatch) -> None:
    # a fresh copy of the module imported while rapidfuzz cannot be: it falls back, and CER/WER stay the same
    for name in ("rapidfuzz", "rapidfuzz.distance", "rapidfuzz.distance.Levenshtein"):
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules: importing it raises ImportError
    spec = importlib.util.spec_from_file_location("_metrics_without_rapidfuzz", metrics.__file__)
    assert spec is not None and spec.loader is not None
    fallback = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, fallback)  # dataclasses look their module up there
    spec.loader.exec_module(fallback)
    assert fallback._rapidfuzz is None
    slow, fast = fallback.ErrorRates(), ErrorRates()
    for a, b in PAIRS:
        if isinstance(a, str):
            slow.update(a, b)
            fast.update(a, b)
    assert (slow.char_edits, slow.word_edits) == (fast.char_edits, fast.word_edits)
    assert slow.char_edits > 0 and slow.cer == fast.cer and slow.wer == fast.wer
