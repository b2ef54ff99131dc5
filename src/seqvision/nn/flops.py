"""Counting a model's forward FLOPs on one line (multiply-add = 2 FLOPs), for benchmarks and studies.

>>> from seqvision.nn.presets import get_preset
>>> from seqvision.nn.model import build_model
>>> round(forward_gflops(build_model(get_preset("crnn-mobile"), 80), 48, 356), 2) > 0
True
"""

from __future__ import annotations

from collections.abc import Callable

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
    """GFLOPs of one forward pass on a single ``height x width`` grey line (see :func:`count_gflops`)."""
    return count_gflops(model, (torch.zeros(1, 1, height, width), torch.tensor([width])))


def count_gflops(model: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> float:
    """GFLOPs of ``model(*inputs)`` (a line, a clip ...; batch 1 gives the cost per sample).

    An LSTM/GRU that the counter cannot see (a fused kernel) is added by :func:`rnn_flops`; one
    it can see (on CPU the GRU runs as visible matmuls) is not counted twice.
    """
    model.eval()
    rnn_steps: dict[str, int] = {}

    def count(name: str) -> Callable[[torch.nn.Module, tuple, object], None]:
        def hook(module: torch.nn.Module, inputs: tuple, output: object) -> None:
            packed = inputs[0]
            steps = (
                int(packed.batch_sizes.sum()) if hasattr(packed, "batch_sizes") else packed.shape[0] * packed.shape[1]
            )
            rnn_steps[name] = rnn_steps.get(name, 0) + steps

        return hook

    rnns = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.RNNBase)}
    hooks = [m.register_forward_hook(count(n)) for n, m in rnns.items()]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(*inputs)
    for h in hooks:
        h.remove()
    seen = counter.get_flop_counts()
    root = type(model).__name__
    rnn_total = sum(
        rnn_flops(rnns[n], steps)  # type: ignore[arg-type]
        for n, steps in rnn_steps.items()
        if not sum(seen.get(f"{root}.{n}", {}).values())
    )
    return (counter.get_total_flops() + rnn_total) / 1e9
