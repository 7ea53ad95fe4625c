"""A streamed reply's reads wait for the reader's next frame, so a frame's tokens come
in one read (the fake server on 127.0.0.1, the providers' own HTTP clients)."""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import AsyncIterator, Callable

import pytest

from tui_chat.core.protocol import Provider, TextDelta
from tui_chat.providers import ChatMessage, ChatRequest
from tui_chat.providers.backend import BackendProvider
from tui_chat.providers.chat_completions import ChatCompletionsProvider
from tui_chat.providers.read_pacing import MAX_HOLD, PacedBackend, hold_reads, install
from tui_chat.providers.responses import ResponsesProvider

from fake_server import FakeLLMServer, Script

REQUEST = ChatRequest(messages=(ChatMessage("user", "hi"),), model="m", system=None, stream=True)
CHUNKS = [f"w{i} " for i in range(12)]
#: The server's gap between chunks, and the reader's frame: three chunks a frame.
GAP, FRAME = 0.03, 0.09


def providers(server: FakeLLMServer) -> dict[str, Provider]:
    return {
        "chat": ChatCompletionsProvider(api_key="k", base_url=server.openai_url, max_retries=0),
        "responses": ResponsesProvider(api_key="k", base_url=server.openai_url, max_retries=0),
        "backend": BackendProvider(base_url=server.url, max_retries=0),
    }


async def arrivals(provider: Provider) -> list[float]:
    """When each text delta reached the reader (monotonic)."""
    times: list[float] = []
    events: AsyncIterator[object] = provider.stream(REQUEST)
    async for event in events:
        if isinstance(event, TextDelta) and event.text:
            times.append(time.monotonic())
    return times


def bursts(times: list[float], within: float = 0.01) -> list[int]:
    """How many deltas came in each burst (deltas less than `within` s apart)."""
    sizes = [1]
    for before, after in zip(times, times[1:], strict=False):
        if after - before < within:
            sizes[-1] += 1
        else:
            sizes.append(1)
    return sizes


@pytest.mark.parametrize("api", ["chat", "responses", "backend"])
async def test_a_frames_tokens_come_in_one_read(api: str) -> None:
    """A reader that draws every FRAME: after the first token, reads wait until its
    next frame, and the tokens the server sent meanwhile arrive together."""
    last = [0.0]

    def next_frame() -> float:
        return last[0] + FRAME if last[0] else 0.0

    with FakeLLMServer() as server:
        server.enqueue(Script(chunks=CHUNKS, delay=GAP, steady=True))
        provider = providers(server)[api]
        token = hold_reads.set(next_frame)
        try:
            times: list[float] = []
            async for event in provider.stream(REQUEST):
                if isinstance(event, TextDelta) and event.text:
                    times.append(time.monotonic())
                    if not last[0] or times[-1] - last[0] >= FRAME:
                        last[0] = times[-1]  # a frame drawn
        finally:
            hold_reads.reset(token)
            await provider.aclose()
    text_deltas = len(times)
    assert text_deltas >= len(CHUNKS) - 1  # (the backend may merge two in one read)
    sizes = bursts(times)
    # Unpaced, the 12 chunks come one by one, 30 ms apart (see the test below); paced,
    # in a few bursts of about a frame's worth (3) each.
    assert len(sizes) <= 7, sizes
    assert max(sizes) >= 3, sizes


async def test_without_a_reader_that_asks_reads_are_not_held() -> None:
    with FakeLLMServer() as server:
        server.enqueue(Script(chunks=CHUNKS, delay=2 * GAP, steady=True))
        provider = providers(server)["chat"]
        try:
            times = await arrivals(provider)
        finally:
            await provider.aclose()
    # One by one, as the server sent them, 60 ms apart (a stall of the loaded machine
    # may merge a few).
    assert len(bursts(times)) >= len(CHUNKS) - 4


async def test_a_hold_is_at_most_max_hold_per_read() -> None:
    """A reader whose frame never comes does not stall the stream: each read waits at
    most MAX_HOLD, and the reply still arrives whole."""
    with FakeLLMServer() as server:
        server.enqueue(Script(chunks=["a", "b", "c"]))
        provider = providers(server)["chat"]
        await provider.client()  # the SDK is imported and built first, outside the clock
        token = hold_reads.set(lambda: time.monotonic() + 60)
        started = time.monotonic()
        try:
            times = await arrivals(provider)
        finally:
            hold_reads.reset(token)
            await provider.aclose()
    assert len(times) == 3
    # Headers, body and end take a handful of reads, none more than MAX_HOLD.
    assert time.monotonic() - started < 20 * MAX_HOLD


