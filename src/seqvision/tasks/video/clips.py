"""Labelled clips: readers (a folder per class, or a CSV/TSV list), groups, and splits that never leak.

A clip is a video file or a folder of frame images. Its *group* ties together clips that must
stay on the same side of a train/val split: a ``group`` column, else UCF101's ``_gXX_`` in the
file name (``v_ApplyEyeMakeup_g08_c01.avi``: the same actor and scene), else the clip alone.
"""

from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from seqvision.data.clips import VIDEO_SUFFIXES, frame_files
from seqvision.errors import DataError

GROUP_PATTERN = re.compile(r"_g(\d+)_", re.IGNORECASE)
HEADER_NAMES = ("path", "file", "video", "clip", "filename")


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


def group_of(path: Path) -> str:
    """UCF101-style ``gXX`` from the file name, else the clip's own path (a group of one)."""
    match = GROUP_PATTERN.search(path.name)
    return f"g{int(match.group(1)):02d}" if match else str(path)


def is_clip(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES if path.is_file() else path.is_dir() and bool(frame_files(path))


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
    delimiter = "\t" if table.suffix.lower() == ".tsv" else ","
    try:
        text = table.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{table}: cannot read clip list ({exc})") from None
    for number, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), 1):
        row = [c.strip() for c in row]
        if not any(row) or row[0].startswith("#"):
            continue
        if number == 1 and row[0].lower() in HEADER_NAMES:
            continue
        where = f"{table}:{number}"
        if len(row) < 2 or not row[0] or not row[1]:
            report.skipped.append(
                f"{where}: expected path{delimiter}label[{delimiter}group], got {delimiter.join(row)!r}"
            )
            continue
        clip = Path(row[0]) if Path(row[0]).is_absolute() else table.parent / row[0]
        group = row[2] if len(row) > 2 and row[2] else group_of(clip)
        report.samples.append(ClipSample(clip, row[1], group, where))
    return report


def grouped_split(
    samples: list[ClipSample], val_fraction: float, seed: int
) -> tuple[list[ClipSample], list[ClipSample]]:
    """Hold out whole groups (seeded) until about ``val_fraction`` of the clips are in validation.

    Raises:
        DataError: when fewer than two groups exist, so no split can keep groups together.
    """
    groups = sorted({s.group for s in samples})
    if len(groups) < 2:
        raise DataError(f"cannot hold out validation clips: all {len(samples)} clips are in one group; pass --val")
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


def check_no_leak(train: list[ClipSample], val: list[ClipSample]) -> None:
    """Raise :class:`DataError` when a group (or a clip) is on both sides of a given split."""
    shared = sorted({s.group for s in train} & {s.group for s in val})
    if shared:
        examples = ", ".join(shared[:3])
        raise DataError(
            f"the split leaks: {len(shared)} group(s) have clips in both train and val (e.g. {examples}); "
            "clips of one group must stay on one side (or leave out --val to split by group automatically)"
        )
