"""Finding usable fonts: fontconfig's list (or font folders), minus symbol and decorative faces, each
checked for the glyphs a line needs.

Fonts come from Debian packages (``make install`` adds them where it can): serif, sans, monospace
and typewriter, and handwriting-like faces. A few families are held out of training for the
unseen-font benchmark (:data:`HELD_OUT`).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import ImageFont

from seqvision.errors import DataError
from seqvision.tasks.lines.synth.render import BUILTIN, face

FONT_DIRS = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts"]
FONT_SUFFIXES = (".ttf", ".otf")
# faces that do not draw plain letters: symbols, dingbats, maths, drop caps, key caps, small caps
EXCLUDED = ("Math", "Symbol", "D050000L", "Initials", "Keyboard", "Smallcaps", "Hairline", "Awesome", "Noto")
# serif, sans, typewriter and handwriting-like families never seen in training (benchmark fonts)
HELD_OUT = ("Caladea", "Carlito", "Courier Prime", "Go", "Comic Neue")
NO_FONTS = (
    "no usable fonts found: install font packages (`make install` as root adds the Debian ones listed in "
    "the Makefile's FONT_PACKAGES, e.g. fonts-dejavu fonts-liberation), or pass --font-dir DIR"
)


@dataclass(frozen=True)
class Font:
    path: Path
    family: str
    style: str

    @property
    def name(self) -> str:
        return f"{self.family} {self.style}".strip()


PILLOW_FONT = Font(BUILTIN, "Pillow built-in", "")  # for tests and machines with no fonts at all


def _fc_list() -> list[Path]:
    if shutil.which("fc-list") is None:
        return []
    try:
        out = subprocess.run(["fc-list", "--format", "%{file}\n"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [Path(line) for line in out.splitlines() if line.lower().endswith(FONT_SUFFIXES)]


def _scan(folders: list[Path]) -> list[Path]:
    return [p for folder in folders if folder.is_dir() for p in folder.rglob("*") if p.suffix.lower() in FONT_SUFFIXES]


def _missing_glyph(font: ImageFont.FreeTypeFont, ch: str, notdef: bytes) -> bool:
    """True if ``ch`` renders as the font's 'missing glyph' box (``notdef``), or as nothing at all."""
    if ch == " ":
        return False
    drawn = bytes(font.getmask(ch))
    return drawn == notdef or not any(drawn)


@cache
def coverage(path: Path, charset: str) -> frozenset[str]:
    """The characters of ``charset`` this font draws."""
    font = face(path, 24)
    notdef = bytes(font.getmask("\U0010fffd"))  # a code point no font has
    return frozenset(ch for ch in charset if not _missing_glyph(font, ch, notdef))


def _describe(path: Path) -> Font | None:
    try:
        family, style = ImageFont.truetype(str(path), 12).getname()
    except OSError:
        return None
    return Font(path, family or path.stem, style or "")


def _matches(family: str, patterns: tuple[str, ...]) -> bool:
    """Family equal to a pattern, or a pattern followed by a space (``Go`` matches ``Go Mono``)."""
    low = family.lower()
    return any(low == p.lower() or low.startswith(p.lower() + " ") for p in patterns)


@lru_cache(maxsize=8)
def find_fonts(
    include: tuple[str, ...] = (), exclude: tuple[str, ...] = (), folder: Path | None = None
) -> tuple[Font, ...]:
    """Usable fonts, sorted by path: from ``folder`` if given, else fontconfig, else the usual font folders.

    Args:
        include: keep only these families (exact name or name prefix, e.g. ``Go`` for ``Go Mono``).
        exclude: drop these families.
        folder: a folder of .ttf/.otf files to use instead of the system's fonts.

    Raises:
        DataError: when no font is left, with the packages to install.
    """
    if folder is not None and not folder.is_dir():
        raise DataError(f"{folder}: font folder not found")
    paths = _scan([folder]) if folder is not None else (_fc_list() or _scan(FONT_DIRS))
    fonts = []
    for path in sorted(set(paths)):
        font = _describe(path)
        if font is None or any(word in font.name for word in EXCLUDED):
            continue
        if (include and not _matches(font.family, include)) or _matches(font.family, exclude):
            continue
        fonts.append(font)
    if not fonts:
        where = f" in {folder}" if folder else ""
        wanted = f" matching {', '.join(include)}" if include else ""
        raise DataError(f"{NO_FONTS}" if not (where or wanted) else f"no usable fonts{wanted}{where}")
    return tuple(fonts)
