"""Labelled clips: readers (a folder per class, or a CSV/TSV list); groups and splits: :mod:`seqvision.data.clip_lists`.

A clip is a video file or a folder of frame images. Its *group* ties together clips that must
stay on the same side of a train/val split: a ``group`` column, else UCF101's ``_gXX_`` in the
file name (``v_ApplyEyeMakeup_g08_c01.avi``: the same actor and scene), else the clip alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from seqvision.data.clip_lists import delimiter_of, group_of, listed_path, table_rows
from seqvision.data.clips import frame_files, is_clip
from seqvision.errors import DataError


@dataclass(frozen=True)
class ClipSample:
    """One labelled clip; ``source`` names where it was listed, for messages."""

    path: Path
    label: str
    group: str
    source: str


@dataclass
class ClipReport:
    samples: list[ClipSample] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def read_clips(path: str | Path) -> ClipReport:
    """Read a folder with one subfolder per class, or a ``.csv``/``.tsv`` of ``path,label[,group]``."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() in (".csv", ".tsv"):
        return _read_table(path)
    raise DataError(f"{path}: expected a folder of class folders or a .csv/.tsv clip list")


def _read_folder(root: Path) -> ClipReport:
    report = ClipReport()
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(f"{root}: no class folders (expected {root}/LABEL/clip.mp4 or {root}/LABEL/clip/frame.png)")
    for folder in classes:
        entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
        if entries and frame_files(folder) and not any(p.is_dir() for p in entries):
            report.skipped.append(f"{folder}: images directly in a class folder; put each clip's frames in a folder")
            continue
        clips = [p for p in entries if is_clip(p)]
        if not clips:
            report.skipped.append(f"{folder}: no video files or frame folders")
        report.samples += [ClipSample(p, folder.name, group_of(p), str(p)) for p in clips]
    return report


def _read_table(table: Path) -> ClipReport:
    report = ClipReport()
    d = delimiter_of(table)
    for number, row in table_rows(table):
        where = f"{table}:{number}"
        if len(row) < 2 or not row[0] or not row[1]:
            report.skipped.append(f"{where}: expected path{d}label[{d}group], got {d.join(row)!r}")
            continue
        clip = listed_path(table, row[0])
        group = row[2] if len(row) > 2 and row[2] else group_of(clip)
        report.samples.append(ClipSample(clip, row[1], group, where))
    return report