async def test_install_wraps_each_pool_once() -> None:
    import httpx2

    async with httpx2.AsyncClient() as client:
        assert install(client)
        backend: Callable[[], object] = lambda: client._transport._pool._network_backend  # noqa: E731
        first = backend()
        assert isinstance(first, PacedBackend)
        assert not install(client)  # already paced: not wrapped again
        assert backend() is first


class _LateEnd(socketserver.BaseRequestHandler):
    """A Chat Completions stream whose body terminator comes `LATE` s after `[DONE]`."""

    LATE = 0.03

    def handle(self) -> None:
        sock = self.request
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += sock.recv(65536)
        sock.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        events = (b'{"choices": [{"index": 0, "delta": {"content": "hi"}}]}', b"[DONE]")
        lines = [b"data: " + event + b"\n\n" for event in events]
        # In one write, so in one read: what the test holds is only the terminator's.
        sock.sendall(b"".join(b"%X\r\n%s\r\n" % (len(line), line) for line in lines))
        time.sleep(self.LATE)
        sock.sendall(b"0\r\n\r\n")
        time.sleep(0.2)  # keep the connection up while the client finishes


async def test_what_follows_the_last_event_is_read_at_once() -> None:
    """After `[DONE]` the body's terminator is not held a frame: the reply ends (and is
    timed) when the server ends it."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _LateEnd)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    provider = ChatCompletionsProvider(api_key="k", base_url=url, max_retries=0)
    try:
        await provider.client()
        done_at = 0.0  # the text came and was drawn: the next frame is FRAME later
        token = hold_reads.set(lambda: done_at + FRAME if done_at else 0.0)
        try:
            async for event in provider.stream(REQUEST):
                if isinstance(event, TextDelta):
                    done_at = time.monotonic()
            ended = time.monotonic() - done_at
        finally:
            hold_reads.reset(token)
    finally:
        await provider.aclose()
        server.shutdown()
        server.server_close()
    # The terminator comes 30 ms after [DONE]; held, its read would wait a frame (90 ms).
    assert ended < _LateEnd.LATE + 0.045, ended


async def test_a_stream_slower_than_the_frames_is_not_held(monkeypatch) -> None:
    """Each token of a model slower than the reader's frames comes after the hold would
    have ended anyway: holding batched nothing and cost a wake-up per token, so once a
    hold finds nothing waiting, reads go straight to the socket; and a stream that
    speeds up again is held again."""
    from tui_chat.providers import read_pacing

    sleeps: list[float] = []
    sleep = read_pacing.asyncio.sleep

    async def counted(delay: float, *args: object) -> None:
        sleeps.append(delay)
        await sleep(delay, *args)

    monkeypatch.setattr(read_pacing.asyncio, "sleep", counted)
    last = [0.0]
    frame = 0.04  # the server's gap is 0.1: slower than the frames

    def next_frame() -> float:
        return last[0] + frame if last[0] else 0.0

    with FakeLLMServer() as server:
        slow, fast = [f"s{i} " for i in range(10)], [f"f{i} " for i in range(30)]
        server.enqueue(Script(chunks=slow, delay=0.1, steady=True))
        server.enqueue(Script(chunks=fast, delay=0.01, steady=True))
        provider = providers(server)["chat"]
        await provider.client()
        token = hold_reads.set(next_frame)
        try:
            for chunks in (slow, fast):
                sleeps.clear()
                times: list[float] = []
                async for event in provider.stream(REQUEST):
                    if isinstance(event, TextDelta) and event.text:
                        times.append(time.monotonic())
                        last[0] = times[-1]
                assert len(times) >= len(chunks) - 2
                if chunks is slow:
                    assert len(sleeps) <= 3, sleeps  # held once or twice, then not
                else:
                    assert len(sleeps) >= 5, sleeps  # fast again: held again
                    assert max(bursts(times)) >= 3
        finally:
            hold_reads.reset(token)
            await provider.aclose()
