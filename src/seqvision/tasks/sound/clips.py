"""Sound clip lists: a folder of video files (searched recursively) or a CSV/TSV of ``path[,group]``, and splits.

A clip's *group* keeps clips of one scene on one side of a train/val split: a ``group`` column,
else ``_gXX_`` in the file name (as UCF101 and ``synth-sound`` name them), else the clip alone.
Extra columns (``synth-sound`` writes ``material`` and ``onsets``) are kept, not needed.
"""

from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from seqvision.data.clips import VIDEO_SUFFIXES
from seqvision.errors import DataError

GROUP_PATTERN = re.compile(r"_g(\d+)_", re.IGNORECASE)
HEADER_NAMES = ("path", "file", "video", "clip", "filename")


@dataclass(frozen=True)
class SoundSample:
    """One video file with sound; ``source`` names where it was listed, for messages."""

    path: Path
    group: str
    source: str


@dataclass
class SoundReport:
    samples: list[SoundSample] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def group_of(path: Path) -> str:
    match = GROUP_PATTERN.search(path.name)
    return f"g{int(match.group(1)):02d}" if match else str(path)


def video_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())


def read_sound_clips(path: str | Path) -> SoundReport:
    """A folder of video files (any depth) or a ``.csv``/``.tsv`` list of ``path[,group[,...]]``."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        files = video_files(path)
        if not files:
            raise DataError(f"{path}: no video files ({', '.join(VIDEO_SUFFIXES)}) in this folder")
        return SoundReport([SoundSample(p, group_of(p), str(p)) for p in files])
    if path.suffix.lower() in (".csv", ".tsv"):
        return _read_table(path)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return SoundReport([SoundSample(path, group_of(path), str(path))])
    raise DataError(f"{path}: expected a video file, a folder of video files or a .csv/.tsv clip list")


def _read_table(table: Path) -> SoundReport:
    report = SoundReport()
    delimiter = "\t" if table.suffix.lower() == ".tsv" else ","
    try:
        text = table.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{table}: cannot read clip list ({exc})") from None
    for number, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), 1):
        row = [c.strip() for c in row]
        if not any(row) or row[0].startswith("#") or (number == 1 and row[0].lower() in HEADER_NAMES):
            continue
        if not row[0]:
            report.skipped.append(f"{table}:{number}: no path in the first column")
            continue
        clip = Path(row[0]) if Path(row[0]).is_absolute() else table.parent / row[0]
        group = row[1] if len(row) > 1 and row[1] else group_of(clip)
        report.samples.append(SoundSample(clip, group, f"{table}:{number}"))
    if not report.samples and not report.skipped:
        raise DataError(f"{table}: the clip list is empty")
    return report


def grouped_split(
    samples: list[SoundSample], fraction: float, seed: int
) -> tuple[list[SoundSample], list[SoundSample]]:
    """Hold out whole groups (seeded) until about ``fraction`` of the clips are in validation."""
    groups = sorted({s.group for s in samples})
    if len(groups) < 2:
        raise DataError(f"cannot hold out validation clips: all {len(samples)} clips are in one group; pass --val")
    random.Random(seed).shuffle(groups)
    target, held, count = max(1, round(len(samples) * fraction)), set(), 0
    for g in groups[:-1]:  # at least one group stays for training
        if count >= target:
            break
        held.add(g)
        count += sum(1 for s in samples if s.group == g)
    return [s for s in samples if s.group not in held], [s for s in samples if s.group in held]


def check_no_leak(train: list[SoundSample], val: list[SoundSample]) -> None:
    shared = sorted({s.group for s in train} & {s.group for s in val})
    if shared:
        raise DataError(
            f"the split leaks: {len(shared)} group(s) have clips in both train and val (e.g. {', '.join(shared[:3])}); "
            "leave out --val to split by group automatically"
        )
