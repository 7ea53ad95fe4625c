"""Choosing the next token: repeat penalty, top-p, temperature, as llama.cpp orders them.

A 135M model falls into loops quickly, so a repeat penalty is on by default. llama.cpp's
chain is penalties → top-p → temperature → draw: the nucleus is taken from the
untempered distribution, then the survivors are reweighted by the temperature.
Temperature 0 means greedy (argmax after the penalty).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tui_chat.local_model.common import SamplingParams

#: Candidate counts tried for top-p before sorting the whole vocabulary.
_TOP_P_STEPS = (256, 4096)


def apply_repeat_penalty(logits: np.ndarray, recent: Sequence[int], penalty: float) -> np.ndarray:
    """llama.cpp's repeat penalty: every token seen in `recent` (once, however often)
    has a positive logit divided by `penalty`, a negative one multiplied."""
    if penalty == 1.0 or not recent:
        return logits
    out = logits.copy()
    seen = np.unique(np.asarray(recent, np.int64))
    vals = out[seen]
    out[seen] = np.where(vals > 0, vals / penalty, vals * penalty)
    return out


def top_p_candidates(logits: np.ndarray, top_p: float) -> tuple[np.ndarray, np.ndarray]:
    """Smallest set of most likely tokens whose probability reaches `top_p`, with their
    logits. Sorts only the top 256 (then 4096) when the nucleus lies within them."""
    shifted = logits.astype(np.float64) - float(logits.max())
    probs = np.exp(shifted)
    probs /= probs.sum()
    for k in (*_TOP_P_STEPS, len(logits)):
        k = min(k, len(logits))
        idx = np.argpartition(-probs, k - 1)[:k] if k < len(logits) else np.arange(len(logits))
        idx = idx[np.argsort(-probs[idx], kind="stable")]
        cum = np.cumsum(probs[idx])
        if cum[-1] >= top_p or k == len(logits):
            keep = int(np.searchsorted(cum, top_p)) + 1  # include the token that crosses
            idx = idx[: max(1, min(keep, k))]
            return idx, logits[idx]
    raise AssertionError("unreachable")


class Sampler:
    def __init__(self, params: SamplingParams) -> None:
        self.params = params
        self.rng = np.random.default_rng(params.seed)

    def __call__(self, logits: np.ndarray, history: Sequence[int]) -> int:
        p = self.params
        recent = history[-p.penalty_last_n :] if p.penalty_last_n > 0 else ()
        logits = apply_repeat_penalty(logits, recent, p.repeat_penalty)
        if p.temperature <= 0:
            return int(np.argmax(logits))
        if p.top_p < 1.0:
            idx, cand = top_p_candidates(logits, p.top_p)
        else:
            idx, cand = np.arange(len(logits)), logits
        scaled = cand.astype(np.float64) / p.temperature
        probs = np.exp(scaled - scaled.max())
        probs /= probs.sum()
        return int(idx[self.rng.choice(len(idx), p=probs)])
