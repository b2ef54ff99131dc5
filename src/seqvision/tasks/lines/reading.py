"""``seqvision read``: line images, folders, TSV/PAGE/ALTO inputs; text, JSON, or PAGE/ALTO output."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from seqvision.errors import ConfigError, DataError
from seqvision.tasks.lines.cli import recognise, recognizer_for


def _read_inputs(inputs: list[str]) -> list:  # -> list[LineSample]
    """Image files as given; folders -> their images (sorted); TSV, PAGE-XML and ALTO files -> their lines."""
    from seqvision.data.readers import IMAGE_SUFFIXES, read_lines
    from seqvision.data.samples import LineSample

    samples = []
    for name in inputs:
        path = Path(name)
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if path.is_dir() else []
        if images:
            samples += [LineSample(p, "", str(p)) for p in images]
        elif path.is_dir() or path.suffix.lower() in (".tsv", ".xml"):
            report = read_lines(path)
            for message in report.skipped:
                print(f"warning: skipped {message}", file=sys.stderr)
            samples += report.samples
        else:
            samples.append(LineSample(path, "", name))
    return samples


def _line_record(name: str, d) -> dict:
    """``read --format json``: the image's name, then text, confidences and x-ranges per character and word."""
    from seqvision.tasks.lines.predictor import Recognizer

    return {"image": name, **Recognizer.to_json(d)}


def _read_page(rec, args: argparse.Namespace) -> int:
    """``read --page XML --out XML``: every line of a PAGE/ALTO file recognised into a new file of the same format."""
    from seqvision.tasks.lines.page_writer import PageDocument

    if not args.out:
        raise ConfigError("--page needs --out OUT.xml (the input file is never modified)")
    doc = PageDocument.open(args.page, args.image)
    for message in doc.skipped:
        print(f"warning: {message}", file=sys.stderr)
    if not doc.lines:
        raise DataError(f"{args.page}: no text line with a usable polygon")
    crops = doc.crops()
    start = time.perf_counter()
    decoded = rec.read(crops, args.batch_size)
    for line, d in zip(doc.lines, decoded, strict=True):
        doc.fill(line, d)
    doc.fill_regions()
    doc.save(args.out)
    for message in doc.notes:
        print(f"note: {message}", file=sys.stderr)
    words = sum(len(d.words()) for d in decoded)
    print(
        f"{args.out}  ({doc.kind.upper() if doc.kind == 'alto' else 'PAGE'}: {len(doc.lines)} lines, {words} words "
        f"in {time.perf_counter() - start:.1f} s; {len(doc.skipped)} lines left as they were)"
    )
    return 0


def read(args: argparse.Namespace, model: str, inputs: list[str]) -> int:
    """``seqvision read`` with a text-line model: images, folders, TSV/PAGE/ALTO files, or ``--page XML``."""
    fmt = "json" if args.json else (args.format or "txt")
    if args.page:
        return _read_page(recognizer_for(model, args), args)
    if fmt in ("page", "alto") and not args.out:
        raise ConfigError(f"--format {fmt} writes one XML file per image: give --out FOLDER")
    rec = recognizer_for(model, args)
    samples = _read_inputs(inputs)
    if fmt in ("page", "alto") and any(s.polygon is not None for s in samples):
        raise ConfigError(
            f"lines from PAGE/ALTO files keep their page: use --page XML --out OUT.xml, not --format {fmt}"
        )
    results, errors = recognise(rec, samples, args.batch_size)
    for _, error in sorted(errors, key=lambda e: e[0]):
        print(f"seqvision: error: {error}", file=sys.stderr)
    failed = len(errors)
    if fmt in ("page", "alto"):
        _write_line_documents(samples, results, fmt, Path(args.out))
        return 1 if failed else 0
    out = []
    for i in sorted(results):
        d, name = results[i], samples[i].source
        if fmt == "json":
            out.append(json.dumps(_line_record(name, d), ensure_ascii=False))
        elif len(samples) > 1:
            out.append(f"{name}\t{d.text}")
        else:
            out.append(d.text)
    text = "".join(line + "\n" for line in out)
    if args.out:
        from seqvision.io import atomic_write_text

        try:
            atomic_write_text(args.out, text)
        except OSError as exc:
            raise DataError(f"{args.out}: cannot write ({exc.strerror or exc})") from None
    else:
        sys.stdout.write(text)
    return 1 if failed else 0


def _write_line_documents(samples, results, fmt: str, folder: Path) -> None:
    """``read --format page|alto``: one new one-line document per image, named after it, in ``folder``."""
    from seqvision.tasks.lines.page_writer import PageDocument

    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder}: exists and is not a folder")
    names: set[str] = set()
    for i in sorted(results):
        image = Path(samples[i].image)
        name = f"{image.stem}.xml"
        if name in names:  # two inputs with the same stem from different folders: keep both
            name = f"{image.stem}-{i}.xml"
        names.add(name)
        d = results[i]
        doc = PageDocument.for_line_image(image, (int(d.width), _height(image)), fmt)
        doc.fill(doc.lines[0], d)
        doc.fill_regions()
        doc.save(folder / name)
    print(f"{folder}  ({len(results)} {fmt.upper() if fmt == 'alto' else 'PAGE'} files)", file=sys.stderr)


def _height(image: Path) -> int:
    from PIL import Image

    with Image.open(image) as img:
        return img.height
