"""CTC beam search with an optional lexicon and an optional n-gram language model.

The search itself is flashlight-text's (the C++ decoder behind torchaudio's ``ctc_decoder``, in the
``[lm]`` extra): its lexicon-free decoder scores every character with a token-level LM, which is
exactly a character n-gram; its lexicon decoder walks a trie of allowed spellings and scores whole
words with a word n-gram. Our n-gram models (:mod:`seqvision.tasks.lines.decoding.lm`) plug in through
flashlight's Python ``LM`` interface, so no KenLM build is needed.

With a character LM and numba installed (also in the ``[lm]`` extra), the same lexicon-free search
runs compiled instead (:mod:`seqvision.tasks.lines.decoding.native_beam`, over the LM as arrays,
:mod:`seqvision.tasks.lines.decoding.lm_table`): the same paths and scores, ~20x faster, since no
LM query calls Python. flashlight with the Python LM stays the reference and the fallback.

With a language model, a hypothesis scores ``log p_ctc + lm_weight * log p_lm + bonus * tokens``,
tokens being characters (character LM) or words (word LM); the bonus offsets the LM's preference
for short outputs. ``seqvision eval --tune-lm`` picks both on a validation set.

>>> spec = DecoderSpec(kind="beam", beam_width=16, lm="hooker.arpa", lm_weight=0.6)  # doctest: +SKIP
>>> decode = make_decoder(spec, alphabet)                                             # doctest: +SKIP
>>> decode(log_probs, length).text                                                    # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from seqvision.data.alphabet import Alphabet
from seqvision.errors import ConfigError, DataError
from seqvision.io import read_text_lines
from seqvision.tasks.lines.decoding.ctc import Decoded, acoustic_confidences, calibrated, from_path, greedy_decode
from seqvision.tasks.lines.decoding.lm import BOS, SPACE, NgramLM

DECODERS = ("greedy", "beam")


class Decoder(Protocol):
    """``(log_probs (T, K), length) -> Decoded``, and how that decoder scores its characters' confidences."""

    note: str | None  # why it runs slower than it could (a missing optional package), for the CLI to print

    def __call__(self, log_probs: np.ndarray, length: int) -> Decoded: ...

    def char_confidences(self, decoded: Decoded, log_probs: np.ndarray, temperature: float) -> list[float]: ...


class Greedy:
    """Best-path decoding; confidences are the network's probabilities (calibrated)."""

    note: str | None = None

    def __init__(self, alphabet: Alphabet, temperature: float = 1.0):
        self.alphabet, self.temperature = alphabet, temperature

    def __call__(self, log_probs: np.ndarray, length: int) -> Decoded:
        return greedy_decode(log_probs, length, self.alphabet, self.temperature)

    def char_confidences(self, decoded: Decoded, log_probs: np.ndarray, temperature: float) -> list[float]:
        return acoustic_confidences(decoded, log_probs, self.alphabet, temperature)


@dataclass
class DecoderSpec:
    """How to turn log-probabilities into text; the CLI's ``--decoder/--beam-width/--lm/...`` flags."""

    kind: str = "greedy"
    beam_width: int = 16
    lm: str | None = None  # ARPA file (``seqvision lm build``), character or word level
    lm_weight: float = 0.8
    bonus: float = 2.0  # with an LM: insertion bonus per character (character LM) or per word (word LM)
    lexicon: str | None = None  # one allowed word per line; a word LM brings its own vocabulary
    token_beam: int = 8  # characters tried per hypothesis and frame (the most likely ones)
    prune: float = 12.0  # drop hypotheses this far (in log-probability) below the best

    def describe(self) -> str:
        if self.kind == "greedy":
            return "greedy"
        parts = [f"beam {self.beam_width}"]
        if self.lexicon:
            parts.append(f"lexicon {Path(self.lexicon).name}")
        if self.lm:
            parts.append(f"LM {Path(self.lm).name} weight {self.lm_weight:g} bonus {self.bonus:g}")
        return ", ".join(parts)


def _flashlight() -> Any:
    try:
        from flashlight.lib.text import decoder
    except ImportError:
        raise ConfigError(
            "beam search needs flashlight-text: pip install 'seqvision[lm]' (or pip install flashlight-text)"
        ) from None
    return decoder


def read_lexicon(path: str | Path) -> list[str]:
    """Words of a lexicon file: one per line (a tab-separated first column also works); ``#`` lines skipped."""
    lines = read_text_lines(path, "lexicon file")
    words = list(dict.fromkeys(line.split()[0] for line in lines if line.strip() and not line.startswith("#")))
    if not words:
        raise DataError(f"{path}: lexicon has no words")
    return words


