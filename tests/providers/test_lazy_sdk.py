"""The OpenAI providers import the SDK only when a request needs it (issue 12): making
one costs nothing at start-up, and the first request brings the SDK in by itself.

Run in a fresh interpreter each: this one imported openai long ago.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tui_chat.core.protocol import ChatMessage, ChatRequest, TextDelta
from tui_chat.providers import request_sent
from tui_chat.providers.chat_completions import ChatCompletionsProvider

from fake_server import FakeLLMServer, Script

_MAKE_THEN_STREAM = r"""
import asyncio, json, sys
from tui_chat.core.protocol import ChatMessage, ChatRequest, TextDelta
from tui_chat.providers import make_provider
from tui_chat.settings.config import Settings

api, url = sys.argv[1:3]
provider = make_provider(Settings(api=api, base_url=url, model="fake-model", api_key="k"))
made = "openai" in sys.modules


async def main():
    request = ChatRequest(messages=(ChatMessage("user", "hi"),), model="fake-model")
    text = "".join([e.text async for e in provider.stream(request) if isinstance(e, TextDelta)])
    await provider.aclose()
    return text


text = asyncio.run(main())
print(json.dumps({"sdk_after_make_provider": made, "text": text}))
"""


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_making_an_openai_provider_does_not_import_the_sdk_and_its_first_request_does(
    api: str, fake_server: FakeLLMServer
) -> None:
    fake_server.enqueue(Script(chunks=["Imported ", "on ", "demand."]))
    done = subprocess.run(
        [sys.executable, "-c", _MAKE_THEN_STREAM, api, fake_server.openai_url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"sdk_after_make_provider": False, "text": "Imported on demand."}


async def test_a_reply_that_asks_is_told_when_its_request_is_on_the_wire(
    fake_server: FakeLLMServer,
) -> None:
    """`request_sent` is called once the body is written, before any answer (the server
    holds its stream), and once per request."""
    fake_server.enqueue(Script(chunks=["held ", "here"], hold_after=0))
    provider = ChatCompletionsProvider(base_url=fake_server.openai_url, timeout=5, max_retries=0)
    told = asyncio.Event()
    calls: list[None] = []

    def on_the_wire() -> None:
        calls.append(None)
        told.set()

    said = request_sent.set(on_the_wire)
    try:
        events = provider.stream(ChatRequest(messages=(ChatMessage("user", "hi"),), model="m"))
        first = asyncio.ensure_future(anext(events))
    finally:
        request_sent.reset(said)  # the task took its copy of the context
    try:
        await asyncio.wait_for(told.wait(), 10)
        assert not first.done(), "told before any answer came"
        fake_server.wait_for_requests(1)  # a release counts only after the request arrived
        fake_server.release()
        assert await first == TextDelta("held ")
        assert [e async for e in events][-1:] and len(calls) == 1
    finally:
        await provider.aclose()


async def test_a_prepared_client_rehearses_so_the_first_request_hops_to_no_thread_and_sends_nothing(
    fake_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`prepare()` (the chat calls it after its first frame) runs one request through the
    SDK in-process: the server hears nothing, and the first real request no longer waits
    for a worker thread to look up the platform before it is sent."""
    fake_server.enqueue(Script(chunks=["rehearsed"]))
    provider = ChatCompletionsProvider(base_url=fake_server.openai_url, timeout=5, max_retries=0)
    provider.prepare()
    await provider.client()
    for thread in threading.enumerate():
        if thread.name == "chat-sdk":
            thread.join(30)  # the rehearsal runs after the client is handed out
    hops: list[object] = []
    to_thread = asyncio.to_thread

    async def counted(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        hops.append(func)
        return await to_thread(func, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    try:
        assert fake_server.requests == [], "a rehearsal sends nothing to the server"
        request = ChatRequest(messages=(ChatMessage("user", "hi"),), model="fake-model")
        events = [e async for e in provider.stream(request)]
        assert [e.text for e in events if isinstance(e, TextDelta)] == ["rehearsed"]
        assert hops == []
    finally:
        await provider.aclose()
