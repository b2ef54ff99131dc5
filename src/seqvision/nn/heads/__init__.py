"""Heads: sequence features -> task outputs. Importing registers them."""

from seqvision.nn.heads import attention, classify, ctc, embed, regress, sigmoid  # noqa: F401
