"""Walking sequences with a subject id: readers, checks, subject-grouped splits that never leak, gallery/probe.

Two ways to give them:

* a folder in the CASIA-B layout ``ROOT/SUBJECT/CONDITION-SEQ/VIEW/000.png ...`` (one frame folder per view),
  or ``ROOT/SUBJECT/SEQ/000.png`` and ``ROOT/SUBJECT/SEQ.mp4`` (no view);
* a ``.csv``/``.tsv`` of ``path,subject[,sequence[,view]]`` (the sequence defaults to the clip's file name).

Identities never cross a split: validation holds out whole subjects, as the gait protocols do
(CASIA-B: subjects 001-074 train, 075-124 test). Unusable clips are dropped, each with one line.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from seqvision.data.clip_lists import delimiter_of, listed_path, table_rows
from seqvision.data.clips import VIDEO_SUFFIXES, frame_files
from seqvision.errors import DataError


@dataclass(frozen=True)
class GaitSample:
    """One clip of one subject walking; ``source`` names where it was listed, for messages."""

    path: Path
    subject: str
    sequence: str  # nm-01: condition and take (CASIA-B), or the clip's own name
    view: str  # 090: camera angle, "" when the data has none
    source: str


@dataclass
class GaitReport:
    samples: list[GaitSample] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def read_gait(path: str | Path) -> GaitReport:
    """A folder of subject folders (CASIA-B layout) or a ``.csv``/``.tsv`` list, checked (:func:`check_samples`)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        report = _read_folder(path)
    elif path.suffix.lower() in (".csv", ".tsv"):
        report = _read_table(path)
    else:
        raise DataError(f"{path}: expected a folder of subject folders (SUBJECT/SEQ/VIEW/frames) or a .csv/.tsv list")
    good, bad = check_samples(report.samples)
    return GaitReport(good, report.skipped + bad)


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _read_folder(root: Path) -> GaitReport:
    report = GaitReport()
    subjects = [p for p in _entries(root) if p.is_dir()]
    if not subjects:
        raise DataError(f"{root}: no subject folders (expected {root}/SUBJECT/SEQ/VIEW/000.png or SUBJECT/SEQ.mp4)")
    for subject in subjects:
        for seq in _entries(subject):
            if seq.is_file():  # SUBJECT/SEQ.mp4 (other files are ignored)
                if seq.suffix.lower() in VIDEO_SUFFIXES:
                    report.samples.append(GaitSample(seq, subject.name, seq.stem, "", str(seq)))
            elif frame_files(seq):  # SUBJECT/SEQ/000.png
                report.samples.append(GaitSample(seq, subject.name, seq.name, "", str(seq)))
            else:  # SUBJECT/SEQ/VIEW/000.png; an empty VIEW folder is reported by check_samples
                views = [v for v in _entries(seq) if v.is_dir()]
                if not views:
                    report.skipped.append(f"{seq}: frame folder holds no images")
                report.samples += [GaitSample(v, subject.name, seq.name, v.name, str(v)) for v in views]
    return report


def _read_table(table: Path) -> GaitReport:
    report = GaitReport()
    d = delimiter_of(table)
    for number, row in table_rows(table):
        if len(row) < 2 or not row[0] or not row[1]:
            report.skipped.append(
                f"{table}:{number}: expected path{d}subject[{d}sequence[{d}view]], got {d.join(row)!r}"
            )
            continue
        clip = listed_path(table, row[0])
        sequence = row[2] if len(row) > 2 and row[2] else clip.stem
        view = row[3] if len(row) > 3 else ""
        report.samples.append(GaitSample(clip, row[1], sequence, view, f"{table}:{number}"))
    return report


