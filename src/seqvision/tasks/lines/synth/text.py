"""Line texts for synthetic printed lines: real English prose and word lists that ship with Debian
packages (``fortunes``, ``base-files`` licences, ``wamerican``/``wbritish``), mixed with numbers,
dates, prices, codes and punctuation as printed documents have them.

>>> import random
>>> sampler = TextSampler(load_corpus())
>>> len(sampler.line(random.Random(0))) <= MAX_CHARS
True
"""

from __future__ import annotations

import random
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from seqvision.data.samples import normalize_text

# printable ASCII plus the typographic characters English print uses
CHARSET = "".join(chr(c) for c in range(32, 127)) + "£€°§–—‘’“”"
MAX_CHARS = 80

FORTUNE_DIR = Path("/usr/share/games/fortunes")
SKIP_FORTUNES = {"art", "ascii-art", "translate-me", "perl", "debian", "linuxcookie"}
LICENSE_DIR = Path("/usr/share/common-licenses")
WORD_LISTS = [Path("/usr/share/dict/american-english"), Path("/usr/share/dict/british-english")]

FALLBACK_PROSE = (
    "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs. "
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
    "foolishness. Call me Ishmael. All happy families are alike; each unhappy family is unhappy in its own way."
)
MONTHS = "January February March April May June July August September October November December".split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


@dataclass(frozen=True)
class Corpus:
    """Prose passages (each a run of words) and a word list, with where they came from."""

    passages: tuple[tuple[str, ...], ...]
    words: tuple[str, ...]
    sources: tuple[str, ...]


def _printable(text: str) -> bool:
    return all(ch in CHARSET for ch in text)


def _fortunes() -> list[str]:
    if not FORTUNE_DIR.is_dir():
        return []
    entries = []
    for path in sorted(FORTUNE_DIR.iterdir()):
        if path.suffix or path.name in SKIP_FORTUNES or not path.is_file():
            continue
        entries += path.read_text(encoding="utf-8", errors="replace").split("\n%\n")
    return entries


def _licenses() -> list[str]:
    if not LICENSE_DIR.is_dir():
        return []
    return [p.read_text(encoding="utf-8", errors="replace") for p in sorted(LICENSE_DIR.iterdir()) if p.is_file()]


@lru_cache(maxsize=1)
def load_corpus() -> Corpus:
    """Read the system's prose and word lists once; falls back (with a warning) to a few built-in sentences."""
    passages, sources = [], []
    for name, texts in (("fortunes", _fortunes()), ("common-licenses", _licenses())):
        kept = [tuple(normalize_text(t).split()) for t in texts]
        kept = [p for p in kept if len(p) >= 3 and _printable(" ".join(p))]
        if kept:
            passages += kept
            sources.append(f"{name} ({len(kept)} passages)")
    words: set[str] = set()
    for path in WORD_LISTS:
        if path.is_file():
            found = [w for w in path.read_text(encoding="utf-8", errors="replace").split() if _printable(w)]
            words.update(found)
            sources.append(f"{path} ({len(found)} words)")
    if not passages:
        warnings.warn("no English prose found (install fortunes, base-files); using built-in sentences", stacklevel=2)
        passages = [tuple(FALLBACK_PROSE.split())]
    if not words:
        words = {w.strip(".,;") for p in passages for w in p}
    return Corpus(tuple(passages), tuple(sorted(words)), tuple(sources))


def _number(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.3:
        return str(rng.randint(0, 99))
    if r < 0.5:
        return f"{rng.randint(100, 999_999):,}"
    if r < 0.7:
        return f"{rng.uniform(0, 1000):.{rng.randint(1, 3)}f}"
    if r < 0.85:
        return f"{rng.uniform(0, 100):.1f}%"
    return str(rng.randint(1000, 2100))


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(1750, 2099), rng.randint(1, 12), rng.randint(1, 28)
    month = MONTHS[m - 1]
    return rng.choice(
        [
            f"{d} {month} {y}",
            f"{month} {d}, {y}",
            f"{month[:3]}. {d}, {y}",
            f"{y}-{m:02d}-{d:02d}",
            f"{d:02d}/{m:02d}/{y}",
            f"{m}/{d}/{y % 100:02d}",
            f"{rng.choice(DAYS)}, {d} {month}",
            f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d} {rng.choice(['am', 'pm', 'a.m.', 'p.m.'])}",
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        ]
    )


