"""Attention decoder head (Show, Attend and Tell): an LSTM writes words, attending over the image's cells.

At each step the previous word's embedding and an attention-weighted context of the cells go
into an LSTM cell; soft additive (Bahdanau) attention scores every cell from the LSTM state, and a
sigmoid gate from the state scales the context (the paper's beta). The first state comes from
the mean cell. :meth:`forward` is teacher forcing (with optional scheduled sampling) and returns
the attention weights too, for the doubly stochastic regulariser and for attention maps;
:meth:`start` and :meth:`step` drive greedy and beam search (:mod:`seqvision.tasks.captioning.search`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqvision.config import HeadConfig
from seqvision.registry import HEADS

State = tuple[Tensor, Tensor, Tensor]  # LSTM h, LSTM c: (B, H) each; projected cells (B, N, A)


class AttentionDecoder(nn.Module):
    """``(B, N, C)`` cells + ``(B, L)`` input words -> ``(B, L, V)`` logits and ``(B, L, N)`` attention."""

    def __init__(self, in_channels: int, vocab_size: int, cfg: HeadConfig):
        super().__init__()
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, cfg.embedding)
        self.init_h = nn.Linear(in_channels, cfg.hidden)
        self.init_c = nn.Linear(in_channels, cfg.hidden)
        self.att_cells = nn.Linear(in_channels, cfg.attention)
        self.att_state = nn.Linear(cfg.hidden, cfg.attention)
        self.att_score = nn.Linear(cfg.attention, 1, bias=False)  # a bias would cancel in the softmax
        self.gate = nn.Linear(cfg.hidden, in_channels)
        self.lstm = nn.LSTMCell(cfg.embedding + in_channels, cfg.hidden)
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(cfg.hidden, vocab_size)

    def start(self, cells: Tensor) -> State:
        mean = cells.mean(1)  # (B, N, C) -> (B, C)
        return torch.tanh(self.init_h(mean)), torch.tanh(self.init_c(mean)), self.att_cells(cells)

    def step(self, cells: Tensor, words: Tensor, state: State) -> tuple[Tensor, Tensor, State]:
        """One word: ``(B,)`` previous words -> ``(B, V)`` logits, ``(B, N)`` attention, the next state."""
        h, c, projected = state
        scores = self.att_score(torch.tanh(projected + self.att_state(h)[:, None])).squeeze(-1)  # (B, N)
        alpha = scores.softmax(-1)
        context = (alpha[:, :, None] * cells).sum(1)  # (B, N, C) -> (B, C)
        context = torch.sigmoid(self.gate(h)) * context
        h, c = self.lstm(torch.cat([self.embed(words), context], -1), (h, c))
        return self.out(self.drop(h)), alpha, (h, c, projected)

    def forward(self, cells: Tensor, words: Tensor, sampling: float = 0.0) -> tuple[Tensor, Tensor]:
        """Teacher forcing over ``words`` (``<bos>`` first); with ``sampling`` > 0 each step feeds, with that
        chance per caption, the model's own previous best word instead of the true one (scheduled sampling)."""
        state = self.start(cells)
        logits: list[Tensor] = []
        alphas: list[Tensor] = []
        previous = words[:, 0]
        for t in range(words.shape[1]):
            if t > 0:
                previous = words[:, t]
                if sampling > 0:
                    own = logits[-1].argmax(-1)
                    previous = torch.where(torch.rand_like(previous, dtype=torch.float) < sampling, own, previous)
            step_logits, alpha, state = self.step(cells, previous, state)
            logits.append(step_logits)
            alphas.append(alpha)
        return torch.stack(logits, 1), torch.stack(alphas, 1)  # (B, L, V), (B, L, N)


@HEADS.register("attention")
def attention(cfg: HeadConfig, in_channels: int, num_classes: int) -> nn.Module:
    """LSTM decoder with soft attention over image cells -> words (captioning; Show, Attend and Tell)."""
    return AttentionDecoder(in_channels, num_classes, cfg)