def frame_problem(path: Path) -> str | None:
    """Why a clip cannot be used (missing, no frames, frames of different sizes), or None; videos are probed later."""
    if path.is_file():
        return None
    if not path.is_dir():
        return "no such video file or frame folder"
    files = frame_files(path)
    if not files:
        return "frame folder holds no images"
    sizes: dict[tuple[int, int], str] = {}
    for f in files:
        try:
            with Image.open(f) as img:  # reads the header only
                sizes.setdefault(img.size, f.name)
        except (OSError, UnidentifiedImageError):
            return f"{f.name} is not a readable image"
        if len(sizes) > 1:
            (a, fa), (b, fb) = sizes.items()
            return f"frames differ in size ({fa} {a[0]}x{a[1]}, {fb} {b[0]}x{b[1]})"
    return None


def check_samples(samples: list[GaitSample]) -> tuple[list[GaitSample], list[str]]:
    """Drop unusable clips, then every subject left with one sequence (no positive pair, no probe for a gallery)."""
    good, skipped = [], []
    for s in samples:
        problem = frame_problem(s.path)
        if problem:
            where = f"{s.source}: {s.path}" if s.source != str(s.path) else s.source
            skipped.append(f"{where}: {problem}")
        else:
            good.append(s)
    kept, alone = drop_single_sequence(good)
    return kept, skipped + alone


def drop_single_sequence(samples: list[GaitSample]) -> tuple[list[GaitSample], list[str]]:
    """Leave out every subject with one sequence only, each with one line saying so."""
    sequences: dict[str, set[str]] = {}
    for s in samples:
        sequences.setdefault(s.subject, set()).add(s.sequence)
    alone = {subject for subject, seqs in sequences.items() if len(seqs) < 2}
    skipped = []
    for subject in sorted(alone):
        only = next(iter(sequences[subject]))
        skipped.append(f"subject {subject}: only one sequence ({only}); gait needs two per subject (gallery and probe)")
    return [s for s in samples if s.subject not in alone], skipped


def subject_split(
    samples: list[GaitSample], val_fraction: float, seed: int
) -> tuple[list[GaitSample], list[GaitSample]]:
    """Hold out whole subjects (seeded, at least two) for validation; at least two stay for training.

    Raises:
        DataError: with fewer than four subjects, so no split keeps two on each side.
    """
    subjects = sorted({s.subject for s in samples})
    if len(subjects) < 4:
        raise DataError(
            f"cannot hold out validation subjects: {len(subjects)} subject(s) with two sequences or more "
            "(need 4: two to train, two to rank); pass --val"
        )
    random.Random(seed).shuffle(subjects)
    held = set(subjects[: min(len(subjects) - 2, max(2, round(len(subjects) * val_fraction)))])
    return [s for s in samples if s.subject not in held], [s for s in samples if s.subject in held]


def check_no_leak(train: list[GaitSample], val: list[GaitSample]) -> None:
    """Raise :class:`DataError` when a subject is on both sides of a given split."""
    shared = sorted({s.subject for s in train} & {s.subject for s in val})
    if shared:
        raise DataError(
            f"the split leaks: {len(shared)} subject(s) walk in both train and val (e.g. {', '.join(shared[:3])}); "
            "validation must hold other people (or leave out --val to hold out subjects automatically)"
        )


def gallery_split(samples: list[GaitSample], gallery: list[str]) -> tuple[list[GaitSample], list[GaitSample]]:
    """``(gallery, probe)``: the sequences named in ``gallery``, else each subject's first half of sequences (sorted).

    CASIA-B's protocol is ``gallery=[nm-01, nm-02, nm-03, nm-04]``: the rest (nm-05/06, bg, cl) are probes.
    """
    if gallery:
        chosen = set(gallery)
        return [s for s in samples if s.sequence in chosen], [s for s in samples if s.sequence not in chosen]
    names: dict[str, list[str]] = {}
    for s in samples:
        names.setdefault(s.subject, [])
        if s.sequence not in names[s.subject]:
            names[s.subject].append(s.sequence)
    first = {subject: set(sorted(seqs)[: max(1, len(seqs) // 2)]) for subject, seqs in names.items()}
    return [s for s in samples if s.sequence in first[s.subject]], [
        s for s in samples if s.sequence not in first[s.subject]
    ]
