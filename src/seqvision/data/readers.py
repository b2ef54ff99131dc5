"""Line dataset readers: a ``labels.tsv``, a folder of images with ``.gt.txt`` sidecars, PAGE-XML, ALTO.

>>> report = read_lines("data/train")          # doctest: +SKIP
>>> len(report.samples), len(report.skipped)   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from seqvision.data.samples import LineSample, ReadReport, normalize_text
from seqvision.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")


def read_tsv(path: Path) -> ReadReport:
    """``relative/image<TAB>text`` per line, paths relative to the TSV's folder; blank lines ignored."""
    report = ReadReport()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read label file ({exc.strerror or exc})") from None
    for number, line in enumerate(raw.splitlines(), 1):
        where = f"{path}:{number}"
        try:
            text_line = line.decode("utf-8").lstrip("\ufeff")
        except UnicodeDecodeError:
            report.skipped.append(f"{where}: not valid UTF-8")
            continue
        if not text_line.strip():
            continue
        name, sep, text = text_line.partition("\t")
        if not sep or not name.strip():
            report.skipped.append(f"{where}: expected 'image<TAB>text'")
            continue
        text = normalize_text(text)
        if not text:
            report.skipped.append(f"{where}: empty transcription")
            continue
        report.samples.append(LineSample(path.parent / name.strip(), text, where))
    return report


def read_sidecars(folder: Path) -> ReadReport:
    """Every image in ``folder`` (recursively) with a ``<stem>.gt.txt`` transcription beside it."""
    report = ReadReport()
    for gt in sorted(folder.rglob("*.gt.txt")):
        stem = gt.name[: -len(".gt.txt")]
        image = next((gt.with_name(stem + s) for s in IMAGE_SUFFIXES if gt.with_name(stem + s).exists()), None)
        if image is None:
            report.skipped.append(f"{gt}: no image named {stem}.png/.jpg/... beside it")
            continue
        try:
            text = normalize_text(gt.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            report.skipped.append(f"{gt}: not valid UTF-8")
            continue
        if not text:
            report.skipped.append(f"{gt}: empty transcription")
            continue
        report.samples.append(LineSample(image, text, str(gt)))
    return report


def read_lines(path: str | Path) -> ReadReport:
    """Read any supported line dataset: a TSV file, an XML page, or a folder holding either kind."""
    from seqvision.data.pages import read_page_file

    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_file():
        if path.suffix.lower() == ".xml":
            return read_page_file(path)
        return read_tsv(path)
    if (path / "index.json").is_file() and any(path.glob("lines-*.tar")):
        raise DataError(f"{path}: a shard folder (seqvision pack); text-line training and eval read it, this cannot")
    if (path / "labels.tsv").is_file():
        return read_tsv(path / "labels.tsv")
    report = read_sidecars(path)
    for xml in sorted(path.rglob("*.xml")):
        try:
            report.extend(read_page_file(xml))
        except DataError as exc:  # one broken page must not hide the rest of the folder
            report.skipped.append(str(exc))
    if not report.samples and not report.skipped:
        raise DataError(f"{path}: found no labels.tsv, *.gt.txt sidecars or PAGE/ALTO *.xml files")
    return report


CASELESS = "caseless:"


def caseless_input(spec: str) -> tuple[str, bool]:
    """``caseless:PATH`` -> ``(PATH, True)``: a set whose labels do not record case (all upper case, say).

    Its lines train through a case-folded CTC loss and are scored case-folded, so the model learns
    their appearance without being taught to answer in capitals.

    >>> caseless_input("caseless:sroie/train*4"), caseless_input("ehri/train")
    (('sroie/train*4', True), ('ehri/train', False))
    """
    if spec.strip().startswith(CASELESS) and not Path(spec).exists():
        return spec.strip()[len(CASELESS) :], True
    return spec, False


def read_input(spec: str) -> ReadReport:
    """The lines of one input, ``[caseless:]PATH`` (weights handled by the caller)."""
    path, caseless = caseless_input(spec)
    report = read_lines(path)
    if caseless:
        report.samples = [replace(s, caseless=True) for s in report.samples]
    return report
