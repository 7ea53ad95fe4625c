"""A reasoning reply on screen: the thinking streams above the answer, folds to one line
when the answer starts, opens again on click or Enter, and is never sent back."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tui_chat.ui.widgets.conversation.reasoning import ReasoningBlock

from .app_factory import make_app, replies, send, shown_text, wait_for
from fake_server import FakeLLMServer, Script


def shown(block: ReasoningBlock) -> str:
    return str(block.render())


@pytest.mark.parametrize("api", ["responses", "chat"])
async def test_thinking_streams_above_the_answer_then_folds_to_one_line(
    fake_server: FakeLLMServer, api: str
) -> None:
    script = Script(chunks=["Four."], reasoning=["Two and", " two."], hold_after=0)
    fake_server.enqueue(script)
    app = make_app(fake_server, api=api)
    async with app.run_test() as pilot:
        await send(pilot, "2+2?")
        await wait_for(pilot, lambda: bool(replies(app) and replies(app)[0].query(ReasoningBlock)))
        reply = replies(app)[0]
        block = reply.query_one(ReasoningBlock)
        await wait_for(pilot, lambda: "Two and two." in shown(block))
        assert shown(block).startswith("thinking")
        assert shown_text(reply) == ""  # no answer yet: the thinking is not the answer
        assert reply.children.index(block) < reply.children.index(reply.query_one("#body"))

        fake_server.release()
        await wait_for(pilot, lambda: reply.status == "complete")
        assert shown_text(reply) == "Four."
        assert block.folded and shown(block).startswith("▸ thought for ")
        assert "\n" not in shown(block)
        assert reply.reasoning == "Two and two."
        assert "thought" in str(reply.query_one("#meta", Static).render())


async def test_folded_thinking_opens_on_click_and_on_enter(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["Four."], reasoning=["Two and two."]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "2+2?")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        block = replies(app)[0].query_one(ReasoningBlock)
        await pilot.click(ReasoningBlock)
        assert shown(block).startswith("▾ thought") and "Two and two." in shown(block)
        block.focus()
        await pilot.press("enter")
        assert shown(block).startswith("▸ thought") and "Two and two." not in shown(block)


async def test_think_tags_are_shown_as_thinking_not_as_the_answer(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["<thi", "nk>hmm</think>", "Four."]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "2+2?")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        reply = replies(app)[0]
        assert shown_text(reply) == "Four." and reply.reasoning == "hmm"


async def test_reasoning_is_not_sent_back_as_context(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(
        Script(chunks=["Four."], reasoning=["SECRET-THOUGHT"]),
        Script(chunks=["<think>TAGGED-THOUGHT</think>Five."]),
        Script(),
    )
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        for n, prompt in enumerate(["2+2?", "2+3?", "and?"], start=1):
            await send(pilot, prompt)
            await wait_for(pilot, lambda n=n: len(replies(app)) == n)
            await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
    last = fake_server.requests[-1].json["messages"]
    assert [m["content"] for m in last if m["role"] == "assistant"] == ["Four.", "Five."]
    assert "THOUGHT" not in str(last)


async def test_a_refusal_is_shown_as_a_refusal(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["I can't help with that."], refusal=True))
    app = make_app(fake_server, api="responses")
    async with app.run_test() as pilot:
        await send(pilot, "do a bad thing")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        reply = replies(app)[0]
        meta = str(reply.query_one("#meta", Static).render())
        assert shown_text(reply) == "I can't help with that."
        assert "refused" in meta and "empty reply" not in meta
        assert reply.has_class("-refusal")


@pytest.mark.parametrize("asked", [True, False])
async def test_the_chat_asks_for_reasoning_summaries_only_when_told(
    fake_server: FakeLLMServer, asked: bool
) -> None:
    fake_server.enqueue(Script(chunks=["fine"]))
    app = make_app(fake_server, api="responses", reasoning_summary=asked)
    async with app.run_test() as pilot:
        await send(pilot, "think first")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
    sent = fake_server.requests[0].json
    assert (sent.get("reasoning") == {"summary": "auto"}) is asked


@pytest.mark.parametrize("api", ["responses", "chat"])
async def test_a_reply_not_streamed_shows_its_thinking_folded_without_a_time(
    fake_server: FakeLLMServer, api: str
) -> None:
    """The thinking came whole with the answer: no "thought for 0.0 s" that was never."""
    fake_server.enqueue(Script(chunks=["Four."], reasoning=["Two and two."]))
    app = make_app(fake_server, api=api, stream=False)
    async with app.run_test() as pilot:
        await send(pilot, "2+2?")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        reply = replies(app)[0]
        block = reply.query_one(ReasoningBlock)
        assert block.folded and shown(block) == "▸ thought"
        assert reply.reasoning == "Two and two."
        await pilot.click(ReasoningBlock)
        assert "Two and two." in shown(block)
