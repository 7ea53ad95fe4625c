"""Reasoning and refusals from both OpenAI protocols, against the fake server's real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tui_chat.core.protocol import ChatMessage, ChatRequest, Event, ReasoningDelta, TextDelta
from tui_chat.providers.chat_completions import ChatCompletionsProvider
from tui_chat.providers.openai_base import OpenAIProviderBase
from tui_chat.providers.responses import ResponsesProvider

from fake_server import FakeLLMServer, Script

THOUGHTS = ["Let me", " think."]


def request(*, stream: bool = True, summary: bool = False) -> ChatRequest:
    return ChatRequest(
        messages=(ChatMessage("user", "hi"),),
        model="fake-model",
        stream=stream,
        reasoning_summary=summary,
    )


@pytest.fixture(params=["responses", "chat"])
async def provider(
    request: pytest.FixtureRequest, fake_server: FakeLLMServer
) -> AsyncIterator[OpenAIProviderBase]:
    kind = ResponsesProvider if request.param == "responses" else ChatCompletionsProvider
    p = kind(base_url=fake_server.openai_url, timeout=5, max_retries=0)
    yield p
    await p.aclose()


async def events_of(provider: OpenAIProviderBase, req: ChatRequest) -> list[Event]:
    return [event async for event in provider.stream(req)]


def reasoning(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))


def answer(events: list[Event]) -> list[TextDelta]:
    return [e for e in events if isinstance(e, TextDelta)]


@pytest.mark.parametrize("stream", [True, False])
async def test_reasoning_arrives_apart_from_the_answer_and_before_it(
    fake_server: FakeLLMServer, provider: OpenAIProviderBase, stream: bool
) -> None:
    fake_server.enqueue(Script(chunks=["Four."], reasoning=THOUGHTS))
    events = await events_of(provider, request(stream=stream))
    assert reasoning(events) == "Let me think."
    assert "".join(e.text for e in answer(events)) == "Four."
    first_thought = next(i for i, e in enumerate(events) if isinstance(e, ReasoningDelta))
    first_text = next(i for i, e in enumerate(events) if isinstance(e, TextDelta))
    assert first_thought < first_text


async def test_chat_reads_reasoning_under_ollamas_name_too(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["ok"], reasoning=THOUGHTS, reasoning_field="reasoning"))
    p = ChatCompletionsProvider(base_url=fake_server.openai_url, timeout=5, max_retries=0)
    try:
        assert reasoning(await events_of(p, request())) == "Let me think."
    finally:
        await p.aclose()


@pytest.mark.parametrize("stream", [True, False])
async def test_a_refusal_is_text_marked_as_a_refusal(
    fake_server: FakeLLMServer, provider: OpenAIProviderBase, stream: bool
) -> None:
    fake_server.enqueue(Script(chunks=["I can't", " help with that."], refusal=True))
    texts = answer(await events_of(provider, request(stream=stream)))
    assert "".join(t.text for t in texts) == "I can't help with that."
    assert texts and all(t.refusal for t in texts)


async def test_an_answer_is_not_marked_as_a_refusal(
    fake_server: FakeLLMServer, provider: OpenAIProviderBase
) -> None:
    fake_server.enqueue(Script())
    assert not any(t.refusal for t in answer(await events_of(provider, request())))


async def test_responses_asks_for_summaries_only_when_told(fake_server: FakeLLMServer) -> None:
    p = ResponsesProvider(base_url=fake_server.openai_url, timeout=5, max_retries=0)
    try:
        await events_of(p, request())
        await events_of(p, request(summary=True))
    finally:
        await p.aclose()
    plain, asked = (r.json for r in fake_server.requests)
    assert "reasoning" not in plain
    assert asked["reasoning"] == {"summary": "auto"}
