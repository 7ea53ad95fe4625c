"""`serve` waits out upstream retries before it commits to a status line.

Its stream endpoint answers 200 on the first event; a `Retrying` is not one, so an
upstream that keeps failing still gets a 500 with a JSON body, not a 200 whose body
ends in the in-band error marker.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from starlette.applications import Starlette

from tui_chat.providers import make_provider
from tui_chat.serve import create_app
from tui_chat.settings.config import Settings

from fake_server import FakeLLMServer, Script


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def serve_with_retries(upstream: FakeLLMServer) -> Iterator[str]:
    settings = Settings(api="chat", base_url=upstream.openai_url, model="fake-model")
    with serving(create_app(make_provider(settings, timeout=5, max_retries=2), settings)) as url:
        yield url


def stream(url: str) -> httpx.Response:
    with httpx.Client(timeout=30) as client:
        return client.post(url + "/api/chat/stream", json={"message": "hi"})


def test_an_upstream_that_keeps_failing_is_a_500_after_the_retries(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(*[Script(status=503, retry_after="0")] * 3)
    with serve_with_retries(fake_server) as url:
        response = stream(url)
    assert response.status_code == 500
    assert response.json() == {"error": "Failed to stream AI response", "success": False}
    assert len(fake_server.requests) == 3


def test_an_upstream_that_recovers_on_a_retry_streams_its_text(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(status=503, retry_after="0"))
    with serve_with_retries(fake_server) as url:
        response = stream(url)
    assert response.status_code == 200 and response.text == Script().text
