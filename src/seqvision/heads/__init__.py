"""Heads: sequence features -> task outputs. Importing registers them."""

from seqvision.heads import attention, classify, ctc, sigmoid  # noqa: F401