def _price(rng: random.Random) -> str:
    amount = rng.choice([rng.uniform(0, 20), rng.uniform(0, 500), rng.uniform(0, 100_000)])
    cur = rng.choice("$$$££€")
    text = f"{amount:,.2f}" if rng.random() < 0.8 else f"{int(amount):,}"
    return f"{cur}{text}" if cur != "€" or rng.random() < 0.5 else f"{text} €"


def _code(rng: random.Random) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return rng.choice(
        [
            f"No. {rng.randint(1, 9999)}",
            f"({rng.randint(200, 999)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
            f"{rng.choice(letters)}{rng.choice(letters)}-{rng.randint(100, 99999)}",
            f"p. {rng.randint(1, 600)}",
            f"{rng.randint(1, 40)}.{rng.randint(1, 20)}",
            f"#{rng.randint(1, 999)}",
            f"www.{rng.choice(['example', 'kew', 'archive', 'library'])}.{rng.choice(['org', 'com', 'co.uk'])}",
            f"{rng.choice(['info', 'j.smith', 'office'])}@{rng.choice(['example.com', 'mail.org'])}",
        ]
    )


SPECIALS = (_number, _date, _price, _code)


class TextSampler:
    """Draws one line of text: a window of prose, a run of dictionary words, or a record-like line."""

    def __init__(self, corpus: Corpus, max_chars: int = MAX_CHARS):
        self.corpus, self.max_chars = corpus, max_chars

    def _target(self, rng: random.Random) -> int:
        """Line length in characters: a word or two (15 %), a short phrase (25 %), or up to a full line."""
        short, half, full = max(1, self.max_chars * 3 // 20), max(1, self.max_chars // 2), self.max_chars
        r = rng.random()
        if r < 0.15:
            return rng.randint(1, short)
        return rng.randint(short, half) if r < 0.4 else rng.randint(half, full)

    def _prose(self, rng: random.Random) -> list[str]:
        passage = rng.choice(self.corpus.passages)
        start = rng.randrange(len(passage))
        return list(passage[start : start + 40])

    def _words(self, rng: random.Random) -> list[str]:
        out = []
        for _ in range(30):
            word = rng.choice(self.corpus.words)
            if rng.random() < 0.1:
                word += rng.choice([",", ".", ";", ":", "!", "?", "'s"])
            out.append(word)
        return out

    def _records(self, rng: random.Random) -> list[str]:
        out = []
        for _ in range(12):
            out += rng.choice(SPECIALS)(rng).split() if rng.random() < 0.6 else [rng.choice(self.corpus.words)]
            if rng.random() < 0.3:
                out[-1] += rng.choice([",", ";", " -", ":", " |"])
        return out

    def line(self, rng: random.Random) -> str:
        r = rng.random()
        words = self._prose(rng) if r < 0.6 else self._words(rng) if r < 0.8 else self._records(rng)
        if r < 0.6 and rng.random() < 0.3:  # numbers inside prose
            words.insert(rng.randrange(len(words) + 1), rng.choice(SPECIALS)(rng))
        target = self._target(rng)
        text = words[0][: self.max_chars]
        for word in words[1:]:
            if len(text) + 1 + len(word) > target:
                break
            text += " " + word
        return style(normalize_text(text)[: self.max_chars].strip() or "a", rng)


def style(text: str, rng: random.Random) -> str:
    """Case and typography variants: upper/title case, curly quotes, en and em dashes."""
    r = rng.random()
    if r < 0.06:
        text = text.upper()
    elif r < 0.1:
        text = text.title()
    if rng.random() < 0.35:
        text = _curly(text)
    if rng.random() < 0.3:
        text = text.replace(" - ", rng.choice([" – ", " — "])).replace("--", "—")
    return text


def _curly(text: str) -> str:
    out, double_open = [], True
    for i, ch in enumerate(text):
        if ch == '"':
            out.append("“" if double_open else "”")
            double_open = not double_open
        elif ch == "'":
            opening = i == 0 or text[i - 1] in " ([“"
            out.append("‘" if opening else "’")
        else:
            out.append(ch)
    return "".join(out)
