"""Tar shards for collections bigger than memory: ``seqvision pack`` writes them, training streams them.

A shard folder holds plain tar files in the WebDataset layout (every line is ``KEY.png`` with its
transcription in ``KEY.txt`` and ``KEY.json`` = ``{"source", "width", "height"}``), which any tar
reader opens, plus ``index.json``: the lines per shard, the characters of
all transcriptions and the pack settings. The index is what lets training know its epoch length
and alphabet without a pass over the data. Nothing is pickled; a shard is written under a
temporary name and renamed when complete, the index last.

>>> pack(["data/train"], "shards/train", shard_size=1000)   # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from seqvision.data.images import PageCache, load_line, resize_to_height
from seqvision.data.readers import read_lines
from seqvision.data.samples import LineSample
from seqvision.errors import DataError
from seqvision.io import atomic_write_text

FORMAT = "seqvision-shards"
INDEX = "index.json"


@dataclass(frozen=True)
class Shard:
    file: Path
    lines: int


@dataclass(frozen=True)
class ShardIndex:
    """A shard folder's ``index.json``: shards in order, line count, characters."""

    folder: Path
    shards: tuple[Shard, ...]
    characters: str
    height: int  # lines were scaled to this height when packed (0: kept as they were)

    @property
    def lines(self) -> int:
        return sum(s.lines for s in self.shards)

    @classmethod
    def load(cls, folder: str | Path) -> ShardIndex:
        folder = Path(folder)
        path = folder / INDEX
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format is {data.get('format')!r}, not {FORMAT!r}")
            shards = tuple(Shard(folder / s["file"], int(s["lines"])) for s in data["shards"])
            index = cls(folder, shards, str(data["characters"]), int(data.get("height", 0)))
        except FileNotFoundError:
            raise DataError(f"{path}: no shard index (make one with `seqvision pack DATA --out {folder}`)") from None
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{path}: not a valid shard index ({exc})") from None
        missing = [s.file for s in shards if not s.file.is_file()]
        if missing:
            raise DataError(f"{missing[0]}: shard listed in {path} is missing")
        return index


def is_shards(path: str | Path) -> bool:
    """True for a folder made by :func:`pack` (it holds ``index.json``)."""
    return bool(path) and (Path(path) / INDEX).is_file()


@dataclass
class Record:
    """One packed line: encoded image, transcription, size before any scaling at training time."""

    key: str
    png: bytes
    text: str
    width: int
    height: int
    source: str


def read_shard(path: Path, skip: int = 0, take: int | None = None) -> Iterator[Record]:
    """The lines of one shard in order, from line ``skip`` on, at most ``take``; skipped lines are not read."""
    parts: dict[str, bytes] = {}
    key, seen, given = None, 0, 0
    try:
        with tarfile.open(path, "r:") as tar:
            for member in tar:
                stem, _, ext = member.name.rpartition(".")
                if stem != key:
                    if key is not None:
                        seen += 1
                        if seen > skip:
                            yield _record(path, key, parts)
                            given += 1
                    if take is not None and given >= take:
                        return
                    key, parts = stem, {}
                if seen >= skip and member.isfile():
                    data = tar.extractfile(member)
                    parts[ext] = data.read() if data else b""
            if key is not None and seen >= skip and (take is None or given < take):
                yield _record(path, key, parts)
    except (tarfile.TarError, OSError) as exc:
        raise DataError(f"{path}: corrupt or unreadable shard ({exc})") from None


def _record(path: Path, key: str, parts: dict[str, bytes]) -> Record:
    try:
        meta = json.loads(parts["json"])
        return Record(key, parts["png"], parts["txt"].decode("utf-8"), meta["width"], meta["height"], meta["source"])
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: line {key} is incomplete or corrupt ({exc})") from None


