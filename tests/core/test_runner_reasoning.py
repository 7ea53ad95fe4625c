"""The runner keeps reasoning apart from the answer, for every source of it."""

from __future__ import annotations

import pytest

from tui_chat.core.protocol import ChatMessage, ChatRequest
from tui_chat.core.runner import Delta, Ended, Reasoning, ReplyEvent, ReplyRunner
from tui_chat.providers import make_provider
from tui_chat.settings.config import Settings

from fake_server import FakeLLMServer, Script

REQUEST = ChatRequest(messages=(ChatMessage("user", "2+2?"),), model="fake-model")


def runner_for(server: FakeLLMServer, api: str) -> ReplyRunner:
    base_url = server.url if api == "backend" else server.openai_url
    settings = Settings(api=api, base_url=base_url, model="fake-model", api_key="sk-test")
    return ReplyRunner(make_provider(settings, timeout=5, max_retries=0))


@pytest.mark.parametrize("api", ["responses", "chat"])
async def test_reasoning_events_reach_ended_apart_from_the_answer(
    fake_server: FakeLLMServer, api: str
) -> None:
    fake_server.enqueue(Script(chunks=["Four."], reasoning=["Two and", " two."], first_delay=0.1))
    events: list[ReplyEvent] = []
    ended = await runner_for(fake_server, api).run(REQUEST, events.append)
    assert [e.text for e in events if isinstance(e, Reasoning)] == ["Two and", " two."]
    assert [e.text for e in events if isinstance(e, Delta)] == ["Four."]
    assert ended.text == "Four." and ended.reasoning == "Two and two."
    metrics = ended.metrics
    assert metrics.first_reasoning is not None and metrics.first_token is not None
    assert metrics.first_token - metrics.first_reasoning >= 0.09
    assert metrics.thought_for is not None and metrics.thought_for >= 0.09
    assert metrics.chunks == 1  # reasoning is not counted as answer chunks


@pytest.mark.parametrize("api", ["chat", "backend"])
async def test_think_tags_cut_across_chunks_become_reasoning(
    fake_server: FakeLLMServer, api: str
) -> None:
    chunks = ["<thi", "nk>Two and", " two.</th", "ink>\n\nFo", "ur."]
    fake_server.enqueue(Script(chunks=chunks))
    events: list[ReplyEvent] = []
    ended = await runner_for(fake_server, api).run(REQUEST, events.append)
    assert ended.text == "Four." and ended.reasoning == "Two and two."
    assert "".join(e.text for e in events if isinstance(e, Delta)) == "Four."


async def test_a_refusal_ends_marked_as_one(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["I won't."], refusal=True))
    events: list[ReplyEvent] = []
    ended = await runner_for(fake_server, "responses").run(REQUEST, events.append)
    assert ended.refusal and ended.text == "I won't."
    assert [e.refusal for e in events if isinstance(e, Delta)] == [True]


async def test_a_reply_without_reasoning_has_no_reasoning_figures(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script())
    ended: Ended = await runner_for(fake_server, "chat").run(REQUEST)
    assert ended.reasoning == "" and not ended.refusal
    assert ended.metrics.first_reasoning is None and ended.metrics.thought_for is None
    assert "thought" not in ended.metrics.summary()
