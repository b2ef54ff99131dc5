"""Streaming shards into training: each data-parallel rank and loader worker reads its own part, once.

An epoch is the concatenation of the shards (in a new seeded order every training epoch), cut
into ``ranks x workers`` contiguous ranges that differ by at most one line; every consumer opens
only the shards its range touches and skips to its first line without reading the ones before.
So every line is read exactly once per epoch, whatever the number of shards, ranks or workers.

Within a consumer, lines pass through a buffer (``BUFFER_BATCHES`` batches): shuffled, sorted by
noisy width (little padding, as :class:`~seqvision.data.lines.WidthBucketSampler` does), cut into
batches, and the batches shuffled; images are decoded only when their batch is made, so memory
holds one buffer of compressed lines whatever the size of the collection.

DDP needs the same number of steps on every rank: in training a consumer that runs short (its
range one line smaller, or lines skipped as unusable) repeats lines of its own first batch to make
up the count, as ``DistributedSampler`` does. Validation never repeats a line.
"""

from __future__ import annotations

import io
import random
import warnings
from collections.abc import Callable, Iterator

from PIL import Image
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from seqvision.config import DataConfig
from seqvision.data.alphabet import Alphabet
from seqvision.data.augment import augment_line
from seqvision.data.images import normalise, resize_to_height
from seqvision.data.lines import collate_lines, ctc_frames_needed
from seqvision.data.loaders import Loaders, warn
from seqvision.errors import DataError
from seqvision.nn.model import SeqModel
from seqvision.tasks.lines.shards import Record, ShardIndex, is_shards, read_shard
from seqvision.training.distributed import rank_and_world

BUFFER_BATCHES = 32


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def split_range(total: int, parts: int, part: int) -> tuple[int, int]:
    """``[start, end)`` of ``part`` when ``total`` items are cut into ``parts`` contiguous near-equal ranges.

    >>> [split_range(10, 3, p) for p in range(3)]
    [(0, 3), (3, 6), (6, 10)]
    """
    return total * part // parts, total * (part + 1) // parts


