"""Reply timings from an injected clock: no sleeping, exact numbers."""

from __future__ import annotations

import pytest

from tui_chat.core.metrics import ReplyMetrics, ReplyTimer, verdict
from tui_chat.core.sanitize import clean


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_first_token_total_and_rate_from_reported_usage() -> None:
    clock = FakeClock()
    timer = ReplyTimer(clock)
    clock.now = 100.5
    timer.on_text()
    clock.now = 102.5
    timer.on_text()
    metrics = timer.finish(output_tokens=41)
    assert metrics.first_token == 0.5
    assert metrics.total == 2.5
    assert metrics.tokens == 41 and not metrics.tokens_estimated
    assert metrics.tokens_per_second == 20.0  # 40 tokens after the first, over 2 s
    assert metrics.summary() == "first token 0.50s · total 2.50s · 20.0 tok/s · 41 tokens"


def test_counts_deltas_and_says_so_without_usage() -> None:
    clock = FakeClock()
    timer = ReplyTimer(clock)
    for step in range(5):
        clock.now = 101.0 + step
        timer.on_text()
    metrics = timer.finish()
    assert metrics.tokens == 5 and metrics.tokens_estimated
    assert "~1.0 tok/s" in metrics.summary() and "~5 tokens" in metrics.summary()


def test_no_text_has_no_first_token_or_rate() -> None:
    clock = FakeClock()
    metrics = ReplyTimer(clock).finish()
    assert metrics.first_token is None and metrics.tokens_per_second is None
    assert metrics.summary().startswith("total 0.00s")


def test_clean_strips_escape_sequences_but_keeps_layout() -> None:
    hostile = "ok\x1b]52;c;ZXZpbA==\x07 \x1b[2Jnext\r\nline\ttab\x9b31m\x00"
    assert clean(hostile) == "ok next\nline\ttab"


def test_chunk_gaps_median_and_worst_and_details() -> None:
    clock = FakeClock()
    timer = ReplyTimer(clock)
    for at in (100.2, 100.3, 100.4, 101.4, 101.5):
        clock.now = at
        timer.on_text()
    metrics = timer.finish(output_tokens=5, input_tokens=12)
    assert metrics.chunks == 5
    assert metrics.gap_median == pytest.approx(0.1)
    assert metrics.gap_worst == pytest.approx(1.0)
    details = dict(metrics.details())
    assert details["gap between chunks, worst"] == "1.000s"
    assert details["input tokens"] == "12"
    assert details["output tokens"] == "5"


def test_metrics_survive_a_round_trip_through_saved_json() -> None:
    from dataclasses import asdict

    clock = FakeClock()
    timer = ReplyTimer(clock)
    clock.now = 100.5
    timer.on_text()
    clock.now = 101.0
    timer.on_text()
    metrics = timer.finish()
    assert ReplyMetrics.from_mapping(asdict(metrics)) == metrics
    assert ReplyMetrics.from_mapping({"total": "oops"}) is None


def test_verdict_names_the_side_that_showed_words_first() -> None:
    def metrics(first: float | None, total: float) -> ReplyMetrics:
        return ReplyMetrics(
            first_token=first, total=total, tokens=10, tokens_estimated=True, chunks=10
        )

    line = verdict(("non-streaming", metrics(2.5, 2.5)), ("streaming", metrics(0.2, 2.6)))
    assert line == (
        "streaming showed its first words 2.30s sooner than non-streaming "
        "(0.20s vs 2.50s; done in 2.60s vs 2.50s)."
    )
    assert "no race" in verdict(("a", metrics(None, 1.0)), ("b", metrics(0.1, 1.0)))


def test_a_reply_that_arrives_whole_is_rated_over_the_whole_wait() -> None:
    clock = FakeClock()
    timer = ReplyTimer(clock)
    clock.now = 104.0
    timer.on_text()  # non-streaming: everything at once, 4 s after sending
    clock.now = 104.001
    metrics = timer.finish(output_tokens=80)
    assert metrics.chunks == 1
    assert metrics.tokens_per_second == pytest.approx(80 / 4.001)
