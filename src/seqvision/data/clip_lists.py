"""Clip lists, shared by the clip tasks (video, gait, sound): CSV/TSV rows, UCF101 groups, splits by group,
and probing every listed clip once (the train/val split itself: :func:`seqvision.data.loaders.read_train_val`).

Each task keeps its own sample type and reader (a folder per class, per subject, of video files);
what they read alike lives here once.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

from seqvision.errors import DataError

GROUP_PATTERN = re.compile(r"_g(\d+)_", re.IGNORECASE)
HEADER_NAMES = ("path", "file", "video", "clip", "filename")


class Listed(Protocol):
    """A listed clip: its path, and where it was listed (for messages)."""

    @property
    def path(self) -> Path: ...

    @property
    def source(self) -> str: ...


class Grouped(Protocol):
    """A clip with a group: clips of one group stay on one side of a split."""

    @property
    def group(self) -> str: ...


S = TypeVar("S", bound=Listed)
G = TypeVar("G", bound=Grouped)
T = TypeVar("T")


def group_of(path: Path) -> str:
    """UCF101-style ``gXX`` from the file name, else the clip's own path (a group of one)."""
    match = GROUP_PATTERN.search(path.name)
    return f"g{int(match.group(1)):02d}" if match else str(path)


def delimiter_of(table: Path) -> str:
    return "\t" if table.suffix.lower() == ".tsv" else ","


def table_rows(table: Path) -> Iterator[tuple[int, list[str]]]:
    """``(line number, stripped cells)`` of a ``.csv``/``.tsv`` clip list; blank lines, ``#`` comments and a
    header row are passed over; an unreadable file is a :class:`DataError`."""
    try:
        text = table.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{table}: cannot read clip list ({exc})") from None
    for number, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter_of(table)), 1):
        row = [c.strip() for c in row]
        if not any(row) or row[0].startswith("#") or (number == 1 and row[0].lower() in HEADER_NAMES):
            continue
        yield number, row


def listed_path(table: Path, cell: str) -> Path:
    """A clip path from a list: absolute as given, else relative to the list's folder."""
    return Path(cell) if Path(cell).is_absolute() else table.parent / cell


def grouped_split(samples: list[G], val_fraction: float, seed: int, what: str = "group") -> tuple[list[G], list[G]]:
    """Hold out whole groups (seeded) until about ``val_fraction`` of the clips are in validation.

    ``what`` names a group in the error (``speaker`` for emotion clips).

    Raises:
        DataError: when fewer than two groups exist, so no split can keep groups together.
    """
    groups = sorted({s.group for s in samples})
    if len(groups) < 2:
        raise DataError(f"cannot hold out validation clips: all {len(samples)} clips are in one {what}; pass --val")
    random.Random(seed).shuffle(groups)
    target = max(1, round(len(samples) * val_fraction))
    sizes: dict[str, int] = {}
    for s in samples:
        sizes[s.group] = sizes.get(s.group, 0) + 1
    held, count = set(), 0
    for g in groups[:-1]:  # at least one group stays for training
        if count >= target:
            break
        held.add(g)
        count += sizes[g]
    return [s for s in samples if s.group not in held], [s for s in samples if s.group in held]


def check_groups_apart(
    train: list[G],
    val: list[G],
    advice: str = "clips of one group must stay on one side (or leave out --val to split by group automatically)",
    what: str = "group",
) -> None:
    """Raise :class:`DataError` when a group (or a clip) is on both sides of a given split."""
    shared = sorted({s.group for s in train} & {s.group for s in val})
    if shared:
        raise DataError(
            f"the split leaks: {len(shared)} {what}(s) have clips in both train and val "
            f"(e.g. {', '.join(shared[:3])}); " + advice
        )


def expand_clip_inputs(
    inputs: list[str],
    listed: Callable[[Path], list[Path]],
    is_clip: Callable[[Path], bool] | None = None,
    folder: Callable[[Path], list[Path]] | None = None,
) -> list[Path]:
    """The clips a ``read``/``eval`` command was given: a CSV/TSV list file -> the clips ``listed`` reads from it;
    a folder that is not a clip itself (``is_clip``; every folder when None) -> ``folder(path)``, or ``listed``
    when no ``folder`` is given; anything else (a video file, a frame folder) as given."""
    paths: list[Path] = []
    for name in inputs:
        path = Path(name)
        table = path.suffix.lower() in (".csv", ".tsv") and path.is_file()
        if table or (path.is_dir() and (is_clip is None or not is_clip(path))):
            paths += folder(path) if folder is not None and not table else listed(path)
        else:
            paths.append(path)
    return paths


def probe_each(samples: list[S], probe: Callable[[S], T], workers: int = 2) -> tuple[list[T], list[str]]:
    """``probe`` every clip once (on threads); the ones it refuses with a :class:`DataError` are dropped, each
    with a message naming it. Returns ``(probed, messages)``, both in the samples' order."""

    def one(s: S) -> T | str:
        try:
            return probe(s)
        except DataError as exc:
            return f"{exc}" if s.source == str(s.path) else f"{s.source}: {exc}"

    with ThreadPoolExecutor(max(1, workers)) as pool:
        results = list(pool.map(one, samples))
    return [r for r in results if not isinstance(r, str)], [r for r in results if isinstance(r, str)]
