"""Biological sequence readers: FASTA (optionally gzipped) and TSV, with binary or multi-label targets.

Formats (details and examples in docs/dna.md):

- TSV: ``sequence<TAB>label(s)``; an optional header whose first field is ``sequence`` (or ``seq``)
  names the label columns. One label column holds ``0``/``1`` (binary) or comma-separated label
  names (multi-label, ``-`` for none); several columns hold ``0``/``1`` each (multi-label).
- FASTA (``.fa``, ``.fasta``, ``.fna``, ``.gz`` of them; gzip is recognised by its magic bytes):
  the label in the header as ``>id label=1`` (or ``labels=A,B``) or ``>id|1``, or in a separate
  labels TSV of ``id<TAB>label(s)`` with the same label rules as above.

Sequences may mix case (soft-masked repeats are lower case) and hold ``A C G T U N`` only; every
other character, an empty record, a missing label, an empty file or a corrupt gzip stream is a
:class:`DataError` naming the file and line, so bad data stops a run before training starts.
Records may have different lengths: batches are padded and the model never reads the padding.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from seqvision.errors import DataError

ALLOWED = frozenset("ACGTUN")
BINARY = "positive"  # the one label of a binary (0/1) file, whatever its header calls the column
NONE = "-"  # a multi-label record with no label
FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".ffn", ".frn")
HEADER_NAMES = ("sequence", "seq", "sequences")


@dataclass(frozen=True)
class SeqRecord:
    """One sequence: upper case as read (U kept), its positive labels (None: unlabelled), and where it came from."""

    id: str
    sequence: str
    labels: frozenset[str] | None
    source: str  # "file:line", for messages


@dataclass
class SeqData:
    """The records of one file and every label name the file defines, in column or sorted order."""

    records: list[SeqRecord]
    labels: list[str]

    @property
    def is_rna(self) -> bool:
        """True when the file spells uracil (U) and never thymine (T)."""
        letters = set().union(*(set(r.sequence) for r in self.records)) if self.records else set()
        return "U" in letters and "T" not in letters


def read_sequences(path: str | Path, labels: str | Path | None = None, need_labels: bool = True) -> SeqData:
    """Read a FASTA or TSV file (by its name; ``.gz`` allowed) into records.

    Args:
        labels: A labels TSV (``id<TAB>label(s)``) for a FASTA file whose headers carry none.
        need_labels: False for prediction input: labels are read when present, never required.
    """
    path = Path(path)
    lines = list(_text_lines(path))
    name = path.name.lower().removesuffix(".gz")
    first = next((text for _, text in lines if text.strip()), "")
    if name.endswith(FASTA_SUFFIXES) or first.startswith(">"):
        data = _read_fasta(path, lines, labels, need_labels)
    elif labels is not None:
        raise DataError(f"{path}: a labels file goes with FASTA input; a TSV holds its own labels")
    else:
        data = _read_tsv(path, lines, need_labels)
    if not data.records:
        raise DataError(f"{path}: no sequences (empty file)")
    return data


def _text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of a UTF-8 file, gunzipped when it starts with gzip's magic bytes."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a FASTA or TSV file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: corrupt or truncated gzip file ({exc})") from None
    elif path.suffix.lower() == ".gz" and raw:
        raise DataError(f"{path}: named .gz but not a gzip file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not UTF-8 text") from None
    if "\x00" in text:
        raise DataError(f"{path}:{text[: text.index(chr(0))].count(chr(10)) + 1}: binary data (NUL byte), not text")
    yield from enumerate(text.splitlines(), 1)


def check_sequence(sequence: str, where: str) -> str:
    """``sequence`` in upper case; a character outside ``A C G T U N`` (any case) is a :class:`DataError`."""
    upper = sequence.upper()
    for i, char in enumerate(upper):
        if char not in ALLOWED:
            raise DataError(
                f"{where}: bad character {sequence[i]!r} at position {i + 1} (allowed: A C G T U N, any case)"
            )
    return upper


def _label_sets(
    fields: list[list[str]], header: list[str] | None, where: list[str]
) -> tuple[list[frozenset[str]], list[str]]:
    """Raw label columns of every record -> positive-label sets and the label names (see the module doc)."""
    widths = {len(f) for f in fields}
    if len(widths) > 1:
        first = len(fields[0])
        i = next(i for i, f in enumerate(fields) if len(f) != first)
        raise DataError(f"{where[i]}: {len(fields[i])} label column(s), but earlier lines have {first}")
    width = widths.pop()
    for i, f in enumerate(fields):
        empty = next((j for j, value in enumerate(f) if not value.strip()), None)
        if empty is not None:
            raise DataError(f"{where[i]}: empty label (use 0/1, label names, or {NONE!r} for none)")
    binary = all(value.strip() in ("0", "1") for f in fields for value in f)
    if width == 1 and binary:
        return [frozenset({BINARY}) if f[0].strip() == "1" else frozenset() for f in fields], [BINARY]
    if width > 1:
        if not binary:
            i = next(i for i, f in enumerate(fields) if any(v.strip() not in ("0", "1") for v in f))
            raise DataError(f"{where[i]}: with several label columns each must be 0 or 1, got {fields[i]}")
        names = header[-width:] if header and len(header) >= width else [f"label{j + 1}" for j in range(width)]
        if len(set(names)) != len(names):
            raise DataError(f"{where[0]}: label columns must have different names, got {names}")
        sets = [frozenset(n for n, v in zip(names, f, strict=True) if v.strip() == "1") for f in fields]
        return sets, names
    sets = []
    for f in fields:
        value = f[0].strip()
        sets.append(frozenset() if value == NONE else frozenset(v.strip() for v in value.split(",") if v.strip()))
    return sets, sorted(set().union(*sets))


def _read_tsv(path: Path, lines: list[tuple[int, str]], need_labels: bool) -> SeqData:
    header: list[str] | None = None
    rows: list[tuple[str, str, list[str]]] = []  # (where, sequence, label fields)
    for number, text in lines:
        if not text.strip() or text.startswith("#"):
            continue
        cells = text.split("\t")
        where = f"{path}:{number}"
        if header is None and not rows and cells[0].strip().lower() in HEADER_NAMES:
            header = [c.strip() for c in cells]
            continue
        sequence = cells[0].strip()
        if not sequence:
            raise DataError(f"{where}: empty sequence")
        rows.append((where, check_sequence(sequence, where), cells[1:]))
    if not rows:
        return SeqData([], [])
    labelled = [r for r in rows if r[2]]
    if len(labelled) not in (0, len(rows)):
        missing = next(r for r in rows if not r[2])
        raise DataError(f"{missing[0]}: missing label (expected sequence<TAB>label(s), as on the other lines)")
    if not labelled:
        if need_labels:
            raise DataError(f"{rows[0][0]}: missing label (expected sequence<TAB>label(s))")
        return SeqData([SeqRecord(w.rsplit(":", 1)[1], s, None, w) for w, s, _ in rows], [])
    sets, names = _label_sets([r[2] for r in rows], header, [r[0] for r in rows])
    records = [SeqRecord(w.rsplit(":", 1)[1], s, labels, w) for (w, s, _), labels in zip(rows, sets, strict=True)]
    return SeqData(records, names)


def _fasta_records(path: Path, lines: list[tuple[int, str]]) -> list[tuple[str, str, str]]:
    """``(where, header, sequence)`` per record; multi-line sequences joined, ``;`` comment lines skipped."""
    records: list[tuple[str, str, list[str]]] = []
    for number, text in lines:
        line = text.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith(">"):
            if records and not records[-1][2]:
                raise DataError(f"{records[-1][0]}: empty record {records[-1][1].split()[0]!r} (no sequence)")
            if not line[1:].strip():
                raise DataError(f"{path}:{number}: FASTA header without an id")
            records.append((f"{path}:{number}", line[1:].strip(), []))
        elif not records:
            raise DataError(f"{path}:{number}: sequence before the first '>' header (not FASTA?)")
        else:
            where = f"{path}:{number}: record {records[-1][1].split()[0]!r}"
            records[-1][2].append(check_sequence(line, where))
    if records and not records[-1][2]:
        raise DataError(f"{records[-1][0]}: empty record {records[-1][1].split()[0]!r} (no sequence)")
    return [(where, header, "".join(parts)) for where, header, parts in records]


def _header_label(header: str) -> tuple[str, str | None]:
    """``id label=1`` / ``id labels=A,B`` / ``id|1`` -> (id, label field or None)."""
    tokens = header.split()
    for token in tokens[1:]:
        key, sep, value = token.partition("=")
        if sep and key.lower() in ("label", "labels"):
            return tokens[0], value
    ident, bar, label = tokens[0].rpartition("|")
    return (ident, label) if bar and ident and label else (tokens[0], None)


def _read_fasta(path: Path, lines: list[tuple[int, str]], labels: str | Path | None, need_labels: bool) -> SeqData:
    raw = _fasta_records(path, lines)
    if not raw:
        return SeqData([], [])
    if labels is not None:
        table = _read_label_table(Path(labels))
        ids = [header.split()[0] for _, header, _ in raw]
        fields = []
        for (where, _, _), ident in zip(raw, ids, strict=True):
            if ident not in table and need_labels:
                raise DataError(f"{where}: missing label: record {ident!r} is not in {labels}")
            fields.append(table.get(ident, []))
        header = table.get("", None)
    else:
        parsed = [_header_label(header) for _, header, _ in raw]
        ids = [ident for ident, _ in parsed]
        fields = [[label] if label is not None else [] for _, label in parsed]
        header = None
    seen: dict[str, str] = {}
    for (where, _, _), ident in zip(raw, ids, strict=True):
        if ident in seen:
            raise DataError(f"{where}: duplicate record id {ident!r} (first at {seen[ident]})")
        seen[ident] = where
    has = [bool(f) for f in fields]
    if not any(has) and not need_labels:
        return SeqData([SeqRecord(i, s, None, w) for (w, _, s), i in zip(raw, ids, strict=True)], [])
    if not all(has):
        where = raw[has.index(False)][0]
        how = f"not in {labels}" if labels else "no label in its header (>id label=1, >id|1) and no labels file"
        raise DataError(f"{where}: missing label: {how}")
    sets, names = _label_sets(fields, header, [w for w, _, _ in raw])
    return SeqData([SeqRecord(i, s, lab, w) for (w, _, s), i, lab in zip(raw, ids, sets, strict=True)], names)


def _read_label_table(path: Path) -> dict[str, list[str]]:
    """``id<TAB>label(s)`` -> {id: label fields}; a header's column names are kept under the key ``""``."""
    table: dict[str, list[str]] = {}
    for number, text in _text_lines(path):
        if not text.strip() or text.startswith("#"):
            continue
        cells = [c.strip() for c in text.split("\t")]
        if not table and cells[0].lower() in ("id", "name", "#id"):
            table[""] = cells
            continue
        if len(cells) < 2 or not cells[0]:
            raise DataError(f"{path}:{number}: expected id<TAB>label(s)")
        if cells[0] in table:
            raise DataError(f"{path}:{number}: duplicate id {cells[0]!r}")
        table[cells[0]] = cells[1:]
    if not [k for k in table if k]:
        raise DataError(f"{path}: no labels (empty file)")
    return table


def targets(record: SeqRecord, names: list[str], where: str = "") -> list[float]:
    """0/1 per model label; a label the model does not know is a :class:`DataError`."""
    if record.labels is None:
        raise DataError(f"{record.source}: missing label")
    unknown = sorted(record.labels - set(names))
    if unknown:
        raise DataError(f"{record.source}: label {unknown[0]!r} is not one of {where or 'the'} labels {names}")
    return [1.0 if n in record.labels else 0.0 for n in names]
