"""Heads: sequence features -> task outputs. Importing registers them."""

from seqvision.heads import classify, ctc  # noqa: F401