def make_decoder(spec: DecoderSpec, alphabet: Alphabet, temperature: float = 1.0) -> Decoder:
    """A function ``(log_probs (T, K), length) -> Decoded`` for ``spec``; LM and lexicon files load once."""
    if spec.kind not in DECODERS:
        raise ConfigError(f"unknown decoder {spec.kind!r}; choose from {', '.join(DECODERS)}")
    if spec.kind == "greedy":
        if spec.lm or spec.lexicon:
            raise ConfigError("--lm and --lexicon need --decoder beam")
        return Greedy(alphabet, temperature)
    if spec.beam_width < 1:
        raise ConfigError(f"--beam-width must be at least 1, got {spec.beam_width}")
    return BeamSearch(spec, alphabet, temperature)


class BeamSearch:
    """One configured beam search; call it like :func:`greedy_decode` (not thread-safe).

    ``native``: None runs the compiled search where it can (a character LM, no lexicon, numba
    installed) and flashlight otherwise; False always flashlight (the reference); True insists on the
    compiled one (:class:`ConfigError` if it cannot run). :attr:`note` says why a slower path runs.
    """

    def __init__(self, spec: DecoderSpec, alphabet: Alphabet, temperature: float = 1.0, native: bool | None = None):
        self.note: str | None = None  # why this search is slower than it could be, if it is
        self.spec, self.alphabet, self.temperature = spec, alphabet, temperature
        self.lm = lm = NgramLM.load_once(spec.lm) if spec.lm else None
        sil = alphabet.index.get(" ", Alphabet.BLANK)
        classes = len(alphabet)
        token_beam = min(classes, spec.token_beam)
        chars = [BOS] + [SPACE if c == " " else c for c in alphabet.chars]  # LM token per class index
        self._tokens = chars
        self._rows: dict[tuple[str, ...], np.ndarray] = {}
        self._char_lm = lm is not None and lm.unit == "char" and not spec.lexicon
        words = read_lexicon(spec.lexicon) if spec.lexicon else None
        if words is None and lm is not None and lm.unit == "word":
            words = lm.vocab
        if words is not None and lm is not None and lm.unit == "char":
            raise ConfigError(
                f"{spec.lexicon}: a lexicon goes with a word LM or none; a character LM ({spec.lm}) is open-vocabulary"
            )
        self._native: Any = None
        if self._char_lm and native is not False:
            assert lm is not None
            self._native, self.note = _native_search(lm, chars, spec, sil)
            if self._native is not None:  # the compiled search needs no flashlight
                return
            if native:
                raise ConfigError(f"no compiled beam search: {self.note}")
        fl = _flashlight()
        from seqvision.tasks.lines.decoding.flashlight_lm import HistoryLM

        if words is None:  # open vocabulary: characters, scored by a character LM if any
            self.scorer = HistoryLM(lm, chars, spec.lm_weight, spec.bonus) if lm is not None else fl.ZeroLM()
            opts = fl.LexiconFreeDecoderOptions(
                spec.beam_width, token_beam, spec.prune, 1.0, 0.0, False, fl.CriterionType.CTC
            )
            self._decoder = fl.LexiconFreeDecoder(opts, self.scorer, sil, Alphabet.BLANK, [])
            return
        # a word LM scores each word as it ends, with the bonus per word; a bare lexicon only constrains spelling
        self.scorer = HistoryLM(lm, words, spec.lm_weight, spec.bonus) if lm is not None else fl.ZeroLM()
        trie = fl.Trie(classes, sil)
        start = self.scorer.start(False)
        spelled = 0
        for index, word in enumerate(words):
            ids = alphabet.encode(word)
            if len(ids) != len(word):
                continue  # a character the model cannot write: the word can never be read
            trie.insert(ids, index, self.scorer.score(start, index)[1] if lm is not None else 0.0)
            spelled += 1
        if not spelled:
            raise DataError(f"{spec.lexicon or spec.lm}: no word in it can be written with the model's characters")
        trie.smear(fl.SmearingMode.MAX)
        opts = fl.LexiconDecoderOptions(
            spec.beam_width, token_beam, spec.prune, 1.0, 0.0, float("-inf"), 0.0, False, fl.CriterionType.CTC
        )
        self._decoder = fl.LexiconDecoder(opts, trie, self.scorer, sil, Alphabet.BLANK, len(words), [], lm is None)

    @property
    def native(self) -> bool:
        """Whether the compiled search runs (a character LM with numba installed) rather than flashlight."""
        return self._native is not None

    def search(self, log_probs: np.ndarray) -> tuple[np.ndarray, float] | None:
        """The best CTC path of ``log_probs`` (T, K) and its score, None where everything was pruned."""
        lp = np.ascontiguousarray(log_probs, dtype=np.float32)
        if self._native is not None:
            return self._native(lp)
        results = self._decoder.decode(lp.ctypes.data, lp.shape[0], lp.shape[1])
        if not results:
            return None
        path = np.asarray(results[0].tokens[1:-1], dtype=np.int64)  # flashlight pads a start and an end token
        path[path < 0] = Alphabet.BLANK
        return path, float(results[0].score)

    def __call__(self, log_probs: np.ndarray, length: int) -> Decoded:
        lp = np.ascontiguousarray(log_probs[:length], dtype=np.float32)
        if length == 0:
            return greedy_decode(lp, 0, self.alphabet)
        found = self.search(lp)
        if found is None:  # everything pruned (a lexicon with no fitting word): fall back to the best path
            return greedy_decode(lp, length, self.alphabet, self.temperature)
        decoded = from_path(found[0], lp, self.alphabet, self.temperature)
        if self._char_lm:
            decoded.char_confidences = self.char_confidences(decoded, lp, self.temperature)
        return decoded

    def char_confidences(self, decoded: Decoded, log_probs: np.ndarray, temperature: float) -> list[float]:
        """With a character LM: the decoder's own odds at each character's best frame, calibrated.

        That is ``softmax`` over the classes of ``log p(k | frame) + weight * log p_lm(k | history) + bonus``
        (the blank gets no LM term and no bonus), so a character the LM chose over a slightly more
        likely-looking one is not reported as a near-coin-flip. Without one: the network's probabilities.
        """
        if not self._char_lm or self.lm is None:
            return acoustic_confidences(decoded, log_probs, self.alphabet, temperature)
        lm, spec = self.lm, self.spec
        if self._native is not None:
            return self._native.confidences(decoded, log_probs, self.alphabet, temperature)
        keep = max(lm.order - 1, 1)
        history: tuple[str, ...] = (BOS,)
        confs = []
        for c, (a, b) in zip(decoded.text, decoded.char_frames, strict=True):
            k = self.alphabet.index.get(c)
            if k is None:
                confs.append(0.0)
                continue
            t = a + int(np.argmax(log_probs[a:b, k]))
            prior = self._lm_row(history)
            scores = log_probs[t].astype(np.float64) + np.concatenate(([0.0], spec.lm_weight * prior + spec.bonus))
            confs.append(float(calibrated(scores[k] - np.logaddexp.reduce(scores), temperature)))
            history = (*history, self._tokens[k])[-keep:]
        return confs

    def _lm_row(self, history: tuple[str, ...]) -> np.ndarray:
        """``log p_lm(c | history)`` for every character of the alphabet, cached."""
        row = self._rows.get(history)
        if row is None:
            assert self.lm is not None
            row = np.array([self.lm.logprob(history, t) for t in self._tokens[1:]])
            if len(self._rows) > 100_000:
                self._rows.clear()
            self._rows[history] = row
        return row


def _native_available() -> bool:
    """Whether numba is installed (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def _native_search(lm: NgramLM, chars: list[str], spec: DecoderSpec, sil: int) -> tuple[Any, str | None]:
    """The compiled search for a character LM, or None and why not."""
    if not _native_available():
        return None, (
            "numba is not installed, so beam search with a character LM runs ~20x slower "
            "(pip install 'seqvision[lm]', or pip install numba)"
        )
    from seqvision.tasks.lines.decoding.lm_table import LMTable

    try:  # numba can refuse at import: a NumPy it does not support, no writable folder for its cache
        from seqvision.tasks.lines.decoding.native_beam import NativeSearch
    except (ImportError, RuntimeError, OSError) as exc:
        return (
            None,
            f"numba cannot compile the beam search ({str(exc).splitlines()[0]}): the slower flashlight one runs",
        )
    table = LMTable.of(lm, chars)
    token_beam = min(len(chars), spec.token_beam)
    try:
        native = NativeSearch(
            table, len(chars), sil, spec.beam_width, token_beam, spec.prune, spec.lm_weight, spec.bonus
        )
    except ValueError as exc:
        return None, f"{exc}: the slower flashlight search runs"
    return native, None
