"""What data-parallel training needs beyond Lightning's DDP strategy: who this process is, and summing metrics.

Lightning starts the processes (``--devices N --num-nodes M --strategy ddp``, or ``torchrun`` and
SLURM's ``srun``) and averages gradients; seqvision's own parts are kept rank-aware here:

* the batch samplers (:mod:`seqvision.data.batches`) and shard streams (:mod:`seqvision.tasks.lines.shards`)
  read the rank and world size when an epoch starts, so the loaders built before the processes
  exist still split the data correctly once they do;
* validation metrics are counts (edits, characters, correct answers) summed over all ranks before
  the ratio is taken, so every rank logs, selects and stops on the same numbers;
* files are written by rank 0 only (Lightning's checkpoints and loggers already are).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import lightning as L
import torch
import torch.distributed as dist


def rank_and_world() -> tuple[int, int]:
    """(global rank, world size) of this process once the process group exists, else (0, 1)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def launch_rank(devices: int) -> int:
    """Global rank from the launcher's environment, before the process group exists.

    ``torchrun`` sets ``RANK``, SLURM ``SLURM_PROCID``; Lightning's own launcher starts the extra
    processes of a node with ``LOCAL_RANK`` (and ``NODE_RANK`` on a multi-node run) while the
    process the user started has neither (local rank 0).
    """
    for name in ("RANK", "SLURM_PROCID"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    local = int(os.environ.get("LOCAL_RANK", "0") or 0)
    node = int(os.environ.get("NODE_RANK", os.environ.get("GROUP_RANK", "0")) or 0)
    return node * max(devices, 1) + local


def sum_across_ranks(module: L.LightningModule, values: Sequence[float]) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (unchanged in a single process); every rank must call it."""
    if not (dist.is_available() and dist.is_initialized()):
        return [float(v) for v in values]
    tensor = torch.tensor([float(v) for v in values], dtype=torch.float64, device=module.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def gather_lists(items: list[Any]) -> list[Any]:
    """All ranks' ``items`` concatenated in rank order (e.g. captions, whose scores are corpus-level)."""
    if not (dist.is_available() and dist.is_initialized()):
        return list(items)
    parts: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(parts, items)
    return [item for part in parts for item in part]
