"""Idle timeouts and retries, for every network provider, against the real fake server.

A stall is counted from the last byte and ends the reply after the idle timeout; only
what the server said to retry (429 and 5xx, before any text) is tried again, and each
retry is an event (`Retrying`) so the people waiting can be told.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator, Callable

import pytest

from tui_chat.providers import (
    ChatMessage,
    ChatRequest,
    Done,
    Event,
    Provider,
    ProviderError,
    Retrying,
    TextDelta,
    make_provider,
)
from tui_chat.providers.backend import BackendProvider
from tui_chat.providers.chat_completions import ChatCompletionsProvider
from tui_chat.providers.errors import ErrorContext, RetryPolicy, guarded, parse_retry_after
from tui_chat.providers.responses import ResponsesProvider
from tui_chat.settings.config import Settings

from fake_server import FakeLLMServer, Script
from stream_helpers import collect

APIS = ("responses", "chat", "backend")
MakeProvider = Callable[..., Provider]


def request(stream: bool = True) -> ChatRequest:
    return ChatRequest(messages=(ChatMessage("user", "hi"),), model="fake-model", stream=stream)


@pytest.fixture(params=APIS)
def make(request: pytest.FixtureRequest, fake_server: FakeLLMServer) -> MakeProvider:
    """Builds the provider under test; its `timeout` is the idle timeout."""
    api = request.param

    def build(*, timeout: float = 5, max_retries: int = 2, retry_backoff: float = 1.0) -> Provider:
        options = {"timeout": timeout, "max_retries": max_retries, "retry_backoff": retry_backoff}
        if api == "backend":
            return BackendProvider(fake_server.url, **options)
        cls = ResponsesProvider if api == "responses" else ChatCompletionsProvider
        return cls(base_url=fake_server.openai_url, **options)

    return build


async def events_and_error(
    provider: Provider, req: ChatRequest
) -> tuple[list[Event], ProviderError | None]:
    seen: list[Event] = []
    try:
        async for event in provider.stream(req):
            seen.append(event)
    except ProviderError as error:
        return seen, error
    finally:
        await provider.aclose()
    return seen, None


def retries(events: list[Event]) -> list[Retrying]:
    return [event for event in events if isinstance(event, Retrying)]


def text(events: list[Event]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


# -- retrying what says retry ---------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False])
async def test_503_with_retry_after_is_retried_in_the_open_then_the_reply_arrives(
    fake_server: FakeLLMServer, make: MakeProvider, stream: bool
) -> None:
    fake_server.enqueue(Script(status=503, retry_after="0"))
    events, error = await events_and_error(make(), request(stream))
    assert error is None
    assert events[0] == Retrying(attempt=1, of=2, delay=0.0, reason="server said 503")
    assert text(events) == Script().text and isinstance(events[-1], Done)
    assert len(fake_server.requests) == 2


async def test_a_retry_waits_as_long_as_retry_after_says_and_says_so(
    fake_server: FakeLLMServer, make: MakeProvider
) -> None:
    fake_server.enqueue(Script(status=429, retry_after="1"))
    events, error = await events_and_error(make(), request())
    assert error is None
    (retry,) = retries(events)
    assert retry.delay == 1.0
    assert retry.describe() == "retrying 1/2 in 1 s · server said 429"


async def test_without_retry_after_the_wait_doubles(
    fake_server: FakeLLMServer, make: MakeProvider
) -> None:
    fake_server.enqueue(Script(status=502), Script(status=500))
    events, error = await events_and_error(make(retry_backoff=0.05), request())
    assert error is None
    assert [r.delay for r in retries(events)] == [0.05, 0.1]
    assert text(events) == Script().text


async def test_retries_give_up_after_the_last_and_the_error_says_so(
    fake_server: FakeLLMServer, make: MakeProvider
) -> None:
    fake_server.enqueue(*[Script(status=503, retry_after="0", error_message="overloaded")] * 3)
    events, error = await events_and_error(make(), request())
    assert [(r.attempt, r.of) for r in retries(events)] == [(1, 2), (2, 2)]
    assert error is not None and error.kind == "server" and error.status == 503
    assert "overloaded" in error.message and "Gave up after 2 retries" in error.message
    assert len(fake_server.requests) == 3


async def test_a_retry_after_beyond_the_cap_is_not_waited_out_and_the_error_says_how_long(
    fake_server: FakeLLMServer, make: MakeProvider
) -> None:
    fake_server.enqueue(Script(status=429, retry_after="30"))
    events, error = await events_and_error(make(), request())
    assert retries(events) == []
    assert error is not None and error.kind == "rate_limit" and "Wait 30 s" in error.message
    assert len(fake_server.requests) == 1


@pytest.mark.parametrize(
    "script",
    [
        Script(status=400),
        Script(status=401),
        Script(fault="hang_up"),
        Script(fault="no_answer"),
        Script(chunks=["a", "b", "c", "d"], fault="disconnect"),
        Script(chunks=["a", "b", "c", "d"], fault="stall"),
    ],
    ids=["400", "401", "hang-up", "no-answer", "drop-mid-stream", "stall-mid-stream"],
)
async def test_what_does_not_say_retry_is_tried_once(
    fake_server: FakeLLMServer, make: MakeProvider, script: Script
) -> None:
    fake_server.enqueue(script)
    events, error = await events_and_error(make(timeout=0.5), request())
    assert error is not None and retries(events) == []
    assert len(fake_server.requests) == 1


async def test_the_guard_never_retries_once_text_has_been_given() -> None:
    """No server can send a 503 after text, so the rule is shown on the guard itself."""
    attempts = 0

    async def attempt() -> AsyncIterator[Event]:
        nonlocal attempts
        attempts += 1
        yield TextDelta("half a")
        raise ProviderError("The server failed (503).", status=503, retry_after=0)

    seen: list[Event] = []
    with pytest.raises(ProviderError) as info:
        async for event in guarded(attempt, ErrorContext("http://x", 1), retry=RetryPolicy()):
            seen.append(event)
    assert attempts == 1 and seen == [TextDelta("half a")]
    assert info.value.partial == "half a"


async def test_collect_hears_each_retry_and_still_ends_with_done(
    fake_server: FakeLLMServer, make: MakeProvider
) -> None:
    fake_server.enqueue(Script(status=503, retry_after="0"))
    heard: list[Retrying] = []
    provider = make()
    try:
        collected = await collect(provider, request(), on_retry=heard.append)
    finally:
        await provider.aclose()
    assert [r.attempt for r in heard] == [1]
    assert isinstance(collected.done, Done) and collected.text == Script().text


# -- the idle timeout -------------------------------------------------------------------------


async def test_the_idle_timeout_counts_from_the_last_byte_not_the_request(
    fake_server: FakeLLMServer, make: MakeProvider
) -> None:
    """Four chunks 0.3 s apart take longer than the 0.6 s timeout, and that is fine."""
    fake_server.enqueue(Script(chunks=["a", "b", "c", "d"], first_delay=0.3, delay=0.3))
    events, error = await events_and_error(make(timeout=0.6), request())
    assert error is None and text(events) == "abcd"


async def test_a_server_that_never_answers_fails_after_the_idle_timeout_saying_what_to_do(
    fake_server: FakeLLMServer, make: MakeProvider
) -> None:
    fake_server.enqueue(Script(fault="no_answer"))
    started = time.monotonic()
    events, error = await events_and_error(make(timeout=0.5), request())
    assert time.monotonic() - started < 10  # not 3 × 60 s, as before
    assert error is not None and error.kind == "timeout"
    assert "No data" in error.message and "0.5 s" in error.message
    assert "--timeout" in error.message
    assert len(fake_server.requests) == 1


async def test_a_stall_mid_stream_keeps_the_text_and_says_the_reply_stalled(
    fake_server: FakeLLMServer, make: MakeProvider
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b", "c", "d"], fault="stall"))
    events, error = await events_and_error(make(timeout=0.5), request())
    assert text(events) == "ab"
    assert error is not None and error.kind == "timeout" and error.partial == "ab"
    assert error.message.startswith("The reply stalled: no data from")
    assert "0.5 s" in error.message and "--timeout" in error.message


async def test_a_whole_reply_that_takes_too_long_says_to_stream_or_wait_longer(
    fake_server: FakeLLMServer, make: MakeProvider
) -> None:
    fake_server.enqueue(Script(fault="no_answer"))
    _, error = await events_and_error(make(timeout=0.5), request(stream=False))
    assert error is not None and error.kind == "timeout"
    assert "streaming on" in error.message and "--timeout" in error.message


@pytest.mark.parametrize("api", APIS)
async def test_the_timeout_setting_is_the_idle_timeout_of_the_providers_made_from_it(
    fake_server: FakeLLMServer, api: str
) -> None:
    url = fake_server.url if api == "backend" else fake_server.openai_url
    provider = make_provider(Settings(api=api, base_url=url, api_key="k", timeout=0.5))
    fake_server.enqueue(Script(fault="no_answer"))
    _, error = await events_and_error(provider, request())
    assert error is not None and error.kind == "timeout" and "0.5 s" in error.message


def test_settings_wait_30_seconds_for_data_by_default() -> None:
    assert Settings().timeout == 30.0


# -- Retry-After --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "-3"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_in_seconds(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers) == seconds


def test_retry_after_as_an_http_date_is_seconds_from_now() -> None:
    later = email.utils.formatdate(time.time() + 60, usegmt=True)
    seconds = parse_retry_after({"retry-after": later})
    assert seconds is not None and 55 < seconds <= 60
