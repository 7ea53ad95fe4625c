"""A reply that has shown reasoning is not retried: the retry would show it twice."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tui_chat.core.protocol import Event, ProviderError, ReasoningDelta, Retrying
from tui_chat.providers.errors import ErrorContext, RetryPolicy, guarded

CTX = ErrorContext(url="http://127.0.0.1:9/v1", timeout=5)
POLICY = RetryPolicy(max_retries=2, backoff=0.0)


def failing(before: list[Event], attempts: list[int]) -> Callable[[], AsyncIterator[Event]]:
    async def attempt() -> AsyncIterator[Event]:
        attempts.append(1)
        for event in before:
            yield event
        raise ProviderError("The server had an error (503).", status=503)

    return attempt


async def test_a_503_after_reasoning_ends_the_reply_instead_of_retrying() -> None:
    attempts: list[int] = []
    seen: list[Event] = []
    with pytest.raises(ProviderError):
        async for event in guarded(failing([ReasoningDelta("hmm")], attempts), CTX, retry=POLICY):
            seen.append(event)
    assert len(attempts) == 1
    assert not any(isinstance(event, Retrying) for event in seen)


async def test_a_503_before_anything_is_still_retried() -> None:
    attempts: list[int] = []
    with pytest.raises(ProviderError):
        async for _ in guarded(failing([], attempts), CTX, retry=POLICY):
            pass
    assert len(attempts) == 3
