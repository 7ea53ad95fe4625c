"""`tui-chat serve` over real HTTP: the Starlette app under a real uvicorn server.

The app is backed by the fake LLM server through the Chat Completions provider, so
every byte crosses two real sockets: test client -> serve -> fake upstream. Nothing
is patched; timing is driven with held streams (`hold_after` + `release()`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from tui_chat.providers import ChatMessage, ChatRequest, ProviderError, make_provider
from tui_chat.serve import MAX_BODY, READ_TIMEOUT, STREAM_ERROR_MARKER, create_app, uvicorn_config
from tui_chat.settings.config import Settings

from conftest import FAKE_API_KEY
from fake_server import FakeLLMServer, Script
from stream_helpers import collect

WRONG_KEY = "sk-wrong-9876543210-SECRET"


@contextmanager
def running(app: Starlette, read_timeout: float = READ_TIMEOUT) -> Iterator[str]:
    """Serve `app` on an ephemeral 127.0.0.1 port in a background thread, with serve's own
    uvicorn settings (its header deadline included)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn_config(
        app, read_timeout=read_timeout, log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="serve-under-test", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn exited during startup"
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not shut down"


def upstream_settings(upstream: FakeLLMServer, **changes: object) -> Settings:
    return Settings(api="chat", base_url=upstream.openai_url, model="fake-model").with_(**changes)


@pytest.fixture(scope="module")
def upstream_server() -> Iterator[FakeLLMServer]:
    """This module's own fake LLM server, so `serve` can be started once per module."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def upstream(upstream_server: FakeLLMServer) -> Iterator[FakeLLMServer]:
    """The module's fake LLM server, fresh for this test (like conftest's `fake_server`)."""
    upstream_server.reset()
    yield upstream_server
    upstream_server.reset()


@pytest.fixture(scope="module")
def serve_url(upstream_server: FakeLLMServer) -> Iterator[str]:
    """One `serve` for the module (uvicorn takes ~0.2 s to stop); its provider keeps no state.

    `max_retries=0`: the SDK would otherwise retry scripted 5xx failures and consume
    the next test script.
    """
    settings = upstream_settings(upstream_server)
    with running(create_app(make_provider(settings, max_retries=0), settings)) as url:
        yield url


@pytest.fixture
def start_serve(upstream: FakeLLMServer) -> Iterator[Callable[..., str]]:
    """Start an extra `serve` with changed settings for this test only; returns its URL."""
    with ExitStack() as stack:

        def start(
            backing: FakeLLMServer = upstream,
            *,
            max_body: int = MAX_BODY,
            read_timeout: float = READ_TIMEOUT,
            **changes: object,
        ) -> str:
            settings = upstream_settings(backing, **changes)
            provider = make_provider(settings, max_retries=0)
            app = create_app(provider, settings, max_body=max_body, read_timeout=read_timeout)
            return stack.enter_context(running(app, read_timeout))

        yield start
        upstream.release()  # never leave serve waiting on a held upstream stream


def post_json(url: str, body: object, **kwargs: object) -> httpx.Response:
    return httpx.post(url, json=body, timeout=10, **kwargs)  # type: ignore[arg-type]


# -- plain routes -----------------------------------------------------------------------


def test_root_says_backend_is_running(serve_url: str) -> None:
    response = httpx.get(serve_url + "/", timeout=10)
    assert response.status_code == 200
    assert response.text == "Backend is running successfully."


def test_chat_returns_whole_reply_from_non_streaming_upstream(
    serve_url: str, upstream: FakeLLMServer
) -> None:
    upstream.enqueue(Script(chunks=["Four", " score"]))
    response = post_json(serve_url + "/api/chat", {"message": "hi"})
    assert response.status_code == 200
    assert response.json() == {"response": "Four score", "success": True}
    upstream = upstream.requests[-1]
    assert upstream.path == "/v1/chat/completions"
    assert not upstream.json.get("stream")
    assert upstream.json["messages"] == [{"role": "user", "content": "hi"}]
    assert upstream.json["model"] == "fake-model"


@pytest.mark.parametrize("endpoint", ["/api/chat", "/api/chat/stream"])
def test_history_and_system_are_forwarded_upstream(
    start_serve: Callable[..., str], upstream: FakeLLMServer, endpoint: str
) -> None:
    url = start_serve(system="Server rules.", temperature=0.25)
    history = [
        {"role": "system", "content": "Client rules."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
    ]
    response = post_json(url + endpoint, {"message": "And 3+3?", "history": history})
    assert response.status_code == 200
    sent = upstream.requests[-1].json
    assert sent["messages"] == [
        {"role": "system", "content": "Server rules.\n\nClient rules."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3?"},
    ]
    assert sent["temperature"] == 0.25


@pytest.mark.parametrize("endpoint", ["/api/chat", "/api/chat/stream"])
@pytest.mark.parametrize(
    "body",
    [{}, {"message": ""}, {"message": "   "}, {"message": 42}, {"message": None}, {"msg": "hi"}],
    ids=["absent", "empty", "blank", "number", "null", "misspelt"],
)
def test_missing_message_is_400(
    serve_url: str, upstream: FakeLLMServer, endpoint: str, body: dict[str, object]
) -> None:
    response = post_json(serve_url + endpoint, body)
    assert response.status_code == 400
    assert response.json() == {"error": "Message is required"}
    assert upstream.requests == []


@pytest.mark.parametrize("endpoint", ["/api/chat", "/api/chat/stream"])
@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"[1, 2]", b'"hello"', b"null", b"\xff\xfe\x00"],
    ids=["garbage", "empty", "array", "string", "null", "not-utf8"],
)
def test_malformed_json_is_400(
    serve_url: str, upstream: FakeLLMServer, endpoint: str, raw: bytes
) -> None:
    response = httpx.post(
        serve_url + endpoint,
        content=raw,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid JSON body"}
    assert upstream.requests == []


@pytest.mark.parametrize("endpoint", ["/api/chat", "/api/chat/stream"])
@pytest.mark.parametrize(
    ("history", "needle"),
    [
        ("not a list", "History must be a list"),
        ({"role": "user", "content": "x"}, "History must be a list"),
        ([["user", "x"]], "History item 0 must be an object"),
        ([{"role": "user", "content": "ok"}, {"role": "tool", "content": "x"}], "item 1"),
        ([{"content": "x"}], "role"),
        ([{"role": "user", "content": 5}], "string content"),
        ([{"role": "user"}], "string content"),
    ],
)
def test_bad_history_is_400_with_a_clear_error(
    serve_url: str, upstream: FakeLLMServer, endpoint: str, history: object, needle: str
) -> None:
    response = post_json(serve_url + endpoint, {"message": "hi", "history": history})
    assert response.status_code == 400
    error = response.json()["error"]
    assert needle in error
    assert upstream.requests == []


def test_chat_provider_failure_is_500_and_logged_server_side(
    serve_url: str, upstream: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.enqueue(Script(status=503, error_message="upstream is on fire"))
    with caplog.at_level(logging.ERROR, logger="tui_chat.serve"):
        response = post_json(serve_url + "/api/chat", {"message": "hi"})
    assert response.status_code == 500
    assert response.json() == {"error": "Failed to get AI response", "success": False}
    assert "upstream is on fire" not in response.text
    assert "upstream is on fire" in caplog.text


# -- streaming --------------------------------------------------------------------------


def test_stream_body_is_the_scripted_text_as_plain_text(
    serve_url: str, upstream: FakeLLMServer
) -> None:
    script = Script(chunks=["Streams ", "flow ", "one ", "way."])
    upstream.enqueue(script)
    response = post_json(serve_url + "/api/chat/stream", {"message": "hi"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.text == script.text
    assert upstream.requests[-1].json["stream"] is True


async def test_stream_first_chunk_arrives_before_the_rest_is_released(
    serve_url: str, upstream: FakeLLMServer
) -> None:
    upstream.enqueue(Script(chunks=["first ", "second ", "third"], hold_after=1))
    async with httpx.AsyncClient(timeout=10) as client:
        async with client.stream(
            "POST", serve_url + "/api/chat/stream", json={"message": "hi"}
        ) as response:
            assert response.status_code == 200
            chunks = response.aiter_text()
            first = await asyncio.wait_for(anext(chunks), 5)
            assert first == "first "  # readable while the upstream is still held
            upstream.release()
            rest = "".join([chunk async for chunk in chunks])
    assert first + rest == "first second third"


@pytest.mark.parametrize(
    "script",
    [
        Script(status=500, error_message="upstream broke"),
        Script(status=400, error_message="unknown model"),
        Script(chunks=[], fault="disconnect"),  # upstream drops before any text
    ],
    ids=["upstream-500", "upstream-400", "upstream-drop"],
)
def test_stream_failure_before_first_text_is_500_json(
    serve_url: str, upstream: FakeLLMServer, script: Script
) -> None:
    upstream.enqueue(script)
    response = post_json(serve_url + "/api/chat/stream", {"message": "hi"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "Failed to stream AI response", "success": False}


@pytest.mark.parametrize("fault", ["disconnect", "error_event"])
def test_stream_failure_after_text_ends_with_error_marker(
    serve_url: str, upstream: FakeLLMServer, fault: str
) -> None:
    upstream.enqueue(Script(chunks=["par", "tial", "never", "sent"], fault=fault))
    response = post_json(serve_url + "/api/chat/stream", {"message": "hi"})
    assert response.status_code == 200
    assert response.text == "partial" + STREAM_ERROR_MARKER
    assert response.text.endswith("\n[Error occurred]")


async def test_client_disconnect_mid_stream_closes_upstream(
    serve_url: str, upstream: FakeLLMServer
) -> None:
    upstream.enqueue(Script(chunks=["first ", "second"], hold_after=1))
    async with httpx.AsyncClient(timeout=10) as client:
        async with client.stream(
            "POST", serve_url + "/api/chat/stream", json={"message": "hi"}
        ) as response:
            assert await asyncio.wait_for(anext(response.aiter_text()), 5) == "first "
            assert not upstream.disconnected.is_set()
        # Leaving the block closes the connection before the reply finished.
    assert upstream.disconnected.wait(5), "upstream stream was left open"


@pytest.mark.parametrize("endpoint", ["/api/chat", "/api/chat/stream"])
def test_client_disconnect_while_waiting_for_first_text_closes_upstream(
    serve_url: str, upstream: FakeLLMServer, endpoint: str
) -> None:
    """A client that gives up before any text must not leave the upstream request running."""
    upstream.enqueue(Script(hold_after=0))
    port = int(serve_url.rsplit(":", 1)[1])
    body = b'{"message": "hi"}'
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (endpoint.encode(), len(body), body)
        )
        upstream.wait_for_requests(1)
    assert upstream.disconnected.wait(5), "upstream request was left running"


async def test_concurrent_streams_each_get_their_own_full_text(
    serve_url: str, upstream: FakeLLMServer
) -> None:
    n = 5
    scripts = [
        Script(chunks=[f"reply-{i} ", "part-two ", f"end-{i}"], hold_after=1) for i in range(n)
    ]
    upstream.enqueue(*scripts)
    all_started = asyncio.Event()
    started = 0

    async def one(client: httpx.AsyncClient, i: int) -> tuple[str, str]:
        nonlocal started
        async with client.stream(
            "POST", serve_url + "/api/chat/stream", json={"message": f"prompt {i}"}
        ) as response:
            chunks = response.aiter_text()
            first = await anext(chunks)
            started += 1
            if started == n:
                all_started.set()
            rest = "".join([chunk async for chunk in chunks])
        return first, first + rest

    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        tasks = [asyncio.create_task(one(client, i)) for i in range(n)]
        # All five are open at once, each held upstream after its first chunk.
        await asyncio.wait_for(all_started.wait(), 10)
        upstream.release()
        results = await asyncio.wait_for(asyncio.gather(*tasks), 10)
    for first, text in results:
        i = int(first.removeprefix("reply-").strip())
        assert text == scripts[i].text
    assert sorted(text for _, text in results) == sorted(s.text for s in scripts)


# -- CORS and secrets -------------------------------------------------------------------


def test_cors_preflight_allows_any_origin(serve_url: str) -> None:
    response = httpx.options(
        serve_url + "/api/chat/stream",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


def test_cors_header_on_simple_request(serve_url: str) -> None:
    response = httpx.get(serve_url + "/", headers={"Origin": "http://example.com"}, timeout=10)
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("key", [FAKE_API_KEY, WRONG_KEY], ids=["right-key", "wrong-key"])
def test_api_key_never_reaches_clients_or_logs(
    start_serve: Callable[..., str],
    fake_server_with_key: FakeLLMServer,
    caplog: pytest.LogCaptureFixture,
    key: str,
) -> None:
    url = start_serve(fake_server_with_key, api_key=key)
    responses = []
    with caplog.at_level(logging.INFO):
        for endpoint in ("/", "/api/chat", "/api/chat/stream"):
            if endpoint == "/":
                responses.append(httpx.get(url + endpoint, timeout=10))
            else:
                responses.append(post_json(url + endpoint, {"message": "hi"}))
    sent = fake_server_with_key.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {key}"  # the key was really used
    for response in responses:
        assert key not in response.text
        assert key not in str(response.headers)
    if key == WRONG_KEY:
        assert [r.status_code for r in responses] == [200, 500, 500]
        assert "401" in caplog.text  # the failure is logged, the key is not
    else:
        assert [r.status_code for r in responses] == [200, 200, 200]
    assert key not in caplog.text


# -- end to end: the TUI's backend provider talking to serve ------------------------------


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "no-stream"])
async def test_backend_provider_round_trip_through_serve(
    serve_url: str, upstream: FakeLLMServer, stream: bool
) -> None:
    script = Script(chunks=["Round", " trip", " works."])
    upstream.enqueue(script)
    provider = make_provider(Settings(api="backend", base_url=serve_url))
    request = ChatRequest(
        messages=(
            ChatMessage("user", "Hi"),
            ChatMessage("assistant", "Hello!"),
            ChatMessage("user", "Say something."),
        ),
        model="ignored-by-backend",
        system="Be kind.",
        stream=stream,
    )
    try:
        reply = await collect(provider, request)
    finally:
        await provider.aclose()
    assert reply.text == script.text
    assert reply.done is not None
    if stream:
        assert len(reply.deltas) >= 1
    sent = upstream.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert bool(sent.json.get("stream")) is stream
    assert sent.json["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Say something."},
    ]


async def test_backend_provider_reports_mid_stream_failure_with_partial_text(
    serve_url: str, upstream: FakeLLMServer
) -> None:
    upstream.enqueue(Script(chunks=["half ", "a ", "reply", "lost"], fault="disconnect"))
    provider = make_provider(Settings(api="backend", base_url=serve_url))
    request = ChatRequest(messages=(ChatMessage("user", "hi"),), model="m")
    try:
        with pytest.raises(ProviderError) as caught:
            await collect(provider, request)
    finally:
        await provider.aclose()
    assert caught.value.partial == "half a "
    assert "[Error occurred]" not in caught.value.partial


async def test_backend_provider_streams_incrementally_through_serve(
    serve_url: str, upstream: FakeLLMServer
) -> None:
    upstream.enqueue(Script(chunks=["early ", "late"], hold_after=1))
    provider = make_provider(Settings(api="backend", base_url=serve_url))
    request = ChatRequest(messages=(ChatMessage("user", "hi"),), model="m")
    events = provider.stream(request)
    try:
        first = await asyncio.wait_for(anext(events), 5)
        assert getattr(first, "text", None) == "early "
        upstream.release()
        rest = [getattr(e, "text", "") async for e in events]
    finally:
        await events.aclose()  # type: ignore[attr-defined]
        await provider.aclose()
    assert "".join(rest) == "late"


def test_serve_request_body_is_not_echoed_in_errors(serve_url: str) -> None:
    """Error bodies are fixed strings: nothing the client or upstream sent is reflected."""
    response = httpx.post(
        serve_url + "/api/chat",
        content=json.dumps({"message": 1, "secret": "<script>"}),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "<script>" not in response.text


# -- bad input: refused with a JSON error before anything goes upstream ---------------------

ENDPOINTS = ["/api/chat", "/api/chat/stream"]
JSON_TYPE = {"Content-Type": "application/json"}
DEEP = 100_000


def raw_exchange(url: str, data: bytes) -> bytes:
    """Send `data` on a fresh connection in one write; read until the server closes it."""
    port = int(url.rsplit(":", 1)[1])
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        while chunk := sock.recv(65536):
            received += chunk
    return received


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, lower-cased headers, body) of the first response in `raw`."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, rest[: int(headers["content-length"])]


def request_head(endpoint: str, *headers: str) -> bytes:
    lines = [f"POST {endpoint} HTTP/1.1", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def assert_json_refusal(raw: bytes, status: int, needle: str) -> None:
    got, headers, body = parse_response(raw)
    assert got == status, raw
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"  # unread body bytes are not drained
    assert needle in json.loads(body)["error"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "raw",
    [
        b"[" * DEEP + b"]" * DEEP,
        b'{"message": "hi", "history": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    ],
    ids=["top-level", "in-history"],
)
def test_deeply_nested_json_is_400_json(
    serve_url: str, upstream: FakeLLMServer, endpoint: str, raw: bytes
) -> None:
    response = httpx.post(serve_url + endpoint, content=raw, headers=JSON_TYPE, timeout=10)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "Invalid JSON body: nested too deeply"}
    assert upstream.requests == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b'{"message": "hi \\ud800"}', "Message is not valid Unicode"),
        (
            b'{"message": "hi", "history": [{"role": "user", "content": "\\udc00x"}]}',
            "History item 0 content is not valid Unicode",
        ),
    ],
    ids=["message", "history"],
)
def test_lone_surrogate_is_400_json_and_never_sent_upstream(
    serve_url: str, upstream: FakeLLMServer, endpoint: str, raw: bytes, needle: str
) -> None:
    response = httpx.post(serve_url + endpoint, content=raw, headers=JSON_TYPE, timeout=10)
    assert response.status_code == 400
    assert needle in response.json()["error"]
    assert upstream.requests == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_body_declared_over_the_default_1mb_is_413_before_it_is_sent(
    serve_url: str, upstream: FakeLLMServer, endpoint: str
) -> None:
    head = request_head(
        endpoint, "Content-Type: application/json", f"Content-Length: {MAX_BODY + 1}"
    )
    assert_json_refusal(raw_exchange(serve_url, head), 413, f"larger than {MAX_BODY} bytes")
    assert MAX_BODY == 1_000_000
    assert upstream.requests == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_body_at_the_limit_is_served_and_one_byte_more_is_413(
    start_serve: Callable[..., str], upstream: FakeLLMServer, endpoint: str
) -> None:
    url = start_serve(max_body=100)
    prefix, suffix = b'{"message": "', b'"}'
    at_limit = prefix + b"x" * (100 - len(prefix) - len(suffix)) + suffix
    assert len(at_limit) == 100
    response = httpx.post(url + endpoint, content=at_limit, headers=JSON_TYPE, timeout=10)
    assert response.status_code == 200
    over = at_limit[:-2] + b'x"}'
    head = request_head(endpoint, "Content-Type: application/json", "Content-Length: 101")
    assert_json_refusal(raw_exchange(url, head + over), 413, "larger than 100 bytes")
    assert len(upstream.requests) == 1


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_chunked_body_over_the_limit_is_413(
    start_serve: Callable[..., str], upstream: FakeLLMServer, endpoint: str
) -> None:
    """Without a Content-Length the limit is enforced while reading."""
    url = start_serve(max_body=100)
    chunk = b'{"message": "' + b"x" * 150 + b'"}'
    head = request_head(endpoint, "Content-Type: application/json", "Transfer-Encoding: chunked")
    raw = raw_exchange(url, head + b"%x\r\n%s\r\n" % (len(chunk), chunk))  # no final chunk
    assert_json_refusal(raw, 413, "larger than 100 bytes")
    assert upstream.requests == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_body_that_never_finishes_is_408(
    start_serve: Callable[..., str], upstream: FakeLLMServer, endpoint: str
) -> None:
    url = start_serve(read_timeout=0.3)
    head = request_head(endpoint, "Content-Type: application/json", "Content-Length: 100")
    assert_json_refusal(raw_exchange(url, head + b'{"message"'), 408, "body not received")
    assert upstream.requests == []


@pytest.mark.parametrize(
    "sent",
    [b"", b"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"],
    ids=["nothing", "half-the-headers"],
)
def test_headers_that_never_finish_are_408(start_serve: Callable[..., str], sent: bytes) -> None:
    url = start_serve(read_timeout=0.3)
    assert_json_refusal(raw_exchange(url, sent), 408, "headers not received")


def test_next_request_on_a_kept_alive_connection_has_the_header_deadline_too(
    start_serve: Callable[..., str],
) -> None:
    url = start_serve(read_timeout=0.3)
    raw = raw_exchange(url, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET / HTTP/1.1\r\nHo")
    status, headers, body = parse_response(raw)
    assert (status, body) == (200, b"Backend is running successfully.")
    second = raw.split(b"Backend is running successfully.", 1)[1]
    assert_json_refusal(second, 408, "headers not received")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonp"],
    ids=["missing", "text", "form", "jsonp"],
)
def test_body_that_is_not_declared_json_is_415(
    serve_url: str, upstream: FakeLLMServer, endpoint: str, content_type: str | None
) -> None:
    body = b'{"message": "hi"}'
    headers = [f"Content-Length: {len(body)}"]
    if content_type is not None:
        headers.append(f"Content-Type: {content_type}")
    raw = raw_exchange(serve_url, request_head(endpoint, *headers) + body)
    assert_json_refusal(raw, 415, "Content-Type must be application/json")
    assert upstream.requests == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON;charset=UTF-8"]
)
def test_json_content_type_with_parameters_is_accepted(
    serve_url: str, upstream: FakeLLMServer, endpoint: str, content_type: str
) -> None:
    upstream.enqueue(Script(chunks=["ok"]))
    response = httpx.post(
        serve_url + endpoint,
        content=b'{"message": "hi"}',
        headers={"Content-Type": content_type},
        timeout=10,
    )
    assert response.status_code == 200
    assert "ok" in response.text
