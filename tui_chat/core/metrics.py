"""Timing of one reply: time to first token, total time and tokens per second.

Plain logic with an injectable clock, so the numbers are testable without sleeping.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class ReplyMetrics:
    """The figures shown under a reply and kept with it in history."""

    first_token: float | None  # seconds from send to first text, None if none arrived
    total: float  # seconds from send to the end
    tokens: int  # output tokens: reported by the server, else counted deltas
    tokens_estimated: bool  # True when `tokens` counts deltas, not server usage
    chunks: int
    gap_median: float | None = None  # seconds between consecutive chunks
    gap_worst: float | None = None
    input_tokens: int | None = None  # prompt tokens, where the server reports them
    #: Seconds from send to the first reasoning text (None: the model showed none); the
    #: first *answer* token is `first_token`, so a thinking model's wait reads truly.
    first_reasoning: float | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> ReplyMetrics | None:
        """Rebuild saved metrics (from history); None if they are not readable."""
        try:
            first = data.get("first_token")
            return cls(
                first_token=None if first is None else float(first),  # type: ignore[arg-type]
                total=float(data["total"]),  # type: ignore[arg-type]
                tokens=int(data["tokens"]),  # type: ignore[call-overload]
                tokens_estimated=bool(data.get("tokens_estimated", True)),
                chunks=int(data.get("chunks", 0)),  # type: ignore[call-overload]
                gap_median=_optional_float(data.get("gap_median")),
                gap_worst=_optional_float(data.get("gap_worst")),
                input_tokens=_optional_int(data.get("input_tokens")),
                first_reasoning=_optional_float(data.get("first_reasoning")),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def as_record(self) -> dict[str, object]:
        """The figures as saved (history's JSON): every field, plus the derived rate so
        readers need not recompute it."""
        data: dict[str, object] = asdict(self)
        if self.tokens_per_second is not None:
            data["tokens_per_second"] = self.tokens_per_second
        return data

    @property
    def thought_for(self) -> float | None:
        """Seconds the model spent thinking: first reasoning text to first answer text
        (or to the end, for a reply that never answered)."""
        if self.first_reasoning is None:
            return None
        until = self.first_token if self.first_token is not None else self.total
        return max(0.0, until - self.first_reasoning)

    @property
    def tokens_per_second(self) -> float | None:
        """Rate over the generation phase (after the first token), as users perceive it;
        a reply that arrived in one piece (non-streaming) has no such phase, so its rate
        is over the whole wait."""
        if self.first_token is None or self.tokens <= 1:
            return None
        if self.chunks <= 1:
            return self.tokens / self.total if self.total > 0 else None
        span = self.total - self.first_token
        return (self.tokens - 1) / span if span > 0 else None

    def summary(self) -> str:
        parts = []
        if self.thought_for is not None:
            parts.append(f"thought {self.thought_for:.1f}s")
        if self.first_token is not None:
            parts.append(f"first token {self.first_token:.2f}s")
        parts.append(f"total {self.total:.2f}s")
        rate = self.tokens_per_second
        approx = "~" if self.tokens_estimated else ""
        if rate is not None:
            parts.append(f"{approx}{rate:.1f} tok/s")
        parts.append(f"{approx}{self.tokens} tokens")
        return " · ".join(parts)

    def details(self) -> list[tuple[str, str]]:
        """Every figure, labelled, for the on-demand detail view."""
        approx = " (counted chunks: the server reported no usage)" if self.tokens_estimated else ""
        rate = self.tokens_per_second
        rows = (
            []
            if self.first_reasoning is None
            else [
                ("time to first reasoning token", _seconds(self.first_reasoning)),
                ("thinking time", _seconds(self.thought_for)),
            ]
        )
        rows += [
            ("time to first token", _seconds(self.first_token)),
            ("total time", _seconds(self.total)),
            ("output tokens", f"{self.tokens}{approx}"),
            ("tokens/s", "–" if rate is None else f"{rate:.1f}"),
            ("chunks", str(self.chunks)),
            ("gap between chunks, median", _seconds(self.gap_median)),
            ("gap between chunks, worst", _seconds(self.gap_worst)),
        ]
        if self.input_tokens is not None:
            rows.append(("input tokens", str(self.input_tokens)))
        return rows


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}s"


def _optional_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _optional_int(value: object) -> int | None:
    return int(value) if isinstance(value, int) else None


class ReplyTimer:
    """Times one reply as its chunks arrive; O(1) work per chunk."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started = clock()
        self.first_at: float | None = None
        self.first_reasoning_at: float | None = None
        self._last_at: float | None = None
        self._gaps: list[float] = []
        self.chunks = 0

    def elapsed(self) -> float:
        return self._clock() - self.started

    def on_reasoning(self) -> None:
        """Reasoning text arrived: timed apart, so it moves neither the first answer
        token nor the answer's chunks and gaps."""
        if self.first_reasoning_at is None:
            self.first_reasoning_at = self._clock()

    def on_text(self) -> None:
        now = self._clock()
        if self.first_at is None:
            self.first_at = now
        else:
            assert self._last_at is not None
            self._gaps.append(now - self._last_at)
        self._last_at = now
        self.chunks += 1

    def finish(
        self, output_tokens: int | None = None, input_tokens: int | None = None
    ) -> ReplyMetrics:
        end = self._clock()
        first = None if self.first_at is None else self.first_at - self.started
        reasoning = self.first_reasoning_at
        gaps = self._gaps
        return ReplyMetrics(
            first_token=first,
            total=end - self.started,
            tokens=output_tokens if output_tokens is not None else self.chunks,
            tokens_estimated=output_tokens is None,
            chunks=self.chunks,
            gap_median=statistics.median(gaps) if gaps else None,
            gap_worst=max(gaps) if gaps else None,
            input_tokens=input_tokens,
            first_reasoning=None if reasoning is None else reasoning - self.started,
        )


def verdict(left: tuple[str, ReplyMetrics], right: tuple[str, ReplyMetrics]) -> str:
    """One line saying which side showed its first words sooner, and by how much."""
    (left_name, left_m), (right_name, right_m) = left, right
    if left_m.first_token is None or right_m.first_token is None:
        missing = left_name if left_m.first_token is None else right_name
        return f"{missing} showed no words, so there is no race to call."
    if left_m.first_token <= right_m.first_token:
        (win, win_m), (lose, lose_m) = left, right
    else:
        (win, win_m), (lose, lose_m) = right, left
    assert win_m.first_token is not None and lose_m.first_token is not None
    lead = lose_m.first_token - win_m.first_token
    return (
        f"{win} showed its first words {lead:.2f}s sooner than {lose} "
        f"({win_m.first_token:.2f}s vs {lose_m.first_token:.2f}s; "
        f"done in {win_m.total:.2f}s vs {lose_m.total:.2f}s)."
    )