class ShardWriter:
    """Writes records into ``lines-NNNNNN.tar`` files of ``shard_size`` lines or ``shard_bytes`` bytes."""

    def __init__(self, folder: Path, shard_size: int = 1000, shard_bytes: int = 0):
        self.folder, self.shard_size, self.shard_bytes = folder, shard_size, shard_bytes
        self.shards: list[dict[str, Any]] = []
        self.characters: set[str] = set()
        self.count = 0
        self._tar: tarfile.TarFile | None = None
        self._tmp: Path | None = None
        self._lines = self._bytes = 0

    def add(self, png: bytes, text: str, width: int, height: int, source: str) -> None:
        full = self._lines >= self.shard_size or (self.shard_bytes and self._bytes >= self.shard_bytes)
        if self._tar is None or full:
            self._finish()
            self._tmp = self.folder / f".lines-{len(self.shards):06d}.tar.tmp"
            self._tar = tarfile.open(self._tmp, "w", format=tarfile.USTAR_FORMAT)  # noqa: SIM115 (closed in _finish)
        key = f"{self.count:09d}"
        meta = json.dumps({"source": source, "width": width, "height": height}, ensure_ascii=False)
        for ext, data in (("png", png), ("txt", text.encode("utf-8")), ("json", meta.encode("utf-8"))):
            info = tarfile.TarInfo(f"{key}.{ext}")
            info.size = len(data)
            self._tar.addfile(info, io.BytesIO(data))
            self._bytes += 512 + -(-len(data) // 512) * 512  # header + data padded to tar blocks
        self.characters.update(text)
        self.count += 1
        self._lines += 1

    def _finish(self) -> None:
        if self._tar is None or self._tmp is None:
            return
        self._tar.close()
        name = f"lines-{len(self.shards):06d}.tar"
        os.replace(self._tmp, self.folder / name)
        self.shards.append({"file": name, "lines": self._lines, "bytes": (self.folder / name).stat().st_size})
        self._tar, self._tmp, self._lines, self._bytes = None, None, 0, 0

    def close(self, **info: Any) -> dict[str, Any]:
        """Finish the last shard and write ``index.json`` (last, so a folder with an index is complete)."""
        self._finish()
        index = {
            "format": FORMAT,
            "version": 1,
            "lines": self.count,
            "characters": "".join(sorted(self.characters)),
            "shards": self.shards,
            **info,
        }
        atomic_write_text(self.folder / INDEX, json.dumps(index, ensure_ascii=False, indent=1))
        return index


def encode_png(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", compress_level=1)  # fast to write; lines compress well anyway
    return buffer.getvalue()


def pack(
    inputs: list[str], out: str | Path, shard_size: int = 1000, shard_mb: float = 0, height: int = 0
) -> dict[str, Any]:
    """Convert any line reader input (TSV, sidecar folders, PAGE/ALTO) into shards; returns the index.

    PAGE/ALTO lines are cropped from their page once, here. ``height`` > 0 scales every line to
    that height (smaller shards, faster training for a model of that height). Lines that cannot
    be read are skipped with a warning, as in training.
    """
    from seqvision.data.loaders import report_skipped

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out}: folder exists and is not empty (pack into a new folder)")
    if shard_size < 1 or shard_mb < 0 or height < 0:
        raise DataError("--shard-size must be at least 1, --shard-mb and --height not negative")
    out.mkdir(parents=True, exist_ok=True)
    writer = ShardWriter(out, shard_size, int(shard_mb * 2**20))
    pages = PageCache()
    skipped = 0
    for data in inputs:
        report = read_lines(data)
        bad: list[str] = list(report.skipped)
        for s in report.samples:
            try:
                img = load_line(s, pages)
            except DataError as exc:
                bad.append(str(exc))
                continue
            if height:
                img = resize_to_height(img, height)
            writer.add(encode_png(img), s.text, img.width, img.height, s.source)
        report_skipped(f"pack {data}", bad, None)
        skipped += len(bad)
    if not writer.count:
        raise DataError(f"{', '.join(inputs)}: no usable line to pack")
    return writer.close(height=height, inputs=[str(i) for i in inputs], skipped=skipped)


class ShardImages:
    """Random access to the line images of a shard folder, for ``seqvision eval SHARDS``.

    One pass over the tar headers (and the small ``.txt``/``.json`` members) gives every line's
    transcription and where its PNG lies; :meth:`load` then reads just those bytes (``pread``, so
    the loader threads share the open files). Memory: the transcriptions and three integers per
    line, never the images.
    """

    def __init__(self, index: ShardIndex):
        self.index = index
        self.samples: list[LineSample] = []
        self.where: list[tuple[int, int, int]] = []  # (shard, offset, size) of each line's PNG
        self._files: dict[int, int] = {}
        for k, shard in enumerate(index.shards):
            self._scan(k, shard.file)

    def _scan(self, k: int, path: Path) -> None:
        try:
            with tarfile.open(path, "r:") as tar:
                lines: dict[str, dict[str, Any]] = {}
                for member in tar:
                    stem, _, ext = member.name.rpartition(".")
                    entry = lines.setdefault(stem, {})
                    if ext == "png":
                        entry["png"] = (member.offset_data, member.size)
                    elif ext in ("txt", "json"):
                        data = tar.extractfile(member)
                        entry[ext] = data.read() if data else b""
            for key, entry in lines.items():
                meta = json.loads(entry["json"])
                text = entry["txt"].decode("utf-8")
                self.samples.append(LineSample(path, text, f"{meta['source']} ({path.name}:{key})"))
                self.where.append((k, *entry["png"]))
        except (tarfile.TarError, OSError) as exc:
            raise DataError(f"{path}: corrupt or unreadable shard ({exc})") from None
        except (KeyError, ValueError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: a line is incomplete or corrupt ({exc})") from None

    def load(self, i: int) -> Image.Image:
        k, offset, size = self.where[i]
        if k not in self._files:
            self._files[k] = os.open(self.index.shards[k].file, os.O_RDONLY)
        data = os.pread(self._files[k], size, offset)
        try:
            with Image.open(io.BytesIO(data)) as img:
                return img.convert("L")
        except (OSError, ValueError, SyntaxError) as exc:
            raise DataError(f"{self.samples[i].source}: unreadable image ({exc})") from None

    def close(self) -> None:
        for fd in self._files.values():
            os.close(fd)
        self._files.clear()
