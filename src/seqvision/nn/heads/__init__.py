"""Heads: sequence features -> task outputs. Importing registers them."""

from seqvision.nn.heads import attention, classify, ctc, sigmoid  # noqa: F401
