"""Esc while the model is still thinking (reasoning shown, no answer word yet): the
thinking stays, as a stopped reply, on screen and in history; the prompt is no context
and goes back in the box, so Enter sends it again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from tui_chat.history import HistoryStore
from tui_chat.ui.widgets.conversation.message import AssistantMessage, UserMessage
from tui_chat.ui.widgets.conversation.reasoning import ReasoningBlock
from tui_chat.ui.widgets.prompt import PromptInput

from .app_factory import make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore.open(tmp_path / "history.sqlite3") as opened:
        yield opened


def _meta(reply: AssistantMessage) -> str:
    return str(reply.query_one("#meta", Static).render())


def _sent(server: FakeLLMServer) -> list[tuple[str, str]]:
    sent = server.requests[-1].json
    return [(m["role"], m["content"]) for m in sent.get("messages") or sent["input"]]


async def _stop_while_thinking(pilot: object, app: object, server: FakeLLMServer) -> None:
    await send(pilot, "one")  # type: ignore[arg-type]
    await wait_for(pilot, lambda: replies(app)[-1].status == "complete")  # type: ignore[arg-type]
    await send(pilot, "2+2?")  # type: ignore[arg-type]
    await wait_for(
        pilot,  # type: ignore[arg-type]
        lambda: "Let me think." in replies(app)[-1].reasoning,  # type: ignore[arg-type]
    )
    await pilot.press("escape")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: not app.chat.replying)  # type: ignore[arg-type, attr-defined]


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_esc_while_thinking_keeps_the_thinking_as_a_stopped_reply_and_resends_on_enter(
    fake_server: FakeLLMServer, store: HistoryStore, api: str
) -> None:
    fake_server.enqueue(
        Script(chunks=["first answer"]),
        Script(chunks=["Four."], reasoning=["Let me", " think."], hold_after=0),
        Script(chunks=["Four, really."]),
    )
    app = make_app(fake_server, api=api, store=store)
    async with app.run_test() as pilot:
        await _stop_while_thinking(pilot, app, fake_server)
        reply = replies(app)[-1]
        assert reply.is_attached and reply.status == "stopped"
        assert reply.reasoning == "Let me think."
        block = reply.query_one(ReasoningBlock)
        assert block.folded and str(block.render()).startswith("▸ thought")
        assert "stopped" in _meta(reply)
        assert [str(w.render()) for w in app.query(UserMessage)] == ["one", "2+2?"]
        assert app.query_one(PromptInput).text == "2+2?", "back in the box"
        assert [m.content for m in app.chat.conversation.messages] == ["one", "first answer"]
        fake_server.release()

        app.query_one(PromptInput).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(replies(app)) == 3)
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        assert _sent(fake_server) == [
            ("user", "one"),
            ("assistant", "first answer"),
            ("user", "2+2?"),
        ], "no empty assistant message, the prompt once"
        assert reply.status == "stopped" and reply.is_attached, "the stopped one stays"

    conversation_id = store.latest_id()
    assert conversation_id is not None
    saved = store.get_conversation(conversation_id)
    assert saved is not None
    assert [(m.role, m.content, m.status) for m in saved.messages] == [
        ("user", "one", "complete"),
        ("assistant", "first answer", "complete"),
        ("user", "2+2?", "complete"),
        ("assistant", "", "stopped"),
        ("user", "2+2?", "complete"),
        ("assistant", "Four, really.", "complete"),
    ]
    assert saved.messages[3].reasoning == "Let me think."


async def test_a_draft_in_the_box_stays_when_the_reply_is_stopped_while_thinking(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(
        Script(chunks=["first answer"]),
        Script(chunks=["Four."], reasoning=["Let me think."], hold_after=0),
    )
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "one")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await send(pilot, "2+2?")
        await wait_for(pilot, lambda: "Let me think." in replies(app)[-1].reasoning)
        app.query_one(PromptInput).load_text("a draft")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.chat.replying)
        assert app.query_one(PromptInput).text == "a draft"
        assert replies(app)[-1].status == "stopped"
        assert [m.content for m in app.chat.conversation.messages] == ["one", "first answer"]
        fake_server.release()


async def test_retry_after_a_stop_while_thinking_leaves_the_turn_before_alone(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(
        Script(chunks=["first answer"]),
        Script(chunks=["Four."], reasoning=["Let me think."], hold_after=0),
    )
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await _stop_while_thinking(pilot, app, fake_server)
        fake_server.release()
        await pilot.press("f5")
        await pilot.pause(0.1)
        assert len(fake_server.requests) == 2, "nothing retried: the prompt is in the box"
        assert [r.text for r in replies(app)] == ["first answer", ""]
        assert [m.content for m in app.chat.conversation.messages] == ["one", "first answer"]


async def test_a_reopened_chat_shows_the_stopped_thinking_and_does_not_send_it(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    fake_server.enqueue(
        Script(chunks=["first answer"]),
        Script(chunks=["Four."], reasoning=["Let me", " think."], hold_after=0),
    )
    app = make_app(fake_server, store=store)
    async with app.run_test() as pilot:
        await _stop_while_thinking(pilot, app, fake_server)
        fake_server.release()
    conversation_id = store.latest_id()
    assert conversation_id is not None

    fake_server.enqueue(Script(chunks=["later answer"]))
    app = make_app(fake_server, store=store, resume=conversation_id)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: len(replies(app)) == 2)
        reply = replies(app)[-1]
        assert reply.status == "stopped" and reply.text == ""
        assert reply.reasoning == "Let me think."
        assert reply.query_one(ReasoningBlock).folded
        assert "stopped" in _meta(reply)
        await send(pilot, "later")
        await wait_for(pilot, lambda: len(replies(app)) == 3)
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
    assert _sent(fake_server) == [
        ("user", "one"),
        ("assistant", "first answer"),
        ("user", "later"),
    ]
