"""An :class:`~seqvision.tasks.lines.decoding.lm.NgramLM` as flat arrays that compiled code walks directly.

A *node* is an n-gram context the model knows (every n-gram of up to ``order - 1`` tokens, and
every prefix of one), numbered from 0 (the empty context). Each node has a back-off weight and a
back-off pointer (its longest proper suffix that is a node). *Entries* are keyed by
``node * V + token``, sorted: the n-gram ``node + token`` with its ``log10 p`` (NaN where only its
node exists) and its node (-1 where it is a full ``order``-gram). A query ``p(w | node)`` is the
ARPA back-off walk: while ``node + w`` is not an n-gram, add the node's back-off and go to its
suffix. It adds the same terms in the same order as :meth:`NgramLM.logprob`, so the values agree
to the last bit.

A hypothesis carries the node of the longest known suffix of its history; appending ``w`` moves
it to the longest node that is a suffix of ``node + w`` (at most ``order - 1`` tokens). That is the
longest known suffix of the whole new history because the nodes are closed under prefixes.

>>> lm = NgramLM.build(["the cat sat", "the hat"], order=3, unit="char")
>>> table = LMTable.build(lm, ["<s>", "<space>", "a", "c", "e", "h", "s", "t"])
>>> table.node_len.tolist()[:3]
[0, 1, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqvision.tasks.lines.decoding.lm import BOS, EOS, UNK, NgramLM


@dataclass(frozen=True)
class LMTable:
    """The arrays (see the module docstring); ``*_tok`` map a decoder class index to an LM token id (-1: none)."""

    order: int
    vocab: int  # V: LM token ids are 0 .. V-1
    keys: np.ndarray  # (E,) int64, sorted: node * V + token
    first: np.ndarray  # (N + 1,) int64, entries of node i are keys[first[i]:first[i + 1]]
    logp10: np.ndarray  # (E,) float64, log10 p of the n-gram, NaN where the entry is only a node
    child: np.ndarray  # (E,) int32, node of the n-gram, -1 where it is longer than order - 1
    backoff10: np.ndarray  # (N,) float64, log10 back-off weight of each node (0 where the model gives none)
    parent: np.ndarray  # (N,) int32, longest proper suffix that is a node (root: 0)
    node_len: np.ndarray  # (N,) int32, tokens in the node
    prob_tok: np.ndarray  # (K,) int32, token whose probability class k asks for (<unk> for unknown ones)
    next_tok: np.ndarray  # (K,) int32, token class k appends to the history (-1: in no n-gram)
    start: int  # node of the history (<s>,)
    eos: int  # token id of </s> (or <unk>, or -1)

    @classmethod
    def of(cls, lm: NgramLM, names: list[str]) -> LMTable:
        """:meth:`build`, once per model and token list (kept on ``lm``)."""
        table = lm.tables.get(tuple(names))
        if not isinstance(table, LMTable):
            table = lm.tables[tuple(names)] = cls.build(lm, names)
        return table

    @classmethod
    def build(cls, lm: NgramLM, names: list[str]) -> LMTable:
        """The table of ``lm`` for a decoder whose class ``k`` is the LM token ``names[k]`` (class 0 unused)."""
        ids: dict[str, int] = {}
        for grams in lm.probs:
            for gram in grams:
                for token in gram:
                    ids.setdefault(token, len(ids))
        vocab = max(len(ids), 1)
        context = lm.order - 1  # the longest context a query uses
        nodes: dict[tuple[str, ...], int] = {(): 0}
        for n in range(1, context + 1):  # by length, so a node's prefix is numbered first
            for grams in lm.probs[n - 1 :]:
                for gram in grams:
                    nodes.setdefault(gram[:n], len(nodes))
        lengths = np.zeros(len(nodes), np.int32)
        backoff = np.zeros(len(nodes), np.float64)
        parent = np.zeros(len(nodes), np.int32)
        for gram, i in nodes.items():
            lengths[i] = len(gram)
            if gram:
                backoff[i] = lm.backoffs[len(gram) - 1].get(gram, 0.0) if len(gram) <= len(lm.backoffs) else 0.0
                suffix = gram[1:]
                while suffix not in nodes:
                    suffix = suffix[1:]
                parent[i] = nodes[suffix]
        entries: dict[int, tuple[float, int]] = {}
        for grams in lm.probs:
            for gram, p in grams.items():
                entries[nodes[gram[:-1]] * vocab + ids[gram[-1]]] = (p, nodes.get(gram, -1))
        for gram, i in nodes.items():
            if gram:
                key = nodes[gram[:-1]] * vocab + ids[gram[-1]]
                entries.setdefault(key, (float("nan"), i))
        keys = np.array(sorted(entries), dtype=np.int64)
        values = [entries[k] for k in keys.tolist()]
        unigrams = lm.probs[0]

        def prob_token(name: str) -> int:
            name = name if (name,) in unigrams else UNK
            return ids.get(name, -1)

        return cls(
            order=lm.order,
            vocab=vocab,
            keys=keys,
            first=np.searchsorted(keys, np.arange(len(nodes) + 1, dtype=np.int64) * vocab),
            logp10=np.array([v[0] for v in values], dtype=np.float64),
            child=np.array([v[1] for v in values], dtype=np.int32),
            backoff10=backoff,
            parent=parent,
            node_len=lengths,
            prob_tok=np.array([-1] + [prob_token(t) for t in names[1:]], dtype=np.int32),
            next_tok=np.array([-1] + [ids.get(t, -1) for t in names[1:]], dtype=np.int32),
            start=nodes.get((BOS,), 0) if context else 0,
            eos=prob_token(EOS),
        )

    def arrays(self) -> tuple[np.ndarray, ...]:
        """What the compiled search takes, in its order."""
        return (
            self.keys,
            self.first,
            self.logp10,
            self.child,
            self.backoff10,
            self.parent,
            self.node_len,
            self.prob_tok,
            self.next_tok,
        )
