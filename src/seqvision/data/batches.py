"""Batch samplers that split one global batch across data-parallel ranks.

``data.batch_size`` is the **global** batch: with N ranks every optimiser step still sees
``batch_size`` samples, each rank ``batch_size / N`` of them (the last piece padded by repeating a
sample of its own batch when the batch does not divide), so a run on N processes takes the same
steps as one process with the same batch. Every rank draws the same global batches (the same seed,
advanced once per epoch) and keeps its own piece, so no sample is seen twice in a step.

Validation batches are not split but dealt out whole, round-robin (rank ``r`` takes batches
``r, r + N, ...``): nothing is repeated, and the metrics are summed over ranks afterwards.

Lightning's automatic ``DistributedSampler`` is switched off (``use_distributed_sampler=False``)
because it cannot be injected into a custom batch sampler; these do the splitting instead.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

from seqvision.training.distributed import rank_and_world


def rank_piece(batch: list[int], rank: int, world: int) -> list[int]:
    """Rank ``rank``'s share of one global batch: every ``world``-th item, padded from the batch to equal size.

    >>> rank_piece([0, 1, 2, 3, 4], 0, 2), rank_piece([0, 1, 2, 3, 4], 1, 2)
    ([0, 2, 4], [1, 3, 0])
    """
    size = -(-len(batch) // world)
    padded = batch + [batch[i % len(batch)] for i in range(size * world - len(batch))]
    return padded[rank::world]


class RankBatches(Sampler[list[int]]):
    """Base: subclasses make the global batches of an epoch; this keeps the current rank's share.

    Each pass is one epoch, and ``self.rng`` is reseeded from ``(seed, epoch)`` before it, so the
    batches of an epoch do not depend on the passes before: a run resumed after ``kill -9`` asks
    with :meth:`resume_at` for exactly the rest of the epoch the killed run had started
    (:class:`~seqvision.training.faults.ResumeState` does).
    """

    def __init__(self, shuffle: bool, seed: int = 0):
        self.shuffle, self.seed = shuffle, seed
        self.rng = random.Random(seed)
        self.epoch = 0
        self.resume: tuple[int, int] | None = None  # (epoch, this rank's batches already done in it)

    def resume_at(self, epoch: int, batches: int) -> None:
        """The next pass is epoch ``epoch`` without its first ``batches`` batches (the next epoch once all are done)."""
        if batches >= len(self):
            epoch, batches = epoch + 1, 0
        self.epoch, self.resume = epoch, (epoch, batches)

    def global_batches(self) -> list[list[int]]:
        raise NotImplementedError

    def __len__(self) -> int:
        n = self.global_count()
        if self.shuffle:
            return n
        rank, world = rank_and_world()
        return max(len(range(rank, n, world)), 1 if n else 0)

    def global_count(self) -> int:
        raise NotImplementedError

    def __iter__(self) -> Iterator[list[int]]:
        # a generator, so the batches are drawn when the first one is asked for, as torch's samplers do
        self.rng = random.Random(f"{self.seed}/{self.epoch}")
        skip = self.resume[1] if self.resume and self.resume[0] == self.epoch else 0
        self.resume, self.epoch = None, self.epoch + 1
        yield from self._rank_batches()[skip:]

    def _rank_batches(self) -> list[list[int]]:
        batches = self.global_batches()
        rank, world = rank_and_world()
        if world == 1:
            return batches
        if self.shuffle:
            return [rank_piece(b, rank, world) for b in batches]
        mine = batches[rank::world]
        if not mine and batches:  # fewer validation batches than ranks: every rank must still validate
            mine = [rank_piece(batches[-1], rank, world)]
        return mine


class RandomBatches(RankBatches):
    """Batches of ``batch_size`` indices in ``range(n)``, reshuffled every epoch when ``shuffle``.

    In one process the order is drawn exactly as ``DataLoader(shuffle=True)`` draws it (from torch's
    global generator), so single-process runs are unchanged; with several ranks it comes from this
    sampler's own seeded generator, which advances identically on every rank.
    """

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int = 0):
        super().__init__(shuffle, seed)
        self.n, self.batch_size = n, batch_size

    def global_count(self) -> int:
        return -(-self.n // self.batch_size)

    def global_batches(self) -> list[list[int]]:
        order = list(range(self.n))
        if self.shuffle and rank_and_world()[1] == 1:
            seed = int(torch.empty((), dtype=torch.int64).random_().item())  # as torch's RandomSampler
            order = torch.randperm(self.n, generator=torch.Generator().manual_seed(seed)).tolist()
        elif self.shuffle:
            self.rng.shuffle(order)
        return [order[i : i + self.batch_size] for i in range(0, self.n, self.batch_size)]
