"""BackendProvider against the fake server's real `/api/chat` endpoints, plus the fake itself."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from itertools import cycle

import httpx
import pytest

from tui_chat.providers import (
    ChatMessage,
    ChatRequest,
    Done,
    ProviderError,
    TextDelta,
    WireEvent,
    make_provider,
)
from tui_chat.providers.backend import ERROR_MARKERS, BackendProvider, MarkerFilter
from tui_chat.settings.config import DEFAULT_BACKEND_URL, Settings

from fake_server import FakeLLMServer, Script
from stream_helpers import collect


def request(*turns: str, system: str | None = None, stream: bool = True) -> ChatRequest:
    roles = cycle(["user", "assistant"])
    messages = tuple(ChatMessage(next(roles), text) for text in turns)  # type: ignore[arg-type]
    return ChatRequest(messages=messages, model="fake-model", system=system, stream=stream)


@pytest.fixture
async def provider(fake_server: FakeLLMServer) -> AsyncIterator[BackendProvider]:
    p = BackendProvider(fake_server.url, timeout=5, max_retries=0)
    yield p
    await p.aclose()


async def failure(provider: BackendProvider, req: ChatRequest) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await collect(provider, req)
    return info.value


async def deltas_until_error(provider: BackendProvider, req: ChatRequest) -> list[str]:
    got: list[str] = []
    with pytest.raises(ProviderError):
        async for event in provider.stream(req):
            if isinstance(event, TextDelta):
                got.append(event.text)
    return got


# -- the protocol ------------------------------------------------------------------------


async def test_streams_text_exactly_and_in_order_then_done_without_usage(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    fake_server.enqueue(Script(chunks=["Hel", "lo, ", "wörld ", "🌍"]))
    events = [e async for e in provider.stream(request("hi"))]
    assert events == [
        TextDelta("Hel"),
        TextDelta("lo, "),
        TextDelta("wörld "),
        TextDelta("🌍"),
        Done(),
    ]
    assert fake_server.requests[-1].path == "/api/chat/stream"


async def test_sends_prompt_history_and_system_prompt(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    await collect(provider, request("Hi", "Hello!", "And now?", system="Be terse."))
    assert fake_server.requests[-1].json == {
        "message": "And now?",
        "history": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
        ],
    }


async def test_non_streaming_posts_to_api_chat_and_yields_the_response_once(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    fake_server.enqueue(Script(chunks=["whole ", "reply"]))
    events = [e async for e in provider.stream(request("hi", stream=False))]
    assert events == [TextDelta("whole reply"), Done()]
    assert fake_server.requests[-1].path == "/api/chat"
    assert fake_server.requests[-1].json == {"message": "hi", "history": []}


async def test_make_provider_defaults_to_the_local_backend_url() -> None:
    provider = make_provider(Settings(api="backend"), timeout=5, max_retries=0)
    try:
        assert isinstance(provider, BackendProvider)
        assert provider.base_url == DEFAULT_BACKEND_URL
    finally:
        await provider.aclose()


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize(("status", "kind"), [(400, "bad_request"), (500, "server")])
async def test_error_json_before_the_stream_becomes_an_error_with_its_text(
    fake_server: FakeLLMServer, provider: BackendProvider, status: int, kind: str, stream: bool
) -> None:
    fake_server.enqueue(Script(status=status, error_message="Message is required"))
    err = await failure(provider, request("hi", stream=stream))
    assert (err.kind, err.status) == (kind, status)
    assert "Message is required" in err.message


async def test_rate_limit_says_how_long_to_wait(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    fake_server.enqueue(Script(status=429, error_message="busy"))
    err = await failure(provider, request("hi"))
    assert err.kind == "rate_limit" and "Wait 1 s" in err.message


async def test_backend_401_does_not_talk_about_openai_keys(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    fake_server.enqueue(Script(status=401, error_message="login first"))
    err = await failure(provider, request("hi"))
    assert err.kind == "auth" and "login first" in err.message
    assert "OPENAI_API_KEY" not in err.message


@pytest.mark.parametrize(
    ("fault", "marker"),
    [("trailing_error", "[Error occurred]"), ("generation_error", "[Error during generation]")],
)
async def test_trailing_marker_becomes_an_error_after_the_text_before_it(
    fake_server: FakeLLMServer, provider: BackendProvider, fault: str, marker: str
) -> None:
    fake_server.enqueue(Script(chunks=["Half ", "an ", "answer", "never"], fault=fault))
    got: list[str] = []
    with pytest.raises(ProviderError) as info:
        async for event in provider.stream(request("hi")):
            if isinstance(event, TextDelta):
                got.append(event.text)
    assert "".join(got) == "Half an " == info.value.partial
    assert info.value.kind == "server" and marker in info.value.message


async def test_marker_split_across_chunks_is_still_caught_and_stripped(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    chunks = ["Partial", " text", "\n[Err", "or occ", "urred]"]
    fake_server.enqueue(Script(chunks=chunks, delay=0.02))
    got = await deltas_until_error(provider, request("hi"))
    assert "".join(got) == "Partial text"
    assert got[:2] == ["Partial", " text"]  # ordinary text is not held back


async def test_text_that_only_looks_like_a_marker_start_is_delivered_whole(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    fake_server.enqueue(Script(chunks=["line\n", "[Err", "and more]", "\n["], delay=0.02))
    collected = await collect(provider, request("hi"))
    assert collected.text == "line\n[Errand more]\n["


async def test_unsuccessful_answer_is_an_error(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    fake_server.enqueue(Script(fault="unsuccessful", error_message="model not loaded"))
    err = await failure(provider, request("hi", stream=False))
    assert err.kind == "server" and "model not loaded" in err.message


async def test_non_json_answer_is_a_protocol_error(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    fake_server.enqueue(Script(fault="malformed"))
    err = await failure(provider, request("hi", stream=False))
    assert err.kind == "protocol"


async def test_connection_refused_says_where_and_what_to_check(closed_port_url: str) -> None:
    provider = BackendProvider(closed_port_url, timeout=5, max_retries=0)
    try:
        err = await failure(provider, request("hi"))
    finally:
        await provider.aclose()
    assert err.kind == "connection"
    assert (
        err.message == f"Cannot reach {closed_port_url}: is the server running? Check --base-url."
    )


async def test_stalled_stream_times_out_keeps_partial_and_hangs_up(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b", "c", "d"], fault="stall"))
    provider = BackendProvider(fake_server.url, timeout=0.4, max_retries=0)
    try:
        err = await failure(provider, request("hi"))
    finally:
        await provider.aclose()
    assert err.kind == "timeout" and err.partial == "ab"
    assert await asyncio.to_thread(fake_server.disconnected.wait, 5)


async def test_disconnect_mid_stream_is_a_connection_error_with_partial(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b", "c", "d"], fault="disconnect"))
    err = await failure(provider, request("hi"))
    assert err.kind == "connection" and err.partial == "ab"


async def test_cancelling_the_consumer_closes_the_http_stream(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    fake_server.enqueue(Script(chunks=["one", "two"], hold_after=1))
    events = provider.stream(request("hi"))
    task = asyncio.create_task(collect_all(events))
    await asyncio.to_thread(fake_server.wait_for_requests, 1)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake_server.disconnected.wait, 5)


async def collect_all(events: AsyncIterator[object]) -> list[object]:
    return [e async for e in events]


# -- the wire tap -------------------------------------------------------------------------


async def timeline(provider: BackendProvider, req: ChatRequest) -> list[object]:
    """Wire events and stream events interleaved in the order the consumer saw them."""
    seen: list[object] = []
    async for event in provider.stream(req, tap=seen.append):
        seen.append(event)
    return seen


async def test_tap_sees_raw_chunks_with_their_boundaries_before_each_delta(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    chunks = ["Hel", "lo, ", "wörld ", "🌍"]
    fake_server.enqueue(Script(chunks=chunks))
    seen = await timeline(provider, request("hi"))
    wire = [e for e in seen if isinstance(e, WireEvent)]
    assert [(e.protocol, e.kind, e.payload, e.text) for e in wire] == [
        ("backend", "text", chunk, chunk) for chunk in chunks
    ]
    expected: list[object] = []
    for event, chunk in zip(wire, chunks, strict=True):
        expected += [event, TextDelta(chunk)]
    assert seen == [*expected, Done()]


async def test_tap_keeps_the_raw_error_marker_and_text_only_before_it(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    fake_server.enqueue(Script(chunks=["Half ", "an ", "answer"], fault="trailing_error"))
    seen: list[WireEvent] = []
    with pytest.raises(ProviderError):
        await collect(provider, request("hi"), tap=seen.append)
    assert [(e.payload, e.text) for e in seen] == [
        ("Half ", "Half "),
        ("\n[Error occurred]", ""),
    ]


async def test_text_held_back_as_a_possible_marker_is_released_by_an_end_event(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    fake_server.enqueue(Script(chunks=["ends with\n", "["]))
    seen: list[WireEvent] = []
    collected = await collect(provider, request("hi"), tap=seen.append)
    assert [(e.kind, e.payload, e.text) for e in seen] == [
        ("text", "ends with\n", "ends with"),
        ("text", "[", ""),
        ("end", "", "\n["),
    ]
    assert "".join(e.text for e in seen) == collected.text == "ends with\n["


async def test_tap_gets_the_json_answer_without_streaming(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    fake_server.enqueue(Script(chunks=["whole ", "reply"]))
    seen = await timeline(provider, request("hi", stream=False))
    assert seen[0] == WireEvent(
        "backend",
        "response",
        {"response": "whole reply", "success": True},
        seen[0].at,
        "whole reply",
    )
    assert seen[1:] == [TextDelta("whole reply"), Done()]


async def test_tap_shows_an_unreadable_answer_as_raw_text(
    fake_server: FakeLLMServer, provider: BackendProvider
) -> None:
    fake_server.enqueue(Script(fault="malformed"))
    seen: list[WireEvent] = []
    with pytest.raises(ProviderError):
        await collect(provider, request("hi", stream=False), tap=seen.append)
    assert [(e.kind, e.payload, e.text) for e in seen] == [("response", "{this is not json", "")]


# -- the marker filter on its own ------------------------------------------------------------


@pytest.mark.parametrize("marker", ERROR_MARKERS)
def test_marker_filter_finds_the_marker_at_every_split_point(marker: str) -> None:
    text = "Some reply\n- a list\n"
    stream = text + marker
    for cut in range(1, len(stream)):
        for cut2 in range(cut, len(stream)):
            f = MarkerFilter()
            shown, found = "", None
            for piece in (stream[:cut], stream[cut:cut2], stream[cut2:]):
                out, found = f.feed(piece)
                shown += out
                if found:
                    break
            assert (shown, found) == (text, marker), (cut, cut2)


def test_marker_filter_never_holds_text_without_a_newline() -> None:
    f = MarkerFilter()
    assert f.feed("plain [Error occurred] words") == ("plain [Error occurred] words", None)


def test_marker_filter_holds_only_a_possible_marker_start() -> None:
    f = MarkerFilter()
    assert f.feed("a\nb\n[Error") == ("a\nb", None)
    assert f.feed(" during") == ("", None)
    assert f.feed(" lunch") == ("\n[Error during lunch", None)
    assert f.flush() == ""


def test_marker_filter_returns_held_text_at_the_end() -> None:
    f = MarkerFilter()
    assert f.feed("ends with\n[") == ("ends with", None)
    assert f.flush() == "\n["


def test_marker_filter_treats_a_bare_marker_at_the_start_as_an_error() -> None:
    f = MarkerFilter()
    assert f.feed("[Error occ") == ("", None)
    assert f.feed("urred]") == ("", "\n[Error occurred]")


# -- the fake server's own behaviour -------------------------------------------------------


def test_fake_server_root_says_it_is_running(fake_server: FakeLLMServer) -> None:
    response = httpx.get(fake_server.url + "/")
    assert response.text == "Backend is running successfully."
    assert fake_server.requests[-1].method == "GET"


def test_fake_server_wait_for_requests_raises_assertion_error_on_timeout(
    fake_server: FakeLLMServer,
) -> None:
    with pytest.raises(AssertionError):
        fake_server.wait_for_requests(1, timeout=0.05)


def test_fake_server_reset_clears_queue_log_and_disconnected(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["queued"]))
    httpx.get(fake_server.url + "/")
    fake_server.disconnected.set()
    fake_server.reset()
    assert fake_server.requests == [] and not fake_server.disconnected.is_set()
    body = httpx.post(fake_server.url + "/api/chat", json={"message": "x"}).json()
    assert body == {"response": "Hello from the fake server.", "success": True}


def test_fake_server_stop_does_not_hang_on_a_held_stream() -> None:
    server = FakeLLMServer()
    server.start()
    server.enqueue(Script(hold_after=1))
    got_first = threading.Event()

    def client() -> None:
        try:
            with httpx.stream("POST", server.url + "/api/chat/stream", json={}) as r:
                for _ in r.iter_text():
                    got_first.set()
        except httpx.HTTPError:
            pass

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    assert got_first.wait(5)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    thread.join(5)
    assert not thread.is_alive()


def test_fake_server_rejects_unknown_faults() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        Script(fault="explode")
