"""Sampling: greedy at temperature 0, seeded draws, llama.cpp's repeat penalty and top-p."""

from __future__ import annotations

import numpy as np

from tui_chat.local_model.sampling import (
    Sampler,
    SamplingParams,
    apply_repeat_penalty,
    top_p_candidates,
)


def test_temperature_zero_is_argmax() -> None:
    logits = np.array([0.1, 3.0, 2.9, -1.0], np.float32)
    sampler = Sampler(SamplingParams(temperature=0, repeat_penalty=1.0))
    assert all(sampler(logits, []) == 1 for _ in range(20))


def test_repeat_penalty_divides_positive_and_multiplies_negative_logits() -> None:
    logits = np.array([2.0, -2.0, 1.0], np.float32)
    out = apply_repeat_penalty(logits, [0, 1, 0, 1], 2.0)
    assert out.tolist() == [1.0, -4.0, 1.0]
    assert logits.tolist() == [2.0, -2.0, 1.0]  # input untouched


def test_repeat_penalty_can_change_the_greedy_choice() -> None:
    logits = np.array([3.0, 2.9, 0.0], np.float32)
    sampler = Sampler(SamplingParams(temperature=0, repeat_penalty=1.15))
    assert sampler(logits, [0]) == 1
    assert sampler(logits, [0] + [2] * 64) == 0  # token 0 is outside the 64-token window


def test_top_p_keeps_the_smallest_nucleus_including_the_crossing_token() -> None:
    probs = np.array([0.5, 0.3, 0.15, 0.05])
    idx, _ = top_p_candidates(np.log(probs), 0.7)
    assert idx.tolist() == [0, 1]
    idx, _ = top_p_candidates(np.log(probs), 0.9)
    assert idx.tolist() == [0, 1, 2]


def test_top_p_beyond_the_fast_path_on_a_flat_distribution() -> None:
    logits = np.zeros(1000, np.float32)
    idx, _ = top_p_candidates(logits, 0.9)
    assert len(idx) == 900


def test_same_seed_same_draws() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=500).astype(np.float32)
    params = SamplingParams(temperature=1.0, top_p=0.95, seed=42)
    a, b = Sampler(params), Sampler(params)
    assert [a(logits, []) for _ in range(30)] == [b(logits, []) for _ in range(30)]
    assert len({a(logits, []) for _ in range(50)}) > 1  # and it does sample
