"""Command-line interface (``seqvision``)."""

from seqvision.cli.main import main

__all__ = ["main"]
