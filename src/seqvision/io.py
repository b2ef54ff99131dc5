"""Atomic file writes: a reader never sees a half-written file, a crash never loses the old one."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Any

from seqvision.errors import OutputError

# errors that mean "no room": the disk (or the user's quota) is full
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it; done once, before any thread writes
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def write_failed(path: Path, exc: OSError) -> OutputError:
    """One clear error for a write that failed; says so when the disk is full and that the old file is kept."""
    if exc.errno in NO_SPACE:
        return OutputError(f"{path}: the disk is full ({exc.strerror}); the previous version of the file is kept")
    return OutputError(f"{path}: cannot write ({exc.strerror or exc})")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it over ``path``.

    A crash or a full disk at any point leaves either the old file or the new one, never half of
    one; the temporary file is removed on failure (after a ``kill -9`` it stays as ``.NAME.*.tmp``,
    which :func:`remove_stale_temps` clears). A failed write raises :class:`OutputError`.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_failed(path, exc) from None
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise write_failed(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (a power cut right after ``os.replace`` could otherwise undo it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not possible on every platform / file system; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete the ``.NAME.*.tmp`` files an interrupted :func:`atomic_write_bytes` left in ``folder``."""
    removed = []
    for tmp in Path(folder).glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def read_text_lines(path: str | Path, what: str) -> list[str]:
    """Lines of a UTF-8 text file; a missing, unreadable or non-UTF-8 one is a ``DataError`` naming it as ``what``."""
    from seqvision.errors import DataError

    path = Path(path)
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(f"{path}: no such {what}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: {what} is not UTF-8 text") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None


def load_npz(path: str | Path, names: tuple[str, ...], what: str) -> list[Any]:
    """The arrays ``names`` of an ``.npz`` file, never unpickled; a missing or corrupt file, or a missing
    array, is a ``DataError`` naming the file (``what`` says what it should have been)."""
    import zipfile

    import numpy as np

    from seqvision.errors import DataError

    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [n for n in names if n not in data.files]
            if missing:
                raise DataError(f"{path}: no {'/'.join(missing)} array (expected {what})")
            return [data[n] for n in names]
    except FileNotFoundError:
        raise DataError(f"{path}: no such file ({what})") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
