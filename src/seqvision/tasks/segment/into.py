"""``seqvision segment PAGE --into XML [--fill | --replace] [--out NEW.xml]``: found lines into an existing file.

The file's metadata, regions and transcriptions are kept (:mod:`~seqvision.tasks.segment.merge` says how the
lines go in); the result has the file's format and schema version and validates as the writer's own output.
It is written atomically to ``--out``, or printed; the input is overwritten only when ``--out`` names it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from seqvision import __version__
from seqvision.errors import ConfigError, DataError


def _target(xml: Path, out: str | None) -> Path | None:
    """Where the result goes (``None``: stdout); a folder takes the file's name, but never the input itself."""
    if not out:
        return None
    target = Path(out)
    if target.is_dir():
        target = target / xml.name
        if target.resolve() == xml.resolve():
            raise ConfigError(f"--out {out}: would overwrite {xml}; name the file itself with --out to do that")
    return target


def segment_into(
    model: str, pages: list[str], xml: str, out: str | None, mode: str, threads: int = 0, fmt: str | None = None
) -> int:
    """Segment one page image and merge its lines into ``xml`` (``mode``: ``fill`` or ``replace``); exit status."""
    from seqvision.data.images import open_image
    from seqvision.data.page_tree import stamp_page_metadata
    from seqvision.io import atomic_write_bytes
    from seqvision.tasks.segment.existing import ExistingPage
    from seqvision.tasks.segment.merge import MODES, fill, replace
    from seqvision.tasks.segment.predictor import Segmenter

    if mode not in MODES:
        raise ConfigError(f"merge mode must be one of {', '.join(MODES)}, got {mode!r}")
    if len(pages) != 1:
        raise ConfigError(f"--into takes one page image, got {len(pages)}")
    image, source = Path(pages[0]), Path(xml)
    if not image.is_file():
        raise DataError(f"{image}: no such page image")
    if fmt == "json":
        raise ConfigError("--into writes the file's own format (PAGE-XML or ALTO), not json")
    target = _target(source, out)
    with open_image(image) as img:
        doc = ExistingPage.open(source, image, img.size)  # bad XML fails before the model is loaded
        if fmt and fmt != doc.kind:
            raise ConfigError(f"--format {fmt}: {source} is {'PAGE-XML' if doc.kind == 'page' else 'ALTO'}")
        (seg,) = Segmenter.load(model, threads=threads).predict([img])
    summary = (fill if mode == "fill" else replace)(doc, seg)
    if doc.kind == "page":
        doc.notes += stamp_page_metadata(doc.root, source, f"Lines found by seqvision {__version__} (--{mode}).")
    data = doc.to_bytes()
    for note in doc.notes:
        print(note, file=sys.stderr)
    if target is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        atomic_write_bytes(target, data)
        summary += f" -> {target}"
    print(summary, file=sys.stderr)
    return 0
