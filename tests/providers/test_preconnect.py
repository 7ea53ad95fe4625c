"""A connection opened while the prompt is typed carries the first request (a real
server on 127.0.0.1 that notes every connection it accepts)."""

from __future__ import annotations

import asyncio
import socketserver
import threading
from collections.abc import Iterator

import pytest

from tui_chat.providers import ChatMessage, ChatRequest
from tui_chat.providers.backend import BackendProvider
from tui_chat.providers.chat_completions import ChatCompletionsProvider
from tui_chat.providers.openai_base import OpenAIProviderBase

from stream_helpers import collect

SSE = b'data: {"choices": [{"index": 0, "delta": {"content": "hi there"}}]}\n\ndata: [DONE]\n\n'


class Server(socketserver.ThreadingTCPServer):
    """HTTP/1.1 with keep-alive, one canned reply per request; `accepted` has each
    connection's client port, `served` the port each request came on."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.accepted: list[int] = []
        self.served: list[int] = []
        self.ended: list[int] = []  # connections the client closed (or that were hung up)
        self.hang_up_idle = False  # close a new connection at once, before any request
        self.connected = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(socketserver.StreamRequestHandler):
    server: Server

    def finish(self) -> None:
        super().finish()
        self.server.ended.append(self.client_address[1])

    def handle(self) -> None:
        port = self.client_address[1]
        self.server.accepted.append(port)
        self.server.connected.set()
        if self.server.hang_up_idle:
            return
        while True:
            request_line = self.rfile.readline()
            if not request_line:
                return
            length = 0
            while (line := self.rfile.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.rfile.read(length)
            self.server.served.append(port)
            if b"/chat/completions" in request_line:
                head = b"Content-Type: text/event-stream\r\n"
                body = SSE
            else:
                head = b"Content-Type: text/plain\r\n"
                body = b"hi there"
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\n" + head + b"Content-Length: %d\r\n\r\n" % len(body) + body
            )
            self.wfile.flush()


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def request() -> ChatRequest:
    return ChatRequest(
        messages=(ChatMessage("user", "hello"),), model="m", system=None, stream=True
    )


async def provider_for(kind: str, server: Server) -> BackendProvider | OpenAIProviderBase:
    if kind == "backend":
        return BackendProvider(server.url, timeout=5, max_retries=0)
    provider = ChatCompletionsProvider(api_key="k", base_url=server.url + "/v1", max_retries=0)
    await provider.client()  # warm() never waits for the SDK: it is built first here
    return provider


async def text_of(provider: BackendProvider | OpenAIProviderBase) -> str:
    return (await collect(provider, request())).text


@pytest.mark.parametrize("kind", ["backend", "chat"])
async def test_a_warmed_connection_carries_the_first_request(kind: str, server: Server) -> None:
    provider = await provider_for(kind, server)
    try:
        await provider.warm()
        assert server.connected.wait(5)
        assert len(server.accepted) == 1 and server.served == []  # open, nothing sent
        assert await text_of(provider) == "hi there"
        assert server.served == server.accepted  # on that connection, no other opened
        await provider.warm()  # a connection is in the pool now: warming adds one spare
        assert await text_of(provider) == "hi there"
    finally:
        await provider.aclose()


@pytest.mark.parametrize("kind", ["backend", "chat"])
async def test_a_connection_the_server_closed_is_not_used(kind: str, server: Server) -> None:
    server.hang_up_idle = True
    provider = await provider_for(kind, server)
    try:
        await provider.warm()
        assert server.connected.wait(5)
        server.hang_up_idle = False
        for _ in range(100):  # until the close has reached the client's socket
            spare = provider._preconnector._spare  # type: ignore[union-attr]
            if spare is None or spare[0].get_extra_info("is_readable"):
                break
            await asyncio.sleep(0.01)
        assert await text_of(provider) == "hi there"  # no error: a new connection
        assert len(server.accepted) == 2 and server.served == server.accepted[1:]
    finally:
        await provider.aclose()


async def test_no_connection_before_the_sdk_is_built(server: Server) -> None:
    provider = ChatCompletionsProvider(api_key="k", base_url=server.url + "/v1")
    await provider.warm()  # the SDK is not imported and built for this
    assert not server.connected.wait(0.2)
    await provider.aclose()


def test_no_spare_connection_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a proxy set, a connection straight to the provider would go around it."""
    import httpx

    from tui_chat.providers import preconnect

    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    client = httpx.AsyncClient()
    assert preconnect.install(client, "https://api.example.com/v1") is None
    assert preconnect.install(httpx.AsyncClient(trust_env=False), "https://x.example/v1")


async def test_a_warm_up_cancelled_while_the_sdk_loads_leaves_it_loading(server: Server) -> None:
    """Typing again cancels the last warm-up, which may still wait for the client:
    the build every request waits for must go on (it was cancelled with it)."""
    from concurrent.futures import Future

    provider = ChatCompletionsProvider(api_key="k", base_url=server.url + "/v1")
    building: Future[object] = Future()  # the SDK still loading on its thread
    provider._built = building  # type: ignore[assignment]
    warm = asyncio.ensure_future(provider.warm())
    await asyncio.sleep(0.01)
    warm.cancel()
    waiting = asyncio.ensure_future(provider.client())  # a request waits for it too
    await asyncio.sleep(0.01)
    waiting.cancel()  # and is stopped (Esc)
    await asyncio.gather(warm, waiting, return_exceptions=True)
    assert not building.cancelled()
    provider._built = None  # type: ignore[assignment]
    provider.prepare(rehearse=False)
    assert await text_of(provider) == "hi there"
    await provider.aclose()


async def test_a_warm_up_that_ends_after_close_keeps_no_connection(server: Server) -> None:
    provider = BackendProvider(server.url, timeout=5, max_retries=0)
    warm = asyncio.ensure_future(provider.warm())
    await asyncio.sleep(0)  # the warm-up is connecting
    await provider.aclose()  # a profile switch meanwhile
    await warm
    assert provider._preconnector is not None and provider._preconnector._spare is None
    for _ in range(100):  # what was opened is closed again
        if server.ended == server.accepted:
            break
        await asyncio.sleep(0.01)
    assert server.ended == server.accepted
