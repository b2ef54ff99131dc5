"""Heads: sequence features -> task outputs. Importing registers them."""

from seqvision.nn.heads import attention, classify, ctc, embed, sigmoid  # noqa: F401
