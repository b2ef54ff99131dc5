"""Errors the CLI reports as one clear line (no traceback)."""


class SeqvisionError(Exception):
    """Base class for every error caused by user input rather than by a bug."""


class ConfigError(SeqvisionError):
    """Unknown preset, component or config key, or a value of the wrong type."""


class DataError(SeqvisionError):
    """A data file or folder that cannot be read or holds nothing usable."""


class CheckpointError(SeqvisionError):
    """A saved model that is missing, truncated or not a seqvision model."""


class OutputError(SeqvisionError, OSError):
    """An output file or folder that cannot be written: not writable, or the disk is full.

    Also an ``OSError``, so code that already handled a failed write keeps working.
    """
