"""CNN encoders: pixels -> ``(B, T, C)`` feature sequences. Importing registers them."""

from seqvision.encoders import mobile, resnet, vgg  # noqa: F401
from seqvision.encoders.base import Encoder

__all__ = ["Encoder"]
