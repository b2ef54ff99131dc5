"""Recurrent layers that honour their sequence lengths on OpenVINO's CPU plugin.

OpenVINO (2026.4 checked) runs an ONNX ``LSTM``/``GRU``/``RNN`` as if every sequence filled the padded
time axis: the reverse direction starts at the last *padded* frame instead of each sequence's own last
frame, so in a batch of lines of different widths (or one line whose width is not a multiple of the
encoder's stride) every frame of the backward pass differs from onnxruntime and torch, by up to 0.99 in
probability. ``tests/test_openvino.py`` pins it with a one-node model.

:func:`honour_sequence_lengths` rewrites each such node in the ``ov.Model`` into one forward pass per
direction, the reverse one between two ``ReverseSequence`` ops (which reverse only each sequence's own
frames, leaving the padding where it is), and zeroes the outputs past each length, as ONNX specifies.
The padding can then never reach a real frame. Final states (outputs 1, 2) are kept only where nothing
reads them, which is how seqvision's exports use these layers; other nodes are left as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SEQUENCE_OPS = {"LSTMSequence": 3, "GRUSequence": 2, "RNNSequence": 2}  # op -> index of its sequence_lengths input


def honour_sequence_lengths(model: Any) -> int:
    """Rewrites the recurrent nodes of ``model`` (an ``openvino.Model``) in place; returns how many."""
    rewritten = 0
    for node in model.get_ordered_ops():
        seq_index = SEQUENCE_OPS.get(node.get_type_name())
        if seq_index is None or any(out.get_target_inputs() for out in list(node.outputs())[1:]):
            continue
        y = _per_direction(node, seq_index)
        for target in node.output(0).get_target_inputs():
            target.replace_source_output(y.output(0))
        rewritten += 1
    if rewritten:
        model.validate_nodes_and_infer_types()
    return rewritten


def _per_direction(node: Any, seq_index: int) -> Any:
    """``(B, D, T, H)``: the node's output computed one direction at a time, zero past each sequence's length."""
    import openvino.opset13 as ops

    attrs = node.get_attributes()
    inputs = [i.get_source_output() for i in node.inputs()]
    x, lengths = inputs[0], inputs[seq_index]
    directions = ["forward", "reverse"] if attrs["direction"] == "bidirectional" else [attrs["direction"]]
    # states (B, D, H) split on axis 1, weights and biases (D, ...) on axis 0; x and the lengths are shared
    parts = [
        [x] * len(directions)
        if k == 0
        else [lengths] * len(directions)
        if k == seq_index
        else list(ops.split(inp, 1 if k < seq_index else 0, len(directions)).outputs())
        for k, inp in enumerate(inputs)
    ]
    outputs = []
    for d, direction in enumerate(directions):
        args = [p[d] for p in parts]
        if direction == "reverse":  # (B, T, I): each sequence's own frames reversed, the padding stays behind them
            args[0] = ops.reverse_sequence(x, lengths, 0, 1).output(0)
        y = _build(node.get_type_name(), args, attrs).output(0)  # (B, 1, T, H)
        outputs.append(ops.reverse_sequence(y, lengths, 0, 2).output(0) if direction == "reverse" else y)
    y = outputs[0] if len(outputs) == 1 else ops.concat(outputs, 1).output(0)  # (B, D, T, H)
    steps = ops.gather(ops.shape_of(x), np.int64(1), np.int64(0))  # () = T
    frames = ops.range(ops.constant(np.int64(0)), steps, ops.constant(np.int64(1)), "i64")  # (T,)
    valid = ops.less(ops.unsqueeze(frames, [0]), ops.unsqueeze(ops.convert(lengths, "i64"), [1]))  # (B, T)
    mask = ops.unsqueeze(ops.convert(valid, y.get_element_type()), [1, 3])  # (B, T) -> (B, 1, T, 1)
    return ops.multiply(y, mask)


def _build(kind: str, args: list[Any], attrs: dict[str, Any]) -> Any:
    """One forward-direction copy of a ``kind`` node with the original's attributes."""
    import openvino.opset13 as ops

    common = {
        "hidden_size": int(attrs["hidden_size"]),
        "direction": "forward",
        "activations": list(attrs["activations"]),
        "activations_alpha": list(attrs["activations_alpha"]),
        "activations_beta": list(attrs["activations_beta"]),
        "clip": float(attrs["clip"]),
    }
    if kind == "LSTMSequence":
        return ops.lstm_sequence(*args, **common)
    if kind == "GRUSequence":
        return ops.gru_sequence(*args, **common, linear_before_reset=bool(attrs["linear_before_reset"]))
    return ops.rnn_sequence(*args, **common)
