"""ResponsesProvider against the fake server's real `/v1/responses` over HTTP."""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import AsyncIterator
from itertools import cycle

import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from tui_chat.providers import (
    ChatMessage,
    ChatRequest,
    Done,
    ProviderError,
    TextDelta,
    WireEvent,
)
from tui_chat.providers.responses import ResponsesProvider

from conftest import FAKE_API_KEY
from fake_server import FakeLLMServer, Script
from stream_helpers import collect


def request(*turns: str, system: str | None = None, stream: bool = True) -> ChatRequest:
    roles = cycle(["user", "assistant"])
    messages = tuple(ChatMessage(next(roles), text) for text in turns)  # type: ignore[arg-type]
    return ChatRequest(messages=messages, model="fake-model", system=system, stream=stream)


def make(url: str, *, api_key: str | None = None, timeout: float = 5) -> ResponsesProvider:
    return ResponsesProvider(api_key=api_key, base_url=url, timeout=timeout, max_retries=0)


@pytest.fixture
async def provider(fake_server: FakeLLMServer) -> AsyncIterator[ResponsesProvider]:
    p = make(fake_server.openai_url)
    yield p
    await p.aclose()


async def failure(provider: ResponsesProvider, req: ChatRequest) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await collect(provider, req)
    return info.value


