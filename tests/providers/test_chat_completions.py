"""ChatCompletionsProvider against the fake server's real `/v1/chat/completions` over HTTP."""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import AsyncIterator
from itertools import cycle

import pytest
from openai.types.chat import ChatCompletionChunk
from pydantic import TypeAdapter

from tui_chat.providers import (
    ChatMessage,
    ChatRequest,
    Done,
    ProviderError,
    TextDelta,
    WireEvent,
    make_provider,
)
from tui_chat.providers.chat_completions import ChatCompletionsProvider
from tui_chat.providers.openai_base import DUMMY_API_KEY
from tui_chat.settings.config import Settings

from conftest import FAKE_API_KEY
from fake_server import FakeLLMServer, Script
from stream_helpers import collect


def request(*turns: str, system: str | None = None, stream: bool = True) -> ChatRequest:
    roles = cycle(["user", "assistant"])
    messages = tuple(ChatMessage(next(roles), text) for text in turns)  # type: ignore[arg-type]
    return ChatRequest(messages=messages, model="fake-model", system=system, stream=stream)


def make(url: str, *, api_key: str | None = None, timeout: float = 5) -> ChatCompletionsProvider:
    return ChatCompletionsProvider(api_key=api_key, base_url=url, timeout=timeout, max_retries=0)


@pytest.fixture
async def provider(fake_server: FakeLLMServer) -> AsyncIterator[ChatCompletionsProvider]:
    p = make(fake_server.openai_url)
    yield p
    await p.aclose()


async def failure(provider: ChatCompletionsProvider, req: ChatRequest) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await collect(provider, req)
    return info.value


