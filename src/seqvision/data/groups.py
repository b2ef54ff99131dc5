"""Splits that keep groups together (an actor, a scene, a speaker): hold out whole groups, and check a given split.

Any sample with a ``group`` attribute works: the clip tasks' samples all carry one.

>>> from types import SimpleNamespace as S
>>> train, val = grouped_split([S(group=g) for g in "aabbcc"], 0.3, seed=0)
>>> sorted({s.group for s in train} & {s.group for s in val})
[]
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Protocol, TypeVar

from seqvision.errors import DataError


class Grouped(Protocol):
    @property
    def group(self) -> str: ...


S = TypeVar("S", bound=Grouped)


def grouped_split(samples: list[S], fraction: float, seed: int, what: str = "group") -> tuple[list[S], list[S]]:
    """Hold out whole groups (seeded) until about ``fraction`` of the samples are in validation.

    Raises:
        DataError: when fewer than two groups exist, so no split can keep them together.
    """
    sizes = Counter(s.group for s in samples)
    groups = sorted(sizes)
    if len(groups) < 2:
        raise DataError(f"cannot hold out validation clips: all {len(samples)} clips have one {what}; pass --val")
    random.Random(seed).shuffle(groups)
    target, held, count = max(1, round(len(samples) * fraction)), set(), 0
    for g in groups[:-1]:  # at least one group stays for training
        if count >= target:
            break
        held.add(g)
        count += sizes[g]
    return [s for s in samples if s.group not in held], [s for s in samples if s.group in held]


def check_no_leak(train: list[S], val: list[S], what: str = "group") -> None:
    """Raise :class:`DataError` when a group has samples on both sides of a given split."""
    shared = sorted({s.group for s in train} & {s.group for s in val})
    if shared:
        raise DataError(
            f"the split leaks: {len(shared)} {what}(s) have clips in both train and val "
            f"(e.g. {', '.join(shared[:3])}); "
            f"clips of one {what} must stay on one side (or leave out --val to split by {what} automatically)"
        )
