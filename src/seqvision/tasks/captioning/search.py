"""Autoregressive decoding for attention heads: batched greedy and beam search with length normalisation.

Both take the cells an encoder made and a head with ``start(cells)`` and ``step(cells, words,
state)`` (:class:`seqvision.nn.heads.attention.AttentionDecoder`) and return word ids without
``<bos>``/``<eos>``. Beam search keeps ``width`` hypotheses per image; a hypothesis that writes
``<eos>`` leaves the beam (which shrinks) and the finished one with the best
``log P / length ** length_norm`` wins. With ``width`` 1 it is exactly greedy search.
"""

from __future__ import annotations

import torch
from torch import Tensor


@torch.no_grad()
def greedy(head, cells: Tensor, bos: int, eos: int, max_words: int) -> list[list[int]]:
    """The most likely word at each step, for a ``(B, N, C)`` batch of cells."""
    batch = cells.shape[0]
    state = head.start(cells)
    words = torch.full((batch,), bos, dtype=torch.int64, device=cells.device)
    out: list[list[int]] = [[] for _ in range(batch)]
    done = torch.zeros(batch, dtype=torch.bool)
    for _ in range(max_words + 1):
        logits, _, state = head.step(cells, words, state)
        words = logits.argmax(-1)  # (B, V) -> (B,)
        for b, w in enumerate(words.tolist()):
            if not done[b]:
                if w == eos:
                    done[b] = True
                else:
                    out[b].append(w)
        if bool(done.all()):
            break
    return out


@torch.no_grad()
def beam_search(
    head, cells: Tensor, bos: int, eos: int, max_words: int, width: int, length_norm: float = 1.0
) -> list[list[int]]:
    """Beam search over all images of the batch at once (``B * width`` rows through the LSTM per step)."""
    batch = cells.shape[0]
    k = max(1, width)
    rows = cells.repeat_interleave(k, 0)  # (B, N, C) -> (B*K, N, C)
    state = head.start(rows)
    scores = torch.full((batch, k), float("-inf"), device=cells.device)
    scores[:, 0] = 0.0  # one live hypothesis per image to start with
    history = torch.full((batch * k, 0), bos, dtype=torch.int64, device=cells.device)
    words = torch.full((batch * k,), bos, dtype=torch.int64, device=cells.device)
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(batch)]
    for t in range(max_words + 1):
        logits, _, state = head.step(rows, words, state)
        logp = logits.log_softmax(-1).view(batch, k, -1)  # (B*K, V) -> (B, K, V)
        vocab = logp.shape[-1]
        total = (scores[:, :, None] + logp).view(batch, k * vocab)  # (B, K*V)
        best, flat = total.topk(k, -1)  # (B, K)
        source, word = flat // vocab, flat % vocab
        index = (source + torch.arange(batch, device=cells.device)[:, None] * k).view(-1)  # (B*K,) rows kept
        history = torch.cat([history[index], word.view(-1, 1)], 1)
        state = tuple(s[index] for s in state)  # type: ignore[assignment]
        scores = best.clone()
        last = t == max_words
        for b, i in (((word == eos) | last) & (best > float("-inf"))).nonzero().tolist():
            ids = history[b * k + i].tolist()
            ids = ids[:-1] if ids[-1] == eos else ids
            finished[b].append((float(best[b, i]) / max(len(ids) + 1, 1) ** length_norm, ids))
            scores[b, i] = float("-inf")  # the hypothesis leaves the beam
        words = word.view(-1)
        if bool((scores == float("-inf")).all()):
            break
    return [max(f, key=lambda x: x[0])[1] if f else [] for f in finished]


def decode(head, cells: Tensor, bos: int, eos: int, max_words: int, width: int = 1, length_norm: float = 1.0):
    """Greedy search for ``width`` 1, else beam search."""
    if width <= 1:
        return greedy(head, cells, bos, eos, max_words)
    return beam_search(head, cells, bos, eos, max_words, width, length_norm)