async def test_streams_text_deltas_in_order_then_done_with_usage_and_id(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    fake_server.enqueue(Script(chunks=["Alpha", " beta", " gamma"], usage=(30, 3)))
    events = [e async for e in provider.stream(request("hi"))]
    assert events[:-1] == [TextDelta("Alpha"), TextDelta(" beta"), TextDelta(" gamma")]
    done = events[-1]
    assert isinstance(done, Done)
    assert done.usage is not None
    assert (done.usage.input_tokens, done.usage.output_tokens) == (30, 3)
    assert done.response_id is not None and done.response_id.startswith("resp_")
    assert fake_server.requests[-1].json["stream"] is True


async def test_multi_turn_sends_earlier_turns_as_input_items_and_system_as_instructions(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    await collect(provider, request("Hi", "Hello!", "And now?", system="Be terse."))
    sent = fake_server.requests[-1].json
    assert sent["model"] == "fake-model"
    assert sent["instructions"] == "Be terse."
    assert sent["input"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "And now?"},
    ]


async def test_temperature_and_max_tokens_are_sent_only_when_set(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    await collect(provider, request("hi"))
    assert "temperature" not in fake_server.requests[-1].json
    req = ChatRequest(request("hi").messages, "fake-model", temperature=0.2, max_tokens=50)
    await collect(provider, req)
    sent = fake_server.requests[-1].json
    assert (sent["temperature"], sent["max_output_tokens"]) == (0.2, 50)


async def test_non_streaming_yields_the_whole_text_once(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    fake_server.enqueue(Script(chunks=["One", " piece"]))
    events = [e async for e in provider.stream(request("hi", stream=False))]
    assert events[0] == TextDelta("One piece")
    assert isinstance(events[1], Done) and len(events) == 2
    assert events[1].usage is not None and events[1].usage.output_tokens == 5
    assert not fake_server.requests[-1].json.get("stream")


async def test_missing_usage_gives_done_without_usage(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    fake_server.enqueue(Script(usage=None))
    done = (await collect(provider, request("hi"))).done
    assert done is not None and done.usage is None and done.response_id


async def test_wrong_key_is_an_auth_error_that_never_shows_the_key(
    fake_server_with_key: FakeLLMServer,
) -> None:
    wrong = "sk-wrong-key-DO-NOT-SHOW-42"
    provider = make(fake_server_with_key.openai_url, api_key=wrong)
    try:
        err = await failure(provider, request("hi"))
    finally:
        await provider.aclose()
    assert err.kind == "auth" and err.status == 401
    assert "OPENAI_API_KEY" in err.message
    shown = "".join(traceback.format_exception(err)) + repr(err) + str(err)
    assert wrong not in shown and FAKE_API_KEY not in shown


async def test_right_key_is_sent_as_bearer_and_accepted(
    fake_server_with_key: FakeLLMServer,
) -> None:
    provider = make(fake_server_with_key.openai_url, api_key=FAKE_API_KEY)
    try:
        assert (await collect(provider, request("hi"))).text == "Hello from the fake server."
    finally:
        await provider.aclose()
    assert fake_server_with_key.requests[-1].headers["Authorization"] == f"Bearer {FAKE_API_KEY}"


async def test_key_quoted_in_a_server_error_is_redacted(
    fake_server: FakeLLMServer,
) -> None:
    key = "sk-leaky-key-0000"
    fake_server.enqueue(Script(status=500, error_message=f"upstream rejected {key}"))
    provider = make(fake_server.openai_url, api_key=key)
    try:
        err = await failure(provider, request("hi"))
    finally:
        await provider.aclose()
    assert key not in err.message and "upstream rejected ***" in err.message
    assert key not in "".join(traceback.format_exception(err))


async def test_a_one_letter_key_is_masked_only_where_it_stands_as_a_key(
    fake_server: FakeLLMServer,
) -> None:
    """Local servers take any key, and "x" is common: the error must still read right."""
    fake_server.enqueue(
        Script(status=400, error_message="The model does not exist. Incorrect API key provided: x")
    )
    provider = make(fake_server.openai_url, api_key="x")
    try:
        err = await failure(provider, request("hi"))
    finally:
        await provider.aclose()
    assert "does not exist" in err.message and "provided: ***" in err.message


async def test_a_missing_key_names_the_variable_the_profile_reads() -> None:
    from tui_chat.providers import make_provider
    from tui_chat.settings.config import Settings

    settings = Settings(api="responses", api_key=None, api_key_env="WORK_OPENAI_KEY")
    provider = make_provider(settings, max_retries=0)
    try:
        err = await failure(provider, request("hi"))
    finally:
        await provider.aclose()
    assert err.kind == "auth" and "Set WORK_OPENAI_KEY" in err.message


async def test_no_key_and_no_base_url_is_an_auth_error_before_any_request() -> None:
    provider = ResponsesProvider(api_key=None, base_url=None, max_retries=0)
    try:
        err = await failure(provider, request("hi"))
    finally:
        await provider.aclose()
    assert err.kind == "auth" and "OPENAI_API_KEY" in err.message


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (429, "rate_limit", "Wait 1 s and try again"),
        (500, "server", "The server failed (500): the GPU caught fire"),
        (503, "server", "the GPU caught fire"),
        (400, "bad_request", "(400): the GPU caught fire"),
        (404, "bad_request", "Check --model and --base-url"),
    ],
)
async def test_http_error_status_becomes_a_provider_error_with_the_servers_message(
    fake_server: FakeLLMServer, provider: ResponsesProvider, status: int, kind: str, words: str
) -> None:
    fake_server.enqueue(Script(status=status, error_message="the GPU caught fire"))
    err = await failure(provider, request("hi"))
    assert (err.kind, err.status) == (kind, status)
    assert words in err.message


async def test_connection_refused_says_where_and_what_to_check(closed_port_url: str) -> None:
    provider = make(closed_port_url + "/v1")
    try:
        err = await failure(provider, request("hi"))
    finally:
        await provider.aclose()
    assert err.kind == "connection"
    assert f"Cannot reach {closed_port_url}/v1" in err.message and "--base-url" in err.message


async def test_stalled_stream_times_out_keeps_partial_and_hangs_up(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b", "c", "d"], fault="stall"))
    provider = make(fake_server.openai_url, timeout=0.4)
    try:
        err = await failure(provider, request("hi"))
    finally:
        await provider.aclose()
    assert err.kind == "timeout" and "0.4 s" in err.message
    assert err.partial == "ab"
    assert await asyncio.to_thread(fake_server.disconnected.wait, 5)


async def test_slow_first_token_times_out(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(first_delay=2))
    provider = make(fake_server.openai_url, timeout=0.3)
    try:
        err = await failure(provider, request("hi"))
    finally:
        await provider.aclose()
    assert err.kind == "timeout" and err.partial == ""


async def test_malformed_stream_is_a_protocol_error_with_partial(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b", "c", "d"], fault="malformed"))
    err = await failure(provider, request("hi"))
    assert err.kind == "protocol" and err.partial == "ab"


async def test_disconnect_mid_stream_is_a_connection_error_with_partial(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b", "c", "d", "e"], fault="disconnect"))
    err = await failure(provider, request("hi"))
    assert err.kind == "connection" and "dropped" in err.message
    assert err.partial == "ab"


@pytest.mark.parametrize("fault", ["error_event", "failed"])
async def test_error_and_failed_events_raise_with_the_servers_message(
    fake_server: FakeLLMServer, provider: ResponsesProvider, fault: str
) -> None:
    fake_server.enqueue(Script(chunks=["x", "y", "z"], fault=fault, error_message="model melted"))
    deltas: list[str] = []
    with pytest.raises(ProviderError) as info:
        async for event in provider.stream(request("hi")):
            if isinstance(event, TextDelta):
                deltas.append(event.text)
    assert info.value.kind == "server"
    assert "model melted" in info.value.message
    assert deltas == ["x"] and info.value.partial == "x"


async def test_incomplete_event_raises_with_the_reason_and_keeps_partial(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    fake_server.enqueue(Script(chunks=["p", "q", "r", "s"], fault="incomplete"))
    err = await failure(provider, request("hi"))
    assert "max_output_tokens" in err.message and err.partial == "pq"


@pytest.mark.parametrize(("fault", "words"), [("failed", "model melted"), ("incomplete", "max_")])
async def test_non_streaming_failed_or_incomplete_response_is_an_error(
    fake_server: FakeLLMServer, provider: ResponsesProvider, fault: str, words: str
) -> None:
    fake_server.enqueue(Script(fault=fault, error_message="model melted"))
    err = await failure(provider, request("hi", stream=False))
    assert words in err.message


async def test_cancelling_the_consumer_closes_the_http_stream(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    fake_server.enqueue(Script(chunks=["one", "two", "three"], hold_after=1))
    got: list[str] = []
    first = asyncio.Event()

    async def consume() -> None:
        async for event in provider.stream(request("hi")):
            if isinstance(event, TextDelta):
                got.append(event.text)
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake_server.disconnected.wait, 5)
    assert got == ["one"]


async def test_closing_the_generator_early_closes_the_http_stream(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    fake_server.enqueue(Script(chunks=["one", "two", "three"], hold_after=1))
    events = provider.stream(request("hi"))
    assert await anext(events) == TextDelta("one")
    await events.aclose()  # type: ignore[attr-defined]
    assert await asyncio.to_thread(fake_server.disconnected.wait, 5)


async def test_held_stream_continues_after_release(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    fake_server.enqueue(Script(chunks=["one", "two"], hold_after=1))
    events = provider.stream(request("hi"))
    assert await anext(events) == TextDelta("one")
    fake_server.release()
    rest = [e async for e in events]
    assert rest[0] == TextDelta("two") and isinstance(rest[-1], Done)
    assert not fake_server.disconnected.is_set()


async def test_fake_server_stream_events_match_the_sdk_types(fake_server: FakeLLMServer) -> None:
    """Every event the fake sends validates strictly against the installed openai types."""
    import openai

    adapter: TypeAdapter[ResponseStreamEvent] = TypeAdapter(ResponseStreamEvent)
    client = openai.AsyncOpenAI(api_key="x", base_url=fake_server.openai_url, max_retries=0)
    try:
        stream = await client.responses.create(model="m", input="hi", stream=True)
        async with stream:
            kinds = [adapter.validate_python(e.model_dump()).type async for e in stream]
    finally:
        await client.close()
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 5,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]


# -- the wire tap ------------------------------------------------------------------------


async def timeline(provider: ResponsesProvider, req: ChatRequest) -> list[object]:
    """Wire events and stream events interleaved in the order the consumer saw them."""
    seen: list[object] = []
    async for event in provider.stream(req, tap=seen.append):
        seen.append(event)
    return seen


async def test_tap_sees_every_sse_event_in_wire_order_before_its_delta(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    fake_server.enqueue(Script(chunks=["Alpha", " beta", " gamma"]))
    seen = await timeline(provider, request("hi"))
    wire = [e for e in seen if isinstance(e, WireEvent)]
    assert [e.kind for e in wire] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 3,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.payload["sequence_number"] for e in wire] == list(range(len(wire)))
    assert all(e.protocol == "responses" and e.payload["type"] == e.kind for e in wire)
    assert "".join(e.text for e in wire) == "Alpha beta gamma"
    for i, event in enumerate(seen):  # each delta comes right after the event that carried it
        if isinstance(event, TextDelta):
            assert isinstance(seen[i - 1], WireEvent) and seen[i - 1].text == event.text
    assert [e.at for e in wire] == sorted(e.at for e in wire)
    json.dumps([e.payload for e in wire])  # JSON-serialisable as it stands


async def test_tap_gets_one_response_event_without_streaming(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    fake_server.enqueue(Script(chunks=["One", " piece"]))
    seen = await timeline(provider, request("hi", stream=False))
    wire = seen[0]
    assert isinstance(wire, WireEvent) and len(seen) == 3
    assert (wire.protocol, wire.kind, wire.text) == ("responses", "response", "One piece")
    assert wire.payload["status"] == "completed" and wire.payload["id"].startswith("resp_")


async def test_tap_sees_the_failure_event_before_the_error(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b"], fault="failed", error_message="boom"))
    seen: list[WireEvent] = []
    with pytest.raises(ProviderError):
        await collect(provider, request("hi"), tap=seen.append)
    assert seen[-1].kind == "response.failed"
    assert seen[-1].payload["response"]["error"]["message"] == "boom"


async def test_without_a_tap_no_event_is_converted(
    fake_server: FakeLLMServer, provider: ResponsesProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object) -> None:
        raise AssertionError("the tap path ran without a tap")

    monkeypatch.setattr(ResponsesProvider, "_tap", forbidden)
    assert (await collect(provider, request("hi"))).text == Script().text


async def test_text_that_is_not_a_string_is_a_protocol_error_with_partial(
    fake_server: FakeLLMServer, provider: ResponsesProvider
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b", "c", "d"], fault="not_text"))
    err = await failure(provider, request("hi"))
    assert err.kind == "protocol" and err.partial == "ab"
    assert "not text" in err.message
