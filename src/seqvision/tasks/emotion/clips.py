"""Labelled emotion clips: a folder (RAVDESS names, or a folder per class) or a CSV/TSV list; where the sound is.

A clip is a video file or a folder of frame images, and its sound is a ``.wav`` beside it (the same
name, or the RAVDESS audio-only file of the same recording, ``03-...``) or else the video's own audio
track (PyAV decodes both). A ``.wav`` alone is an audio-only clip. The *group* of a clip is its speaker:
the RAVDESS actor, a ``speaker`` column, else the clip alone (a warning says how many).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from seqvision.data.clips import VIDEO_SUFFIXES, frame_files
from seqvision.errors import DataError
from seqvision.tasks.emotion import ravdess

AUDIO_SUFFIXES = (".wav",)
COLUMNS = ("path", "label", "speaker", "audio")


@dataclass(frozen=True)
class EmotionSample:
    """One labelled clip; ``audio``: where its sound is (None: nowhere); ``source``: where it was listed."""

    path: Path
    label: str
    group: str  # the speaker, or "clip:PATH" when none is known
    source: str
    audio: Path | None

    @property
    def video(self) -> Path | None:
        return None if self.path.suffix.lower() in AUDIO_SUFFIXES else self.path


@dataclass
class EmotionReport:
    samples: list[EmotionSample] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def unknown_speakers(self) -> int:
        return sum(1 for s in self.samples if s.group.startswith("clip:"))


def is_clip(path: Path) -> bool:
    if path.is_file():
        return path.suffix.lower() in (*VIDEO_SUFFIXES, *AUDIO_SUFFIXES)
    return path.is_dir() and bool(frame_files(path))


def audio_of(path: Path) -> Path | None:
    """Where the sound of ``path`` is: a ``.wav`` beside it, the RAVDESS audio-only twin, the video itself, or None."""
    if path.suffix.lower() in AUDIO_SUFFIXES:
        return path
    candidates = [path.with_suffix(".wav")] if path.is_file() else [path.parent / f"{path.name}.wav"]
    name = ravdess.parse(path)
    if name is not None and name.modality != 3:
        candidates.append(path.parent / f"{name.stem(3)}.wav")
    beside = next((c for c in candidates if c.is_file()), None)
    return beside or (path if path.is_file() else None)


def make_sample(path: Path, label: str, speaker: str, source: str, audio: Path | None = None) -> EmotionSample:
    """Label and speaker from the arguments, else from a RAVDESS name; :class:`DataError` when no label is known."""
    name = ravdess.parse(path)
    label = label or (name.label if name else "")
    if not label:
        raise DataError(f"{source}: no label (not a RAVDESS name, and none given)")
    group = speaker or (name.speaker if name else f"clip:{path}")
    return EmotionSample(path, label, group, source, audio or audio_of(path))


def read_emotion_clips(path: str | Path) -> EmotionReport:
    """Read a folder (RAVDESS names anywhere below, or ``LABEL/clip``) or a ``.csv``/``.tsv`` of
    ``path,label[,speaker[,audio]]`` (a header row may name the columns)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        report = _read_folder(path)
    elif path.suffix.lower() in (".csv", ".tsv"):
        report = _read_table(path)
    else:
        raise DataError(f"{path}: expected a folder of clips or a .csv/.tsv clip list")
    if not report.samples and not report.skipped:
        raise DataError(f"{path}: no clips (video files, frame folders or .wav files)")
    return report


def _read_folder(root: Path) -> EmotionReport:
    report = EmotionReport()
    found = sorted(p for p in root.rglob("*") if not p.name.startswith(".") and is_clip(p))
    videos = [p for p in found if p.suffix.lower() not in AUDIO_SUFFIXES]
    companions = {a for a in map(audio_of, videos) if a is not None and a.suffix.lower() in AUDIO_SUFFIXES}
    for clip in found:
        if clip in companions:
            continue  # the sound of a video listed here
        label = clip.parent.name if clip.parent != root else ""
        try:
            report.samples.append(make_sample(clip, "" if ravdess.parse(clip) else label, "", str(clip)))
        except DataError as exc:
            report.skipped.append(str(exc))
    return report


def _read_table(table: Path) -> EmotionReport:
    report = EmotionReport()
    delimiter = "\t" if table.suffix.lower() == ".tsv" else ","
    try:
        rows = list(csv.reader(table.read_text(encoding="utf-8").splitlines(), delimiter=delimiter))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{table}: cannot read clip list ({exc})") from None
    columns = list(COLUMNS)
    for number, row in enumerate(rows, 1):
        row = [c.strip() for c in row]
        if not any(row) or row[0].startswith("#"):
            continue
        if number == 1 and row[0].lower() in ("path", "file", "clip", "video"):
            columns = [c.lower() for c in row]
            continue
        where = f"{table}:{number}"
        cells = dict(zip(columns, row, strict=False))
        if not cells.get("path", cells.get(columns[0])):
            report.skipped.append(f"{where}: expected path{delimiter}label[{delimiter}speaker], got {row!r}")
            continue
        clip, audio = _resolve(table, cells.get("path", row[0])), cells.get("audio", "")
        try:
            sample = make_sample(
                clip, cells.get("label", ""), cells.get("speaker", ""), where, _resolve(table, audio) if audio else None
            )
        except DataError as exc:
            report.skipped.append(str(exc))
            continue
        report.samples.append(sample)
    return report


def _resolve(table: Path, name: str) -> Path:
    return Path(name) if Path(name).is_absolute() else table.parent / name
