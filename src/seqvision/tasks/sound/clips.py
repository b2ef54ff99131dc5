"""Sound clip lists: a folder of video files (searched recursively) or a CSV/TSV of ``path[,group]``, and splits.

A clip's *group* keeps clips of one scene on one side of a train/val split: a ``group`` column,
else ``_gXX_`` in the file name (as UCF101 and ``synth-sound`` name them), else the clip alone.
Extra columns (``synth-sound`` writes ``material`` and ``onsets``) are kept, not needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from seqvision.data.clip_lists import check_groups_apart, group_of, listed_path, table_rows
from seqvision.data.clips import VIDEO_SUFFIXES
from seqvision.errors import DataError


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
    for number, row in table_rows(table):
        if not row[0]:
            report.skipped.append(f"{table}:{number}: no path in the first column")
            continue
        clip = listed_path(table, row[0])
        group = row[1] if len(row) > 1 and row[1] else group_of(clip)
        report.samples.append(SoundSample(clip, group, f"{table}:{number}"))
    if not report.samples and not report.skipped:
        raise DataError(f"{table}: the clip list is empty")
    return report


def check_no_leak(train: list[SoundSample], val: list[SoundSample]) -> None:
    check_groups_apart(train, val, "leave out --val to split by group automatically")
