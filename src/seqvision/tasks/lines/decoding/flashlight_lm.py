"""Our n-gram models behind flashlight-text's ``LM`` interface (imported only when beam search runs).

flashlight merges two hypotheses when their last token and LM state are the same object, so one
state per n-gram *history* (not per prefix) lets hypotheses that the LM cannot tell apart merge,
which keeps the beam diverse.
"""

from __future__ import annotations

from flashlight.lib.text.decoder import LM, LMState

from seqvision.tasks.lines.decoding.lm import BOS, EOS, UNK, NgramLM


class HistoryLM(LM):
    """``weight * log p(token | last order-1 tokens) + bonus`` per token, ``weight * log p(</s> | ...)`` at the end.

    Args:
        lm: The n-gram model, or None for no LM (every token then earns only the bonus).
        names: LM token of each decoder index (characters for a token LM, words for a word LM).
    """

    def __init__(self, lm: NgramLM | None, names: list[str], weight: float, bonus: float):
        LM.__init__(self)
        self.lm, self.names, self.weight, self.bonus = lm, names, weight, bonus
        self.keep = max(lm.order - 1, 1) if lm is not None else 0
        self.states: dict[tuple[str, ...], LMState] = {}
        self.history: dict[LMState, tuple[str, ...]] = {}

    def _state(self, history: tuple[str, ...]) -> LMState:
        state = self.states.get(history)
        if state is None:
            state = self.states[history] = LMState()
            self.history[state] = history
        return state

    def start(self, start_with_nothing: bool) -> LMState:
        self.states, self.history = {}, {}
        return self._state((BOS,) if self.keep else ())

    def score(self, state: LMState, token: int) -> tuple[LMState, float]:
        if self.lm is None:
            return state, self.bonus
        history = self.history[state]
        name = self.names[token] if 0 <= token < len(self.names) else UNK
        child = self._state(((*history, name))[-self.keep :])
        return child, self.weight * self.lm.logprob(history, name) + self.bonus

    def finish(self, state: LMState) -> tuple[LMState, float]:
        if self.lm is None:
            return state, 0.0
        return state, self.weight * self.lm.logprob(self.history[state], EOS)
