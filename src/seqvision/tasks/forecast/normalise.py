"""How stored values become model inputs and back: linear (images, user arrays) or log1p (rain rates).

Rain rates span four orders of magnitude; ``log1p`` of mm/h puts drizzle and downpours on one
scale and is the same for every radar, so a model trained on one provider reads another's event.

>>> n = Normalisation("log1p", units="mm/h")
>>> round(float(n.inverse(n.forward(np.float32(5.0)))), 4)
5.0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import numpy as np
import torch

A = TypeVar("A", np.ndarray, torch.Tensor, np.floating)


@dataclass
class Normalisation:
    transform: str = "linear"  # linear: (v - offset) / scale | log1p: log(1 + max(v, 0)) / scale
    offset: float = 0.0
    scale: float = 1.0
    units: str = ""  # of the stored values (and of the metrics): "mm/h", "intensity 0-255" ...

    def forward(self, v: A) -> A:
        if self.transform == "log1p":
            lib: Any = torch if isinstance(v, torch.Tensor) else np
            return lib.log1p(lib.clip(v, 0, None)) / self.scale
        return (v - self.offset) / self.scale

    def inverse(self, x: A) -> A:
        if self.transform == "log1p":
            lib: Any = torch if isinstance(x, torch.Tensor) else np
            return lib.clip(lib.expm1(x * self.scale), 0, None)
        return x * self.scale + self.offset

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Normalisation:
        return cls(**{k: d[k] for k in ("transform", "offset", "scale", "units") if k in d})
