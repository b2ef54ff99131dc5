"""Heads: sequence features -> task outputs. Importing registers them."""

from seqvision.heads import attention, classify, ctc  # noqa: F401
