"""CNN encoders: pixels (or one-hot DNA/RNA) -> ``(B, T, C)`` feature sequences. Importing registers them."""

from seqvision.nn.encoders import mobile, onehot, resnet, vgg  # noqa: F401
from seqvision.nn.encoders.base import Encoder
from seqvision.nn.encoders.onehot import SEQUENCE_ENCODERS
from seqvision.registry import ENCODERS


def encoders_for(input: str) -> list[str]:
    """Encoders that read ``model.input``: the one-hot ones for ``sequence``, the image CNNs for the others."""
    return [name for name in ENCODERS if (name in SEQUENCE_ENCODERS) == (input == "sequence")]


__all__ = ["SEQUENCE_ENCODERS", "Encoder", "encoders_for"]
