"""seqvision: hybrid CNN + RNN vision models (encoder -> sequence model -> head)."""

__version__ = "0.1.0"
