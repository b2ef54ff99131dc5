"""Counting a model's forward FLOPs on one line (multiply-add = 2 FLOPs), for benchmarks and studies.

>>> from seqvision.presets import get_preset
>>> from seqvision.model import build_model
>>> round(forward_gflops(build_model(get_preset("crnn-mobile"), 80), 48, 356), 2) > 0
True
"""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode


def rnn_flops(module: torch.nn.RNNBase, steps: int) -> int:
    """Matmul FLOPs of an LSTM/GRU over ``steps`` valid steps (FlopCounterMode cannot see the fused CPU kernel)."""
    gates = {"LSTM": 4, "GRU": 3}.get(module.mode, 1)
    dirs = 2 if module.bidirectional else 1
    total, size_in = 0, module.input_size
    for _ in range(module.num_layers):
        total += 2 * steps * dirs * gates * module.hidden_size * (size_in + module.hidden_size)
        size_in = module.hidden_size * dirs
    return total


def forward_gflops(model: torch.nn.Module, height: int, width: int) -> float:
    """GFLOPs of one forward pass on a single ``height x width`` line."""
    model.eval()
    rnn_total = 0

    def count(module: torch.nn.Module, inputs: tuple, output: object) -> None:
        nonlocal rnn_total
        packed = inputs[0]
        steps = int(packed.batch_sizes.sum()) if hasattr(packed, "batch_sizes") else packed.shape[0] * packed.shape[1]
        rnn_total += rnn_flops(module, steps)  # type: ignore[arg-type]

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, torch.nn.RNNBase)]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 1, height, width), torch.tensor([width]))
    for h in hooks:
        h.remove()
    return (counter.get_total_flops() + rnn_total) / 1e9