class ShardLines(IterableDataset):
    """Batches (as :func:`collate_lines` makes them) streamed from a shard folder; see the module docstring.

    ``batch_size`` is the global batch; each rank makes batches of ``batch_size / ranks``.
    ``workers`` must be the loader's ``num_workers`` (0 or more), so the epoch length is known. Each
    copy of the stream counts its own epochs (for a new order every epoch), so a loader with workers
    must keep them (``persistent_workers=True``, as :func:`shard_loaders` does).
    """

    def __init__(
        self,
        index: ShardIndex,
        alphabet: Alphabet,
        height: int,
        batch_size: int,
        output_length: Callable[[int], int],
        max_width: int,
        shuffle: bool,
        augment: bool = False,
        seed: int = 0,
        workers: int = 0,
        warp: float = 0.0,
    ):
        self.index, self.alphabet, self.height = index, alphabet, height
        self.batch_size, self.output_length, self.max_width = batch_size, output_length, max_width
        self.shuffle, self.augment, self.seed, self.workers = shuffle, augment, seed, max(workers, 1)
        self.warp = warp
        self.epoch = 0  # counted per copy: persistent workers (or the main process) keep theirs

    def _rank_batch(self) -> tuple[int, int, int]:
        rank, world = rank_and_world()
        return rank, world, ceil_div(self.batch_size, world)

    def __len__(self) -> int:
        """Batches this rank yields in an epoch (without unusable lines)."""
        rank, world, batch = self._rank_batch()
        consumers, total = world * self.workers, self.index.lines
        if total < consumers:  # a rank without lines would skip validation and leave the others waiting
            raise DataError(
                f"{self.index.folder}: {total} line(s) for {world} rank(s) x {self.workers} loader worker(s); "
                "use fewer workers (data.num_workers) or more data"
            )
        if self.shuffle:
            return self.workers * ceil_div(ceil_div(total, consumers), batch)
        sizes = [split_range(total, consumers, rank * self.workers + w) for w in range(self.workers)]
        return sum(ceil_div(end - start, batch) for start, end in sizes)

    def _records(self, order: list[int], start: int, end: int) -> Iterator[Record]:
        """Lines ``[start, end)`` of the epoch's concatenation of shards in ``order``."""
        position = 0
        for i in order:
            shard = self.index.shards[i]
            first, last = max(start, position), min(end, position + shard.lines)
            if first < last:
                yield from read_shard(shard.file, skip=first - position, take=last - first)
            position += shard.lines
            if position >= end:
                return

    def _usable(self, r: Record) -> int:
        """The line's width at the model height, or 0 when the model cannot learn from it."""
        width = max(4, round(r.width * self.height / max(r.height, 1)))
        if width > self.max_width or self.output_length(width) < ctc_frames_needed(self.alphabet.encode(r.text)):
            return 0
        return width

    def _decode(self, r: Record, rng: random.Random) -> tuple:
        try:
            with Image.open(io.BytesIO(r.png)) as img:
                line = resize_to_height(img.convert("L"), self.height)
        except (OSError, ValueError, SyntaxError) as exc:
            raise DataError(f"{r.source} (shard line {r.key}): unreadable image ({exc})") from None
        if self.augment:
            line = augment_line(line, rng, self.warp)
        return normalise(line), self.alphabet.encode(r.text), r.text, False

    def __iter__(self) -> Iterator[dict]:
        len(self)  # checks there are lines for every rank and worker
        rank, world, batch = self._rank_batch()
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        if workers != self.workers:
            raise DataError(f"shard stream made for {self.workers} loader worker(s) runs in {workers}")
        consumer, consumers = rank * workers + worker, world * workers
        rng = random.Random(f"{self.seed}:{self.epoch}:{consumer}")
        order = list(range(len(self.index.shards)))
        if self.shuffle:
            random.Random(f"{self.seed}:{self.epoch}").shuffle(order)  # the same on every consumer
        self.epoch += 1
        start, end = split_range(self.index.lines, consumers, consumer)
        target = ceil_div(ceil_div(self.index.lines, consumers), batch) if self.shuffle else None
        buffer: list[tuple[Record, int]] = []
        first: list[Record] = []
        made = skipped = 0
        for r in self._records(order, start, end):
            width = self._usable(r)
            if not width:
                skipped += 1
                continue
            buffer.append((r, width))
            if len(first) < batch:
                first.append(r)
            if len(buffer) >= batch * BUFFER_BATCHES:
                for b in self._batches(buffer, batch, rng):
                    made += 1
                    yield collate_lines([self._decode(x, rng) for x in b])
                buffer = []
        for b in self._batches(buffer, batch, rng):
            made += 1
            yield collate_lines([self._decode(x, rng) for x in b])
        if skipped and self.epoch == 1:
            warnings.warn(f"{self.index.folder}: {skipped} line(s) too wide or too short for the model", stacklevel=2)
        if target is not None and made < target:
            if not first:
                raise DataError(f"{self.index.folder}: no usable line in lines {start}-{end} of the shards")
            for i in range(target - made):  # make up the steps every rank must take (see the module docstring)
                yield collate_lines([self._decode(first[(i * batch + j) % len(first)], rng) for j in range(batch)])

    def _batches(self, buffer: list[tuple[Record, int]], batch: int, rng: random.Random) -> list[list[Record]]:
        if self.shuffle:
            keyed = sorted(buffer, key=lambda x: x[1] * rng.uniform(0.9, 1.1))
        else:
            keyed = sorted(buffer, key=lambda x: x[1])
        batches = [[r for r, _ in keyed[i : i + batch]] for i in range(0, len(keyed), batch)]
        if self.shuffle:
            rng.shuffle(batches)
        return batches


def shard_loaders(cfg: DataConfig, alphabet: Alphabet, model: SeqModel, height: int, seed: int) -> Loaders:
    """Loaders streaming from shard folders (``seqvision pack``): no pass over the data before training starts."""
    if not is_shards(cfg.val):
        raise DataError(
            f"{cfg.train} is a shard folder: give validation shards too (--val, made by `seqvision pack VAL --out ...`)"
        )
    train_index, val_index = ShardIndex.load(cfg.train_path), ShardIndex.load(cfg.val)
    unknown = set(val_index.characters) - set(alphabet.chars)
    if unknown:
        warn(f"validation text has character(s) never seen in training, counted as errors: {''.join(sorted(unknown))}")
    workers = cfg.num_workers

    def loader(index: ShardIndex, train: bool) -> DataLoader:
        stream = ShardLines(
            index,
            alphabet,
            height,
            cfg.batch_size,
            model.encoder.output_length,
            cfg.max_width,
            shuffle=train,
            augment=train and cfg.augment,
            seed=seed,
            workers=workers,
            warp=cfg.warp,
        )
        return DataLoader(stream, batch_size=None, num_workers=workers, persistent_workers=workers > 0)

    return Loaders(loader(train_index, True), loader(val_index, False), train_index.lines, val_index.lines)