async def test_streams_text_deltas_in_order_then_done_with_usage_and_id(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(Script(chunks=["Alpha", " beta", " gamma"], usage=(40, 3)))
    events = [e async for e in provider.stream(request("hi"))]
    assert events[:-1] == [TextDelta("Alpha"), TextDelta(" beta"), TextDelta(" gamma")]
    done = events[-1]
    assert isinstance(done, Done) and done.usage is not None
    assert (done.usage.input_tokens, done.usage.output_tokens) == (40, 3)
    assert done.response_id is not None and done.response_id.startswith("chatcmpl-")
    sent = fake_server.requests[-1].json
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


async def test_multi_turn_sends_a_leading_system_message_and_earlier_turns(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    await collect(provider, request("Hi", "Hello!", "And now?", system="Be terse."))
    assert fake_server.requests[-1].json["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "And now?"},
    ]


async def test_no_system_prompt_sends_no_system_message(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    await collect(provider, request("Hi"))
    assert [m["role"] for m in fake_server.requests[-1].json["messages"]] == ["user"]


async def test_temperature_and_max_tokens_are_sent_when_set(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    req = ChatRequest(request("hi").messages, "fake-model", temperature=0.7, max_tokens=9)
    await collect(provider, req)
    sent = fake_server.requests[-1].json
    assert (sent["temperature"], sent["max_tokens"]) == (0.7, 9)


async def test_non_streaming_yields_the_whole_text_once_with_usage(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(Script(chunks=["One", " piece"], usage=(7, 2)))
    events = [e async for e in provider.stream(request("hi", stream=False))]
    assert events[0] == TextDelta("One piece") and len(events) == 2
    done = events[1]
    assert isinstance(done, Done) and done.usage is not None and done.usage.input_tokens == 7
    assert not fake_server.requests[-1].json.get("stream")


async def test_server_without_usage_gives_done_without_usage(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(Script(usage=None))
    collected = await collect(provider, request("hi"))
    assert collected.text == "Hello from the fake server."
    assert collected.done is not None and collected.done.usage is None


async def test_local_server_without_key_gets_a_dummy_bearer_key(
    fake_server: FakeLLMServer,
) -> None:
    settings = Settings(api="chat", base_url=fake_server.openai_url, model="llama3")
    provider = make_provider(settings, timeout=5, max_retries=0)
    try:
        assert isinstance(provider, ChatCompletionsProvider)
        assert (await collect(provider, request("hi"))).text == "Hello from the fake server."
    finally:
        await provider.aclose()
    assert fake_server.requests[-1].headers["authorization"] == f"Bearer {DUMMY_API_KEY}"


async def test_wrong_key_is_an_auth_error_that_never_shows_the_key(
    fake_server_with_key: FakeLLMServer,
) -> None:
    wrong = "sk-wrong-key-DO-NOT-SHOW-43"
    provider = make(fake_server_with_key.openai_url, api_key=wrong)
    try:
        err = await failure(provider, request("hi"))
    finally:
        await provider.aclose()
    assert err.kind == "auth" and err.status == 401
    assert err.message == (
        "The server rejected the API key (401). Set OPENAI_API_KEY (or .env) to a valid key."
    )
    shown = "".join(traceback.format_exception(err)) + repr(err)
    assert wrong not in shown and FAKE_API_KEY not in shown


async def test_right_key_is_accepted(fake_server_with_key: FakeLLMServer) -> None:
    provider = make(fake_server_with_key.openai_url, api_key=FAKE_API_KEY)
    try:
        assert (await collect(provider, request("hi"))).done is not None
    finally:
        await provider.aclose()


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (429, "rate_limit", "Rate limited by the server (429): slow down"),
        (500, "server", "The server failed (500): slow down"),
        (400, "bad_request", "The server refused the request (400): slow down"),
    ],
)
async def test_http_error_status_becomes_a_provider_error_with_the_servers_message(
    fake_server: FakeLLMServer,
    provider: ChatCompletionsProvider,
    status: int,
    kind: str,
    words: str,
) -> None:
    fake_server.enqueue(Script(status=status, error_message="slow down"))
    err = await failure(provider, request("hi"))
    assert (err.kind, err.status) == (kind, status) and words in err.message


async def test_connection_refused_says_where_and_what_to_check(closed_port_url: str) -> None:
    provider = make(closed_port_url + "/v1")
    try:
        err = await failure(provider, request("hi"))
    finally:
        await provider.aclose()
    assert err.kind == "connection"
    assert err.message == (
        f"Cannot reach {closed_port_url}/v1: is the server running? Check --base-url."
    )


async def test_stalled_stream_times_out_keeps_partial_and_hangs_up(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b", "c", "d"], fault="stall"))
    provider = make(fake_server.openai_url, timeout=0.4)
    try:
        err = await failure(provider, request("hi"))
    finally:
        await provider.aclose()
    assert err.kind == "timeout" and err.partial == "ab"
    assert await asyncio.to_thread(fake_server.disconnected.wait, 5)


async def test_non_streaming_timeout_is_a_timeout_error(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(fault="stall"))
    provider = make(fake_server.openai_url, timeout=0.3)
    try:
        err = await failure(provider, request("hi", stream=False))
    finally:
        await provider.aclose()
    assert err.kind == "timeout"


async def test_malformed_stream_is_a_protocol_error_with_partial(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b", "c", "d"], fault="malformed"))
    err = await failure(provider, request("hi"))
    assert err.kind == "protocol" and err.partial == "ab"
    assert "--api" in err.message


async def test_malformed_non_streaming_body_is_a_protocol_error(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(Script(fault="malformed"))
    err = await failure(provider, request("hi", stream=False))
    assert err.kind == "protocol"


async def test_disconnect_mid_stream_is_a_connection_error_with_partial(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b", "c", "d"], fault="disconnect"))
    err = await failure(provider, request("hi"))
    assert err.kind == "connection" and err.partial == "ab"


async def test_error_object_mid_stream_raises_with_the_servers_message(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b"], fault="error_event", error_message="OOM"))
    err = await failure(provider, request("hi"))
    assert err.kind == "server" and "OOM" in err.message and err.partial == "a"


async def test_cancelling_the_consumer_closes_the_http_stream(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(Script(chunks=["one", "two"], hold_after=1))
    first = asyncio.Event()

    async def consume() -> None:
        async for event in provider.stream(request("hi")):
            if isinstance(event, TextDelta):
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake_server.disconnected.wait, 5)


async def test_cancelling_before_the_first_token_closes_the_request(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(Script(hold_after=0))
    task = asyncio.create_task(collect(provider, request("hi")))
    await asyncio.to_thread(fake_server.wait_for_requests, 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake_server.disconnected.wait, 5)


async def test_concurrent_streams_are_served_independently(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(*(Script(chunks=[f"r{i}", "!"], delay=0.05) for i in range(3)))
    results = await asyncio.gather(*(collect(provider, request("hi")) for _ in range(3)))
    assert sorted(r.text for r in results) == ["r0!", "r1!", "r2!"]


async def test_fake_server_chunks_match_the_sdk_types(fake_server: FakeLLMServer) -> None:
    import openai

    adapter: TypeAdapter[ChatCompletionChunk] = TypeAdapter(ChatCompletionChunk)
    client = openai.AsyncOpenAI(api_key="x", base_url=fake_server.openai_url, max_retries=0)
    try:
        stream = await client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        async with stream:
            chunks = [adapter.validate_python(c.model_dump()) async for c in stream]
        models = [m.id async for m in client.models.list()]
    finally:
        await client.close()
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert "fake-model" in models


# -- the wire tap ------------------------------------------------------------------------


async def timeline(provider: ChatCompletionsProvider, req: ChatRequest) -> list[object]:
    """Wire events and stream events interleaved in the order the consumer saw them."""
    seen: list[object] = []
    async for event in provider.stream(req, tap=seen.append):
        seen.append(event)
    return seen


async def test_tap_sees_every_chunk_in_wire_order_before_its_delta(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(Script(chunks=["Alpha", " beta", " gamma"], usage=(40, 3)))
    seen = await timeline(provider, request("hi"))
    wire = [e for e in seen if isinstance(e, WireEvent)]
    # role chunk, three text chunks, the finish chunk, the usage-only chunk
    assert [(e.protocol, e.kind) for e in wire] == [("chat", "chunk")] * 6
    assert [e.text for e in wire] == ["", "Alpha", " beta", " gamma", "", ""]
    assert wire[0].payload["choices"][0]["delta"]["role"] == "assistant"
    assert wire[4].payload["choices"][0]["finish_reason"] == "stop"
    assert wire[5].payload["choices"] == [] and wire[5].payload["usage"]["prompt_tokens"] == 40
    for i, event in enumerate(seen):  # each delta comes right after the chunk that carried it
        if isinstance(event, TextDelta):
            assert isinstance(seen[i - 1], WireEvent) and seen[i - 1].text == event.text
    assert isinstance(seen[-1], Done)
    json.dumps([e.payload for e in wire])


async def test_tap_gets_one_response_event_without_streaming(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(Script(chunks=["Whole", " thing"]))
    seen = await timeline(provider, request("hi", stream=False))
    wire = seen[0]
    assert isinstance(wire, WireEvent) and len(seen) == 3
    assert (wire.protocol, wire.kind, wire.text) == ("chat", "response", "Whole thing")
    assert wire.payload["object"] == "chat.completion"


async def test_tap_has_the_chunks_before_a_mid_stream_error(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b", "c", "d"], fault="error_event"))
    seen: list[WireEvent] = []
    with pytest.raises(ProviderError) as info:
        await collect(provider, request("hi"), tap=seen.append)
    assert "".join(e.text for e in seen) == "ab" == info.value.partial


async def test_text_that_is_not_a_string_is_a_protocol_error_with_partial(
    fake_server: FakeLLMServer, provider: ChatCompletionsProvider
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b", "c", "d"], fault="not_text"))
    err = await failure(provider, request("hi"))
    assert err.kind == "protocol" and err.partial == "ab"
    assert "not text" in err.message
