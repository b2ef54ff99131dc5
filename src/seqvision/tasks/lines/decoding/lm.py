"""N-gram language models over characters or words, estimated with interpolated modified Kneser-Ney.

Models are stored as standard ARPA text files (readable by KenLM's ``build_binary``, SRILM and by
people), preceded by one ``# seqvision-lm {...}`` line that says what the tokens are. Any other
ARPA file also loads; its unit is then inferred (single-character tokens mean a character model).

A character model writes a space as ``<space>``, so words and spaces are scored like any other
character: an open vocabulary, which suits historical spelling and names.

>>> lm = NgramLM.build(["the cat sat", "the hat"], order=3, unit="char")
>>> lm.logprob(("t", "h"), "e") > lm.logprob(("t", "h"), "x")
True
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seqvision.errors import DataError

BOS, EOS, UNK, SPACE = "<s>", "</s>", "<unk>", "<space>"
UNITS = ("char", "word")
LN10 = math.log(10.0)
NO_PROB = -99.0  # ARPA's log10 "probability" of <s>, which is only ever a context


def tokenize(text: str, unit: str) -> list[str]:
    """A line as LM tokens: characters (spaces as ``<space>``) or whitespace-separated words."""
    if unit == "char":
        return [SPACE if c == " " else c for c in " ".join(text.split())]
    return text.split()


@dataclass
class NgramLM:
    """A backoff n-gram model: ``log10 p`` and ``log10 backoff`` per n-gram, by order."""

    order: int
    unit: str
    probs: list[dict[tuple[str, ...], float]]  # probs[n - 1][ngram] = log10 p(last | rest)
    backoffs: list[dict[tuple[str, ...], float]]  # backoffs[n - 1][ngram] = log10 weight as a context
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._cache: dict[tuple[tuple[str, ...], str], float] = {}
        self.tables: dict[tuple[str, ...], object] = {}  # LMTable by decoder tokens (lm_table.LMTable.of)

    @property
    def vocab(self) -> list[str]:
        return [g[0] for g in self.probs[0] if g[0] not in (BOS, EOS, UNK)]

    # -- querying ---------------------------------------------------------------------------
    def logprob(self, context: Sequence[str], token: str) -> float:
        """Natural-log ``p(token | context)``; only the last ``order - 1`` context tokens count."""
        context = tuple(context)[1 - self.order :] if self.order > 1 else ()
        key = (context, token)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if (token,) not in self.probs[0]:
            token = UNK
        total = 0.0
        while True:
            gram = (*context, token)
            p = self.probs[len(gram) - 1].get(gram)
            if p is not None:
                total += p
                break
            if not context:  # not even the unigram: <unk> missing from a foreign ARPA file
                total += NO_PROB
                break
            total += self.backoffs[len(context) - 1].get(context, 0.0)
            context = context[1:]
        if len(self._cache) > 2_000_000:
            self._cache.clear()
        self._cache[key] = value = total * LN10
        return value

    def score_text(self, text: str) -> float:
        """Natural-log probability of a whole line, ``</s>`` included."""
        tokens = [BOS, *tokenize(text, self.unit)]
        return sum(self.logprob(tokens[:i], t) for i, t in enumerate([*tokens[1:], EOS], 1))

    def perplexity(self, texts: Iterable[str]) -> float:
        """Per-token perplexity (``</s>`` counted), the usual figure to compare orders and corpora."""
        total, count = 0.0, 0
        for text in texts:
            total += self.score_text(text)
            count += len(tokenize(text, self.unit)) + 1
        return math.exp(-total / max(count, 1))

    # -- estimation -------------------------------------------------------------------------
    @classmethod
    def build(cls, texts: Iterable[str], order: int, unit: str = "char") -> NgramLM:
        """Estimate an interpolated modified Kneser-Ney model (Chen & Goodman 1998) from lines of text.

        The highest order uses raw counts, lower orders continuation counts (how many different
        tokens precede an n-gram), except n-grams that start with ``<s>``, which keep raw counts.
        """
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        raw: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order)]
        lines = tokens_seen = 0
        for text in texts:
            tokens = tokenize(text, unit)
            if not tokens:
                continue
            lines += 1
            tokens_seen += len(tokens)
            padded = [BOS, *tokens, EOS]
            for n in range(1, order + 1):
                for i in range(0 if n > 1 else 1, len(padded) - n + 1):  # <s> is never predicted
                    raw[n - 1][tuple(padded[i : i + n])] += 1
        if not lines:
            raise ValueError("no text to build a language model from")
        counts: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order)]
        counts[order - 1] = raw[order - 1]
        for n in range(1, order):
            left: Counter[tuple[str, ...]] = Counter(g[1:] for g in raw[n])  # distinct left extensions
            for gram, c in raw[n - 1].items():
                counts[n - 1][gram] = c if gram[0] == BOS else left.get(gram, c)
        counts[0][(BOS,)] = 0
        probs: list[dict[tuple[str, ...], float]] = [{} for _ in range(order)]
        backoffs: list[dict[tuple[str, ...], float]] = [{} for _ in range(order)]
        lower: dict[tuple[str, ...], float] = {}  # interpolated probabilities of order n - 1 (linear)
        vocab_size = len(counts[0])  # tokens + </s> + <s> (never predicted) -> + <unk> - <s>
        for n in range(1, order + 1):
            discounts = _discounts(counts[n - 1])
            by_context: dict[tuple[str, ...], list[tuple[str, int]]] = defaultdict(list)
            for gram, c in counts[n - 1].items():
                if c > 0:
                    by_context[gram[:-1]].append((gram[-1], c))
            current: dict[tuple[str, ...], float] = {}
            for context, followers in by_context.items():
                total = sum(c for _, c in followers)
                kept = sum(discounts[min(c, 3) - 1] for _, c in followers)
                gamma = kept / total
                for token, c in followers:
                    base = lower.get((*context[1:], token)) if n > 1 else 1.0 / vocab_size
                    current[(*context, token)] = (c - discounts[min(c, 3) - 1]) / total + gamma * (base or 0.0)
                if n > 1:
                    backoffs[n - 2][context] = math.log10(gamma) if gamma > 0 else NO_PROB
                else:
                    current[(UNK,)] = gamma / vocab_size
            probs[n - 1] = {g: math.log10(p) if p > 0 else NO_PROB for g, p in current.items()}
            lower = current
        probs[0][(BOS,)] = NO_PROB
        info = {"lines": lines, "tokens": tokens_seen, "smoothing": "interpolated modified Kneser-Ney"}
        return cls(order, unit, probs, backoffs, info)

    # -- ARPA files -------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        from seqvision import __version__
        from seqvision.io import atomic_write_text

        header = {"unit": self.unit, "order": self.order, "seqvision": __version__, **self.info}
        out = [f"# seqvision-lm {json.dumps(header, ensure_ascii=False)}", "", "\\data\\"]
        out += [f"ngram {n}={len(self.probs[n - 1])}" for n in range(1, self.order + 1)]
        for n in range(1, self.order + 1):
            out += ["", f"\\{n}-grams:"]
            for gram, p in sorted(self.probs[n - 1].items()):
                bo = self.backoffs[n - 1].get(gram)
                out.append(f"{p:.6f}\t{' '.join(gram)}" + (f"\t{bo:.6f}" if bo is not None else ""))
        out += ["", "\\end\\", ""]
        atomic_write_text(path, "\n".join(out))

    @classmethod
    def load_once(cls, path: str | Path) -> NgramLM:
        """:meth:`load`, read once per file version in a process (``eval --tune-lm`` builds a decoder per trial)."""
        try:
            stat = Path(path).stat()
        except OSError:
            return cls.load(path)  # which says what is wrong with the path
        key = (str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)
        if key not in _LOADED:
            if len(_LOADED) >= 4:
                _LOADED.clear()
            _LOADED[key] = cls.load(path)
        return _LOADED[key]

    @classmethod
    def load(cls, path: str | Path) -> NgramLM:
        """Read an ARPA file (ours or any other); raises :class:`DataError` naming the file and line."""
        from seqvision.io import read_text_lines

        path = Path(path)
        lines = read_text_lines(path, "language model file")
        info: dict = {}
        n = 0
        probs: list[dict[tuple[str, ...], float]] = []
        backoffs: list[dict[tuple[str, ...], float]] = []
        seen_data = False
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not seen_data:
                if line.startswith("# seqvision-lm "):
                    try:
                        info = json.loads(line[len("# seqvision-lm ") :])
                    except json.JSONDecodeError:
                        raise DataError(f"{path}:{number}: unreadable seqvision-lm header") from None
                seen_data = line == "\\data\\"
                continue
            if not line or line.startswith("ngram "):
                continue
            if line == "\\end\\":
                break
            if line.startswith("\\") and line.endswith("-grams:"):
                n = int(line[1:].split("-")[0])
                while len(probs) < n:
                    probs.append({})
                    backoffs.append({})
                continue
            parts = line.split()
            try:
                if n < 1 or len(parts) not in (n + 1, n + 2):
                    raise ValueError
                gram = tuple(parts[1 : n + 1])
                probs[n - 1][gram] = float(parts[0])
                if len(parts) == n + 2:
                    backoffs[n - 1][gram] = float(parts[n + 1])
            except ValueError:
                raise DataError(f"{path}:{number}: not an ARPA n-gram line: {line[:60]!r}") from None
        if not seen_data or not probs or not probs[0]:
            raise DataError(f"{path}: not an ARPA language model (no \\data\\ section or no unigrams)")
        unit = info.get("unit")
        if unit not in UNITS:  # a foreign file: single-character tokens mean a character model
            tokens = [g[0] for g in probs[0] if g[0] not in (BOS, EOS, UNK)]
            singles = sum(len(t) == 1 or t == SPACE for t in tokens)
            unit = "char" if singles >= 0.9 * len(tokens) else "word"
        info.pop("unit", None)
        info.pop("order", None)
        return cls(len(probs), unit, probs, backoffs, info)


_LOADED: dict[tuple[str, int, int], NgramLM] = {}


def _discounts(counts: Counter[tuple[str, ...]]) -> tuple[float, float, float]:
    """Modified Kneser-Ney discounts D1, D2, D3+ from counts of counts, with safe fallbacks."""
    cc = Counter(c for c in counts.values() if 0 < c <= 4)
    n1, n2, n3, n4 = (cc.get(k, 0) for k in (1, 2, 3, 4))
    if not (n1 and n2 and n3 and n4):
        return (0.5, 1.0, 1.5)
    y = n1 / (n1 + 2 * n2)
    d = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    fallback = (0.5, 1.0, 1.5)
    return tuple(min(max(v, 0.05), k + 0.0) if v > 0 else fallback[k - 1] for k, v in enumerate(d, 1))  # type: ignore[return-value]
