"""Retry (F5) and edit (F8): the last turn is replaced in place, on screen and as
context, and history keeps the replaced one as an earlier version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_chat.history import HistoryStore
from tui_chat.history.schema import SCHEMA_VERSION, migrate, user_version
from tui_chat.ui.widgets.conversation.message import UserMessage
from tui_chat.ui.widgets.prompt import PromptInput

from .app_factory import make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore.open(tmp_path / "history.sqlite3") as opened:
        yield opened


def _sent_contents(server: FakeLLMServer) -> list[str]:
    return [m["content"] for m in server.requests[-1].json["messages"]]


def _prompts_shown(app: object) -> list[str]:
    return [str(w.render()) for w in app.query(UserMessage)]  # type: ignore[attr-defined]


async def test_retry_regenerates_the_last_reply_and_sends_the_conversation_without_it(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    fake_server.enqueue(Script(chunks=["first answer"]))
    fake_server.enqueue(Script(chunks=["old answer"]))
    fake_server.enqueue(Script(chunks=["new answer"]))
    app = make_app(fake_server, store=store)
    async with app.run_test() as pilot:
        await send(pilot, "one")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await send(pilot, "two")
        await wait_for(pilot, lambda: replies(app)[-1].text == "old answer")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        app.query_one(PromptInput).load_text("a draft")
        await pilot.press("f5")
        await wait_for(pilot, lambda: replies(app)[-1].text == "new answer")
        assert app.query_one(PromptInput).text == "a draft", "a retry leaves the draft"
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        assert [r.text for r in replies(app)] == ["first answer", "new answer"]
        assert _prompts_shown(app) == ["one", "two"], "the prompt stays, once"
        assert _sent_contents(fake_server) == ["one", "first answer", "two"]
        assert [m.content for m in app.chat.conversation.messages] == [
            "one",
            "first answer",
            "two",
            "new answer",
        ]
    conversation_id = store.latest_id()
    assert conversation_id is not None
    current = store.get_conversation(conversation_id)
    assert current is not None
    assert [m.content for m in current.messages] == ["one", "first answer", "two", "new answer"]
    assert [m.content for m in current.chat_messages()] == [
        "one",
        "first answer",
        "two",
        "new answer",
    ], "resuming sends the new version"
    earlier = store.replaced_messages(conversation_id)
    assert [(m.role, m.content, m.status) for m in earlier] == [
        ("user", "two", "complete"),
        ("assistant", "old answer", "complete"),
    ]
    everything = store.get_conversation(conversation_id, replaced=True)
    assert everything is not None and len(everything.messages) == 6
    [listed] = store.list_conversations()
    assert listed.message_count == 4, "the chat list counts the current version"


async def test_edit_puts_the_last_prompt_in_the_box_and_resends_it_in_place(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    fake_server.enqueue(Script(chunks=["first answer"]))
    fake_server.enqueue(Script(chunks=["answer to a typo"]))
    fake_server.enqueue(Script(chunks=["answer to the fix"]))
    app = make_app(fake_server, store=store)
    async with app.run_test() as pilot:
        await send(pilot, "one")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await send(pilot, "tow")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await pilot.press("f8")
        prompt = app.query_one(PromptInput)
        await wait_for(pilot, lambda: prompt.text == "tow")
        assert prompt.has_focus
        prompt.load_text("two")
        await pilot.press("enter")
        await wait_for(pilot, lambda: replies(app)[-1].text == "answer to the fix")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        assert _prompts_shown(app) == ["one", "two"]
        assert [r.text for r in replies(app)] == ["first answer", "answer to the fix"]
        assert _sent_contents(fake_server) == ["one", "first answer", "two"]
    conversation_id = store.latest_id()
    assert conversation_id is not None
    earlier = store.replaced_messages(conversation_id)
    assert [m.content for m in earlier] == ["tow", "answer to a typo"]


async def test_an_edit_that_is_not_sent_replaces_nothing_and_a_later_prompt_is_new(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["first answer"]))
    fake_server.enqueue(Script(chunks=["second answer"]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "one")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await pilot.press("f8")
        assert app.query_one(PromptInput).text == "one"
        await app.chat.action_new_chat()  # the edit is abandoned with its chat
        await send(pilot, "fresh")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        assert _sent_contents(fake_server) == ["fresh"]


async def test_retry_and_edit_wait_while_a_reply_streams(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["done"]))
    fake_server.enqueue(Script(chunks=["still ", "coming"], hold_after=1))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "one")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await send(pilot, "two")
        await wait_for(pilot, lambda: replies(app)[-1].text == "still ")
        assert app.chat.check_action("retry", ()) is None
        assert app.chat.check_action("edit_last", ()) is None
        await pilot.press("f5", "f8")
        assert len(replies(app)) == 2 and len(fake_server.requests) == 2
        assert app.query_one(PromptInput).text == ""
        fake_server.release()
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        assert app.chat.check_action("retry", ()) is True


async def test_a_failed_reply_is_not_retried_in_place_of_the_turn_before_it(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["kept answer"]))
    fake_server.enqueue(Script(status=500, error_message="upstream exploded"))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "one")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await send(pilot, "two")
        await wait_for(pilot, lambda: replies(app)[-1].status == "error")
        await pilot.press("f5")
        await pilot.pause(0.1)
        assert len(fake_server.requests) == 2, "the failed prompt is in the box to resend"
        assert [r.text for r in replies(app)][0] == "kept answer"
        assert [m.content for m in app.chat.conversation.messages] == ["one", "kept answer"]


def test_an_older_history_gains_the_replaced_marker_and_keeps_its_turns(tmp_path: Path) -> None:
    import sqlite3

    from tui_chat.history.schema import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, migrations=MIGRATIONS[:2])  # as tui-chat made it before
    conn.execute(
        "INSERT INTO conversations (created_at, updated_at, api, model)"
        " VALUES ('2026-01-01T00:00:00', '2026-01-01T00:00:00', 'chat', 'm')"
    )
    conn.execute(
        "INSERT INTO messages (conversation_id, seq, role, content, status, created_at)"
        " VALUES (1, 1, 'user', 'hello', 'complete', '2026-01-01T00:00:00')"
    )
    conn.close()
    with HistoryStore.open(path) as store:
        conversation = store.get_conversation(1)
        assert conversation is not None and [m.content for m in conversation.messages] == ["hello"]
        assert store.replaced_messages(1) == []
    conn = sqlite3.connect(path, isolation_level=None)
    assert user_version(conn) == SCHEMA_VERSION
    conn.close()
